//! A deterministic synthetic report stream for benchmarks and load tests: many regions, sources,
//! relays, corrections and conflicting figures, with reports arriving somewhat out of order.
//! Same configuration, same stream, byte for byte.

use crate::core::model::{
    ActorId, Assertion, AttackOutcome, Cause, Claim, CountryCode, EventType, Harm, IncidentRef,
    Location, Name, Party, PlacePrecision, Quantity, Report, ReportId, Source, SourceId,
    SourceKind, Stance, Target, TimePrecision, Timestamp, VagueWord, DAY_MS, HOUR_MS,
};

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct SynthConfig {
    /// Number of incidents.
    pub incidents: usize,
    /// Number of first-level regions they are spread over.
    pub regions: usize,
    /// Seed of the generator.
    pub seed: u64,
    /// Days the incidents are spread over.
    pub days: i64,
}

impl Default for SynthConfig {
    fn default() -> Self {
        Self {
            incidents: 10_000,
            regions: 200,
            seed: 1,
            days: 60,
        }
    }
}

/// SplitMix64: tiny, fast and fully specified, so the stream never changes under us.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

const COUNTRIES: [&str; 8] = ["IQ", "SY", "AF", "YE", "SO", "NG", "ML", "LY"];
const SYLLABLES: [&str; 24] = [
    "ba", "ka", "ri", "mo", "su", "ta", "ne", "lo", "di", "fa", "go", "hu", "ja", "ze", "wi", "qa",
    "ro", "mi", "sa", "tu", "bel", "dar", "kur", "nas",
];
const EVENT_TYPES: [EventType; 6] = [
    EventType::Vbied,
    EventType::Ied,
    EventType::SuicideBombing,
    EventType::Shelling,
    EventType::Airstrike,
    EventType::ArmedClash,
];
const TARGETS: [Target; 4] = [
    Target::Civilians,
    Target::Military,
    Target::SecurityForces,
    Target::Government,
];

fn id<T>(parse: fn(&str) -> Result<T, crate::core::ValidationError>, s: &str) -> T {
    // Generated ids are short ASCII words, within every id rule.
    match parse(s) {
        Ok(v) => v,
        Err(e) => unreachable!("generated id {s:?} is invalid: {e}"),
    }
}

fn name(s: &str) -> Name {
    match Name::parse("name", s) {
        Ok(n) => n,
        Err(e) => unreachable!("generated name {s:?} is invalid: {e}"),
    }
}

fn ts(ms: i64) -> Timestamp {
    match Timestamp::from_millis("t", ms) {
        Ok(t) => t,
        Err(e) => unreachable!("generated time out of range: {e}"),
    }
}

fn source(id_: &str, kind: SourceKind, affiliated: Option<&str>) -> Source {
    Source {
        id: id(SourceId::parse, id_),
        name: None,
        kind,
        affiliated_with: affiliated.map(|a| id(SourceId::parse, a)),
    }
}

fn place_name(rng: &mut Rng) -> String {
    let n = 2 + rng.below(2);
    let mut s = String::new();
    for _ in 0..n {
        s.push_str(SYLLABLES[rng.below(SYLLABLES.len() as u64) as usize]);
    }
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
        None => s,
    }
}

/// Generates the stream: about 4.5 reports per incident on average, ordered by `published_at`
/// with reports of one incident interleaved with others.
pub fn generate(cfg: SynthConfig) -> Vec<Report> {
    let mut rng = Rng(cfg.seed);
    let base = 1_483_228_800_000i64; // 2017-01-01T00:00:00Z
    let mut out: Vec<(i64, Report)> = Vec::with_capacity(cfg.incidents * 5);
    let mut serial = 0u64;
    for n in 0..cfg.incidents {
        let region = rng.below(cfg.regions as u64) as usize;
        let country = COUNTRIES[region % COUNTRIES.len()];
        let admin1 = format!("Province {}", region / COUNTRIES.len());
        let place = place_name(&mut rng);
        let day = rng.below(cfg.days.max(1) as u64) as i64;
        let occurred = base + day * DAY_MS;
        let event_type = EVENT_TYPES[rng.below(EVENT_TYPES.len() as u64) as usize];
        let target = TARGETS[rng.below(TARGETS.len() as u64) as usize];
        let true_killed = rng.below(40) as u32;
        let true_wounded = true_killed + rng.below(30) as u32;
        let group = format!("group-{}", rng.below(12));
        let group_media = format!("{group}-media");
        let reports = 1 + rng.below(8);
        for k in 0..reports {
            serial += 1;
            // Published from a few hours to two days after the event.
            let published = occurred + (2 + rng.below(46) as i64) * HOUR_MS + k as i64 * 60_000;
            let publisher = match rng.below(10) {
                0..=2 => source(&format!("relay-{}", rng.below(10)), SourceKind::Relay, None),
                _ => source(
                    &format!("media-{}", rng.below(50)),
                    SourceKind::IndependentMedia,
                    None,
                ),
            };
            let mut claims = Vec::new();
            let claimant = match rng.below(8) {
                0 => source(
                    &format!("police-{country}"),
                    SourceKind::SecurityService,
                    None,
                ),
                1 => source(&format!("hospital-{region}"), SourceKind::Medical, None),
                2 => source(&format!("ministry-{country}"), SourceKind::Government, None),
                3 => source(&format!("witness-{serial}"), SourceKind::Witness, None),
                4 => source(&group, SourceKind::Perpetrator, None),
                5 => source(&group_media, SourceKind::PerpetratorMedia, Some(&group)),
                _ => publisher.clone(),
            };
            let party = claimant.kind.is_party();
            // Corrections: the same claimant revises its figure in later reports.
            let stated_at = ts(published - rng.below(3) as i64 * HOUR_MS);
            let noise = rng.below(5) as u32;
            let killed = if party {
                true_killed * 3 + 10
            } else {
                true_killed.saturating_sub(2) + noise
            };
            let count = match rng.below(10) {
                0 => Quantity::AtLeast { value: killed },
                1 => Quantity::Approximately { value: killed },
                2 => Quantity::Range {
                    min: killed,
                    max: killed + 3,
                },
                3 if killed >= 12 => Quantity::Vague {
                    word: VagueWord::Dozens,
                },
                _ => Quantity::Exact { value: killed },
            };
            let victims = if target == Target::Civilians {
                Party::Civilians
            } else {
                Party::Military
            };
            claims.push(Claim {
                claimant: claimant.clone(),
                stated_at,
                assertion: Assertion::Casualties {
                    party: victims,
                    outcome: Harm::Killed,
                    count,
                },
            });
            if rng.chance(60) {
                claims.push(Claim {
                    claimant: claimant.clone(),
                    stated_at,
                    assertion: Assertion::Casualties {
                        party: victims,
                        outcome: Harm::Wounded,
                        count: Quantity::Exact {
                            value: true_wounded + noise,
                        },
                    },
                });
            }
            if party || rng.chance(15) {
                claims.push(Claim {
                    claimant: claimant.clone(),
                    stated_at,
                    assertion: Assertion::Responsibility {
                        actor: id(ActorId::parse, &group),
                        stance: if party {
                            Stance::Claimed
                        } else {
                            Stance::Attributed
                        },
                    },
                });
            }
            if rng.chance(20) {
                let cause = match rng.below(4) {
                    0 => Cause::NonHostile,
                    1 => Cause::UnderInvestigation,
                    _ => Cause::Hostile,
                };
                claims.push(Claim {
                    claimant: claimant.clone(),
                    stated_at,
                    assertion: Assertion::Cause { cause },
                });
            }
            if rng.chance(20) {
                let outcome = if party || rng.chance(80) {
                    AttackOutcome::CarriedOut
                } else {
                    AttackOutcome::Foiled
                };
                claims.push(Claim {
                    claimant: claimant.clone(),
                    stated_at,
                    assertion: Assertion::Outcome { outcome },
                });
            }
            let report = Report {
                report_id: id(ReportId::parse, &format!("synth-{}-{n}-{k}", cfg.seed)),
                publisher,
                published_at: ts(published),
                url: None,
                incident: IncidentRef {
                    incident_id: None,
                    occurred_at: ts(occurred),
                    time_precision: TimePrecision::Day,
                    location: Location {
                        country: match CountryCode::parse("country", country) {
                            Ok(c) => c,
                            Err(e) => unreachable!("{e}"),
                        },
                        admin1: Some(name(&admin1)),
                        admin2: None,
                        place: Some(name(&place)),
                        coordinates: None,
                        precision: PlacePrecision::Place,
                    },
                    event_type,
                    target,
                },
                claims,
            };
            out.push((published, report));
        }
    }
    out.sort_by(|a, b| (a.0, &a.1.report_id).cmp(&(b.0, &b.1.report_id)));
    out.into_iter().map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stream_is_deterministic_and_valid() {
        let cfg = SynthConfig {
            incidents: 200,
            ..SynthConfig::default()
        };
        let a = generate(cfg);
        let b = generate(cfg);
        assert_eq!(a, b);
        assert!(a.len() > 400);
        for r in &a {
            let bytes = crate::wire::json::encode_report(r);
            assert_eq!(&crate::wire::json::decode_report(&bytes).unwrap(), r);
        }
    }
}
