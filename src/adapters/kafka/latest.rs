//! The subscriber's materialised view: the newest version shown per incident, and the dedup rule
//! that makes at-least-once delivery safe to read. Updates are versioned per incident (the version
//! grows by one per change), so a subscriber drops an `(incident, version)` it has shown before,
//! and any version older than the newest it has shown: redelivered or re-published messages, and
//! old versions read after new ones, change nothing.
//!
//! An absorbed incident's last version is its "absorbed into" notice; it is kept like any other
//! version, so the notice is shown once and the incident's older versions are dropped after it.

use std::collections::BTreeMap;

use crate::core::model::IncidentId;
use crate::core::update::{MergeNotice, Update};

/// What the view did with an offered update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Offer {
    /// Newer than anything shown for the incident: it is now the incident's latest.
    New,
    /// This version was shown already.
    Duplicate,
    /// Older than the newest version shown.
    Older {
        /// The newest version shown.
        newest: u64,
    },
}

impl Offer {
    /// Whether the update should be shown.
    pub fn is_new(&self) -> bool {
        matches!(self, Self::New)
    }
}

/// The newest version of every incident seen.
#[derive(Debug, Clone, Default)]
pub struct LatestView {
    entries: BTreeMap<IncidentId, Update>,
}

impl LatestView {
    /// An empty view.
    pub fn new() -> Self {
        Self::default()
    }

    /// Offers an update: keeps it if it is newer than the incident's newest version.
    pub fn offer(&mut self, update: &Update) -> Offer {
        match self.entries.get(&update.incident_id) {
            Some(shown) if update.version == shown.version => Offer::Duplicate,
            Some(shown) if update.version < shown.version => Offer::Older {
                newest: shown.version,
            },
            _ => {
                self.entries
                    .insert(update.incident_id.clone(), update.clone());
                Offer::New
            }
        }
    }

    /// The newest version of an incident.
    pub fn get(&self, id: &IncidentId) -> Option<&Update> {
        self.entries.get(id)
    }

    /// The newest version of every incident, sorted by incident id.
    pub fn iter(&self) -> impl Iterator<Item = &Update> {
        self.entries.values()
    }

    /// Incidents held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no incident is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The incident that stands for `id`: `id` itself, or the survivor its "absorbed into"
    /// notices lead to (as far as the view knows).
    pub fn survivor<'a>(&'a self, id: &'a IncidentId) -> &'a IncidentId {
        let mut cur = id;
        // Merge chains are short; the bound protects against a cycle in crafted input.
        for _ in 0..64 {
            match self.entries.get(cur).and_then(absorbed_into) {
                Some(next) if next != cur => cur = next,
                _ => break,
            }
        }
        cur
    }
}

/// The survivor named by an "absorbed into" notice.
pub fn absorbed_into(update: &Update) -> Option<&IncidentId> {
    match &update.merge {
        Some(MergeNotice::AbsorbedInto { incident_id }) => Some(incident_id),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::model::ReportId;

    fn id(s: &str) -> IncidentId {
        IncidentId::parse(s).unwrap()
    }

    fn update(inc: &str, version: u64) -> Update {
        Update::new(
            id(inc),
            version,
            None,
            vec!["grade".into()],
            vec![ReportId::parse(&format!("r-{inc}-{version}")).unwrap()],
            None,
        )
    }

    fn absorbed(inc: &str, version: u64, into: &str) -> Update {
        let mut u = update(inc, version);
        u.changes = vec!["merged".into()];
        u.merge = Some(MergeNotice::AbsorbedInto {
            incident_id: id(into),
        });
        u
    }

    #[test]
    fn duplicates_and_older_versions_are_dropped() {
        let mut v = LatestView::new();
        assert_eq!(v.offer(&update("a", 1)), Offer::New);
        assert_eq!(v.offer(&update("a", 1)), Offer::Duplicate);
        assert_eq!(v.offer(&update("a", 3)), Offer::New, "a gap is fine");
        assert_eq!(v.offer(&update("a", 2)), Offer::Older { newest: 3 });
        assert_eq!(v.offer(&update("a", 3)), Offer::Duplicate);
        assert_eq!(v.offer(&update("b", 2)), Offer::New, "per incident");
        assert_eq!(v.offer(&update("a", 4)), Offer::New);
        assert_eq!(v.get(&id("a")).map(|u| u.version), Some(4));
        let ids: Vec<(&str, u64)> = v
            .iter()
            .map(|u| (u.incident_id.as_str(), u.version))
            .collect();
        assert_eq!(ids, [("a", 4), ("b", 2)]);
    }

    #[test]
    fn an_older_version_never_replaces_the_newest() {
        let mut v = LatestView::new();
        let mut newest = update("a", 5);
        newest.changes = vec!["casualties.military.killed".into()];
        v.offer(&newest);
        let mut stale = update("a", 4);
        stale.changes = vec!["outcome".into()];
        assert!(!v.offer(&stale).is_new());
        assert_eq!(v.get(&id("a")), Some(&newest));
    }

    #[test]
    fn absorbed_incidents_are_shown_once_with_their_notice() {
        let mut v = LatestView::new();
        assert!(v.offer(&update("x", 1)).is_new());
        assert!(v.offer(&absorbed("x", 2, "y")).is_new());
        assert_eq!(v.offer(&absorbed("x", 2, "y")), Offer::Duplicate);
        assert_eq!(
            v.offer(&update("x", 1)),
            Offer::Older { newest: 2 },
            "a re-published version from before the merge stays hidden"
        );
        assert_eq!(absorbed_into(v.get(&id("x")).unwrap()), Some(&id("y")));
        assert!(v.offer(&update("y", 3)).is_new());
        assert_eq!(v.survivor(&id("x")), &id("y"));
        assert_eq!(v.survivor(&id("y")), &id("y"));
        assert_eq!(v.survivor(&id("unknown")), &id("unknown"));
    }

    #[test]
    fn merge_chains_and_cycles_end() {
        let mut v = LatestView::new();
        v.offer(&absorbed("a", 2, "b"));
        v.offer(&absorbed("b", 2, "c"));
        assert_eq!(v.survivor(&id("a")), &id("c"));
        v.offer(&absorbed("c", 2, "a"));
        // A cycle can only come from crafted input; it must not hang.
        let _ = v.survivor(&id("a"));
    }
}
