//! The JSON form: one report or update per message (or per line in a file).

use serde::de::DeserializeOwned;

use super::error::{check_size, DecodeError};
use super::raw::RawReport;
use super::validate::validate;
use crate::core::limits::{MAX_MESSAGE_BYTES, MAX_UPDATE_BYTES};
use crate::core::model::Report;
use crate::core::update::Update;

/// The UTF-8 byte order mark, ignored before a report.
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Parses JSON, reporting the path of the first error. Tracking the path nearly doubled the
/// time of decoding a report (172k against 319k reports/s on the benchmark's synthetic mix), so
/// it is only done again for input that failed.
fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, DecodeError> {
    let error = match serde_json::from_slice(bytes) {
        Ok(value) => return Ok(value),
        Err(e) => e,
    };
    // A cut-off document has no path to name (the path tracker says `?`).
    if error.is_eof() {
        return Err(DecodeError::Json {
            path: ".".into(),
            message: format!("the document ends before it is complete (cut off?): {error}"),
        });
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(de) {
        Err(e) => Err(DecodeError::Json {
            path: e.path().to_string(),
            message: e.into_inner().to_string(),
        }),
        // What follows a complete document (trailing characters) has no path.
        Ok(_) => Err(DecodeError::Json {
            path: ".".into(),
            message: error.to_string(),
        }),
    }
}

/// Refuses a document that is not a JSON object before it is parsed as one: the parser would
/// name the internal type it expected, or read an array as the object's fields in order.
fn expect_object(bytes: &[u8], what: &str) -> Result<(), DecodeError> {
    let found = match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => return Ok(()),
        None => "nothing",
        Some(b'[') => "an array",
        Some(b'"') => "a string",
        Some(b'n') => "null",
        Some(b't' | b'f') => "a boolean",
        Some(b'-' | b'0'..=b'9') => "a number",
        Some(_) => "something that is not JSON",
    };
    Err(DecodeError::Json {
        path: ".".into(),
        message: format!("{what} must be a JSON object ({{...}}), found {found}"),
    })
}

/// Decodes and validates a JSON report. A leading UTF-8 byte order mark is ignored.
pub fn decode_report(bytes: &[u8]) -> Result<Report, DecodeError> {
    check_size(bytes, MAX_MESSAGE_BYTES)?;
    // Editors and spreadsheet exports often start a UTF-8 file with a byte order mark, which
    // then opens its first report; RFC 8259 lets a parser ignore it.
    let bytes = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    expect_object(bytes, "a report")?;
    let raw: RawReport = parse(bytes)?;
    Ok(validate(&raw)?)
}

/// Encodes a report as compact JSON.
pub fn encode_report(report: &Report) -> Vec<u8> {
    // Serialising plain structs of strings and numbers into memory cannot fail.
    serde_json::to_vec(&RawReport::from(report)).unwrap_or_default()
}

/// Decodes a JSON update.
pub fn decode_update(bytes: &[u8]) -> Result<Update, DecodeError> {
    check_size(bytes, MAX_UPDATE_BYTES)?;
    expect_object(bytes, "an update")?;
    parse(bytes)
}

/// Encodes an update as compact JSON. Field order is declaration order and every list in the
/// view is sorted, so equal updates give equal bytes.
pub fn encode_update(update: &Update) -> Vec<u8> {
    serde_json::to_vec(update).unwrap_or_default()
}
