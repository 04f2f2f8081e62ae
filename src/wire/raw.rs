//! The unvalidated form of a report, exactly as its JSON reads. Identifiers, names and times are
//! plain strings here; [`crate::wire::validate`] turns a [`RawReport`] into a
//! [`crate::core::model::Report`] or a typed error naming the field. The protobuf form is mapped
//! onto this same struct, so both forms pass through one validator.

use std::fmt;

use serde::de::{DeserializeOwned, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::core::limits::SCHEMA_VERSION;
use crate::core::model::{
    AttackOutcome, Cause, EventType, Harm, Party, PlacePrecision, Quantity, SourceKind, Stance,
    Target, TimePrecision, VagueWord,
};

fn schema_version() -> RawInt {
    RawInt::from(SCHEMA_VERSION)
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
    pub schema_version: RawInt,
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

/// A whole number as a report states it, before its range is checked. JSON does not bound its
/// numbers, so any whole number is read here and [`crate::wire::validate`] refuses one outside
/// its field's range, naming the field and the range: a narrower type would refuse it while
/// parsing, as malformed JSON, naming neither.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RawInt(Whole);

/// The value of a [`RawInt`].
#[derive(Debug, Clone, Copy, PartialEq)]
enum Whole {
    /// Exactly: every integer the JSON parser reads as one (64 bits), and whole floats within
    /// the range of `i128`.
    Int(i128),
    /// A whole number beyond the range of `i128`, which only a float holds (the JSON parser reads
    /// an integer beyond 64 bits as one): outside the range of every field, kept to be shown.
    Huge(f64),
}

impl RawInt {
    /// The number, or `None` when it lies beyond the range of `i128` (and so of every field).
    pub fn get(self) -> Option<i128> {
        match self.0 {
            Whole::Int(n) => Some(n),
            Whole::Huge(_) => None,
        }
    }

    /// A float with no fraction, as that number (`3.0` is 3); `None` for a fraction.
    fn from_whole_f64(v: f64) -> Option<Self> {
        if !v.is_finite() || v.fract() != 0.0 {
            return None;
        }
        // 2^127: every whole float below it in magnitude is exactly an i128.
        const LIMIT: f64 = i128::MAX as f64;
        Some(Self(if (-LIMIT..LIMIT).contains(&v) {
            Whole::Int(v as i128)
        } else {
            Whole::Huge(v)
        }))
    }
}

impl From<u32> for RawInt {
    fn from(n: u32) -> Self {
        Self(Whole::Int(i128::from(n)))
    }
}

impl fmt::Display for RawInt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Whole::Int(n) => write!(f, "{n}"),
            // Written out in digits, as an integer is.
            Whole::Huge(v) => write!(f, "{v}"),
        }
    }
}

impl Serialize for RawInt {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            // The narrowest form that holds it: a valid report's numbers are small.
            Whole::Int(n) => match (i64::try_from(n), u64::try_from(n)) {
                (Ok(n), _) => s.serialize_i64(n),
                (_, Ok(n)) => s.serialize_u64(n),
                _ => s.serialize_i128(n),
            },
            Whole::Huge(v) => s.serialize_f64(v),
        }
    }
}

/// Reads any JSON number with no fraction.
struct WholeVisitor;

impl Visitor<'_> for WholeVisitor {
    type Value = RawInt;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a whole number")
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<RawInt, E> {
        Ok(RawInt(Whole::Int(i128::from(v))))
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<RawInt, E> {
        Ok(RawInt(Whole::Int(i128::from(v))))
    }

    fn visit_i128<E: serde::de::Error>(self, v: i128) -> Result<RawInt, E> {
        Ok(RawInt(Whole::Int(v)))
    }

    fn visit_u128<E: serde::de::Error>(self, v: u128) -> Result<RawInt, E> {
        Ok(RawInt(match i128::try_from(v) {
            Ok(n) => Whole::Int(n),
            Err(_) => Whole::Huge(v as f64),
        }))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<RawInt, E> {
        RawInt::from_whole_f64(v)
            .ok_or_else(|| E::custom(format_args!("must be a whole number, not {v}")))
    }
}

impl<'de> Deserialize<'de> for RawInt {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Any number, not an integer type: the JSON parser reads an integer beyond 64 bits as a
        // float, and it must still reach the validator's range check.
        d.deserialize_any(WholeVisitor)
    }
}

/// A count as received: a [`Quantity`] whose numbers are [`RawInt`]s, which the validator
/// checks against [`crate::core::limits::MAX_COUNT`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "qualifier", rename_all = "snake_case")]
pub enum RawQuantity {
    /// "two soldiers".
    Exact {
        /// The count.
        value: RawInt,
    },
    /// "at least 27".
    AtLeast {
        /// The lower bound.
        value: RawInt,
    },
    /// "up to 50".
    AtMost {
        /// The upper bound.
        value: RawInt,
    },
    /// "about 30".
    Approximately {
        /// The approximate count.
        value: RawInt,
    },
    /// "between 5 and 7".
    Range {
        /// Lower end.
        min: RawInt,
        /// Upper end.
        max: RawInt,
    },
    /// "dozens".
    Vague {
        /// The word.
        word: VagueWord,
    },
}

impl From<Quantity> for RawQuantity {
    fn from(q: Quantity) -> Self {
        match q {
            Quantity::Exact { value } => Self::Exact {
                value: value.into(),
            },
            Quantity::AtLeast { value } => Self::AtLeast {
                value: value.into(),
            },
            Quantity::AtMost { value } => Self::AtMost {
                value: value.into(),
            },
            Quantity::Approximately { value } => Self::Approximately {
                value: value.into(),
            },
            Quantity::Range { min, max } => Self::Range {
                min: min.into(),
                max: max.into(),
            },
            Quantity::Vague { word } => Self::Vague { word },
        }
    }
}

/// The qualifiers, as the `qualifier` field names them.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Qualifier {
    Exact,
    AtLeast,
    AtMost,
    Approximately,
    Range,
    Vague,
}

/// Every field any qualifier has, side by side: read as a plain struct, like [`FlatClaim`], so
/// that an error names the field (`claims[0].count.max`, where a tagged enum, which buffers the
/// count, names only `claims[0].count`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FlatQuantity {
    qualifier: Qualifier,
    #[serde(default)]
    value: Option<RawInt>,
    #[serde(default)]
    min: Option<RawInt>,
    #[serde(default)]
    max: Option<RawInt>,
    #[serde(default)]
    word: Option<VagueWord>,
}

impl<'de> Deserialize<'de> for RawQuantity {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let f = FlatQuantity::deserialize(d)?;
        let expected: &'static [&'static str] = match f.qualifier {
            Qualifier::Range => &["min", "max"],
            Qualifier::Vague => &["word"],
            _ => &["value"],
        };
        // A count has its qualifier's fields and no other's: a stray one is a mistake (a range
        // meant, or a qualifier mistyped), not something to ignore.
        for (name, given) in [
            ("value", f.value.is_some()),
            ("min", f.min.is_some()),
            ("max", f.max.is_some()),
            ("word", f.word.is_some()),
        ] {
            if given && !expected.contains(&name) {
                return Err(D::Error::unknown_field(name, expected));
            }
        }
        let number =
            |v: Option<RawInt>, name: &'static str| v.ok_or_else(|| D::Error::missing_field(name));
        Ok(match f.qualifier {
            Qualifier::Exact => Self::Exact {
                value: number(f.value, "value")?,
            },
            Qualifier::AtLeast => Self::AtLeast {
                value: number(f.value, "value")?,
            },
            Qualifier::AtMost => Self::AtMost {
                value: number(f.value, "value")?,
            },
            Qualifier::Approximately => Self::Approximately {
                value: number(f.value, "value")?,
            },
            Qualifier::Range => Self::Range {
                min: number(f.min, "min")?,
                max: number(f.max, "max")?,
            },
            Qualifier::Vague => Self::Vague {
                word: f.word.ok_or_else(|| D::Error::missing_field("word"))?,
            },
        })
    }
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
        count: RawQuantity,
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
    count: Option<RawQuantity>,
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
