//! The seed article (a South Front report of 14 August 2017) reconciled field by field.

use reckon::core::model::{AttackOutcome, Cause, Harm, Party, SourceId};
use reckon::core::registry::SourceRegistry;
use reckon::core::view::{CasualtyEstimate, Grade, IncidentView};
use reckon::core::Engine;
use reckon::wire::json;

const SEED: &str = include_str!("fixtures/seed-2017-iraq.jsonl");

fn views() -> Vec<IncidentView> {
    let mut engine = Engine::new(SourceRegistry::default());
    for line in SEED.lines().filter(|l| !l.trim().is_empty()) {
        let report = json::decode_report(line.as_bytes()).expect("fixture reports are valid");
        engine.apply(&report);
    }
    engine.views()
}

fn incident<'a>(views: &'a [IncidentView], admin1: &str) -> &'a IncidentView {
    let matching: Vec<&IncidentView> = views
        .iter()
        .filter(|v| v.location.admin1.iter().any(|a| a.as_str() == admin1))
        .collect();
    assert_eq!(matching.len(), 1, "exactly one incident in {admin1}");
    matching[0]
}

fn estimate(view: &IncidentView, party: Party, harm: Harm) -> &CasualtyEstimate {
    view.casualties
        .iter()
        .find(|e| e.party == party && e.outcome == harm)
        .unwrap_or_else(|| panic!("an estimate for {party:?} {harm:?}"))
}

fn ids(v: &[SourceId]) -> Vec<&str> {
    v.iter().map(SourceId::as_str).collect()
}

#[test]
fn three_incidents_and_south_front_corroborates_nothing() {
    let views = views();
    assert_eq!(views.len(), 3, "Karbala, Baghdad and Tal Afar");
    for v in &views {
        assert!(v
            .evidence
            .iter()
            .all(|e| e.publisher.as_str() == "south-front"));
        for e in &v.casualties {
            assert!(e
                .claims
                .iter()
                .all(|c| c.claimant.as_str() != "south-front"));
            for f in [&e.low, &e.best, &e.high].into_iter().flatten() {
                assert!(!ids(&f.sources).contains(&"south-front"));
            }
        }
        for a in &v.outcome.alternatives {
            assert!(!ids(&a.backers).contains(&"south-front"));
        }
        for a in &v.cause.alternatives {
            assert!(!ids(&a.backers).contains(&"south-front"));
        }
    }
    let total_evidence: usize = views.iter().map(|v| v.evidence.len()).sum();
    assert_eq!(total_evidence, 5);
}

#[test]
fn karbala_checkpoint() {
    let views = views();
    let v = incident(&views, "Karbala");
    assert_eq!(v.evidence.len(), 2);
    let places: Vec<&str> = v.location.places.iter().map(|p| p.as_str()).collect();
    assert_eq!(places, ["cement factory checkpoint"]);

    let killed = estimate(v, Party::Military, Harm::Killed);
    let low = killed.low.as_ref().unwrap();
    let best = killed.best.as_ref().unwrap();
    let high = killed.high.as_ref().unwrap();
    assert_eq!(low.value, 0);
    assert_eq!(ids(&low.sources), ["iraqi-security-source"]);
    assert_eq!(best.value, 0);
    assert_eq!(high.value, 50);
    assert_eq!(ids(&high.sources), ["islamic-state"]);
    assert!(
        high.party_claims_only,
        "the 50 rests on the perpetrator's claim only"
    );
    assert!(killed.disputed);
    assert!(killed.confirmed, "a non-party source gives a figure");
    assert!(!killed.party_claims_only);
    assert_eq!(killed.claimants, 2);

    let wounded = estimate(v, Party::Military, Harm::Wounded);
    assert_eq!(wounded.low.as_ref().unwrap().value, 1);
    assert_eq!(wounded.best.as_ref().unwrap().value, 1);
    assert_eq!(wounded.high.as_ref().unwrap().value, 1);
    assert!(!wounded.disputed);

    assert!(v.outcome.contested, "foiled vs carried out");
    let values: Vec<AttackOutcome> = v.outcome.alternatives.iter().map(|a| a.value).collect();
    assert!(values.contains(&AttackOutcome::Foiled));
    assert!(values.contains(&AttackOutcome::CarriedOut));
    assert_eq!(
        v.outcome.leading,
        Some(AttackOutcome::Foiled),
        "the non-party source leads"
    );
    let carried = v
        .outcome
        .alternatives
        .iter()
        .find(|a| a.value == AttackOutcome::CarriedOut)
        .unwrap();
    assert_eq!(ids(&carried.backers), ["islamic-state"]);
    assert!(carried.party_claims_only);
    assert_eq!(
        v.responsibility.leading.as_ref().map(|a| a.as_str()),
        Some("islamic-state")
    );
    assert_eq!(v.grade, Grade::Contested);
}

#[test]
fn baghdad_palestine_district() {
    let views = views();
    let v = incident(&views, "Baghdad");
    assert_eq!(v.evidence.len(), 1);
    assert_eq!(v.location.places[0].as_str(), "Palestine district");
    let killed = estimate(v, Party::Civilians, Harm::Killed);
    assert_eq!(
        killed.low.as_ref().unwrap().value,
        27,
        "at least 27 bounds low"
    );
    assert_eq!(killed.high.as_ref().unwrap().value, 27);
    assert!(killed.party_claims_only, "a perpetrator-only claim");
    assert!(!killed.confirmed, "unconfirmed");
    assert!(killed.high.as_ref().unwrap().party_claims_only);
    assert!(!killed.disputed);
    assert_eq!(v.independent_claimants, 1);
    assert_eq!(v.grade, Grade::Weak);
}

#[test]
fn tal_afar_al_bwair() {
    let views = views();
    let v = incident(&views, "Nineveh");
    assert_eq!(
        v.evidence.len(),
        2,
        "the US statement and Amaq's claim are one incident"
    );

    let killed = estimate(v, Party::Military, Harm::Killed);
    assert_eq!(killed.low.as_ref().unwrap().value, 2);
    assert_eq!(killed.best.as_ref().unwrap().value, 2);
    assert_eq!(ids(&killed.best.as_ref().unwrap().sources), ["us-military"]);
    assert_eq!(killed.high.as_ref().unwrap().value, 4);
    assert_eq!(ids(&killed.high.as_ref().unwrap().sources), ["amaq"]);
    assert!(killed.high.as_ref().unwrap().party_claims_only);
    assert!(killed.disputed);

    let wounded = estimate(v, Party::Military, Harm::Wounded);
    assert_eq!(wounded.low.as_ref().unwrap().value, 5);
    assert_eq!(wounded.high.as_ref().unwrap().value, 6);

    assert!(v.cause.contested);
    assert_eq!(v.cause.leading, Some(Cause::NonHostile));
    let non_hostile = v
        .cause
        .alternatives
        .iter()
        .find(|a| a.value == Cause::NonHostile)
        .unwrap();
    assert_eq!(ids(&non_hostile.backers), ["us-military"]);
    let hostile = v
        .cause
        .alternatives
        .iter()
        .find(|a| a.value == Cause::Hostile)
        .unwrap();
    assert_eq!(ids(&hostile.backers), ["amaq"]);
    assert!(hostile.party_claims_only);

    assert_eq!(
        v.responsibility.leading.as_ref().map(|a| a.as_str()),
        Some("islamic-state")
    );
    assert!(
        v.responsibility.disputed,
        "the US military says not due to enemy contact"
    );
    assert!(!v.responsibility.contested);
    assert_eq!(v.grade, Grade::Contested);
}

#[test]
fn reconcile_command_prints_the_same_final_views() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_reckon"))
        .args([
            "reconcile",
            "--final",
            "tests/fixtures/seed-2017-iraq.jsonl",
        ])
        .output()
        .expect("run reckon reconcile");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let updates: Vec<reckon::core::update::Update> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| json::decode_update(l.as_bytes()).unwrap())
        .collect();
    let printed: Vec<IncidentView> = updates.into_iter().map(|u| u.view.unwrap()).collect();
    assert_eq!(printed, views());
}

/// The views of the updates `reckon reconcile --final` printed.
fn printed_views(stdout: Vec<u8>) -> Vec<IncidentView> {
    String::from_utf8(stdout)
        .unwrap()
        .lines()
        .map(|l| json::decode_update(l.as_bytes()).unwrap().view.unwrap())
        .collect()
}

/// Runs `reckon reconcile --final -` on `input`, written on its own thread so a large input
/// cannot fill the pipe while the command waits to be read.
fn reconcile_final(input: String) -> std::process::Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_reckon"))
        .args(["reconcile", "--final", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run reckon reconcile");
    let mut stdin = child.stdin.take().expect("piped stdin");
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().expect("reckon reconcile ends");
    // A command that stopped reading early shows in its output and status, which the caller
    // asserts on; the broken pipe it leaves the writer says nothing more.
    let _ = writer.join();
    out
}

#[test]
fn reconcile_command_says_how_many_reports_repeat_an_id() {
    // The seed, then its second and fourth reports again (the second with other content).
    let lines: Vec<&str> = SEED.lines().collect();
    let mut altered: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
    altered["published_at"] = "2017-08-20T00:00:00Z".into();
    let input = format!("{SEED}{altered}\n{}\n", lines[3]);
    let out = reconcile_final(input);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let id = json::decode_report(lines[1].as_bytes()).unwrap().report_id;
    assert_eq!(
        stderr.trim(),
        format!(
            "2 report(s) skipped: their id was seen before (the first copy counts; first at \
             line {}: {id})",
            lines.len() + 1
        )
    );
    // The copies changed nothing.
    assert_eq!(printed_views(out.stdout), views());
}

#[test]
fn reconcile_command_ends_quietly_when_its_reader_goes_away() {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_reckon"))
        .args(["reconcile", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run reckon reconcile");
    // The reader is gone before the command reads its first report, so its first update
    // meets a closed pipe, as `reckon reconcile ... | head -1` does once `head` has its line.
    drop(child.stdout.take());
    let mut stdin = child.stdin.take().expect("piped stdin");
    // The command may stop reading once it cannot write; that is its right.
    let _ = stdin.write_all(SEED.as_bytes());
    drop(stdin);
    let out = child.wait_with_output().expect("reckon reconcile ends");
    assert!(out.status.success(), "{:?}", out.status);
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

#[test]
fn reconcile_command_reports_a_refused_report_by_line_and_exits_2() {
    let first = SEED.lines().next().unwrap();
    let old_id = "southfront-2017-08-14-karbala-security-source";
    let limit = reckon::core::limits::MAX_REPORTS_PER_INCIDENT;
    let input: String = (0..=limit)
        .map(|i| first.replace(old_id, &format!("report-{i}")) + "\n")
        .collect();
    let out = reconcile_final(input);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("line {}: refused: incident ", limit + 1))
            && stderr.contains("already holds 500 reports"),
        "{stderr}"
    );
    // The incident as it stood at the bound is still printed.
    let printed: Vec<reckon::core::update::Update> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| json::decode_update(l.as_bytes()).unwrap())
        .collect();
    assert_eq!(printed.len(), 1);
    assert_eq!(printed[0].view.as_ref().unwrap().evidence.len(), limit);
}

#[test]
fn reconcile_command_reads_any_line_endings_and_cuts_an_oversized_line() {
    // A byte order mark before the first report (as editors write), a line far over the size
    // limit, a blank line, Windows line endings, and a last line without its newline.
    let mut lines = SEED.lines().filter(|l| !l.trim().is_empty());
    let mut input = format!("\u{feff}{}\n", lines.next().unwrap());
    input.push_str(&"x".repeat(200_000));
    input.push_str("\n\r\n");
    input.push_str(&lines.collect::<Vec<_>>().join("\r\n"));
    let out = reconcile_final(input);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "line 2: rejected: message of 65537 bytes exceeds the limit of 65536 \
             (the line is longer still; it was cut)"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("1 line(s) rejected"), "{stderr}");
    assert_eq!(printed_views(out.stdout), views());
}
