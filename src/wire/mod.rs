//! Wire formats: the JSON and protobuf forms of reports and updates, chosen per message by a
//! content type. Both forms carry a schema version and decode to the same model; both pass
//! through one validator.

pub mod error;
pub mod framing;
pub mod json;
pub mod proto;
pub mod raw;
pub mod validate;

pub use error::DecodeError;

use crate::core::model::Report;
use crate::core::update::Update;

/// The message header naming the content type.
pub const CONTENT_TYPE_HEADER: &str = "content-type";

/// A wire format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ContentType {
    /// `application/json`.
    #[default]
    Json,
    /// `application/x-protobuf`.
    Protobuf,
}

impl ContentType {
    /// The MIME type written in the header.
    pub fn mime(self) -> &'static str {
        match self {
            Self::Json => "application/json",
            Self::Protobuf => "application/x-protobuf",
        }
    }

    /// Parses a header value; parameters such as `; charset=utf-8` are ignored.
    pub fn parse(value: &str) -> Result<Self, DecodeError> {
        let base = value
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match base.as_str() {
            "application/json" | "json" => Ok(Self::Json),
            "application/x-protobuf" | "application/protobuf" | "protobuf" => Ok(Self::Protobuf),
            _ => Err(DecodeError::ContentType(value.to_string())),
        }
    }
}

/// Decodes a report in the given form.
pub fn decode_report(bytes: &[u8], ct: ContentType) -> Result<Report, DecodeError> {
    match ct {
        ContentType::Json => json::decode_report(bytes),
        ContentType::Protobuf => proto::decode_report(bytes),
    }
}

/// Encodes a report in the given form.
pub fn encode_report(report: &Report, ct: ContentType) -> Vec<u8> {
    match ct {
        ContentType::Json => json::encode_report(report),
        ContentType::Protobuf => proto::encode_report(report),
    }
}

/// Decodes an update in the given form.
pub fn decode_update(bytes: &[u8], ct: ContentType) -> Result<Update, DecodeError> {
    match ct {
        ContentType::Json => json::decode_update(bytes),
        ContentType::Protobuf => proto::decode_update(bytes),
    }
}

/// Encodes an update in the given form.
pub fn encode_update(update: &Update, ct: ContentType) -> Vec<u8> {
    match ct {
        ContentType::Json => json::encode_update(update),
        ContentType::Protobuf => proto::encode_update(update),
    }
}
