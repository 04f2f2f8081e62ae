//! The overall grade of an incident, in the spirit of Airwars. Reasons: `docs/reconciliation.md`.

use super::resolve::{independent_count, Resolved};
use crate::core::model::{AttackOutcome, Cause};
use crate::core::view::{CategoricalView, Grade, ResponsibilityView};

/// Grades an incident from its standing claims and reconciled categorical fields.
pub fn grade(
    claims: &[Resolved<'_>],
    responsibility: &ResponsibilityView,
    cause: &CategoricalView<Cause>,
    outcome: &CategoricalView<AttackOutcome>,
) -> Grade {
    if responsibility.contested || cause.contested || outcome.contested {
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
