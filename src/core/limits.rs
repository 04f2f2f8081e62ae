//! Explicit limits on what a report may contain. Every limit is checked at the boundary
//! (see `crate::wire::validate`) and each violation names the field and the limit.

/// Largest encoded report accepted, in bytes (JSON line or protobuf message).
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// Most claims one report may carry.
pub const MAX_CLAIMS_PER_REPORT: usize = 64;
/// Longest identifier (report, incident, source, actor), in bytes.
pub const MAX_ID_BYTES: usize = 128;
/// Longest free-text name (source name, place, admin area), in bytes.
pub const MAX_NAME_BYTES: usize = 256;
/// Longest URL, in bytes.
pub const MAX_URL_BYTES: usize = 2048;
/// Largest casualty count accepted in a claim. Larger figures are errors, not clamps.
pub const MAX_COUNT: u32 = 1_000_000;
/// Earliest timestamp accepted: 1900-01-01T00:00:00Z, in Unix milliseconds.
pub const MIN_TIMESTAMP_MS: i64 = -2_208_988_800_000;
/// Latest timestamp accepted: 2100-01-01T00:00:00Z, in Unix milliseconds.
pub const MAX_TIMESTAMP_MS: i64 = 4_102_444_800_000;
/// How long after its report's `published_at` a claim's `stated_at`, and the incident's
/// `occurred_at`, may be. A report cannot quote a statement made, or tell of an incident that
/// happened, after it was published, but their clocks and time zones are not the report's: a day
/// of slack absorbs such slips. A later time is a data error (a mistyped year): a `stated_at`
/// would otherwise outrank every later correction by the same claimant for good, an
/// `occurred_at` would open an incident in the future.
pub const MAX_STATED_AFTER_PUBLISHED_MS: i64 = 24 * 60 * 60 * 1000;
/// Most reports one incident may hold. An update carries the whole view and the changelog the
/// whole state, both growing with every report: at this bound, with a different claimant
/// behind every report, the JSON update is about 330 KB and the state about 470 KB, under the
/// 1,000,000-byte message limit Kafka clients and brokers default to; and applying a report
/// costs time in proportion to the incident's size. Further reports of a full incident are
/// refused (dead-lettered by the processor), never dropped silently.
pub const MAX_REPORTS_PER_INCIDENT: usize = 500;
/// Largest encoded update a subscriber decodes, in bytes. Updates are bounded by the incident
/// bound above (about 330 KB at most in JSON), but the producer's `message.max.bytes` may be
/// raised; this only keeps a corrupt or hostile record from being decoded at any size.
pub const MAX_UPDATE_BYTES: usize = 16 * 1024 * 1024;
/// The schema version this build reads and writes.
pub const SCHEMA_VERSION: u32 = 1;
