//! Why a message could not be decoded: the reason that goes with it to the dead-letter topic.

use thiserror::Error;

use crate::core::error::ValidationError;

/// A decoding failure.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    /// The message exceeds the size limit.
    #[error("message of {size} bytes exceeds the limit of {limit}")]
    TooLarge {
        /// Bytes received.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// Not JSON, or JSON of the wrong shape.
    #[error("malformed JSON at {path}: {message}")]
    Json {
        /// Where in the document (`claims[0].count.value`, or `.` for the whole).
        path: String,
        /// What the parser said.
        message: String,
    },
    /// Not a protobuf message of the expected type.
    #[error("malformed protobuf: {0}")]
    Protobuf(String),
    /// Well-formed but invalid.
    #[error("invalid report: {0}")]
    Invalid(#[from] ValidationError),
    /// A content type this build does not read.
    #[error("unsupported content type {0:?}")]
    ContentType(String),
}

impl DecodeError {
    /// A short, stable label for metrics and dead-letter headers.
    pub fn reason_code(&self) -> &'static str {
        match self {
            Self::TooLarge { .. } => "too_large",
            Self::Json { .. } => "malformed_json",
            Self::Protobuf(_) => "malformed_protobuf",
            Self::Invalid(_) => "invalid",
            Self::ContentType(_) => "content_type",
        }
    }
}
