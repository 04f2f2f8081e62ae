//! Identifier newtypes. Each is parsed once at the boundary and cheap to clone afterwards
//! (`ArcStr`), since ids are copied into evidence lists, claims and updates.

use arcstr::ArcStr;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::core::error::ValidationError;
use crate::core::limits::MAX_ID_BYTES;

/// Whether a text holds a control character. Ids and names are mostly ASCII, checked byte by
/// byte: the control characters of ASCII are its bytes below 0x20 and 0x7f.
pub(crate) fn has_control_char(s: &str) -> bool {
    if s.is_ascii() {
        s.bytes().any(|c| c < 0x20 || c == 0x7f)
    } else {
        s.chars().any(char::is_control)
    }
}

/// The shared copy of a text in Unicode's composed form (NFC), so that texts that look the same
/// are equal: one source's id typed as `é` or as `e` and a combining accent is one source. ASCII
/// text, nearly every id, is composed already and is not scanned again.
pub(crate) fn composed(s: &str) -> ArcStr {
    use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};
    if s.is_ascii() || is_nfc_quick(s.chars()) == IsNormalized::Yes {
        ArcStr::from(s)
    } else {
        ArcStr::from(s.nfc().collect::<String>())
    }
}

/// Checks the shared id rules: non-empty, at most [`MAX_ID_BYTES`], no control characters,
/// no surrounding whitespace.
pub(crate) fn check_id(field: &str, s: &str) -> Result<(), ValidationError> {
    if s.is_empty() {
        return Err(ValidationError::Missing {
            field: field.to_string(),
        });
    }
    if s.len() > MAX_ID_BYTES {
        return Err(ValidationError::TooLong {
            field: field.to_string(),
            len: s.len(),
            limit: MAX_ID_BYTES,
        });
    }
    if has_control_char(s) {
        return Err(ValidationError::Malformed {
            field: field.to_string(),
            reason: "contains a control character".into(),
        });
    }
    // Control characters are refused above, so an ASCII id's only whitespace is the space.
    let padded = if s.is_ascii() {
        s.starts_with(' ') || s.ends_with(' ')
    } else {
        s.trim() != s
    };
    if padded {
        return Err(ValidationError::Malformed {
            field: field.to_string(),
            reason: "has leading or trailing whitespace".into(),
        });
    }
    Ok(())
}

/// An id type over shared text: an `ArcStr`, one pointer wide (the length lives with the text),
/// as ids fill the lists every incident keeps (claim records, evidence).
macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $field:literal) => {
        $(#[$doc])*
        #[derive(Clone, Eq)]
        pub struct $name(ArcStr);

        // As derived: the text's hash (equal ids have equal text).
        impl std::hash::Hash for $name {
            #[inline]
            fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
                self.0.hash(state)
            }
        }

        // By text, as derived, with a shortcut for one shared copy: the state interns its
        // ids, so the ids it compares are often the very same allocation.
        impl PartialEq for $name {
            #[inline]
            fn eq(&self, other: &Self) -> bool {
                ArcStr::ptr_eq(&self.0, &other.0) || *self.0 == *other.0
            }
        }

        impl PartialOrd for $name {
            #[inline]
            fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
                Some(self.cmp(other))
            }
        }

        impl Ord for $name {
            #[inline]
            fn cmp(&self, other: &Self) -> std::cmp::Ordering {
                if ArcStr::ptr_eq(&self.0, &other.0) {
                    return std::cmp::Ordering::Equal;
                }
                (*self.0).cmp(&*other.0)
            }
        }

        impl $name {
            /// Parses an id, enforcing the id rules (length, no control characters), in composed
            /// form ([`composed`]).
            pub fn parse(s: &str) -> Result<Self, ValidationError> {
                check_id($field, s)?;
                Ok(Self(composed(s)))
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The shared text, for interning.
            #[allow(dead_code)] // not every id type is interned
            pub(crate) fn arc(&self) -> &ArcStr {
                &self.0
            }

            /// Whether both are the very same shared copy (not only the same text).
            #[allow(dead_code)] // not every id type is compared so
            pub(crate) fn same_copy(&self, other: &Self) -> bool {
                ArcStr::ptr_eq(&self.0, &other.0)
            }

            /// Wraps interned text that was parsed as this id before.
            #[allow(dead_code)] // not every id type is interned
            pub(crate) fn from_arc(s: ArcStr) -> Self {
                Self(s)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), &*self.0)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

id_type!(
    /// The unique id of a report: the idempotency key of the whole pipeline.
    ReportId,
    "report_id"
);
id_type!(
    /// The id of an incident, either given explicitly by a report or derived from the log.
    IncidentId,
    "incident_id"
);
id_type!(
    /// The id of a source (publisher or claimant), e.g. `south-front`, `amaq`.
    SourceId,
    "source.id"
);
id_type!(
    /// The id of an actor that may claim or be attributed responsibility, e.g. `islamic-state`.
    ActorId,
    "actor"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_enforce_their_rules() {
        assert!(ReportId::parse("r-1").is_ok());
        assert!(matches!(
            ReportId::parse(""),
            Err(ValidationError::Missing { .. })
        ));
        assert!(matches!(
            ReportId::parse(&"x".repeat(MAX_ID_BYTES + 1)),
            Err(ValidationError::TooLong {
                limit: MAX_ID_BYTES,
                ..
            })
        ));
        assert!(ReportId::parse(&"x".repeat(MAX_ID_BYTES)).is_ok());
        assert!(matches!(
            SourceId::parse("a\nb"),
            Err(ValidationError::Malformed { .. })
        ));
        assert!(matches!(
            SourceId::parse(" a"),
            Err(ValidationError::Malformed { .. })
        ));
    }
}
