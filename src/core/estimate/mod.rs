//! Estimation: the reconciled view of an incident, computed from its state alone, whole
//! ([`reconcile`]) or one section at a time ([`section_hashes`]) to find what a report changed.

mod casualties;
mod categorical;
mod grade;
mod resolve;

use crate::core::incident::{ClaimRecord, Incident};
use crate::core::link::Level;
use crate::core::model::{
    ActorId, Assertion, AttackOutcome, Cause, EventType, Harm, Name, Party, Quantity, ReportId,
    SourceId, SourceKind, Stance, Target, Timestamp,
};
use crate::core::registry::SourceRegistry;
use crate::core::update::{stable_hash, stable_hasher, Section, Sections};
use crate::core::view::{
    CasualtyEstimate, CategoricalView, Evidence, IncidentView, LocationView, ResponsibilityView,
    TimeView,
};

use std::hash::{Hash, Hasher};

use smallvec::SmallVec;

pub use grade::GradeTally;
pub use resolve::party_claims_by_rule;
use resolve::{Claims, Resolved};

/// The names an incident's view lists at a level, sorted, each once: borrowed, for the view
/// to copy and the location digest to hash without copying.
fn sorted_names(incident: &Incident, level: Level) -> SmallVec<[&Name; 4]> {
    let mut v: SmallVec<[&Name; 4]> = incident
        .profile
        .names_at(level)
        .map(|n| &n.display)
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

fn names(incident: &Incident, level: Level) -> Vec<Name> {
    sorted_names(incident, level).into_iter().cloned().collect()
}

fn location(incident: &Incident) -> LocationView {
    let p = &incident.profile;
    LocationView {
        country: p.country,
        admin1: names(incident, Level::Admin1),
        admin2: names(incident, Level::Admin2),
        places: names(incident, Level::Place),
        coordinates: p.coordinates.clone(),
    }
}

/// The values of a set an incident's view lists: `unknown` only when nothing else is known. A
/// report that does not know the event type or target says nothing about it; beside a known
/// value, `unknown` would read as a second, conflicting one.
/// Held inline: the view copies it out, and the digest hashes it without an allocation.
fn known_or_unknown<T: PartialEq>(all: impl Iterator<Item = T>, unknown: T) -> SmallVec<[T; 8]> {
    let mut v: SmallVec<[T; 8]> = all.collect();
    if v.len() > 1 {
        v.retain(|x| *x != unknown);
    }
    v
}

/// The digest hash of a set of values as [`known_or_unknown`] lists it.
fn known_or_unknown_hash<T: PartialEq + Hash>(all: impl Iterator<Item = T>, unknown: T) -> u64 {
    // A slice hashes as a list does: its length, then its items.
    stable_hash(known_or_unknown(all, unknown).as_slice())
}

/// The digest hash of the location section: `stable_hash(&location(incident))`, taken
/// without building the view (a new incident and a renamed one digest it).
fn location_hash(incident: &Incident) -> u64 {
    let p = &incident.profile;
    let mut h = stable_hasher();
    // The fields in the order `LocationView` declares them; a list hashes as its length,
    // then its items.
    p.country.hash(&mut h);
    for level in [Level::Admin1, Level::Admin2, Level::Place] {
        sorted_names(incident, level).as_slice().hash(&mut h);
    }
    p.coordinates.hash(&mut h);
    h.finish()
}

fn event_types(incident: &Incident) -> Vec<EventType> {
    known_or_unknown(incident.profile.event_types.iter(), EventType::Unknown).into_vec()
}

fn targets(incident: &Incident) -> Vec<Target> {
    known_or_unknown(incident.profile.targets.iter(), Target::Unknown).into_vec()
}

fn time(incident: &Incident) -> TimeView {
    let (earliest, latest, precision) = incident.profile.time();
    TimeView {
        earliest,
        latest,
        precision,
    }
}

/// Casualty claims grouped by (party, harm): one sorted list, cut into runs. The sort is
/// stable, so each run keeps the claimant order the estimates rely on.
fn casualties(claims: &Claims<'_>) -> Vec<CasualtyEstimate> {
    let mut counts: Vec<((Party, Harm), &Resolved<'_>)> = claims
        .casualties()
        .iter()
        .filter_map(|c| match c.assertion {
            Assertion::Casualties { party, outcome, .. } => Some(((*party, *outcome), c)),
            _ => None,
        })
        .collect();
    counts.sort_by_key(|(key, _)| *key);
    counts
        .chunk_by(|a, b| a.0 == b.0)
        .map(|run| {
            let (party, harm) = run[0].0;
            let cs: Vec<&Resolved<'_>> = run.iter().map(|(_, c)| *c).collect();
            casualties::estimate(party, harm, &cs)
        })
        .collect()
}

/// The hash of one claim of a casualty estimate as the estimate lists it ([`ClaimEntry`]),
/// from the view or from the state: both must give the same value.
fn claim_entry_hash(
    claimant: &SourceId,
    kind: SourceKind,
    group: Option<&SourceId>,
    party_claim: bool,
    count: &Quantity,
    stated_at: Timestamp,
    report_id: &ReportId,
) -> u64 {
    let h = stable_hash(&(claimant, kind, party_claim, count, stated_at, report_id));
    // A claimant that is its own group hashes as before groups were listed: stored digests
    // stay valid.
    group.map_or(h, |g| stable_hash(&(h, g)))
}

/// The entry hash of a resolved casualty claim, `None` for another assertion.
fn resolved_entry_hash(c: &Resolved<'_>) -> Option<u64> {
    match c.assertion {
        Assertion::Casualties { count, .. } => Some(claim_entry_hash(
            c.claimant(),
            c.kind,
            c.group(),
            c.is_party(),
            count,
            c.record.stated_at,
            &c.record.report_id,
        )),
        _ => None,
    }
}

/// Where the casualty digests start: the registry that resolves the claimants.
fn casualty_seed(registry: u64) -> u64 {
    stable_hash(&registry)
}

/// The digest of the estimate of one (party, harm) from the state, or `None` when no standing
/// claim gives a figure for it. It sums the hashes of what the estimate is computed from,
/// instead of hashing the estimate: the claims it lists, each with its statement time and
/// report, over a seed taken from the registry that resolves their claimants. The estimate is
/// a function of these and lists the claims, so it changes exactly when they do (a new
/// registry can at most name the section as changed while its figures stay the same). A sum
/// does not depend on order, and is kept up to date claim by claim
/// ([`casualty_digest_after`]): a report touches one or two claims of an estimate, and the
/// others need not be read again.
fn casualty_fingerprint(
    claims: &[Resolved<'_>],
    party: Party,
    harm: Harm,
    registry: u64,
) -> Option<u64> {
    let mut sum = casualty_seed(registry);
    let mut any = false;
    for c in claims {
        if let Assertion::Casualties {
            party: p,
            outcome: o,
            ..
        } = c.assertion
        {
            if *p == party && *o == harm {
                any = true;
                sum = sum.wrapping_add(resolved_entry_hash(c).unwrap_or(0));
            }
        }
    }
    any.then_some(sum)
}

/// The same digest from a rendered estimate.
fn casualty_fingerprint_of(e: &CasualtyEstimate, registry: u64) -> u64 {
    e.claims.iter().fold(casualty_seed(registry), |sum, c| {
        sum.wrapping_add(claim_entry_hash(
            &c.claimant,
            c.claimant_kind,
            c.group.as_ref(),
            c.party_claim,
            &c.count,
            c.stated_at,
            &c.report_id,
        ))
    })
}

/// What one report changed in an incident's claims: its own claims, the standing casualty
/// claims of earlier reports they replaced, and whether they replaced any statement at all.
pub struct ReportChange<'a> {
    /// The report applied.
    pub report_id: &'a ReportId,
    /// The standing casualty claims it replaced (see `Incident::add_report`).
    pub superseded: &'a [ClaimRecord],
    /// Whether every claim it kept was new to the incident: none replaced a standing
    /// statement, of any field.
    pub only_new: bool,
}

impl ReportChange<'_> {
    /// The report's own claims as the incident now holds them, resolved: they hold its very
    /// copy of the id.
    fn added<'a>(
        &'a self,
        incident: &'a Incident,
        registry: &'a SourceRegistry,
        parties: &resolve::PartyRule<'a>,
    ) -> impl Iterator<Item = Resolved<'a>> {
        // A copy the iterator owns: two references at most.
        let parties = parties.clone();
        incident
            .claims
            .iter()
            .filter(|r| r.report_id.same_copy(self.report_id))
            .map(move |r| resolve::one(r, registry, &parties))
    }
}

/// The digest of the estimate of one (party, harm) after a report, from the digest before it
/// (`None`: no estimate) and what the report changed: the same value as
/// `casualty_fingerprint` of the whole estimate, reading only the claims that changed. The
/// registry must be the one the digest before was taken under.
fn casualty_digest_after(
    incident: &Incident,
    registry: &SourceRegistry,
    (party, harm): (Party, Harm),
    before: Option<u64>,
    change: &ReportChange<'_>,
    parties: &resolve::PartyRule<'_>,
) -> Option<u64> {
    let is_section = |a: &Assertion| matches!(a, Assertion::Casualties { party: p, outcome: o, .. } if *p == party && *o == harm);
    let mut sum = before.unwrap_or_else(|| casualty_seed(registry.fingerprint()));
    let mut any = false;
    // Casualty claims come first in the incident's claims (sorted by kind of field).
    for r in incident
        .claims
        .iter()
        .take_while(|r| r.assertion.field_ref().kind() == 0)
        .filter(|r| is_section(&r.assertion))
    {
        any = true;
        // The report's own claims hold its very copy of the id.
        if r.report_id.same_copy(change.report_id) {
            let added = resolved_entry_hash(&resolve::one(r, registry, parties)).unwrap_or(0);
            sum = sum.wrapping_add(added);
        }
    }
    for r in change
        .superseded
        .iter()
        .filter(|r| is_section(&r.assertion))
    {
        let gone = resolved_entry_hash(&resolve::one(r, registry, parties)).unwrap_or(0);
        sum = sum.wrapping_sub(gone);
    }
    any.then_some(sum)
}

fn cause_items<'a>(
    claims: &'a Claims<'_>,
) -> impl Iterator<Item = (&'a Resolved<'a>, Cause)> + Clone {
    claims.causes().iter().filter_map(|c| match c.assertion {
        Assertion::Cause { cause } => Some((c, *cause)),
        _ => None,
    })
}

fn outcome_items<'a>(
    claims: &'a Claims<'_>,
) -> impl Iterator<Item = (&'a Resolved<'a>, AttackOutcome)> + Clone {
    claims.outcomes().iter().filter_map(|c| match c.assertion {
        Assertion::Outcome { outcome } => Some((c, *outcome)),
        _ => None,
    })
}

fn responsibility_items<'a>(
    claims: &'a Claims<'_>,
) -> impl Iterator<Item = (&'a Resolved<'a>, &'a ActorId, Stance)> + Clone {
    claims
        .responsibility()
        .iter()
        .filter_map(|c| match c.assertion {
            Assertion::Responsibility { actor, stance } => Some((c, actor, *stance)),
            _ => None,
        })
}

fn cause(claims: &Claims<'_>) -> CategoricalView<Cause> {
    categorical::categorical(cause_items(claims), Cause::competing)
}

fn outcome(claims: &Claims<'_>) -> CategoricalView<AttackOutcome> {
    categorical::categorical(outcome_items(claims), AttackOutcome::competing)
}

fn responsibility(claims: &Claims<'_>, cause: &CategoricalView<Cause>) -> ResponsibilityView {
    categorical::responsibility(responsibility_items(claims), cause)
}

/// The digest of the responsibility section, without building it or the cause it reads: only
/// whether a non-party claimant gives a non-hostile cause or an accident matters of the cause.
fn responsibility_digest(claims: &Claims<'_>) -> u64 {
    let non_hostile_said = claims.causes().iter().any(|c| {
        !c.is_party()
            && matches!(
                c.assertion,
                Assertion::Cause {
                    cause: Cause::NonHostile | Cause::Accident
                }
            )
    });
    categorical::responsibility_digest(responsibility_items(claims), non_hostile_said)
}

/// The incident's linked reports, each publisher's kind as the registry fixes it (else as its
/// report gave it), as claimants' kinds are.
fn evidence(incident: &Incident, registry: &SourceRegistry) -> Vec<Evidence> {
    let mut list = incident.evidence.clone();
    for e in &mut list {
        if let Some(kind) = registry.fixed_kind(&e.publisher) {
            e.publisher_kind = kind;
        }
    }
    list
}

/// Computes the reconciled view of an incident.
pub fn reconcile(incident: &Incident, registry: &SourceRegistry) -> IncidentView {
    let claims = resolve::resolve(
        incident,
        registry,
        &resolve::PartyRule::of(incident, registry),
    );
    let cause = cause(&claims);
    let outcome = outcome(&claims);
    let responsibility = responsibility(&claims, &cause);
    let contested = responsibility.contested || cause.contested || outcome.contested;
    let (grade, independent_claimants) = grade::grade(claims.all(), contested);
    let p = &incident.profile;
    IncidentView {
        incident_id: incident.id.clone(),
        region: p.region.to_string(),
        location: location(incident),
        time: time(incident),
        event_types: event_types(incident),
        targets: targets(incident),
        casualties: casualties(&claims),
        responsibility,
        cause,
        outcome,
        grade,
        independent_claimants,
        evidence: evidence(incident, registry),
    }
}

/// Every section an incident's view has, or had when it was last digested.
pub fn all_sections(incident: &Incident) -> Sections {
    let mut sections = Sections::default();
    sections.extend([
        Section::Location,
        Section::Time,
        Section::EventTypes,
        Section::Targets,
        Section::Responsibility,
        Section::Cause,
        Section::Outcome,
        Section::Grade,
        Section::Evidence,
    ]);
    sections.extend(incident.digest.sections().iter());
    sections.extend(
        incident
            .standing_claims()
            .filter_map(|c| match c.assertion {
                Assertion::Casualties { party, outcome, .. } => {
                    Some(Section::Casualties(party, outcome))
                }
                _ => None,
            }),
    );
    sections
}

/// The digest hash of each of `sections` read from the incident's rendered view: the
/// same values [`section_hashes`] takes from the state, for when the view is built anyway.
pub fn view_section_hashes(
    view: &IncidentView,
    registry: &SourceRegistry,
    sections: Sections,
    out: &mut Vec<(Section, Option<u64>)>,
) {
    for section in sections.iter() {
        let hash = match section {
            Section::Location => Some(stable_hash(&view.location)),
            Section::Time => Some(stable_hash(&view.time)),
            Section::EventTypes => Some(stable_hash(&view.event_types)),
            Section::Targets => Some(stable_hash(&view.targets)),
            Section::Casualties(party, harm) => view
                .casualties
                .iter()
                .find(|e| e.party == party && e.outcome == harm)
                .map(|e| casualty_fingerprint_of(e, registry.fingerprint())),
            Section::Responsibility => Some(stable_hash(&view.responsibility)),
            Section::Cause => Some(stable_hash(&view.cause)),
            Section::Outcome => Some(stable_hash(&view.outcome)),
            Section::Grade => Some(stable_hash(&(view.grade, view.independent_claimants))),
            Section::Evidence => Some(view.evidence.len() as u64),
        };
        out.push((section, hash));
    }
}

/// The digest hash of each of `sections` as the incident now stands, without building
/// the view: `None` for a section the view no longer has (a casualty estimate whose last claim
/// was withdrawn). Each hash changes exactly when its section of the view does. Most hash the
/// section itself; casualty estimates, the costliest to build, hash what they are computed
/// from (see `casualty_fingerprint`), and evidence is digested by its size.
pub fn section_hashes(
    incident: &Incident,
    registry: &SourceRegistry,
    sections: Sections,
    out: &mut Vec<(Section, Option<u64>)>,
) -> GradeTally {
    section_hashes_after(incident, registry, sections, None, out)
}

/// [`section_hashes`] after one report, given what it changed in the claims: each casualty
/// estimate's digest is brought up to date from the one the incident keeps, reading only the
/// claims that changed, and so is the grade when the report's claimants are surely new to the
/// incident ([`GradeTally::with_new`]). The incident's digest and grade tally must be current
/// as of the report before, under the same registry. Returns the grade tally as of the report
/// (the incident's own when the grade was not among `sections`).
pub fn section_hashes_after(
    incident: &Incident,
    registry: &SourceRegistry,
    sections: Sections,
    change: Option<&ReportChange<'_>>,
    out: &mut Vec<(Section, Option<u64>)>,
) -> GradeTally {
    let categorical = sections.iter().any(|s| {
        matches!(
            s,
            Section::Responsibility | Section::Cause | Section::Outcome
        )
    });
    let grading = sections.contains(Section::Grade);
    // Who counts as a party beyond each claim's kind: taken once for every section.
    let parties = resolve::PartyRule::of(incident, registry);
    // Claims that only grew, over a current tally: the tally may take them in alone.
    let growth = change.filter(|c| grading && c.only_new && incident.grade.is_known());
    // Without a categorical field touched, `contested` is what it was.
    let mut tally = growth.filter(|_| !categorical).and_then(|c| {
        incident.grade.with_new(
            c.added(incident, registry, &parties),
            incident.grade.contested(),
        )
    });
    let needs_claims = categorical
        || (grading && tally.is_none())
        || (change.is_none()
            && sections
                .iter()
                .any(|s| matches!(s, Section::Casualties(..))));
    // Only the whole estimates and a grade taken from scratch read casualty counts; when the
    // grade may still grow, they are resolved only if it cannot.
    let casualties_read = (change.is_none()
        && sections
            .iter()
            .any(|s| matches!(s, Section::Casualties(..))))
        || (grading && tally.is_none() && !(categorical && growth.is_some()));
    let mut claims = if !needs_claims {
        Claims::default()
    } else if casualties_read {
        resolve::resolve(incident, registry, &parties)
    } else {
        resolve::resolve_categorical(incident, registry, &parties)
    };
    if grading && tally.is_none() {
        let contested = grade::contested(&claims);
        // Growth over an unchanged `contested` was tried above and found a set bit; with a
        // categorical field touched, it is tried now, with `contested` read from the claims.
        let grown = growth.filter(|_| categorical).and_then(|c| {
            incident
                .grade
                .with_new(c.added(incident, registry, &parties), contested)
        });
        tally = Some(match grown {
            Some(t) => t,
            None => {
                if !casualties_read {
                    claims = resolve::resolve(incident, registry, &parties);
                }
                GradeTally::of(claims.all(), contested)
            }
        });
    }
    for section in sections.iter() {
        let hash = match section {
            Section::Location => Some(location_hash(incident)),
            Section::Time => Some(stable_hash(&time(incident))),
            Section::EventTypes => Some(known_or_unknown_hash(
                incident.profile.event_types.iter(),
                EventType::Unknown,
            )),
            Section::Targets => Some(known_or_unknown_hash(
                incident.profile.targets.iter(),
                Target::Unknown,
            )),
            Section::Casualties(party, harm) => match change {
                Some(change) => {
                    let before = incident.digest.get(section);
                    casualty_digest_after(
                        incident,
                        registry,
                        (party, harm),
                        before,
                        change,
                        &parties,
                    )
                }
                None => {
                    casualty_fingerprint(claims.casualties(), party, harm, registry.fingerprint())
                }
            },
            Section::Responsibility => Some(responsibility_digest(&claims)),
            Section::Cause => Some(categorical::categorical_digest(
                cause_items(&claims),
                Cause::competing,
            )),
            Section::Outcome => Some(categorical::categorical_digest(
                outcome_items(&claims),
                AttackOutcome::competing,
            )),
            Section::Grade => tally.map(|t| stable_hash(&t.graded())),
            // Evidence only grows (a report is linked once, and merges add to it), so its size
            // changes exactly when it does. Every report that publishes grows it, so the
            // publishers' kinds a new registry fixes are published with the next update.
            Section::Evidence => Some(incident.evidence.len() as u64),
        };
        out.push((section, hash));
    }
    tally.unwrap_or(incident.grade)
}
