//! Updates: protobuf <-> the update model, every id, name and time validated on the way in.

#[allow(clippy::wildcard_imports)]
use super::*;

fn figure_from_pb(f: Option<pb::Figure>, path: &str) -> Result<Option<Figure>, ValidationError> {
    f.map(|f| {
        Ok(Figure {
            value: f.value,
            sources: ids(SourceId::parse, &f.sources, &format!("{path}.sources"))?,
            party_claims_only: f.party_claims_only,
        })
    })
    .transpose()
}

fn figure_to_pb(f: &Figure) -> pb::Figure {
    pb::Figure {
        value: f.value,
        sources: id_strings(&f.sources),
        party_claims_only: f.party_claims_only,
    }
}

fn claim_entry_from_pb(c: pb::ClaimEntry, path: &str) -> Result<ClaimEntry, ValidationError> {
    Ok(ClaimEntry {
        claimant: id(SourceId::parse, &c.claimant, &format!("{path}.claimant"))?,
        claimant_kind: req(c.claimant_kind, &format!("{path}.claimant_kind"))?,
        group: if c.group.is_empty() {
            None
        } else {
            Some(id(SourceId::parse, &c.group, &format!("{path}.group"))?)
        },
        party_claim: c.party_claim,
        count: quantity_from_pb(c.count, &format!("{path}.count"))?,
        stated_at: {
            let p = format!("{path}.stated_at");
            timestamp(required(c.stated_at.as_ref(), &p)?, &p)?
        },
        report_id: id(ReportId::parse, &c.report_id, &format!("{path}.report_id"))?,
    })
}

fn claim_entry_to_pb(c: &ClaimEntry) -> pb::ClaimEntry {
    pb::ClaimEntry {
        claimant: c.claimant.to_string(),
        claimant_kind: c.claimant_kind.to_pb(),
        party_claim: c.party_claim,
        count: Some(quantity_to_pb(c.count)),
        stated_at: Some(timestamp_to_pb(c.stated_at)),
        report_id: c.report_id.to_string(),
        group: c
            .group
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
    }
}

fn estimate_from_pb(
    e: pb::CasualtyEstimate,
    path: &str,
) -> Result<CasualtyEstimate, ValidationError> {
    Ok(CasualtyEstimate {
        party: req(e.party, &format!("{path}.party"))?,
        outcome: req(e.outcome, &format!("{path}.outcome"))?,
        low: figure_from_pb(e.low, &format!("{path}.low"))?,
        best: figure_from_pb(e.best, &format!("{path}.best"))?,
        high: figure_from_pb(e.high, &format!("{path}.high"))?,
        claimants: e.claimants,
        confirmed: e.confirmed,
        party_claims_only: e.party_claims_only,
        disputed: e.disputed,
        claims: e
            .claims
            .into_iter()
            .enumerate()
            .map(|(i, c)| claim_entry_from_pb(c, &format!("{path}.claims[{i}]")))
            .collect::<Result<_, _>>()?,
    })
}

fn estimate_to_pb(e: &CasualtyEstimate) -> pb::CasualtyEstimate {
    pb::CasualtyEstimate {
        party: e.party.to_pb(),
        outcome: e.outcome.to_pb(),
        low: e.low.as_ref().map(figure_to_pb),
        best: e.best.as_ref().map(figure_to_pb),
        high: e.high.as_ref().map(figure_to_pb),
        claimants: e.claimants,
        confirmed: e.confirmed,
        party_claims_only: e.party_claims_only,
        disputed: e.disputed,
        claims: e.claims.iter().map(claim_entry_to_pb).collect(),
    }
}

fn responsibility_from_pb(
    r: pb::ResponsibilityView,
    path: &str,
) -> Result<ResponsibilityView, ValidationError> {
    Ok(ResponsibilityView {
        leading: r
            .leading
            .as_deref()
            .map(|a| id(ActorId::parse, a, &format!("{path}.leading")))
            .transpose()?,
        actors: r
            .actors
            .into_iter()
            .enumerate()
            .map(|(i, a)| {
                let p = format!("{path}.actors[{i}]");
                Ok(ActorResponsibility {
                    actor: id(ActorId::parse, &a.actor, &format!("{p}.actor"))?,
                    claimed_by: ids(SourceId::parse, &a.claimed_by, &format!("{p}.claimed_by"))?,
                    attributed_by: ids(
                        SourceId::parse,
                        &a.attributed_by,
                        &format!("{p}.attributed_by"),
                    )?,
                    denied_by: ids(SourceId::parse, &a.denied_by, &format!("{p}.denied_by"))?,
                    weight: a.weight,
                })
            })
            .collect::<Result<_, ValidationError>>()?,
        contested: r.contested,
        disputed: r.disputed,
    })
}

fn responsibility_to_pb(r: &ResponsibilityView) -> pb::ResponsibilityView {
    pb::ResponsibilityView {
        leading: r.leading.as_ref().map(ToString::to_string),
        actors: r
            .actors
            .iter()
            .map(|a| pb::ActorResponsibility {
                actor: a.actor.to_string(),
                claimed_by: id_strings(&a.claimed_by),
                attributed_by: id_strings(&a.attributed_by),
                denied_by: id_strings(&a.denied_by),
                weight: a.weight,
            })
            .collect(),
        contested: r.contested,
        disputed: r.disputed,
    }
}

/// The fields of one alternative of a categorical view, whatever its value type.
struct PbAlternative {
    value: i32,
    backers: Vec<String>,
    party_claims_only: bool,
    weight: u32,
}

fn categorical_from_pb<T: PbEnum>(
    leading: i32,
    alternatives: Vec<PbAlternative>,
    contested: bool,
    path: &str,
) -> Result<CategoricalView<T>, ValidationError> {
    Ok(CategoricalView {
        leading: T::from_pb(leading, &format!("{path}.leading"))?,
        alternatives: alternatives
            .into_iter()
            .enumerate()
            .map(|(i, a)| {
                let p = format!("{path}.alternatives[{i}]");
                Ok(Alternative {
                    value: req(a.value, &format!("{p}.value"))?,
                    backers: ids(SourceId::parse, &a.backers, &format!("{p}.backers"))?,
                    party_claims_only: a.party_claims_only,
                    weight: a.weight,
                })
            })
            .collect::<Result<_, ValidationError>>()?,
        contested,
    })
}

fn cause_from_pb(c: pb::CauseView, path: &str) -> Result<CategoricalView<Cause>, ValidationError> {
    let alternatives = c
        .alternatives
        .into_iter()
        .map(|a| PbAlternative {
            value: a.value,
            backers: a.backers,
            party_claims_only: a.party_claims_only,
            weight: a.weight,
        })
        .collect();
    categorical_from_pb(c.leading, alternatives, c.contested, path)
}

fn outcome_from_pb(
    c: pb::OutcomeView,
    path: &str,
) -> Result<CategoricalView<AttackOutcome>, ValidationError> {
    let alternatives = c
        .alternatives
        .into_iter()
        .map(|a| PbAlternative {
            value: a.value,
            backers: a.backers,
            party_claims_only: a.party_claims_only,
            weight: a.weight,
        })
        .collect();
    categorical_from_pb(c.leading, alternatives, c.contested, path)
}

fn cause_to_pb(c: &CategoricalView<Cause>) -> pb::CauseView {
    pb::CauseView {
        leading: c
            .leading
            .map_or(pb::Cause::Unspecified as i32, PbEnum::to_pb),
        alternatives: c
            .alternatives
            .iter()
            .map(|a| pb::CauseAlternative {
                value: a.value.to_pb(),
                backers: id_strings(&a.backers),
                party_claims_only: a.party_claims_only,
                weight: a.weight,
            })
            .collect(),
        contested: c.contested,
    }
}

fn outcome_to_pb(c: &CategoricalView<AttackOutcome>) -> pb::OutcomeView {
    pb::OutcomeView {
        leading: c
            .leading
            .map_or(pb::AttackOutcome::Unspecified as i32, PbEnum::to_pb),
        alternatives: c
            .alternatives
            .iter()
            .map(|a| pb::OutcomeAlternative {
                value: a.value.to_pb(),
                backers: id_strings(&a.backers),
                party_claims_only: a.party_claims_only,
                weight: a.weight,
            })
            .collect(),
        contested: c.contested,
    }
}

fn location_view_from_pb(l: pb::LocationView, path: &str) -> Result<LocationView, ValidationError> {
    Ok(LocationView {
        country: CountryCode::parse(&format!("{path}.country"), &l.country)?,
        admin1: names(&l.admin1, &format!("{path}.admin1"))?,
        admin2: names(&l.admin2, &format!("{path}.admin2"))?,
        places: names(&l.places, &format!("{path}.places"))?,
        coordinates: l
            .coordinates
            .iter()
            .enumerate()
            .map(|(i, c)| {
                Coordinates::from_degrees(&format!("{path}.coordinates[{i}]"), c.lat, c.lon)
            })
            .collect::<Result<_, _>>()?,
    })
}

fn time_view_from_pb(t: pb::TimeView, path: &str) -> Result<TimeView, ValidationError> {
    let ts = |v: Option<&prost_types::Timestamp>, name: &str| {
        let p = format!("{path}.{name}");
        timestamp(required(v, &p)?, &p)
    };
    Ok(TimeView {
        earliest: ts(t.earliest.as_ref(), "earliest")?,
        latest: ts(t.latest.as_ref(), "latest")?,
        precision: req(t.precision, &format!("{path}.precision"))?,
    })
}

fn evidence_from_pb(e: pb::Evidence, path: &str) -> Result<Evidence, ValidationError> {
    let p = format!("{path}.published_at");
    Ok(Evidence {
        published_at: timestamp(required(e.published_at.as_ref(), &p)?, &p)?,
        report_id: id(ReportId::parse, &e.report_id, &format!("{path}.report_id"))?,
        publisher: id(SourceId::parse, &e.publisher, &format!("{path}.publisher"))?,
        publisher_kind: req(e.publisher_kind, &format!("{path}.publisher_kind"))?,
    })
}

fn view_from_pb(v: pb::IncidentView) -> Result<IncidentView, ValidationError> {
    Ok(IncidentView {
        incident_id: id(IncidentId::parse, &v.incident_id, "view.incident_id")?,
        region: v.region,
        location: location_view_from_pb(required(v.location, "view.location")?, "view.location")?,
        time: time_view_from_pb(required(v.time, "view.time")?, "view.time")?,
        event_types: req_all(&v.event_types, "view.event_types")?,
        targets: req_all(&v.targets, "view.targets")?,
        casualties: v
            .casualties
            .into_iter()
            .enumerate()
            .map(|(i, e)| estimate_from_pb(e, &format!("view.casualties[{i}]")))
            .collect::<Result<_, _>>()?,
        responsibility: responsibility_from_pb(
            required(v.responsibility, "view.responsibility")?,
            "view.responsibility",
        )?,
        cause: cause_from_pb(required(v.cause, "view.cause")?, "view.cause")?,
        outcome: outcome_from_pb(required(v.outcome, "view.outcome")?, "view.outcome")?,
        grade: req(v.grade, "view.grade")?,
        independent_claimants: v.independent_claimants,
        evidence: v
            .evidence
            .into_iter()
            .enumerate()
            .map(|(i, e)| evidence_from_pb(e, &format!("view.evidence[{i}]")))
            .collect::<Result<_, _>>()?,
    })
}

fn view_to_pb(v: &IncidentView) -> pb::IncidentView {
    pb::IncidentView {
        incident_id: v.incident_id.to_string(),
        region: v.region.clone(),
        location: Some(pb::LocationView {
            country: v.location.country.to_string(),
            admin1: id_strings(&v.location.admin1),
            admin2: id_strings(&v.location.admin2),
            places: id_strings(&v.location.places),
            coordinates: v
                .location
                .coordinates
                .iter()
                .copied()
                .map(coordinates_to_pb)
                .collect(),
        }),
        time: Some(pb::TimeView {
            earliest: Some(timestamp_to_pb(v.time.earliest)),
            latest: Some(timestamp_to_pb(v.time.latest)),
            precision: v.time.precision.to_pb(),
        }),
        event_types: to_pb_all(&v.event_types),
        targets: to_pb_all(&v.targets),
        casualties: v.casualties.iter().map(estimate_to_pb).collect(),
        responsibility: Some(responsibility_to_pb(&v.responsibility)),
        cause: Some(cause_to_pb(&v.cause)),
        outcome: Some(outcome_to_pb(&v.outcome)),
        grade: v.grade.to_pb(),
        independent_claimants: v.independent_claimants,
        evidence: v
            .evidence
            .iter()
            .map(|e| pb::Evidence {
                published_at: Some(timestamp_to_pb(e.published_at)),
                report_id: e.report_id.to_string(),
                publisher: e.publisher.to_string(),
                publisher_kind: e.publisher_kind.to_pb(),
            })
            .collect(),
    }
}

fn update_from_pb(m: pb::Update) -> Result<Update, ValidationError> {
    use pb::update::Merge;
    Ok(Update {
        schema_version: m.schema_version,
        incident_id: id(IncidentId::parse, &m.incident_id, "incident_id")?,
        version: m.version,
        view: m.view.map(view_from_pb).transpose()?,
        changes: m.changes,
        caused_by: ids(ReportId::parse, &m.caused_by, "caused_by")?,
        merge: match m.merge {
            None => None,
            Some(Merge::Absorbed(a)) => Some(MergeNotice::Absorbed {
                incidents: ids(IncidentId::parse, &a.incidents, "merge.absorbed.incidents")?,
            }),
            Some(Merge::AbsorbedInto(a)) => Some(MergeNotice::AbsorbedInto {
                incident_id: id(
                    IncidentId::parse,
                    &a.incident_id,
                    "merge.absorbed_into.incident_id",
                )?,
            }),
        },
    })
}

/// The protobuf message of an update.
pub fn update_to_pb(u: &Update) -> pb::Update {
    use pb::update::Merge;
    pb::Update {
        schema_version: u.schema_version,
        incident_id: u.incident_id.to_string(),
        version: u.version,
        view: u.view.as_ref().map(view_to_pb),
        changes: u.changes.clone(),
        caused_by: id_strings(&u.caused_by),
        merge: u.merge.as_ref().map(|m| match m {
            MergeNotice::Absorbed { incidents } => Merge::Absorbed(pb::Absorbed {
                incidents: id_strings(incidents),
            }),
            MergeNotice::AbsorbedInto { incident_id } => Merge::AbsorbedInto(pb::AbsorbedInto {
                incident_id: incident_id.to_string(),
            }),
        }),
    }
}

/// Decodes a protobuf `reckon.v1.Update`. Ids, names, country codes, coordinates and times are
/// checked as their domain types require (an error names the field by its full path); like the
/// JSON form, the message size and the schema version are not checked here.
pub fn decode_update(bytes: &[u8]) -> Result<Update, DecodeError> {
    check_size(bytes, MAX_UPDATE_BYTES)?;
    let m = pb::Update::decode(bytes).map_err(malformed)?;
    Ok(update_from_pb(m)?)
}

/// Encodes an update as a protobuf `reckon.v1.Update`. Fields are written in field-number order
/// and every list in the view is sorted, so equal updates give equal bytes.
pub fn encode_update(update: &Update) -> Vec<u8> {
    update_to_pb(update).encode_to_vec()
}
