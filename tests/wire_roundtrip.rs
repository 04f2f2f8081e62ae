//! Both wire forms carry every valid report and every update faithfully, and decode the same
//! report to the same model:
//!
//! - Report -> JSON -> Report and Report -> protobuf -> Report give back the original;
//! - Update -> JSON -> Update and Update -> protobuf -> Update give back the original;
//! - the JSON and protobuf decodes of one report are equal, also when the optional fields with
//!   defaults are left out of both, and both forms refuse the same invalid reports with the same
//!   error;
//! - re-encoding a decoded message gives the same bytes (the encodings are canonical).

mod support;

use proptest::prelude::*;
use proptest::sample::select;
use prost::Message;
use serde_json::Value;

use reckon::core::error::ValidationError;
use reckon::core::limits::{MAX_CLAIMS_PER_REPORT, MAX_COUNT};
use reckon::core::model::{
    EventType, PlacePrecision, Report, SourceKind, Target, TimePrecision, Timestamp, DAY_MS,
};
use reckon::core::registry::SourceRegistry;
use reckon::core::update::Update;
use reckon::core::Engine;
use reckon::wire::proto::pb;
use reckon::wire::raw::RawReport;
use reckon::wire::{self, json, proto, ContentType, DecodeError};
use support::arbitrary;

const SEED: &str = include_str!("fixtures/seed-2017-iraq.jsonl");

fn seed_reports() -> Vec<Report> {
    SEED.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| json::decode_report(l.as_bytes()).expect("seed report decodes"))
        .collect()
}

/// Every update the engine publishes while folding the seed fixture.
fn seed_updates() -> Vec<Update> {
    let mut engine = Engine::new(SourceRegistry::default());
    seed_reports()
        .iter()
        .flat_map(|r| engine.apply(r))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn report_json_round_trips(r in arbitrary::report()) {
        let bytes = json::encode_report(&r);
        let back = json::decode_report(&bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&back, &r);
        prop_assert_eq!(json::encode_report(&back), bytes);
    }

    #[test]
    fn report_protobuf_round_trips(r in arbitrary::report()) {
        let bytes = proto::encode_report(&r);
        let back = proto::decode_report(&bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&back, &r);
        prop_assert_eq!(proto::encode_report(&back), bytes);
    }

    #[test]
    fn json_and_protobuf_decode_a_report_alike(r in arbitrary::report()) {
        let from_json = wire::decode_report(
            &wire::encode_report(&r, ContentType::Json),
            ContentType::Json,
        );
        let from_pb = wire::decode_report(
            &wire::encode_report(&r, ContentType::Protobuf),
            ContentType::Protobuf,
        );
        prop_assert_eq!(&from_json, &from_pb);
        prop_assert_eq!(from_json, Ok(r));
    }

    /// Both forms leave out every field that has a default; both must fill in the same defaults.
    #[test]
    fn absent_fields_take_the_same_defaults(r in arbitrary::report()) {
        // Read at day precision, a claim may be stated no earlier than the incident's date less
        // a day's link window: one stated earlier under a coarser precision is held there.
        let mut r = r;
        let mut at_day = r.incident.clone();
        at_day.time_precision = TimePrecision::Day;
        let day = at_day.occurred_at.millis().div_euclid(DAY_MS) * DAY_MS;
        at_day.occurred_at = Timestamp::from_millis("t", day).unwrap();
        let earliest = arbitrary::earliest_statement(&at_day, r.published_at);
        for c in &mut r.claims {
            c.stated_at = c.stated_at.max(earliest);
        }
        // JSON without the defaulted fields.
        let mut v = serde_json::to_value(RawReport::from(&r)).unwrap();
        let o = v.as_object_mut().unwrap();
        o.remove("schema_version");
        o["publisher"].as_object_mut().unwrap().remove("kind");
        let inc = o["incident"].as_object_mut().unwrap();
        inc.remove("time_precision");
        inc.remove("event_type");
        inc.remove("target");
        inc["location"].as_object_mut().unwrap().remove("precision");
        for c in o["claims"].as_array_mut().unwrap() {
            c["claimant"].as_object_mut().unwrap().remove("kind");
        }
        let from_json = json::decode_report(&serde_json::to_vec(&v).unwrap());

        // Protobuf with the same fields unset.
        let mut m = pb::Report::decode(proto::encode_report(&r).as_slice()).unwrap();
        m.schema_version = None;
        m.publisher.as_mut().unwrap().kind = 0;
        let inc = m.incident.as_mut().unwrap();
        inc.time_precision = 0;
        inc.event_type = 0;
        inc.target = 0;
        inc.location.as_mut().unwrap().precision = 0;
        for c in &mut m.claims {
            c.claimant.as_mut().unwrap().kind = 0;
        }
        let from_pb = proto::decode_report(&m.encode_to_vec());

        let mut expected = r;
        expected.publisher.kind = SourceKind::Unknown;
        expected.incident.time_precision = TimePrecision::Day;
        // Read at day precision, the time names its date.
        let day = expected.incident.occurred_at.millis().div_euclid(DAY_MS) * DAY_MS;
        expected.incident.occurred_at = Timestamp::from_millis("t", day).unwrap();
        expected.incident.event_type = EventType::Unknown;
        expected.incident.target = Target::Unknown;
        expected.incident.location.precision = PlacePrecision::Place;
        for c in &mut expected.claims {
            c.claimant.kind = SourceKind::Unknown;
        }
        prop_assert_eq!(&from_json, &from_pb);
        prop_assert_eq!(from_json, Ok(expected));
    }

    /// Both forms pass through one validator: the same invalid content is refused by both, with
    /// the same error.
    #[test]
    fn both_forms_refuse_the_same_invalid_reports(
        r in arbitrary::report(),
        breakage in select(Breakage::ALL.to_vec()),
    ) {
        let Some((v, m)) = break_both(&r, breakage) else {
            return Ok(());
        };
        let from_json = json::decode_report(&serde_json::to_vec(&v).unwrap());
        let from_pb = proto::decode_report(&m.encode_to_vec());
        prop_assert!(matches!(from_json, Err(DecodeError::Invalid(_))), "{:?}", from_json);
        prop_assert_eq!(from_json, from_pb);
    }

    #[test]
    fn update_json_round_trips(u in arbitrary::update()) {
        let bytes = json::encode_update(&u);
        let back = json::decode_update(&bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&back, &u);
        prop_assert_eq!(json::encode_update(&back), bytes);
    }

    #[test]
    fn update_protobuf_round_trips(u in arbitrary::update()) {
        let bytes = proto::encode_update(&u);
        let back = proto::decode_update(&bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&back, &u);
        prop_assert_eq!(proto::encode_update(&back), bytes);
    }
}

/// Ways to make a valid report invalid that both forms can express.
#[derive(Debug, Clone, Copy)]
enum Breakage {
    EmptyReportId,
    BadCountry,
    LatitudeOutOfRange,
    CountTooLarge,
    RangeReversed,
    TooManyClaims,
    DuplicateClaim,
    ControlCharInName,
    NotAnHttpUrl,
    SchemaVersion,
}

impl Breakage {
    const ALL: [Breakage; 10] = [
        Self::EmptyReportId,
        Self::BadCountry,
        Self::LatitudeOutOfRange,
        Self::CountTooLarge,
        Self::RangeReversed,
        Self::TooManyClaims,
        Self::DuplicateClaim,
        Self::ControlCharInName,
        Self::NotAnHttpUrl,
        Self::SchemaVersion,
    ];
}

/// The JSON and protobuf forms of `r`, both broken the same way; `None` when `r` has nothing the
/// breakage applies to (e.g. no casualty claim to make too large).
fn break_both(r: &Report, b: Breakage) -> Option<(Value, pb::Report)> {
    use pb::claim::Assertion as A;
    use pb::quantity::Qualifier as Q;
    let mut v = serde_json::to_value(RawReport::from(r)).unwrap();
    let mut m = pb::Report::decode(proto::encode_report(r).as_slice()).unwrap();
    let casualty = r.claims.iter().position(|c| {
        matches!(
            c.assertion,
            reckon::core::model::Assertion::Casualties { .. }
        )
    });
    match b {
        Breakage::EmptyReportId => {
            v["report_id"] = "".into();
            m.report_id.clear();
        }
        Breakage::BadCountry => {
            v["incident"]["location"]["country"] = "IRQ".into();
            m.incident.as_mut()?.location.as_mut()?.country = "IRQ".into();
        }
        Breakage::LatitudeOutOfRange => {
            let lat = 90.000001;
            v["incident"]["location"]["coordinates"] = serde_json::json!({"lat": lat, "lon": 0.0});
            m.incident.as_mut()?.location.as_mut()?.coordinates =
                Some(pb::Coordinates { lat, lon: 0.0 });
        }
        Breakage::CountTooLarge => {
            let i = casualty?;
            v["claims"][i]["count"] =
                serde_json::json!({"qualifier": "at_least", "value": MAX_COUNT + 1});
            let Some(A::Casualties(c)) = &mut m.claims[i].assertion else {
                return None;
            };
            c.count = Some(pb::Quantity {
                qualifier: Some(Q::AtLeast(MAX_COUNT + 1)),
            });
        }
        Breakage::RangeReversed => {
            let i = casualty?;
            v["claims"][i]["count"] = serde_json::json!({"qualifier": "range", "min": 7, "max": 5});
            let Some(A::Casualties(c)) = &mut m.claims[i].assertion else {
                return None;
            };
            c.count = Some(pb::Quantity {
                qualifier: Some(Q::Range(pb::Range { min: 7, max: 5 })),
            });
        }
        Breakage::TooManyClaims => {
            let first_json = v["claims"].as_array()?.first()?.clone();
            let first_pb = m.claims.first()?.clone();
            let claims = v["claims"].as_array_mut()?;
            while claims.len() <= MAX_CLAIMS_PER_REPORT {
                claims.push(first_json.clone());
            }
            while m.claims.len() <= MAX_CLAIMS_PER_REPORT {
                m.claims.push(first_pb.clone());
            }
        }
        Breakage::DuplicateClaim => {
            let first_json = v["claims"].as_array()?.first()?.clone();
            let first_pb = m.claims.first()?.clone();
            v["claims"].as_array_mut()?.push(first_json);
            m.claims.push(first_pb);
        }
        Breakage::ControlCharInName => {
            v["publisher"]["name"] = "South\u{7}Front".into();
            m.publisher.as_mut()?.name = Some("South\u{7}Front".into());
        }
        Breakage::NotAnHttpUrl => {
            v["url"] = "ftp://example.org/x".into();
            m.url = Some("ftp://example.org/x".into());
        }
        Breakage::SchemaVersion => {
            v["schema_version"] = 2.into();
            m.schema_version = Some(2);
        }
    }
    Some((v, m))
}

/// The kind and field of the validation error a decode must have returned.
fn invalid<T: std::fmt::Debug>(r: Result<T, DecodeError>) -> (&'static str, String) {
    match r {
        Err(DecodeError::Invalid(e)) => {
            let kind = match e {
                ValidationError::Missing { .. } => "missing",
                ValidationError::TooLong { .. } => "too_long",
                ValidationError::TooMany { .. } => "too_many",
                ValidationError::OutOfRange { .. } => "out_of_range",
                ValidationError::Malformed { .. } => "malformed",
                ValidationError::UnsupportedSchema { .. } => "unsupported_schema",
            };
            (kind, e.field().to_string())
        }
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[test]
fn seed_reports_round_trip_through_protobuf() {
    let reports = seed_reports();
    assert_eq!(reports.len(), 5);
    for r in reports {
        assert_eq!(proto::decode_report(&proto::encode_report(&r)), Ok(r));
    }
}

#[test]
fn seed_updates_round_trip_through_both_forms() {
    let updates = seed_updates();
    assert!(updates.iter().any(|u| u.view.is_some()));
    for u in updates {
        for ct in [ContentType::Json, ContentType::Protobuf] {
            let bytes = wire::encode_update(&u, ct);
            assert_eq!(wire::decode_update(&bytes, ct).as_ref(), Ok(&u), "{ct:?}");
        }
    }
}

/// A subscriber decodes an update up to `MAX_UPDATE_BYTES` and refuses anything larger before
/// parsing it, in both forms.
#[test]
fn update_size_limit() {
    use reckon::core::limits::MAX_UPDATE_BYTES;
    let u = seed_updates().pop().expect("the seed publishes updates");
    // JSON allows trailing whitespace: the same update padded to exactly the limit decodes.
    let mut padded = json::encode_update(&u);
    padded.resize(MAX_UPDATE_BYTES, b' ');
    assert_eq!(json::decode_update(&padded).as_ref(), Ok(&u));
    padded.push(b' ');
    let over = MAX_UPDATE_BYTES + 1;
    for (ct, bytes) in [
        (ContentType::Json, padded),
        (ContentType::Protobuf, vec![0u8; over]),
    ] {
        assert_eq!(
            wire::decode_update(&bytes, ct),
            Err(DecodeError::TooLarge {
                size: over,
                limit: MAX_UPDATE_BYTES
            }),
            "{ct:?}"
        );
    }
}

#[test]
fn protobuf_is_not_json() {
    // The dispatch really switches form: each decoder refuses the other's encoding.
    let r = &seed_reports()[0];
    let pb_bytes = wire::encode_report(r, ContentType::Protobuf);
    let json_bytes = wire::encode_report(r, ContentType::Json);
    assert_ne!(pb_bytes, json_bytes);
    assert!(wire::decode_report(&pb_bytes, ContentType::Json).is_err());
    assert!(wire::decode_report(&json_bytes, ContentType::Protobuf).is_err());
}

#[test]
fn unknown_and_unspecified_enums_name_the_field() {
    let r = &seed_reports()[0];
    let base = pb::Report::decode(proto::encode_report(r).as_slice()).unwrap();

    let mut m = base.clone();
    m.incident.as_mut().unwrap().event_type = 99;
    assert_eq!(
        proto::decode_report(&m.encode_to_vec()),
        Err(DecodeError::Invalid(ValidationError::Malformed {
            field: "incident.event_type".into(),
            reason: "99 is not a known EventType value".into(),
        }))
    );

    let mut m = base.clone();
    let Some(pb::claim::Assertion::Casualties(c)) = &mut m.claims[1].assertion else {
        panic!("the first seed report's second claim is a casualty count");
    };
    c.party = 0;
    assert_eq!(
        proto::decode_report(&m.encode_to_vec()),
        Err(DecodeError::Invalid(ValidationError::Missing {
            field: "claims[1].party".into()
        }))
    );

    let mut m = base;
    m.claims[0].claimant.as_mut().unwrap().kind = -3;
    assert_eq!(
        invalid(proto::decode_report(&m.encode_to_vec())),
        ("malformed", "claims[0].claimant.kind".into())
    );
}

#[test]
fn missing_sub_messages_are_missing_fields() {
    let r = &seed_reports()[0];
    let base = pb::Report::decode(proto::encode_report(r).as_slice()).unwrap();
    type Unset = fn(&mut pb::Report);
    let cases: [(&str, Unset); 7] = [
        ("publisher", |m| m.publisher = None),
        ("published_at", |m| m.published_at = None),
        ("incident", |m| m.incident = None),
        ("incident.occurred_at", |m| {
            m.incident.as_mut().unwrap().occurred_at = None
        }),
        ("incident.location", |m| {
            m.incident.as_mut().unwrap().location = None
        }),
        ("claims[2].claimant", |m| m.claims[2].claimant = None),
        ("claims[2].assertion", |m| m.claims[2].assertion = None),
    ];
    for (field, f) in cases {
        let mut m = base.clone();
        f(&mut m);
        assert_eq!(
            proto::decode_report(&m.encode_to_vec()),
            Err(DecodeError::Invalid(ValidationError::Missing {
                field: field.into()
            })),
            "{field}"
        );
    }
}

#[test]
fn protobuf_timestamps_out_of_range_name_the_field() {
    let r = &seed_reports()[0];
    let base = pb::Report::decode(proto::encode_report(r).as_slice()).unwrap();
    for seconds in [i64::MIN, -2_208_988_801, 4_102_444_801, i64::MAX] {
        let mut m = base.clone();
        m.published_at = Some(prost_types::Timestamp { seconds, nanos: 0 });
        assert_eq!(
            invalid(proto::decode_report(&m.encode_to_vec())),
            ("out_of_range", "published_at".into()),
            "{seconds}"
        );
    }
    let mut m = base.clone();
    m.claims[0].stated_at = Some(prost_types::Timestamp {
        seconds: 0,
        nanos: -1,
    });
    assert_eq!(
        invalid(proto::decode_report(&m.encode_to_vec())),
        ("out_of_range", "claims[0].stated_at.nanos".into())
    );
    // The range ends themselves are accepted.
    let mut m = base;
    m.incident.as_mut().unwrap().occurred_at = Some(prost_types::Timestamp {
        seconds: -2_208_988_800,
        nanos: 0,
    });
    m.published_at = Some(prost_types::Timestamp {
        seconds: 4_102_444_800,
        nanos: 0,
    });
    assert!(proto::decode_report(&m.encode_to_vec()).is_ok());
}

#[test]
fn sub_millisecond_digits_are_dropped_alike() {
    // 1969-12-31T23:59:59.9995Z and 2017-08-14T09:00:00.0015Z in both forms.
    let r = &seed_reports()[0];
    for (text, seconds, nanos) in [
        ("1969-12-31T23:59:59.9995Z", -1i64, 999_500_000i32),
        ("2017-08-14T09:00:00.0015Z", 1_502_701_200, 1_500_000),
    ] {
        let mut v = serde_json::to_value(RawReport::from(r)).unwrap();
        // The incident occurs at the same time: it may not occur after its report's publication.
        v["published_at"] = text.into();
        v["incident"]["occurred_at"] = text.into();
        let mut m = pb::Report::decode(proto::encode_report(r).as_slice()).unwrap();
        m.published_at = Some(prost_types::Timestamp { seconds, nanos });
        m.incident.as_mut().unwrap().occurred_at = Some(prost_types::Timestamp { seconds, nanos });
        let from_json = json::decode_report(&serde_json::to_vec(&v).unwrap()).unwrap();
        let from_pb = proto::decode_report(&m.encode_to_vec()).unwrap();
        assert_eq!(from_json, from_pb, "{text}");
    }
}

#[test]
fn bad_ids_in_an_update_name_the_field() {
    let u = seed_updates()
        .into_iter()
        .find(|u| u.view.as_ref().is_some_and(|v| !v.evidence.is_empty()))
        .unwrap();
    let base = pb::Update::decode(proto::encode_update(&u).as_slice()).unwrap();

    let mut m = base.clone();
    m.view.as_mut().unwrap().evidence[0].report_id = " padded".into();
    assert_eq!(
        invalid(proto::decode_update(&m.encode_to_vec())),
        ("malformed", "view.evidence[0].report_id".into())
    );

    let mut m = base.clone();
    m.incident_id.clear();
    assert_eq!(
        proto::decode_update(&m.encode_to_vec()),
        Err(DecodeError::Invalid(ValidationError::Missing {
            field: "incident_id".into()
        }))
    );

    let mut m = base.clone();
    m.view.as_mut().unwrap().time = None;
    assert_eq!(
        proto::decode_update(&m.encode_to_vec()),
        Err(DecodeError::Invalid(ValidationError::Missing {
            field: "view.time".into()
        }))
    );

    let mut m = base.clone();
    m.view.as_mut().unwrap().grade = 17;
    assert_eq!(
        invalid(proto::decode_update(&m.encode_to_vec())),
        ("malformed", "view.grade".into())
    );

    let mut m = base;
    m.merge = Some(pb::update::Merge::AbsorbedInto(pb::AbsorbedInto {
        incident_id: "a\nb".into(),
    }));
    assert_eq!(
        invalid(proto::decode_update(&m.encode_to_vec())),
        ("malformed", "merge.absorbed_into.incident_id".into())
    );
}

#[test]
fn oversized_reports_are_refused_before_decoding() {
    let bytes = vec![0u8; reckon::core::limits::MAX_MESSAGE_BYTES + 1];
    assert!(matches!(
        proto::decode_report(&bytes),
        Err(DecodeError::TooLarge { .. })
    ));
}

/// The generators really produce what the round trips claim to cover: every assertion kind and
/// qualifier, optional fields present and absent, `stated_at` equal to and different from
/// `published_at`, non-ASCII names, absorbed updates without a view.
#[test]
fn generators_cover_the_model() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    use reckon::core::model::{Assertion, Quantity};
    use std::collections::BTreeSet;

    let mut runner = TestRunner::deterministic();
    let mut seen = BTreeSet::new();
    let strategy = arbitrary::report();
    for _ in 0..1000 {
        let r = strategy.new_tree(&mut runner).unwrap().current();
        seen.insert(if r.url.is_some() { "url" } else { "no url" });
        seen.insert(if r.incident.incident_id.is_some() {
            "incident id"
        } else {
            "no incident id"
        });
        seen.insert(if r.incident.location.coordinates.is_some() {
            "coordinates"
        } else {
            "no coordinates"
        });
        seen.insert(if r.publisher.name.is_some() {
            "name"
        } else {
            "no name"
        });
        seen.insert(if r.publisher.affiliated_with.is_some() {
            "affiliated"
        } else {
            "unaffiliated"
        });
        if r.publisher
            .name
            .as_ref()
            .is_some_and(|n| !n.as_str().is_ascii())
        {
            seen.insert("unicode name");
        }
        if !r.report_id.as_str().is_ascii() {
            seen.insert("unicode id");
        }
        if r.claims.len() >= 4 {
            seen.insert("several claims");
        }
        for c in &r.claims {
            seen.insert(if c.stated_at == r.published_at {
                "stated at publication"
            } else {
                "stated earlier or later"
            });
            seen.insert(match &c.assertion {
                Assertion::Casualties { count, .. } => match count {
                    Quantity::Exact { .. } => "exact",
                    Quantity::AtLeast { .. } => "at_least",
                    Quantity::AtMost { .. } => "at_most",
                    Quantity::Approximately { .. } => "approximately",
                    Quantity::Range { .. } => "range",
                    Quantity::Vague { .. } => "vague",
                },
                Assertion::Responsibility { .. } => "responsibility",
                Assertion::Cause { .. } => "cause",
                Assertion::Outcome { .. } => "outcome",
                Assertion::Retraction { .. } => "retraction",
            });
        }
    }
    let strategy = arbitrary::update();
    for _ in 0..300 {
        let u = strategy.new_tree(&mut runner).unwrap().current();
        match (&u.view, &u.merge) {
            (None, Some(reckon::core::update::MergeNotice::AbsorbedInto { .. })) => {
                seen.insert("absorbed update");
            }
            (Some(v), _) if !v.casualties.is_empty() && !v.evidence.is_empty() => {
                seen.insert("full view");
            }
            _ => {}
        }
    }
    for want in [
        "url",
        "no url",
        "incident id",
        "no incident id",
        "coordinates",
        "no coordinates",
        "name",
        "no name",
        "affiliated",
        "unaffiliated",
        "unicode name",
        "unicode id",
        "several claims",
        "stated at publication",
        "stated earlier or later",
        "exact",
        "at_least",
        "at_most",
        "approximately",
        "range",
        "vague",
        "responsibility",
        "cause",
        "outcome",
        "retraction",
        "absorbed update",
        "full view",
    ] {
        assert!(seen.contains(want), "the generators never produced: {want}");
    }
}

/// The JSON examples in `docs/wire-format.md` are what the decoders accept, and its first report
/// example is the seed's Amaq statement.
#[test]
fn documented_examples_decode() {
    let doc = include_str!("../docs/wire-format.md");
    let blocks: Vec<&str> = doc
        .split("```json\n")
        .skip(1)
        .filter_map(|b| b.split("\n```").next())
        .collect();
    let (mut reports, mut updates) = (Vec::new(), Vec::new());
    for b in &blocks {
        let v: Value = serde_json::from_str(b).unwrap_or_else(|e| panic!("{e}: {b}"));
        if v.get("report_id").is_some() {
            reports.push(json::decode_report(b.as_bytes()).unwrap_or_else(|e| panic!("{e}: {b}")));
        } else {
            updates.push(json::decode_update(b.as_bytes()).unwrap_or_else(|e| panic!("{e}: {b}")));
        }
    }
    assert_eq!(
        (reports.len(), updates.len()),
        (2, 2),
        "JSON examples in the doc"
    );
    assert_eq!(reports[0], seed_reports()[4]);
    // Every example survives the protobuf form too.
    for r in &reports {
        assert_eq!(
            proto::decode_report(&proto::encode_report(r)).as_ref(),
            Ok(r)
        );
    }
    for u in &updates {
        assert_eq!(
            proto::decode_update(&proto::encode_update(u)).as_ref(),
            Ok(u)
        );
    }
    assert!(updates[0].view.is_some() && updates[1].view.is_none());
}
