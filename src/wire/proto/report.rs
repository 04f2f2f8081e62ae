//! Reports: protobuf <-> the raw form every report passes through, then the shared validator.

#[allow(clippy::wildcard_imports)]
use super::*;
use crate::wire::raw::RawQuantity;

fn raw_source(s: pb::Source, path: &str) -> Result<RawSource, ValidationError> {
    Ok(RawSource {
        id: s.id,
        name: s.name,
        kind: or_default(s.kind, &format!("{path}.kind"), SourceKind::Unknown)?,
        affiliated_with: s.affiliated_with,
    })
}

fn raw_incident(i: pb::IncidentRef) -> Result<RawIncident, ValidationError> {
    let loc = required(i.location, "incident.location")?;
    Ok(RawIncident {
        incident_id: i.incident_id,
        occurred_at: rfc3339(i.occurred_at.as_ref(), "incident.occurred_at")?,
        time_precision: or_default(
            i.time_precision,
            "incident.time_precision",
            TimePrecision::default(),
        )?,
        location: RawLocation {
            country: loc.country,
            admin1: loc.admin1,
            admin2: loc.admin2,
            place: loc.place,
            coordinates: loc.coordinates.map(|c| RawCoordinates {
                lat: c.lat,
                lon: c.lon,
            }),
            precision: or_default(
                loc.precision,
                "incident.location.precision",
                PlacePrecision::default(),
            )?,
        },
        event_type: or_default(i.event_type, "incident.event_type", EventType::Unknown)?,
        target: or_default(i.target, "incident.target", Target::Unknown)?,
    })
}

fn raw_field_key(k: Option<pb::FieldKey>, path: &str) -> Result<RawFieldKey, ValidationError> {
    use pb::field_key::Field;
    let f = required(required(k, path)?.field, &format!("{path}.field"))?;
    Ok(match f {
        Field::Casualties(c) => RawFieldKey::Casualties {
            party: req(c.party, &format!("{path}.party"))?,
            outcome: req(c.outcome, &format!("{path}.outcome"))?,
        },
        Field::Responsibility(r) => RawFieldKey::Responsibility { actor: r.actor },
        Field::Cause(_) => RawFieldKey::Cause,
        Field::Outcome(_) => RawFieldKey::Outcome,
    })
}

fn raw_claim(c: pb::Claim, path: &str) -> Result<RawClaim, ValidationError> {
    use pb::claim::Assertion as A;
    let claimant_path = format!("{path}.claimant");
    let claimant = raw_source(required(c.claimant, &claimant_path)?, &claimant_path)?;
    let stated_at = c
        .stated_at
        .as_ref()
        .map(|t| rfc3339(Some(t), &format!("{path}.stated_at")))
        .transpose()?;
    let assertion = match required(c.assertion, &format!("{path}.assertion"))? {
        A::Casualties(a) => RawAssertion::Casualties {
            party: req(a.party, &format!("{path}.party"))?,
            outcome: req(a.outcome, &format!("{path}.outcome"))?,
            // Onto the raw form's numbers, which the validator checks as it does JSON's.
            count: RawQuantity::from(quantity_from_pb(a.count, &format!("{path}.count"))?),
        },
        A::Responsibility(a) => RawAssertion::Responsibility {
            actor: a.actor,
            stance: req(a.stance, &format!("{path}.stance"))?,
        },
        A::Cause(a) => RawAssertion::Cause {
            cause: req(a.cause, &format!("{path}.cause"))?,
        },
        A::Outcome(a) => RawAssertion::Outcome {
            outcome: req(a.outcome, &format!("{path}.outcome"))?,
        },
        A::Retraction(a) => RawAssertion::Retraction {
            retracts: raw_field_key(a.retracts, &format!("{path}.retracts"))?,
        },
    };
    Ok(RawClaim {
        claimant,
        stated_at,
        assertion,
    })
}

/// Maps a protobuf report onto the raw form the JSON form parses into. Only what the raw form
/// cannot hold is checked here (presence of sub-messages, enum values, timestamp range); the rest
/// is left to [`validate`].
fn raw_report(m: pb::Report) -> Result<RawReport, ValidationError> {
    let schema_version = m.schema_version.unwrap_or(SCHEMA_VERSION);
    // Checked first, as `validate` does: a message of another version may be shaped otherwise.
    if schema_version != SCHEMA_VERSION {
        return Err(ValidationError::UnsupportedSchema {
            found: schema_version.to_string(),
            supported: SCHEMA_VERSION,
        });
    }
    Ok(RawReport {
        schema_version: schema_version.into(),
        report_id: m.report_id,
        publisher: raw_source(required(m.publisher, "publisher")?, "publisher")?,
        published_at: rfc3339(m.published_at.as_ref(), "published_at")?,
        url: m.url,
        incident: raw_incident(required(m.incident, "incident")?)?,
        claims: m
            .claims
            .into_iter()
            .enumerate()
            .map(|(i, c)| raw_claim(c, &format!("claims[{i}]")))
            .collect::<Result<_, _>>()?,
    })
}

/// Decodes and validates a protobuf `reckon.v1.Report`.
pub fn decode_report(bytes: &[u8]) -> Result<Report, DecodeError> {
    check_size(bytes, MAX_MESSAGE_BYTES)?;
    let m = pb::Report::decode(bytes).map_err(malformed)?;
    let raw = raw_report(m)?;
    Ok(validate(&raw)?)
}

fn source_to_pb(s: &Source) -> pb::Source {
    pb::Source {
        id: s.id.to_string(),
        name: s.name.as_ref().map(ToString::to_string),
        kind: s.kind.to_pb(),
        affiliated_with: s.affiliated_with.as_ref().map(ToString::to_string),
    }
}

fn field_key_to_pb(k: &FieldKey) -> pb::FieldKey {
    use pb::field_key::Field;
    pb::FieldKey {
        field: Some(match k {
            FieldKey::Casualties { party, outcome } => Field::Casualties(pb::CasualtiesField {
                party: party.to_pb(),
                outcome: outcome.to_pb(),
            }),
            FieldKey::Responsibility { actor } => Field::Responsibility(pb::ResponsibilityField {
                actor: actor.to_string(),
            }),
            FieldKey::Cause => Field::Cause(pb::CauseField {}),
            FieldKey::Outcome => Field::Outcome(pb::OutcomeField {}),
        }),
    }
}

fn claim_to_pb(c: &Claim, published_at: Timestamp) -> pb::Claim {
    use pb::claim::Assertion as A;
    pb::Claim {
        claimant: Some(source_to_pb(&c.claimant)),
        // Like the JSON form: written only when it differs from the report's published_at.
        stated_at: (c.stated_at != published_at).then(|| timestamp_to_pb(c.stated_at)),
        assertion: Some(match &c.assertion {
            Assertion::Casualties {
                party,
                outcome,
                count,
            } => A::Casualties(pb::CasualtiesAssertion {
                party: party.to_pb(),
                outcome: outcome.to_pb(),
                count: Some(quantity_to_pb(*count)),
            }),
            Assertion::Responsibility { actor, stance } => {
                A::Responsibility(pb::ResponsibilityAssertion {
                    actor: actor.to_string(),
                    stance: stance.to_pb(),
                })
            }
            Assertion::Cause { cause } => A::Cause(pb::CauseAssertion {
                cause: cause.to_pb(),
            }),
            Assertion::Outcome { outcome } => A::Outcome(pb::OutcomeAssertion {
                outcome: outcome.to_pb(),
            }),
            Assertion::Retraction { retracts } => A::Retraction(pb::RetractionAssertion {
                retracts: Some(field_key_to_pb(retracts)),
            }),
        }),
    }
}

/// The protobuf message of a report.
pub fn report_to_pb(r: &Report) -> pb::Report {
    let i = &r.incident;
    let loc = &i.location;
    pb::Report {
        schema_version: Some(SCHEMA_VERSION),
        report_id: r.report_id.to_string(),
        publisher: Some(source_to_pb(&r.publisher)),
        published_at: Some(timestamp_to_pb(r.published_at)),
        url: r.url.as_ref().map(ToString::to_string),
        incident: Some(pb::IncidentRef {
            incident_id: i.incident_id.as_ref().map(ToString::to_string),
            occurred_at: Some(timestamp_to_pb(i.occurred_at)),
            time_precision: i.time_precision.to_pb(),
            location: Some(pb::Location {
                country: loc.country.to_string(),
                admin1: loc.admin1.as_ref().map(ToString::to_string),
                admin2: loc.admin2.as_ref().map(ToString::to_string),
                place: loc.place.as_ref().map(ToString::to_string),
                coordinates: loc.coordinates.map(coordinates_to_pb),
                precision: loc.precision.to_pb(),
            }),
            event_type: i.event_type.to_pb(),
            target: i.target.to_pb(),
        }),
        claims: r
            .claims
            .iter()
            .map(|c| claim_to_pb(c, r.published_at))
            .collect(),
    }
}

/// Encodes a report as a protobuf `reckon.v1.Report`. Every enum is written explicitly (never as
/// `UNSPECIFIED`), so the encoding does not depend on the decoder's defaults.
pub fn encode_report(report: &Report) -> Vec<u8> {
    report_to_pb(report).encode_to_vec()
}
