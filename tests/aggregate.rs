//! The incident aggregate: idempotence, corrections by `published_at`, retractions, relays,
//! party claims, qualifiers and vague words, categorical fields and grades.

use reckon::core::model::{Harm, Party, Report, SourceKind};
use reckon::core::registry::SourceRegistry;
use reckon::core::update::Update;
use reckon::core::view::{CasualtyEstimate, Grade, IncidentView};
use reckon::core::Engine;
use reckon::wire::json;
use serde_json::{json, Value};

fn claimant(id: &str, kind: &str) -> Value {
    json!({"id": id, "kind": kind})
}

fn killed(by: Value, count: Value) -> Value {
    json!({"claimant": by, "kind": "casualties", "party": "civilians", "outcome": "killed", "count": count})
}

fn exact(n: u32) -> Value {
    json!({"qualifier": "exact", "value": n})
}

/// A report about one Karrada bombing, published at `minute` past 10:00 by `publisher`.
fn report(id: &str, minute: u32, publisher: Value, claims: Vec<Value>) -> Report {
    report_of(id, minute, publisher, ("vbied", "civilians"), claims)
}

/// The same report about Karrada, with the event type and target it gives.
fn report_of(
    id: &str,
    minute: u32,
    publisher: Value,
    (event_type, target): (&str, &str),
    claims: Vec<Value>,
) -> Report {
    let r = json!({
        "report_id": id,
        "publisher": publisher,
        "published_at": format!("2017-08-14T10:{minute:02}:00Z"),
        "incident": {
            "occurred_at": "2017-08-13T00:00:00Z",
            "location": {"country": "IQ", "admin1": "Baghdad", "place": "Karrada"},
            "event_type": event_type, "target": target
        },
        "claims": claims
    });
    json::decode_report(r.to_string().as_bytes()).expect("valid test report")
}

fn media(id: &str) -> Value {
    claimant(id, "independent_media")
}

fn fold(reports: &[Report]) -> (Vec<Update>, IncidentView) {
    let mut e = Engine::new(SourceRegistry::default());
    let updates: Vec<Update> = reports.iter().flat_map(|r| e.apply(r)).collect();
    let views = e.views();
    assert_eq!(views.len(), 1, "one incident");
    (updates, views.into_iter().next().unwrap())
}

fn civilians_killed(v: &IncidentView) -> &CasualtyEstimate {
    v.casualties
        .iter()
        .find(|e| e.party == Party::Civilians && e.outcome == Harm::Killed)
        .expect("civilians killed estimate")
}

fn lbh(e: &CasualtyEstimate) -> (u32, u32, u32) {
    (
        e.low.as_ref().unwrap().value,
        e.best.as_ref().unwrap().value,
        e.high.as_ref().unwrap().value,
    )
}

#[test]
fn a_report_seen_before_changes_nothing_and_publishes_nothing() {
    let r = report(
        "r1",
        0,
        media("daily"),
        vec![killed(media("daily"), exact(3))],
    );
    let mut e = Engine::new(SourceRegistry::default());
    assert_eq!(e.apply(&r).len(), 1);
    let before = e.views();
    assert!(e.apply(&r).is_empty());
    // Same id, different content: still the same report (the id is the idempotency key).
    let altered = report(
        "r1",
        5,
        media("daily"),
        vec![killed(media("daily"), exact(9))],
    );
    assert!(e.apply(&altered).is_empty());
    assert_eq!(e.views(), before);
}

#[test]
fn a_newer_claim_replaces_an_older_one_whatever_the_arrival_order() {
    let old = report(
        "r1",
        0,
        media("daily"),
        vec![killed(claimant("police", "security_service"), exact(3))],
    );
    let new = report(
        "r2",
        30,
        media("daily"),
        vec![killed(claimant("police", "security_service"), exact(7))],
    );
    let (_, in_order) = fold(&[old.clone(), new.clone()]);
    let (_, mut reversed) = fold(&[new, old]);
    assert_eq!(lbh(civilians_killed(&in_order)), (7, 7, 7));
    // The derived id names the report that opened the incident; everything else is equal.
    reversed.incident_id = in_order.incident_id.clone();
    assert_eq!(in_order, reversed);
}

#[test]
fn stated_at_orders_a_relayed_old_statement_before_a_newer_direct_one() {
    // The relay publishes later, but repeats what the police said first.
    let direct = report(
        "direct",
        10,
        claimant("police", "security_service"),
        vec![killed(claimant("police", "security_service"), exact(8))],
    );
    let mut relayed_claim = killed(claimant("police", "security_service"), exact(4));
    relayed_claim["stated_at"] = json!("2017-08-14T09:00:00Z");
    let relay = report(
        "relay",
        40,
        claimant("aggregator", "relay"),
        vec![relayed_claim],
    );
    let (_, v) = fold(&[direct, relay]);
    assert_eq!(lbh(civilians_killed(&v)), (8, 8, 8));
}

#[test]
fn a_retraction_withdraws_the_claim_and_an_older_retraction_does_not() {
    let claim = report(
        "r1",
        10,
        media("daily"),
        vec![
            killed(claimant("hospital", "medical"), exact(5)),
            killed(claimant("witness", "witness"), exact(9)),
        ],
    );
    let retract = |id: &str, minute: u32| {
        report(
            id,
            minute,
            media("daily"),
            vec![json!({
                "claimant": claimant("witness", "witness"),
                "kind": "retraction",
                "retracts": {"field": "casualties", "party": "civilians", "outcome": "killed"}
            })],
        )
    };
    let (_, v) = fold(&[claim.clone(), retract("r2", 20)]);
    let e = civilians_killed(&v);
    assert_eq!(lbh(e), (5, 5, 5));
    assert_eq!(e.claims.len(), 1);
    let (_, v) = fold(&[claim, retract("r0", 1)]);
    assert_eq!(
        civilians_killed(&v).high.as_ref().unwrap().value,
        9,
        "the claim came after the retraction"
    );
}

#[test]
fn relays_add_provenance_not_corroboration() {
    let statement = || killed(claimant("ministry", "government"), exact(12));
    let (updates, v) = fold(&[
        report("r1", 0, claimant("relay-a", "relay"), vec![statement()]),
        report("r2", 1, claimant("relay-b", "relay"), vec![statement()]),
        report("r3", 2, claimant("relay-c", "relay"), vec![statement()]),
    ]);
    assert_eq!(v.evidence.len(), 3, "three publishers in the provenance");
    let e = civilians_killed(&v);
    assert_eq!(e.claimants, 1, "one independent claimant");
    assert_eq!(v.independent_claimants, 1);
    assert_eq!(
        v.grade,
        Grade::Weak,
        "a single source, however often relayed"
    );
    // Each relay adds provenance; the figures stay, the claim now cites the latest relay.
    assert_eq!(
        updates[1].changes,
        vec!["casualties.civilians.killed", "evidence"]
    );
    assert_eq!(lbh(e), (12, 12, 12));
    assert_eq!(e.claims[0].report_id.as_str(), "r3");
}

#[test]
fn a_relay_giving_a_figure_as_its_own_claim_corroborates_nothing() {
    // The ministry says 12 dead; an aggregator repeats "12 dead" without saying whose figure
    // it is. Its figure counts in the estimate, but it is no second voice: the incident rests
    // on the ministry alone, and with a medical source beside it, on the two of them.
    let ministry = || killed(claimant("ministry", "government"), exact(12));
    let own = || killed(claimant("aggregator", "relay"), exact(12));
    let (_, v) = fold(&[
        report("r1", 0, media("afp"), vec![ministry()]),
        report("r2", 1, claimant("aggregator", "relay"), vec![own()]),
    ]);
    let e = civilians_killed(&v);
    assert_eq!(lbh(e), (12, 12, 12));
    assert_eq!(e.claims.len(), 2);
    assert_eq!(v.grade, Grade::Weak, "the ministry's word alone");
    // The aggregator alone: its figure stands, confirmed by no one.
    let (_, v) = fold(&[report(
        "r2",
        1,
        claimant("aggregator", "relay"),
        vec![own()],
    )]);
    assert!(!civilians_killed(&v).confirmed);
    assert_eq!(v.grade, Grade::Weak);
    // A hospital besides the ministry: two voices, one an authority.
    let hospital = killed(claimant("hospital", "medical"), exact(12));
    let (_, v) = fold(&[
        report("r1", 0, media("afp"), vec![ministry()]),
        report("r2", 1, claimant("aggregator", "relay"), vec![own()]),
        report("r3", 2, media("bbc"), vec![hospital]),
    ]);
    assert_eq!(v.grade, Grade::Confirmed);
}

#[test]
fn affiliated_sources_count_once() {
    let (_, v) = fold(&[report(
        "r1",
        0,
        media("daily"),
        vec![
            killed(claimant("group", "perpetrator"), exact(40)),
            killed(
                json!({"id": "group-media", "kind": "perpetrator_media", "affiliated_with": "group"}),
                exact(40),
            ),
        ],
    )]);
    assert_eq!(civilians_killed(&v).claimants, 1);
}

#[test]
fn an_affiliation_one_report_gives_holds_for_the_claimants_other_reports() {
    // The ministry says 10 killed; one report gives INA as the ministry's agency (5
    // wounded), another names INA alone (the attack was carried out). One voice: the incident
    // is weak, with one independent claimant, in every arrival order, and INA's claims list
    // the ministry's group.
    let ministry = claimant("iraq-moh", "government");
    let ina_of_ministry = json!({"id": "ina", "kind": "government", "affiliated_with": "iraq-moh"});
    let wounded = |by: Value| {
        json!({"claimant": by, "kind": "casualties", "party": "civilians", "outcome": "wounded",
               "count": exact(5)})
    };
    let reports = [
        report("afp-1", 0, media("afp"), vec![killed(ministry, exact(10))]),
        report(
            "reuters-2",
            1,
            media("reuters"),
            vec![wounded(ina_of_ministry)],
        ),
        report(
            "bbc-3",
            2,
            media("bbc"),
            vec![
                json!({"claimant": claimant("ina", "government"), "kind": "outcome", "outcome": "carried_out"}),
            ],
        ),
    ];
    for order in [[0, 1, 2], [0, 2, 1], [2, 0, 1], [2, 1, 0]] {
        let rs: Vec<Report> = order.iter().map(|&i| reports[i].clone()).collect();
        let (_, v) = fold(&rs);
        assert_eq!(
            (v.grade, v.independent_claimants),
            (Grade::Weak, 1),
            "{order:?}"
        );
        let wounded_est = v
            .casualties
            .iter()
            .find(|e| e.outcome == Harm::Wounded)
            .expect("wounded");
        assert_eq!(
            wounded_est.claims[0].group.as_ref().map(|g| g.as_str()),
            Some("iraq-moh")
        );
    }
    // When the affiliation comes last, the update names every section it changed.
    let rs: Vec<Report> = [2, 0, 1].iter().map(|&i| reports[i].clone()).collect();
    let mut e = Engine::new(SourceRegistry::default());
    let before: Vec<Update> = rs[..2].iter().flat_map(|r| e.apply(r)).collect();
    // Before it, INA and the ministry count as two authorities.
    assert_eq!(
        before.last().and_then(|u| u.view.as_ref()).map(|v| v.grade),
        Some(Grade::Confirmed)
    );
    let last = e.apply(&rs[2]);
    let changes: Vec<String> = last[0].changes.iter().map(ToString::to_string).collect();
    assert!(changes.contains(&"grade".to_string()), "{changes:?}");
}

#[test]
fn affiliations_reports_give_are_followed_through_chains() {
    // One report says INA speaks for the ministry, another that the ministry speaks for the
    // government; the government and INA each give a toll. One voice, in any order.
    let of =
        |id: &str, parent: &str| json!({"id": id, "kind": "government", "affiliated_with": parent});
    let wounded = |by: Value| {
        json!({"claimant": by, "kind": "casualties", "party": "civilians", "outcome": "wounded",
               "count": exact(5)})
    };
    let reports = [
        report("r1", 0, media("afp"), vec![wounded(of("ina", "moi"))]),
        report(
            "r2",
            1,
            media("bbc"),
            vec![
                json!({"claimant": of("moi", "gov"), "kind": "outcome", "outcome": "carried_out"}),
            ],
        ),
        report(
            "r3",
            2,
            media("cnn"),
            vec![killed(claimant("gov", "government"), exact(10))],
        ),
    ];
    for order in [[0, 1, 2], [2, 1, 0], [1, 2, 0], [0, 2, 1]] {
        let rs: Vec<Report> = order.iter().map(|&i| reports[i].clone()).collect();
        let (_, v) = fold(&rs);
        assert_eq!(
            (v.grade, v.independent_claimants),
            (Grade::Weak, 1),
            "{order:?}"
        );
    }
}

#[test]
fn a_state_stored_before_incidents_kept_affiliations_keeps_its_groups() {
    // Amaq, stated as the Islamic State's, and the Islamic State give tolls; the state is
    // stored as a version that kept affiliations only in claim records wrote it. A later
    // report linking another pair must leave Amaq in the Islamic State's group.
    let amaq =
        json!({"id": "amaq", "kind": "perpetrator_media", "affiliated_with": "islamic-state"});
    let mut e = Engine::new(SourceRegistry::default());
    e.apply(&report(
        "r1",
        0,
        media("afp"),
        vec![
            killed(amaq, exact(40)),
            killed(claimant("islamic-state", "perpetrator"), exact(30)),
        ],
    ));
    let stored: Vec<Value> = e
        .incidents()
        .map(|i| {
            let mut v = serde_json::to_value(i).unwrap();
            v.as_object_mut()
                .unwrap()
                .remove("affiliations")
                .expect("kept");
            v
        })
        .collect();
    let restored = stored
        .into_iter()
        .map(|v| serde_json::from_value(v).unwrap());
    let mut e = Engine::restore(SourceRegistry::default(), restored);
    let ina = json!({"id": "ina", "kind": "government", "affiliated_with": "iraq-moh"});
    e.apply(&report("r2", 1, media("bbc"), vec![killed(ina, exact(35))]));
    let views = e.views();
    let v = &views[0];
    let amaq_claim = civilians_killed(v)
        .claims
        .iter()
        .find(|c| c.claimant.as_str() == "amaq")
        .expect("amaq");
    assert_eq!(
        amaq_claim.group.as_ref().map(|g| g.as_str()),
        Some("islamic-state")
    );
    assert_eq!(civilians_killed(v).claimants, 2);
}

#[test]
fn a_claimant_one_report_calls_a_party_is_a_party_in_the_others() {
    // The Islamic State claims 50 dead as the perpetrator; the ministry says 10; a later
    // report gives the Islamic State's 60, or its agency's (said to speak for it), without
    // their kind. Their figures stay party claims, in any order: nothing non-party but the
    // ministry speaks, and the incident rests on its word.
    let is = |kind: &str| claimant("islamic-state", kind);
    let amaq = json!({"id": "amaq", "affiliated_with": "islamic-state"});
    for later in [killed(is("unknown"), exact(60)), killed(amaq, exact(60))] {
        let reports = [
            report(
                "r1",
                0,
                media("a"),
                vec![killed(is("perpetrator"), exact(50))],
            ),
            report(
                "r2",
                1,
                media("b"),
                vec![killed(claimant("ministry", "government"), exact(10))],
            ),
            report("r3", 2, media("c"), vec![later.clone()]),
        ];
        for order in [[0, 1, 2], [2, 1, 0], [1, 2, 0]] {
            let (_, v) = fold(&order.map(|i| reports[i].clone()));
            let e = civilians_killed(&v);
            assert_eq!(lbh(e), (10, 10, 60), "{order:?}");
            assert!(e.high.as_ref().unwrap().party_claims_only, "{order:?}");
            assert!(
                e.claims
                    .iter()
                    .all(|c| c.party_claim == (c.claimant.as_str() != "ministry")),
                "{order:?}: {e:#?}"
            );
            assert_eq!(v.grade, Grade::Weak, "{order:?}");
        }
    }
    // A kind the registry fixes is the operator's word: not overridden.
    let registry =
        SourceRegistry::from_json(r#"[{"id":"islamic-state","kind":"government"}]"#).unwrap();
    let mut engine = Engine::new(registry);
    engine.apply(&report(
        "r1",
        0,
        media("a"),
        vec![killed(is("perpetrator"), exact(50))],
    ));
    assert!(!civilians_killed(&engine.views()[0]).party_claims_only);
}

#[test]
fn a_foiled_and_an_attempted_attack_do_not_contest_the_outcome() {
    let outcome = |id: &str, kind: &str, outcome: &str| json!({"claimant": claimant(id, kind), "kind": "outcome", "outcome": outcome});
    // The ministry says the attack was foiled, the army that it was attempted: both say it was
    // not carried out. The heavier or first-ranked value leads; nothing is contested.
    let (_, v) = fold(&[
        report(
            "r1",
            0,
            media("a"),
            vec![outcome("ministry", "government", "foiled")],
        ),
        report(
            "r2",
            1,
            media("b"),
            vec![outcome("army", "military", "attempted")],
        ),
    ]);
    assert!(!v.outcome.contested, "{:#?}", v.outcome);
    assert_eq!(v.outcome.alternatives.len(), 2);
    assert_ne!(v.grade, Grade::Contested);
    // Carried out against either is a contest, as at the Karbala checkpoint.
    for failed in ["foiled", "attempted"] {
        let (_, v) = fold(&[
            report(
                "r1",
                0,
                media("a"),
                vec![outcome("ministry", "government", failed)],
            ),
            report(
                "r2",
                1,
                media("b"),
                vec![outcome("witness", "witness", "carried_out")],
            ),
        ]);
        assert!(v.outcome.contested, "{failed}");
        assert_eq!(v.grade, Grade::Contested, "{failed}");
    }
}

#[test]
fn one_voice_contradicting_itself_contests_nothing() {
    // The Islamic State says the attack was carried out, its agency that it was attempted; and
    // the ministry attributes it to one group, then to another, both standing (each actor is
    // a field of its own). Each is one independence group: no competing claims.
    let is = claimant("islamic-state", "perpetrator");
    let amaq =
        json!({"id": "amaq", "kind": "perpetrator_media", "affiliated_with": "islamic-state"});
    let outcome = |by: Value, o: &str| json!({"claimant": by, "kind": "outcome", "outcome": o});
    let blames = |actor: &str| {
        json!({"claimant": claimant("ministry", "government"), "kind": "responsibility",
               "actor": actor, "stance": "attributed"})
    };
    let (_, v) = fold(&[
        report(
            "r1",
            0,
            media("a"),
            vec![outcome(is.clone(), "carried_out")],
        ),
        report("r2", 1, media("b"), vec![outcome(amaq, "attempted")]),
        report("r3", 2, media("c"), vec![blames("al-qaeda")]),
        report("r4", 3, media("d"), vec![blames("islamic-state")]),
    ]);
    assert!(!v.outcome.contested, "{:#?}", v.outcome);
    assert_eq!(v.outcome.alternatives.len(), 2);
    assert!(!v.responsibility.contested, "{:#?}", v.responsibility);
    assert_eq!(v.responsibility.actors.len(), 2);
    assert_ne!(v.grade, Grade::Contested);
    // A second group that disagrees contests it.
    let (_, v) = fold(&[
        report("r1", 0, media("a"), vec![outcome(is, "carried_out")]),
        report(
            "r2",
            1,
            media("b"),
            vec![outcome(claimant("police", "security_service"), "foiled")],
        ),
    ]);
    assert!(v.outcome.contested);
    assert_eq!(v.grade, Grade::Contested);
}

#[test]
fn a_group_speaks_for_itself_before_its_media_when_they_disagree() {
    // The Islamic State says 30, Amaq, its agency, 40: equally credible, one group. The
    // group's own statement is its figure, whichever id sorts first.
    let (_, v) = fold(&[report(
        "r1",
        0,
        media("daily"),
        vec![
            killed(claimant("islamic-state", "perpetrator"), exact(30)),
            killed(
                json!({"id": "amaq", "kind": "perpetrator_media", "affiliated_with": "islamic-state"}),
                exact(40),
            ),
        ],
    )]);
    let e = civilians_killed(&v);
    assert_eq!(lbh(e), (30, 30, 40));
    assert_eq!(e.claimants, 1);
    assert!(e.disputed);
}

#[test]
fn party_claims_never_confirm_but_raise_high_and_dispute() {
    let (_, v) = fold(&[report(
        "r1",
        0,
        media("daily"),
        vec![
            killed(claimant("hospital", "medical"), exact(4)),
            killed(claimant("group", "perpetrator"), exact(30)),
        ],
    )]);
    let e = civilians_killed(&v);
    assert_eq!(lbh(e), (4, 4, 30));
    assert!(e.disputed);
    assert!(e.confirmed);
    assert!(e.high.as_ref().unwrap().party_claims_only);
    assert!(!e.best.as_ref().unwrap().party_claims_only);
}

#[test]
fn qualifiers_and_vague_words_bound_the_estimate() {
    let (_, v) = fold(&[report(
        "r1",
        0,
        media("daily"),
        vec![
            killed(
                claimant("police", "security_service"),
                json!({"qualifier": "at_least", "value": 10}),
            ),
            killed(
                claimant("hospital", "medical"),
                json!({"qualifier": "range", "min": 12, "max": 15}),
            ),
            killed(
                claimant("witness", "witness"),
                json!({"qualifier": "vague", "word": "dozens"}),
            ),
        ],
    )]);
    let e = civilians_killed(&v);
    assert_eq!(e.low.as_ref().unwrap().value, 10, "at least 10 bounds low");
    assert_eq!(e.high.as_ref().unwrap().value, 15);
    assert_eq!(
        e.best.as_ref().unwrap().value,
        12,
        "credibility-weighted median"
    );
    assert!(
        !e.disputed,
        "at least 10, 12-15 and dozens (12+) can all be true"
    );

    let (_, v) = fold(&[report(
        "r1",
        0,
        media("daily"),
        vec![
            killed(
                claimant("police", "security_service"),
                json!({"qualifier": "at_most", "value": 5}),
            ),
            killed(claimant("hospital", "medical"), exact(9)),
        ],
    )]);
    assert!(
        civilians_killed(&v).disputed,
        "up to 5 and exactly 9 cannot both be true"
    );

    let (_, v) = fold(&[report(
        "r1",
        0,
        media("daily"),
        vec![killed(
            claimant("witness", "witness"),
            json!({"qualifier": "vague", "word": "many"}),
        )],
    )]);
    let e = civilians_killed(&v);
    assert!(
        e.low.is_none() && e.best.is_none() && e.high.is_none(),
        "too vague to code"
    );
    assert_eq!(e.claims.len(), 1, "but the claim is kept");
}

#[test]
fn the_most_credible_non_party_source_sets_best() {
    let (_, v) = fold(&[report(
        "r1",
        0,
        media("daily"),
        vec![
            killed(claimant("hospital", "medical"), exact(6)),
            killed(claimant("witness", "witness"), exact(20)),
        ],
    )]);
    assert_eq!(civilians_killed(&v).best.as_ref().unwrap().value, 6);
    // A registered prior changes that.
    let registry = SourceRegistry::from_json(r#"[{"id":"witness","credibility":100}]"#).unwrap();
    let mut e = Engine::new(registry);
    e.apply(&report(
        "r1",
        0,
        media("daily"),
        vec![
            killed(claimant("hospital", "medical"), exact(6)),
            killed(claimant("witness", "witness"), exact(20)),
        ],
    ));
    assert_eq!(
        civilians_killed(&e.views()[0]).best.as_ref().unwrap().value,
        20
    );
}

#[test]
fn a_registered_kind_and_affiliation_override_what_reports_say() {
    let claims = || {
        vec![
            killed(claimant("islamic-state", "perpetrator"), exact(30)),
            killed(claimant("amaq", "independent_media"), exact(30)),
        ]
    };
    let (_, plain) = fold(&[report("r1", 0, media("daily"), claims())]);
    let e = civilians_killed(&plain);
    assert_eq!((e.claimants, e.party_claims_only), (2, false));
    assert_eq!(plain.independent_claimants, 2);

    // The operator knows better: Amaq is the perpetrator's own media.
    let registry = SourceRegistry::from_json(
        r#"[{"id":"amaq","kind":"perpetrator_media","affiliated_with":"islamic-state"}]"#,
    )
    .unwrap();
    let mut engine = Engine::new(registry);
    engine.apply(&report("r1", 0, media("daily"), claims()));
    let view = &engine.views()[0];
    let e = civilians_killed(view);
    assert_eq!(
        (e.claimants, e.party_claims_only, e.confirmed),
        (1, true, false),
        "one party, speaking twice"
    );
    let amaq = e
        .claims
        .iter()
        .find(|c| c.claimant.as_str() == "amaq")
        .unwrap();
    assert_eq!(amaq.claimant_kind, SourceKind::PerpetratorMedia);
    assert!(amaq.party_claim);
    assert_eq!(view.independent_claimants, 1);
    assert_eq!(view.grade, Grade::Weak);

    // A publisher's registered kind is the one its evidence lists, as for claimants.
    let registry = SourceRegistry::from_json(r#"[{"id":"south-front","kind":"relay"}]"#).unwrap();
    let mut engine = Engine::new(registry);
    let updates = engine.apply(&report(
        "r1",
        0,
        claimant("south-front", "independent_media"),
        claims(),
    ));
    let evidence = &updates[0].view.as_ref().unwrap().evidence;
    assert_eq!(evidence[0].publisher_kind, SourceKind::Relay);
}

#[test]
fn a_source_registered_at_credibility_zero_corroborates_nothing() {
    let reports = || {
        [report(
            "r1",
            0,
            media("daily"),
            vec![
                killed(claimant("ministry", "government"), exact(20)),
                killed(claimant("fake-page", "witness"), exact(0)),
            ],
        )]
    };
    let (_, plain) = fold(&reports());
    assert_eq!(plain.grade, Grade::Confirmed);
    let registry = SourceRegistry::from_json(r#"[{"id":"fake-page","credibility":0}]"#).unwrap();
    let mut engine = Engine::new(registry);
    engine.apply(&reports()[0]);
    let view = &engine.views()[0];
    assert_eq!(view.grade, Grade::Weak, "the ministry's word alone");
    let e = civilians_killed(view);
    assert_eq!(e.claims.len(), 2, "still listed");
    assert!(e.disputed, "its figure still counts");
}

#[test]
fn a_restart_under_a_new_registry_lists_the_estimates_it_changes() {
    let first = report(
        "r1",
        0,
        media("daily"),
        vec![
            killed(claimant("hospital", "medical"), exact(6)),
            killed(claimant("witness", "witness"), exact(20)),
        ],
    );
    // A report with no claims touches only the evidence.
    let relay = report("r2", 1, claimant("relay", "relay"), vec![]);
    let mut e = Engine::new(SourceRegistry::default());
    e.apply(&first);
    let stored: Vec<_> = e.incidents().cloned().collect();

    let same = Engine::restore(SourceRegistry::default(), stored.clone()).apply(&relay);
    assert_eq!(same[0].changes, vec!["evidence"]);

    // The witness now outweighs the hospital: best moves from 6 to 20.
    let registry = SourceRegistry::from_json(r#"[{"id":"witness","credibility":100}]"#).unwrap();
    let mut restored = Engine::restore(registry, stored);
    let updates = restored.apply(&relay);
    assert_eq!(
        updates[0].changes,
        vec!["casualties.civilians.killed", "evidence"]
    );
    let view = updates[0].view.as_ref().unwrap();
    assert_eq!(civilians_killed(view).best.as_ref().unwrap().value, 20);

    // A registry that fixes the publisher's kind changes its evidence entry, published with
    // the next update (every update adds a report to the evidence).
    let registry = SourceRegistry::from_json(r#"[{"id":"daily","kind":"relay"}]"#).unwrap();
    let updates = Engine::restore(registry, e.incidents().cloned()).apply(&relay);
    let evidence = &updates[0].view.as_ref().unwrap().evidence;
    assert_eq!(evidence[0].publisher_kind, SourceKind::Relay);
}

#[test]
fn grades_follow_independent_non_party_claimants() {
    let one = fold(&[report(
        "r1",
        0,
        media("daily"),
        vec![killed(media("daily"), exact(3))],
    )])
    .1;
    assert_eq!(one.grade, Grade::Weak);
    let two_media = fold(&[report(
        "r1",
        0,
        media("daily"),
        vec![
            killed(media("daily"), exact(3)),
            killed(media("wire"), exact(3)),
        ],
    )])
    .1;
    assert_eq!(two_media.grade, Grade::Fair);
    let with_authority = fold(&[report(
        "r1",
        0,
        media("daily"),
        vec![
            killed(media("daily"), exact(3)),
            killed(claimant("hospital", "medical"), exact(3)),
        ],
    )])
    .1;
    assert_eq!(with_authority.grade, Grade::Confirmed);
    let responsibility = |actor: &str, by: Value| json!({"claimant": by, "kind": "responsibility", "actor": actor, "stance": "claimed"});
    let contested = fold(&[report(
        "r1",
        0,
        media("daily"),
        vec![
            killed(media("daily"), exact(3)),
            killed(claimant("hospital", "medical"), exact(3)),
            responsibility("group-a", claimant("group-a", "perpetrator")),
            responsibility("group-b", claimant("group-b", "perpetrator")),
        ],
    )])
    .1;
    assert!(contested.responsibility.contested);
    assert_eq!(contested.grade, Grade::Contested);
}

#[test]
fn a_report_that_changes_the_view_lists_what_changed() {
    let (updates, _) = fold(&[
        report(
            "r1",
            0,
            media("daily"),
            vec![killed(claimant("hospital", "medical"), exact(3))],
        ),
        report(
            "r2",
            1,
            media("wire"),
            vec![
                json!({"claimant": claimant("police", "security_service"), "kind": "cause", "cause": "hostile"}),
            ],
        ),
    ]);
    assert_eq!(updates.len(), 2);
    assert_eq!(updates[1].version, 2);
    assert_eq!(updates[1].changes, vec!["cause", "grade", "evidence"]);
    assert_eq!(updates[1].caused_by[0].as_str(), "r2");
}

#[test]
fn a_full_incident_refuses_the_next_report_and_changes_nothing() {
    use reckon::core::limits::MAX_REPORTS_PER_INCIDENT;
    use reckon::core::Rejected;
    let mut e = Engine::new(SourceRegistry::default());
    for i in 0..MAX_REPORTS_PER_INCIDENT {
        let r = report(
            &format!("r{i}"),
            (i % 60) as u32,
            media(&format!("outlet-{i}")),
            vec![killed(media(&format!("outlet-{i}")), exact(3))],
        );
        assert!(
            !e.try_apply(&r).unwrap().is_empty(),
            "report {i} changes the view"
        );
    }
    let views = e.views();
    assert_eq!(views.len(), 1, "one incident");
    assert_eq!(views[0].evidence.len(), MAX_REPORTS_PER_INCIDENT);
    let id = views[0].incident_id.clone();
    let version = e.incident(&id).unwrap().version;

    let one_more = report("one-more", 0, media("late-outlet"), vec![]);
    assert_eq!(
        e.try_apply(&one_more),
        Err(Rejected::IncidentFull {
            incident_id: id.clone(),
            limit: MAX_REPORTS_PER_INCIDENT
        })
    );
    assert_eq!(e.views(), views, "the refused report changed nothing");
    assert_eq!(e.incident(&id).unwrap().version, version);
    assert!(!e.has_seen(&one_more.report_id));
    // Refused again, the same way, when it comes again; a report already held is still a
    // duplicate, not a refusal.
    assert!(e.try_apply(&one_more).is_err());
    let held = report("r7", 7, media("outlet-7"), vec![]);
    assert_eq!(e.try_apply(&held), Ok(Vec::new()));
}

#[test]
fn a_claimant_correcting_itself_within_one_report_is_digested_as_the_whole_view() {
    // The fold brings each casualty estimate's digest up to date from the claims a report
    // changed; a report whose second claim replaces its own first one must come out as if
    // the estimate were digested whole. Decoding refuses such a report, but the engine takes
    // reports built in code too.
    let at = |minute: u32, n: u32| {
        let mut c = killed(media("daily"), exact(n));
        c["stated_at"] = json!(format!("2017-08-14T10:{minute:02}:00Z"));
        c
    };
    let mut twice = report("r2", 10, media("daily"), vec![at(5, 5)]);
    let second = report("x", 10, media("daily"), vec![at(6, 7)]);
    twice.claims.extend(second.claims);
    let reports = [
        report("r1", 0, media("daily"), vec![at(0, 3)]),
        twice,
        report(
            "r3",
            20,
            media("other"),
            vec![killed(media("other"), exact(4))],
        ),
        report("r4", 30, media("daily"), vec![at(30, 9)]),
    ];
    let mut applied = Engine::new(SourceRegistry::default());
    let mut folded = Engine::new(SourceRegistry::default());
    for r in &reports {
        let a = applied.apply(r);
        let f = folded.fold(r).map(|f| f.into_updates()).unwrap_or_default();
        assert_eq!(a, f, "report {}", r.report_id);
    }
    let (a, f) = (applied.views(), folded.views());
    assert_eq!(a, f);
    assert_eq!(lbh(civilians_killed(&f[0])), (4, 4, 9));
    for inc in applied.incidents() {
        assert_eq!(
            &inc.digest,
            &folded.incident(&inc.id).expect("same incidents").digest
        );
    }
}

#[test]
fn unknown_event_type_and_target_are_listed_only_when_nothing_is_known() {
    let vague = |id: &str, minute: u32, claims: Vec<Value>| {
        report_of(id, minute, media("daily"), ("unknown", "unknown"), claims)
    };
    // Only reports that do not know: the view says so.
    let (_, v) = fold(&[vague("a", 0, vec![killed(media("daily"), exact(3))])]);
    assert_eq!(json!(v.event_types), json!(["unknown"]));
    assert_eq!(json!(v.targets), json!(["unknown"]));
    // Beside a known value, `unknown` is not listed, and a report that does not know changes
    // neither list.
    let (updates, v) = fold(&[
        report(
            "a",
            0,
            media("daily"),
            vec![killed(media("daily"), exact(3))],
        ),
        vague("b", 1, vec![killed(media("wire"), exact(4))]),
    ]);
    assert_eq!(json!(v.event_types), json!(["vbied"]));
    assert_eq!(json!(v.targets), json!(["civilians"]));
    let last = updates.last().unwrap();
    assert_eq!(last.version, 2);
    assert!(
        !last
            .changes
            .iter()
            .any(|c| c == "event_types" || c == "targets"),
        "{:?}",
        last.changes
    );
}
