//! The pure parts of feeding reports from a file: the dead-letter headers of a rejected input.
//! Splitting the file into messages is [`crate::wire::framing`]'s.

/// Header: why a message was dead-lettered (human-readable).
pub const DLQ_REASON_HEADER: &str = "reckon-dlq-reason";
/// Header: why a message was dead-lettered (a stable code, see
/// [`crate::wire::DecodeError::reason_code`]).
pub const DLQ_REASON_CODE_HEADER: &str = "reckon-dlq-reason-code";
/// Header: where the message came from (a topic, or `file:<path>` / `stdin` for a feed).
pub const DLQ_SOURCE_TOPIC_HEADER: &str = "reckon-source-topic";
/// Header: the source partition (`-1` for a file).
pub const DLQ_SOURCE_PARTITION_HEADER: &str = "reckon-source-partition";
/// Header: the source offset (for a file, the 1-based line number or message index).
pub const DLQ_SOURCE_OFFSET_HEADER: &str = "reckon-source-offset";

/// The dead-letter headers for an input rejected for `reason` (`reason_code`: a stable label
/// such as [`crate::wire::DecodeError::reason_code`] gives). The content-type header of the original is
/// carried separately.
pub fn dead_letter_headers(
    reason_code: &str,
    reason: &str,
    source: &str,
    partition: i32,
    offset: i64,
) -> Vec<(&'static str, String)> {
    vec![
        (DLQ_REASON_HEADER, reason.to_string()),
        (DLQ_REASON_CODE_HEADER, reason_code.to_string()),
        (DLQ_SOURCE_TOPIC_HEADER, source.to_string()),
        (DLQ_SOURCE_PARTITION_HEADER, partition.to_string()),
        (DLQ_SOURCE_OFFSET_HEADER, offset.to_string()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::DecodeError;

    #[test]
    fn dead_letter_headers_name_reason_and_source() {
        let e = DecodeError::ContentType("text/plain".into());
        let h = dead_letter_headers(e.reason_code(), &e.to_string(), "file:in.jsonl", -1, 7);
        let get = |k: &str| h.iter().find(|(n, _)| *n == k).map(|(_, v)| v.as_str());
        assert_eq!(get(DLQ_REASON_CODE_HEADER), Some("content_type"));
        assert_eq!(get(DLQ_SOURCE_TOPIC_HEADER), Some("file:in.jsonl"));
        assert_eq!(get(DLQ_SOURCE_PARTITION_HEADER), Some("-1"));
        assert_eq!(get(DLQ_SOURCE_OFFSET_HEADER), Some("7"));
        assert!(get(DLQ_REASON_HEADER).unwrap().contains("text/plain"));
    }
}
