//! Reports naming one place three ways, for the gazetteer tests: Sadr City, Baghdad, by its
//! name, by its older name (Thawra), and by its formal name without the province.

/// The example gazetteer the docs show, which the tests use as an operator would.
pub const EXAMPLE: &str = "docs/examples/places.json";

/// Three reports of one car bombing in Sadr City, as JSON lines, each with a witness's toll.
pub fn sadr_city() -> [String; 3] {
    let at = |id: &str, minute: u32, location: serde_json::Value| {
        serde_json::json!({
            "report_id": id,
            "publisher": {"id": format!("desk-{id}"), "kind": "independent_media"},
            "published_at": format!("2017-08-14T10:{minute:02}:00Z"),
            "incident": {
                "occurred_at": "2017-08-13T00:00:00Z", "time_precision": "day",
                "location": location, "event_type": "vbied", "target": "civilians"
            },
            "claims": [{
                "claimant": {"id": format!("witness-{id}"), "kind": "witness"},
                "kind": "casualties", "party": "civilians", "outcome": "killed",
                "count": {"qualifier": "exact", "value": 7}
            }]
        })
        .to_string()
    };
    [
        at(
            "a",
            0,
            serde_json::json!({"country": "IQ", "admin1": "Baghdad", "place": "Sadr City"}),
        ),
        at(
            "b",
            1,
            serde_json::json!({"country": "IQ", "admin1": "Baghdad", "place": "al-Thawra"}),
        ),
        at(
            "c",
            2,
            serde_json::json!({"country": "IQ", "place": "Madinat al-Sadr"}),
        ),
    ]
}
