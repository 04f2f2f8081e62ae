//! The overall grade of an incident, in the spirit of Airwars. Reasons: `docs/reconciliation.md`.

use super::categorical::two_or_more;
use super::resolve::{independent_count, Resolved};
use crate::core::model::{Assertion, Stance};
use crate::core::view::Grade;

/// Whether responsibility, cause or outcome is contested, read straight from the claims: the
/// same rule as the reconciled fields' `contested` flags, without building them.
pub fn contested(claims: &[Resolved<'_>]) -> bool {
    let actors = claims.iter().filter_map(|c| match c.assertion {
        Assertion::Responsibility { actor, stance } if *stance != Stance::Denied => Some(actor),
        _ => None,
    });
    let causes = claims.iter().filter_map(|c| match c.assertion {
        Assertion::Cause { cause } if cause.is_assertion() => Some(*cause),
        _ => None,
    });
    let outcomes = claims.iter().filter_map(|c| match c.assertion {
        Assertion::Outcome { outcome } => Some(*outcome),
        _ => None,
    });
    two_or_more(actors) || two_or_more(causes) || two_or_more(outcomes)
}

/// Grades an incident from its standing claims, given whether any categorical field is
/// contested.
pub fn grade(claims: &[Resolved<'_>], contested: bool) -> Grade {
    if contested {
        return Grade::Contested;
    }
    let non_party = || claims.iter().filter(|c| !c.is_party());
    let independent = independent_count(non_party());
    if independent >= 2 && non_party().any(|c| c.source.kind.is_authority()) {
        Grade::Confirmed
    } else if independent >= 2 {
        Grade::Fair
    } else {
        Grade::Weak
    }
}
