//! Property tests of the fold: deterministic bytes, idempotence under duplicates, and order
//! robustness of the final views.

use std::collections::BTreeMap;

use proptest::prelude::*;
use reckon::core::estimate::{all_sections, section_hashes};
use reckon::core::model::{
    ActorId, Assertion, AttackOutcome, Cause, Claim, CountryCode, EventType, FieldKey, Harm,
    IncidentId, IncidentRef, Location, Name, Party, PlacePrecision, Quantity, Report, ReportId,
    Source, SourceId, SourceKind, Stance, Target, TimePrecision, Timestamp, VagueWord,
};
use reckon::core::registry::SourceRegistry;
use reckon::core::update::{Digest, Section, Update};
use reckon::core::view::IncidentView;
use reckon::core::Engine;
use reckon::wire::json;

const BASE_MS: i64 = 1_502_582_400_000; // 2017-08-13T00:00:00Z
const PLACES: [&str; 5] = ["Alpha", "Bravo", "Charlie", "Delta", "Echo"];
const PUBLISHERS: [(&str, SourceKind); 3] = [
    ("relay-one", SourceKind::Relay),
    ("daily-news", SourceKind::IndependentMedia),
    ("wire-agency", SourceKind::IndependentMedia),
];
/// Claimants; the news agency speaks for the ministry, which some reports say and some leave
/// out, so its group in an incident comes from whichever report gave it. Likewise some reports
/// leave out that the armed group and its media are parties, which others say, and a relay
/// gives figures as its own.
const CLAIMANTS: [(&str, SourceKind, Option<&str>); 11] = [
    ("police", SourceKind::SecurityService, None),
    ("hospital", SourceKind::Medical, None),
    ("witness", SourceKind::Witness, None),
    ("ministry", SourceKind::Government, None),
    ("armed-group", SourceKind::Perpetrator, None),
    (
        "armed-group-media",
        SourceKind::PerpetratorMedia,
        Some("armed-group"),
    ),
    ("agency", SourceKind::IndependentMedia, Some("ministry")),
    ("agency", SourceKind::IndependentMedia, None),
    ("armed-group", SourceKind::Unknown, None),
    (
        "armed-group-media",
        SourceKind::Unknown,
        Some("armed-group"),
    ),
    ("relay-one", SourceKind::Relay, None),
];

fn source(id: &str, kind: SourceKind, affiliated: Option<&str>) -> Source {
    Source {
        id: SourceId::parse(id).unwrap(),
        name: None,
        kind,
        affiliated_with: affiliated.map(|a| SourceId::parse(a).unwrap()),
    }
}

fn quantity() -> impl Strategy<Value = Quantity> {
    prop_oneof![
        (0u32..60).prop_map(|value| Quantity::Exact { value }),
        (0u32..60).prop_map(|value| Quantity::AtLeast { value }),
        (0u32..60).prop_map(|value| Quantity::AtMost { value }),
        (0u32..60).prop_map(|value| Quantity::Approximately { value }),
        (0u32..30, 0u32..30).prop_map(|(a, b)| Quantity::Range {
            min: a.min(b),
            max: a.max(b)
        }),
        prop_oneof![
            Just(VagueWord::Dozens),
            Just(VagueWord::Several),
            Just(VagueWord::Many)
        ]
        .prop_map(|word| Quantity::Vague { word }),
    ]
}

fn field() -> impl Strategy<Value = FieldKey> {
    prop_oneof![
        (
            prop_oneof![Just(Party::Civilians), Just(Party::Military)],
            prop_oneof![Just(Harm::Killed), Just(Harm::Wounded)]
        )
            .prop_map(|(party, outcome)| FieldKey::Casualties { party, outcome }),
        Just(FieldKey::Responsibility {
            actor: ActorId::parse("armed-group").unwrap()
        }),
        Just(FieldKey::Responsibility {
            actor: ActorId::parse("other-group").unwrap()
        }),
        Just(FieldKey::Cause),
        Just(FieldKey::Outcome),
    ]
}

fn assertion(f: FieldKey) -> BoxedStrategy<Assertion> {
    let retract = Just(Assertion::Retraction {
        retracts: Box::new(f.clone()),
    });
    match f {
        FieldKey::Casualties { party, outcome } => prop_oneof![
            4 => quantity().prop_map(move |count| Assertion::Casualties { party, outcome, count }),
            1 => retract,
        ]
        .boxed(),
        FieldKey::Responsibility { actor } => prop_oneof![
            4 => prop_oneof![Just(Stance::Claimed), Just(Stance::Attributed), Just(Stance::Denied)]
                .prop_map(move |stance| Assertion::Responsibility { actor: actor.clone(), stance }),
            1 => retract,
        ]
        .boxed(),
        FieldKey::Cause => prop_oneof![
            prop_oneof![
                Just(Cause::Hostile),
                Just(Cause::NonHostile),
                Just(Cause::Accident),
                Just(Cause::UnderInvestigation)
            ]
            .prop_map(|cause| Assertion::Cause { cause }),
            retract,
        ]
        .boxed(),
        FieldKey::Outcome => prop_oneof![
            prop_oneof![
                Just(AttackOutcome::Foiled),
                Just(AttackOutcome::Attempted),
                Just(AttackOutcome::CarriedOut)
            ]
            .prop_map(|outcome| Assertion::Outcome { outcome }),
            retract,
        ]
        .boxed(),
    }
}

/// A claim: claimant index, a stated-at offset in hours (small, so corrections collide), and
/// what it asserts.
fn claim() -> impl Strategy<Value = (usize, i64, Assertion)> {
    (0..CLAIMANTS.len(), 0i64..4, field())
        .prop_flat_map(|(c, h, f)| (Just(c), Just(h), assertion(f)))
}

/// One report's shape, before ids and times are assigned.
#[derive(Debug, Clone)]
struct Shape {
    cluster: usize,
    publisher: usize,
    explicit: bool,
    claims: Vec<(usize, i64, Assertion)>,
}

fn shape(clusters: usize) -> impl Strategy<Value = Shape> {
    (
        0..clusters,
        0..PUBLISHERS.len(),
        prop::bool::weighted(0.15),
        prop::collection::vec(claim(), 0..5),
    )
        .prop_map(|(cluster, publisher, explicit, claims)| Shape {
            cluster,
            publisher,
            explicit,
            claims,
        })
}

/// Reports in well-separated clusters (distinct places in one city on one day, plus a second
/// province), with distinct `published_at`, so linking is unambiguous in any order.
fn reports() -> impl Strategy<Value = Vec<Report>> {
    (1usize..=5)
        .prop_flat_map(|clusters| prop::collection::vec(shape(clusters), 1..14))
        .prop_map(build)
}

fn build(shapes: Vec<Shape>) -> Vec<Report> {
    shapes
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            let published_at =
                Timestamp::from_millis("t", BASE_MS + 86_400_000 + i as i64 * 60_000).unwrap();
            let (pid, pkind) = PUBLISHERS[s.publisher];
            let mut seen = std::collections::BTreeSet::new();
            let claims = s
                .claims
                .into_iter()
                .filter(|(c, _, a)| seen.insert((CLAIMANTS[*c].0, a.field())))
                .map(|(c, h, assertion)| {
                    let (id, kind, aff) = CLAIMANTS[c];
                    Claim {
                        claimant: source(id, kind, aff),
                        stated_at: Timestamp::from_millis("t", BASE_MS + 3_600_000 * (10 + h))
                            .unwrap(),
                        assertion,
                    }
                })
                .collect();
            let admin1 = if s.cluster == 4 { "Diyala" } else { "Baghdad" };
            Report {
                report_id: ReportId::parse(&format!("r-{i:03}")).unwrap(),
                publisher: source(pid, pkind, None),
                published_at,
                url: None,
                incident: IncidentRef {
                    incident_id: s
                        .explicit
                        .then(|| IncidentId::parse(&format!("explicit-{}", s.cluster)).unwrap()),
                    occurred_at: Timestamp::from_millis("t", BASE_MS).unwrap(),
                    time_precision: TimePrecision::Day,
                    location: Location {
                        country: CountryCode::parse("c", "IQ").unwrap(),
                        admin1: Some(Name::parse("a", admin1).unwrap()),
                        admin2: None,
                        place: Some(Name::parse("p", PLACES[s.cluster]).unwrap()),
                        coordinates: None,
                        precision: PlacePrecision::Place,
                    },
                    event_type: EventType::Vbied,
                    target: Target::Civilians,
                },
                claims,
            }
        })
        .collect()
}

fn fold(reports: &[Report]) -> (Vec<Update>, Engine) {
    let mut engine = Engine::new(SourceRegistry::default());
    let updates = reports.iter().flat_map(|r| engine.apply(r)).collect();
    (updates, engine)
}

fn bytes(updates: &[Update]) -> Vec<Vec<u8>> {
    updates.iter().map(json::encode_update).collect()
}

/// Final views keyed by their evidence set, with derived incident ids blanked: which report
/// opens an incident (and so its derived id) depends on arrival order; what it holds must not.
fn canonical(engine: &Engine) -> BTreeMap<Vec<String>, String> {
    engine
        .views()
        .into_iter()
        .map(|mut v: IncidentView| {
            let key = v
                .evidence
                .iter()
                .map(|e| e.report_id.to_string())
                .collect::<Vec<_>>();
            if !v.incident_id.as_str().starts_with("explicit-") {
                v.incident_id = IncidentId::parse("derived").unwrap();
            }
            (key, serde_json::to_string(&v).unwrap())
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Every estimate published keeps low <= best <= high, whatever the claims' qualifiers
    /// ("at least 10" against "up to 5" once gave low 10, best 5).
    #[test]
    fn every_estimate_keeps_low_best_high_in_order(reports in reports()) {
        let (updates, _) = fold(&reports);
        for u in &updates {
            for e in u.view.iter().flat_map(|v| &v.casualties) {
                if let (Some(low), Some(best), Some(high)) = (&e.low, &e.best, &e.high) {
                    prop_assert!(
                        low.value <= best.value && best.value <= high.value,
                        "{} {:?} {:?}: {} / {} / {}",
                        u.incident_id, e.party, e.outcome, low.value, best.value, high.value
                    );
                }
            }
        }
    }

    #[test]
    fn same_sequence_gives_identical_bytes(reports in reports()) {
        let (a, _) = fold(&reports);
        let (b, _) = fold(&reports);
        prop_assert_eq!(bytes(&a), bytes(&b));
    }

    #[test]
    fn duplicates_anywhere_change_nothing(
        reports in reports(),
        dups in prop::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>()), 1..8),
    ) {
        let mut with_dups = reports.clone();
        for (which, at) in dups {
            // A duplicate can only come after the original: the first copy is the report.
            let src = which.index(reports.len());
            let pos = with_dups.iter().position(|r| r.report_id == reports[src].report_id).unwrap();
            let insert_at = pos + 1 + at.index(with_dups.len() - pos);
            with_dups.insert(insert_at.min(with_dups.len()), reports[src].clone());
        }
        let (a, ea) = fold(&reports);
        let (b, eb) = fold(&with_dups);
        prop_assert_eq!(bytes(&a), bytes(&b));
        prop_assert_eq!(ea.views(), eb.views());
    }

    #[test]
    fn every_order_gives_the_same_final_views(
        (reports, shuffled) in reports().prop_flat_map(|r| (Just(r.clone()), Just(r).prop_shuffle())),
    ) {
        let (_, a) = fold(&reports);
        let (_, b) = fold(&shuffled);
        prop_assert_eq!(canonical(&a), canonical(&b));
    }

    /// The engine digests only the sections a report touched; the changes it lists and the
    /// digest it keeps must be exactly those of digesting every view whole.
    #[test]
    fn touched_sections_give_the_changes_of_whole_views(reports in reports()) {
        let mut engine = Engine::new(SourceRegistry::default());
        let mut last: BTreeMap<String, Digest> = BTreeMap::new();
        for r in &reports {
            for u in engine.apply(r) {
                let Some(view) = &u.view else { continue };
                let digest = Digest::of(view);
                let before = last.remove(&u.incident_id.to_string()).unwrap_or_default();
                let mut expected: Vec<String> =
                    before.changes(&digest).into_iter().map(|s| s.path()).collect();
                if u.merge.is_some() {
                    expected.push("merged".into());
                }
                prop_assert_eq!(&u.changes, &expected);
                last.insert(u.incident_id.to_string(), digest);
            }
            // The digest kept section by section is the one taken whole.
            for inc in engine.incidents().filter(|i| i.is_live()) {
                let mut fresh = Vec::new();
                section_hashes(inc, &SourceRegistry::default(), all_sections(inc), &mut fresh);
                let whole: Vec<(Section, u64)> = fresh
                    .into_iter()
                    .filter_map(|(s, h)| h.map(|h| (s, h)))
                    .collect();
                prop_assert_eq!(&inc.digest.pairs().collect::<Vec<_>>(), &whole);
            }
        }
    }

    /// Digesting from the state (fold, rendering later) and from the rendered view (apply)
    /// give the same digests, so the same versions and the same updates.
    #[test]
    fn folding_and_applying_digest_alike(reports in reports()) {
        let mut applied = Engine::new(SourceRegistry::default());
        let mut folded = Engine::new(SourceRegistry::default());
        for r in &reports {
            let a = applied.apply(r);
            let f = folded.fold(r).map(|f| f.into_updates()).unwrap_or_default();
            prop_assert_eq!(bytes(&a), bytes(&f));
        }
        for inc in applied.incidents() {
            prop_assert_eq!(&inc.digest, &folded.incident(&inc.id).unwrap().digest);
        }
    }

    #[test]
    fn versions_grow_by_one_and_every_update_changes_something(reports in reports()) {
        let (updates, _) = fold(&reports);
        let mut last: BTreeMap<String, u64> = BTreeMap::new();
        for u in &updates {
            let prev = last.insert(u.incident_id.to_string(), u.version).unwrap_or(0);
            prop_assert_eq!(u.version, prev + 1);
            prop_assert!(!u.changes.is_empty());
            prop_assert_eq!(u.caused_by.len(), 1);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// State stored (as the changelog stores it) and restored continues exactly as if the
    /// engine had never stopped: same updates, same bytes.
    #[test]
    fn restored_state_continues_byte_identically(reports in reports(), cut in any::<prop::sample::Index>()) {
        let k = cut.index(reports.len() + 1);
        let (all, _) = fold(&reports);
        let mut first = Engine::new(SourceRegistry::default());
        let mut updates: Vec<Update> = reports[..k].iter().flat_map(|r| first.apply(r)).collect();
        let stored: Vec<String> = first.incidents().map(|i| serde_json::to_string(i).unwrap()).collect();
        let restored = stored.iter().map(|s| serde_json::from_str(s).unwrap());
        let mut second = Engine::restore(SourceRegistry::default(), restored);
        // Reports seen before the cut are still known after the restore.
        for r in &reports[..k] {
            prop_assert!(second.apply(r).is_empty());
        }
        updates.extend(reports[k..].iter().flat_map(|r| second.apply(r)));
        prop_assert_eq!(bytes(&all), bytes(&updates));
    }
}
