//! Operator-registered sources: priors that override what reports say about a source.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::error::Category;

use crate::core::error::ValidationError;
use crate::core::model::{Source, SourceId, SourceKind};
use crate::core::update::stable_hash;

/// One registered source.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RegisteredSource {
    /// The source id this entry applies to.
    pub id: SourceId,
    /// Overrides the kind reports give.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<SourceKind>,
    /// Overrides the affiliation reports give.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affiliated_with: Option<SourceId>,
    /// Credibility in percent (0..=100), overriding the kind's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credibility: Option<u8>,
}

/// The registry of operator priors. Empty by default: then kinds alone decide.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceRegistry {
    entries: BTreeMap<SourceId, RegisteredSource>,
    /// Each registered affiliation followed through the registry to its end: the independence
    /// group of every source affiliated, directly or through others, with a registered one.
    roots: BTreeMap<SourceId, SourceId>,
    /// A stable hash of the entries (0 when empty), so digests can tell registries apart.
    fingerprint: u64,
}

/// Why a registry could not be built.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The file is not JSON, or is cut off.
    #[error("source registry is not valid JSON: {0}")]
    Json(#[source] serde_json::Error),
    /// The file is JSON, but not a list of entries of the registry's form (a field of the wrong
    /// type, an unknown kind, a missing id).
    #[error("source registry: not a list of valid entries: {0}")]
    Shape(#[source] serde_json::Error),
    /// An entry's id or affiliation broke the id rules.
    #[error("source registry: entry {entry} (counted from 1): {error}")]
    Invalid {
        /// The entry, counted from 1.
        entry: usize,
        /// What is wrong, naming the field.
        error: ValidationError,
    },
    /// One id registered twice: two descriptions of one source, of which neither can be
    /// taken silently.
    #[error(
        "source registry: {id} is registered twice (entries {first} and {second}, counted from 1)"
    )]
    Duplicate {
        /// The source.
        id: SourceId,
        /// The first entry for it.
        first: usize,
        /// The next one.
        second: usize,
    },
    /// A credibility that is not a whole number of percent from 0 to 100.
    #[error("source registry: credibility of {id} is {value}, not a whole number from 0 to 100")]
    Credibility {
        /// The source.
        id: SourceId,
        /// The value given, as the file gave it.
        value: String,
    },
}

impl RegistryError {
    /// A JSON error, told apart: text that is not JSON, or JSON that is not a registry.
    fn of_json(e: serde_json::Error) -> Self {
        match e.classify() {
            Category::Data => Self::Shape(e),
            Category::Syntax | Category::Eof | Category::Io => Self::Json(e),
        }
    }
}

/// One entry as the file gives it. Ids and credibility are read as any text and any number, and
/// checked after, so that an empty id or a negative credibility is told as such rather than as
/// a parse error naming a Rust type.
#[derive(Deserialize)]
struct RawEntry {
    id: String,
    #[serde(default)]
    kind: Option<SourceKind>,
    #[serde(default)]
    affiliated_with: Option<String>,
    #[serde(default)]
    credibility: Option<serde_json::Number>,
}

impl RawEntry {
    /// The entry, checked; `entry` is its place in the file, counted from 1.
    fn check(self, entry: usize) -> Result<RegisteredSource, RegistryError> {
        let invalid = |error: ValidationError, field: &str| RegistryError::Invalid {
            entry,
            error: match error.renamed(field) {
                // Present but empty, not missing.
                ValidationError::Missing { field } => ValidationError::Malformed {
                    field,
                    reason: "empty".into(),
                },
                e => e,
            },
        };
        let id = SourceId::parse(&self.id).map_err(|e| invalid(e, "id"))?;
        let affiliated_with = self
            .affiliated_with
            .as_deref()
            .map(|a| SourceId::parse(a).map_err(|e| invalid(e, "affiliated_with")))
            .transpose()?;
        let credibility = match self.credibility {
            None => None,
            Some(n) => Some(percent(&n).ok_or_else(|| RegistryError::Credibility {
                id: id.clone(),
                value: n.to_string(),
            })?),
        };
        Ok(RegisteredSource {
            id,
            kind: self.kind,
            affiliated_with,
            credibility,
        })
    }
}

/// A whole number from 0 to 100 (`50`, or `50.0` as JSON allows), else `None`.
fn percent(n: &serde_json::Number) -> Option<u8> {
    let whole = match n.as_i64() {
        Some(i) => i,
        None => n
            .as_f64()
            .filter(|f| f.fract() == 0.0 && (0.0..=100.0).contains(f))
            .map(|f| f as i64)?,
    };
    u8::try_from(whole).ok().filter(|c| *c <= 100)
}

impl SourceRegistry {
    /// Builds a registry from entries; an id registered twice is an error.
    pub fn new(entries: Vec<RegisteredSource>) -> Result<Self, RegistryError> {
        let mut map = BTreeMap::new();
        let mut at: BTreeMap<SourceId, usize> = BTreeMap::new();
        for (n, e) in entries.into_iter().enumerate() {
            if let Some(c) = e.credibility.filter(|c| *c > 100) {
                return Err(RegistryError::Credibility {
                    id: e.id.clone(),
                    value: c.to_string(),
                });
            }
            if let Some(first) = at.insert(e.id.clone(), n + 1) {
                return Err(RegistryError::Duplicate {
                    id: e.id,
                    first,
                    second: n + 1,
                });
            }
            map.insert(e.id.clone(), e);
        }
        let fingerprint = if map.is_empty() { 0 } else { stable_hash(&map) };
        Ok(Self {
            roots: roots(&map),
            entries: map,
            fingerprint,
        })
    }

    /// A stable hash of the entries: equal registries have equal fingerprints in every process.
    pub fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    /// Parses a JSON array of [`RegisteredSource`].
    pub fn from_json(text: &str) -> Result<Self, RegistryError> {
        let raw: Vec<RawEntry> = serde_json::from_str(text).map_err(RegistryError::of_json)?;
        let entries = raw
            .into_iter()
            .enumerate()
            .map(|(n, e)| e.check(n + 1))
            .collect::<Result<_, _>>()?;
        Self::new(entries)
    }

    /// Whether no source is registered.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// What reconciliation reads of a source, with the registered kind, affiliation and
    /// credibility applied over what a report says of it. Borrowed from the source and the
    /// registry: claims are resolved on every report that touches their incident.
    #[inline] // once per standing claim on every report that touches an incident
    pub fn resolve<'a>(&'a self, source: &'a Source) -> Resolution<'a> {
        if self.entries.is_empty() {
            // Most engines have no registry: what the report says stands.
            return Resolution {
                kind: source.kind,
                kind_fixed: false,
                root: source.affiliated_with.as_ref().unwrap_or(&source.id),
                credibility: source.kind.default_credibility(),
            };
        }
        let entry = self.entries.get(&source.id);
        let fixed = entry.and_then(|e| e.kind);
        let kind = fixed.unwrap_or(source.kind);
        Resolution {
            kind,
            kind_fixed: fixed.is_some(),
            root: self.root_of(&source.id, source.affiliated_with.as_ref()),
            credibility: entry
                .and_then(|e| e.credibility)
                .unwrap_or_else(|| kind.default_credibility()),
        }
    }
}

impl SourceRegistry {
    /// The independence group of a source a report gives `affiliation`: the registered
    /// affiliation, else the report's, followed through the registry (a source affiliated
    /// with a registered affiliate joins its group), else its own id.
    #[inline] // once per claim resolved, as part of `resolve`
    pub fn root_of<'a>(
        &'a self,
        id: &'a SourceId,
        affiliation: Option<&'a SourceId>,
    ) -> &'a SourceId {
        let registered = if self.entries.is_empty() {
            None
        } else {
            self.entries
                .get(id)
                .and_then(|e| e.affiliated_with.as_ref())
        };
        match registered.or(affiliation) {
            None => id,
            Some(a) if self.roots.is_empty() => a,
            Some(a) => self.roots.get(a).unwrap_or(a),
        }
    }

    /// The kind the registry fixes for a source, if it does.
    pub fn fixed_kind(&self, id: &SourceId) -> Option<SourceKind> {
        if self.entries.is_empty() {
            return None;
        }
        self.entries.get(id).and_then(|e| e.kind)
    }
}

/// Where each registered affiliation leads: for every registered source with an affiliation,
/// the last source reached by following registered affiliations from it. A cycle of
/// affiliations is one group, named by its least id, so the result does not depend on where
/// the cycle is entered.
fn roots(entries: &BTreeMap<SourceId, RegisteredSource>) -> BTreeMap<SourceId, SourceId> {
    let next = |id: &SourceId| entries.get(id).and_then(|e| e.affiliated_with.as_ref());
    let mut out = BTreeMap::new();
    for id in entries.keys().filter(|id| next(id).is_some()) {
        let mut path: Vec<&SourceId> = vec![id];
        let mut at = id;
        while let Some(a) = next(at) {
            if let Some(seen) = path.iter().position(|p| *p == a) {
                // A cycle: its members are path[seen..]; name it by the least.
                at = path[seen..].iter().copied().min().unwrap_or(a);
                break;
            }
            path.push(a);
            at = a;
        }
        out.insert(id.clone(), at.clone());
    }
    out
}

/// A source as reconciliation sees it, after the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resolution<'a> {
    /// Its kind.
    pub kind: SourceKind,
    /// Whether the registry fixed the kind (else it is what the report said).
    pub kind_fixed: bool,
    /// Its independence group: its affiliation if it has one, else its own id.
    pub root: &'a SourceId,
    /// Its credibility in percent.
    pub credibility: u8,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_overrides_kind_affiliation_and_credibility() {
        let reg = SourceRegistry::from_json(
            r#"[{"id":"amaq","kind":"perpetrator_media","affiliated_with":"islamic-state","credibility":10}]"#,
        )
        .unwrap();
        let amaq = Source {
            id: SourceId::parse("amaq").unwrap(),
            name: None,
            kind: SourceKind::Unknown,
            affiliated_with: None,
        };
        let r = reg.resolve(&amaq);
        assert_eq!(r.kind, SourceKind::PerpetratorMedia);
        assert_eq!(r.root.as_str(), "islamic-state");
        assert_eq!(r.credibility, 10);
        // An unregistered source keeps what the report says, credibility from its kind.
        let other = Source {
            id: SourceId::parse("daily").unwrap(),
            name: None,
            kind: SourceKind::IndependentMedia,
            affiliated_with: None,
        };
        let r = reg.resolve(&other);
        assert_eq!(r.kind, SourceKind::IndependentMedia);
        assert_eq!(r.root.as_str(), "daily");
        assert_eq!(
            r.credibility,
            SourceKind::IndependentMedia.default_credibility()
        );
        assert!(SourceRegistry::from_json(r#"[{"id":"x","credibility":101}]"#).is_err());
    }

    #[test]
    fn a_source_registered_twice_is_refused_with_both_entries() {
        let e = SourceRegistry::from_json(
            r#"[{"id":"amaq","kind":"perpetrator_media"},{"id":"x"},{"id":"amaq","credibility":90}]"#,
        )
        .unwrap_err();
        assert!(matches!(
            &e,
            RegistryError::Duplicate { id, first: 1, second: 3 } if id.as_str() == "amaq"
        ));
        assert_eq!(
            e.to_string(),
            "source registry: amaq is registered twice (entries 1 and 3, counted from 1)"
        );
    }

    fn refused(text: &str) -> String {
        SourceRegistry::from_json(text).unwrap_err().to_string()
    }

    #[test]
    fn a_credibility_outside_0_to_100_is_refused_as_such() {
        for (given, shown) in [
            ("-5", "-5"),
            ("150", "150"),
            ("3.5", "3.5"),
            ("1e3", "1000.0"),
        ] {
            assert_eq!(
                refused(&format!(r#"[{{"id":"moh","credibility":{given}}}]"#)),
                format!(
                    "source registry: credibility of moh is {shown}, not a whole number from 0 \
                     to 100"
                )
            );
        }
        for (given, read) in [("0", 0), ("100", 100), ("100.0", 100)] {
            let reg =
                SourceRegistry::from_json(&format!(r#"[{{"id":"moh","credibility":{given}}}]"#))
                    .unwrap();
            assert_eq!(
                reg.resolve(&source("moh", None)).credibility,
                read,
                "{given}"
            );
        }
    }

    #[test]
    fn an_entry_breaking_the_id_rules_is_named() {
        assert_eq!(
            refused(r#"[{"id":"a"},{"id":"","kind":"ngo"}]"#),
            "source registry: entry 2 (counted from 1): id: empty"
        );
        assert_eq!(
            refused(r#"[{"id":"a","affiliated_with":" b"}]"#),
            "source registry: entry 1 (counted from 1): affiliated_with: has leading or trailing \
             whitespace"
        );
    }

    #[test]
    fn json_of_the_wrong_form_is_told_from_text_that_is_not_json() {
        let e = refused(r#"[{"id":"x","kind":"nope"}]"#);
        assert!(
            e.starts_with("source registry: not a list of valid entries: unknown variant `nope`"),
            "{e}"
        );
        let e = refused(r#"[{"kind":"ngo"}]"#);
        assert!(
            e.starts_with("source registry: not a list of valid entries: missing field `id`"),
            "{e}"
        );
        let e = refused(r#"{"id":"x"}"#);
        assert!(
            e.starts_with("source registry: not a list of valid entries: invalid type: map"),
            "{e}"
        );
        for text in [r#"[{"id":"x",}]"#, r#"[{"id":"x""#, ""] {
            let e = refused(text);
            assert!(e.starts_with("source registry is not valid JSON: "), "{e}");
        }
    }

    fn source(id: &str, affiliated_with: Option<&str>) -> Source {
        Source {
            id: SourceId::parse(id).unwrap(),
            name: None,
            kind: SourceKind::Unknown,
            affiliated_with: affiliated_with.map(|a| SourceId::parse(a).unwrap()),
        }
    }

    #[test]
    fn affiliations_are_followed_through_the_registry() {
        let reg = SourceRegistry::from_json(
            r#"[{"id":"interior-ministry","affiliated_with":"iraqi-government"},
                {"id":"ina","affiliated_with":"interior-ministry"},
                {"id":"a","affiliated_with":"b"},{"id":"b","affiliated_with":"c"},
                {"id":"c","affiliated_with":"a"}]"#,
        )
        .unwrap();
        let root = |s: Source| reg.resolve(&s).root.as_str().to_string();
        // Registered two steps deep, and a report's affiliation with a registered affiliate.
        assert_eq!(root(source("ina", None)), "iraqi-government");
        assert_eq!(
            root(source("police", Some("interior-ministry"))),
            "iraqi-government"
        );
        assert_eq!(root(source("interior-ministry", None)), "iraqi-government");
        // An affiliation the registry does not know is the group itself.
        assert_eq!(root(source("amaq", Some("islamic-state"))), "islamic-state");
        // A cycle is one group, whichever member is asked.
        for id in ["a", "b", "c"] {
            assert_eq!(root(source(id, None)), "a");
        }
    }
}
