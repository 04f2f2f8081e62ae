//! Proptest strategies for valid domain values: reports (every assertion kind and qualifier,
//! optional fields present and absent, unicode names) and updates (views with arbitrary content,
//! absorbed updates without a view). Everything generated here is valid by construction, so a
//! round trip through either wire form must give back an equal value.
//!
//! Coordinates are generated as microdegree integers converted to degrees: the domain stores
//! microdegrees, so these are exactly the values a round trip can reproduce.

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;

use reckon::core::limits::{
    MAX_COUNT, MAX_ID_BYTES, MAX_NAME_BYTES, MAX_STATED_AFTER_PUBLISHED_MS, MAX_TIMESTAMP_MS,
    MIN_TIMESTAMP_MS, SCHEMA_VERSION,
};
use reckon::core::model::{
    ActorId, Assertion, AttackOutcome, Cause, Claim, Coordinates, CountryCode, EventType, FieldKey,
    Harm, IncidentId, IncidentRef, Location, Name, Party, PlacePrecision, Quantity, Report,
    ReportId, Source, SourceId, SourceKind, Stance, Target, TimePrecision, Timestamp, Url,
    VagueWord, DAY_MS,
};
use reckon::core::update::{MergeNotice, Update};
use reckon::core::view::{
    ActorResponsibility, Alternative, CasualtyEstimate, CategoricalView, ClaimEntry, Evidence,
    Figure, Grade, IncidentView, LocationView, ResponsibilityView, TimeView,
};

// ----- text ---------------------------------------------------------------------------------

/// Text valid as an id: ASCII slugs, unicode with inner spaces and punctuation, and ids of
/// exactly the maximum length.
pub fn id_text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-z0-9][a-z0-9-]{0,24}",
        4 => "[\\p{L}\\p{N}][\\p{L}\\p{N}\\p{M} ._:/'-]{0,20}[\\p{L}\\p{N}]",
        1 => Just("x".repeat(MAX_ID_BYTES)),
        1 => Just("é".repeat(MAX_ID_BYTES / 2)),
    ]
}

/// Text valid as a name: unicode letters, marks, digits and punctuation, sometimes with
/// surrounding spaces (names keep them), sometimes of exactly the maximum length.
pub fn name_text() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => "[\\p{L}\\p{N}][\\p{L}\\p{N}\\p{M} '’,.()-]{0,40}",
        1 => " [\\p{L}]{1,8} ",
        1 => "[\\p{Arabic}\\p{Cyrillic}\\p{Han}]{1,12}",
        1 => Just("ß".repeat(MAX_NAME_BYTES / 2)),
    ]
}

pub fn source_id() -> impl Strategy<Value = SourceId> {
    id_text().prop_map(|s| SourceId::parse(&s).unwrap())
}

pub fn report_id() -> impl Strategy<Value = ReportId> {
    id_text().prop_map(|s| ReportId::parse(&s).unwrap())
}

pub fn incident_id() -> impl Strategy<Value = IncidentId> {
    id_text().prop_map(|s| IncidentId::parse(&s).unwrap())
}

pub fn actor_id() -> impl Strategy<Value = ActorId> {
    id_text().prop_map(|s| ActorId::parse(&s).unwrap())
}

pub fn name() -> impl Strategy<Value = Name> {
    name_text().prop_map(|s| Name::parse("name", &s).unwrap())
}

pub fn url() -> impl Strategy<Value = Url> {
    "https?://[a-z0-9.-]{1,20}(/[\\p{L}\\p{N}._~%?=&-]{0,10}){0,3}"
        .prop_map(|s| Url::parse("url", &s).unwrap())
}

pub fn country() -> impl Strategy<Value = CountryCode> {
    let all: Vec<CountryCode> = CountryCode::all().collect();
    (proptest::sample::select(all), proptest::bool::ANY).prop_map(|(c, lower)| {
        // Any case is accepted: parse the text back as a report would give it.
        let text = if lower {
            c.as_str().to_ascii_lowercase()
        } else {
            c.as_str().to_string()
        };
        CountryCode::parse("country", &text).unwrap()
    })
}

// ----- numbers, times, places ---------------------------------------------------------------

/// Any accepted timestamp, including the range ends and times before the epoch.
pub fn timestamp() -> impl Strategy<Value = Timestamp> {
    prop_oneof![
        8 => MIN_TIMESTAMP_MS..=MAX_TIMESTAMP_MS,
        // Whole seconds, as most feeds write them.
        2 => (MIN_TIMESTAMP_MS / 1000..=MAX_TIMESTAMP_MS / 1000).prop_map(|s| s * 1000),
        1 => Just(MIN_TIMESTAMP_MS),
        1 => Just(MAX_TIMESTAMP_MS),
        1 => -1000i64..1000,
    ]
    .prop_map(|ms| Timestamp::from_millis("t", ms).unwrap())
}

/// Coordinates from microdegree integers, including the poles and the antimeridian.
pub fn coordinates() -> impl Strategy<Value = Coordinates> {
    let lat = prop_oneof![
        8 => -90_000_000i32..=90_000_000,
        1 => select(vec![-90_000_000, 90_000_000, 0, -1, 1]),
    ];
    let lon = prop_oneof![
        8 => -180_000_000i32..=180_000_000,
        1 => select(vec![-180_000_000, 180_000_000, 0, -1, 1]),
    ];
    (lat, lon).prop_map(|(lat, lon)| {
        Coordinates::from_degrees("c", f64::from(lat) / 1e6, f64::from(lon) / 1e6).unwrap()
    })
}

fn count() -> impl Strategy<Value = u32> {
    prop_oneof![4 => 0u32..100, 1 => 0..=MAX_COUNT, 1 => Just(MAX_COUNT)]
}

/// Every qualifier, with valid numbers.
pub fn quantity() -> impl Strategy<Value = Quantity> {
    prop_oneof![
        count().prop_map(|value| Quantity::Exact { value }),
        count().prop_map(|value| Quantity::AtLeast { value }),
        count().prop_map(|value| Quantity::AtMost { value }),
        count().prop_map(|value| Quantity::Approximately { value }),
        (count(), count()).prop_map(|(a, b)| Quantity::Range {
            min: a.min(b),
            max: a.max(b),
        }),
        vague_word().prop_map(|word| Quantity::Vague { word }),
    ]
}

// ----- enums ----------------------------------------------------------------------------------

pub fn source_kind() -> impl Strategy<Value = SourceKind> {
    select(SourceKind::ALL.to_vec())
}

pub fn time_precision() -> impl Strategy<Value = TimePrecision> {
    use TimePrecision::*;
    select(vec![Exact, Hour, Day, Week, Month])
}

pub fn place_precision() -> impl Strategy<Value = PlacePrecision> {
    use PlacePrecision::*;
    select(vec![Exact, Place, Admin2, Admin1, Country])
}

pub fn event_type() -> impl Strategy<Value = EventType> {
    use EventType::*;
    select(vec![
        Vbied,
        Ied,
        SuicideBombing,
        Shelling,
        Airstrike,
        ArmedClash,
        Shooting,
        Abduction,
        Other,
        Unknown,
    ])
}

pub fn target() -> impl Strategy<Value = Target> {
    use Target::*;
    select(vec![
        Military,
        SecurityForces,
        Civilians,
        Government,
        Infrastructure,
        ArmedGroup,
        Unknown,
    ])
}

pub fn vague_word() -> impl Strategy<Value = VagueWord> {
    use VagueWord::*;
    select(vec![
        AFew, Several, Tens, Dozens, Scores, Hundreds, Thousands, Some, Many,
    ])
}

pub fn party() -> impl Strategy<Value = Party> {
    use Party::*;
    select(vec![
        Civilians,
        Military,
        SecurityForces,
        ArmedGroup,
        Attackers,
        Unknown,
    ])
}

pub fn harm() -> impl Strategy<Value = Harm> {
    use Harm::*;
    select(vec![Killed, Wounded, Missing, Captured])
}

pub fn stance() -> impl Strategy<Value = Stance> {
    use Stance::*;
    select(vec![Claimed, Attributed, Denied])
}

pub fn cause() -> impl Strategy<Value = Cause> + Clone {
    use Cause::*;
    select(vec![Hostile, NonHostile, Accident, UnderInvestigation])
}

pub fn attack_outcome() -> impl Strategy<Value = AttackOutcome> + Clone {
    use AttackOutcome::*;
    select(vec![Foiled, Attempted, CarriedOut])
}

pub fn grade() -> impl Strategy<Value = Grade> {
    use Grade::*;
    select(vec![Confirmed, Fair, Weak, Contested])
}

// ----- reports --------------------------------------------------------------------------------

pub fn source() -> impl Strategy<Value = Source> {
    (
        source_id(),
        option::of(name()),
        source_kind(),
        option::of(source_id()),
    )
        .prop_map(|(id, name, kind, affiliated_with)| Source {
            id,
            name,
            kind,
            affiliated_with,
        })
}

pub fn location() -> impl Strategy<Value = Location> {
    (
        country(),
        option::of(name()),
        option::of(name()),
        option::of(name()),
        option::of(coordinates()),
        place_precision(),
    )
        .prop_map(
            |(country, admin1, admin2, place, coordinates, precision)| Location {
                country,
                admin1,
                admin2,
                place,
                coordinates,
                precision,
            },
        )
}

pub fn incident_ref() -> impl Strategy<Value = IncidentRef> {
    (
        option::of(incident_id()),
        timestamp(),
        time_precision(),
        location(),
        event_type(),
        target(),
    )
        .prop_map(
            |(incident_id, occurred_at, time_precision, location, event_type, target)| {
                IncidentRef {
                    incident_id,
                    occurred_at,
                    time_precision,
                    location,
                    event_type,
                    target,
                }
            },
        )
}

pub fn field_key() -> impl Strategy<Value = FieldKey> {
    prop_oneof![
        (party(), harm()).prop_map(|(party, outcome)| FieldKey::Casualties { party, outcome }),
        actor_id().prop_map(|actor| FieldKey::Responsibility { actor }),
        Just(FieldKey::Cause),
        Just(FieldKey::Outcome),
    ]
}

/// Every assertion kind.
pub fn assertion() -> impl Strategy<Value = Assertion> {
    prop_oneof![
        3 => (party(), harm(), quantity()).prop_map(|(party, outcome, count)| {
            Assertion::Casualties {
                party,
                outcome,
                count,
            }
        }),
        1 => (actor_id(), stance()).prop_map(|(actor, stance)| Assertion::Responsibility {
            actor,
            stance
        }),
        1 => cause().prop_map(|cause| Assertion::Cause { cause }),
        1 => attack_outcome().prop_map(|outcome| Assertion::Outcome { outcome }),
        1 => field_key().prop_map(|retracts| Assertion::Retraction {
            retracts: Box::new(retracts),
        }),
    ]
}

/// When a claim was stated, relative to the report's publication.
#[derive(Debug, Clone)]
pub enum StatedAt {
    /// At publication: the wire forms leave `stated_at` out.
    Published,
    /// At an arbitrary time (possibly, by chance or on purpose, the publication time).
    At(Timestamp),
}

pub fn stated_at() -> impl Strategy<Value = StatedAt> {
    prop_oneof![
        Just(StatedAt::Published),
        timestamp().prop_map(StatedAt::At),
    ]
}

/// The latest a claim of a report published at `published_at` may be stated, and its incident
/// may have occurred.
fn latest_statement(published_at: Timestamp) -> Timestamp {
    let ms = (published_at.millis() + MAX_STATED_AFTER_PUBLISHED_MS).min(MAX_TIMESTAMP_MS);
    Timestamp::from_millis("t", ms).unwrap()
}

/// The earliest a claim about `incident`, in a report published at `published_at`, may be
/// stated: the incident's time less its link window, or publication if that is earlier.
pub fn earliest_statement(incident: &IncidentRef, published_at: Timestamp) -> Timestamp {
    let ms = (incident.occurred_at.millis() - incident.time_precision.link_window_ms())
        .min(published_at.millis())
        .max(MIN_TIMESTAMP_MS);
    Timestamp::from_millis("t", ms).unwrap()
}

/// A claimant: often one of a small pool, so several claims share a claimant and the
/// one-claim-per-claimant-and-field rule is exercised.
fn claimant(pool: Vec<Source>) -> impl Strategy<Value = Source> {
    prop_oneof![select(pool), source()]
}

/// A valid report: at most one claim per claimant and field (later duplicates are dropped).
pub fn report() -> impl Strategy<Value = Report> {
    (
        report_id(),
        source(),
        timestamp(),
        option::of(url()),
        incident_ref(),
        vec(source(), 1..4),
    )
        .prop_flat_map(
            |(report_id, publisher, published_at, url, incident, pool)| {
                // An incident occurs at most a day after it is reported: a later time is held
                // at that bound, which is then exercised.
                let mut incident = incident;
                incident.occurred_at = incident.occurred_at.min(latest_statement(published_at));
                // Known to the day or coarser, the time is a date: that day's midnight.
                if incident.time_precision.names_a_date() {
                    let day = incident.occurred_at.millis().div_euclid(DAY_MS) * DAY_MS;
                    incident.occurred_at = Timestamp::from_millis("t", day).unwrap();
                }
                // Known to the month, the time is its month's first day.
                if incident.time_precision == TimePrecision::Month {
                    let (start, _) = incident.occurred_at.month_bounds();
                    incident.occurred_at = Timestamp::from_millis("t", start).unwrap();
                }
                // The publisher may also be a claimant.
                let mut pool = pool;
                pool.push(publisher.clone());
                vec((claimant(pool), stated_at(), assertion()), 0..8).prop_map(move |claims| {
                    let mut seen = std::collections::BTreeSet::new();
                    let claims = claims
                        .into_iter()
                        .filter(|(c, _, a)| seen.insert((c.id.clone(), a.field())))
                        .map(|(claimant, stated, assertion)| Claim {
                            claimant,
                            stated_at: match stated {
                                StatedAt::Published => published_at,
                                // A claim may be stated at most a day after publication: a
                                // later time is held at that bound, which is then exercised.
                                // Nor before the incident, less its link window: an
                                // earlier time is held at that bound.
                                StatedAt::At(t) => t
                                    .min(latest_statement(published_at))
                                    .max(earliest_statement(&incident, published_at)),
                            },
                            assertion,
                        })
                        .collect();
                    Report {
                        report_id: report_id.clone(),
                        publisher: publisher.clone(),
                        published_at,
                        url: url.clone(),
                        incident: incident.clone(),
                        claims,
                    }
                })
            },
        )
}

// ----- views and updates ----------------------------------------------------------------------

pub fn figure() -> impl Strategy<Value = Figure> {
    (any::<u32>(), vec(source_id(), 0..3), any::<bool>()).prop_map(
        |(value, sources, party_claims_only)| Figure {
            value,
            sources,
            party_claims_only,
        },
    )
}

pub fn claim_entry() -> impl Strategy<Value = ClaimEntry> {
    (
        source_id(),
        source_kind(),
        proptest::option::of(source_id()),
        any::<bool>(),
        quantity(),
        timestamp(),
        report_id(),
    )
        .prop_map(
            |(claimant, claimant_kind, group, party_claim, count, stated_at, report_id)| {
                ClaimEntry {
                    claimant,
                    claimant_kind,
                    group,
                    party_claim,
                    count,
                    stated_at,
                    report_id,
                }
            },
        )
}

pub fn casualty_estimate() -> impl Strategy<Value = CasualtyEstimate> {
    (
        (party(), harm()),
        (
            option::of(figure()),
            option::of(figure()),
            option::of(figure()),
        ),
        (any::<u32>(), any::<bool>(), any::<bool>(), any::<bool>()),
        vec(claim_entry(), 0..3),
    )
        .prop_map(
            |(
                (party, outcome),
                (low, best, high),
                (claimants, confirmed, party_claims_only, disputed),
                claims,
            )| CasualtyEstimate {
                party,
                outcome,
                low,
                best,
                high,
                claimants,
                confirmed,
                party_claims_only,
                disputed,
                claims,
            },
        )
}

pub fn alternative<T: std::fmt::Debug + Clone>(
    value: impl Strategy<Value = T>,
) -> impl Strategy<Value = Alternative<T>> {
    (value, vec(source_id(), 0..3), any::<bool>(), any::<u32>()).prop_map(
        |(value, backers, party_claims_only, weight)| Alternative {
            value,
            backers,
            party_claims_only,
            weight,
        },
    )
}

pub fn categorical<T: std::fmt::Debug + Clone>(
    value: impl Strategy<Value = T> + Clone,
) -> impl Strategy<Value = CategoricalView<T>> {
    (
        option::of(value.clone()),
        vec(alternative(value), 0..3),
        any::<bool>(),
    )
        .prop_map(|(leading, alternatives, contested)| CategoricalView {
            leading,
            alternatives,
            contested,
        })
}

pub fn responsibility_view() -> impl Strategy<Value = ResponsibilityView> {
    let actor = (
        actor_id(),
        vec(source_id(), 0..2),
        vec(source_id(), 0..2),
        vec(source_id(), 0..2),
        any::<u32>(),
    )
        .prop_map(|(actor, claimed_by, attributed_by, denied_by, weight)| {
            ActorResponsibility {
                actor,
                claimed_by,
                attributed_by,
                denied_by,
                weight,
            }
        });
    (
        option::of(actor_id()),
        vec(actor, 0..3),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(leading, actors, contested, disputed)| ResponsibilityView {
                leading,
                actors,
                contested,
                disputed,
            },
        )
}

pub fn location_view() -> impl Strategy<Value = LocationView> {
    (
        country(),
        vec(name(), 0..3),
        vec(name(), 0..3),
        vec(name(), 0..3),
        vec(coordinates(), 0..3),
    )
        .prop_map(
            |(country, admin1, admin2, places, coordinates)| LocationView {
                country,
                admin1,
                admin2,
                places,
                coordinates,
            },
        )
}

pub fn time_view() -> impl Strategy<Value = TimeView> {
    (timestamp(), timestamp(), time_precision()).prop_map(|(earliest, latest, precision)| {
        TimeView {
            earliest,
            latest,
            precision,
        }
    })
}

pub fn evidence() -> impl Strategy<Value = Evidence> {
    (timestamp(), report_id(), source_id(), source_kind()).prop_map(
        |(published_at, report_id, publisher, publisher_kind)| Evidence {
            published_at,
            report_id,
            publisher,
            publisher_kind,
        },
    )
}

/// A view with arbitrary content (not necessarily one reconciliation could produce: the wire
/// forms must carry any view faithfully).
pub fn incident_view() -> impl Strategy<Value = IncidentView> {
    (
        (incident_id(), any::<String>(), location_view(), time_view()),
        (
            vec(event_type(), 0..4),
            vec(target(), 0..4),
            vec(casualty_estimate(), 0..3),
        ),
        (
            responsibility_view(),
            categorical(cause()),
            categorical(attack_outcome()),
        ),
        (grade(), any::<u32>(), vec(evidence(), 0..4)),
    )
        .prop_map(
            |(
                (incident_id, region, location, time),
                (event_types, targets, casualties),
                (responsibility, cause, outcome),
                (grade, independent_claimants, evidence),
            )| IncidentView {
                incident_id,
                region,
                location,
                time,
                event_types,
                targets,
                casualties,
                responsibility,
                cause,
                outcome,
                grade,
                independent_claimants,
                evidence,
            },
        )
}

pub fn merge_notice() -> impl Strategy<Value = MergeNotice> {
    prop_oneof![
        vec(incident_id(), 0..4).prop_map(|incidents| MergeNotice::Absorbed { incidents }),
        incident_id().prop_map(|incident_id| MergeNotice::AbsorbedInto { incident_id }),
    ]
}

/// Any update: with or without a view and a merge notice, and in particular absorbed updates
/// (no view, `absorbed_into`).
pub fn update() -> impl Strategy<Value = Update> {
    let schema_version = prop_oneof![4 => Just(SCHEMA_VERSION), 1 => any::<u32>()];
    let general = (
        schema_version,
        incident_id(),
        any::<u64>(),
        option::of(incident_view()),
        vec(any::<String>(), 0..4),
        vec(report_id(), 0..4),
        option::of(merge_notice()),
    )
        .prop_map(
            |(schema_version, incident_id, version, view, changes, caused_by, merge)| Update {
                schema_version,
                incident_id,
                version,
                view,
                changes,
                caused_by,
                merge,
            },
        );
    let absorbed = (
        incident_id(),
        any::<u64>(),
        vec(report_id(), 0..3),
        incident_id(),
    )
        .prop_map(|(id, version, caused_by, survivor)| {
            Update::new(
                id,
                version,
                None,
                vec!["merged".into()],
                caused_by,
                Some(MergeNotice::AbsorbedInto {
                    incident_id: survivor,
                }),
            )
        });
    prop_oneof![3 => general, 1 => absorbed]
}
