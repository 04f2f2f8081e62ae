//! Query-string and path parsing. Strict: an unknown or repeated parameter is a 400 (a typo
//! such as `contry=IQ` must not silently return everything), and every value is validated with
//! the same rules as the wire format.

use std::collections::BTreeMap;

use axum::extract::Query;
use axum::http::{StatusCode, Uri};

use super::error::{truncate, ApiError};
use crate::core::model::{CountryCode, IncidentId, Timestamp};
use crate::core::view::Grade;

/// The longest query string accepted (bytes, still percent-encoded).
pub const MAX_QUERY_BYTES: usize = 4096;

/// The most incidents one list answer returns.
pub const MAX_LIMIT: usize = 10_000;

/// The number of incidents a list answer returns without `limit`.
pub const DEFAULT_LIMIT: usize = 1000;

/// The parameters of a request's query string, each known and given at most once.
#[derive(Debug, Default)]
pub struct Params(BTreeMap<String, String>);

impl Params {
    /// Parses the query string of `uri`, accepting only `allowed` names.
    pub fn parse(uri: &Uri, allowed: &[&str]) -> Result<Self, ApiError> {
        let raw = uri.query().unwrap_or("");
        if raw.len() > MAX_QUERY_BYTES {
            return Err(ApiError::new(
                StatusCode::URI_TOO_LONG,
                "uri_too_long",
                format!(
                    "the query string has {} bytes; at most {MAX_QUERY_BYTES} are accepted",
                    raw.len()
                ),
            ));
        }
        let Query(pairs) = Query::<Vec<(String, String)>>::try_from_uri(uri)
            .map_err(|e| ApiError::bad_request(format!("malformed query string: {e}")))?;
        let mut out = BTreeMap::new();
        for (k, v) in pairs {
            if !allowed.contains(&k.as_str()) {
                return Err(ApiError::bad_request(format!(
                    "unknown parameter {:?}; accepted: {}",
                    truncate(&k, 64),
                    allowed.join(", ")
                )));
            }
            if out.contains_key(&k) {
                return Err(ApiError::bad_request(format!(
                    "parameter {k:?} is given more than once"
                )));
            }
            out.insert(k, v);
        }
        Ok(Self(out))
    }

    /// A raw value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// `country`: an ISO 3166-1 alpha-2 code, any case.
    pub fn country(&self, name: &str) -> Result<Option<CountryCode>, ApiError> {
        self.get(name)
            .map(|v| {
                CountryCode::parse(name, v).map_err(|_| {
                    ApiError::bad_request(format!(
                        "{name}: {:?} is not a two-letter ISO 3166-1 country code",
                        truncate(v, 64)
                    ))
                })
            })
            .transpose()
    }

    /// `grade`: `confirmed`, `fair`, `weak` or `contested`.
    pub fn grade(&self, name: &str) -> Result<Option<Grade>, ApiError> {
        self.get(name)
            .map(|v| {
                Grade::parse(v).ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "{name}: {:?} is not a grade; one of confirmed, fair, weak, contested",
                        truncate(v, 64)
                    ))
                })
            })
            .transpose()
    }

    /// An RFC 3339 timestamp between 1900 and 2100.
    pub fn timestamp(&self, name: &str) -> Result<Option<Timestamp>, ApiError> {
        self.get(name)
            .map(|v| {
                Timestamp::parse_rfc3339(name, v).map_err(|e| {
                    let hint = if v.contains(' ') {
                        " (a `+` in a query string means a space: write the offset as %2B or use Z)"
                    } else {
                        ""
                    };
                    ApiError::bad_request(format!("{e}{hint}"))
                })
            })
            .transpose()
    }

    /// An incident id.
    pub fn incident(&self, name: &str) -> Result<Option<IncidentId>, ApiError> {
        self.get(name).map(|v| incident_id(name, v)).transpose()
    }

    /// `limit`: 1 to [`MAX_LIMIT`], [`DEFAULT_LIMIT`] when absent.
    pub fn limit(&self, name: &str) -> Result<usize, ApiError> {
        let Some(v) = self.get(name) else {
            return Ok(DEFAULT_LIMIT);
        };
        match v.parse::<usize>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            _ => Err(ApiError::bad_request(format!(
                "{name}: {:?} is not a whole number from 1 to {MAX_LIMIT}",
                truncate(v, 64)
            ))),
        }
    }
}

/// Validates an incident id from a path or a parameter.
pub fn incident_id(name: &str, raw: &str) -> Result<IncidentId, ApiError> {
    IncidentId::parse(raw)
        .map_err(|e| ApiError::bad_request(format!("{name}: {e}")).with("field", name.to_string()))
}
