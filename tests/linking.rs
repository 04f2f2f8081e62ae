//! Linking: explicit ids, transliteration variants, districts, coordinates, time windows, merges.

use reckon::core::model::IncidentId;
use reckon::core::registry::SourceRegistry;
use reckon::core::update::{MergeNotice, Update};
use reckon::core::Engine;
use reckon::wire::json;
use serde_json::{json, Value};

/// A report with one casualty claim by a witness; `loc` and `extra` override the defaults.
fn report(id: &str, minute: u32, loc: Value, extra: Value) -> reckon::core::model::Report {
    let mut r = json!({
        "report_id": id,
        "publisher": {"id": "daily-news", "kind": "independent_media"},
        // Published after every event time the tests give: an incident may not occur after its
        // report is published.
        "published_at": format!("2017-09-01T10:{minute:02}:00Z"),
        "incident": {
            "occurred_at": "2017-08-13T00:00:00Z",
            "time_precision": "day",
            "location": loc,
            "event_type": "vbied",
            "target": "civilians"
        },
        "claims": [{
            "claimant": {"id": format!("witness-{id}"), "kind": "witness"},
            "kind": "casualties", "party": "civilians", "outcome": "killed",
            "count": {"qualifier": "exact", "value": 3}
        }]
    });
    if let Value::Object(m) = extra {
        for (k, v) in m {
            if k == "incident" {
                for (ik, iv) in v.as_object().unwrap() {
                    r["incident"][ik] = iv.clone();
                }
            } else {
                r[k] = v;
            }
        }
    }
    json::decode_report(r.to_string().as_bytes()).expect("valid test report")
}

fn baghdad(place: &str) -> Value {
    json!({"country": "IQ", "admin1": "Baghdad", "admin2": "Baghdad", "place": place})
}

/// A report of Karrada, Baghdad, at the event time `at` of the given precision.
fn at_time(id: &str, minute: u32, at: &str, precision: &str) -> reckon::core::model::Report {
    report(
        id,
        minute,
        baghdad("Karrada"),
        json!({"incident": {"occurred_at": at, "time_precision": precision}}),
    )
}

/// The ministry's toll of civilians killed, a claim that a second attack's report would
/// replace if the two were linked.
fn ministry_killed(killed: u32) -> Value {
    json!({
        "claimant": {"id": "iraq-moh", "kind": "government"},
        "kind": "casualties", "party": "civilians", "outcome": "killed",
        "count": {"qualifier": "exact", "value": killed}
    })
}

/// The best figure of each incident's first estimate, sorted: the tolls that stand.
fn tolls(e: &Engine) -> Vec<u32> {
    let mut t: Vec<u32> = e
        .views()
        .iter()
        .filter_map(|v| v.casualties.first()?.best.as_ref().map(|b| b.value))
        .collect();
    t.sort();
    t
}

fn apply_all(reports: &[reckon::core::model::Report]) -> (Engine, Vec<Update>) {
    let mut e = Engine::new(SourceRegistry::default());
    let updates = reports.iter().flat_map(|r| e.apply(r)).collect();
    (e, updates)
}

#[test]
fn transliteration_variants_join_one_incident() {
    let (e, _) = apply_all(&[
        report("a", 0, baghdad("Karrada"), json!({})),
        report("b", 1, baghdad("Karada"), json!({})),
        report("c", 2, baghdad("al-Karrada"), json!({})),
    ]);
    assert_eq!(e.live_incidents(), 1);
    let v = &e.views()[0];
    assert_eq!(v.evidence.len(), 3);
    assert_eq!(
        v.location.places.len(),
        3,
        "every spelling kept for the record"
    );
}

#[test]
fn spellings_of_a_province_and_district_that_fold_alike_join_one_incident() {
    let loc = |admin1: &str, admin2: &str| json!({"country": "IQ", "admin1": admin1, "admin2": admin2, "place": "al-Bwair"});
    let reports = [
        report("a", 0, loc("Nineveh", "Tal Afar"), json!({})),
        report("b", 1, loc("Ninawa", "Tel Afar"), json!({})),
        report("c", 2, loc("Ninewa", "Tall Afar"), json!({})),
    ];
    // One region key, so a producer keys all three to one partition.
    let keys: Vec<String> = reports.iter().map(|r| r.region_key()).collect();
    assert_eq!(keys, ["iq/nanawa"; 3]);
    let (e, _) = apply_all(&reports);
    assert_eq!(e.live_incidents(), 1);
    let v = &e.views()[0];
    assert_eq!(v.evidence.len(), 3);
    let names = |ns: &[reckon::core::model::Name]| -> Vec<String> {
        ns.iter().map(|n| n.as_str().to_string()).collect()
    };
    assert_eq!(names(&v.location.admin1), ["Ninawa", "Nineveh", "Ninewa"]);
    assert_eq!(
        names(&v.location.admin2),
        ["Tal Afar", "Tall Afar", "Tel Afar"]
    );
}

#[test]
fn districts_whose_names_fold_to_different_letters_stay_apart() {
    // Kadhimiya and Adhamiya face each other across the Tigris.
    let (e, _) = apply_all(&[
        report("a", 0, baghdad("Kadhimiya"), json!({})),
        report("b", 1, baghdad("Adhamiya"), json!({})),
        report("c", 2, baghdad("Kazimiyah"), json!({})),
    ]);
    assert_eq!(e.live_incidents(), 2);
    let sizes: Vec<usize> = e.views().iter().map(|v| v.evidence.len()).collect();
    assert!(sizes.contains(&2) && sizes.contains(&1), "{sizes:?}");
}

#[test]
fn a_state_stored_under_older_name_keys_links_after_restore() {
    let loc = |admin1: &str| json!({"country": "IQ", "admin1": admin1, "place": "al-Bwair"});
    let (e, _) = apply_all(&[report("a", 0, loc("Nineveh"), json!({}))]);
    // The state as a version before folding stored it: the normalised name as region and key.
    let stored: Vec<String> = e
        .incidents()
        .map(|i| {
            serde_json::to_string(i)
                .unwrap()
                .replace("iq/nanawa", "iq/nineveh")
        })
        .collect();
    assert!(stored[0].contains("iq/nineveh") && stored[0].contains("\"key\":\"nineveh\""));
    let restored = stored.iter().map(|s| serde_json::from_str(s).unwrap());
    let mut e = Engine::restore(SourceRegistry::default(), restored);
    let before: Vec<IncidentId> = e.views().into_iter().map(|v| v.incident_id).collect();
    e.apply(&report("b", 1, loc("Ninawa"), json!({})));
    let views = e.views();
    assert_eq!(views.len(), 1, "the new report joins the restored incident");
    assert_eq!(views[0].incident_id, before[0]);
    assert_eq!(views[0].region, "iq/nanawa");
    assert_eq!(views[0].evidence.len(), 2);
}

#[test]
fn same_day_attacks_in_different_districts_stay_two() {
    let (e, _) = apply_all(&[
        report("a", 0, baghdad("Karrada"), json!({})),
        report("b", 1, baghdad("Palestine district"), json!({})),
        report("c", 2, baghdad("al-Karada"), json!({})),
    ]);
    assert_eq!(e.live_incidents(), 2);
    let sizes: Vec<usize> = e.views().iter().map(|v| v.evidence.len()).collect();
    assert!(sizes.contains(&2) && sizes.contains(&1));
}

#[test]
fn attacks_of_different_kinds_at_one_place_on_one_day_stay_two_whether_or_not_the_city_is_named() {
    let kind = |event_type: &str, target: &str| json!({"incident": {"event_type": event_type, "target": target}});
    let karrada = json!({"country": "IQ", "admin1": "Baghdad", "place": "Karrada"});
    for location in [baghdad("Karrada"), karrada] {
        // A shooting at a police checkpoint and a car bomb at a market: another kind of
        // event on another target. Naming the city as well as the district is no more
        // evidence that they are one.
        let (e, _) = apply_all(&[
            report(
                "shooting",
                0,
                location.clone(),
                kind("shooting", "security_forces"),
            ),
            report("bombing", 1, location.clone(), kind("vbied", "civilians")),
        ]);
        assert_eq!(e.live_incidents(), 2, "{location}");
        // Reports of one attack that disagree on its kind or on its target alone are one.
        for (event_type, target) in [("shooting", "civilians"), ("vbied", "security_forces")] {
            let (e, _) = apply_all(&[
                report("first", 0, location.clone(), kind("vbied", "civilians")),
                report("second", 1, location.clone(), kind(event_type, target)),
            ]);
            assert_eq!(e.live_incidents(), 1, "{location} {event_type} {target}");
        }
    }
}

#[test]
fn places_that_differ_by_a_number_letter_or_direction_stay_apart() {
    // Spelled almost alike, so spelling tolerance alone would join each pair; the differing
    // marker says they are different places. A report naming the place without a marker
    // ("Mosul") may still join either.
    for (a, b) in [
        ("East Mosul", "West Mosul"),
        ("Camp 1", "Camp 2"),
        ("Checkpoint 12", "Checkpoint 21"),
        ("Zone A", "Zone B"),
    ] {
        let (e, _) = apply_all(&[
            report("a", 0, baghdad(a), json!({})),
            report("b", 1, baghdad(b), json!({})),
        ]);
        assert_eq!(e.live_incidents(), 2, "{a} / {b}");
    }
    let (e, _) = apply_all(&[
        report("a", 0, baghdad("East Mosul"), json!({})),
        report("b", 1, baghdad("Mosul"), json!({})),
    ]);
    assert_eq!(e.live_incidents(), 1);
}

#[test]
fn a_place_named_less_precisely_does_not_bridge_two_marked_places() {
    // Karrada Kharij (outer) and Karrada Dakhil (inner) are two places; a report naming only
    // Karrada may join either, but does not make them one, in any order.
    let [kharij, karrada, dakhil] = [
        report("a", 0, baghdad("Karrada Kharij"), json!({})),
        report("b", 1, baghdad("Karrada"), json!({})),
        report("c", 2, baghdad("Karrada Dakhil"), json!({})),
    ];
    for order in [
        [&kharij, &karrada, &dakhil],
        [&kharij, &dakhil, &karrada],
        [&dakhil, &karrada, &kharij],
    ] {
        let reports: Vec<_> = order.into_iter().cloned().collect();
        let (e, _) = apply_all(&reports);
        let mut places: Vec<Vec<String>> = e
            .views()
            .iter()
            .map(|v| v.location.places.iter().map(|p| p.to_string()).collect())
            .collect();
        places.sort();
        assert_eq!(places.len(), 2, "{places:?}");
        assert!(
            places
                .iter()
                .all(|p| !(p.contains(&"Karrada Kharij".to_string())
                    && p.contains(&"Karrada Dakhil".to_string()))),
            "{places:?}"
        );
    }
}

#[test]
fn different_provinces_and_far_apart_days_do_not_link() {
    let (e, _) = apply_all(&[
        report("a", 0, baghdad("Karrada"), json!({})),
        report(
            "b",
            1,
            json!({"country": "IQ", "admin1": "Basra", "place": "Karrada"}),
            json!({}),
        ),
        report(
            "c",
            2,
            baghdad("Karrada"),
            json!({"incident": {"occurred_at": "2017-08-20T00:00:00Z"}}),
        ),
    ]);
    assert_eq!(e.live_incidents(), 3);
}

#[test]
fn reports_either_side_of_a_week_of_the_index_link() {
    // The index files incidents by week (weeks start on a Thursday, 1970-01-01): 2017-08-10
    // starts one. A report of the day before, and one a month-precise report away, still find
    // the incident.
    let (e, _) = apply_all(&[
        report(
            "a",
            0,
            baghdad("Karrada"),
            json!({"incident": {"occurred_at": "2017-08-09T00:00:00Z"}}),
        ),
        report(
            "b",
            1,
            baghdad("Karrada"),
            json!({"incident": {"occurred_at": "2017-08-10T00:00:00Z"}}),
        ),
        report(
            "c",
            2,
            baghdad("Karrada"),
            json!({"incident": {"occurred_at": "2017-08-30T00:00:00Z", "time_precision": "month"}}),
        ),
    ]);
    assert_eq!(e.live_incidents(), 1);
    assert_eq!(e.views()[0].evidence.len(), 3);
}

#[test]
fn a_date_given_at_local_midnight_is_the_incidents_date() {
    // A Baghdad desk writes the 13th as local midnight; a wire service writes it in UTC.
    let local = at_time("local", 0, "2017-08-13T00:00:00+03:00", "day");
    let utc = at_time("utc", 1, "2017-08-13T00:00:00Z", "day");
    let (e, _) = apply_all(&[local, utc]);
    let views = e.views();
    assert_eq!(views.len(), 1);
    let v = &views[0];
    // The id is dated by the incident that opened it: the local report's.
    assert!(
        v.incident_id.to_string().starts_with("iq-20170813-"),
        "{}",
        v.incident_id
    );
    assert_eq!(v.time.earliest.to_rfc3339(), "2017-08-13T00:00:00Z");
    assert_eq!(v.time.latest.to_rfc3339(), "2017-08-13T00:00:00Z");
}

#[test]
fn an_incident_spans_at_most_one_window_so_daily_attacks_do_not_chain() {
    // 2017-08-13 at day precision links 36 hours either side. A report of 14 August noon
    // joins (the incident then spans 36 hours); one of 15 August late evening would stretch it
    // to 71 hours and is another incident, though it lies within 36 hours of the last.
    let (e, _) = apply_all(&[
        report("a", 0, baghdad("Karrada"), json!({})),
        at_time("b", 1, "2017-08-14T12:00:00Z", "exact"),
        at_time("c", 2, "2017-08-15T23:00:00Z", "day"),
    ]);
    assert_eq!(e.live_incidents(), 2);
    // Thirty days of shelling at one place, one report a day: each day's report may join the
    // day before, never a run of three, so no day's toll replaces the others'.
    let daily: Vec<_> = (1..=30)
        .map(|d| {
            at_time(
                &format!("d{d:02}"),
                d,
                &format!("2017-08-{d:02}T00:00:00Z"),
                "day",
            )
        })
        .collect();
    let (e, _) = apply_all(&daily);
    assert_eq!(e.live_incidents(), 15);
    assert!(e.views().iter().all(|v| v.evidence.len() == 2));
}

#[test]
fn a_report_knowing_only_the_week_or_month_does_not_widen_the_days_of_an_incident() {
    // A car bomb at Karrada on the 13th, a weekly or monthly summary at the place, and another
    // car bomb there days later. The summary's date says nothing of which day: the later
    // attack is another incident, in whichever order the three arrive, so that one claimant's
    // toll for it never replaces its toll for the first.
    let days = |e: &Engine| {
        let mut v: Vec<_> = e
            .views()
            .iter()
            .map(|v| (v.time.earliest.to_rfc3339(), v.time.latest.to_rfc3339()))
            .collect();
        v.sort();
        v
    };
    for (summary_at, precision, later) in [
        ("2017-08-14T00:00:00Z", "week", "2017-08-19T00:00:00Z"),
        ("2017-08-01T00:00:00Z", "month", "2017-08-25T00:00:00Z"),
    ] {
        let first = report("a", 0, baghdad("Karrada"), json!({}));
        let summary = at_time("s", 1, summary_at, precision);
        let second = at_time("b", 2, later, "day");
        for order in [
            [&first, &summary, &second],
            [&summary, &first, &second],
            [&first, &second, &summary],
            [&second, &summary, &first],
        ] {
            let reports: Vec<_> = order.into_iter().cloned().collect();
            let (e, _) = apply_all(&reports);
            assert_eq!(e.live_incidents(), 2, "{precision}: {order:?}");
            // Each incident spans the day its attack's report gives.
            assert_eq!(
                days(&e),
                [
                    (
                        "2017-08-13T00:00:00Z".to_string(),
                        "2017-08-13T00:00:00Z".to_string()
                    ),
                    (later.to_string(), later.to_string())
                ],
                "{precision}"
            );
        }
    }
    // A day within the week either side of a weekly summary's date, or within the calendar
    // month of a monthly one, joins the summary when nothing else does.
    for (summary_at, precision, day, joins) in [
        ("2017-08-14T00:00:00Z", "week", "2017-08-19T00:00:00Z", true),
        (
            "2017-08-14T00:00:00Z",
            "week",
            "2017-08-24T00:00:00Z",
            false,
        ),
        (
            "2017-08-01T00:00:00Z",
            "month",
            "2017-08-25T00:00:00Z",
            true,
        ),
        (
            "2017-08-01T00:00:00Z",
            "month",
            "2017-07-05T00:00:00Z",
            false,
        ),
        (
            "2017-07-01T00:00:00Z",
            "month",
            "2017-08-03T00:00:00Z",
            false,
        ),
        (
            "2017-07-01T00:00:00Z",
            "month",
            "2017-07-31T00:00:00Z",
            true,
        ),
        // A local date may differ by a day and a half, after a 31-day month as after a short
        // one: the 2nd of the next month joins, the 3rd does not (above for July).
        (
            "2017-08-01T00:00:00Z",
            "month",
            "2017-09-02T00:00:00Z",
            true,
        ),
        (
            "2017-02-01T00:00:00Z",
            "month",
            "2017-03-02T00:00:00Z",
            true,
        ),
        (
            "2017-07-01T00:00:00Z",
            "month",
            "2017-08-02T00:00:00Z",
            true,
        ),
        (
            "2017-02-01T00:00:00Z",
            "month",
            "2017-03-03T00:00:00Z",
            false,
        ),
    ] {
        for order in [false, true] {
            let mut reports = vec![
                at_time("s", 1, summary_at, precision),
                at_time("d", 2, day, "day"),
            ];
            if order {
                reports.reverse();
            }
            let (e, _) = apply_all(&reports);
            let expected = if joins { 1 } else { 2 };
            assert_eq!(e.live_incidents(), expected, "{precision} {day}");
        }
    }
}

#[test]
fn a_coarser_time_does_not_bridge_two_attacks_given_more_precisely() {
    // Two car bombs at Karrada with exact times 35 hours apart, each with the ministry's toll,
    // and a report that knows only the day of one; and a monitor's July and August figures
    // for the place. Each pair stays two, in every order, and no toll replaces another.
    let toll = |id: &str, m: u32, at: &str, precision: &str, killed: u32| {
        report(
            id,
            m,
            baghdad("Karrada"),
            json!({"incident": {"occurred_at": at, "time_precision": precision},
                   "claims": [ministry_killed(killed)]}),
        )
    };
    let exact = [
        toll("a", 0, "2017-08-13T09:00:00Z", "exact", 12),
        at_time("d", 1, "2017-08-14T00:00:00Z", "day"),
        toll("b", 2, "2017-08-14T20:00:00Z", "exact", 7),
    ];
    let monthly = [
        toll("jul", 0, "2017-07-01T00:00:00Z", "month", 30),
        toll("aug", 1, "2017-08-01T00:00:00Z", "month", 20),
    ];
    for order in [[0, 1, 2], [1, 0, 2], [0, 2, 1], [2, 1, 0]] {
        let reports: Vec<_> = order.iter().map(|&i| exact[i].clone()).collect();
        assert_eq!(tolls(&apply_all(&reports).0), [7, 12], "{order:?}");
    }
    for order in [[0, 1], [1, 0]] {
        let reports: Vec<_> = order.iter().map(|&i| monthly[i].clone()).collect();
        assert_eq!(tolls(&apply_all(&reports).0), [20, 30], "{order:?}");
    }
    // The view's time is that of the most precise reports.
    let (e, _) = apply_all(&exact[..2]);
    let views = e.views();
    assert_eq!(views.len(), 1);
    assert_eq!(views[0].time.earliest.to_rfc3339(), "2017-08-13T09:00:00Z");
    assert_eq!(views[0].time.latest.to_rfc3339(), "2017-08-13T09:00:00Z");
}

/// Sources differ on whether a city or its district is the second-level area. One place named
/// alike at coordinates under 2 km apart is one spot, whatever second level each gives; without
/// both, a second level that differs still keeps reports apart.
#[test]
fn one_place_at_one_spot_links_though_the_second_level_area_differs() {
    let karrada = |id: &str, m: u32, admin2: &str, at: Option<(f64, f64)>| {
        let mut loc =
            json!({"country": "IQ", "admin1": "Baghdad", "admin2": admin2, "place": "Karrada"});
        if let Some((lat, lon)) = at {
            loc["coordinates"] = json!({"lat": lat, "lon": lon});
        }
        report(id, m, loc, json!({}))
    };
    // 70 m apart: one incident, however the reports arrive.
    for pair in [["a", "b"], ["b", "a"]] {
        let all = [
            karrada("a", 0, "Baghdad", Some((33.3050, 44.4230))),
            karrada("b", 1, "Rusafa", Some((33.3055, 44.4235))),
        ];
        let ordered: Vec<_> = pair
            .iter()
            .map(|id| {
                all.iter()
                    .find(|r| r.report_id.as_str() == *id)
                    .unwrap()
                    .clone()
            })
            .collect();
        let (e, _) = apply_all(&ordered);
        assert_eq!(e.live_incidents(), 1, "{pair:?}");
    }
    // No coordinates, or 5 km apart: the districts keep them apart.
    let (e, _) = apply_all(&[
        karrada("a", 0, "Baghdad", None),
        karrada("b", 1, "Rusafa", None),
    ]);
    assert_eq!(e.live_incidents(), 2);
    let (e, _) = apply_all(&[
        karrada("a", 0, "Baghdad", Some((33.305, 44.423))),
        karrada("b", 1, "Rusafa", Some((33.350, 44.423))),
    ]);
    assert_eq!(e.live_incidents(), 2);
    // Two incidents apart for want of coordinates: a report matching both strongly joins the
    // one it matches best (at its spot), and they cannot merge yet, as `a` has no coordinates
    // and names another second level.
    let (e, updates) = apply_all(&[
        karrada("a", 0, "Baghdad", None),
        karrada("b", 1, "Rusafa", Some((33.3050, 44.4230))),
        karrada("c", 2, "Baghdad", Some((33.3051, 44.4231))),
    ]);
    assert_eq!(e.live_incidents(), 2);
    assert!(updates.iter().all(|u| u.merge.is_none()));
    let last = updates.last().and_then(|u| u.view.as_ref()).unwrap();
    let ids: Vec<&str> = last.evidence.iter().map(|x| x.report_id.as_str()).collect();
    assert_eq!(ids, ["b", "c"], "c joins the incident at its spot");
    // Now that incident also names Baghdad as the second level: the next report matching
    // both strongly shows they are one.
    let (e, updates) = apply_all(&[
        karrada("a", 0, "Baghdad", None),
        karrada("b", 1, "Rusafa", Some((33.3050, 44.4230))),
        karrada("c", 2, "Baghdad", Some((33.3051, 44.4231))),
        karrada("d", 3, "Baghdad", Some((33.3052, 44.4232))),
    ]);
    assert_eq!(e.live_incidents(), 1);
    assert!(updates.iter().any(|u| u.merge.is_some()));
}

#[test]
fn coordinates_link_nearby_and_separate_distant_reports() {
    let near = |id: &str, m: u32, lat: f64| {
        report(
            id,
            m,
            json!({"country": "IQ", "admin1": "Baghdad", "coordinates": {"lat": lat, "lon": 44.42}, "precision": "exact"}),
            json!({"incident": {"event_type": "unknown", "target": "unknown"}}),
        )
    };
    let (e, _) = apply_all(&[
        near("a", 0, 33.300),
        near("b", 1, 33.305),
        near("c", 2, 33.9),
    ]);
    assert_eq!(
        e.live_incidents(),
        2,
        "0.5 km apart link; 66 km apart do not"
    );
}

#[test]
fn spots_pinned_kilometres_apart_in_one_city_are_two_attacks() {
    // Two car bombs in Baghdad on one day, each geolocated to its spot, 7.9 km apart; the
    // ministry gives a toll for each. Within 30 km, they scored as one incident and the
    // second toll replaced the first.
    let at = |id: &str, m: u32, lat: f64, lon: f64, precision: &str, killed: u32| {
        report(
            id,
            m,
            json!({"country": "IQ", "admin1": "Baghdad", "admin2": "Baghdad",
                   "coordinates": {"lat": lat, "lon": lon}, "precision": precision}),
            json!({"claims": [ministry_killed(killed)]}),
        )
    };
    let (e, _) = apply_all(&[
        at("a", 0, 33.300, 44.420, "exact", 12),
        at("b", 1, 33.340, 44.350, "exact", 7),
    ]);
    assert_eq!(tolls(&e), [7, 12]);
    // A report naming only the city, of the same kind and target, scores strongly against
    // both; it joins one and does not merge them.
    let (e, _) = apply_all(&[
        at("a", 0, 33.300, 44.420, "exact", 12),
        at("b", 1, 33.340, 44.350, "exact", 7),
        report(
            "c",
            2,
            json!({"country": "IQ", "admin1": "Baghdad", "admin2": "Baghdad"}),
            json!({}),
        ),
    ]);
    assert_eq!(tolls(&e), [7, 12]);
    // Spots 3 km apart may be one attack pinned by two sources; the same points given as
    // the centres of what reports name are held only to 30 km.
    let (e, _) = apply_all(&[
        at("a", 0, 33.300, 44.420, "exact", 12),
        at("b", 1, 33.327, 44.420, "exact", 7),
    ]);
    assert_eq!(e.live_incidents(), 1);
    let (e, _) = apply_all(&[
        at("a", 0, 33.300, 44.420, "admin2", 12),
        at("b", 1, 33.340, 44.350, "exact", 7),
    ]);
    assert_eq!(e.live_incidents(), 1);
}

#[test]
fn explicit_incident_id_wins_over_matching() {
    let (e, _) = apply_all(&[
        report("a", 0, baghdad("Karrada"), json!({})),
        // b names acled-123 and matches a's incident strongly: a's incident is absorbed.
        report(
            "b",
            1,
            baghdad("Karrada"),
            json!({"incident": {"incident_id": "acled-123"}}),
        ),
        // c names acled-123 from elsewhere in the city: the explicit id still wins.
        report(
            "c",
            2,
            baghdad("Sadr City"),
            json!({"incident": {"incident_id": "acled-123"}}),
        ),
        // d names nothing and matches acled-123.
        report("d", 3, baghdad("al-Karrada"), json!({})),
    ]);
    let id = IncidentId::parse("acled-123").unwrap();
    let explicit = e.incident(&id).expect("the explicit incident exists");
    assert!(explicit.is_live());
    assert_eq!(e.live_incidents(), 1);
    assert_eq!(e.view(&id).unwrap().evidence.len(), 4);
}

#[test]
fn a_place_an_incident_gains_later_links_reports_that_name_it() {
    let (e, _) = apply_all(&[
        report(
            "a",
            0,
            baghdad("Karrada"),
            json!({"incident": {"incident_id": "acled-7"}}),
        ),
        // b adds a second place to acled-7 through its id.
        report(
            "b",
            1,
            baghdad("Sadr City"),
            json!({"incident": {"incident_id": "acled-7"}}),
        ),
        // c names only the place b added, and no incident: it must still find acled-7 (the
        // incident's window must not keep ruling out every place but the first).
        report("c", 2, baghdad("Sadr City"), json!({})),
        // d names the first place again.
        report("d", 3, baghdad("al-Karrada"), json!({})),
    ]);
    let id = IncidentId::parse("acled-7").unwrap();
    assert_eq!(e.live_incidents(), 1);
    assert_eq!(e.view(&id).unwrap().evidence.len(), 4);
}

#[test]
fn explicit_incidents_are_never_merged_into_each_other() {
    let (e, _) = apply_all(&[
        report(
            "a",
            0,
            baghdad("Karrada"),
            json!({"incident": {"incident_id": "x-1"}}),
        ),
        report(
            "b",
            1,
            baghdad("Karrada"),
            json!({"incident": {"incident_id": "x-2"}}),
        ),
        report("c", 2, baghdad("Karrada"), json!({})),
    ]);
    assert_eq!(e.live_incidents(), 2);
}

#[test]
fn a_report_naming_an_incident_of_another_region_is_refused() {
    let named = |id: &str, minute: u32, loc: Value| {
        report(id, minute, loc, json!({"incident": {"incident_id": "x1"}}))
    };
    let mut e = Engine::new(SourceRegistry::default());
    assert_eq!(e.apply(&named("a", 0, baghdad("Karrada"))).len(), 1);
    let aleppo = json!({"country": "SY", "admin1": "Aleppo", "place": "Karrada"});
    let refused = e.try_apply(&named("b", 1, aleppo)).unwrap_err();
    assert_eq!(refused.reason_code(), "other_region");
    assert!(
        refused.to_string().contains("iq/baghdad") && refused.to_string().contains("in sy/"),
        "{refused}"
    );
    // Refused whole: the incident is as it was, and the report was not taken in.
    let v = &e.views()[0];
    assert_eq!((e.live_incidents(), v.evidence.len()), (1, 1));
    assert_eq!(v.location.country.as_str(), "IQ");
    // A report of the same region still joins it.
    assert_eq!(e.apply(&named("c", 2, baghdad("Karada"))).len(), 1);
    assert_eq!(e.views()[0].evidence.len(), 2);
    // A report giving no first-level area is of the country's region, which is said so.
    let no_area = json!({"country": "IQ", "place": "Karrada"});
    let refused = e.try_apply(&named("d", 3, no_area)).unwrap_err();
    assert_eq!(refused.reason_code(), "other_region");
    assert_eq!(
        refused.to_string(),
        "incident x1 is in region iq/baghdad, this report in iq (no first-level area given): \
         reports naming one incident id must share a region (country and first-level area)"
    );
}

#[test]
fn ids_are_deterministic_functions_of_the_log() {
    let reports = [
        report("a", 0, baghdad("Karrada"), json!({})),
        report("b", 1, baghdad("Palestine district"), json!({})),
    ];
    let (e1, u1) = apply_all(&reports);
    let (e2, u2) = apply_all(&reports);
    assert_eq!(u1, u2);
    let ids: Vec<String> = e1
        .views()
        .iter()
        .map(|v| v.incident_id.to_string())
        .collect();
    assert_eq!(
        ids,
        e2.views()
            .iter()
            .map(|v| v.incident_id.to_string())
            .collect::<Vec<_>>()
    );
    assert!(ids.iter().all(|i| i.starts_with("iq-20170813-")), "{ids:?}");
}

#[test]
fn later_evidence_merges_two_incidents_and_says_so() {
    // a names the village; b gives only coordinates: too little in common to link.
    let a = report(
        "a",
        0,
        json!({"country": "IQ", "admin1": "Nineveh", "place": "al-Bwair"}),
        json!({"incident": {"event_type": "unknown", "target": "unknown"}}),
    );
    let b = report(
        "b",
        1,
        json!({"country": "IQ", "admin1": "Nineveh", "coordinates": {"lat": 36.38, "lon": 42.50}, "precision": "exact"}),
        json!({"incident": {"event_type": "unknown", "target": "unknown"}}),
    );
    // c names the village and gives coordinates next to b's: it is both.
    let c = report(
        "c",
        2,
        json!({"country": "IQ", "admin1": "Nineveh", "place": "Al Bwair village", "coordinates": {"lat": 36.381, "lon": 42.501}, "precision": "exact"}),
        json!({"incident": {"event_type": "shelling", "target": "military"}}),
    );
    let (mut e, updates) = apply_all(&[a.clone(), b.clone(), c]);
    assert_eq!(e.live_incidents(), 1);
    // Reports of the absorbed incident are still known: applying them again does nothing.
    assert!(e.apply(&a).is_empty() && e.apply(&b).is_empty());
    let last_two = &updates[updates.len() - 2..];
    let absorbed = &last_two[0];
    let survivor = &last_two[1];
    assert!(absorbed.view.is_none());
    assert_eq!(absorbed.changes, vec!["merged".to_string()]);
    assert_eq!(
        absorbed.merge,
        Some(MergeNotice::AbsorbedInto {
            incident_id: survivor.incident_id.clone()
        })
    );
    assert_eq!(
        survivor.merge,
        Some(MergeNotice::Absorbed {
            incidents: vec![absorbed.incident_id.clone()]
        })
    );
    assert!(survivor.changes.contains(&"merged".to_string()));
    assert_eq!(survivor.view.as_ref().unwrap().evidence.len(), 3);
    // The absorbed id points at the survivor.
    assert_eq!(
        e.view(&absorbed.incident_id).unwrap().incident_id,
        survivor.incident_id
    );
    // A later report like b, which alone matched only the absorbed incident, joins the
    // survivor: the absorbed incident is no longer a candidate.
    let d = report(
        "d",
        3,
        json!({"country": "IQ", "admin1": "Nineveh", "coordinates": {"lat": 36.38, "lon": 42.50}, "precision": "exact"}),
        json!({"incident": {"event_type": "unknown", "target": "unknown"}}),
    );
    let after = e.apply(&d);
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].incident_id, survivor.incident_id);
    assert_eq!(after[0].view.as_ref().unwrap().evidence.len(), 4);
}

#[test]
fn a_report_naming_no_kind_does_not_merge_attacks_of_different_kinds() {
    // One report names the district; another gives only coordinates in it. Too little in
    // common to link, so two incidents, until a report giving both matches each strongly.
    let named = json!({"country": "IQ", "admin1": "Baghdad", "place": "Karrada"});
    let point = json!({"country": "IQ", "admin1": "Baghdad", "coordinates": {"lat": 33.30, "lon": 44.42}, "precision": "exact"});
    let both = json!({"country": "IQ", "admin1": "Baghdad", "place": "Karrada", "coordinates": {"lat": 33.301, "lon": 44.421}, "precision": "exact"});
    // The bridging report tells nothing of the kind of attack: "an attack in Karrada".
    let vague = report(
        "vague",
        2,
        both,
        json!({"incident": {"event_type": "unknown", "target": "unknown"}}),
    );
    // A shooting at a checkpoint, and the second attack as reported: a car bomb on civilians
    // is another kind of event on another target, two attacks; a bomb on security forces or
    // a clash with civilians caught in it may be the same one, misreported.
    for (event_type, target, one) in [
        ("vbied", "civilians", false),
        ("ied", "security_forces", true),
        ("armed_clash", "civilians", true),
    ] {
        let case = format!("{event_type} on {target}");
        let shooting = report(
            "shooting",
            0,
            named.clone(),
            json!({"incident": {"event_type": "shooting", "target": "security_forces"}}),
        );
        let second = report(
            "second",
            1,
            point.clone(),
            json!({"incident": {"event_type": event_type, "target": target}}),
        );
        let (mut e, _) = apply_all(&[shooting, second]);
        assert_eq!(e.live_incidents(), 2, "{case}");
        let updates = e.apply(&vague);
        if one {
            assert_eq!(e.live_incidents(), 1, "{case}: {updates:?}");
            assert!(updates.iter().any(|u| u.merge.is_some()), "{case}");
            continue;
        }
        assert_eq!(
            updates.len(),
            1,
            "{case}: one update, no merge: {updates:?}"
        );
        assert_eq!(updates[0].merge, None);
        assert_eq!(e.live_incidents(), 2, "{case}: the attacks stay apart");
        // It joined the incident opened earliest, the shooting's.
        let view = updates[0].view.as_ref().unwrap();
        let ids: Vec<&str> = view.evidence.iter().map(|x| x.report_id.as_str()).collect();
        assert_eq!(ids, ["shooting", "vague"], "{case}");
    }
}

#[test]
fn a_merge_that_would_overfill_the_survivor_does_not_happen() {
    use reckon::core::limits::MAX_REPORTS_PER_INCIDENT;
    // As in the merge above: reports naming the village, and reports giving only coordinates,
    // are two incidents until a report that is both joins them. Here they hold one report
    // more than an incident may, once joined.
    let village = |i: usize| {
        report(
            &format!("v{i}"),
            0,
            json!({"country": "IQ", "admin1": "Nineveh", "place": "al-Bwair"}),
            json!({"incident": {"event_type": "unknown", "target": "unknown"}}),
        )
    };
    let point = |i: usize| {
        report(
            &format!("p{i}"),
            1,
            json!({"country": "IQ", "admin1": "Nineveh", "coordinates": {"lat": 36.38, "lon": 42.50}, "precision": "exact"}),
            json!({"incident": {"event_type": "shelling", "target": "military"}}),
        )
    };
    // The village's incident is opened first and holds fewer reports; the report below
    // matches the other better (the same kind and target).
    let half = MAX_REPORTS_PER_INCIDENT / 2;
    let mut reports: Vec<_> = (0..half - 1).map(village).collect();
    reports.extend((0..MAX_REPORTS_PER_INCIDENT - half + 1).map(point));
    let (mut e, _) = apply_all(&reports);
    assert_eq!(e.live_incidents(), 2);
    let both = report(
        "both",
        2,
        json!({"country": "IQ", "admin1": "Nineveh", "place": "Al Bwair village", "coordinates": {"lat": 36.381, "lon": 42.501}, "precision": "exact"}),
        json!({"incident": {"event_type": "shelling", "target": "military"}}),
    );
    let updates = e.try_apply(&both).unwrap();
    assert_eq!(updates.len(), 1, "one update, no merge notice: {updates:?}");
    assert_eq!(updates[0].merge, None);
    assert_eq!(e.live_incidents(), 2, "the incidents stay apart");
    let mut sizes: Vec<usize> = e.views().iter().map(|v| v.evidence.len()).collect();
    sizes.sort_unstable();
    // The report joined the incident it matched best, not the earlier-opened one a merge
    // would have kept.
    assert_eq!(sizes, vec![half - 1, MAX_REPORTS_PER_INCIDENT - half + 2]);
}

#[test]
fn a_report_that_cannot_merge_two_incidents_joins_the_one_it_matches_best() {
    // A shooting at a Karrada checkpoint and a car bomb on civilians there, pinned, the same
    // day: two attacks, which never merge. A hospital's toll pinned 150 m from the car bomb,
    // naming no kind of attack, matches both strongly (the place and the day; the car bomb
    // also at its spot), and the ministry's raised toll for the car bomb matches it best of
    // all. Both join the car bomb, in whichever order the attacks were first reported.
    let karrada = |at: Option<(f64, f64)>| {
        let mut loc = json!({"country": "IQ", "admin1": "Baghdad", "place": "Karrada"});
        if let Some((lat, lon)) = at {
            loc["coordinates"] = json!({"lat": lat, "lon": lon});
            loc["precision"] = json!("exact");
        }
        loc
    };
    let kind = |event_type: &str, target: &str, claims: Value| json!({"incident": {"event_type": event_type, "target": target}, "claims": claims});
    let killed = |claimant: &str, kind: &str, party: &str, n: u32| {
        json!([{"claimant": {"id": claimant, "kind": kind}, "kind": "casualties",
                "party": party, "outcome": "killed", "count": {"qualifier": "exact", "value": n}}])
    };
    let shooting = |m| {
        report(
            "shooting",
            m,
            karrada(None),
            kind(
                "shooting",
                "security_forces",
                killed("army", "military", "security_forces", 2),
            ),
        )
    };
    let bomb = |m| {
        report(
            "bomb",
            m,
            karrada(Some((33.300, 44.420))),
            kind(
                "vbied",
                "civilians",
                killed("moh", "government", "civilians", 30),
            ),
        )
    };
    let hospital = report(
        "hospital",
        2,
        karrada(Some((33.301, 44.421))),
        kind(
            "unknown",
            "unknown",
            killed("hospital", "medical", "civilians", 35),
        ),
    );
    let raised = report(
        "raised",
        3,
        karrada(Some((33.300, 44.420))),
        kind(
            "vbied",
            "civilians",
            killed("moh", "government", "civilians", 40),
        ),
    );
    // Two incidents a feed named (explicit), never merged: the same toll joins the car bomb.
    let named = |r: &reckon::core::model::Report, id: &str| {
        let mut r = r.clone();
        r.incident.incident_id = Some(reckon::core::model::IncidentId::parse(id).unwrap());
        r
    };
    let (e, _) = apply_all(&[
        named(&shooting(0), "karrada-checkpoint"),
        named(&bomb(1), "karrada-bomb"),
        hospital.clone(),
    ]);
    let bomb_view = e
        .views()
        .into_iter()
        .find(|v| v.incident_id.as_str() == "karrada-bomb")
        .unwrap();
    let ids: Vec<&str> = bomb_view
        .evidence
        .iter()
        .map(|x| x.report_id.as_str())
        .collect();
    assert_eq!(ids, ["bomb", "hospital"]);
    for first in [[shooting(0), bomb(1)], [bomb(0), shooting(1)]] {
        let mut all = first.to_vec();
        all.extend([hospital.clone(), raised.clone()]);
        let (e, updates) = apply_all(&all);
        assert!(updates.iter().all(|u| u.merge.is_none()));
        let figure = |f: &Option<reckon::core::view::Figure>| f.as_ref().map(|f| f.value);
        // Per incident: its reports, and each estimate's low and high.
        type Tolls = Vec<(Option<u32>, Option<u32>)>;
        let mut by_kind: Vec<(Vec<&str>, Tolls)> = Vec::new();
        let views = e.views();
        for v in &views {
            let ids = v.evidence.iter().map(|x| x.report_id.as_str()).collect();
            let tolls = v
                .casualties
                .iter()
                .map(|c| (figure(&c.low), figure(&c.high)))
                .collect();
            by_kind.push((ids, tolls));
        }
        by_kind.sort();
        assert_eq!(
            by_kind,
            [
                (
                    vec!["bomb", "hospital", "raised"],
                    vec![(Some(35), Some(40))]
                ),
                (vec!["shooting"], vec![(Some(2), Some(2))]),
            ]
        );
    }
}
