//! Validation at the boundary: one test per limit and per malformed field. Every error names the
//! field (with its full path) and, where one applies, the limit.

use prost::Message;
use reckon::core::error::ValidationError;
use reckon::core::limits::{
    MAX_CLAIMS_PER_REPORT, MAX_COUNT, MAX_ID_BYTES, MAX_MESSAGE_BYTES, MAX_NAME_BYTES,
    MAX_STATED_AFTER_PUBLISHED_MS, MAX_URL_BYTES,
};
use reckon::wire::json::decode_report;
use reckon::wire::{proto, DecodeError};
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

/// Decodes the valid report with the value at `path` written as the JSON number `number`, as
/// text: a `serde_json::Value` cannot hold every number a report may carry.
fn decode_with_number(
    path: &[&str],
    number: &str,
) -> Result<reckon::core::model::Report, DecodeError> {
    let text = with(path, json!("NUMBER"))
        .to_string()
        .replace("\"NUMBER\"", number);
    decode_report(text.as_bytes())
}

/// Decodes the protobuf form of the valid report, changed by `change`.
fn decode_pb_with(
    change: impl FnOnce(&mut proto::pb::Report),
) -> Result<reckon::core::model::Report, DecodeError> {
    let mut m = proto::report_to_pb(&decode(&valid()).unwrap());
    change(&mut m);
    proto::decode_report(&m.encode_to_vec())
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
fn a_document_that_is_not_an_object_is_refused_as_such() {
    for (text, found) in [
        ("[]", "an array"),
        (r#"["r1"]"#, "an array"),
        (r#""hello""#, "a string"),
        ("null", "null"),
        ("  42", "a number"),
        ("true", "a boolean"),
        ("", "nothing"),
        ("<report/>", "something that is not JSON"),
    ] {
        match decode_report(text.as_bytes()) {
            Err(DecodeError::Json { path, message }) => {
                assert_eq!(path, ".", "{text:?}");
                assert_eq!(
                    message,
                    format!("a report must be a JSON object ({{...}}), found {found}"),
                    "{text:?}"
                );
            }
            other => panic!("{text:?}: {other:?}"),
        }
    }
    // A cut-off object says so.
    assert!(matches!(
        decode_report(br#"{"report_id":"x","#),
        Err(DecodeError::Json { path, message })
            if path == "." && message.starts_with("the document ends before it is complete")
    ));
    // An object still gets the parser's word on what is wrong in it.
    assert!(matches!(
        decode_report(b"{}"),
        Err(DecodeError::Json { message, .. }) if message.contains("report_id")
    ));
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
fn url_scheme_in_any_case_and_a_host_is_required() {
    // Schemes are case-insensitive (RFC 3986): held in lower case, the rest as given.
    for (given, held) in [
        ("HTTPS://EXAMPLE.ORG", "https://EXAMPLE.ORG"),
        ("Http://example.org/a?b=c", "http://example.org/a?b=c"),
        (
            "https://user@example.org:8443/",
            "https://user@example.org:8443/",
        ),
        ("http://[2001:db8::1]/x", "http://[2001:db8::1]/x"),
    ] {
        let r = decode(&with(&["url"], json!(given))).unwrap();
        assert_eq!(r.url.as_ref().map(|u| u.as_str()), Some(held));
        let from_pb = decode_pb_with(|m| m.url = Some(given.into()));
        assert_eq!(from_pb, Ok(r), "{given}");
    }
    // No host: refused, naming the field, in both forms.
    for bad in [
        "https://",
        "HTTP://",
        "https:///a/b",
        "https://?q=1",
        "https://#top",
        "https://:443/",
        "https://user@/x",
        "https://[]/",
    ] {
        let err = invalid(&with(&["url"], json!(bad)));
        assert_eq!(
            err,
            ValidationError::Malformed {
                field: "url".into(),
                reason: "has no host".into()
            },
            "{bad}"
        );
        assert_eq!(err.to_string(), "url: has no host");
        assert_eq!(
            decode_pb_with(|m| m.url = Some(bad.into())),
            Err(DecodeError::Invalid(err)),
            "{bad}"
        );
    }
    // Other schemes stay refused, in any case.
    for bad in ["FTP://example.org", "httpx://example.org", "example.org"] {
        assert!(
            matches!(invalid(&with(&["url"], json!(bad))), ValidationError::Malformed { field, reason } if field == "url" && reason == "not an http(s) URL"),
            "{bad}"
        );
    }
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
}

#[test]
fn integers_beyond_their_type_are_invalid_naming_the_field_and_the_range() {
    // Beyond u32, negative, beyond i64: the same range error as a count just over the limit,
    // with the reason `invalid`, not a parse error.
    let count = ["claims", "0", "count"];
    for (number, leaf) in [
        ("4294967295", "max"),
        ("4294967296", "max"),
        ("18446744073709551615", "max"),
        ("-1", "min"),
        ("-9223372036854775808", "min"),
    ] {
        let mut v = with(&count, json!({"qualifier": "range", "min": 0, "max": 4}));
        v["claims"][0]["count"][leaf] = json!("NUMBER");
        let text = v.to_string().replace("\"NUMBER\"", number);
        let err = decode_report(text.as_bytes()).unwrap_err();
        assert_eq!(err.reason_code(), "invalid", "{number}: {err}");
        assert_eq!(
            err.to_string(),
            format!("invalid report: claims[0].count.{leaf}: {number} is outside 0..=1000000")
        );
    }
    // Beyond 64 bits the JSON parser holds a number as a float: shown as that float's digits.
    for (number, shown) in [
        ("99999999999999999999999", "99999999999999991611392"),
        ("-99999999999999999999999", "-99999999999999991611392"),
        ("1e300", &format!("1{}", "0".repeat(300))),
    ] {
        match decode_with_number(&["claims", "0", "count", "value"], number) {
            Err(DecodeError::Invalid(ValidationError::OutOfRange {
                field,
                value,
                min,
                max,
            })) => {
                assert_eq!(field, "claims[0].count.value", "{number}");
                assert_eq!(value, shown, "{number}");
                assert_eq!((min.as_str(), max), ("0", MAX_COUNT.to_string()));
            }
            other => panic!("{number}: {other:?}"),
        }
    }
    for number in [
        "99999999999",
        "-1",
        "0",
        "4294967297",
        "123456789012345678901234567890",
    ] {
        match decode_with_number(&["schema_version"], number) {
            Err(e @ DecodeError::Invalid(ValidationError::UnsupportedSchema { .. })) => {
                assert!(
                    e.to_string()
                        .ends_with("is not supported (this build reads 1)"),
                    "{e}"
                );
            }
            other => panic!("schema_version {number}: {other:?}"),
        }
    }
    assert_eq!(
        decode_with_number(&["schema_version"], "99999999999")
            .unwrap_err()
            .to_string(),
        "invalid report: schema_version: 99999999999 is not supported (this build reads 1)"
    );
}

#[test]
fn a_number_that_is_not_whole_is_malformed_at_its_path() {
    // 3.5, or a string, for a count is malformed JSON, named down to the number's own field.
    for (leaf, number, says) in [
        ("value", "3.5", "must be a whole number, not 3.5"),
        (
            "value",
            "\"3\"",
            "invalid type: string \"3\", expected a whole number",
        ),
        ("value", "-0.25", "must be a whole number, not -0.25"),
        (
            "value",
            "true",
            "invalid type: boolean `true`, expected a whole number",
        ),
    ] {
        match decode_with_number(&["claims", "0", "count", leaf], number) {
            Err(DecodeError::Json { path, message }) => {
                assert_eq!(path, format!("claims[0].count.{leaf}"), "{number}");
                // The parser adds where in the text.
                assert!(message.starts_with(says), "{number}: {message}");
            }
            other => panic!("{number}: {other:?}"),
        }
    }
    let mut range = valid();
    range["claims"][0]["count"] = json!({"qualifier": "range", "min": 1, "max": "4"});
    match decode(&range) {
        Err(DecodeError::Json { path, .. }) => assert_eq!(path, "claims[0].count.max"),
        other => panic!("{other:?}"),
    }
    match decode_with_number(&["schema_version"], "1.5") {
        Err(DecodeError::Json { path, message }) => {
            assert_eq!(path, "schema_version");
            assert!(
                message.starts_with("must be a whole number, not 1.5"),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }
    // A number is read by its value, not its spelling: 3.0 and 3e0 are 3.
    for number in ["3.0", "3e0", "0.3e1"] {
        let r = decode_with_number(&["claims", "0", "count", "value"], number).unwrap();
        assert_eq!(
            r.claims[0].assertion,
            decode(&valid()).unwrap().claims[0].assertion,
            "{number}"
        );
    }
    assert!(decode_with_number(&["schema_version"], "1.0").is_ok());
    // A count still refuses another qualifier's fields, and needs its own.
    let count = |q: Value| decode(&with(&["claims", "0", "count"], q));
    for (q, says) in [
        (
            json!({"qualifier": "exact", "value": 2, "min": 1}),
            "unknown field `min`, expected `value`",
        ),
        (
            json!({"qualifier": "range", "min": 1, "max": 2, "word": "dozens"}),
            "unknown field `word`, expected `min` or `max`",
        ),
        (
            json!({"qualifier": "range", "min": 1}),
            "missing field `max`",
        ),
        (json!({"qualifier": "vague"}), "missing field `word`"),
    ] {
        match count(q.clone()) {
            Err(DecodeError::Json { path, message }) => {
                assert_eq!(path, "claims[0].count", "{q}");
                assert!(message.starts_with(says), "{q}: {message}");
            }
            other => panic!("{q}: {other:?}"),
        }
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
    for ok in ["2017-08-15T10:00:00Z", "2017-08-14T10:00:00Z"] {
        assert!(decode(&at(ok)).is_ok(), "{ok}");
    }
    refused_after_publication(at, "claims[0].stated_at", "2071-08-14T10:00:00Z");
    // Too late, the error still gives the range's real lower bound, not the earliest time.
    assert!(matches!(
        invalid(&at("2071-08-14T10:00:00Z")),
        ValidationError::OutOfRange { min, .. } if min.starts_with("2017-08-11T12:00:00Z (the incident's")
    ));
}

#[test]
fn a_claim_is_stated_no_earlier_than_its_incident_less_the_link_window() {
    // The incident is dated 2017-08-13 (day precision, a 36-hour link window): the earliest
    // statement accepted is 2017-08-11T12:00:00Z.
    let at = |t: &str| with(&["claims", "0", "stated_at"], json!(t));
    for ok in [
        "2017-08-11T12:00:00Z",
        // The 13th had begun at +14:00 by 10:00 UTC on the 12th: a local date allows it.
        "2017-08-12T10:00:00Z",
        "2017-08-13T00:30:00+14:00",
        "2017-08-12T12:00:00Z",
    ] {
        assert!(decode(&at(ok)).is_ok(), "{ok}");
    }
    // A mistyped year, which would otherwise lose to every earlier statement.
    let err = invalid(&at("2016-08-14T09:00:00Z"));
    assert_eq!(
        err.to_string(),
        "claims[0].stated_at: 2016-08-14T09:00:00Z is outside 2017-08-11T12:00:00Z (the \
         incident's occurred_at, 2017-08-13T00:00:00Z, less its link window at day precision, 36 \
         hours: a claim cannot be stated before the incident it is about)..=2017-08-15T10:00:00Z \
         (a day after the report's published_at)"
    );
    assert!(matches!(
        invalid(&at("2017-08-11T11:59:59.999Z")),
        ValidationError::OutOfRange { field, min, .. }
            if field == "claims[0].stated_at" && min.starts_with("2017-08-11T12:00:00Z (the incident's")
    ));
    // A value written with another offset is also given in UTC, as the bounds are.
    assert!(matches!(
        invalid(&at("2017-08-11T14:59:59+03:00")),
        ValidationError::OutOfRange { value, .. }
            if value == "2017-08-11T14:59:59+03:00 (read as 2017-08-11T11:59:59Z)"
    ));
    // The protobuf form passes the same validator: the same error.
    let from_pb = decode_pb_with(|m| {
        m.claims[0].stated_at = Some(prost_types::Timestamp {
            seconds: 1_471_165_200, // 2016-08-14T09:00:00Z
            nanos: 0,
        });
    });
    assert_eq!(from_pb, Err(DecodeError::Invalid(err)));

    // The window is the precision's: 6 hours for a time known to the minute, 31 days for one
    // known to the month.
    let known = |precision: &str, stated: &str| {
        let mut v = at(stated);
        v["incident"]["time_precision"] = json!(precision);
        v["incident"]["occurred_at"] = json!("2017-08-13T18:30:00Z");
        decode(&v)
    };
    assert!(known("exact", "2017-08-13T12:30:00Z").is_ok());
    assert!(matches!(
        known("exact", "2017-08-13T12:29:59Z"),
        Err(DecodeError::Invalid(ValidationError::OutOfRange { min, .. }))
            if min.starts_with("2017-08-13T12:30:00Z (the incident's occurred_at, \
                2017-08-13T18:30:00Z, less its link window at exact precision, 6 hours:")
    ));
    // Known to the month, the time is its month's first day (2017-08-01).
    assert!(known("month", "2017-07-01T00:00:00Z").is_ok());
    assert!(matches!(
        known("month", "2017-06-30T23:59:59Z"),
        Err(DecodeError::Invalid(ValidationError::OutOfRange { min, .. }))
            if min.starts_with("2017-07-01T00:00:00Z (the incident's occurred_at, \
                2017-08-01T00:00:00Z as its month's first day, less its link window at month \
                precision, 31 days:")
    ));
}

#[test]
fn a_time_known_to_the_month_is_its_months_first_day() {
    // Any date of August, known to the month, names August: the last day is accepted from a
    // report published mid-month, and held as the month's first day.
    let month = |at: &str| {
        let mut v = with(&["incident", "occurred_at"], json!(at));
        v["incident"]["time_precision"] = json!("month");
        v["claims"][0]["stated_at"] = json!("2017-08-14T09:00:00Z");
        decode(&v)
    };
    for at in [
        "2017-08-31T00:00:00Z",
        "2017-08-13T00:00:00+03:00",
        "2017-08-01T00:00:00Z",
    ] {
        let r = month(at).expect(at);
        assert_eq!(
            r.incident.occurred_at.to_rfc3339(),
            "2017-08-01T00:00:00Z",
            "{at}"
        );
    }
    // A month that has not begun a day after publication is refused.
    assert!(matches!(
        month("2017-09-02T00:00:00Z"),
        Err(DecodeError::Invalid(ValidationError::OutOfRange { .. }))
    ));
}

#[test]
fn a_claim_stated_at_publication_is_never_too_early() {
    // Known to the minute, the incident may be dated up to a day after publication, beyond its
    // 6-hour window: a claim without stated_at is stated at publication, and one stated then
    // explicitly is accepted alike; only an earlier one is refused.
    let at = |t: &str| {
        let mut v = with(&["claims", "0", "stated_at"], json!(t));
        v["incident"]["time_precision"] = json!("exact");
        v["incident"]["occurred_at"] = json!("2017-08-15T09:00:00Z");
        v
    };
    assert!(decode(&at("2017-08-14T10:00:00Z")).is_ok());
    let mut omitted = at("2017-08-14T10:00:00Z");
    omitted["claims"][0]
        .as_object_mut()
        .unwrap()
        .remove("stated_at");
    assert!(decode(&omitted).is_ok());
    assert_eq!(
        invalid(&at("2017-08-14T09:59:59Z")).to_string(),
        "claims[0].stated_at: 2017-08-14T09:59:59Z is outside 2017-08-14T10:00:00Z (the \
         report's published_at)..=2017-08-15T10:00:00Z (a day after the report's published_at)"
    );
}

/// Asserts that a time a millisecond past a day after the valid report's publication, and
/// `wrong_year`, are refused as out of range at `field`, naming the last time accepted.
fn refused_after_publication(at: impl Fn(&str) -> Value, field: &str, wrong_year: &str) {
    for late in ["2017-08-15T10:00:00.001Z", wrong_year] {
        match invalid(&at(late)) {
            ValidationError::OutOfRange {
                field: f,
                value,
                max,
                ..
            } => {
                assert_eq!(f, field);
                assert_eq!(value, late);
                assert!(max.starts_with("2017-08-15T10:00:00Z"), "{max}");
            }
            other => panic!("{late}: {other:?}"),
        }
    }
}

#[test]
fn an_incident_occurs_at_most_a_day_after_its_report_is_published() {
    // Published 2017-08-14T10:00:00Z: a day later is the last time accepted, as for stated_at.
    // Known to the minute, the time is an instant. The claim is stated at publication: one
    // stated earlier than the incident less its window is refused (see below).
    let at = |t: &str| {
        let mut v = with(&["incident", "occurred_at"], json!(t));
        v["incident"]["time_precision"] = json!("exact");
        v["claims"][0].as_object_mut().unwrap().remove("stated_at");
        v
    };
    for ok in [
        "2017-08-15T10:00:00Z",
        "2017-08-15T12:00:00+02:00",
        "2017-08-14T10:00:00Z",
        "1990-01-01T00:00:00Z",
    ] {
        assert!(decode(&at(ok)).is_ok(), "{ok}");
    }
    refused_after_publication(at, "incident.occurred_at", "2099-08-13T00:00:00Z");
    let err = invalid(&at("2099-08-13T00:00:00Z"));
    assert_eq!(
        err.to_string(),
        "incident.occurred_at: 2099-08-13T00:00:00Z is outside \
         1900-01-01T00:00:00Z..=2017-08-15T10:00:00Z (a day after the report's published_at)"
    );
    // The protobuf form passes the same validator: the same error.
    let from_pb = decode_pb_with(|m| {
        let incident = m.incident.as_mut().unwrap();
        incident.time_precision = proto::pb::TimePrecision::Exact as i32;
        incident.occurred_at = Some(prost_types::Timestamp {
            seconds: 4_090_262_400, // 2099-08-13T00:00:00Z
            nanos: 0,
        });
    });
    assert_eq!(from_pb, Err(DecodeError::Invalid(err)));

    // Known to the day, the time names a date, and that date's midnight is what is bounded:
    // the 15th is the last date accepted, whatever its offset.
    let on = |t: &str| with(&["incident", "occurred_at"], json!(t));
    for ok in ["2017-08-15T23:59:00+03:00", "2017-08-15T10:00:00.001Z"] {
        assert!(decode(&on(ok)).is_ok(), "{ok}");
    }
    match invalid(&on("2017-08-16T00:00:00+03:00")) {
        ValidationError::OutOfRange { field, max, .. } => {
            assert_eq!(field, "incident.occurred_at");
            assert!(max.starts_with("2017-08-15T10:00:00Z"), "{max}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_time_known_to_the_day_or_coarser_is_the_date_the_report_gave() {
    // Local midnight in Baghdad (+03:00) is 21:00 UTC the day before: the report still says
    // the 13th, and so do the incident's time, its id and the day it is linked on (known to
    // the month, the month's first day: see the test above).
    for (precision, date) in [
        ("day", "2017-08-13T00:00:00Z"),
        ("week", "2017-08-13T00:00:00Z"),
        ("month", "2017-08-01T00:00:00Z"),
    ] {
        for given in [
            "2017-08-13T00:00:00+03:00",
            "2017-08-13T23:30:00-05:00",
            "2017-08-13T12:00:00Z",
        ] {
            let mut v = with(&["incident", "occurred_at"], json!(given));
            v["incident"]["time_precision"] = json!(precision);
            let r = decode(&v).unwrap();
            assert_eq!(
                r.incident.occurred_at.to_rfc3339(),
                date,
                "{given} at {precision}"
            );
        }
    }
    // Known to the hour or the minute, the time is an instant, held in UTC.
    for precision in ["exact", "hour"] {
        let mut v = with(
            &["incident", "occurred_at"],
            json!("2017-08-13T00:00:00+03:00"),
        );
        v["incident"]["time_precision"] = json!(precision);
        let r = decode(&v).unwrap();
        assert_eq!(
            r.incident.occurred_at.to_rfc3339(),
            "2017-08-12T21:00:00Z",
            "{precision}"
        );
    }
    // The bounds apply to the date: 1900-01-01 given east of Greenwich is in range.
    let mut v = with(
        &["incident", "occurred_at"],
        json!("1900-01-01T01:00:00+03:00"),
    );
    v["published_at"] = json!("1900-01-02T00:00:00Z");
    v["claims"][0]["stated_at"] = json!("1900-01-01T12:00:00Z");
    assert_eq!(
        decode(&v).unwrap().incident.occurred_at.to_rfc3339(),
        "1900-01-01T00:00:00Z"
    );
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
fn a_country_code_no_country_has_is_refused() {
    let path = ["incident", "location", "country"];
    for code in ["XX", "uk"] {
        let e = invalid(&with(&path, json!(code)));
        assert!(
            matches!(&e, ValidationError::Malformed { field, reason } if field == "incident.location.country" && reason.contains("not an assigned ISO 3166-1")),
            "{code}: {e}"
        );
    }
    // Kosovo's code, which the standard leaves to users, is accepted.
    assert!(decode_report(with(&path, json!("XK")).to_string().as_bytes()).is_ok());
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
    assert!(matches!(
        invalid(&with(&["schema_version"], json!(2))),
        ValidationError::UnsupportedSchema { found, supported: 1 } if found == "2"
    ));
}

#[test]
fn an_optional_text_given_empty_or_blank_is_refused_as_such_not_as_missing() {
    // An optional field may be left out; given empty it is refused, but not as "required".
    for (path, field) in [
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
        (vec!["publisher", "name"], "publisher.name"),
        (
            vec!["claims", "0", "claimant", "name"],
            "claims[0].claimant.name",
        ),
        (
            vec!["publisher", "affiliated_with"],
            "publisher.affiliated_with",
        ),
        (vec!["incident", "incident_id"], "incident.incident_id"),
        (vec!["url"], "url"),
    ] {
        for blank in ["", "   "] {
            // An id with surrounding spaces is refused as such, before blankness.
            let id = field.ends_with("_id") || field.ends_with("_with");
            if id && !blank.is_empty() {
                continue;
            }
            let err = invalid(&with(&path, json!(blank)));
            assert_eq!(
                err.to_string(),
                format!("{field}: empty or blank; leave the field out instead"),
                "{blank:?}"
            );
            assert!(
                matches!(&err, ValidationError::Malformed { field: f, .. } if f == field),
                "{err:?}"
            );
        }
    }
    // The same in the protobuf form, where the field is present but empty.
    assert_eq!(
        decode_pb_with(|m| m
            .incident
            .as_mut()
            .unwrap()
            .location
            .as_mut()
            .unwrap()
            .admin1 = Some(String::new())),
        Err(DecodeError::Invalid(invalid(&with(
            &["incident", "location", "admin1"],
            json!("")
        ))))
    );
    // A required field given empty is still missing.
    assert_eq!(
        invalid(&with(&["report_id"], json!(""))),
        ValidationError::Missing {
            field: "report_id".into()
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

#[test]
fn ids_and_names_are_held_in_composed_form() {
    // "hôpital" with ô as one character (NFC) and as o and a combining circumflex (NFD): they
    // look the same, so they are one source and one place, whichever a report uses.
    let (nfc, nfd) = ("h\u{f4}pital-yarmouk", "ho\u{302}pital-yarmouk");
    let mut v = with(&["claims", "0", "claimant", "id"], json!(nfd));
    v["incident"]["location"]["place"] = json!("Karra\u{304}da");
    let r = decode(&v).unwrap();
    assert_eq!(r.claims[0].claimant.id.as_str(), nfc);
    assert_eq!(
        r.incident.location.place.as_ref().unwrap().as_str(),
        "Karr\u{101}da"
    );
    let v = with(&["claims", "0", "claimant", "id"], json!(nfc));
    assert_eq!(decode(&v).unwrap().claims[0].claimant.id.as_str(), nfc);
}
