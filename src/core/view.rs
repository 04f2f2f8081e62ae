//! The reconciled view of an incident: what subscribers read. Every list here is sorted, so the
//! view (and its encoding) depends only on the incident's state, never on arrival order.

use serde::{Deserialize, Serialize};

use crate::core::model::{
    ActorId, AttackOutcome, Cause, Coordinates, CountryCode, EventType, Harm, IncidentId, Name,
    Party, Quantity, ReportId, SourceId, SourceKind, Target, TimePrecision, Timestamp,
};

/// The reconciled view of one incident.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct IncidentView {
    /// The incident.
    pub incident_id: IncidentId,
    /// The region key (`iq/karbala`): the partition key of its reports.
    pub region: String,
    /// Where, as the evidence names it.
    pub location: LocationView,
    /// When, as the evidence places it.
    pub time: TimeView,
    /// Event types named by the evidence, sorted.
    pub event_types: Vec<EventType>,
    /// Targets named by the evidence, sorted.
    pub targets: Vec<Target>,
    /// One estimate per (party, harm) anyone gave a figure for, sorted by party then harm.
    pub casualties: Vec<CasualtyEstimate>,
    /// Who claimed, was attributed or denied responsibility.
    pub responsibility: ResponsibilityView,
    /// The cause.
    pub cause: CategoricalView<Cause>,
    /// How the attack ended.
    pub outcome: CategoricalView<AttackOutcome>,
    /// The overall grade.
    pub grade: Grade,
    /// Independent claimants (affiliated sources count once) behind any current claim.
    pub independent_claimants: u32,
    /// The linked reports, sorted by `published_at` then `report_id`.
    pub evidence: Vec<Evidence>,
}

/// Where an incident happened, as the union of what its reports say.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LocationView {
    /// The country.
    pub country: CountryCode,
    /// First-level areas named, sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub admin1: Vec<Name>,
    /// Second-level areas named, sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub admin2: Vec<Name>,
    /// Places named, sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub places: Vec<Name>,
    /// Coordinates given, sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub coordinates: Vec<Coordinates>,
}

/// When an incident happened.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TimeView {
    /// The earliest event time given.
    pub earliest: Timestamp,
    /// The latest event time given.
    pub latest: Timestamp,
    /// The finest precision any report gives.
    pub precision: TimePrecision,
}

/// One linked report: the provenance of the incident.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Evidence {
    /// When it was published.
    pub published_at: Timestamp,
    /// The report.
    pub report_id: ReportId,
    /// Who published it.
    pub publisher: SourceId,
    /// The publisher's kind.
    pub publisher_kind: SourceKind,
}

/// One figure of an estimate and the claimants behind it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Figure {
    /// The number.
    pub value: u32,
    /// The claimants whose claims give this figure, sorted.
    pub sources: Vec<SourceId>,
    /// Whether every one of those claimants is a party (the figure rests on party claims).
    pub party_claims_only: bool,
}

/// A claim as it stands in an estimate.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ClaimEntry {
    /// Who claims it.
    pub claimant: SourceId,
    /// The claimant's kind (after the source registry).
    pub claimant_kind: SourceKind,
    /// The independence group the claimant counts in, when it is another source's (Amaq in
    /// the Islamic State's): by the source registry, else by an affiliation a report gave.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<SourceId>,
    /// Whether it is a party claim.
    pub party_claim: bool,
    /// The count as stated.
    pub count: Quantity,
    /// When the claimant stated it.
    pub stated_at: Timestamp,
    /// The report it came from.
    pub report_id: ReportId,
}

/// The low / best / high estimate for one (party, harm).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CasualtyEstimate {
    /// Who suffered.
    pub party: Party,
    /// What happened to them.
    pub outcome: Harm,
    /// The lowest credible figure. Absent when every claim is too vague to code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub low: Option<Figure>,
    /// The best estimate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub best: Option<Figure>,
    /// The highest figure anyone claims.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub high: Option<Figure>,
    /// Independent claimants behind the estimate.
    pub claimants: u32,
    /// Whether a non-party source other than a relay gives a figure.
    pub confirmed: bool,
    /// Whether every claim is a party claim.
    pub party_claims_only: bool,
    /// Whether the claims cannot all be true at once.
    pub disputed: bool,
    /// The current claims, sorted by claimant.
    pub claims: Vec<ClaimEntry>,
}

/// One value of a categorical field and who backs it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Alternative<T> {
    /// The value.
    pub value: T,
    /// The claimants asserting it, sorted.
    pub backers: Vec<SourceId>,
    /// Whether every backer is a party.
    pub party_claims_only: bool,
    /// Sum of credibility over the backers' independence groups.
    pub weight: u32,
}

/// A categorical field (cause, outcome) reconciled.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
pub struct CategoricalView<T> {
    /// The value with the most credible backing, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leading: Option<T>,
    /// Every value asserted, by weight (heaviest first), then by value.
    pub alternatives: Vec<Alternative<T>>,
    /// Whether two independence groups assert competing values.
    pub contested: bool,
}

impl<T> Default for CategoricalView<T> {
    fn default() -> Self {
        Self {
            leading: None,
            alternatives: Vec::new(),
            contested: false,
        }
    }
}

/// Responsibility for one actor.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ActorResponsibility {
    /// The actor.
    pub actor: ActorId,
    /// Claimants saying the actor claimed it, sorted.
    pub claimed_by: Vec<SourceId>,
    /// Claimants attributing it to the actor, sorted.
    pub attributed_by: Vec<SourceId>,
    /// Claimants denying the actor's responsibility, sorted.
    pub denied_by: Vec<SourceId>,
    /// Sum of credibility over the independence groups that claim or attribute it.
    pub weight: u32,
}

/// Responsibility reconciled.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ResponsibilityView {
    /// The actor with the most credible backing, if any claims or attributions exist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leading: Option<ActorId>,
    /// Every actor named, by weight (heaviest first), then by id.
    pub actors: Vec<ActorResponsibility>,
    /// Whether two independence groups claim or attribute it to different actors.
    pub contested: bool,
    /// Whether the leading actor's responsibility is denied, or a non-party source says the
    /// cause was not hostile.
    pub disputed: bool,
}

/// The overall grade, in the spirit of Airwars.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Grade {
    /// Two or more independent non-party claimants (relays not counted), one of them an authority,
    /// nothing contested.
    Confirmed,
    /// Two or more independent non-party claimants, nothing contested.
    Fair,
    /// One independent non-party claimant at most: a single-source or party-only claim.
    Weak,
    /// Competing claims on responsibility, cause or outcome.
    Contested,
}

impl Grade {
    /// The snake_case name used on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Confirmed => "confirmed",
            Self::Fair => "fair",
            Self::Weak => "weak",
            Self::Contested => "contested",
        }
    }

    /// Parses the wire name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "confirmed" => Some(Self::Confirmed),
            "fair" => Some(Self::Fair),
            "weak" => Some(Self::Weak),
            "contested" => Some(Self::Contested),
            _ => None,
        }
    }
}
