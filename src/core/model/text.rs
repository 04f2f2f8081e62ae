//! Validated free-text newtypes: names and URLs.

use arcstr::ArcStr;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::core::error::ValidationError;
use crate::core::limits::{MAX_NAME_BYTES, MAX_URL_BYTES};
use crate::core::model::ids::{composed, has_control_char};

fn check_text(field: &str, s: &str, limit: usize) -> Result<(), ValidationError> {
    if s.trim().is_empty() {
        return Err(ValidationError::Missing {
            field: field.to_string(),
        });
    }
    if s.len() > limit {
        return Err(ValidationError::TooLong {
            field: field.to_string(),
            len: s.len(),
            limit,
        });
    }
    if has_control_char(s) {
        return Err(ValidationError::Malformed {
            field: field.to_string(),
            reason: "contains a control character".into(),
        });
    }
    Ok(())
}

/// A human-readable name (place, admin area, source name): non-empty, at most
/// [`MAX_NAME_BYTES`], no control characters.
#[derive(Clone, Eq)]
pub struct Name(ArcStr);

// By text, as derived, with a shortcut for one shared copy: the state interns its names.
impl PartialEq for Name {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        ArcStr::ptr_eq(&self.0, &other.0) || self.0 == other.0
    }
}

impl PartialOrd for Name {
    #[inline]
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Name {
    #[inline]
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        if ArcStr::ptr_eq(&self.0, &other.0) {
            return std::cmp::Ordering::Equal;
        }
        self.0.cmp(&other.0)
    }
}

// As derived: the text's hash.
impl std::hash::Hash for Name {
    #[inline]
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.hash(state)
    }
}

impl Name {
    /// Parses a name, enforcing its rules, in composed form ([`composed`](super::ids::composed)).
    pub fn parse(field: &str, s: &str) -> Result<Self, ValidationError> {
        check_text(field, s, MAX_NAME_BYTES)?;
        Ok(Self(composed(s)))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The shared text, for interning.
    pub(crate) fn arc(&self) -> &ArcStr {
        &self.0
    }

    /// Wraps interned text that was parsed as a name before.
    pub(crate) fn from_arc(s: ArcStr) -> Self {
        Self(s)
    }
}

/// A link to the published item: at most [`MAX_URL_BYTES`], `http://` or `https://`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Url(ArcStr);

impl Url {
    /// Parses a URL, enforcing its rules.
    pub fn parse(field: &str, s: &str) -> Result<Self, ValidationError> {
        check_text(field, s, MAX_URL_BYTES)?;
        if !(s.starts_with("http://") || s.starts_with("https://")) || s.contains(' ') {
            return Err(ValidationError::Malformed {
                field: field.to_string(),
                reason: "not an http(s) URL".into(),
            });
        }
        Ok(Self(ArcStr::from(s)))
    }

    /// The URL as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

macro_rules! text_serde {
    ($name:ident, $field:literal) => {
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{:?}", &*self.0)
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
                Self::parse($field, &s).map_err(serde::de::Error::custom)
            }
        }
    };
}

text_serde!(Name, "name");
text_serde!(Url, "url");
