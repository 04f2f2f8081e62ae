//! How well a report matches an incident. The rules, with their reasons, are in
//! `docs/reconciliation.md` ("Linking").

use super::profile::{Features, FlagSet, Level, Profile};
use crate::core::model::{Coordinates, EventFamily, EventType, Target, TimePrecision, Timestamp};

/// A report joins the best incident scoring at least this much.
pub const LINK_THRESHOLD: i32 = 2;
/// A report matching two or more incidents at least this strongly shows they are one.
pub const MERGE_THRESHOLD: i32 = 4;
/// Coordinates further apart than this cannot be one incident.
pub const MAX_DISTANCE_KM: f64 = 30.0;
/// Jaro-Winkler similarity above which two normalised names are taken as spelling variants.
pub const NAME_SIMILARITY: f64 = 0.92;

/// Whether two normalised names name the same place: equal, equal without spaces, one's words
/// a subset of the other's (`karada` and `karada market`), or spelling variants.
pub fn names_match(a: &str, b: &str) -> bool {
    if a == b {
        return true;
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
        && strsim::generic_jaro_winkler(&NoSpaces(a), &NoSpaces(b)) >= NAME_SIMILARITY
}

/// [`names_match`] by the text alone, for names outside the normalised alphabet.
fn names_match_by_text(a: &str, b: &str) -> bool {
    let (na, nb) = (NoSpaces(a), NoSpaces(b));
    if na.into_iter().eq(&nb) {
        return true;
    }
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    words_within(short, long) || strsim::generic_jaro_winkler(&na, &nb) >= NAME_SIMILARITY
}

/// Whether every word of `short` is a word of `long`.
fn words_within(short: &str, long: &str) -> bool {
    short.split(' ').all(|t| long.split(' ').any(|l| l == t))
}

/// How often each letter and digit occurs in a normalised name, and how many there are.
#[derive(PartialEq, Eq)]
struct Census {
    counts: [u8; 36],
    len: u32,
}

impl Census {
    /// The census of a name of ASCII letters, digits and spaces with at least one and at most
    /// 255 letters or digits; `None` for any other name, which no shortcut is claimed for.
    fn of(s: &str) -> Option<Self> {
        let mut counts = [0u8; 36];
        let mut len = 0u32;
        for b in s.bytes() {
            let i = match b {
                b'a'..=b'z' => b - b'a',
                b'0'..=b'9' => b - b'0' + 26,
                b' ' => continue,
                _ => return None,
            };
            counts[usize::from(i)] = counts[usize::from(i)].saturating_add(1);
            len += 1;
        }
        (1..=255).contains(&len).then_some(Self { counts, len })
    }

    /// Whether every letter of this name occurs in `other`.
    fn letters_within(&self, other: &Census) -> bool {
        self.counts
            .iter()
            .zip(&other.counts)
            .all(|(mine, theirs)| *mine == 0 || *theirs > 0)
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
        let (na, nb) = (f64::from(self.len), f64::from(other.len));
        let jaro = (f64::from(shared) / na + f64::from(shared) / nb + 1.0) / 3.0;
        // A margin keeps rounding from ever rejecting a pair at the threshold.
        0.6 * jaro + 0.4 < NAME_SIMILARITY - 1e-9
    }
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

fn time_gap_ms(t: Timestamp, earliest: Timestamp, latest: Timestamp) -> i64 {
    if t < earliest {
        earliest.millis() - t.millis()
    } else if t > latest {
        t.millis() - latest.millis()
    } else {
        0
    }
}

/// The score of a name level: `None` when both sides name the level and nothing matches.
fn level_score<'a, 'b>(
    mine: impl Iterator<Item = &'a str>,
    theirs: impl Iterator<Item = &'b str> + Clone,
    weight: i32,
) -> Option<i32> {
    let mut named = false;
    for m in mine {
        for t in theirs.clone() {
            named = true;
            if names_match(m, t) {
                return Some(weight);
            }
        }
    }
    if named {
        None
    } else {
        Some(0)
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
    coarsest: TimePrecision,
    live: bool,
}

impl Window {
    /// The window of an incident's profile; `live`: whether the incident stands.
    pub fn of(p: &Profile, live: bool) -> Self {
        Self {
            earliest: p.earliest,
            latest: p.latest,
            coarsest: p.coarsest,
            live,
        }
    }

    /// Whether a report may be of this incident by time (and the incident stands); [`score`]
    /// applies the same rule.
    pub fn admits(&self, f: &Features) -> bool {
        self.live && within_window(f, self.earliest, self.latest, self.coarsest)
    }
}

/// Whether a report's event time is close enough to an incident's: the wider of the two
/// precisions' windows.
fn within_window(
    f: &Features,
    earliest: Timestamp,
    latest: Timestamp,
    coarsest: TimePrecision,
) -> bool {
    let allowed = f.precision.link_window_ms().max(coarsest.link_window_ms());
    time_gap_ms(f.occurred_at, earliest, latest) <= allowed
}

/// Scores a report against an incident: `None` when they cannot be one incident (another
/// region, outside the time window, different named places, coordinates too far apart).
pub fn score(p: &Profile, f: &Features) -> Option<i32> {
    // Region keys are interned: the same key is mostly the same copy.
    if !std::sync::Arc::ptr_eq(&p.region, &f.region) && *p.region != *f.region {
        return None;
    }
    if !within_window(f, p.earliest, p.latest, p.coarsest) {
        return None;
    }
    let mut s = 0;
    let day = f.occurred_at.day();
    if (p.earliest.day()..=p.latest.day()).contains(&day) {
        s += 1;
    }
    for (level, weight) in [(Level::Admin2, 1), (Level::Place, 3)] {
        if let Some(n) = f.name(level) {
            let theirs = p.names_at(level).map(|m| &*m.key);
            s += level_score(std::iter::once(&*n.key), theirs, weight)?;
        }
    }
    if let Some(c) = f.coordinates {
        s += distance_score(&[c], &p.coordinates)?;
    }
    s += event_score(p.event_types, f.event_type);
    s += target_score(p.targets, f.target);
    Some(s)
}

/// Whether two incidents could be one: same region, overlapping windows, no conflicting names
/// or distant coordinates. Checked before a merge.
pub fn compatible(a: &Profile, b: &Profile) -> bool {
    if a.region != b.region {
        return false;
    }
    let allowed = a.coarsest.link_window_ms().max(b.coarsest.link_window_ms());
    let gap = if a.latest < b.earliest {
        b.earliest.millis() - a.latest.millis()
    } else if b.latest < a.earliest {
        a.earliest.millis() - b.latest.millis()
    } else {
        0
    };
    if gap > allowed {
        return false;
    }
    for level in [Level::Admin2, Level::Place] {
        let theirs = b.names_at(level).map(|n| &*n.key);
        if level_score(a.names_at(level).map(|n| &*n.key), theirs, 1).is_none() {
            return false;
        }
    }
    distance_score(&a.coordinates, &b.coordinates).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::model::normalise_name;

    fn m(a: &str, b: &str) -> bool {
        names_match(&normalise_name(a), &normalise_name(b))
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
        a == b || names_match_by_text(a, b)
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

    #[test]
    fn a_repeated_word_is_within_a_name_that_has_it_once() {
        assert!(names_match("a a", "a bb"));
        assert!(names_match("karada karada", "karada market"));
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
}
