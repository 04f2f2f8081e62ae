//! The unvalidated form of a report, exactly as its JSON reads. Identifiers, names and times are
//! plain strings here; [`crate::wire::validate`] turns a [`RawReport`] into a
//! [`crate::core::model::Report`] or a typed error naming the field. The protobuf form is mapped
//! onto this same struct, so both forms pass through one validator.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};

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

/// The claim kinds, as the `kind` field names them.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum ClaimKind {
    Casualties,
    Responsibility,
    Cause,
    Outcome,
    Retraction,
}

/// Every field any claim kind has, side by side. A plain struct (not a flattened tagged enum,
/// which buffers the claim and loses the path of an error) so that a malformed field is named
/// (`claims[0].count`) and decoding allocates nothing it does not keep.
#[derive(Deserialize)]
struct FlatClaim {
    claimant: RawSource,
    #[serde(default)]
    stated_at: Option<String>,
    kind: ClaimKind,
    #[serde(default)]
    party: Option<Party>,
    // Casualties use harm words here, outcome claims attack outcomes: read as text, then
    // parsed by kind.
    #[serde(default)]
    outcome: Option<String>,
    #[serde(default)]
    count: Option<Quantity>,
    #[serde(default)]
    actor: Option<String>,
    #[serde(default)]
    stance: Option<Stance>,
    #[serde(default)]
    cause: Option<Cause>,
    #[serde(default)]
    retracts: Option<RawFieldKey>,
}

fn required<T, E: serde::de::Error>(v: Option<T>, field: &'static str, kind: &str) -> Result<T, E> {
    v.ok_or_else(|| E::custom(format!("{field}: missing, required by a {kind} claim")))
}

fn parse_word<T: DeserializeOwned, E: serde::de::Error>(word: String, field: &str) -> Result<T, E> {
    T::deserialize(serde::de::value::StringDeserializer::<
        serde::de::value::Error,
    >::new(word))
    .map_err(|e| E::custom(format!("{field}: {e}")))
}

impl<'de> Deserialize<'de> for RawClaim {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let f = FlatClaim::deserialize(d)?;
        let assertion = match f.kind {
            ClaimKind::Casualties => RawAssertion::Casualties {
                party: required(f.party, "party", "casualties")?,
                outcome: parse_word(required(f.outcome, "outcome", "casualties")?, "outcome")?,
                count: required(f.count, "count", "casualties")?,
            },
            ClaimKind::Responsibility => RawAssertion::Responsibility {
                actor: required(f.actor, "actor", "responsibility")?,
                stance: required(f.stance, "stance", "responsibility")?,
            },
            ClaimKind::Cause => RawAssertion::Cause {
                cause: required(f.cause, "cause", "cause")?,
            },
            ClaimKind::Outcome => RawAssertion::Outcome {
                outcome: parse_word(required(f.outcome, "outcome", "outcome")?, "outcome")?,
            },
            ClaimKind::Retraction => RawAssertion::Retraction {
                retracts: required(f.retracts, "retracts", "retraction")?,
            },
        };
        Ok(RawClaim {
            claimant: f.claimant,
            stated_at: f.stated_at,
            assertion,
        })
    }
}
