//! Which updates a subscriber asked for: by incident id, country and grade. Values of one kind
//! are alternatives (any matches); kinds combine (all must match); no values means no filter.
//!
//! The filter remembers what it has seen, because some updates do not say everything: an
//! "absorbed into" notice has no view, so its country and grade are those of the incident's last
//! view; and following an incident that gets absorbed means following its survivor from then on.

use std::collections::{BTreeSet, HashMap};

use crate::core::model::IncidentId;
use crate::core::update::{MergeNotice, Update};
use crate::core::view::Grade;

/// An invalid filter value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    /// Not a grade name.
    #[error("unknown grade {0:?} (expected confirmed, fair, weak or contested)")]
    Grade(String),
    /// Not a two-letter country code.
    #[error("invalid country code {0:?} (expected two letters, e.g. IQ)")]
    Country(String),
}

/// The subscriber's filter.
#[derive(Debug, Clone, Default)]
pub struct UpdateFilter {
    incidents: BTreeSet<String>,
    countries: BTreeSet<String>,
    grades: BTreeSet<Grade>,
    /// The last country and grade seen per incident, for updates without a view.
    known: HashMap<IncidentId, (String, Grade)>,
}

impl UpdateFilter {
    /// Builds a filter. Country codes are case-insensitive.
    pub fn new(
        incidents: impl IntoIterator<Item = String>,
        countries: impl IntoIterator<Item = String>,
        grades: impl IntoIterator<Item = String>,
    ) -> Result<Self, FilterError> {
        let countries = countries
            .into_iter()
            .map(|c| {
                let t = c.trim().to_ascii_uppercase();
                if t.len() == 2 && t.bytes().all(|b| b.is_ascii_alphabetic()) {
                    Ok(t)
                } else {
                    Err(FilterError::Country(c))
                }
            })
            .collect::<Result<_, _>>()?;
        let grades = grades
            .into_iter()
            .map(|g| Grade::parse(g.trim()).ok_or(FilterError::Grade(g)))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            incidents: incidents
                .into_iter()
                .map(|i| i.trim().to_string())
                .collect(),
            countries,
            grades,
            known: HashMap::new(),
        })
    }

    /// Whether every update passes.
    pub fn is_empty(&self) -> bool {
        self.incidents.is_empty() && self.countries.is_empty() && self.grades.is_empty()
    }

    /// Learns from an update (call it for every update, shown or not, before [`Self::matches`]):
    /// its incident's country and grade, and, when a followed incident is absorbed, its survivor.
    pub fn observe(&mut self, update: &Update) {
        if let Some(view) = &update.view {
            if !self.countries.is_empty() || !self.grades.is_empty() {
                self.known.insert(
                    update.incident_id.clone(),
                    (view.location.country.as_str().to_string(), view.grade),
                );
            }
        }
        if self.incidents.is_empty() {
            return;
        }
        match &update.merge {
            Some(MergeNotice::AbsorbedInto { incident_id })
                if self.incidents.contains(update.incident_id.as_str()) =>
            {
                self.incidents.insert(incident_id.as_str().to_string());
            }
            Some(MergeNotice::Absorbed { incidents })
                if incidents
                    .iter()
                    .any(|i| self.incidents.contains(i.as_str())) =>
            {
                self.incidents
                    .insert(update.incident_id.as_str().to_string());
            }
            _ => {}
        }
    }

    /// Whether the update is wanted.
    pub fn matches(&self, update: &Update) -> bool {
        if !self.incidents.is_empty() && !self.incidents.contains(update.incident_id.as_str()) {
            return false;
        }
        if self.countries.is_empty() && self.grades.is_empty() {
            return true;
        }
        let (country, grade) = match &update.view {
            Some(v) => (v.location.country.as_str(), v.grade),
            None => match self.known.get(&update.incident_id) {
                Some((c, g)) => (c.as_str(), *g),
                // A notice about an incident never seen: nothing says it matches.
                None => return false,
            },
        };
        (self.countries.is_empty() || self.countries.contains(country))
            && (self.grades.is_empty() || self.grades.contains(&grade))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::registry::SourceRegistry;
    use crate::core::Engine;
    use crate::wire::json;

    const SEED: &str = include_str!("../../../tests/fixtures/seed-2017-iraq.jsonl");

    /// The seed article's updates, from the real fold.
    fn seed_updates() -> Vec<Update> {
        let mut engine = Engine::new(SourceRegistry::default());
        SEED.lines()
            .filter(|l| !l.trim().is_empty())
            .flat_map(|l| {
                let r = json::decode_report(l.as_bytes()).unwrap();
                engine.apply(&r)
            })
            .collect()
    }

    fn region_of(u: &Update) -> String {
        u.view
            .as_ref()
            .map(|v| v.region.clone())
            .unwrap_or_default()
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn no_values_means_everything() {
        let f = UpdateFilter::new(vec![], vec![], vec![]).unwrap();
        assert!(f.is_empty());
        assert!(seed_updates().iter().all(|u| f.matches(u)));
    }

    #[test]
    fn grade_and_country_filters() {
        let updates = seed_updates();
        let mut weak = UpdateFilter::new(vec![], strings(&["iq"]), strings(&["weak"])).unwrap();
        let shown: BTreeSet<String> = updates
            .iter()
            .filter(|u| {
                weak.observe(u);
                weak.matches(u)
            })
            .map(region_of)
            .collect();
        assert!(shown.contains("iq/baghdad"), "{shown:?}");
        assert!(updates
            .iter()
            .filter(|u| weak.matches(u))
            .all(|u| u.view.as_ref().unwrap().grade == Grade::Weak));

        let other = UpdateFilter::new(vec![], strings(&["SY"]), vec![]).unwrap();
        assert!(updates.iter().all(|u| !other.matches(u)));

        let either = UpdateFilter::new(vec![], vec![], strings(&["weak", "contested"])).unwrap();
        assert!(updates.iter().all(|u| either.matches(u)));

        assert!(UpdateFilter::new(vec![], vec![], strings(&["sure"])).is_err());
        assert!(UpdateFilter::new(vec![], strings(&["IRQ"]), vec![]).is_err());
    }

    #[test]
    fn incident_filter_follows_the_survivor_and_notices_use_the_last_view() {
        let updates = seed_updates();
        let karbala = updates
            .iter()
            .rev()
            .find(|u| region_of(u) == "iq/karbala")
            .unwrap()
            .clone();
        let x = IncidentId::parse("iq-test-absorbed").unwrap();
        let mut before = karbala.clone();
        before.incident_id = x.clone();
        before.version = 1;
        if let Some(v) = before.view.as_mut() {
            v.incident_id = x.clone();
        }
        let mut notice = before.clone();
        notice.version = 2;
        notice.view = None;
        notice.merge = Some(MergeNotice::AbsorbedInto {
            incident_id: karbala.incident_id.clone(),
        });
        let mut survivor = karbala.clone();
        survivor.version += 1;
        survivor.merge = Some(MergeNotice::Absorbed {
            incidents: vec![x.clone()],
        });

        let mut f = UpdateFilter::new(vec![x.to_string()], vec![], vec![]).unwrap();
        let mut shown = Vec::new();
        for u in [&karbala, &before, &notice, &survivor] {
            f.observe(u);
            if f.matches(u) {
                shown.push((u.incident_id.to_string(), u.version));
            }
        }
        assert_eq!(
            shown,
            [
                (x.to_string(), 1),
                (x.to_string(), 2),
                (karbala.incident_id.to_string(), survivor.version)
            ],
            "the incident, its notice, then its survivor"
        );

        let grade = before.view.as_ref().unwrap().grade.as_str().to_string();
        let mut g = UpdateFilter::new(vec![], vec![], vec![grade]).unwrap();
        assert!(!g.matches(&notice), "a notice about an unseen incident");
        g.observe(&before);
        g.observe(&notice);
        assert!(g.matches(&notice), "judged by the incident's last view");
    }
}
