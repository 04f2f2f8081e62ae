//! The affiliations an incident's reports stated for its claimants. One report may say INA
//! speaks for the interior ministry and another leave it out: the claimant's group in the
//! incident must not depend on which of its reports gave the affiliation, nor on their order,
//! or one voice counts as two independent ones and confirms the incident on its own.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::core::model::{Source, SourceId};

/// For each claimant that any report linked to the incident said speaks for another source,
/// the least such source (by id, so that two reports naming different ones agree whatever
/// their order). A boxed slice, sized exactly: most incidents have none or one, and they
/// rarely change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Affiliations(Option<Box<[(SourceId, SourceId)]>>);

impl Affiliations {
    /// Whether no report stated an affiliation.
    pub fn is_empty(&self) -> bool {
        self.0.as_ref().is_none_or(|v| v.is_empty())
    }

    /// The affiliation the incident holds for a claimant.
    pub fn of(&self, claimant: &SourceId) -> Option<&SourceId> {
        let list = self.0.as_ref()?;
        let i = list.binary_search_by(|(c, _)| c.cmp(claimant)).ok()?;
        Some(&list[i].1)
    }

    /// Whether [`Self::learn`] would change the claimant's affiliation in the incident: it
    /// has none, or a greater one.
    pub fn would_change(&self, claimant: &SourceId, affiliation: &SourceId) -> bool {
        claimant != affiliation && self.of(claimant).is_none_or(|a| affiliation < a)
    }

    /// Takes in an affiliation a report stated; says whether the claimant's affiliation in
    /// the incident changed (it had none, or a greater one).
    pub fn learn(&mut self, claimant: &SourceId, affiliation: &SourceId) -> bool {
        if !self.would_change(claimant, affiliation) {
            return false;
        }
        let mut list: Vec<(SourceId, SourceId)> = self.0.take().map(Vec::from).unwrap_or_default();
        match list.binary_search_by(|(c, _)| c.cmp(claimant)) {
            Ok(i) => list[i].1 = affiliation.clone(),
            Err(i) => list.insert(i, (claimant.clone(), affiliation.clone())),
        }
        self.0 = Some(list.into_boxed_slice());
        true
    }

    /// Every claimant and its affiliation, in claimant order.
    pub fn iter(&self) -> impl Iterator<Item = &(SourceId, SourceId)> {
        self.0.iter().flat_map(|v| v.iter())
    }

    /// A claimant as the incident counts it: with the affiliation the incident holds for it,
    /// which may come from another of its reports.
    pub fn apply<'a>(&self, claimant: &'a Source) -> Cow<'a, Source> {
        match self.of(&claimant.id) {
            Some(a) if claimant.affiliated_with.as_ref() != Some(a) => Cow::Owned(Source {
                affiliated_with: Some(a.clone()),
                ..claimant.clone()
            }),
            _ => Cow::Borrowed(claimant),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::model::SourceKind;

    fn id(s: &str) -> SourceId {
        SourceId::parse(s).unwrap()
    }

    #[test]
    fn the_least_affiliation_stands_whatever_the_order() {
        let mut a = Affiliations::default();
        assert!(a.is_empty());
        assert!(a.learn(&id("ina"), &id("moi")));
        assert!(a.learn(&id("ina"), &id("gov")));
        assert!(!a.learn(&id("ina"), &id("moi")));
        let mut b = Affiliations::default();
        assert!(b.learn(&id("ina"), &id("gov")));
        assert!(!b.learn(&id("ina"), &id("moi")));
        assert_eq!(a, b);
        assert_eq!(a.of(&id("ina")), Some(&id("gov")));
        // A source stated as its own affiliation is its own group.
        assert!(!a.learn(&id("x"), &id("x")));
        assert_eq!(a.of(&id("x")), None);
    }

    #[test]
    fn a_claimant_takes_the_affiliation_the_incident_holds() {
        let mut a = Affiliations::default();
        a.learn(&id("ina"), &id("moi"));
        let bare = Source {
            id: id("ina"),
            name: None,
            kind: SourceKind::IndependentMedia,
            affiliated_with: None,
        };
        assert_eq!(a.apply(&bare).affiliated_with, Some(id("moi")));
        let other = Source {
            id: id("afp"),
            ..bare.clone()
        };
        assert!(matches!(a.apply(&other), Cow::Borrowed(_)));
    }
}
