//! Why a message could not be processed (undecodable, invalid, or refused by the fold): the
//! reason that goes with it to the dead-letter topic.

use thiserror::Error;

use crate::core::error::{Rejected, ValidationError};

/// Why a record cannot be processed.
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
    /// Decoded and valid, but the fold refused it (an incident full).
    #[error("refused: {0}")]
    Rejected(#[from] Rejected),
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
            Self::Rejected(r) => r.reason_code(),
        }
    }
}

/// Refuses a message over `limit` bytes before any decoding is done.
pub(crate) fn check_size(bytes: &[u8], limit: usize) -> Result<(), DecodeError> {
    if bytes.len() > limit {
        return Err(DecodeError::TooLarge {
            size: bytes.len(),
            limit,
        });
    }
    Ok(())
}
