//! How well a report matches an incident. The rules, with their reasons, are in
//! `docs/reconciliation.md` ("Linking").

use super::profile::{Features, FlagSet, Level, PlaceName, Profile, Sharp};
use crate::core::model::{Coordinates, EventFamily, EventType, Target, TimePrecision, Timestamp};

/// A report joins the best incident scoring at least this much.
pub const LINK_THRESHOLD: i32 = 2;
/// A report matching two or more incidents at least this strongly shows they are one.
pub const MERGE_THRESHOLD: i32 = 4;
/// Coordinates further apart than this cannot be one incident.
pub const MAX_DISTANCE_KM: f64 = 30.0;
/// Farthest apart two spots given as exact coordinates can be and still be one attack's: well
/// above the 2 km of one spot, for sources that pin a town's centre as exact.
pub const MAX_PINNED_KM: f64 = 5.0;
/// Jaro-Winkler similarity above which two normalised names are taken as spelling variants.
pub const NAME_SIMILARITY: f64 = 0.92;

/// Whether two normalised names name the same place: equal, equal without spaces, one's words
/// a subset of the other's (`karada` and `karada market`), or spelling variants; never when
/// both carry markers that differ ([`markers_differ`]).
pub fn names_match(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    if markers_differ(a, b) {
        return false;
    }
    // Every check below runs for each candidate incident of each report: none allocates. Most
    // pairs are unrelated names, which the letters they hold rule out for every check at once:
    // equal without spaces needs the same letters as often, a subset of words needs the
    // shorter name's letters all in the longer one, and a spelling variant needs enough
    // letters in common (see `Census::too_different`).
    let (Some(ca), Some(cb)) = (Census::of(a), Census::of(b)) else {
        return names_match_by_text(a, b);
    };
    if ca.counts == cb.counts && NoSpaces(a).into_iter().eq(&NoSpaces(b)) {
        return true;
    }
    let (short, long, cs, cl) = if a.len() <= b.len() {
        (a, b, &ca, &cb)
    } else {
        (b, a, &cb, &ca)
    };
    if cs.letters_within(cl) && words_within(short, long) {
        return true;
    }
    !ca.too_different(&cb)
        && consonants(a).eq(consonants(b))
        && strsim::generic_jaro_winkler(&NoSpaces(a), &NoSpaces(b)) >= NAME_SIMILARITY
}

/// The consonants of a normalised name that tell places apart, in order, each run once: the
/// vowels, `y`, `w` and `h` (which transliterations add, drop and swap for vowels: *Sadr* /
/// *Sader*, *Nahrawan* / *Nahrwan*, *Dhuluiya* / *Duluiya*) left out, `q` read as `k`. Spelling
/// variants by similarity must agree on them: names alike but for a consonant are mostly two
/// places (*Amil* and *Amin*, *Sadriya* and *Saydiya*, neighbourhoods of Baghdad).
fn consonants(name: &str) -> impl Iterator<Item = u8> + '_ {
    let mut last = 0;
    name.bytes().filter_map(move |b| {
        let c = match b {
            b'a' | b'e' | b'i' | b'o' | b'u' | b'y' | b'w' | b'h' | b' ' => return None,
            b'q' => b'k',
            c => c,
        };
        (c != last).then(|| {
            last = c;
            c
        })
    })
}

/// Whether two names name the same place: their keys match ([`names_match`]), or they fold
/// alike ([`fold_name`](crate::core::model::fold_name): *Tal Afar* and *Tel Afar*) and carry
/// no markers that differ.
pub fn same_place(a: &PlaceName, b: &PlaceName) -> bool {
    if a.fold == b.fold {
        return a.key == b.key || !markers_differ(&a.key, &b.key);
    }
    names_match(&a.key, &b.key)
}

/// Whether a word of a normalised name tells apart places sharing a name: a number, a single
/// letter (*Camp 1*, *Zone B*), or a compass point, inner or outer, or their Arabic forms
/// (*East Mosul*, *Karrada Dakhil*). A `match`, not a list search: it runs for every word of
/// a report's place name against every candidate.
fn is_marker(word: &str) -> bool {
    word.len() == 1
        || word.bytes().all(|b| b.is_ascii_digit())
        || matches!(
            word,
            // Compass adjectives (*eastern*) are normalised to their points.
            "north"
                | "south"
                | "east"
                | "west"
                | "northeast"
                | "northwest"
                | "southeast"
                | "southwest"
                | "central"
                | "upper"
                | "lower"
                | "inner"
                | "outer"
                | "shamali"
                | "janubi"
                | "sharqi"
                | "gharbi"
                | "wusta"
                | "dakhil"
                | "kharij"
        )
}

/// Whether two names both carry markers and not the same ones: *East Mosul* and *West Mosul*,
/// *Camp 1* and *Camp 2*, *Street 52* and *Street 25* are different places however alike they
/// are spelled. A name without markers may still match one with them (*Mosul*, *East Mosul*):
/// it names less, not something else.
fn markers_differ(a: &str, b: &str) -> bool {
    let within = |x: &str, y: &str| {
        x.split(' ')
            .filter(|w| is_marker(w))
            .all(|w| y.split(' ').any(|v| v == w))
    };
    has_markers(a) && has_markers(b) && !(within(a, b) && within(b, a))
}

/// Whether a normalised name carries a marker ([`is_marker`]).
fn has_markers(name: &str) -> bool {
    // Most keys are one word: no split to set up.
    if !name.as_bytes().contains(&b' ') {
        return is_marker(name);
    }
    name.split(' ').any(is_marker)
}

/// [`names_match`] by the text alone, for names outside the normalised alphabet.
fn names_match_by_text(a: &str, b: &str) -> bool {
    let (na, nb) = (NoSpaces(a), NoSpaces(b));
    if na.into_iter().eq(&nb) {
        return true;
    }
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    words_within(short, long)
        || (consonants(a).eq(consonants(b))
            && strsim::generic_jaro_winkler(&na, &nb) >= NAME_SIMILARITY)
}

/// Whether every word of `short` is a word of `long`, and the words `long` adds do not name a
/// site of its own ([`is_site`]): *Karrada market* is in *Karrada*, while *Mosul Dam* lies
/// 45 km from *Mosul*. A site word before a word for a road names the road, which runs
/// through the town (*Baghdad airport road*).
fn words_within(short: &str, long: &str) -> bool {
    let has = |name: &str, w: &str| name.split(' ').any(|x| x == w);
    if !short.split(' ').all(|t| has(long, t)) {
        return false;
    }
    let mut words = long.split(' ').peekable();
    while let Some(w) = words.next() {
        let road = words.peek().is_some_and(|next| is_road(next));
        if is_site(w) && !road && !has(short, w) {
            return false;
        }
    }
    true
}

/// Whether a word of a normalised name is a word for a road or street (as normalised: *street*
/// with its doubled letter collapsed).
fn is_road(word: &str) -> bool {
    matches!(
        word,
        "road" | "rd" | "stret" | "st" | "highway" | "avenue" | "bridge" | "junction"
    )
}

/// Whether a word of a normalised name names a site that is commonly named after a town and
/// lies outside it: dams, airports and airbases, refineries and oilfields, border crossings.
/// An attack at one is not an attack in the town, and the town's name alone cannot say where
/// it is. Words as normalised: doubled letters collapsed (*barrage*, *crossing*); *air* and
/// *oil* stand for the two-word forms (*Air Base*, *oil field*); `sd` and `mtr` are the Arabic
/// *سد* (dam) and *مطار* (airport), transliterated without vowels.
fn is_site(word: &str) -> bool {
    matches!(
        word,
        "dam"
            | "barage"
            | "airport"
            | "airbase"
            | "airfield"
            | "airstrip"
            | "air"
            | "refinery"
            | "oilfield"
            | "oil"
            | "crosing"
            | "sd"
            | "mtr"
    )
}

/// How often each letter and digit occurs in a normalised name, and how many there are.
#[derive(PartialEq, Eq)]
struct Census {
    counts: [u8; 36],
    len: u32,
    /// The letters and digits the name holds, one bit each (bit `i` for `counts[i]`).
    mask: u64,
}

impl Census {
    /// The census of a name of ASCII letters, digits and spaces with at least one and at most
    /// 255 letters or digits; `None` for any other name, which no shortcut is claimed for.
    fn of(s: &str) -> Option<Self> {
        let mut counts = [0u8; 36];
        let (mut len, mut mask) = (0u32, 0u64);
        for b in s.bytes() {
            let i = match b {
                b'a'..=b'z' => b - b'a',
                b'0'..=b'9' => b - b'0' + 26,
                b' ' => continue,
                _ => return None,
            };
            counts[usize::from(i)] = counts[usize::from(i)].saturating_add(1);
            mask |= 1 << i;
            len += 1;
        }
        (1..=255)
            .contains(&len)
            .then_some(Self { counts, len, mask })
    }

    /// Whether every letter of this name occurs in `other`.
    fn letters_within(&self, other: &Census) -> bool {
        self.mask & !other.mask == 0
    }

    /// Whether the two names are surely below [`NAME_SIMILARITY`], from the characters they
    /// share, without computing the similarity: the similarity costs ~1,000 instructions a
    /// pair. Exact, never a guess: Jaro counts at most `shared` matches, so
    /// `jaro <= (shared/n1 + shared/n2 + 1) / 3`, and Winkler's prefix bonus (at most four
    /// characters, 0.1 each) gives `jaro_winkler <= 0.6 * jaro + 0.4`.
    fn too_different(&self, other: &Census) -> bool {
        let shared: u32 = self
            .counts
            .iter()
            .zip(&other.counts)
            .map(|(x, y)| u32::from(*x.min(y)))
            .sum();
        too_different_given(shared, self.len, other.len)
    }
}

/// Whether two names of `na` and `nb` letters with at most `shared` letters in common are
/// surely below [`NAME_SIMILARITY`] (see [`Census::too_different`]).
fn too_different_given(shared: u32, na: u32, nb: u32) -> bool {
    let (s, na, nb) = (f64::from(shared), f64::from(na), f64::from(nb));
    let jaro = (s / na + s / nb + 1.0) / 3.0;
    // A margin keeps rounding from ever rejecting a pair at the threshold.
    0.6 * jaro + 0.4 < NAME_SIMILARITY - 1e-9
}

/// [`Census::too_different`] of two names; `false` when either has no census.
#[cfg(test)]
fn too_different(a: &str, b: &str) -> bool {
    match (Census::of(a), Census::of(b)) {
        (Some(ca), Some(cb)) => ca.too_different(&cb),
        _ => false,
    }
}

/// A name's characters with the spaces left out, iterated as often as needed.
struct NoSpaces<'a>(&'a str);

impl<'a> IntoIterator for &NoSpaces<'a> {
    type Item = char;
    type IntoIter = std::iter::Filter<std::str::Chars<'a>, fn(&char) -> bool>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.chars().filter(|c| *c != ' ')
    }
}

/// The score of a name level: `None` when both sides name the level and nothing matches, or
/// when two names carry different markers ([`markers_differ`]), whatever else matches. An
/// incident that took in a report naming *Karrada* beside one naming *Karrada Kharij* still
/// names Kharij: a report naming *Karrada Dakhil* is another place, whichever came first.
fn level_score<'a, 'b>(
    mine: impl Iterator<Item = &'a PlaceName>,
    theirs: impl Iterator<Item = &'b PlaceName> + Clone,
    weight: i32,
) -> Option<i32> {
    let (mut named, mut matched) = (false, false);
    for m in mine {
        // Only a name with markers can conflict; one without is done at its first match.
        let marked = has_markers(&m.key);
        for t in theirs.clone() {
            named = true;
            if marked && markers_differ(&m.key, &t.key) {
                return None;
            }
            if !matched && same_place(m, t) {
                if !marked {
                    return Some(weight);
                }
                matched = true;
            }
        }
    }
    match (named, matched) {
        (false, _) => Some(0),
        (true, true) => Some(weight),
        (true, false) => None,
    }
}

fn event_score(known: FlagSet<EventType>, e: EventType) -> i32 {
    known
        .iter()
        .map(|k| {
            // Unknown or other says nothing, even when both sides say it.
            if k.family() == EventFamily::Open || e.family() == EventFamily::Open {
                0
            } else if k == e {
                2
            } else if k.family() == e.family() {
                1
            } else {
                -2
            }
        })
        .max()
        .unwrap_or(0)
}

fn target_score(known: FlagSet<Target>, t: Target) -> i32 {
    known
        .iter()
        .map(|k| {
            if k == Target::Unknown || t == Target::Unknown {
                0
            } else if k == t {
                1
            } else {
                -1
            }
        })
        .max()
        .unwrap_or(0)
}

/// Whether both accounts pin spots (exact coordinates) and no pair of them lies within
/// [`MAX_PINNED_KM`]: two spots kilometres apart in one city are two attacks, however alike
/// the rest of the reports are. Centres of towns and districts (coarser precisions) are only
/// held to the 30 km of [`MAX_DISTANCE_KM`].
fn pinned_apart(a: &[Coordinates], b: &[Coordinates]) -> bool {
    !a.is_empty()
        && !b.is_empty()
        && a.iter()
            .all(|x| b.iter().all(|y| x.distance_km(*y) > MAX_PINNED_KM))
}

fn distance_score(a: &[Coordinates], b: &[Coordinates]) -> Option<i32> {
    let mut best: Option<f64> = None;
    for x in a {
        for y in b {
            let d = x.distance_km(*y);
            best = Some(best.map_or(d, |b| b.min(d)));
        }
    }
    match best {
        None => Some(0),
        Some(d) if d > MAX_DISTANCE_KM => None,
        Some(d) if d <= 2.0 => Some(3),
        Some(d) if d <= 10.0 => Some(1),
        Some(_) => Some(0),
    }
}

/// When an incident happened, as far as linking is concerned, and whether it still stands: what
/// rules most candidates out. The engine keeps one per incident in a list of its own, small and
/// dense, so ruling a candidate out does not read the incident itself.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    earliest: Timestamp,
    latest: Timestamp,
    place: PlaceSketch,
    coarsest: TimePrecision,
    live: bool,
}

impl Window {
    /// The window of an incident's profile; `live`: whether the incident stands.
    pub fn of(p: &Profile, live: bool) -> Self {
        Self::with_place(p, live, PlaceSketch::of(p))
    }

    /// The window of the same incident after a report that did not change its names: the
    /// place sketch is kept, as computing it reads the names.
    pub fn renewed(self, p: &Profile, live: bool) -> Self {
        Self::with_place(p, live, self.place)
    }

    fn with_place(p: &Profile, live: bool, place: PlaceSketch) -> Self {
        Self {
            earliest: p.earliest,
            latest: p.latest,
            place,
            coarsest: p.coarsest,
            live,
        }
    }

    /// Whether the incident stood when the window was taken.
    pub fn stands(&self) -> bool {
        self.live
    }

    /// The day range (inclusive) the incident could be found in when the window was taken.
    pub fn day_range(&self) -> (i64, i64) {
        super::profile::day_range(self.earliest, self.latest, self.coarsest)
    }

    /// Whether a report may be of this incident by time (and the incident stands), and its
    /// place name (`place`, see [`PlaceProbe`]) does not surely differ from the incident's:
    /// [`score`] applies the same rules, so a report this refuses would score `None`.
    pub fn admits(&self, f: &Features, place: Option<&PlaceProbe>) -> bool {
        self.live
            && within_window(f, self.earliest, self.latest, self.coarsest)
            && !place.is_some_and(|p| p.rules_out(self.place))
    }
}

/// An incident's place name reduced to a word: set when the incident names exactly one place
/// and the name has a [`Census`], else 0. Bits 0..36: the letters and digits it holds; bits
/// 40..48: how many; bits 48..63: a hash of its folded key; bit 63: set. Most candidates a
/// report's time admits name another place, and this rules them out without reading the
/// incident's names.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PlaceSketch(u64);

impl PlaceSketch {
    const SET: u64 = 1 << 63;
    const LETTERS: u64 = (1 << 36) - 1;

    fn of(p: &Profile) -> Self {
        let mut names = p.names_at(Level::Place);
        match (names.next(), names.next()) {
            (Some(n), None) => Self::of_keys(&n.key, n.fold),
            _ => Self(0),
        }
    }

    /// The sketch of one place name's keys.
    fn of_keys(key: &str, fold: u64) -> Self {
        Census::of(key).map_or(Self(0), |c| {
            Self(Self::SET | fold_bits(fold) << 48 | u64::from(c.len) << 40 | c.mask)
        })
    }

    fn letters(self) -> u64 {
        self.0 & Self::LETTERS
    }

    fn len(self) -> u32 {
        ((self.0 >> 40) & 0xff) as u32
    }

    fn fold(self) -> u64 {
        (self.0 >> 48) & 0x7fff
    }
}

/// 15 bits of a folded key's hash: names that fold alike have the same bits.
fn fold_bits(fold: u64) -> u64 {
    fold & 0x7fff
}

/// A report's place name, counted once per report to test it against every candidate's
/// [`PlaceSketch`].
pub struct PlaceProbe {
    census: Census,
    letters: u64,
    fold: u64,
}

impl PlaceProbe {
    /// The probe of a report's place name, `None` without one or without a [`Census`].
    pub fn of(f: &Features) -> Option<Self> {
        let n = f.name(Level::Place)?;
        Self::of_keys(&n.key, n.fold)
    }

    /// The probe of one place name's keys.
    fn of_keys(key: &str, fold: u64) -> Option<Self> {
        let census = Census::of(key)?;
        let letters = census.mask;
        let fold = fold_bits(fold);
        Some(Self {
            census,
            letters,
            fold,
        })
    }

    /// Whether [`same_place`] is surely false for this name and the incident's one place
    /// name. Never wrong, only unsure: names that fold alike have the same fold bits, which
    /// this never rules out; names that are equal, equal without spaces or one's words within
    /// the other's hold one's letters within the other's, which this never rules out either;
    /// for the rest, the letters in common are at most the report's letters that the
    /// incident's name holds at all, and at most either length, and
    /// [`Census::too_different`]'s bound is taken with that.
    fn rules_out(&self, sketch: PlaceSketch) -> bool {
        if sketch.0 & PlaceSketch::SET == 0 || sketch.fold() == self.fold {
            return false;
        }
        let theirs = sketch.letters();
        if self.letters & !theirs == 0 || theirs & !self.letters == 0 {
            return false;
        }
        let within: u32 = self
            .census
            .counts
            .iter()
            .enumerate()
            .filter(|(i, _)| theirs & 1 << i != 0)
            .map(|(_, n)| u32::from(*n))
            .sum();
        let shared = within.min(sketch.len()).min(self.census.len);
        too_different_given(shared, self.census.len, sketch.len())
    }
}

/// Whether a report's event time is close enough to an incident's: within the incident's time
/// range, or widening it to span at most the wider of the two precisions' windows. Measured
/// against the range it would make, not the gap to it: otherwise each report that joins moves
/// the window along, and a run of daily attacks on one place chains into one incident.
fn within_window(
    f: &Features,
    earliest: Timestamp,
    latest: Timestamp,
    coarsest: TimePrecision,
) -> bool {
    spans_within(
        f.occurred_at,
        f.occurred_at,
        f.precision,
        earliest,
        latest,
        coarsest,
    )
}

/// Whether the range `lo..=hi` at `precision` joined with `earliest..=latest` at `coarsest`
/// spans at most the wider of the two precisions' windows.
fn spans_within(
    lo: Timestamp,
    hi: Timestamp,
    precision: TimePrecision,
    earliest: Timestamp,
    latest: Timestamp,
    coarsest: TimePrecision,
) -> bool {
    let allowed = allowed_span(precision, coarsest);
    // A range stored before this rule may span more than a window: a report inside it
    // widens nothing and still links.
    (earliest <= lo && hi <= latest)
        || latest
            .max(hi)
            .millis()
            .saturating_sub(earliest.min(lo).millis())
            <= allowed
}

/// The longest span two times at these precisions may make together: the wider precision's
/// window. A month's window runs 31 days from the month's first day, where its time is held,
/// so a local date of the next month's first day and a half (which [`fits_time`] lets a
/// month hold) would fall outside it after a 31-day month only: a month's span has that slack
/// too, and the calendar months bound the rest.
fn allowed_span(a: TimePrecision, b: TimePrecision) -> i64 {
    let window = a.link_window_ms().max(b.link_window_ms());
    if a == TimePrecision::Month || b == TimePrecision::Month {
        window + TimePrecision::Day.link_window_ms()
    } else {
        window
    }
}

/// Whether a report's time fits an incident's beyond [`within_window`], which spans all its
/// reports' times. A report that knows the day must fit the times the incident's most precise
/// reports give ([`Profile::sharp`]): a monthly summary in an incident does not widen them to
/// a month, nor a day's date two attacks' exact times to a day, or the next attack at the
/// place would join it and its toll replace the first's. A month-precision time names a
/// calendar month, so it and the times set against it must share that month.
fn fits_time(f: &Features, p: &Profile) -> bool {
    let (t, precision) = (f.occurred_at, f.precision);
    let month = TimePrecision::Month;
    match (precision.is_sharp(), p.sharp) {
        (true, Some(s)) => spans_within(t, t, precision, s.earliest, s.latest, s.precision),
        (true, None) => p.coarsest != month || in_months(t, t, p.earliest, p.latest, true),
        (false, Some(s)) => precision != month || in_months(s.earliest, s.latest, t, t, true),
        // Week and month times only: a month and the dates set against it must share the
        // month exactly, without a local date's slack (two monitors' months are two).
        (false, None) if precision == month => in_months(p.earliest, p.latest, t, t, false),
        (false, None) => p.coarsest != month || in_months(t, t, p.earliest, p.latest, false),
    }
}

/// Whether `lo..=hi` lies in the calendar months from `first`'s to `last`'s; with `slack`, give
/// or take the day a local date may differ by.
fn in_months(lo: Timestamp, hi: Timestamp, first: Timestamp, last: Timestamp, slack: bool) -> bool {
    let slack = if slack {
        TimePrecision::Day.link_window_ms()
    } else {
        0
    };
    let (start, _) = first.month_bounds();
    let (_, end) = last.month_bounds();
    lo.millis() >= start.saturating_sub(slack) && hi.millis() < end.saturating_add(slack)
}

/// Whether the times of two incidents fit together as one's fit a report's ([`fits_time`]).
fn times_fit(a: &Profile, b: &Profile) -> bool {
    let month = TimePrecision::Month;
    let month_holds = |p: &Profile, s: Sharp| {
        p.coarsest != month || in_months(s.earliest, s.latest, p.earliest, p.latest, true)
    };
    let months_hold = |p: &Profile, q: &Profile| {
        p.coarsest != month || in_months(q.earliest, q.latest, p.earliest, p.latest, false)
    };
    match (a.sharp, b.sharp) {
        (Some(x), Some(y)) => spans_within(
            x.earliest,
            x.latest,
            x.precision,
            y.earliest,
            y.latest,
            y.precision,
        ),
        (Some(x), None) => month_holds(b, x),
        (None, Some(y)) => month_holds(a, y),
        (None, None) => months_hold(a, b) && months_hold(b, a),
    }
}

/// Scores a report against an incident: `None` when they cannot be one incident (another
/// region, outside the time window, different named places, coordinates too far apart).
pub fn score(p: &Profile, f: &Features) -> Option<i32> {
    // Region keys are interned: the same key is mostly the same copy.
    if !arcstr::ArcStr::ptr_eq(&p.region, &f.region) && *p.region != *f.region {
        return None;
    }
    if !within_window(f, p.earliest, p.latest, p.coarsest) || !fits_time(f, p) {
        return None;
    }
    let mut s = 0;
    let day = f.occurred_at.day();
    let (earliest, latest, _) = p.time();
    if (earliest.day()..=latest.day()).contains(&day) {
        s += 1;
    }
    let level = |level, weight| match f.name(level) {
        Some(n) => level_score(std::iter::once(n), p.names_at(level), weight),
        None => Some(0),
    };
    // A second-level area that differs rules a link out, unless the place matches at
    // coordinates within 2 km ([`same_spot`]); one that matches adds only when no place
    // matched, as a place named alike already says where. Counted twice, the district
    // outweighed a conflicting kind of event and target at one place on one day.
    let place = level(Level::Place, 3)?;
    let near = match f.coordinates {
        Some(c) => {
            if f.pinned && pinned_apart(&[c], &p.pinned) {
                return None;
            }
            distance_score(&[c], &p.coordinates)?
        }
        None => 0,
    };
    let admin2 = match level(Level::Admin2, 1) {
        Some(points) => points,
        None if same_spot(place, near) => 0,
        None => return None,
    };
    s += if place > 0 { place } else { admin2 };
    s += near;
    s += event_score(p.event_types, f.event_type);
    s += target_score(p.targets, f.target);
    Some(s)
}

/// Whether two incidents could be one: same region, overlapping windows, no conflicting names
/// or distant coordinates, no conflicting kinds of event and targets. Checked before a merge.
pub fn compatible(a: &Profile, b: &Profile) -> bool {
    if a.region != b.region {
        return false;
    }
    // As for a report: the merged incident may span at most the wider window.
    let allowed = allowed_span(a.coarsest, b.coarsest);
    let span = a
        .latest
        .max(b.latest)
        .millis()
        .saturating_sub(a.earliest.min(b.earliest).millis());
    if span > allowed || !times_fit(a, b) {
        return false;
    }
    let Some(place) = level_score(a.names_at(Level::Place), b.names_at(Level::Place), 1) else {
        return false;
    };
    let Some(near) = distance_score(&a.coordinates, &b.coordinates) else {
        return false;
    };
    if pinned_apart(&a.pinned, &b.pinned) {
        return false;
    }
    let admin2 = level_score(a.names_at(Level::Admin2), b.names_at(Level::Admin2), 1);
    (admin2.is_some() || same_spot(place, near)) && !kinds_conflict(a, b)
}

/// Whether a place named alike (`place` points) and coordinates within 2 km (`near` points)
/// say two accounts are of one spot, whatever second-level areas they give: sources differ
/// on whether the city or its district is the second level (*Karrada* in *Baghdad* or in
/// *Rusafa*). Without both, a second-level area that differs rules a link out.
fn same_spot(place: i32, near: i32) -> bool {
    place > 0 && near == 3
}

/// Whether two incidents were reported as different kinds of event on different targets: no
/// pair of their known event types is of one family, and they share no known target. A report
/// that names neither scores alike against both, and is no evidence that they are one; a merge
/// cannot be undone, and would add the tolls of two attacks together.
fn kinds_conflict(a: &Profile, b: &Profile) -> bool {
    let types = |p: &Profile| {
        p.event_types
            .iter()
            .filter(|e| e.family() != EventFamily::Open)
    };
    let targets = |p: &Profile| p.targets.iter().filter(|t| *t != Target::Unknown);
    none_alike(types(a), types(b), |x, y| x.family() == y.family())
        && none_alike(targets(a), targets(b), |x, y| x == y)
}

/// Whether both lists hold something and no item of one is `alike` any item of the other.
fn none_alike<T: Copy, I: Iterator<Item = T> + Clone>(
    a: I,
    b: I,
    alike: impl Fn(T, T) -> bool,
) -> bool {
    a.clone().next().is_some()
        && b.clone().next().is_some()
        && a.clone().all(|x| b.clone().all(|y| !alike(x, y)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::intern::fold_hash;
    use crate::core::model::{fold_name, Name};

    fn place(s: &str) -> PlaceName {
        PlaceName::new(Level::Place, Name::parse("place", s).unwrap())
    }

    /// Whether two names as reports give them name the same place.
    fn m(a: &str, b: &str) -> bool {
        same_place(&place(a), &place(b))
    }

    proptest::proptest! {
        /// The shortcut only ever rejects pairs the similarity rejects too.
        #[test]
        fn too_different_never_rejects_a_similar_pair(
            a in "[a-f0-2]{1,6}( [a-f]{1,6})?",
            b in "[a-f0-2]{1,6}( [a-f]{1,6})?",
        ) {
            if too_different(&a, &b) {
                let (ca, cb) = (NoSpaces(&a), NoSpaces(&b));
                proptest::prop_assert!(
                    strsim::generic_jaro_winkler(&ca, &cb) < NAME_SIMILARITY
                );
            }
        }
    }

    /// The matching as first written, every check on the text: the shortcuts must agree.
    fn names_match_reference(a: &str, b: &str) -> bool {
        a == b || (!markers_differ(a, b) && names_match_by_text(a, b))
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4096))]
        /// Few letters and short words, so that equal words, repeated words and shared
        /// letters come often.
        #[test]
        fn names_match_agrees_with_the_checks_on_the_text(
            a in "[a-c0]{1,4}( [a-c]{1,3}){0,2}",
            b in "[a-c0]{1,4}( [a-c]{1,3}){0,2}",
        ) {
            proptest::prop_assert_eq!(names_match(&a, &b), names_match_reference(&a, &b));
        }
    }

    /// Whether the window test of one name against an incident that names only `theirs`
    /// rules the pair out.
    fn sketch_rules_out(mine: &str, theirs: &str) -> bool {
        let fold = |k: &str| fold_hash(&fold_name(k));
        PlaceProbe::of_keys(mine, fold(mine))
            .is_some_and(|p| p.rules_out(PlaceSketch::of_keys(theirs, fold(theirs))))
    }

    /// [`same_place`] of two normalised keys.
    fn same_keys(a: &str, b: &str) -> bool {
        let name = |k: &str| PlaceName {
            level: Level::Place,
            key: k.into(),
            fold: fold_hash(&fold_name(k)),
            display: Name::parse("place", "x").unwrap(),
        };
        same_place(&name(a), &name(b))
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4096))]
        /// The window's place test never rules out names that match: few letters, so that
        /// shared letters, subsets and spelling variants come often.
        #[test]
        fn the_place_sketch_never_rules_out_a_match(
            a in "[a-e0qvhy]{1,7}( [a-dh]{1,4}){0,2}",
            b in "[a-e0qvhy]{1,7}( [a-dh]{1,4}){0,2}",
        ) {
            if sketch_rules_out(&a, &b) {
                proptest::prop_assert!(!same_keys(&a, &b));
            }
        }
    }

    #[test]
    fn the_place_sketch_rules_out_other_places_only() {
        assert!(sketch_rules_out("karbala", "mosul"));
        assert!(sketch_rules_out("palestine", "bwair"));
        assert!(!sketch_rules_out("karada", "karrada"));
        assert!(!sketch_rules_out("karada", "karada market"));
        assert!(!sketch_rules_out("karada market", "karada"));
        assert!(!sketch_rules_out("talafar", "tal afar"));
        // Without a census (outside the normalised alphabet) nothing is ruled out.
        assert!(!sketch_rules_out("karbala", "mosul é"));
    }

    #[test]
    fn a_repeated_word_is_within_a_name_that_has_it_once() {
        assert!(names_match("a a", "a bb"));
        assert!(names_match("karada karada", "karada market"));
    }

    #[test]
    fn a_site_named_after_a_town_is_not_the_town() {
        assert!(!m("Mosul", "Mosul Dam"));
        assert!(!m("Haditha Dam", "Haditha"));
        assert!(!m("Baghdad International Airport", "Baghdad"));
        assert!(!m("Kirkuk airbase", "Kirkuk"));
        assert!(!m("Baiji refinery", "Baiji"));
        // As normalised: doubled letters collapsed, two-word forms, Arabic.
        assert!(!m("Haditha Barrage", "Haditha"));
        assert!(!m("al-Qaim border crossing", "al-Qaim"));
        assert!(!m("Balad Air Base", "Balad"));
        assert!(!m("Kirkuk oil field", "Kirkuk"));
        assert!(!m("سد الموصل", "الموصل"));
        assert!(!m("مطار بغداد", "بغداد"));
        // The site named alike, with more or fewer other words, is the site.
        assert!(m("Mosul Dam", "Mosul Dam"));
        assert!(m("Baghdad airport", "Baghdad International Airport"));
        // A site word before a word for a road names the road, in the town.
        assert!(m("Baghdad airport road", "Baghdad"));
        assert!(m("Baghdad Airport Street", "Baghdad"));
        assert!(!m("Baghdad Airport", "Baghdad"));
        // Other words still name a part of the place.
        assert!(m("Karrada", "Karrada market"));
        assert!(m("Kufa", "Kufa checkpoint"));
    }

    #[test]
    fn too_different_rejects_unrelated_names_only() {
        assert!(too_different("karbala", "mosul"));
        assert!(too_different("palestine", "bwair"));
        assert!(!too_different("karada", "karrada"));
        assert!(!too_different("talafar", "tal afar"));
    }

    #[test]
    fn spelling_variants_match_and_different_places_do_not() {
        assert!(m("Karrada", "al-Karada"));
        assert!(m("Karrada", "Karrada market"));
        assert!(m("Tal Afar", "Talafar"));
        assert!(m("al-Bwair", "Al Bwair village"));
        assert!(!m("Karrada", "Palestine district"));
        assert!(!m("Karrada", "Sadr City"));
        assert!(!m("Palestine street", "Karrada"));
        assert!(!m("cement factory checkpoint", "Kufa checkpoint"));
    }

    #[test]
    fn places_told_apart_by_a_number_letter_or_direction_do_not_match() {
        for (a, b) in [
            ("East Mosul", "West Mosul"),
            ("Camp 1", "Camp 2"),
            ("Street 52", "Street 25"),
            ("Checkpoint 12", "Checkpoint 21"),
            ("Zone A", "Zone B"),
            ("Sector 1", "Sector 7"),
            ("Place 1", "Place 1234"),
            ("Район 1", "Район 2"),
            ("Karrada Sharqi", "Karrada Gharbi"),
        ] {
            assert!(!m(a, b), "{a} / {b}");
        }
        // The same markers, or markers on one side only, still match.
        assert!(m("East Mosul", "east  Mosul"));
        assert!(m("Camp 1", "Camp 1 market"));
        assert!(m("Mosul", "East Mosul"));
        // An abbreviation is not a spelling variant: it lacks consonants (a gazetteer alias
        // says so).
        assert!(!m("Street 52", "Str. 52"));
    }

    #[test]
    fn names_alike_but_for_a_consonant_are_two_places() {
        for (a, b) in [
            // Neighbourhoods of Baghdad.
            ("Sadriya", "Saydiya"),
            ("Hay al-Amil", "Hay al-Amin"),
            ("Amil", "Amin"),
        ] {
            assert!(!m(a, b), "{a} / {b}");
        }
        // Variants that add or drop a vowel, h, w or y still match.
        for (a, b) in [
            ("Sadr City", "Sader City"),
            ("Nahrawan", "Nahrwan"),
            ("Dhuluiya", "Duluiya"),
            ("Zayuna", "Zayouna"),
            ("Mansour", "Mansur"),
        ] {
            assert!(m(a, b), "{a} / {b}");
        }
    }

    #[test]
    fn transliterations_that_fold_alike_match() {
        for (a, b) in [
            ("Tal Afar", "Tel Afar"),
            ("Karbala", "Kerbala"),
            ("Kadhimiya", "Kazimiyah"),
            ("Nineveh", "Ninawa"),
            ("Erbil", "Irbil"),
            ("Idlib", "Edlib"),
            ("Kunduz", "Qunduz"),
            ("Helmand", "Hilmand"),
            ("Mosul", "Mousul"),
            ("Hit", "Heet"),
            ("Baiji", "Bayji"),
            ("Suleimaniya", "Sulaymaniyah"),
            ("Kirkuk", "Karkuk"),
            ("Ain al-Asad", "Ein al Asad"),
            ("Ta'izz", "Taizz"),
        ] {
            assert!(m(a, b), "{a} / {b}");
        }
    }

    #[test]
    fn folding_keeps_other_places_apart() {
        for (a, b) in [
            // Both fold to a name with the same letters but for one: never a variant.
            ("Kadhimiya", "Adhamiya"),
            ("Karrada", "Kadhimiya"),
            // One-letter words and the other markers are compared as given.
            ("Zone A", "Zone E"),
            ("East Mosul", "West Mosul"),
            ("Karrada Sharqi", "Karrada Gharbi"),
            ("Camp 1", "Camp 2"),
        ] {
            assert!(!m(a, b), "{a} / {b}");
        }
    }
}
