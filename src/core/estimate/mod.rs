//! Estimation: the reconciled view of an incident, computed from its state alone.

mod casualties;
mod categorical;
mod grade;
mod resolve;

use crate::core::incident::Incident;
use crate::core::link::Level;
use crate::core::model::{Assertion, Cause, Harm, Name, Party};
use crate::core::registry::SourceRegistry;
use crate::core::view::{IncidentView, LocationView, TimeView};

use resolve::{independent_count, Resolved};

fn names(incident: &Incident, level: Level) -> Vec<Name> {
    let mut v: Vec<Name> = incident
        .profile
        .names_at(level)
        .map(|n| n.display.clone())
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// Computes the reconciled view of an incident.
pub fn reconcile(incident: &Incident, registry: &SourceRegistry) -> IncidentView {
    let claims = resolve::resolve(incident, registry);

    // Casualty claims grouped by (party, harm): one sorted list, cut into runs. The sort is
    // stable, so each run keeps the claimant order the estimates rely on.
    let mut counts: Vec<((Party, Harm), &Resolved<'_>)> = claims
        .iter()
        .filter_map(|c| match c.assertion {
            Assertion::Casualties { party, outcome, .. } => Some(((*party, *outcome), c)),
            _ => None,
        })
        .collect();
    counts.sort_by_key(|(key, _)| *key);
    let casualties = counts
        .chunk_by(|a, b| a.0 == b.0)
        .map(|run| {
            let (party, harm) = run[0].0;
            let cs: Vec<&Resolved<'_>> = run.iter().map(|(_, c)| *c).collect();
            casualties::estimate(party, harm, &cs)
        })
        .collect();

    let cause = categorical::categorical(
        claims.iter().filter_map(|c| match c.assertion {
            Assertion::Cause { cause } => Some((c, *cause)),
            _ => None,
        }),
        Cause::is_assertion,
    );
    let outcome = categorical::categorical(
        claims.iter().filter_map(|c| match c.assertion {
            Assertion::Outcome { outcome } => Some((c, *outcome)),
            _ => None,
        }),
        |_| true,
    );
    let responsibility = categorical::responsibility(
        claims.iter().filter_map(|c| match c.assertion {
            Assertion::Responsibility { actor, stance } => Some((c, actor, *stance)),
            _ => None,
        }),
        &cause,
    );
    let grade = grade::grade(&claims, &responsibility, &cause, &outcome);

    let p = &incident.profile;
    IncidentView {
        incident_id: incident.id.clone(),
        region: p.region.to_string(),
        location: LocationView {
            country: p.country,
            admin1: names(incident, Level::Admin1),
            admin2: names(incident, Level::Admin2),
            places: names(incident, Level::Place),
            coordinates: p.coordinates.clone(),
        },
        time: TimeView {
            earliest: p.earliest,
            latest: p.latest,
            precision: p.finest,
        },
        event_types: p.event_types.iter().collect(),
        targets: p.targets.iter().collect(),
        casualties,
        responsibility,
        cause,
        outcome,
        grade,
        independent_claimants: independent_count(claims.iter()),
        evidence: incident.evidence.clone(),
    }
}
