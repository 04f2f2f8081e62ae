//! Categorical fields (cause, outcome) and responsibility: leading value, alternatives with
//! their backers, contested or not. Rules and reasons: `docs/reconciliation.md`.

use std::collections::BTreeMap;

use super::resolve::{claimant_ids, group_weight, Resolved};
use crate::core::model::{ActorId, Cause, Stance};
use crate::core::view::{ActorResponsibility, Alternative, CategoricalView, ResponsibilityView};

/// Whether the values hold two or more distinct ones: the rule behind every `contested` flag.
pub fn two_or_more<T: PartialEq>(mut values: impl Iterator<Item = T>) -> bool {
    match values.next() {
        Some(first) => values.any(|v| v != first),
        None => false,
    }
}

/// Reconciles one categorical field. `competes` says whether a value is an assertion that
/// competes with others (a cause "under investigation" does not).
pub fn categorical<'a, T: Ord + Copy>(
    items: impl Iterator<Item = (&'a Resolved<'a>, T)>,
    competes: impl Fn(T) -> bool,
) -> CategoricalView<T> {
    let mut by_value: BTreeMap<T, Vec<&Resolved<'_>>> = BTreeMap::new();
    for (c, v) in items {
        by_value.entry(v).or_default().push(c);
    }
    let mut alternatives: Vec<Alternative<T>> = by_value
        .into_iter()
        .map(|(value, backers)| Alternative {
            value,
            weight: group_weight(backers.iter().copied()),
            party_claims_only: backers.iter().all(|c| c.is_party()),
            backers: claimant_ids(backers.into_iter()),
        })
        .collect();
    alternatives.sort_by(|a, b| b.weight.cmp(&a.weight).then(a.value.cmp(&b.value)));
    let leading = alternatives
        .iter()
        .find(|a| competes(a.value))
        .or(alternatives.first())
        .map(|a| a.value);
    let contested = two_or_more(
        alternatives
            .iter()
            .map(|a| a.value)
            .filter(|v| competes(*v)),
    );
    CategoricalView {
        leading,
        alternatives,
        contested,
    }
}

/// Reconciles responsibility. `cause` is the reconciled cause: a non-party source asserting a
/// non-hostile cause or an accident disputes any claimed responsibility.
pub fn responsibility<'a>(
    items: impl Iterator<Item = (&'a Resolved<'a>, &'a ActorId, Stance)>,
    cause: &CategoricalView<Cause>,
) -> ResponsibilityView {
    #[derive(Default)]
    struct Acc<'b> {
        claimed: Vec<&'b Resolved<'b>>,
        attributed: Vec<&'b Resolved<'b>>,
        denied: Vec<&'b Resolved<'b>>,
    }
    let mut by_actor: BTreeMap<&ActorId, Acc<'_>> = BTreeMap::new();
    for (c, actor, stance) in items {
        let acc = by_actor.entry(actor).or_default();
        match stance {
            Stance::Claimed => acc.claimed.push(c),
            Stance::Attributed => acc.attributed.push(c),
            Stance::Denied => acc.denied.push(c),
        }
    }
    let mut actors: Vec<ActorResponsibility> = by_actor
        .into_iter()
        .map(|(actor, acc)| ActorResponsibility {
            actor: actor.clone(),
            weight: group_weight(acc.claimed.iter().chain(acc.attributed.iter()).copied()),
            claimed_by: claimant_ids(acc.claimed.into_iter()),
            attributed_by: claimant_ids(acc.attributed.into_iter()),
            denied_by: claimant_ids(acc.denied.into_iter()),
        })
        .collect();
    actors.sort_by(|a, b| b.weight.cmp(&a.weight).then(a.actor.cmp(&b.actor)));
    let backed: Vec<&ActorResponsibility> = actors
        .iter()
        .filter(|a| !a.claimed_by.is_empty() || !a.attributed_by.is_empty())
        .collect();
    let leading = backed.first().map(|a| a.actor.clone());
    let denied = backed.first().is_some_and(|a| !a.denied_by.is_empty());
    let non_hostile_said = cause
        .alternatives
        .iter()
        .any(|a| matches!(a.value, Cause::NonHostile | Cause::Accident) && !a.party_claims_only);
    ResponsibilityView {
        contested: two_or_more(backed.iter().map(|a| &a.actor)),
        disputed: denied || (leading.is_some() && non_hostile_said),
        leading,
        actors,
    }
}
