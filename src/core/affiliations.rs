//! The affiliations an incident's reports stated for its claimants. One report may say INA
//! speaks for the interior ministry and another leave it out: the claimant's group in the
//! incident must not depend on which of its reports gave the affiliation, nor on their order,
//! or one voice counts as two independent ones and confirms the incident on its own.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use crate::core::model::{Source, SourceId};

/// Every affiliation the incident's reports stated, as (claimant, affiliation) pairs, sorted.
/// Sources linked by them, in either direction and any number of steps, are one group: INA
/// said to speak for the ministry and the ministry for the government, or INA said to speak
/// for each by two reports, or two sources said to speak for each other, are one voice. The
/// group is named by the least source that speaks for no other (the one the others lead to),
/// or by the least of all when each speaks for another. A boxed slice, sized exactly: most
/// incidents have none or one, and they rarely change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Affiliations(Option<Box<[(SourceId, SourceId)]>>);

impl Affiliations {
    /// Whether no report stated an affiliation.
    pub fn is_empty(&self) -> bool {
        self.0.as_ref().is_none_or(|v| v.is_empty())
    }

    fn links(&self) -> &[(SourceId, SourceId)] {
        self.0.as_deref().unwrap_or(&[])
    }

    /// Whether [`Self::learn`] would take in something new.
    pub fn would_change(&self, claimant: &SourceId, affiliation: &SourceId) -> bool {
        claimant != affiliation
            && self
                .links()
                .binary_search_by(|(c, a)| (c, a).cmp(&(claimant, affiliation)))
                .is_err()
    }

    /// Takes in an affiliation a report stated; says whether it was new.
    pub fn learn(&mut self, claimant: &SourceId, affiliation: &SourceId) -> bool {
        if !self.would_change(claimant, affiliation) {
            return false;
        }
        let mut list: Vec<(SourceId, SourceId)> = self.0.take().map(Vec::from).unwrap_or_default();
        let pair = (claimant.clone(), affiliation.clone());
        let at = list.binary_search(&pair).unwrap_or_else(|i| i);
        list.insert(at, pair);
        self.0 = Some(list.into_boxed_slice());
        true
    }

    /// Every stated affiliation, in claimant order.
    pub fn iter(&self) -> impl Iterator<Item = &(SourceId, SourceId)> {
        self.links().iter()
    }

    /// The group a source counts in, when the incident's affiliations put it in another
    /// source's: `None` when it is its own (linked to no other, or the group's name).
    pub fn group_of(&self, source: &SourceId) -> Option<&SourceId> {
        let links = self.links();
        // Most incidents with any hold one link (a perpetrator's media): its claimant counts
        // in the group of the source it speaks for. Run for every claim of such incidents.
        match links {
            [] => return None,
            [(c, a)] => return (c == source).then_some(a),
            _ if !links.iter().any(|(c, a)| c == source || a == source) => return None,
            _ => {}
        }
        // The sources linked to `source`, gathered a link at a time: lists are short.
        let mut group: SmallVec<[&SourceId; 8]> = SmallVec::new();
        group.push(source);
        let mut i = 0;
        while i < group.len() {
            let at = group[i];
            for (c, a) in links {
                for (x, y) in [(c, a), (a, c)] {
                    if x == at && !group.contains(&y) {
                        group.push(y);
                    }
                }
            }
            i += 1;
        }
        if group.len() == 1 {
            return None;
        }
        let speaks_for_another = |s: &SourceId| links.iter().any(|(c, _)| c == s);
        let name = group
            .iter()
            .copied()
            .filter(|s| !speaks_for_another(s))
            .min()
            .or_else(|| group.iter().copied().min())?;
        if name == source {
            return None;
        }
        // The name as the links hold it, which outlives `source`.
        links.iter().flat_map(|(c, a)| [c, a]).find(|s| *s == name)
    }

    /// A claimant as the incident counts it: with the group its reports' affiliations put it
    /// in as its affiliation, whichever report stated them.
    pub fn apply<'a>(&self, claimant: &'a Source) -> Cow<'a, Source> {
        let group = self.group_of(&claimant.id);
        if claimant.affiliated_with.as_ref() == group || self.is_empty() {
            return Cow::Borrowed(claimant);
        }
        Cow::Owned(Source {
            affiliated_with: group.cloned(),
            ..claimant.clone()
        })
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
    fn linked_sources_are_one_group_named_by_the_one_they_lead_to() {
        let learnt = |links: &[(&str, &str)]| {
            let mut a = Affiliations::default();
            for (c, x) in links {
                a.learn(&id(c), &id(x));
            }
            a
        };
        // A chain: INA, the ministry, the government, in either order of learning.
        for links in [
            [("ina", "moi"), ("moi", "gov")],
            [("moi", "gov"), ("ina", "moi")],
        ] {
            let a = learnt(&links);
            assert_eq!(a.group_of(&id("ina")), Some(&id("gov")));
            assert_eq!(a.group_of(&id("moi")), Some(&id("gov")));
            assert_eq!(a.group_of(&id("gov")), None);
        }
        // One source said to speak for two: the three are one group.
        let a = learnt(&[("ina", "moi"), ("ina", "gov")]);
        assert_eq!(a.group_of(&id("moi")), Some(&id("gov")));
        assert_eq!(a.group_of(&id("ina")), Some(&id("gov")));
        // Two said to speak for each other: named by the least.
        let a = learnt(&[("x", "y"), ("y", "x")]);
        assert_eq!(a.group_of(&id("y")), Some(&id("x")));
        assert_eq!(a.group_of(&id("x")), None);
        // Unlinked sources are their own, and a source stated as its own affiliation too.
        let mut a = learnt(&[("ina", "moi")]);
        assert_eq!(a.group_of(&id("afp")), None);
        assert!(!a.learn(&id("z"), &id("z")));
        assert!(!a.learn(&id("ina"), &id("moi")));
    }

    #[test]
    fn a_claimant_takes_the_affiliation_the_incident_holds() {
        let mut a = Affiliations::default();
        a.learn(&id("ina"), &id("moi"));
        assert!(!a.is_empty());
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
