//! Claims: single assertions attributed to a claimant, who need not be the publisher.

use serde::{Deserialize, Serialize};

use super::ids::ActorId;
use super::quantity::Quantity;
use super::source::Source;
use super::time::Timestamp;

/// Who suffered the casualties a count is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Party {
    /// Civilians.
    Civilians,
    /// Soldiers of a state's armed forces, including foreign troops.
    Military,
    /// Police and other state security forces.
    SecurityForces,
    /// Fighters of a non-state armed group.
    ArmedGroup,
    /// The attackers themselves (e.g. suicide bombers).
    Attackers,
    /// Not stated.
    Unknown,
}

impl Party {
    /// The snake_case name used on the wire and in change paths.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Civilians => "civilians",
            Self::Military => "military",
            Self::SecurityForces => "security_forces",
            Self::ArmedGroup => "armed_group",
            Self::Attackers => "attackers",
            Self::Unknown => "unknown",
        }
    }
}

/// What happened to the people a count is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Harm {
    /// Killed.
    Killed,
    /// Wounded or injured.
    Wounded,
    /// Missing.
    Missing,
    /// Captured or abducted.
    Captured,
}

impl Harm {
    /// The snake_case name used on the wire and in change paths.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Killed => "killed",
            Self::Wounded => "wounded",
            Self::Missing => "missing",
            Self::Captured => "captured",
        }
    }
}

/// A claimant's stance on an actor's responsibility.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stance {
    /// The actor claims it (said by the actor or its media).
    Claimed,
    /// Someone else attributes it to the actor.
    Attributed,
    /// The responsibility is denied (by the actor or someone else).
    Denied,
}

/// What caused the casualties.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// Hostile action.
    Hostile,
    /// Not hostile action ("not due to enemy contact").
    NonHostile,
    /// An accident.
    Accident,
    /// Under investigation: no cause asserted.
    UnderInvestigation,
}

impl Cause {
    /// Whether asserting this cause competes with other causes (under investigation does not).
    pub fn is_assertion(self) -> bool {
        !matches!(self, Self::UnderInvestigation)
    }

    /// What the cause says against other causes: itself, or nothing when it asserts none.
    pub fn competing(self) -> Option<Self> {
        self.is_assertion().then_some(self)
    }
}

/// How the attack ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttackOutcome {
    /// Stopped before it reached its target.
    Foiled,
    /// Attempted but failed (e.g. a device that did not detonate).
    Attempted,
    /// Carried out.
    CarriedOut,
}

impl AttackOutcome {
    /// What the outcome says against other outcomes: whether the attack was carried out. A
    /// foiled and an attempted attack were both not carried out; sources that give one and
    /// the other differ on how it failed, not on whether it did.
    pub fn competing(self) -> Option<bool> {
        Some(self == Self::CarriedOut)
    }
}

/// The field of an incident a claim speaks about. A claimant's newer claim on a field replaces
/// its older one; a retraction names the field it withdraws.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "field", rename_all = "snake_case", deny_unknown_fields)]
pub enum FieldKey {
    /// A casualty count for one party and harm.
    Casualties {
        /// Who suffered.
        party: Party,
        /// What happened to them.
        outcome: Harm,
    },
    /// Responsibility of one actor.
    Responsibility {
        /// The actor.
        actor: ActorId,
    },
    /// The cause.
    Cause,
    /// The attack outcome.
    Outcome,
}

/// A borrowed [`FieldKey`], ordered exactly as `FieldKey` is: compares without allocating.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FieldRef<'a> {
    /// A casualty count.
    Casualties {
        /// Who suffered.
        party: Party,
        /// What happened to them.
        outcome: Harm,
    },
    /// Responsibility of one actor.
    Responsibility {
        /// The actor.
        actor: &'a ActorId,
    },
    /// The cause.
    Cause,
    /// The attack outcome.
    Outcome,
}

impl FieldRef<'_> {
    /// Which kind of field this is, numbered in declaration order: casualties 0,
    /// responsibility 1, cause 2, outcome 3.
    pub fn kind(&self) -> u8 {
        match self {
            Self::Casualties { .. } => 0,
            Self::Responsibility { .. } => 1,
            Self::Cause => 2,
            Self::Outcome => 3,
        }
    }
}

impl FieldKey {
    /// The borrowed form.
    pub fn as_ref(&self) -> FieldRef<'_> {
        match self {
            Self::Casualties { party, outcome } => FieldRef::Casualties {
                party: *party,
                outcome: *outcome,
            },
            Self::Responsibility { actor } => FieldRef::Responsibility { actor },
            Self::Cause => FieldRef::Cause,
            Self::Outcome => FieldRef::Outcome,
        }
    }
}

/// What a claim asserts.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Assertion {
    /// A casualty count.
    Casualties {
        /// Who suffered.
        party: Party,
        /// What happened to them.
        outcome: Harm,
        /// How many.
        count: Quantity,
    },
    /// A stance on an actor's responsibility.
    Responsibility {
        /// The actor.
        actor: ActorId,
        /// Claimed, attributed or denied.
        stance: Stance,
    },
    /// The cause.
    Cause {
        /// The cause asserted.
        cause: Cause,
    },
    /// How the attack ended.
    Outcome {
        /// The outcome asserted.
        outcome: AttackOutcome,
    },
    /// Withdraws the claimant's earlier claim on a field.
    Retraction {
        /// The field withdrawn. Boxed: retractions are rare, and a field key held inline
        /// would make every assertion, so every claim an incident keeps, a third larger.
        retracts: Box<FieldKey>,
    },
}

impl Assertion {
    /// The field this assertion speaks about, borrowed.
    pub fn field_ref(&self) -> FieldRef<'_> {
        match self {
            Self::Casualties { party, outcome, .. } => FieldRef::Casualties {
                party: *party,
                outcome: *outcome,
            },
            Self::Responsibility { actor, .. } => FieldRef::Responsibility { actor },
            Self::Cause { .. } => FieldRef::Cause,
            Self::Outcome { .. } => FieldRef::Outcome,
            Self::Retraction { retracts } => FieldKey::as_ref(retracts),
        }
    }

    /// Whether this is a retraction.
    pub fn is_retraction(&self) -> bool {
        matches!(self, Self::Retraction { .. })
    }

    /// The field this assertion speaks about.
    pub fn field(&self) -> FieldKey {
        match self {
            Self::Casualties { party, outcome, .. } => FieldKey::Casualties {
                party: *party,
                outcome: *outcome,
            },
            Self::Responsibility { actor, .. } => FieldKey::Responsibility {
                actor: actor.clone(),
            },
            Self::Cause { .. } => FieldKey::Cause,
            Self::Outcome { .. } => FieldKey::Outcome,
            Self::Retraction { retracts } => FieldKey::clone(retracts),
        }
    }
}

/// One claim in a report.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Claim {
    /// Who makes the claim.
    pub claimant: Source,
    /// When the claimant made it; defaults to the report's `published_at`. Orders corrections.
    pub stated_at: Timestamp,
    /// What it asserts.
    pub assertion: Assertion,
}
