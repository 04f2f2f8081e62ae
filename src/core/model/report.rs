//! The report: one published item, what incident it speaks about, and its claims.

use serde::{Deserialize, Serialize};

use super::claim::Claim;
use super::ids::{IncidentId, ReportId};
use super::place::Location;
use super::source::Source;
use super::text::Url;
use super::time::{TimePrecision, Timestamp};

/// What kind of violence the report describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventType {
    /// Vehicle-borne improvised explosive device (car or truck bomb).
    Vbied,
    /// Improvised explosive device.
    Ied,
    /// Suicide bombing on foot.
    SuicideBombing,
    /// Artillery, mortar or rocket fire.
    Shelling,
    /// Air or drone strike.
    Airstrike,
    /// Armed clash between forces.
    ArmedClash,
    /// Shooting or small-arms attack.
    Shooting,
    /// Abduction or kidnapping.
    Abduction,
    /// Some other kind.
    Other,
    /// Not stated.
    Unknown,
}

/// Families of event types that reports of one incident may name differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventFamily {
    /// Bombs of any kind.
    Explosive,
    /// Fire from a distance.
    Indirect,
    /// Direct fire.
    Direct,
    /// Abductions.
    Abduction,
    /// Other or unknown: compatible with anything.
    Open,
}

impl EventType {
    /// Every type, in declaration (and sort) order.
    pub const ALL: [EventType; 10] = [
        Self::Vbied,
        Self::Ied,
        Self::SuicideBombing,
        Self::Shelling,
        Self::Airstrike,
        Self::ArmedClash,
        Self::Shooting,
        Self::Abduction,
        Self::Other,
        Self::Unknown,
    ];

    /// The family this type belongs to.
    pub fn family(self) -> EventFamily {
        match self {
            Self::Vbied | Self::Ied | Self::SuicideBombing => EventFamily::Explosive,
            Self::Shelling | Self::Airstrike => EventFamily::Indirect,
            Self::ArmedClash | Self::Shooting => EventFamily::Direct,
            Self::Abduction => EventFamily::Abduction,
            Self::Other | Self::Unknown => EventFamily::Open,
        }
    }
}

/// Who or what was attacked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// Armed forces, including foreign troops.
    Military,
    /// Police and security forces.
    SecurityForces,
    /// Civilians.
    Civilians,
    /// Government buildings or officials.
    Government,
    /// Infrastructure.
    Infrastructure,
    /// A non-state armed group.
    ArmedGroup,
    /// Not stated.
    Unknown,
}

impl Target {
    /// Every target, in declaration (and sort) order.
    pub const ALL: [Target; 7] = [
        Self::Military,
        Self::SecurityForces,
        Self::Civilians,
        Self::Government,
        Self::Infrastructure,
        Self::ArmedGroup,
        Self::Unknown,
    ];
}

/// What incident a report speaks about.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct IncidentRef {
    /// An explicit incident id: it wins over any matching.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident_id: Option<IncidentId>,
    /// When the incident happened.
    pub occurred_at: Timestamp,
    /// How precisely that is known.
    #[serde(default)]
    pub time_precision: TimePrecision,
    /// Where it happened.
    pub location: Location,
    /// What kind of violence.
    pub event_type: EventType,
    /// Who or what was attacked.
    pub target: Target,
}

/// One published item, validated.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Report {
    /// The idempotency key.
    pub report_id: ReportId,
    /// Who published it.
    pub publisher: Source,
    /// When it was published.
    pub published_at: Timestamp,
    /// Link to the item, if any.
    pub url: Option<Url>,
    /// The incident it speaks about.
    pub incident: IncidentRef,
    /// Its claims, at most [`crate::core::limits::MAX_CLAIMS_PER_REPORT`], at most one per
    /// claimant and field.
    pub claims: Vec<Claim>,
}

impl Report {
    /// The region key used as the Kafka message key of the raw topic.
    pub fn region_key(&self) -> String {
        self.incident.location.region_key()
    }
}
