//! Categorical fields (cause, outcome) and responsibility: leading value, alternatives with
//! their backers, contested or not. Rules and reasons: `docs/reconciliation.md`.
//!
//! Each field is ranked once ([`rank_values`], [`rank_actors`]); the view is built from the
//! ranking ([`categorical`], [`responsibility`]), or its digest streamed from it without
//! building it ([`categorical_digest`], [`responsibility_digest`]), for the fold.

use std::hash::{Hash, Hasher};

use smallvec::SmallVec;

use super::resolve::{claimant_ids, group_weight, Resolved};
use crate::core::model::{ActorId, Cause, SourceId, Stance};
use crate::core::update::stable_hasher;
use crate::core::view::{ActorResponsibility, Alternative, CategoricalView, ResponsibilityView};

/// Whether two independence groups give different answers, each answer given with the group
/// of the claimant that gives it: the rule behind every `contested` flag. The sources of one
/// group that contradict each other (the Islamic State and its agency) are one voice
/// contradicting itself, not competing claims. Lists are short: pairs are compared directly.
pub fn groups_disagree<'a, K: PartialEq>(
    answers: impl Iterator<Item = (&'a SourceId, K)> + Clone,
) -> bool {
    // Most fields hold one answer: then no pair of groups is compared.
    if !two_or_more(answers.clone().map(|(_, a)| a)) {
        return false;
    }
    let mut rest = answers.clone();
    for (group, answer) in answers {
        rest.next();
        if rest.clone().any(|(g, a)| g != group && a != answer) {
            return true;
        }
    }
    false
}

/// Whether the values hold two or more distinct ones.
fn two_or_more<T: PartialEq>(mut values: impl Iterator<Item = T>) -> bool {
    match values.next() {
        Some(first) => values.any(|v| v != first),
        None => false,
    }
}

/// One value of a categorical field as ranked, its backers left in the items.
struct RankedValue<T> {
    value: T,
    weight: u32,
    party_claims_only: bool,
    backers: usize,
}

/// A categorical field ranked: every value asserted, heaviest first, then by value; the
/// leading value (the first that competes, else the first); whether competing values are
/// asserted.
struct Ranking<T> {
    values: SmallVec<[RankedValue<T>; 4]>,
    leading: Option<T>,
    contested: bool,
}

fn rank_values<'a, T: Ord + Copy, K: PartialEq>(
    items: impl Iterator<Item = (&'a Resolved<'a>, T)> + Clone,
    competes: impl Fn(T) -> Option<K>,
) -> Ranking<T> {
    let mut values: SmallVec<[RankedValue<T>; 4]> = SmallVec::new();
    for (_, v) in items.clone() {
        if values.iter().any(|r| r.value == v) {
            continue;
        }
        let backers = || items.clone().filter(move |(_, w)| *w == v).map(|(c, _)| c);
        values.push(RankedValue {
            value: v,
            weight: group_weight(backers()),
            party_claims_only: backers().all(|c| c.is_party()),
            backers: backers().count(),
        });
    }
    values.sort_by(|a, b| b.weight.cmp(&a.weight).then(a.value.cmp(&b.value)));
    let leading = values
        .iter()
        .find(|r| competes(r.value).is_some())
        .or(values.first())
        .map(|r| r.value);
    let contested = groups_disagree(
        items
            .clone()
            .filter_map(|(c, v)| competes(v).map(|k| (c.root(), k))),
    );
    Ranking {
        values,
        leading,
        contested,
    }
}

/// Reconciles one categorical field. `competes` gives what a value says that may compete with
/// other values: `None` for a value that asserts nothing (a cause "under investigation"), and
/// one answer for values that say the same thing competing values would deny (a *foiled* and
/// an *attempted* attack were both not carried out). Two different answers contest the field.
pub fn categorical<'a, T: Ord + Copy, K: PartialEq>(
    items: impl Iterator<Item = (&'a Resolved<'a>, T)> + Clone,
    competes: impl Fn(T) -> Option<K>,
) -> CategoricalView<T> {
    let ranking = rank_values(items.clone(), competes);
    CategoricalView {
        leading: ranking.leading,
        alternatives: ranking
            .values
            .iter()
            .map(|r| Alternative {
                value: r.value,
                backers: claimant_ids(items.clone().filter(|(_, v)| *v == r.value).map(|(c, _)| c)),
                party_claims_only: r.party_claims_only,
                weight: r.weight,
            })
            .collect(),
        contested: ranking.contested,
    }
}

/// The digest of the view [`categorical`] builds from the same items, `stable_hash` of it,
/// computed without building it: the fold digests a touched field on every report that
/// touches it, and building the view costs several allocations. Items must come sorted by
/// claimant, one per claimant, as the incident keeps its claims (checked in debug builds:
/// checking it always would read every claimant's id once more).
pub fn categorical_digest<'a, T: Ord + Copy + Hash, K: PartialEq>(
    items: impl Iterator<Item = (&'a Resolved<'a>, T)> + Clone,
    competes: impl Fn(T) -> Option<K>,
) -> u64 {
    debug_assert!(items
        .clone()
        .map(|(c, _)| c.claimant())
        .is_sorted_by(|a, b| a < b));
    let ranking = rank_values(items.clone(), competes);
    // The fields in the order `CategoricalView` and `Alternative` declare (and hash) them; a
    // list hashes as its length, then its items.
    let mut h = stable_hasher();
    ranking.leading.hash(&mut h);
    h.write_usize(ranking.values.len());
    for r in &ranking.values {
        r.value.hash(&mut h);
        h.write_usize(r.backers);
        for (c, _) in items.clone().filter(|(_, v)| *v == r.value) {
            c.claimant().hash(&mut h);
        }
        r.party_claims_only.hash(&mut h);
        r.weight.hash(&mut h);
    }
    ranking.contested.hash(&mut h);
    h.finish()
}

/// One actor as ranked for responsibility, its claimants left in the items.
struct RankedActor<'a> {
    actor: &'a ActorId,
    weight: u32,
    claimed: usize,
    attributed: usize,
    denied: usize,
}

/// Responsibility ranked: every actor named, heaviest first, then by id; the leading actor
/// (the first claimed or attributed); whether another is claimed or attributed too; whether
/// the leading actor's responsibility is denied.
struct ActorRanking<'a> {
    actors: SmallVec<[RankedActor<'a>; 4]>,
    leading: Option<&'a ActorId>,
    contested: bool,
    denied: bool,
}

fn rank_actors<'a>(
    items: impl Iterator<Item = (&'a Resolved<'a>, &'a ActorId, Stance)> + Clone,
) -> ActorRanking<'a> {
    let mut actors: SmallVec<[RankedActor<'a>; 4]> = SmallVec::new();
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
        actors.push(RankedActor {
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
    let first = actors.iter().find(|a| a.claimed + a.attributed > 0);
    let contested = groups_disagree(backed_actors(items));
    ActorRanking {
        leading: first.map(|a| a.actor),
        denied: first.is_some_and(|a| a.denied > 0),
        contested,
        actors,
    }
}

/// The actors claimed or attributed, each with the group of the claimant that names it.
pub fn backed_actors<'a>(
    items: impl Iterator<Item = (&'a Resolved<'a>, &'a ActorId, Stance)> + Clone,
) -> impl Iterator<Item = (&'a SourceId, &'a ActorId)> + Clone {
    items
        .filter(|(_, _, s)| *s != Stance::Denied)
        .map(|(c, a, _)| (c.root(), a))
}

/// The claimants of the items taking `stance` on `actor`.
fn stating<'a>(
    items: impl Iterator<Item = (&'a Resolved<'a>, &'a ActorId, Stance)>,
    actor: &'a ActorId,
    stance: Stance,
) -> impl Iterator<Item = &'a Resolved<'a>> {
    items
        .filter(move |(_, a, s)| *a == actor && *s == stance)
        .map(|(c, ..)| c)
}

/// Reconciles responsibility. `cause` is the reconciled cause: a non-party source asserting a
/// non-hostile cause or an accident disputes any claimed responsibility.
pub fn responsibility<'a>(
    items: impl Iterator<Item = (&'a Resolved<'a>, &'a ActorId, Stance)> + Clone,
    cause: &CategoricalView<Cause>,
) -> ResponsibilityView {
    let ranking = rank_actors(items.clone());
    let non_hostile_said = cause
        .alternatives
        .iter()
        .any(|a| matches!(a.value, Cause::NonHostile | Cause::Accident) && !a.party_claims_only);
    ResponsibilityView {
        leading: ranking.leading.cloned(),
        actors: ranking
            .actors
            .iter()
            .map(|a| ActorResponsibility {
                actor: a.actor.clone(),
                claimed_by: claimant_ids(stating(items.clone(), a.actor, Stance::Claimed)),
                attributed_by: claimant_ids(stating(items.clone(), a.actor, Stance::Attributed)),
                denied_by: claimant_ids(stating(items.clone(), a.actor, Stance::Denied)),
                weight: a.weight,
            })
            .collect(),
        contested: ranking.contested,
        disputed: ranking.denied || (ranking.leading.is_some() && non_hostile_said),
    }
}

/// The digest of the view [`responsibility`] builds from the same items, computed without
/// building it (see [`categorical_digest`]; items sorted by claimant). `non_hostile_said`:
/// whether a non-party claimant gives a non-hostile cause or an accident, which the view
/// reads from the reconciled cause.
pub fn responsibility_digest<'a>(
    items: impl Iterator<Item = (&'a Resolved<'a>, &'a ActorId, Stance)> + Clone,
    non_hostile_said: bool,
) -> u64 {
    debug_assert!(items.clone().map(|(c, ..)| c.claimant()).is_sorted());
    let ranking = rank_actors(items.clone());
    let disputed = ranking.denied || (ranking.leading.is_some() && non_hostile_said);
    // Fields in the order `ResponsibilityView` and `ActorResponsibility` declare them.
    let mut h = stable_hasher();
    ranking.leading.hash(&mut h);
    h.write_usize(ranking.actors.len());
    for a in &ranking.actors {
        a.actor.hash(&mut h);
        for (stance, n) in [
            (Stance::Claimed, a.claimed),
            (Stance::Attributed, a.attributed),
            (Stance::Denied, a.denied),
        ] {
            h.write_usize(n);
            for c in stating(items.clone(), a.actor, stance) {
                c.claimant().hash(&mut h);
            }
        }
        a.weight.hash(&mut h);
    }
    ranking.contested.hash(&mut h);
    disputed.hash(&mut h);
    h.finish()
}
