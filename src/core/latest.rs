//! The latest update of each incident a fold published, its view rendered once, at the end.
//! What a rebuild keeps (`reckon replay` without `--publish-to`, `reckon reconcile --final`):
//! rendering the view of every update costs about as much as the fold itself, and all but the
//! last of each incident's are dropped.
//!
//! The view rendered at the end is the one the last update carried: a report linked to an
//! incident always changes its view (its evidence grows) and so publishes, and a report that
//! publishes nothing changes no incident.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::core::actors::ActorNames;
use crate::core::engine::{Engine, Folded};
use crate::core::gazetteer::Gazetteer;
use crate::core::model::IncidentId;
use crate::core::registry::SourceRegistry;
use crate::core::update::{MergeNotice, Update};

/// The latest update of each incident folded so far, views not yet rendered.
#[derive(Debug, Default)]
pub struct Latest {
    updates: BTreeMap<IncidentId, Update>,
}

impl Latest {
    /// Keeps the updates a report caused, each replacing its incident's earlier one; returns
    /// how many there were.
    pub fn keep(&mut self, folded: Folded<'_>) -> usize {
        let updates = folded.into_updates_unrendered();
        let n = updates.len();
        for u in updates {
            self.updates.insert(u.incident_id.clone(), u);
        }
        n
    }

    /// How many incidents have an update.
    pub fn len(&self) -> usize {
        self.updates.len()
    }

    /// Whether no incident has an update.
    pub fn is_empty(&self) -> bool {
        self.updates.is_empty()
    }

    /// The latest updates, sorted by incident id, each standing incident's with its view as
    /// `engine` (the engine that folded them) now holds it. Absorbed incidents' updates carry
    /// no view, as published.
    pub fn into_rendered(self, engine: &Engine) -> BTreeMap<IncidentId, Update> {
        let mut updates = self.updates;
        for (id, u) in &mut updates {
            if !matches!(u.merge, Some(MergeNotice::AbsorbedInto { .. })) {
                u.view = engine.view(id);
            }
        }
        updates
    }
}

/// What a rebuild holds: per partition, the engine that folds its reports and the latest
/// update of each of its incidents. Partitions fold apart, as the processor folds them.
#[derive(Debug)]
pub struct Rebuild {
    registry: SourceRegistry,
    places: Arc<Gazetteer>,
    actors: Arc<ActorNames>,
    partitions: BTreeMap<i32, (Engine, Latest)>,
}

impl Rebuild {
    /// An empty rebuild whose engines read `registry`.
    pub fn new(registry: SourceRegistry) -> Self {
        Self {
            registry,
            places: Arc::default(),
            actors: Arc::default(),
            partitions: BTreeMap::new(),
        }
    }

    /// The rebuild, its engines writing each report under the standard place names of
    /// `places` before linking it.
    pub fn with_places(mut self, places: Arc<Gazetteer>) -> Self {
        self.places = places;
        self
    }

    /// The rebuild, its engines writing each report's responsibility claims under the actor
    /// ids of `actors` before applying it.
    pub fn with_actors(mut self, actors: Arc<ActorNames>) -> Self {
        self.actors = actors;
        self
    }

    /// A partition's engine and its latest updates, both empty at its first report.
    pub fn partition(&mut self, partition: i32) -> (&mut Engine, &mut Latest) {
        let (engine, latest) = self.partitions.entry(partition).or_insert_with(|| {
            let engine = Engine::new(self.registry.clone())
                .with_places(self.places.clone())
                .with_actors(self.actors.clone());
            (engine, Latest::default())
        });
        (engine, latest)
    }

    /// The latest update of every incident of every partition, sorted by incident id, views
    /// rendered ([`Latest::into_rendered`]).
    pub fn into_rendered(self) -> BTreeMap<IncidentId, Update> {
        let mut all = BTreeMap::new();
        for (engine, latest) in self.partitions.into_values() {
            all.extend(latest.into_rendered(&engine));
        }
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::registry::SourceRegistry;
    use crate::synth::{generate, SynthConfig};
    use crate::wire::json;

    /// Three reports of one incident whose first two do not link: the third merges them.
    fn merging() -> Vec<crate::core::model::Report> {
        let one = |id: &str, minute: u32, location: serde_json::Value| {
            let r = serde_json::json!({
                "report_id": id,
                "publisher": {"id": "daily-news", "kind": "independent_media"},
                "published_at": format!("2017-01-02T10:{minute:02}:00Z"),
                "incident": {
                    "occurred_at": "2017-01-02T00:00:00Z",
                    "time_precision": "day",
                    "location": location,
                    "event_type": "unknown",
                    "target": "unknown"
                },
                "claims": [{
                    "claimant": {"id": format!("witness-{id}"), "kind": "witness"},
                    "kind": "casualties", "party": "civilians", "outcome": "killed",
                    "count": {"qualifier": "exact", "value": minute + 1}
                }]
            });
            json::decode_report(r.to_string().as_bytes()).expect("valid test report")
        };
        vec![
            one(
                "m-a",
                0,
                serde_json::json!({"country": "IQ", "admin1": "Nineveh", "place": "al-Bwair"}),
            ),
            one(
                "m-b",
                1,
                serde_json::json!({"country": "IQ", "admin1": "Nineveh", "coordinates": {"lat": 36.38, "lon": 42.50}, "precision": "exact"}),
            ),
            one(
                "m-c",
                2,
                serde_json::json!({"country": "IQ", "admin1": "Nineveh", "place": "Al Bwair village", "coordinates": {"lat": 36.381, "lon": 42.501}, "precision": "exact"}),
            ),
        ]
    }

    /// The latest updates with views rendered at the end are, byte for byte, the latest of the
    /// updates rendered one by one, merges and corrections included.
    #[test]
    fn views_rendered_at_the_end_are_the_latest_published() {
        let mut reports = merging();
        reports.extend(generate(SynthConfig {
            incidents: 300,
            regions: 3,
            seed: 11,
            days: 10,
        }));
        let mut each = Engine::new(SourceRegistry::default());
        let mut published: BTreeMap<IncidentId, Update> = BTreeMap::new();
        for r in &reports {
            for u in each.apply(r) {
                published.insert(u.incident_id.clone(), u);
            }
        }
        let mut engine = Engine::new(SourceRegistry::default());
        let mut latest = Latest::default();
        let mut count = 0;
        for r in &reports {
            if let Ok(folded) = engine.fold(r) {
                count += latest.keep(folded);
            }
        }
        assert!(count > reports.len() / 2, "most reports publish");
        let rendered = latest.into_rendered(&engine);
        let merges = published
            .values()
            .filter(|u| matches!(u.merge, Some(MergeNotice::AbsorbedInto { .. })))
            .count();
        assert!(
            merges > 0,
            "the stream must hold merges for this test to mean anything"
        );
        assert_eq!(rendered.len(), published.len());
        for (id, u) in &published {
            let got = &rendered[id];
            assert_eq!(json::encode_update(got), json::encode_update(u), "{id}");
        }
    }
}
