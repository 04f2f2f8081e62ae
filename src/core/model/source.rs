//! Sources: who publishes a report and who makes a claim. A source's kind drives its default
//! credibility and whether its claims are party claims.

use serde::{Deserialize, Serialize};

use super::ids::SourceId;
use super::text::Name;

/// What kind of source this is. The kind sets the default credibility
/// ([`SourceKind::default_credibility`]) and whether the source is a party to the violence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// Independent news media with its own reporting.
    IndependentMedia,
    /// A relay or aggregator that republishes others' statements (e.g. South Front here).
    Relay,
    /// A government body or official.
    Government,
    /// A military, including foreign forces and coalitions.
    Military,
    /// A police or security service (e.g. "an Iraqi security source").
    SecurityService,
    /// The perpetrator itself (e.g. the Islamic State).
    Perpetrator,
    /// Media affiliated with a perpetrator (e.g. Amaq).
    PerpetratorMedia,
    /// A non-governmental organisation, monitor or UN body.
    Ngo,
    /// A hospital, health ministry or medical source.
    Medical,
    /// An eyewitness.
    Witness,
    /// Not known.
    Unknown,
}

impl SourceKind {
    /// Every kind, in declaration order.
    pub const ALL: [SourceKind; 11] = [
        Self::IndependentMedia,
        Self::Relay,
        Self::Government,
        Self::Military,
        Self::SecurityService,
        Self::Perpetrator,
        Self::PerpetratorMedia,
        Self::Ngo,
        Self::Medical,
        Self::Witness,
        Self::Unknown,
    ];

    /// Default credibility in percent (0..=100). See `docs/reconciliation.md` for the reasons.
    pub fn default_credibility(self) -> u8 {
        match self {
            Self::Medical => 85,
            Self::Ngo => 80,
            Self::IndependentMedia => 70,
            Self::Government | Self::Military | Self::SecurityService => 60,
            Self::Witness => 50,
            Self::Unknown => 30,
            Self::Relay => 20,
            Self::Perpetrator | Self::PerpetratorMedia => 20,
        }
    }

    /// Whether claims by this kind are party claims: they never confirm a figure.
    pub fn is_party(self) -> bool {
        matches!(self, Self::Perpetrator | Self::PerpetratorMedia)
    }

    /// Whether claims by this kind corroborate: not a party's, and not a relay's (a relay
    /// repeats others' statements; giving a figure as its own, it names no source, and adds
    /// provenance, not a voice).
    pub fn corroborates(self) -> bool {
        !self.is_party() && self != Self::Relay
    }

    /// Whether this kind is an authority whose statement, corroborated, can confirm an incident.
    pub fn is_authority(self) -> bool {
        matches!(
            self,
            Self::Government | Self::Military | Self::SecurityService | Self::Medical | Self::Ngo
        )
    }

    /// The snake_case name used on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::IndependentMedia => "independent_media",
            Self::Relay => "relay",
            Self::Government => "government",
            Self::Military => "military",
            Self::SecurityService => "security_service",
            Self::Perpetrator => "perpetrator",
            Self::PerpetratorMedia => "perpetrator_media",
            Self::Ngo => "ngo",
            Self::Medical => "medical",
            Self::Witness => "witness",
            Self::Unknown => "unknown",
        }
    }
}

/// A publisher or claimant as a report describes it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Source {
    /// Stable id of the source.
    pub id: SourceId,
    /// Display name, if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<Name>,
    /// What kind of source it is.
    pub kind: SourceKind,
    /// The source this one speaks for (e.g. Amaq for the Islamic State). Affiliated sources
    /// count as one claimant when corroboration is counted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affiliated_with: Option<SourceId>,
}

impl Source {
    /// The id that stands for this source's independence group: its affiliation if it has one.
    pub fn independence_root(&self) -> &SourceId {
        self.affiliated_with.as_ref().unwrap_or(&self.id)
    }
}
