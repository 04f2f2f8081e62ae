//! Categorical fields (cause, outcome) and responsibility: leading value, alternatives with
//! their backers, contested or not. Rules and reasons: `docs/reconciliation.md`.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};

use super::resolve::{claimant_ids, group_weight, Resolved};
use crate::core::model::{ActorId, Cause, Stance};
use crate::core::update::{stable_hash, stable_hasher};
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

/// The digest of the view [`categorical`] builds from the same items, `stable_hash` of it,
/// computed without building it: the fold digests a touched field on every report that
/// touches it, and building the view costs several allocations. Items must come sorted by
/// claimant, one per claimant (the incident keeps its claims so); otherwise the view is built.
pub fn categorical_digest<'a, T: Ord + Copy + Hash>(
    items: impl Iterator<Item = (&'a Resolved<'a>, T)> + Clone,
    competes: impl Fn(T) -> bool,
) -> u64 {
    if !items
        .clone()
        .map(|(c, _)| c.claimant())
        .is_sorted_by(|a, b| a < b)
    {
        return stable_hash(&categorical(items, competes));
    }
    // (value, weight, party claims only, number of backers), one per value.
    let mut alternatives: Vec<(T, u32, bool, usize)> = Vec::new();
    for (_, v) in items.clone() {
        if !alternatives.iter().any(|a| a.0 == v) {
            let backers = || items.clone().filter(move |(_, w)| *w == v).map(|(c, _)| c);
            alternatives.push((
                v,
                group_weight(backers()),
                backers().all(|c| c.is_party()),
                backers().count(),
            ));
        }
    }
    alternatives.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let leading = alternatives
        .iter()
        .find(|a| competes(a.0))
        .or(alternatives.first())
        .map(|a| a.0);
    let contested = two_or_more(alternatives.iter().map(|a| a.0).filter(|v| competes(*v)));
    // The fields in the order `CategoricalView` and `Alternative` declare (and hash) them; a
    // list hashes as its length, then its items.
    let mut h = stable_hasher();
    leading.hash(&mut h);
    h.write_usize(alternatives.len());
    for &(value, weight, party_claims_only, backers) in &alternatives {
        value.hash(&mut h);
        h.write_usize(backers);
        for (c, _) in items.clone().filter(|(_, w)| *w == value) {
            c.claimant().hash(&mut h);
        }
        party_claims_only.hash(&mut h);
        weight.hash(&mut h);
    }
    contested.hash(&mut h);
    h.finish()
}

/// The digest of the view [`responsibility`] builds from the same items, computed without
/// building it (see [`categorical_digest`]). `non_hostile_said`: whether a non-party claimant
/// gives a non-hostile cause or an accident, which the view reads from the reconciled cause.
pub fn responsibility_digest<'a>(
    items: impl Iterator<Item = (&'a Resolved<'a>, &'a ActorId, Stance)> + Clone,
    non_hostile_said: bool,
    cause: impl FnOnce() -> CategoricalView<Cause>,
) -> u64 {
    if !items.clone().map(|(c, ..)| c.claimant()).is_sorted() {
        return stable_hash(&responsibility(items, &cause()));
    }
    struct Actor<'b> {
        actor: &'b ActorId,
        weight: u32,
        claimed: usize,
        attributed: usize,
        denied: usize,
    }
    let mut actors: Vec<Actor<'_>> = Vec::new();
    for (_, actor, _) in items.clone() {
        if actors.iter().any(|a| a.actor == actor) {
            continue;
        }
        let count = |stance: Stance| {
            items
                .clone()
                .filter(|(_, a, s)| *a == actor && *s == stance)
                .count()
        };
        actors.push(Actor {
            actor,
            weight: group_weight(
                items
                    .clone()
                    .filter(|(_, a, s)| *a == actor && *s != Stance::Denied)
                    .map(|(c, ..)| c),
            ),
            claimed: count(Stance::Claimed),
            attributed: count(Stance::Attributed),
            denied: count(Stance::Denied),
        });
    }
    actors.sort_by(|a, b| b.weight.cmp(&a.weight).then(a.actor.cmp(b.actor)));
    let mut backed = actors.iter().filter(|a| a.claimed + a.attributed > 0);
    let first = backed.next();
    let contested = backed.next().is_some();
    let leading = first.map(|a| a.actor);
    let denied = first.is_some_and(|a| a.denied > 0);
    let disputed = denied || (leading.is_some() && non_hostile_said);
    // Fields in the order `ResponsibilityView` and `ActorResponsibility` declare them.
    let mut h = stable_hasher();
    leading.hash(&mut h);
    h.write_usize(actors.len());
    for a in &actors {
        a.actor.hash(&mut h);
        for (stance, n) in [
            (Stance::Claimed, a.claimed),
            (Stance::Attributed, a.attributed),
            (Stance::Denied, a.denied),
        ] {
            h.write_usize(n);
            for (c, ..) in items
                .clone()
                .filter(|(_, actor, s)| *actor == a.actor && *s == stance)
            {
                c.claimant().hash(&mut h);
            }
        }
        a.weight.hash(&mut h);
    }
    contested.hash(&mut h);
    disputed.hash(&mut h);
    h.finish()
}
