//! Validation at the boundary: one test per limit and per malformed field. Every error names the
//! field (with its full path) and, where one applies, the limit.

use reckon::core::error::ValidationError;
use reckon::core::limits::{
    MAX_CLAIMS_PER_REPORT, MAX_COUNT, MAX_ID_BYTES, MAX_MESSAGE_BYTES, MAX_NAME_BYTES,
    MAX_STATED_AFTER_PUBLISHED_MS, MAX_URL_BYTES,
};
use reckon::wire::json::decode_report;
use reckon::wire::DecodeError;
use serde_json::{json, Value};

fn valid() -> Value {
    json!({
        "schema_version": 1,
        "report_id": "r-1",
        "publisher": {"id": "daily-news", "name": "Daily News", "kind": "independent_media"},
        "published_at": "2017-08-14T10:00:00Z",
        "url": "https://example.org/a",
        "incident": {
            "occurred_at": "2017-08-13T00:00:00Z",
            "time_precision": "day",
            "location": {"country": "IQ", "admin1": "Baghdad", "admin2": "Baghdad", "place": "Karrada",
                         "coordinates": {"lat": 33.3, "lon": 44.4}, "precision": "place"},
            "event_type": "vbied", "target": "civilians"
        },
        "claims": [{
            "claimant": {"id": "police", "kind": "security_service"},
            "stated_at": "2017-08-14T09:00:00Z",
            "kind": "casualties", "party": "civilians", "outcome": "killed",
            "count": {"qualifier": "exact", "value": 3}
        }, {
            "claimant": {"id": "group", "kind": "perpetrator"},
            "kind": "responsibility", "actor": "group", "stance": "claimed"
        }]
    })
}

fn decode(v: &Value) -> Result<reckon::core::model::Report, DecodeError> {
    decode_report(v.to_string().as_bytes())
}

fn invalid(v: &Value) -> ValidationError {
    match decode(v) {
        Err(DecodeError::Invalid(e)) => e,
        other => panic!("expected a validation error, got {other:?}"),
    }
}

fn with(path: &[&str], value: Value) -> Value {
    let mut v = valid();
    let mut cur = &mut v;
    for (i, p) in path.iter().enumerate() {
        if i == path.len() - 1 {
            match p.parse::<usize>() {
                Ok(n) => cur[n] = value.clone(),
                Err(_) => cur[*p] = value.clone(),
            }
            break;
        }
        cur = match p.parse::<usize>() {
            Ok(n) => &mut cur[n],
            Err(_) => &mut cur[*p],
        };
    }
    v
}

#[test]
fn the_valid_report_decodes() {
    let r = decode(&valid()).unwrap();
    assert_eq!(r.claims.len(), 2);
    assert_eq!(
        r.claims[1].stated_at, r.published_at,
        "stated_at defaults to published_at"
    );
}

#[test]
fn a_leading_byte_order_mark_is_ignored_and_any_other_is_malformed() {
    let text = valid().to_string();
    let plain = decode_report(text.as_bytes()).unwrap();
    let marked = decode_report(format!("\u{feff}{text}").as_bytes()).unwrap();
    assert_eq!(marked, plain);
    for bad in [format!("{text}\u{feff}"), format!("\u{feff}\u{feff}{text}")] {
        assert!(
            matches!(decode_report(bad.as_bytes()), Err(DecodeError::Json { .. })),
            "{bad:?}"
        );
    }
}

#[test]
fn message_size_limit() {
    let mut v = valid();
    v["padding"] = json!("x".repeat(MAX_MESSAGE_BYTES));
    match decode(&v) {
        Err(DecodeError::TooLarge { limit, .. }) => assert_eq!(limit, MAX_MESSAGE_BYTES),
        other => panic!("{other:?}"),
    }
}

#[test]
fn claims_per_report_limit() {
    let claim = valid()["claims"][1].clone();
    let claims: Vec<Value> = (0..=MAX_CLAIMS_PER_REPORT)
        .map(|i| {
            let mut c = claim.clone();
            c["actor"] = json!(format!("group-{i}"));
            c
        })
        .collect();
    assert_eq!(
        invalid(&with(&["claims"], json!(claims))),
        ValidationError::TooMany {
            field: "claims".into(),
            count: MAX_CLAIMS_PER_REPORT + 1,
            limit: MAX_CLAIMS_PER_REPORT
        }
    );
    let at_limit: Vec<Value> = claims[..MAX_CLAIMS_PER_REPORT].to_vec();
    assert!(decode(&with(&["claims"], json!(at_limit))).is_ok());
}

#[test]
fn id_length_limits() {
    let long = json!("x".repeat(MAX_ID_BYTES + 1));
    for (path, field) in [
        (vec!["report_id"], "report_id"),
        (vec!["publisher", "id"], "publisher.id"),
        (vec!["incident", "incident_id"], "incident.incident_id"),
        (
            vec!["claims", "0", "claimant", "id"],
            "claims[0].claimant.id",
        ),
        (vec!["claims", "1", "actor"], "claims[1].actor"),
        (
            vec!["publisher", "affiliated_with"],
            "publisher.affiliated_with",
        ),
    ] {
        assert_eq!(
            invalid(&with(&path, long.clone())),
            ValidationError::TooLong {
                field: field.into(),
                len: MAX_ID_BYTES + 1,
                limit: MAX_ID_BYTES
            },
            "{field}"
        );
    }
}

#[test]
fn name_length_limits() {
    let long = json!("y".repeat(MAX_NAME_BYTES + 1));
    for (path, field) in [
        (vec!["publisher", "name"], "publisher.name"),
        (
            vec!["incident", "location", "admin1"],
            "incident.location.admin1",
        ),
        (
            vec!["incident", "location", "admin2"],
            "incident.location.admin2",
        ),
        (
            vec!["incident", "location", "place"],
            "incident.location.place",
        ),
    ] {
        assert_eq!(
            invalid(&with(&path, long.clone())),
            ValidationError::TooLong {
                field: field.into(),
                len: MAX_NAME_BYTES + 1,
                limit: MAX_NAME_BYTES
            },
            "{field}"
        );
    }
}

#[test]
fn url_limit_and_form() {
    let long = format!("https://example.org/{}", "z".repeat(MAX_URL_BYTES));
    assert!(
        matches!(invalid(&with(&["url"], json!(long))), ValidationError::TooLong { field, limit: MAX_URL_BYTES, .. } if field == "url")
    );
    assert!(
        matches!(invalid(&with(&["url"], json!("ftp://x"))), ValidationError::Malformed { field, .. } if field == "url")
    );
}

#[test]
fn count_range() {
    let path = ["claims", "0", "count"];
    assert_eq!(
        invalid(&with(
            &path,
            json!({"qualifier": "exact", "value": MAX_COUNT + 1})
        )),
        ValidationError::OutOfRange {
            field: "claims[0].count.value".into(),
            value: (MAX_COUNT + 1).to_string(),
            min: "0".into(),
            max: MAX_COUNT.to_string(),
        }
    );
    assert!(decode(&with(
        &path,
        json!({"qualifier": "exact", "value": MAX_COUNT})
    ))
    .is_ok());
    assert!(matches!(
        invalid(&with(&path, json!({"qualifier": "range", "min": 1, "max": MAX_COUNT + 1}))),
        ValidationError::OutOfRange { field, .. } if field == "claims[0].count.max"
    ));
    assert!(matches!(
        invalid(&with(&path, json!({"qualifier": "range", "min": 5, "max": 4}))),
        ValidationError::Malformed { field, .. } if field == "claims[0].count.min"
    ));
    // Negative numbers are not counts: a JSON error naming the claim and its field.
    match decode(&with(&path, json!({"qualifier": "exact", "value": -1}))) {
        Err(DecodeError::Json { path, message }) => {
            assert_eq!(path, "claims[0].count");
            assert!(message.contains("-1"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn timestamp_range_and_form() {
    for (path, field) in [
        (vec!["published_at"], "published_at"),
        (vec!["incident", "occurred_at"], "incident.occurred_at"),
        (vec!["claims", "0", "stated_at"], "claims[0].stated_at"),
    ] {
        assert!(
            matches!(invalid(&with(&path, json!("1850-01-01T00:00:00Z"))), ValidationError::OutOfRange { field: f, .. } if f == field),
            "{field} too early"
        );
        assert!(
            matches!(invalid(&with(&path, json!("2150-01-01T00:00:00Z"))), ValidationError::OutOfRange { field: f, .. } if f == field),
            "{field} too late"
        );
        assert!(
            matches!(invalid(&with(&path, json!("14 Aug 2017"))), ValidationError::Malformed { field: f, .. } if f == field),
            "{field} malformed"
        );
    }
}

#[test]
fn a_claim_is_stated_at_most_a_day_after_its_report_is_published() {
    // Published 2017-08-14T10:00:00Z: a day later is the last time accepted.
    assert_eq!(MAX_STATED_AFTER_PUBLISHED_MS, 24 * 3_600_000);
    let at = |t: &str| with(&["claims", "0", "stated_at"], json!(t));
    for ok in [
        "2017-08-15T10:00:00Z",
        "2017-08-14T10:00:00Z",
        "1990-01-01T00:00:00Z",
    ] {
        assert!(decode(&at(ok)).is_ok(), "{ok}");
    }
    for late in ["2017-08-15T10:00:00.001Z", "2071-08-14T10:00:00Z"] {
        match invalid(&at(late)) {
            ValidationError::OutOfRange {
                field, value, max, ..
            } => {
                assert_eq!(field, "claims[0].stated_at");
                assert_eq!(value, late);
                assert!(max.starts_with("2017-08-15T10:00:00Z"), "{max}");
            }
            other => panic!("{late}: {other:?}"),
        }
    }
}

#[test]
fn coordinate_ranges() {
    let path = ["incident", "location", "coordinates"];
    assert!(
        matches!(invalid(&with(&path, json!({"lat": 90.5, "lon": 0.0}))), ValidationError::OutOfRange { field, .. } if field == "incident.location.coordinates.lat")
    );
    assert!(
        matches!(invalid(&with(&path, json!({"lat": 0.0, "lon": -180.5}))), ValidationError::OutOfRange { field, .. } if field == "incident.location.coordinates.lon")
    );
}

#[test]
fn malformed_fields() {
    assert!(
        matches!(invalid(&with(&["incident", "location", "country"], json!("Iraq"))), ValidationError::Malformed { field, .. } if field == "incident.location.country")
    );
    assert_eq!(
        invalid(&with(&["report_id"], json!(""))),
        ValidationError::Missing {
            field: "report_id".into()
        }
    );
    assert!(
        matches!(invalid(&with(&["report_id"], json!("a\u{0007}b"))), ValidationError::Malformed { field, .. } if field == "report_id")
    );
    assert!(
        matches!(invalid(&with(&["publisher", "id"], json!(" padded"))), ValidationError::Malformed { field, .. } if field == "publisher.id")
    );
    assert_eq!(
        invalid(&with(&["incident", "location", "place"], json!("   "))),
        ValidationError::Missing {
            field: "incident.location.place".into()
        }
    );
    assert_eq!(
        invalid(&with(&["schema_version"], json!(2))),
        ValidationError::UnsupportedSchema {
            found: 2,
            supported: 1
        }
    );
}

#[test]
fn id_characters() {
    // Control characters anywhere, and whitespace at either end, ASCII or not, are refused.
    for bad in [
        "a\u{0007}b",
        "tab\there",
        "del\u{007f}",
        "line\n",
        "c1\u{0085}control",
        " lead",
        "trail ",
        "\u{00a0}nbsp-lead",
        "em-space-trail\u{2003}",
        "كرادة ",
    ] {
        assert!(
            matches!(invalid(&with(&["report_id"], json!(bad))), ValidationError::Malformed { field, .. } if field == "report_id"),
            "{bad:?}"
        );
    }
    // Inner spaces and letters of any script are fine.
    for good in ["a b", "كرادة-1", "r\u{00e9}sum\u{00e9}", "~!@#"] {
        let r = decode(&with(&["report_id"], json!(good))).unwrap();
        assert_eq!(r.report_id.as_str(), good);
    }
}

#[test]
fn name_characters() {
    // A control character anywhere in a name is refused, ASCII or not; any script is fine.
    for bad in ["Kar\u{0007}rada", "Karrada\u{007f}", "كرادة\u{0085}"] {
        assert!(
            matches!(invalid(&with(&["incident", "location", "place"], json!(bad))), ValidationError::Malformed { field, .. } if field == "incident.location.place"),
            "{bad:?}"
        );
    }
    let r = decode(&with(&["incident", "location", "place"], json!("الكرادة"))).unwrap();
    assert_eq!(
        r.incident.location.place.as_ref().map(|n| n.as_str()),
        Some("الكرادة")
    );
}

#[test]
fn two_claims_by_one_claimant_on_one_field_are_refused() {
    let mut v = valid();
    let dup = v["claims"][0].clone();
    v["claims"].as_array_mut().unwrap().push(dup);
    assert!(
        matches!(invalid(&v), ValidationError::Malformed { field, .. } if field == "claims[2]")
    );
}

#[test]
fn shape_errors_name_their_path() {
    let cases = [
        (
            with(&["incident", "event_type"], json!("meteor")),
            "incident.event_type",
            "",
        ),
        (
            with(&["publisher", "kind"], json!("oracle")),
            "publisher.kind",
            "",
        ),
        (
            with(&["claims", "0", "party"], json!("aliens")),
            "claims[0].party",
            "unknown variant",
        ),
        (
            with(&["claims", "0", "outcome"], json!("vanished")),
            "claims[0]",
            "outcome: unknown variant",
        ),
        (
            with(&["claims", "0", "claimant", "kind"], json!("oracle")),
            "claims[0].claimant.kind",
            "unknown variant",
        ),
        (
            with(&["claims", "1", "kind"], json!("rumour")),
            "claims[1].kind",
            "unknown variant",
        ),
        (
            with(&["claims", "1", "stance"], json!(null)),
            "claims[1]",
            "stance: missing",
        ),
    ];
    for (v, expected, message_start) in cases {
        match decode(&v) {
            Err(DecodeError::Json { path, message }) => {
                assert_eq!(path, expected);
                assert!(message.starts_with(message_start), "{message}");
            }
            other => panic!("{expected}: {other:?}"),
        }
    }
    let mut missing = valid();
    missing.as_object_mut().unwrap().remove("report_id");
    assert!(matches!(decode(&missing), Err(DecodeError::Json { .. })));
    assert!(matches!(
        decode_report(b"{not json"),
        Err(DecodeError::Json { .. })
    ));
    assert!(matches!(
        decode_report(&[0xff, 0xfe, 0x00]),
        Err(DecodeError::Json { .. })
    ));
    // A complete report followed by anything but whitespace is not one report.
    let mut trailing = serde_json::to_vec(&valid()).unwrap();
    trailing.extend_from_slice(b" {}");
    match decode_report(&trailing) {
        Err(DecodeError::Json { path, message }) => {
            assert_eq!(path, ".");
            assert!(message.starts_with("trailing characters"), "{message}");
        }
        other => panic!("trailing characters: {other:?}"),
    }
    let mut newline = serde_json::to_vec(&valid()).unwrap();
    newline.extend_from_slice(b"\r\n");
    assert!(decode_report(&newline).is_ok());
}
