//! Interning: one shared allocation per distinct source, id or name an engine holds. The same
//! claimant appears in thousands of incidents; without interning each decoded report would keep
//! its own copy of every string alive in the state.

use foldhash::{HashMap, HashSet};
use std::borrow::Borrow;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::Arc;

use arcstr::ArcStr;

use crate::core::model::{
    fold_name, normalise_name, ActorId, CountryCode, Location, Name, Source, SourceId,
};

/// The interning tables of one engine.
#[derive(Debug, Default)]
pub struct Interner {
    strings: HashSet<ArcStr>,
    /// Each source id's first description: found by hashing the id alone, where hashing the
    /// whole description (name, kind, affiliation) cost twice the rest of the lookup.
    sources: HashSet<ById>,
    /// Other descriptions of an id already held (another name, kind or affiliation): few.
    variants: HashSet<Arc<Source>>,
    /// Admin-area name -> its keys and, for an admin1 name, the region key in each country it
    /// was seen in. Few distinct areas recur in every report, so their normalisation
    /// (transliteration, splitting, folding) is done once, and one lookup by the borrowed name
    /// gives every key of an admin1 name. One name rarely recurs in more than a few countries.
    areas: HashMap<ArcStr, Area>,
    /// Country -> region key of locations without admin1.
    countries: HashMap<CountryCode, ArcStr>,
    /// Place name -> its keys, for the names seen last: direct-mapped by a hash of the name,
    /// [`PLACE_SLOTS`] slots, allocated at the first place. Place names are too many to keep
    /// every one, but a place recurs in reports close together. Both texts are interned, so a
    /// slot holds no string of its own.
    places: Box<[PlaceSlot]>,
}

/// What the interner knows of an admin-area name.
#[derive(Debug)]
struct Area {
    /// Its comparison keys.
    keys: Keys,
    /// (country, region key) of the locations it was the admin1 of.
    regions: Vec<(CountryCode, ArcStr)>,
}

/// A shared source, equal to and hashed as its id: the interner holds one per id in
/// `sources`, and one lookup by the borrowed id text finds it.
#[derive(Debug)]
struct ById(Arc<Source>);

impl PartialEq for ById {
    fn eq(&self, other: &Self) -> bool {
        self.0.id == other.0.id
    }
}

impl Eq for ById {}

impl Hash for ById {
    // As the borrowed form hashes: `Borrow` requires it.
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.id.as_str().hash(state);
    }
}

impl Borrow<str> for ById {
    fn borrow(&self) -> &str {
        self.0.id.as_str()
    }
}

/// A slot of the place-name memo: a name and its keys.
type PlaceSlot = Option<(Name, Keys)>;

/// A name's comparison keys: normalised ([`normalise_name`], interned) and folded
/// ([`fold_name`]).
#[derive(Debug, Clone)]
pub struct Keys {
    /// The normalised key.
    pub key: ArcStr,
    /// A 64-bit hash of the folded key ([`fold_hash`]).
    pub fold: u64,
}

/// The hash names that fold alike share: a fixed 64-bit hash of the folded key. Only equality
/// is asked of it, and two folds that differ collide once in 2^64 pairs; a hash costs no
/// memory of its own where the folded text would.
pub fn fold_hash(fold: &str) -> u64 {
    foldhash::fast::FixedState::default().hash_one(fold)
}

/// Slots of the place-name memo (a power of two): its memory is fixed, ~48 KiB per engine.
const PLACE_SLOTS: usize = 2048;

impl Interner {
    /// The shared copy of a text.
    pub fn text(&mut self, s: &ArcStr) -> ArcStr {
        match self.strings.get(s) {
            Some(shared) => shared.clone(),
            None => {
                self.strings.insert(s.clone());
                s.clone()
            }
        }
    }

    /// The shared copy of a borrowed text: a copy is allocated only for a text not yet held.
    fn text_str(&mut self, s: &str) -> ArcStr {
        if let Some(shared) = self.strings.get(s) {
            return shared.clone();
        }
        let s = ArcStr::from(s);
        self.strings.insert(s.clone());
        s
    }

    /// The shared copy of a source id.
    pub fn source_id(&mut self, id: &SourceId) -> SourceId {
        SourceId::from_arc(self.text(id.arc()))
    }

    /// The shared copy of an actor id.
    pub fn actor_id(&mut self, id: &ActorId) -> ActorId {
        ActorId::from_arc(self.text(id.arc()))
    }

    /// The shared copy of a name.
    pub fn name(&mut self, n: &Name) -> Name {
        Name::from_arc(self.text(n.arc()))
    }

    /// The interned keys of a name.
    fn keys(&mut self, n: &Name) -> Keys {
        let normal = normalise_name(n.as_str());
        let fold = fold_hash(&fold_name(&normal));
        let key = self.text_str(&normal);
        Keys { key, fold }
    }

    /// The shared copy of an admin-area name and its comparison keys, computed once per
    /// distinct name.
    pub fn area_key(&mut self, n: &Name) -> (Name, Keys) {
        if let Some((name, area)) = self.areas.get_key_value(n.as_str()) {
            return (Name::from_arc(name.clone()), area.keys.clone());
        }
        let keys = self.keys(n);
        let name = self.name(n);
        let area = Area {
            keys: keys.clone(),
            regions: Vec::new(),
        };
        self.areas.insert(name.arc().clone(), area);
        (name, keys)
    }

    /// The shared copy of a location's admin1 name, its comparison keys and the location's
    /// region key, `None` without admin1 ([`Interner::region_key`] gives its region).
    pub fn admin1(&mut self, loc: &Location) -> Option<(Name, Keys, ArcStr)> {
        let admin1 = loc.admin1.as_ref()?;
        if let Some((name, area)) = self.areas.get_key_value(admin1.as_str()) {
            if let Some((_, region)) = area.regions.iter().find(|(c, _)| *c == loc.country) {
                let name = Name::from_arc(name.clone());
                return Some((name, area.keys.clone(), region.clone()));
            }
        }
        let (name, keys) = self.area_key(admin1);
        let region = self.text(&ArcStr::from(loc.region_key()));
        if let Some(area) = self.areas.get_mut(admin1.as_str()) {
            area.regions.push((loc.country, region.clone()));
        }
        Some((name, keys, region))
    }

    /// The shared copy of a place name and its comparison keys, remembered for recent names.
    pub fn place_key(&mut self, n: &Name) -> (Name, Keys) {
        if self.places.is_empty() {
            self.places = vec![None; PLACE_SLOTS].into_boxed_slice();
        }
        // Any hash does: the memo only saves work, it never changes a key.
        let hash = foldhash::fast::FixedState::default().hash_one(n.as_str());
        let slot = (hash as usize) & (PLACE_SLOTS - 1);
        if let Some((name, keys)) = &self.places[slot] {
            if name.as_str() == n.as_str() {
                return (name.clone(), keys.clone());
            }
        }
        let keys = self.keys(n);
        let name = self.name(n);
        self.places[slot] = Some((name.clone(), keys.clone()));
        (name, keys)
    }

    /// The region key of a location, computed once per distinct country and admin1.
    pub fn region_key(&mut self, loc: &Location) -> ArcStr {
        if let Some((_, _, region)) = self.admin1(loc) {
            return region;
        }
        if let Some(k) = self.countries.get(&loc.country) {
            return k.clone();
        }
        let key = self.text(&ArcStr::from(loc.region_key()));
        self.countries.insert(loc.country, key.clone());
        key
    }

    /// The shared copy of a source, its strings interned too.
    pub fn source(&mut self, s: &Source) -> Arc<Source> {
        let known = match self.sources.get(s.id.as_str()) {
            // The lookup compared the ids: the rest of the description is left.
            Some(ById(first))
                if first.kind == s.kind
                    && first.affiliated_with == s.affiliated_with
                    && first.name == s.name =>
            {
                return first.clone()
            }
            Some(_) => {
                if let Some(shared) = self.variants.get(s) {
                    return shared.clone();
                }
                true
            }
            None => false,
        };
        let interned = Arc::new(Source {
            id: self.source_id(&s.id),
            name: s.name.as_ref().map(|n| self.name(n)),
            kind: s.kind,
            affiliated_with: s.affiliated_with.as_ref().map(|a| self.source_id(a)),
        });
        if known {
            self.variants.insert(interned.clone());
        } else {
            self.sources.insert(ById(interned.clone()));
        }
        interned
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::model::SourceKind;

    fn source(id: &str, name: Option<&str>, kind: SourceKind, affiliated: Option<&str>) -> Source {
        Source {
            id: SourceId::parse(id).unwrap(),
            name: name.map(|n| Name::parse("name", n).unwrap()),
            kind,
            affiliated_with: affiliated.map(|a| SourceId::parse(a).unwrap()),
        }
    }

    #[test]
    fn each_description_of_a_source_id_has_its_own_shared_copy() {
        let mut interner = Interner::default();
        let descriptions = [
            source("amaq", None, SourceKind::PerpetratorMedia, None),
            source("amaq", None, SourceKind::PerpetratorMedia, Some("is")),
            source("amaq", Some("Amaq"), SourceKind::PerpetratorMedia, None),
            source("amaq", None, SourceKind::Perpetrator, None),
            source("ina", None, SourceKind::IndependentMedia, None),
        ];
        let shared: Vec<_> = descriptions.iter().map(|s| interner.source(s)).collect();
        for (i, (s, a)) in descriptions.iter().zip(&shared).enumerate() {
            assert_eq!(**a, *s);
            // Met again, a description is the same shared copy, and no other's.
            assert!(Arc::ptr_eq(a, &interner.source(s)));
            for b in &shared[i + 1..] {
                assert!(!Arc::ptr_eq(a, b));
            }
        }
        // The ids are one shared text.
        assert!(ArcStr::ptr_eq(shared[0].id.arc(), shared[3].id.arc()));
    }
}
