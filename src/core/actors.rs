//! Operator-supplied actor names: the id an actor is known by and the other ids reports use for
//! it. Feeds name one armed group several ways (*islamic-state*, *isis*, *isil*, *daesh*), and
//! responsibility is per actor: without this table two names of one group read as two actors
//! claimed, so the field is contested and the incident graded *contested*. Each report's
//! responsibility claims and retractions are written under the actor's id before the report is
//! applied, as the gazetteer writes its place names ([`crate::core::gazetteer`]).

use foldhash::HashMap;
use serde::Deserialize;
use serde_json::error::Category;

use crate::core::error::ValidationError;
use crate::core::model::{ActorId, Assertion, FieldKey, Report};

/// One entry as the file gives it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    id: String,
    #[serde(default)]
    aliases: Vec<String>,
}

/// The actor table. Empty by default: then actors are the ids reports give.
#[derive(Debug, Clone, Default)]
pub struct ActorNames {
    /// A name or alias, in lower case -> the actor's id.
    ids: HashMap<String, ActorId>,
}

/// Why an actor table could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ActorNamesError {
    /// The file is not JSON, or is cut off.
    #[error("actor table is not valid JSON: {0}")]
    Json(#[source] serde_json::Error),
    /// The file is JSON, but not a list of entries of the table's form (a field of the wrong
    /// type, an unknown or missing field).
    #[error("actor table: not a list of valid entries: {0}")]
    Shape(#[source] serde_json::Error),
    /// An id or alias broke the id rules (the field names the entry, from 0).
    #[error("actor table: {0}")]
    Invalid(#[from] ValidationError),
    /// One name given for two actors: which one a report means cannot be told.
    #[error("actor table: {field} ({name:?}) already stands for {other}")]
    Conflict {
        /// Where, e.g. `[3].aliases[0]`.
        field: String,
        /// The name.
        name: String,
        /// The actor it already stands for.
        other: ActorId,
    },
}

impl ActorNamesError {
    /// A JSON error, told apart: text that is not JSON, or JSON that is not an actor table.
    fn of_json(e: serde_json::Error) -> Self {
        match e.classify() {
            Category::Data => Self::Shape(e),
            Category::Syntax | Category::Eof | Category::Io => Self::Json(e),
        }
    }
}

/// An id or alias of the file, checked by the id rules and labelled by where it is: present
/// but empty is told as such, not as missing.
fn checked(field: &str, s: &str) -> Result<ActorId, ValidationError> {
    ActorId::parse(s).map_err(|e| match e.renamed(field) {
        ValidationError::Missing { field } => ValidationError::Malformed {
            field,
            reason: "empty".into(),
        },
        e => e,
    })
}

/// The key a name is looked up by: ids are compared as given, but a feed that writes *ISIS*
/// where another writes *isis* means one actor.
fn key(name: &str) -> String {
    name.to_lowercase()
}

impl ActorNames {
    /// Parses a JSON array of entries: `{"id": "islamic-state", "aliases": ["isis", "isil",
    /// "daesh"]}` says that a report naming any of them, in any case, means `islamic-state`.
    pub fn from_json(bytes: &[u8]) -> Result<Self, ActorNamesError> {
        let raw: Vec<RawEntry> = serde_json::from_slice(bytes).map_err(ActorNamesError::of_json)?;
        let mut table = Self::default();
        for (i, e) in raw.iter().enumerate() {
            let id = checked(&format!("[{i}].id"), &e.id)?;
            let names = std::iter::once((format!("[{i}].id"), &e.id)).chain(
                e.aliases
                    .iter()
                    .enumerate()
                    .map(|(j, a)| (format!("[{i}].aliases[{j}]"), a)),
            );
            for (field, name) in names {
                // An alias obeys the id rules: it is what a report would write.
                let name = checked(&field, name)?;
                let k = key(name.as_str());
                match table.ids.get(&k) {
                    Some(other) if *other != id => {
                        return Err(ActorNamesError::Conflict {
                            field,
                            name: name.as_str().to_string(),
                            other: other.clone(),
                        });
                    }
                    _ => {
                        table.ids.insert(k, id.clone());
                    }
                }
            }
        }
        Ok(table)
    }

    /// Whether the table names no actor.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The id of the actor a report's id stands for, `None` when the table does not know it
    /// or it is that id already.
    pub fn id_of(&self, given: &ActorId) -> Option<&ActorId> {
        self.ids.get(&key(given.as_str())).filter(|id| *id != given)
    }

    /// The report with its responsibility claims and retractions written under the actors'
    /// ids, or `None` when it changes nothing. Two statements one claimant made in the report
    /// about what turns out to be one actor keep the first: one statement per claimant and
    /// field, as the decoder holds a report to.
    pub fn standardise(&self, report: &Report) -> Option<Report> {
        if self.is_empty() {
            return None;
        }
        fn actor_of(a: &Assertion) -> Option<&ActorId> {
            match a {
                Assertion::Responsibility { actor, .. } => Some(actor),
                Assertion::Retraction { retracts } => match retracts.as_ref() {
                    FieldKey::Responsibility { actor } => Some(actor),
                    _ => None,
                },
                _ => None,
            }
        }
        if !report
            .claims
            .iter()
            .filter_map(|c| actor_of(&c.assertion))
            .any(|a| self.id_of(a).is_some())
        {
            return None;
        }
        let mut out = report.clone();
        out.claims.clear();
        for c in &report.claims {
            let mut c = c.clone();
            match &mut c.assertion {
                Assertion::Responsibility { actor, .. } => self.rename(actor),
                Assertion::Retraction { retracts } => {
                    if let FieldKey::Responsibility { actor } = retracts.as_mut() {
                        self.rename(actor);
                    }
                }
                _ => {}
            }
            let field = c.assertion.field_ref();
            let again = out
                .claims
                .iter()
                .any(|o| o.claimant.id == c.claimant.id && o.assertion.field_ref() == field);
            if !again {
                out.claims.push(c);
            }
        }
        Some(out)
    }

    /// Writes `actor` under its actor's id, when the table knows another.
    fn rename(&self, actor: &mut ActorId) {
        if let Some(id) = self.id_of(actor) {
            *actor = id.clone();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(json: &str) -> Result<ActorNames, ActorNamesError> {
        ActorNames::from_json(json.as_bytes())
    }

    fn id(s: &str) -> ActorId {
        ActorId::parse(s).expect("valid id")
    }

    #[test]
    fn names_and_aliases_stand_for_the_actor_in_any_case() {
        let t = table(r#"[{"id": "islamic-state", "aliases": ["isis", "ISIL", "Daesh"]}]"#)
            .expect("valid table");
        for given in ["isis", "ISIS", "isil", "daesh", "DAESH", "Islamic-State"] {
            assert_eq!(t.id_of(&id(given)), Some(&id("islamic-state")), "{given}");
        }
        // Its own id, and names it does not know, are left as they are.
        assert_eq!(t.id_of(&id("islamic-state")), None);
        assert_eq!(t.id_of(&id("al-qaeda")), None);
    }

    #[test]
    fn a_name_for_two_actors_is_refused_naming_the_entry() {
        let err = table(
            r#"[{"id": "islamic-state", "aliases": ["is"]},
                {"id": "islamic-movement", "aliases": ["IS"]}]"#,
        )
        .expect_err("conflict");
        assert_eq!(
            err.to_string(),
            "actor table: [1].aliases[0] (\"IS\") already stands for islamic-state"
        );
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        assert!(matches!(table("[{"), Err(ActorNamesError::Json(_))));
        assert!(matches!(
            table(r#"[{"id": "x", "alias": []}]"#),
            Err(ActorNamesError::Shape(_))
        ));
        assert_eq!(
            table(r#"[{"id": "x", "aliases": [" isis"]}]"#)
                .expect_err("padded")
                .to_string(),
            "actor table: [0].aliases[0]: has leading or trailing whitespace"
        );
        assert_eq!(
            table(r#"[{"id": ""}]"#).expect_err("empty").to_string(),
            "actor table: [0].id: empty"
        );
        // The same entry twice, or an alias naming its own actor, is no conflict.
        assert!(table(r#"[{"id": "a", "aliases": ["A", "a"]}, {"id": "a"}]"#).is_ok());
    }
}
