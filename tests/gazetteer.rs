//! `reckon reconcile --places`: reports naming one place by its aliases, or without its
//! province, are one incident under the gazetteer's standard names.

mod support;

use std::process::Output;

use reckon::core::view::IncidentView;
use support::places;

fn reports() -> String {
    places::sadr_city().join("\n")
}

fn reconcile(args: &[&str], input: &str) -> Output {
    support::reconcile::run(args, input)
}

fn views(out: &Output) -> Vec<IncidentView> {
    support::reconcile::views(out)
}

#[test]
fn aliases_and_a_missing_province_join_one_incident_under_the_standard_names() {
    // Without a gazetteer: three names, and the report without a province in a region of its
    // own.
    let apart = views(&reconcile(&["--final"], &reports()));
    assert_eq!(apart.len(), 3, "{apart:#?}");

    let one = views(&reconcile(
        &["--final", "--places", places::EXAMPLE],
        &reports(),
    ));
    assert_eq!(one.len(), 1, "{one:#?}");
    let v = &one[0];
    assert_eq!(v.region, "iq/baghdad");
    let names = |n: &[reckon::core::model::Name]| -> Vec<String> {
        n.iter().map(|n| n.as_str().to_string()).collect()
    };
    assert_eq!(names(&v.location.admin1), ["Baghdad"]);
    assert_eq!(names(&v.location.places), ["Sadr City"]);
    assert_eq!(v.evidence.len(), 3);
    assert_eq!(v.independent_claimants, 3);
}

#[test]
fn a_gazetteer_that_cannot_be_used_stops_the_command_and_says_where() {
    let dir = std::env::temp_dir().join(format!("reckon-places-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("places.json");
    std::fs::write(
        &bad,
        r#"[{"country": "IQ", "admin1": "Baghdad", "place": "Sadr City", "aliases": ["Thawra"]},
            {"country": "IQ", "admin1": "Baghdad", "place": "Thawra"}]"#,
    )
    .unwrap();
    let out = reconcile(&["--places", bad.to_str().unwrap()], &reports());
    let _ = std::fs::remove_dir_all(&dir);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("parsing gazetteer"), "{stderr}");
    assert!(
        stderr.contains("[1].place (\"Thawra\") already stands for \"Sadr City\" in IQ"),
        "{stderr}"
    );
}
