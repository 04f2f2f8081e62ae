//! The claimants an incident's reports called parties (perpetrators and their media). One
//! report may give the Islamic State as `perpetrator` and another leave its kind out: its
//! figures must not count as a non-party's, nor confirm the incident, because one report did
//! not say what another did. Party claims never confirm (DESIGN, invariant 4).

use serde::{Deserialize, Serialize};

use crate::core::model::{Source, SourceId};

/// Every claimant a claim of the incident gave a party kind, sorted. A boxed slice, sized
/// exactly: most incidents have none or one, and they rarely change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Parties(Option<Box<[SourceId]>>);

impl Parties {
    /// Whether no claim called its claimant a party.
    pub fn is_empty(&self) -> bool {
        self.0.as_ref().is_none_or(|v| v.is_empty())
    }

    /// The claimants called parties, sorted.
    pub fn ids(&self) -> &[SourceId] {
        self.0.as_deref().unwrap_or(&[])
    }

    /// Whether a claim by `source` would teach something new: it calls its claimant a party,
    /// and no claim did before.
    pub fn would_learn(&self, source: &Source) -> bool {
        source.kind.is_party() && self.ids().binary_search(&source.id).is_err()
    }

    /// Takes in a claimant a claim called a party; says whether it was new.
    pub fn learn(&mut self, id: &SourceId) -> bool {
        let old = self.ids();
        let Err(at) = old.binary_search(id) else {
            return false;
        };
        // Sized exactly, so the list becomes its slice without a reallocation.
        let mut list = Vec::with_capacity(old.len() + 1);
        list.extend_from_slice(&old[..at]);
        list.push(id.clone());
        list.extend_from_slice(&old[at..]);
        self.0 = Some(list.into_boxed_slice());
        true
    }

    /// Whether a claim called `id` a party.
    pub fn contains(&self, id: &SourceId) -> bool {
        self.ids().binary_search(id).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::model::SourceKind;

    fn source(id: &str, kind: SourceKind) -> Source {
        Source {
            id: SourceId::parse(id).unwrap(),
            name: None,
            kind,
            affiliated_with: None,
        }
    }

    #[test]
    fn a_claimant_called_a_party_once_is_remembered() {
        let mut p = Parties::default();
        assert!(p.is_empty());
        let is = source("islamic-state", SourceKind::Perpetrator);
        assert!(p.would_learn(&is));
        assert!(!p.would_learn(&source("moh", SourceKind::Government)));
        assert!(p.learn(&is.id));
        assert!(!p.learn(&is.id));
        assert!(!p.would_learn(&is));
        assert!(p.contains(&is.id));
        assert!(p.learn(&SourceId::parse("amaq").unwrap()));
        assert_eq!(p.ids().len(), 2);
        assert_eq!(p.ids()[0].as_str(), "amaq");
    }
}
