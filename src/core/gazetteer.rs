//! Operator-supplied place names, a gazetteer: the standard name of a first-level area or of a
//! place, the other names reports use for it, and the area each place lies in. Each report is
//! written under the standard names before it is linked, so *Thawra* and *Sadr City*, or
//! *Halab* and *Aleppo*, are one place, and a report naming *Mosul* without its province joins
//! the province's region. Names are compared as linking compares them (normalised, then
//! folded: `docs/reconciliation.md`, "Place names"), so an entry covers the spelling variants
//! of each of its names.

use foldhash::HashMap;
use serde::Deserialize;
use serde_json::error::Category;

use crate::core::error::ValidationError;
use crate::core::intern::fold_hash;
use crate::core::model::{fold_name, normalise_name, CountryCode, Location, Name, Report};

/// One entry as the file gives it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    country: String,
    admin1: String,
    #[serde(default)]
    place: Option<String>,
    #[serde(default)]
    aliases: Vec<String>,
}

/// A place one of its names stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Known {
    /// The comparison key of its first-level area's standard name.
    area: u64,
    /// That area's standard name.
    admin1: Name,
    /// The place's standard name.
    place: Name,
}

/// The gazetteer. Empty by default: then reports are linked under the names they give.
/// Keys are the fold hashes linking compares names by ([`fold_hash`]), so an engine looks a
/// report's names up by the keys its interner already holds for them.
#[derive(Debug, Clone, Default)]
pub struct Gazetteer {
    /// (country, key of a name or alias of a first-level area) -> the area's standard name.
    areas: HashMap<(CountryCode, u64), Name>,
    /// (country, key of a name or alias of a place) -> the places it may stand for, one per
    /// area at most (a name may be used in several provinces).
    places: HashMap<(CountryCode, u64), Vec<Known>>,
}

/// Why a gazetteer could not be built.
#[derive(Debug, thiserror::Error)]
pub enum GazetteerError {
    /// The file is not JSON, or is cut off.
    #[error("gazetteer is not valid JSON: {0}")]
    Json(#[source] serde_json::Error),
    /// The file is JSON, but not a list of entries of the gazetteer's form (a field of the
    /// wrong type, an unknown or missing field).
    #[error("gazetteer: not a list of valid entries: {0}")]
    Shape(#[source] serde_json::Error),
    /// A country code, name or alias broke its rules (the field names the entry, from 0).
    #[error("gazetteer: {0}")]
    Invalid(#[from] ValidationError),
    /// A name that is nothing but generic words (*District*), which would name every place.
    #[error(
        "gazetteer: {field} ({name:?}) has nothing left to compare once generic words are dropped"
    )]
    Empty {
        /// Where, e.g. `[3].aliases[0]`.
        field: String,
        /// The name.
        name: String,
    },
    /// One name given for two places of one area, or two areas of one country: which one a
    /// report means cannot be told.
    #[error("gazetteer: {field} ({name:?}) already stands for {other:?} in {country}")]
    Conflict {
        /// Where, e.g. `[3].aliases[0]`.
        field: String,
        /// The name.
        name: String,
        /// What it already stands for.
        other: String,
        /// The country.
        country: CountryCode,
    },
}

impl GazetteerError {
    /// A JSON error, told apart: text that is not JSON, or JSON that is not a gazetteer.
    fn of_json(e: serde_json::Error) -> Self {
        match e.classify() {
            Category::Data => Self::Shape(e),
            Category::Syntax | Category::Eof | Category::Io => Self::Json(e),
        }
    }
}

/// The comparison key of a name: normalised, folded, hashed ([`fold_hash`]).
fn key(name: &str) -> u64 {
    fold_hash(&fold_name(&normalise_name(name)))
}

impl Gazetteer {
    /// Parses a JSON array of entries: `{"country": "IQ", "admin1": "Salah ad Din", "aliases":
    /// ["Saladin"]}` names a first-level area; with `"place": "Sadr City"` the entry names a
    /// place in that area instead, and the aliases are the place's.
    pub fn from_json(bytes: &[u8]) -> Result<Self, GazetteerError> {
        let raw: Vec<RawEntry> = serde_json::from_slice(bytes).map_err(GazetteerError::of_json)?;
        let mut g = Self::default();
        // Areas first, so that a place's area may be given under any of its names.
        for (i, e) in raw.iter().enumerate().filter(|(_, e)| e.place.is_none()) {
            let country = CountryCode::parse(&format!("[{i}].country"), &e.country)?;
            let admin1 = Name::parse(&format!("[{i}].admin1"), &e.admin1)?;
            for (field, name) in names(i, "admin1", &e.admin1, &e.aliases) {
                let k = checked_key(&field, name)?;
                match g.areas.get(&(country, k)) {
                    Some(other) if *other != admin1 => {
                        return Err(conflict(field, name, other, country));
                    }
                    _ => g.areas.insert((country, k), admin1.clone()),
                };
            }
        }
        for (i, e) in raw.iter().enumerate() {
            let Some(place) = &e.place else { continue };
            let country = CountryCode::parse(&format!("[{i}].country"), &e.country)?;
            let given = Name::parse(&format!("[{i}].admin1"), &e.admin1)?;
            let admin1 = g.standard_area(country, &given);
            let known = Known {
                area: key(admin1.as_str()),
                admin1,
                place: Name::parse(&format!("[{i}].place"), place)?,
            };
            for (field, name) in names(i, "place", place, &e.aliases) {
                let k = checked_key(&field, name)?;
                let list = g.places.entry((country, k)).or_default();
                match list.iter().find(|o| o.area == known.area) {
                    Some(o) if o.place != known.place => {
                        return Err(conflict(field, name, &o.place, country));
                    }
                    Some(_) => {}
                    None => list.push(known.clone()),
                }
            }
        }
        Ok(g)
    }

    /// Whether it holds no entry.
    pub fn is_empty(&self) -> bool {
        self.areas.is_empty() && self.places.is_empty()
    }

    /// The report written under the gazetteer's standard names, or `None` when it changes
    /// nothing: its first-level area by the area's standard name; its second-level area and
    /// its place each by the standard name of the one place it stands for (within the report's
    /// area when it gives one); and, when it gives no first-level area, the area of the place
    /// (or else of the second-level area) it names, when that name stands for places of one
    /// area only. A name the gazetteer does not know, or that stands for places of several
    /// areas, is left as it is.
    pub fn standardise(&self, report: &Report) -> Option<Report> {
        self.standardise_with(report, &mut |_, n| key(n.as_str()))
    }

    /// [`Gazetteer::standardise`], taking each name's key from `key_of` (given whether the
    /// name is a place, else an area, and the name): an engine's interner holds them.
    pub fn standardise_with(
        &self,
        report: &Report,
        key_of: &mut impl FnMut(bool, &Name) -> u64,
    ) -> Option<Report> {
        if self.is_empty() {
            return None;
        }
        let loc = &report.incident.location;
        let country = loc.country;
        let admin1 = loc.admin1.as_ref().map(|a| {
            self.areas
                .get(&(country, key_of(false, a)))
                .cloned()
                .unwrap_or_else(|| a.clone())
        });
        let area = admin1.as_ref().map(|a| key_of(false, a));
        let mut find = |place: bool, n: &Name| -> Option<&Known> {
            let list = self.places.get(&(country, key_of(place, n)))?;
            let mut within = list.iter().filter(|k| area.is_none_or(|a| a == k.area));
            let first = within.next()?;
            // Several areas hold a place of this name, and the report does not say which.
            within.next().is_none().then_some(first)
        };
        let admin2 = loc.admin2.as_ref().map(|n| (n, find(false, n)));
        let place = loc.place.as_ref().map(|n| (n, find(true, n)));
        let standard =
            |(n, k): (&Name, Option<&Known>)| k.map_or_else(|| n.clone(), |k| k.place.clone());
        let located = place.and_then(|(_, k)| k).or(admin2.and_then(|(_, k)| k));
        let out = Location {
            country,
            admin1: admin1.or_else(|| located.map(|k| k.admin1.clone())),
            admin2: admin2.map(standard),
            place: place.map(standard),
            coordinates: loc.coordinates,
            precision: loc.precision,
        };
        if out == *loc {
            return None;
        }
        let filled = loc.admin1.is_none() && out.admin1.is_some();
        let mut r = report.clone();
        r.incident.location = out;
        if filled {
            // Names that stand for places of several areas may be known within the one found.
            return Some(self.standardise_with(&r, key_of).unwrap_or(r));
        }
        Some(r)
    }

    /// The standard name of a first-level area, or the name as given when the gazetteer does
    /// not know it.
    fn standard_area(&self, country: CountryCode, given: &Name) -> Name {
        self.areas
            .get(&(country, key(given.as_str())))
            .cloned()
            .unwrap_or_else(|| given.clone())
    }
}

/// An entry's standard name and its aliases, each with its field path.
fn names<'a>(
    i: usize,
    what: &str,
    standard: &'a str,
    aliases: &'a [String],
) -> Vec<(String, &'a str)> {
    std::iter::once((format!("[{i}].{what}"), standard))
        .chain(
            aliases
                .iter()
                .enumerate()
                .map(|(j, a)| (format!("[{i}].aliases[{j}]"), a.as_str())),
        )
        .collect()
}

/// The key of a name of the file, which must be a valid name and name something.
fn checked_key(field: &str, name: &str) -> Result<u64, GazetteerError> {
    Name::parse(field, name)?;
    let normal = normalise_name(name);
    if normal.is_empty() {
        return Err(GazetteerError::Empty {
            field: field.to_string(),
            name: name.to_string(),
        });
    }
    Ok(fold_hash(&fold_name(&normal)))
}

fn conflict(field: String, name: &str, other: &Name, country: CountryCode) -> GazetteerError {
    GazetteerError::Conflict {
        field,
        name: name.to_string(),
        other: other.as_str().to_string(),
        country,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::json;

    const IRAQ: &str = r#"[
        {"country": "IQ", "admin1": "Salah ad Din", "aliases": ["Saladin", "Salahuddin"]},
        {"country": "IQ", "admin1": "Baghdad", "place": "Sadr City", "aliases": ["Thawra", "Madinat al-Sadr"]},
        {"country": "IQ", "admin1": "Nineveh", "place": "Mosul", "aliases": ["Mawsil"]},
        {"country": "IQ", "admin1": "Saladin", "place": "Tikrit"},
        {"country": "IQ", "admin1": "Anbar", "place": "Hit"},
        {"country": "IQ", "admin1": "Anbar", "place": "Ramadi"},
        {"country": "IQ", "admin1": "Diyala", "place": "Hit"}
    ]"#;

    fn gazetteer() -> Gazetteer {
        Gazetteer::from_json(IRAQ.as_bytes()).unwrap()
    }

    fn at(location: serde_json::Value) -> Report {
        let r = serde_json::json!({
            "report_id": "r", "publisher": {"id": "p"}, "published_at": "2017-08-14T00:00:00Z",
            "incident": {"occurred_at": "2017-08-13T00:00:00Z", "location": location},
            "claims": []
        });
        json::decode_report(r.to_string().as_bytes()).unwrap()
    }

    /// The location's admin1, admin2 and place after standardising; standardising again
    /// changes nothing.
    fn names(g: &Gazetteer, location: serde_json::Value) -> [Option<String>; 3] {
        let given = at(location);
        let out = g.standardise(&given).unwrap_or(given);
        assert_eq!(g.standardise(&out), None, "standard names stay");
        let l = out.incident.location;
        [l.admin1, l.admin2, l.place].map(|n| n.map(|n| n.as_str().to_string()))
    }

    fn some(names: [&str; 3]) -> [Option<String>; 3] {
        names.map(|n| (!n.is_empty()).then(|| n.to_string()))
    }

    #[test]
    fn aliases_and_their_spellings_are_written_under_the_standard_name() {
        let g = gazetteer();
        for given in [
            "Thawra",
            "al-Thawra",
            "Thowra",
            "Madinat al-Sadr",
            "Sadr City",
        ] {
            assert_eq!(
                names(
                    &g,
                    serde_json::json!({"country": "IQ", "admin1": "Baghdad", "place": given})
                ),
                some(["Baghdad", "", "Sadr City"]),
                "{given}"
            );
        }
        // A first-level area by its standard name, a place in it under the area's alias.
        assert_eq!(
            names(
                &g,
                serde_json::json!({"country": "IQ", "admin1": "Salahuddin", "admin2": "Tikrit"})
            ),
            some(["Salah ad Din", "Tikrit", ""])
        );
    }

    #[test]
    fn a_place_of_one_area_gives_a_report_its_area() {
        let g = gazetteer();
        assert_eq!(
            names(&g, serde_json::json!({"country": "IQ", "place": "Mawsil"})),
            some(["Nineveh", "", "Mosul"])
        );
        // The second-level area serves when the place is unknown.
        assert_eq!(
            names(
                &g,
                serde_json::json!({"country": "IQ", "admin2": "Mosul", "place": "Old City"})
            ),
            some(["Nineveh", "Mosul", "Old City"])
        );
        // Hit is a town of Anbar and one of Diyala: without a province, which is unknown.
        assert_eq!(
            names(&g, serde_json::json!({"country": "IQ", "place": "Hit"})),
            some(["", "", "Hit"])
        );
        assert_eq!(
            names(
                &g,
                serde_json::json!({"country": "IQ", "admin1": "Anbar", "place": "Heet"})
            ),
            some(["Anbar", "", "Hit"])
        );
        // The area found from one name tells which Hit another means.
        assert_eq!(
            names(
                &g,
                serde_json::json!({"country": "IQ", "admin2": "Ramadi", "place": "Heet"})
            ),
            some(["Anbar", "Ramadi", "Hit"])
        );
    }

    #[test]
    fn names_it_does_not_know_are_left_as_given() {
        let g = gazetteer();
        let given = at(serde_json::json!({"country": "IQ", "admin1": "Basra", "place": "Zubair"}));
        assert_eq!(g.standardise(&given), None);
        // A place of another area than the report's, or of another country.
        let given = at(serde_json::json!({"country": "IQ", "admin1": "Basra", "place": "Thawra"}));
        assert_eq!(g.standardise(&given), None);
        let given = at(serde_json::json!({"country": "SY", "place": "Mosul"}));
        assert_eq!(g.standardise(&given), None);
        assert_eq!(Gazetteer::default().standardise(&given), None);
    }

    #[test]
    fn a_name_standing_for_two_things_or_for_nothing_is_refused() {
        let err = |text: &str| {
            Gazetteer::from_json(text.as_bytes())
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            err(
                r#"[{"country": "IQ", "admin1": "Baghdad", "place": "Sadr City", "aliases": ["Thawra"]},
                    {"country": "IQ", "admin1": "Baghdad", "place": "Thawra"}]"#
            ),
            "gazetteer: [1].place (\"Thawra\") already stands for \"Sadr City\" in IQ"
        );
        assert_eq!(
            err(
                r#"[{"country": "IQ", "admin1": "Anbar", "aliases": ["Ramadi"]},
                    {"country": "IQ", "admin1": "Ramadi"}]"#
            ),
            "gazetteer: [1].admin1 (\"Ramadi\") already stands for \"Anbar\" in IQ"
        );
        assert_eq!(
            err(
                r#"[{"country": "IQ", "admin1": "Baghdad", "place": "Sadr City", "aliases": ["District"]}]"#
            ),
            "gazetteer: [0].aliases[0] (\"District\") has nothing left to compare once generic \
             words are dropped"
        );
        assert!(err(r#"[{"country": "XX", "admin1": "Baghdad"}]"#).contains("[0].country"));
        assert!(err(r#"[{"country": "IQ", "admin1": "Baghdad", "city": "x"}]"#).contains("city"));
        // Valid JSON of the wrong form is not called invalid JSON; text that is not JSON is.
        assert!(
            err(r#"[{"country": "IQ", "admin1": 7}]"#)
                .starts_with("gazetteer: not a list of valid entries: invalid type: integer `7`"),
            "{}",
            err(r#"[{"country": "IQ", "admin1": 7}]"#)
        );
        assert!(err(r#"{"country": "IQ"}"#).starts_with("gazetteer: not a list of valid entries"));
        assert!(err(r#"[{"country": "IQ",]"#).starts_with("gazetteer is not valid JSON: "));
        assert!(err(r#"[{"country": "IQ""#).starts_with("gazetteer is not valid JSON: "));
        assert!(
            err(r#"[{"country": "IQ", "admin1": "Baghdad", "place": " "}]"#).contains("[0].place")
        );
    }
}
