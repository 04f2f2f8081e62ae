//! Typed validation errors: each names the field it concerns and, where one applies, the limit.

use thiserror::Error;

/// Why a report (or one of its fields) was refused at the boundary.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ValidationError {
    /// A required field was absent or empty.
    #[error("{field}: required")]
    Missing {
        /// Dotted path of the field.
        field: String,
    },
    /// A string exceeded its length limit.
    #[error("{field}: {len} bytes exceeds the limit of {limit}")]
    TooLong {
        /// Dotted path of the field.
        field: String,
        /// Length seen.
        len: usize,
        /// Limit in bytes.
        limit: usize,
    },
    /// A list held more items than allowed.
    #[error("{field}: {count} items exceeds the limit of {limit}")]
    TooMany {
        /// Dotted path of the field.
        field: String,
        /// Items seen.
        count: usize,
        /// Limit.
        limit: usize,
    },
    /// A number outside its allowed range.
    #[error("{field}: {value} is outside {min}..={max}")]
    OutOfRange {
        /// Dotted path of the field.
        field: String,
        /// Value seen, as text (it may be an integer or a float).
        value: String,
        /// Lowest allowed value, as text.
        min: String,
        /// Highest allowed value, as text.
        max: String,
    },
    /// A string that does not have the required form.
    #[error("{field}: {reason}")]
    Malformed {
        /// Dotted path of the field.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The report was written for a schema version this build does not read.
    #[error("schema_version: {found} is not supported (this build reads {supported})")]
    UnsupportedSchema {
        /// Version in the message, as text: any whole number a report may carry.
        found: String,
        /// Version this build reads.
        supported: u32,
    },
}

impl ValidationError {
    /// The dotted path of the field the error concerns.
    pub fn field(&self) -> &str {
        match self {
            Self::Missing { field }
            | Self::TooLong { field, .. }
            | Self::TooMany { field, .. }
            | Self::OutOfRange { field, .. }
            | Self::Malformed { field, .. } => field,
            Self::UnsupportedSchema { .. } => "schema_version",
        }
    }

    /// The same error about another field: id and name parsers label errors by kind (`source.id`),
    /// and the caller knows which field it was.
    pub fn renamed(mut self, name: &str) -> Self {
        match &mut self {
            Self::Missing { field }
            | Self::TooLong { field, .. }
            | Self::TooMany { field, .. }
            | Self::OutOfRange { field, .. }
            | Self::Malformed { field, .. } => *field = name.to_string(),
            Self::UnsupportedSchema { .. } => {}
        }
        self
    }

    /// Prefixes the field path, so nested validators can report full paths.
    pub fn within(mut self, prefix: &str) -> Self {
        match &mut self {
            Self::Missing { field }
            | Self::TooLong { field, .. }
            | Self::TooMany { field, .. }
            | Self::OutOfRange { field, .. }
            | Self::Malformed { field, .. } => {
                *field = if field.is_empty() {
                    prefix.to_string()
                } else {
                    format!("{prefix}.{field}")
                };
            }
            Self::UnsupportedSchema { .. } => {}
        }
        self
    }
}

/// Why the fold refused a well-formed report. The state is unchanged; the processor sends the
/// report to the dead-letter topic.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Rejected {
    /// The incident the report belongs to holds the most reports an incident may hold.
    #[error(
        "incident {incident_id} already holds {limit} reports, the most one incident may hold"
    )]
    IncidentFull {
        /// The incident.
        incident_id: crate::core::model::IncidentId,
        /// [`crate::core::limits::MAX_REPORTS_PER_INCIDENT`].
        limit: usize,
    },
    /// The report names an incident of another region. An incident's reports meet in the
    /// partition of its region, so one id shared across regions would be two incidents, one
    /// per partition.
    #[error(
        "incident {incident_id} is in region {}, this report in {}: reports naming one \
         incident id must share a region (country and first-level area)",
        shown_region(region),
        shown_region(report_region)
    )]
    OtherRegion {
        /// The incident named.
        incident_id: crate::core::model::IncidentId,
        /// Its region key.
        region: String,
        /// The report's region key.
        report_region: String,
    },
}

/// A region key as a message shows it: a key that is a country alone (`iq`) says that no
/// first-level area was given, which the bare code leaves the reader to guess.
fn shown_region(key: &str) -> String {
    if key.contains('/') {
        key.to_string()
    } else {
        format!("{key} (no first-level area given)")
    }
}

impl Rejected {
    /// A short, stable label for metrics and dead-letter headers.
    pub fn reason_code(&self) -> &'static str {
        match self {
            Self::IncidentFull { .. } => "incident_full",
            Self::OtherRegion { .. } => "other_region",
        }
    }
}
