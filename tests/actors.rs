//! `reckon reconcile --actors`: claims and attributions naming one armed group by its aliases
//! are one actor under the table's id, so responsibility is not contested by a spelling.

mod support;

use std::process::Output;

use reckon::core::view::{Grade, IncidentView};
use serde_json::{json, Value};

/// The example actor table the docs show, which the tests use as an operator would.
const EXAMPLE: &str = "docs/examples/actors.json";

/// A report of the Tal Afar shelling by `publisher`, its claimant's claims.
fn report(id: &str, minute: u32, claimant: Value, claims: &[Value]) -> String {
    let claims: Vec<Value> = claims
        .iter()
        .map(|c| {
            let mut c = c.clone();
            c["claimant"] = claimant.clone();
            c
        })
        .collect();
    json!({
        "schema_version": 1,
        "report_id": id,
        "publisher": {"id": "desk", "kind": "independent_media"},
        "published_at": format!("2017-08-14T10:{minute:02}:00Z"),
        "incident": {
            "occurred_at": "2017-08-13T00:00:00Z", "time_precision": "day",
            "location": {"country": "IQ", "admin1": "Nineveh", "place": "al-Bwair"},
            "event_type": "shelling", "target": "military"
        },
        "claims": claims
    })
    .to_string()
}

fn stance(actor: &str, stance: &str) -> Value {
    json!({"kind": "responsibility", "actor": actor, "stance": stance})
}

/// The Islamic State's media claims it, a ministry attributes it to *ISIS*, the U.S. military
/// to *Daesh*; the ministry then withdraws what it said of *isis*, and a local official, in one
/// report, attributes it to *ISIL* and to *Islamic-State*.
fn reports() -> String {
    let amaq =
        json!({"id": "amaq", "kind": "perpetrator_media", "affiliated_with": "islamic-state"});
    let ministry = json!({"id": "iraqi-mod", "kind": "government"});
    let us = json!({"id": "us-military", "kind": "military"});
    let official = json!({"id": "local-official", "kind": "government"});
    [
        report("a", 0, amaq, &[stance("islamic-state", "claimed")]),
        report("b", 1, ministry.clone(), &[stance("ISIS", "attributed")]),
        report("c", 2, us, &[stance("daesh", "attributed")]),
        report(
            "d",
            3,
            ministry,
            &[json!({"kind": "retraction", "retracts": {"field": "responsibility", "actor": "isis"}})],
        ),
        report(
            "e",
            4,
            official,
            &[stance("ISIL", "attributed"), stance("Islamic-State", "denied")],
        ),
    ]
    .join("\n")
}

fn reconcile(args: &[&str], input: &str) -> Output {
    support::reconcile::run(args, input)
}

fn view(out: &Output) -> IncidentView {
    let views = support::reconcile::views(out);
    assert_eq!(views.len(), 1, "{views:#?}");
    views.into_iter().next().unwrap()
}

fn ids(v: &[reckon::core::model::SourceId]) -> Vec<&str> {
    v.iter().map(|s| s.as_str()).collect()
}

#[test]
fn aliases_of_one_group_are_one_actor_under_the_tables_id() {
    // Without a table: five spellings, five actors, responsibility contested.
    let apart = view(&reconcile(&["--final"], &reports()));
    assert!(apart.responsibility.contested);
    assert_eq!(apart.grade, Grade::Contested);
    assert!(apart.responsibility.actors.len() >= 4, "{apart:#?}");

    let one = view(&reconcile(&["--final", "--actors", EXAMPLE], &reports()));
    let r = &one.responsibility;
    assert_eq!(r.actors.len(), 1, "{r:#?}");
    let a = &r.actors[0];
    assert_eq!(a.actor.as_str(), "islamic-state");
    assert_eq!(
        r.leading.as_ref().map(|l| l.as_str()),
        Some("islamic-state")
    );
    assert_eq!(ids(&a.claimed_by), ["amaq"]);
    // The ministry's retraction of *isis* withdrew its attribution of *ISIS*; the official's
    // second statement on the group, in the same report, is not taken (one per field).
    assert_eq!(ids(&a.attributed_by), ["local-official", "us-military"]);
    assert!(a.denied_by.is_empty(), "{a:#?}");
    assert!(!r.contested);
    assert_ne!(one.grade, Grade::Contested);
}

#[test]
fn an_actor_table_that_cannot_be_used_stops_the_command_and_says_where() {
    let dir = std::env::temp_dir().join(format!("reckon-actors-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("actors.json");
    std::fs::write(
        &bad,
        r#"[{"id": "islamic-state", "aliases": ["is"]}, {"id": "islamic-movement", "aliases": ["IS"]}]"#,
    )
    .unwrap();
    let out = reconcile(&["--actors", bad.to_str().unwrap()], &reports());
    let _ = std::fs::remove_dir_all(&dir);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("parsing actor table"), "{err}");
    assert!(
        err.contains("[1].aliases[0] (\"IS\") already stands for islamic-state"),
        "{err}"
    );
}
