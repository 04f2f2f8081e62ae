//! Parse, don't validate: turns a [`RawReport`] into a [`Report`], or the first violation as a
//! typed [`ValidationError`] that names the field (with its full path) and the limit.

use std::borrow::Cow;
use std::fmt::Display;

use super::raw::{
    RawAssertion, RawClaim, RawCoordinates, RawFieldKey, RawIncident, RawInt, RawLocation,
    RawQuantity, RawReport, RawSource,
};
use crate::core::error::ValidationError;
use crate::core::limits::{
    MAX_CLAIMS_PER_REPORT, MAX_COUNT, MAX_STATED_AFTER_PUBLISHED_MS, MAX_TIMESTAMP_MS,
    MIN_TIMESTAMP_MS, SCHEMA_VERSION,
};
use crate::core::model::{
    ActorId, Assertion, Claim, Coordinates, CountryCode, FieldKey, IncidentId, IncidentRef,
    Location, Name, Quantity, Report, ReportId, Source, SourceId, TimePrecision, Timestamp, Url,
    DAY_MS, HOUR_MS,
};

/// Puts the field's name on an id parser's error (id parsers label errors by id kind).
fn at<T>(r: Result<T, ValidationError>, field: &str) -> Result<T, ValidationError> {
    r.map_err(|e| e.renamed(field))
}

// Validators name fields relative to what they validate; callers prefix the path with
// `ValidationError::within` on the error path only, so a valid report allocates no paths.

/// Why an optional text field that is present but empty or blank is refused.
const BLANK: &str = "empty or blank; leave the field out instead";

/// Parses an optional text field that is present. The text parsers call empty text a missing
/// required field, which misleads for a field that may be left out: it is refused as blank.
fn optional<T>(r: Result<T, ValidationError>) -> Result<T, ValidationError> {
    r.map_err(|e| match e {
        ValidationError::Missing { field } => ValidationError::Malformed {
            field,
            reason: BLANK.into(),
        },
        e => e,
    })
}

fn name(s: &Option<String>, leaf: &str) -> Result<Option<Name>, ValidationError> {
    s.as_deref()
        .map(|v| optional(Name::parse(leaf, v)))
        .transpose()
}

/// A whole number within `min..=max`, or an error naming the field and the range.
fn whole<T>(v: RawInt, field: &str, min: T, max: T) -> Result<T, ValidationError>
where
    T: Copy + Display + Into<i128> + TryFrom<i128>,
{
    match v
        .get()
        .filter(|n| (min.into()..=max.into()).contains(n))
        .and_then(|n| T::try_from(n).ok())
    {
        Some(n) => Ok(n),
        None => Err(ValidationError::OutOfRange {
            field: field.to_string(),
            value: v.to_string(),
            min: min.to_string(),
            max: max.to_string(),
        }),
    }
}

/// A count's numbers, each 0..=[`MAX_COUNT`]; the caller checks the range order on the result.
fn quantity(raw: &RawQuantity) -> Result<Quantity, ValidationError> {
    let count = |v: RawInt, leaf: &str| whole(v, leaf, 0, MAX_COUNT);
    Ok(match *raw {
        RawQuantity::Exact { value } => Quantity::Exact {
            value: count(value, "value")?,
        },
        RawQuantity::AtLeast { value } => Quantity::AtLeast {
            value: count(value, "value")?,
        },
        RawQuantity::AtMost { value } => Quantity::AtMost {
            value: count(value, "value")?,
        },
        RawQuantity::Approximately { value } => Quantity::Approximately {
            value: count(value, "value")?,
        },
        RawQuantity::Range { min, max } => Quantity::Range {
            min: count(min, "min")?,
            max: count(max, "max")?,
        },
        RawQuantity::Vague { word } => Quantity::Vague { word },
    })
}

/// The report's link. Its scheme may be in any case (RFC 3986 schemes are case-insensitive) and
/// is held in lower case, the normal form, which the model's [`Url`] requires; it must name a
/// host.
fn url(s: &str) -> Result<Url, ValidationError> {
    let Some(n) = ["http://", "https://"]
        .iter()
        .find(|p| s.get(..p.len()).is_some_and(|h| h.eq_ignore_ascii_case(p)))
        .map(|p| p.len())
    else {
        // Not http(s) at all: the model's parser says what is wrong (blank, length, scheme).
        return optional(Url::parse("url", s));
    };
    let (scheme, rest) = s.split_at(n);
    let text = if scheme.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(format!("{}{rest}", scheme.to_ascii_lowercase()))
    } else {
        Cow::Borrowed(s)
    };
    let url = Url::parse("url", &text)?;
    if host(rest).is_empty() {
        return Err(ValidationError::Malformed {
            field: "url".into(),
            reason: "has no host".into(),
        });
    }
    Ok(url)
}

/// The host in what follows a URL's `scheme://`: its authority (up to the path, query or
/// fragment) without user information and port; an IP literal without its brackets.
fn host(rest: &str) -> &str {
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    match host_port.strip_prefix('[') {
        Some(literal) => literal.split(']').next().unwrap_or_default(),
        None => host_port.split(':').next().unwrap_or_default(),
    }
}

fn source(raw: &RawSource) -> Result<Source, ValidationError> {
    Ok(Source {
        id: at(SourceId::parse(&raw.id), "id")?,
        name: name(&raw.name, "name")?,
        kind: raw.kind,
        affiliated_with: raw
            .affiliated_with
            .as_deref()
            .map(|a| optional(at(SourceId::parse(a), "affiliated_with")))
            .transpose()?,
    })
}

fn location(raw: &RawLocation) -> Result<Location, ValidationError> {
    Ok(Location {
        country: CountryCode::parse("country", &raw.country)?,
        admin1: name(&raw.admin1, "admin1")?,
        admin2: name(&raw.admin2, "admin2")?,
        place: name(&raw.place, "place")?,
        coordinates: raw
            .coordinates
            .as_ref()
            .map(|c: &RawCoordinates| Coordinates::from_degrees("coordinates", c.lat, c.lon))
            .transpose()?,
        precision: raw.precision,
    })
}

fn incident(raw: &RawIncident, published_at: Timestamp) -> Result<IncidentRef, ValidationError> {
    Ok(IncidentRef {
        incident_id: raw
            .incident_id
            .as_deref()
            .map(|i| optional(at(IncidentId::parse(i), "incident_id")))
            .transpose()?,
        occurred_at: not_after_publication(
            "occurred_at",
            &raw.occurred_at,
            match raw.time_precision {
                TimePrecision::Month => Timestamp::parse_rfc3339_month,
                p if p.names_a_date() => Timestamp::parse_rfc3339_date,
                _ => Timestamp::parse_rfc3339,
            },
            published_at,
        )?,
        time_precision: raw.time_precision,
        location: location(&raw.location).map_err(|e| e.within("location"))?,
        event_type: raw.event_type,
        target: raw.target,
    })
}

fn field_key(raw: &RawFieldKey) -> Result<FieldKey, ValidationError> {
    Ok(match raw {
        RawFieldKey::Casualties { party, outcome } => FieldKey::Casualties {
            party: *party,
            outcome: *outcome,
        },
        RawFieldKey::Responsibility { actor } => FieldKey::Responsibility {
            actor: at(ActorId::parse(actor), "actor")?,
        },
        RawFieldKey::Cause => FieldKey::Cause,
        RawFieldKey::Outcome => FieldKey::Outcome,
    })
}

fn assertion(raw: &RawAssertion) -> Result<Assertion, ValidationError> {
    Ok(match raw {
        RawAssertion::Casualties {
            party,
            outcome,
            count,
        } => Assertion::Casualties {
            party: *party,
            outcome: *outcome,
            count: quantity(count)
                .map_err(|e| e.within("count"))?
                .validate("count")?,
        },
        RawAssertion::Responsibility { actor, stance } => Assertion::Responsibility {
            actor: at(ActorId::parse(actor), "actor")?,
            stance: *stance,
        },
        RawAssertion::Cause { cause } => Assertion::Cause { cause: *cause },
        RawAssertion::Outcome { outcome } => Assertion::Outcome { outcome: *outcome },
        RawAssertion::Retraction { retracts } => Assertion::Retraction {
            retracts: Box::new(field_key(retracts).map_err(|e| e.within("retracts"))?),
        },
    })
}

fn claim(
    raw: &RawClaim,
    published_at: Timestamp,
    incident: &IncidentRef,
) -> Result<Claim, ValidationError> {
    Ok(Claim {
        claimant: source(&raw.claimant).map_err(|e| e.within("claimant"))?,
        stated_at: match &raw.stated_at {
            Some(s) => stated_at(s, published_at, incident)?,
            None => published_at,
        },
        assertion: assertion(&raw.assertion)?,
    })
}

/// The latest a time a report tells of may be: [`MAX_STATED_AFTER_PUBLISHED_MS`] after the
/// report's `published_at`.
fn latest_told(published_at: Timestamp) -> i64 {
    published_at
        .millis()
        .saturating_add(MAX_STATED_AFTER_PUBLISHED_MS)
        .min(MAX_TIMESTAMP_MS)
}

/// A time a report tells of (the incident's `occurred_at`, a claim's `stated_at`), at most
/// [`MAX_STATED_AFTER_PUBLISHED_MS`] after the report's `published_at`: a report cannot tell of
/// an incident or a statement after it was published. `parse` reads it as an instant or as
/// the date it names ([`Timestamp::parse_rfc3339_date`]).
fn not_after_publication(
    field: &str,
    s: &str,
    parse: fn(&str, &str) -> Result<Timestamp, ValidationError>,
    published_at: Timestamp,
) -> Result<Timestamp, ValidationError> {
    let t = parse(field, s)?;
    let latest = latest_told(published_at);
    if t.millis() > latest {
        let bound = Timestamp::from_millis(field, latest)?.to_rfc3339();
        return Err(Timestamp::later_than(
            field,
            as_given(s, t),
            format!("{bound} (a day after the report's published_at)"),
        ));
    }
    Ok(t)
}

/// A claim's `stated_at`: at most a day after publication (as [`not_after_publication`] bounds
/// other times, but its error gives both bounds of this range), and not before the
/// incident it is about less the incident's link window
/// ([`crate::core::model::TimePrecision::link_window_ms`]), which covers any honest reading of
/// a time known only so precisely. Without this bound a year mistyped into the past would lose
/// to every earlier statement by the same claimant, silently. A time no earlier than the
/// report's `published_at` passes: a claim without `stated_at` is stated then, and the incident
/// may be dated up to a day after publication.
fn stated_at(
    s: &str,
    published_at: Timestamp,
    incident: &IncidentRef,
) -> Result<Timestamp, ValidationError> {
    const FIELD: &str = "stated_at";
    let t = Timestamp::parse_rfc3339(FIELD, s)?;
    let latest = latest_told(published_at);
    let precision = incident.time_precision;
    let window = precision.link_window_ms();
    let before_incident = incident.occurred_at.millis().saturating_sub(window);
    let earliest = before_incident
        .min(published_at.millis())
        .max(MIN_TIMESTAMP_MS);
    if (earliest..=latest).contains(&t.millis()) {
        return Ok(t);
    }
    // Both bounds, whichever was crossed: a range open at 1900 on one side would misstate it.
    let why = if earliest == before_incident {
        // A month-precision time is held as its month's first day (decode), which the bound
        // is measured from: say so, or the bound reads as off by up to a month.
        let occurred = incident.occurred_at.to_rfc3339();
        let held = if precision == TimePrecision::Month {
            format!(", {occurred} as its month's first day,")
        } else {
            format!(", {occurred},")
        };
        format!(
            "the incident's occurred_at{held} less its link window at {} precision, {}: a \
             claim cannot be stated before the incident it is about",
            precision.as_str(),
            duration(window)
        )
    } else {
        "the report's published_at".to_string()
    };
    Err(ValidationError::OutOfRange {
        field: FIELD.to_string(),
        value: as_given(s, t),
        min: format!("{} ({why})", Timestamp::from_millis(FIELD, earliest)?),
        max: format!(
            "{} (a day after the report's published_at)",
            Timestamp::from_millis(FIELD, latest)?
        ),
    })
}

/// A time as the input gave it, followed by the instant it was read as when that reads
/// differently: the bounds of a time's range are given in UTC, and a value written with
/// another offset (or a date, or a month, held as its first day) would otherwise have to be
/// converted by hand to see how far out it is.
fn as_given(s: &str, t: Timestamp) -> String {
    let utc = t.to_rfc3339();
    if utc == s {
        s.to_string()
    } else {
        format!("{s} (read as {utc})")
    }
}

/// A length of time in words: whole days when it is two days or more of them, else hours.
fn duration(ms: i64) -> String {
    if ms >= 2 * DAY_MS && ms % DAY_MS == 0 {
        format!("{} days", ms / DAY_MS)
    } else {
        format!("{} hours", ms / HOUR_MS)
    }
}

/// Validates a raw report.
pub fn validate(raw: &RawReport) -> Result<Report, ValidationError> {
    if raw.schema_version.get() != Some(i128::from(SCHEMA_VERSION)) {
        return Err(ValidationError::UnsupportedSchema {
            found: raw.schema_version.to_string(),
            supported: SCHEMA_VERSION,
        });
    }
    let report_id = at(ReportId::parse(&raw.report_id), "report_id")?;
    let publisher = source(&raw.publisher).map_err(|e| e.within("publisher"))?;
    let published_at = Timestamp::parse_rfc3339("published_at", &raw.published_at)?;
    let url = raw.url.as_deref().map(url).transpose()?;
    let incident = incident(&raw.incident, published_at).map_err(|e| e.within("incident"))?;
    if raw.claims.len() > MAX_CLAIMS_PER_REPORT {
        return Err(ValidationError::TooMany {
            field: "claims".into(),
            count: raw.claims.len(),
            limit: MAX_CLAIMS_PER_REPORT,
        });
    }
    let mut claims: Vec<Claim> = Vec::with_capacity(raw.claims.len());
    for (i, c) in raw.claims.iter().enumerate() {
        let c = claim(c, published_at, &incident).map_err(|e| e.within(&format!("claims[{i}]")))?;
        // One statement per claimant and field: two would leave the correction order undefined.
        let key = (&c.claimant.id, c.assertion.field_ref());
        if claims
            .iter()
            .any(|o| (&o.claimant.id, o.assertion.field_ref()) == key)
        {
            return Err(ValidationError::Malformed {
                field: format!("claims[{i}]"),
                reason: format!(
                    "a second claim by {} on the same field in one report",
                    c.claimant.id
                ),
            });
        }
        claims.push(c);
    }
    Ok(Report {
        report_id,
        publisher,
        published_at,
        url,
        incident,
        claims,
    })
}

fn raw_source(s: &Source) -> RawSource {
    RawSource {
        id: s.id.to_string(),
        name: s.name.as_ref().map(ToString::to_string),
        kind: s.kind,
        affiliated_with: s.affiliated_with.as_ref().map(ToString::to_string),
    }
}

fn raw_field_key(f: &FieldKey) -> RawFieldKey {
    match f {
        FieldKey::Casualties { party, outcome } => RawFieldKey::Casualties {
            party: *party,
            outcome: *outcome,
        },
        FieldKey::Responsibility { actor } => RawFieldKey::Responsibility {
            actor: actor.to_string(),
        },
        FieldKey::Cause => RawFieldKey::Cause,
        FieldKey::Outcome => RawFieldKey::Outcome,
    }
}

impl From<&Report> for RawReport {
    fn from(r: &Report) -> Self {
        let loc = &r.incident.location;
        RawReport {
            schema_version: SCHEMA_VERSION.into(),
            report_id: r.report_id.to_string(),
            publisher: raw_source(&r.publisher),
            published_at: r.published_at.to_rfc3339(),
            url: r.url.as_ref().map(ToString::to_string),
            incident: RawIncident {
                incident_id: r.incident.incident_id.as_ref().map(ToString::to_string),
                occurred_at: r.incident.occurred_at.to_rfc3339(),
                time_precision: r.incident.time_precision,
                location: RawLocation {
                    country: loc.country.to_string(),
                    admin1: loc.admin1.as_ref().map(ToString::to_string),
                    admin2: loc.admin2.as_ref().map(ToString::to_string),
                    place: loc.place.as_ref().map(ToString::to_string),
                    coordinates: loc.coordinates.map(|c| RawCoordinates {
                        lat: c.lat(),
                        lon: c.lon(),
                    }),
                    precision: loc.precision,
                },
                event_type: r.incident.event_type,
                target: r.incident.target,
            },
            claims: r
                .claims
                .iter()
                .map(|c| RawClaim {
                    claimant: raw_source(&c.claimant),
                    stated_at: (c.stated_at != r.published_at).then(|| c.stated_at.to_rfc3339()),
                    assertion: match &c.assertion {
                        Assertion::Casualties {
                            party,
                            outcome,
                            count,
                        } => RawAssertion::Casualties {
                            party: *party,
                            outcome: *outcome,
                            count: (*count).into(),
                        },
                        Assertion::Responsibility { actor, stance } => {
                            RawAssertion::Responsibility {
                                actor: actor.to_string(),
                                stance: *stance,
                            }
                        }
                        Assertion::Cause { cause } => RawAssertion::Cause { cause: *cause },
                        Assertion::Outcome { outcome } => {
                            RawAssertion::Outcome { outcome: *outcome }
                        }
                        Assertion::Retraction { retracts } => RawAssertion::Retraction {
                            retracts: raw_field_key(retracts),
                        },
                    },
                })
                .collect(),
        }
    }
}
