//! The unvalidated form of a report, exactly as its JSON reads. Identifiers, names and times are
//! plain strings here; [`crate::wire::validate`] turns a [`RawReport`] into a
//! [`crate::core::model::Report`] or a typed error naming the field. The protobuf form is mapped
//! onto this same struct, so both forms pass through one validator.

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::core::limits::SCHEMA_VERSION;
use crate::core::model::{
    AttackOutcome, Cause, EventType, Harm, Party, PlacePrecision, Quantity, SourceKind, Stance,
    Target, TimePrecision,
};

fn schema_version() -> u32 {
    SCHEMA_VERSION
}

fn unknown_kind() -> SourceKind {
    SourceKind::Unknown
}

fn unknown_event() -> EventType {
    EventType::Unknown
}

fn unknown_target() -> Target {
    Target::Unknown
}

/// A report as received.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RawReport {
    /// Schema version; 1 when absent.
    #[serde(default = "schema_version")]
    pub schema_version: u32,
    /// Unique id of the report.
    pub report_id: String,
    /// Who published it.
    pub publisher: RawSource,
    /// RFC 3339 publication time.
    pub published_at: String,
    /// Link to the item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The incident it speaks about.
    pub incident: RawIncident,
    /// Its claims.
    #[serde(default)]
    pub claims: Vec<RawClaim>,
}

/// A source as received.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RawSource {
    /// Stable id.
    pub id: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Kind; `unknown` when absent.
    #[serde(default = "unknown_kind")]
    pub kind: SourceKind,
    /// The source it speaks for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affiliated_with: Option<String>,
}

/// The incident a report speaks about, as received.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RawIncident {
    /// Explicit incident id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident_id: Option<String>,
    /// RFC 3339 event time.
    pub occurred_at: String,
    /// Its precision; `day` when absent.
    #[serde(default)]
    pub time_precision: TimePrecision,
    /// Where.
    pub location: RawLocation,
    /// Event type; `unknown` when absent.
    #[serde(default = "unknown_event")]
    pub event_type: EventType,
    /// Target; `unknown` when absent.
    #[serde(default = "unknown_target")]
    pub target: Target,
}

/// A location as received.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RawLocation {
    /// ISO 3166-1 alpha-2 code.
    pub country: String,
    /// First-level area.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin1: Option<String>,
    /// Second-level area.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin2: Option<String>,
    /// Named place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<String>,
    /// Coordinates in degrees.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coordinates: Option<RawCoordinates>,
    /// Precision; `place` when absent.
    #[serde(default)]
    pub precision: PlacePrecision,
}

/// Coordinates in degrees.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RawCoordinates {
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
}

/// A claim as received. Its JSON form is flat (`claimant`, `stated_at`, `kind` and the kind's
/// fields side by side); it is read field by field so that a malformed field is named in the
/// error (a derived flattened, tagged form would only name the claim).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RawClaim {
    /// Who makes it.
    pub claimant: RawSource,
    /// When the claimant made it; the report's `published_at` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stated_at: Option<String>,
    /// What it asserts.
    #[serde(flatten)]
    pub assertion: RawAssertion,
}

/// What a claim asserts, as received.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RawAssertion {
    /// A casualty count.
    Casualties {
        /// Who suffered.
        party: Party,
        /// What happened to them.
        outcome: Harm,
        /// How many.
        count: Quantity,
    },
    /// Responsibility.
    Responsibility {
        /// The actor.
        actor: String,
        /// The stance.
        stance: Stance,
    },
    /// Cause.
    Cause {
        /// The cause.
        cause: Cause,
    },
    /// Outcome.
    Outcome {
        /// The outcome.
        outcome: AttackOutcome,
    },
    /// Retraction of an earlier claim.
    Retraction {
        /// The field withdrawn.
        retracts: RawFieldKey,
    },
}

/// A field key as received.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "field", rename_all = "snake_case")]
pub enum RawFieldKey {
    /// A casualty count.
    Casualties {
        /// Who suffered.
        party: Party,
        /// What happened to them.
        outcome: Harm,
    },
    /// Responsibility of an actor.
    Responsibility {
        /// The actor.
        actor: String,
    },
    /// Cause.
    Cause,
    /// Outcome.
    Outcome,
}

/// Deserialises a JSON value, naming the path of the first error below `prefix`.
fn at_path<T: DeserializeOwned, E: serde::de::Error>(v: Value, prefix: &str) -> Result<T, E> {
    serde_path_to_error::deserialize(v).map_err(|e| {
        let inner = e.path().to_string();
        let path = match (prefix.is_empty(), inner.as_str()) {
            (true, p) => p.to_string(),
            (false, ".") => prefix.to_string(),
            (false, p) => format!("{prefix}.{p}"),
        };
        E::custom(format!("{path}: {}", e.into_inner()))
    })
}

#[derive(Deserialize)]
struct CasualtiesFields {
    party: Party,
    outcome: Harm,
    count: Quantity,
}

#[derive(Deserialize)]
struct ResponsibilityFields {
    actor: String,
    stance: Stance,
}

#[derive(Deserialize)]
struct CauseFields {
    cause: Cause,
}

#[derive(Deserialize)]
struct OutcomeFields {
    outcome: AttackOutcome,
}

#[derive(Deserialize)]
struct RetractionFields {
    retracts: RawFieldKey,
}

const KINDS: &[&str] = &[
    "casualties",
    "responsibility",
    "cause",
    "outcome",
    "retraction",
];

impl<'de> Deserialize<'de> for RawClaim {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut map = Map::<String, Value>::deserialize(d)?;
        let claimant = map
            .remove("claimant")
            .ok_or_else(|| D::Error::missing_field("claimant"))?;
        let claimant: RawSource = at_path(claimant, "claimant")?;
        let stated_at = match map.remove("stated_at") {
            None | Some(Value::Null) => None,
            Some(v) => Some(at_path(v, "stated_at")?),
        };
        let kind: String = match map.remove("kind") {
            Some(v) => at_path(v, "kind")?,
            None => return Err(D::Error::missing_field("kind")),
        };
        let rest = Value::Object(map);
        let assertion = match kind.as_str() {
            "casualties" => {
                let f: CasualtiesFields = at_path(rest, "")?;
                RawAssertion::Casualties {
                    party: f.party,
                    outcome: f.outcome,
                    count: f.count,
                }
            }
            "responsibility" => {
                let f: ResponsibilityFields = at_path(rest, "")?;
                RawAssertion::Responsibility {
                    actor: f.actor,
                    stance: f.stance,
                }
            }
            "cause" => {
                let f: CauseFields = at_path(rest, "")?;
                RawAssertion::Cause { cause: f.cause }
            }
            "outcome" => {
                let f: OutcomeFields = at_path(rest, "")?;
                RawAssertion::Outcome { outcome: f.outcome }
            }
            "retraction" => {
                let f: RetractionFields = at_path(rest, "")?;
                RawAssertion::Retraction {
                    retracts: f.retracts,
                }
            }
            other => return Err(D::Error::unknown_variant(other, KINDS)),
        };
        Ok(RawClaim {
            claimant,
            stated_at,
            assertion,
        })
    }
}
