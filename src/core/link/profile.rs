//! What an incident looks like to the linker: the union of where, when, what and whom its
//! reports name. Every list is sorted and deduplicated, so the profile does not depend on the
//! order reports arrived in.

use arcstr::ArcStr;
use std::marker::PhantomData;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::core::intern::{fold_hash, Interner, Keys};
use crate::core::model::{
    fold_name, normalise_name, region_key, Coordinates, CountryCode, EventType, Name,
    PlacePrecision, Report, Target, TimePrecision, Timestamp,
};

/// The level of a named area.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Province, governorate.
    Admin1,
    /// District, city.
    Admin2,
    /// Village, neighbourhood, site.
    Place,
}

/// A name as given, with its comparison keys. Ordered by level, key, then name.
#[derive(Debug, Clone, Eq, Serialize, Deserialize)]
pub struct PlaceName {
    /// Its level.
    pub level: Level,
    /// The comparison key ([`normalise_name`]).
    pub key: ArcStr,
    /// The hash of the key folded ([`fold_name`], [`fold_hash`]): names that fold alike are
    /// spelling variants. Not stored: [`Profile::rekey`] computes it again, under the rules
    /// of the version that restores the state.
    #[serde(skip)]
    pub fold: u64,
    /// The name as a report gave it.
    pub display: Name,
}

impl PlaceName {
    /// A name at a level, its keys computed.
    pub fn new(level: Level, display: Name) -> Self {
        let key = normalise_name(display.as_str());
        Self {
            level,
            fold: fold_hash(&fold_name(&key)),
            key: ArcStr::from(key),
            display,
        }
    }
}

// As derived, with a shortcut for shared copies: the engine interns keys and names, so the
// names a report gives are mostly the very copies its incident holds.
impl PartialEq for PlaceName {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == std::cmp::Ordering::Equal
    }
}

impl PartialOrd for PlaceName {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for PlaceName {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        let key = if ArcStr::ptr_eq(&self.key, &other.key) {
            std::cmp::Ordering::Equal
        } else {
            self.key.cmp(&other.key)
        };
        self.level
            .cmp(&other.level)
            .then(key)
            .then_with(|| self.display.cmp(&other.display))
    }
}

// As derived: level, key and name in turn.
impl std::hash::Hash for PlaceName {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.level.hash(state);
        self.key.hash(state);
        self.display.hash(state);
    }
}

/// Small enums whose sets are kept as bits.
pub trait Flag: Copy + Ord + 'static {
    /// Every value, in sort order; a value's bit is its position here.
    const ALL: &'static [Self];
}

impl Flag for EventType {
    const ALL: &'static [Self] = &EventType::ALL;
}

impl Flag for Target {
    const ALL: &'static [Self] = &Target::ALL;
}

/// A set of a small enum, stored as bits and written as a sorted list.
pub struct FlagSet<T> {
    bits: u16,
    _of: PhantomData<T>,
}

impl<T> Clone for FlagSet<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for FlagSet<T> {}
impl<T> PartialEq for FlagSet<T> {
    fn eq(&self, other: &Self) -> bool {
        self.bits == other.bits
    }
}
impl<T> Eq for FlagSet<T> {}
impl<T> std::hash::Hash for FlagSet<T> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.bits.hash(state);
    }
}
impl<T> Default for FlagSet<T> {
    fn default() -> Self {
        Self {
            bits: 0,
            _of: PhantomData,
        }
    }
}

impl<T: Flag + std::fmt::Debug> std::fmt::Debug for FlagSet<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl<T: Flag> FlagSet<T> {
    /// Adds a value; says whether it was not there before.
    pub fn insert(&mut self, v: T) -> bool {
        let before = self.bits;
        if let Some(i) = T::ALL.iter().position(|x| *x == v) {
            self.bits |= 1 << i;
        }
        self.bits != before
    }

    /// Adds every value of another set.
    pub fn extend(&mut self, other: FlagSet<T>) {
        self.bits |= other.bits;
    }

    /// The values, in sort order.
    pub fn iter(self) -> impl Iterator<Item = T> + Clone {
        T::ALL
            .iter()
            .enumerate()
            .filter(move |(i, _)| self.bits & (1 << i) != 0)
            .map(|(_, v)| *v)
    }
}

impl<T: Flag + Serialize> Serialize for FlagSet<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl<'de, T: Flag + Deserialize<'de>> Deserialize<'de> for FlagSet<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut set = FlagSet::default();
        for v in Vec::<T>::deserialize(d)? {
            set.insert(v);
        }
        Ok(set)
    }
}

/// The linking features of one report, computed once per report.
#[derive(Debug, Clone)]
pub struct Features {
    /// Region key.
    pub region: ArcStr,
    /// Country.
    pub country: CountryCode,
    /// Named areas, at most one per level, in level order. Held inline: a report names at
    /// most three, and features are built for every report.
    names: [Option<PlaceName>; 3],
    /// Coordinates, if given.
    pub coordinates: Option<Coordinates>,
    /// Whether the coordinates are the spot itself (place precision `exact`), not a town's or
    /// district's centre.
    pub pinned: bool,
    /// Event type.
    pub event_type: EventType,
    /// Target.
    pub target: Target,
    /// Event time.
    pub occurred_at: Timestamp,
    /// Its precision.
    pub precision: TimePrecision,
}

impl Features {
    /// Extracts the linking features of a report.
    pub fn of(report: &Report, interner: &mut Interner) -> Self {
        let inc = &report.incident;
        let loc = &inc.location;
        // The admin1 name and the region come from one lookup.
        let (admin1, region) = match interner.admin1(loc) {
            Some((display, key, region)) => (Some((display, key)), region),
            None => (None, interner.region_key(loc)),
        };
        let named = |level, n: Option<(Name, Keys)>| {
            n.map(|(display, Keys { key, fold })| PlaceName {
                level,
                key,
                fold,
                display,
            })
            // A name made only of generic words ("district") names nothing.
            .filter(|n| !n.key.is_empty())
        };
        // Both shared copies: the profile keeps them, and compares them first.
        let names = [
            named(Level::Admin1, admin1),
            named(
                Level::Admin2,
                loc.admin2.as_ref().map(|n| interner.area_key(n)),
            ),
            named(
                Level::Place,
                loc.place.as_ref().map(|n| interner.place_key(n)),
            ),
        ];
        Self {
            region,
            country: loc.country,
            names,
            coordinates: loc.coordinates,
            pinned: loc.coordinates.is_some() && loc.precision == PlacePrecision::Exact,
            event_type: inc.event_type,
            target: inc.target,
            occurred_at: inc.occurred_at,
            precision: inc.time_precision,
        }
    }

    /// The names this report gives, in level order.
    pub fn names(&self) -> impl Iterator<Item = &PlaceName> {
        self.names.iter().flatten()
    }

    /// The name this report gives at a level.
    pub fn name(&self, level: Level) -> Option<&PlaceName> {
        self.names().find(|n| n.level == level)
    }
}

/// Which parts of a profile adding a report changed: each is a section of the view.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProfileChange {
    /// Names or coordinates (the location section).
    pub location: bool,
    /// Earliest, latest or finest time (the time section).
    pub time: bool,
    /// Event types.
    pub event_types: bool,
    /// Targets.
    pub targets: bool,
    /// Earliest, latest or coarsest time: what the linker's window of the incident is made of.
    pub window: bool,
}

/// The union of the linking features of an incident's reports.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Profile {
    /// Region key.
    pub region: ArcStr,
    /// Country.
    pub country: CountryCode,
    /// Named areas, sorted.
    pub names: Vec<PlaceName>,
    /// Coordinates, sorted.
    pub coordinates: Vec<Coordinates>,
    /// The coordinates reports gave as the spot itself ([`Features::pinned`]), sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pinned: Vec<Coordinates>,
    /// Event types.
    pub event_types: FlagSet<EventType>,
    /// Targets.
    pub targets: FlagSet<Target>,
    /// Earliest event time.
    pub earliest: Timestamp,
    /// Latest event time.
    pub latest: Timestamp,
    /// Finest time precision seen.
    pub finest: TimePrecision,
    /// Coarsest time precision seen: it sets the incident's linking window.
    pub coarsest: TimePrecision,
    /// The times of the reports that give the incident's time most precisely, when any knows
    /// the day or better: when it happened. A report that knows only the week or month says
    /// nothing about which day, nor one that knows the day about which hour, so a coarser
    /// time neither widens this range nor its window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sharp: Option<Sharp>,
}

/// The time range of an incident's reports at the finest precision any gave, when that is the
/// day or finer ([`TimePrecision::is_sharp`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Sharp {
    /// Earliest such time.
    pub earliest: Timestamp,
    /// Latest such time.
    pub latest: Timestamp,
    /// Their precision: it sets the window these times must fit in.
    #[serde(alias = "coarsest")]
    pub precision: TimePrecision,
}

impl Sharp {
    /// The range of one time, when its precision knows the day.
    fn of(t: Timestamp, precision: TimePrecision) -> Option<Self> {
        precision.is_sharp().then_some(Self {
            earliest: t,
            latest: t,
            precision,
        })
    }

    /// The range of both at the finer precision of the two: an exact time says when within a
    /// day, a day's date does not.
    fn union(a: Option<Self>, b: Option<Self>) -> Option<Self> {
        match (a, b) {
            (Some(a), Some(b)) if a.precision < b.precision => Some(a),
            (Some(a), Some(b)) if b.precision < a.precision => Some(b),
            (Some(a), Some(b)) => Some(Self {
                earliest: a.earliest.min(b.earliest),
                latest: a.latest.max(b.latest),
                precision: a.precision,
            }),
            (a, b) => a.or(b),
        }
    }
}

/// Inserts in order, growing the list by exactly one: profiles are kept per incident.
fn insert_sorted<T: Ord>(v: &mut Vec<T>, item: T) {
    if let Err(pos) = v.binary_search(&item) {
        v.reserve_exact(1);
        v.insert(pos, item);
    }
}

impl Profile {
    /// The profile of an incident opened by one report.
    pub fn new(f: &Features) -> Self {
        // Sized once: most incidents are opened with two names and never gain a third.
        let mut names = Vec::with_capacity(f.names().count());
        names.extend(f.names().cloned());
        names.sort_unstable();
        names.dedup();
        let mut event_types = FlagSet::default();
        event_types.insert(f.event_type);
        let mut targets = FlagSet::default();
        targets.insert(f.target);
        Self {
            region: f.region.clone(),
            country: f.country,
            names,
            coordinates: f.coordinates.into_iter().collect(),
            pinned: f.coordinates.filter(|_| f.pinned).into_iter().collect(),
            event_types,
            targets,
            earliest: f.occurred_at,
            latest: f.occurred_at,
            finest: f.precision,
            coarsest: f.precision,
            sharp: Sharp::of(f.occurred_at, f.precision),
        }
    }

    /// The incident's time as the view gives it: the range of the reports that know its day
    /// when any does (a monthly summary's date says nothing of which day), else of all.
    pub fn time(&self) -> (Timestamp, Timestamp, TimePrecision) {
        match self.sharp {
            Some(s) => (s.earliest, s.latest, self.finest),
            None => (self.earliest, self.latest, self.finest),
        }
    }

    /// Adds a report's features, and says which parts of the profile that changed.
    pub fn add(&mut self, f: &Features) -> ProfileChange {
        let mut change = ProfileChange::default();
        for n in f.names() {
            if self.names.binary_search(n).is_err() {
                // Features hold the interner's shared copies already.
                insert_sorted(&mut self.names, n.clone());
                change.location = true;
            }
        }
        if let Some(c) = f.coordinates {
            if self.coordinates.binary_search(&c).is_err() {
                insert_sorted(&mut self.coordinates, c);
                change.location = true;
            }
            if f.pinned {
                insert_sorted(&mut self.pinned, c);
            }
        }
        change.event_types = self.event_types.insert(f.event_type);
        change.targets = self.targets.insert(f.target);
        let (time, window) = (self.time(), (self.earliest, self.latest, self.coarsest));
        self.earliest = self.earliest.min(f.occurred_at);
        self.latest = self.latest.max(f.occurred_at);
        self.finest = self.finest.min(f.precision);
        self.coarsest = self.coarsest.max(f.precision);
        self.sharp = Sharp::union(self.sharp, Sharp::of(f.occurred_at, f.precision));
        change.time = time != self.time();
        change.window = window != (self.earliest, self.latest, self.coarsest);
        change
    }

    /// Adds another incident's profile (on merge).
    pub fn absorb(&mut self, other: &Profile) {
        for n in &other.names {
            insert_sorted(&mut self.names, n.clone());
        }
        for c in &other.coordinates {
            insert_sorted(&mut self.coordinates, *c);
        }
        for c in &other.pinned {
            insert_sorted(&mut self.pinned, *c);
        }
        self.event_types.extend(other.event_types);
        self.targets.extend(other.targets);
        self.earliest = self.earliest.min(other.earliest);
        self.latest = self.latest.max(other.latest);
        self.finest = self.finest.min(other.finest);
        self.coarsest = self.coarsest.max(other.coarsest);
        self.sharp = Sharp::union(self.sharp, other.sharp);
    }

    /// Computes the keys of every name and the region key again from the names as reports
    /// gave them, after decoding a stored state: a state written under other naming rules
    /// then links as one written now.
    pub fn rekey(&mut self) {
        for n in &mut self.names {
            *n = PlaceName::new(n.level, n.display.clone());
        }
        // A name made only of generic words names nothing (as in `Features::of`).
        self.names.retain(|n| !n.key.is_empty());
        self.names.sort();
        self.names.dedup();
        let admin1 = self
            .names_at(Level::Admin1)
            .next()
            .map(|n| n.display.as_str());
        self.region = ArcStr::from(region_key(self.country, admin1));
        // A state stored before the range of sharp times was kept: when every report gave one
        // precision, the day or finer, it is the whole range; otherwise it cannot be told.
        if self.sharp.is_none() && self.coarsest.is_sharp() && self.finest == self.coarsest {
            self.sharp = Some(Sharp {
                earliest: self.earliest,
                latest: self.latest,
                precision: self.coarsest,
            });
        }
    }

    /// The names at one level.
    pub fn names_at(&self, level: Level) -> impl Iterator<Item = &PlaceName> + Clone {
        self.names.iter().filter(move |n| n.level == level)
    }
}

/// The day range (inclusive) in which an incident seen from `earliest` to `latest`, at
/// `coarsest` precision, can be found by the linker. It only widens as reports come in: the
/// bounds only move outwards and the precision only coarsens.
pub fn day_range(earliest: Timestamp, latest: Timestamp, coarsest: TimePrecision) -> (i64, i64) {
    let w = coarsest.link_window_ms();
    let lo = earliest.millis().saturating_sub(w);
    let hi = latest.millis().saturating_add(w);
    (
        lo.div_euclid(crate::core::model::DAY_MS),
        hi.div_euclid(crate::core::model::DAY_MS),
    )
}
