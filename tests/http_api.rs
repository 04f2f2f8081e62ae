//! The HTTP query API against a real server on a free loopback port, over a read model filled
//! with real updates (the offline engine folding the seed article): every route, error bodies,
//! readiness, the SSE stream (live order, resumption, lagging subscribers), forwarding between
//! two instances, and a table and a property test of hostile requests.

mod processor_common;

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, Request, StatusCode};
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use proptest::prelude::*;
use reckon::adapters::http::{HttpConfig, HttpServer, PeerInfo, Peers};
use reckon::core::model::IncidentId;
use reckon::core::registry::SourceRegistry;
use reckon::core::update::Update;
use reckon::core::Engine;
use reckon::runtime::{ReadModel, ReadModelConfig};
use reckon::wire;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const SEED: &str = include_str!("fixtures/seed-2017-iraq.jsonl");
const EPOCH: &str = "e0test";

type HttpClient = Client<HttpConnector, Empty<Bytes>>;

fn client() -> HttpClient {
    Client::builder(TokioExecutor::new()).build_http()
}

/// Every update the engine publishes folding `lines`, in order.
fn fold(engine: &mut Engine, lines: &[String]) -> Vec<Update> {
    lines
        .iter()
        .flat_map(|l| engine.apply(&wire::json::decode_report(l.as_bytes()).expect("report")))
        .collect()
}

fn seed_lines() -> Vec<String> {
    SEED.lines().map(str::to_string).collect()
}

/// A new report on an incident by explicit id: a new witness giving a new killed figure.
fn extra_report(incident: &str, n: u32) -> String {
    serde_json::json!({
        "schema_version": 1,
        "report_id": format!("extra-{incident}-{n}"),
        "publisher": {"id": format!("witness-{n}"), "kind": "witness"},
        "published_at": format!("2017-08-15T10:{n:02}:00Z"),
        "incident": {
            "incident_id": incident,
            "occurred_at": "2017-08-13T00:00:00Z",
            "time_precision": "day",
            "location": {"country": "IQ", "admin1": "Karbala", "admin2": "Karbala",
                         "place": "cement factory checkpoint", "precision": "place"},
            "event_type": "vbied",
            "target": "military"
        },
        "claims": [{
            "claimant": {"id": format!("witness-{n}"), "kind": "witness"},
            "kind": "casualties", "party": "military", "outcome": "killed",
            "count": {"qualifier": "exact", "value": n}
        }]
    })
    .to_string()
}

fn model_with(config: ReadModelConfig) -> Arc<ReadModel> {
    Arc::new(ReadModel::with_epoch(config, EPOCH))
}

/// A ready model (partition 0 assigned and restored) holding the seed's updates.
fn seeded() -> (Arc<ReadModel>, Vec<Update>) {
    let m = model_with(ReadModelConfig::default());
    m.assign(0);
    m.restored(0, vec![]);
    let updates = fold(&mut Engine::new(SourceRegistry::default()), &seed_lines());
    for u in &updates {
        m.apply(0, u);
    }
    (m, updates)
}

/// The seed's three incidents by admin1: (Karbala, Baghdad, Tal Afar's Nineveh).
fn seed_ids(updates: &[Update]) -> (String, String, String) {
    let find = |admin1: &str| {
        updates
            .iter()
            .rev()
            .find(|u| {
                u.view.as_ref().is_some_and(|v| {
                    v.location
                        .admin1
                        .iter()
                        .any(|a| a.as_str().eq_ignore_ascii_case(admin1))
                })
            })
            .map(|u| u.incident_id.as_str().to_string())
            .unwrap_or_else(|| panic!("no {admin1} incident in the seed"))
    };
    (find("Karbala"), find("Baghdad"), find("Nineveh"))
}

struct Api {
    server: HttpServer,
    base: String,
}

async fn start(model: Arc<ReadModel>, peers: Peers, instance: &str) -> Api {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let mut config = HttpConfig::new(instance);
    config.forward_timeout = Duration::from_secs(2);
    config.keep_alive = Duration::from_secs(1);
    let server = HttpServer::serve(listener, model, peers, config).expect("serve");
    let base = format!("http://{}", server.local_addr());
    Api { server, base }
}

async fn get_raw(
    c: &HttpClient,
    url: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, HeaderMap, Bytes) {
    let mut req = Request::get(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = tokio::time::timeout(
        Duration::from_secs(10),
        c.request(req.body(Empty::new()).expect("request")),
    )
    .await
    .expect("answer in time")
    .expect("answer");
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    (status, headers, body)
}

async fn get(c: &HttpClient, url: &str) -> (StatusCode, Value) {
    let (s, h, b) = get_raw(c, url, &[]).await;
    assert_eq!(
        h.get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/json"),
        "{url}: every answer is JSON"
    );
    let v: Value = serde_json::from_slice(&b)
        .unwrap_or_else(|e| panic!("{url}: not JSON ({e}): {}", String::from_utf8_lossy(&b)));
    (s, v)
}

fn assert_error(v: &Value, code: &str) {
    assert_eq!(v["error"], code, "{v}");
    assert!(
        v["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "{v}: a detail"
    );
}

fn ids_of(list: &Value) -> Vec<String> {
    list["incidents"]
        .as_array()
        .expect("incidents")
        .iter()
        .map(|u| u["incident_id"].as_str().expect("id").to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incidents_by_id_are_their_latest_updates() {
    let (model, updates) = seeded();
    let api = start(model, Peers::default(), "a").await;
    let c = client();
    let (karbala, baghdad, tal_afar) = seed_ids(&updates);
    for id in [&karbala, &baghdad, &tal_afar] {
        let last = updates
            .iter()
            .rev()
            .find(|u| u.incident_id.as_str() == id)
            .unwrap();
        let (status, headers, body) =
            get_raw(&c, &format!("{}/incidents/{id}", api.base), &[]).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers["x-reckon-served-by"], "a");
        // Byte for byte the update as published.
        assert_eq!(body.as_ref(), wire::json::encode_update(last).as_slice());
    }
    let (_, k) = get(&c, &format!("{}/incidents/{karbala}", api.base)).await;
    assert_eq!(k["view"]["grade"], "contested");
    assert_eq!(k["view"]["outcome"]["leading"], "foiled");
    let killed = &k["view"]["casualties"][0];
    assert_eq!(killed["low"]["value"], 0);
    assert_eq!(killed["high"]["value"], 50);
    assert_eq!(killed["disputed"], true);
    api.server.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_filter_sort_and_page() {
    let (model, updates) = seeded();
    let api = start(model, Peers::default(), "a").await;
    let c = client();
    let (karbala, baghdad, tal_afar) = seed_ids(&updates);
    let mut all = vec![karbala.clone(), baghdad.clone(), tal_afar.clone()];
    all.sort();

    let (s, v) = get(&c, &format!("{}/incidents", api.base)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(ids_of(&v), all, "sorted by id");
    assert_eq!(v["partitions"], serde_json::json!([0]));
    assert_eq!(v["count"], 3);
    assert_eq!(v["instance_id"], "a");

    let (_, v) = get(&c, &format!("{}/incidents?country=IQ", api.base)).await;
    assert_eq!(ids_of(&v), all);
    let (_, v) = get(&c, &format!("{}/incidents?country=iq", api.base)).await;
    assert_eq!(ids_of(&v), all, "country codes are case-insensitive");
    let (_, v) = get(&c, &format!("{}/incidents?country=SY", api.base)).await;
    assert!(ids_of(&v).is_empty());

    let mut contested = vec![karbala.clone(), tal_afar.clone()];
    contested.sort();
    let (_, v) = get(&c, &format!("{}/incidents?grade=contested", api.base)).await;
    assert_eq!(ids_of(&v), contested);
    let (_, v) = get(&c, &format!("{}/incidents?country=IQ&grade=weak", api.base)).await;
    assert_eq!(ids_of(&v), vec![baghdad.clone()]);
    let (_, v) = get(&c, &format!("{}/incidents?grade=confirmed", api.base)).await;
    assert!(ids_of(&v).is_empty());

    // `since` filters on the newest evidence `published_at` (seed: 2017-08-14T09:00-09:04Z).
    let (_, v) = get(
        &c,
        &format!("{}/incidents?since=2017-08-14T00:00:00Z", api.base),
    )
    .await;
    assert_eq!(ids_of(&v), all);
    let (_, v) = get(
        &c,
        &format!("{}/incidents?since=2017-08-15T00:00:00Z", api.base),
    )
    .await;
    assert!(ids_of(&v).is_empty());
    let (_, v) = get(
        &c,
        &format!("{}/incidents?since=2017-08-14T12:00:00%2B03:00", api.base),
    )
    .await;
    assert_eq!(ids_of(&v), all, "an offset written as %2B");

    // Paging: limit and after.
    let (_, v) = get(&c, &format!("{}/incidents?limit=2", api.base)).await;
    assert_eq!(ids_of(&v), all[..2].to_vec());
    assert_eq!(v["next_after"], all[1].as_str());
    let (_, v) = get(
        &c,
        &format!("{}/incidents?limit=2&after={}", api.base, all[1]),
    )
    .await;
    assert_eq!(ids_of(&v), all[2..].to_vec());
    assert_eq!(v["next_after"], Value::Null);
    api.server.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_keeps_the_last_versions() {
    let model = model_with(ReadModelConfig {
        history_len: 3,
        ..ReadModelConfig::default()
    });
    model.assign(0);
    model.restored(0, vec![]);
    let mut engine = Engine::new(SourceRegistry::default());
    let mut updates = fold(&mut engine, &seed_lines());
    let (karbala, _, _) = seed_ids(&updates);
    let extra: Vec<String> = (1..=4).map(|n| extra_report(&karbala, n)).collect();
    updates.extend(fold(&mut engine, &extra));
    for u in &updates {
        model.apply(0, u);
    }
    let mine: Vec<&Update> = updates
        .iter()
        .filter(|u| u.incident_id.as_str() == karbala)
        .collect();
    assert!(mine.len() >= 5, "several versions: {}", mine.len());
    let api = start(model, Peers::default(), "a").await;
    let c = client();
    let (s, h) = get(&c, &format!("{}/incidents/{karbala}/history", api.base)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(h["version"], mine.last().unwrap().version);
    assert_eq!(h["history_len"], 3);
    assert_eq!(h["complete"], false);
    let versions = h["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 3);
    for (got, want) in versions.iter().zip(&mine[mine.len() - 3..]) {
        assert_eq!(got["version"], want.version);
        assert_eq!(got["changes"], serde_json::json!(want.changes));
        assert_eq!(
            got["caused_by"],
            serde_json::json!(want
                .caused_by
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>())
        );
    }
    // The current view is the last version's.
    let (_, latest) = get(&c, &format!("{}/incidents/{karbala}", api.base)).await;
    assert_eq!(latest["version"], mine.last().unwrap().version);
    // A short history from the start is complete.
    let (_, baghdad) = get(&c, &format!("{}/incidents?grade=weak", api.base)).await;
    let b = ids_of(&baghdad)[0].clone();
    let (_, h) = get(&c, &format!("{}/incidents/{b}/history", api.base)).await;
    assert_eq!(h["complete"], true);
    assert_eq!(h["versions"][0]["version"], 1);
    api.server.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_are_json_with_a_code_and_a_detail() {
    let (model, _) = seeded();
    let api = start(model, Peers::default(), "a").await;
    let c = client();
    let b = &api.base;
    let cases: Vec<(String, StatusCode, &str)> = vec![
        (
            format!("{b}/incidents/iq-20990101-000000000000"),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            format!("{b}/incidents/iq-20990101-000000000000/history"),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            format!("{b}/incidents/%01bad"),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            format!("{b}/incidents/%20padded"),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            format!("{b}/incidents/{}", "x".repeat(500)),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            format!("{b}/incidents/%FF%FE"),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            format!("{b}/incidents/a?b=c"),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            format!("{b}/incidents?country=IRQ"),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            format!("{b}/incidents?country="),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            format!("{b}/incidents?grade=awful"),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            format!("{b}/incidents?since=yesterday"),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            format!("{b}/incidents?since=2017-08-14T00:00:00+03:00"),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            format!("{b}/incidents?since=1800-01-01T00:00:00Z"),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            format!("{b}/incidents?limit=0"),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            format!("{b}/incidents?limit=-1"),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            format!("{b}/incidents?limit=99999999999999999999999"),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            format!("{b}/incidents?contry=IQ"),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            format!("{b}/incidents?country=IQ&country=SY"),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            format!("{b}/incidents?{}", "a=b&".repeat(2000)),
            StatusCode::URI_TOO_LONG,
            "uri_too_long",
        ),
        (
            format!("{b}/updates?grade=x"),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            format!("{b}/updates?incident=%00"),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (format!("{b}/nope"), StatusCode::NOT_FOUND, "not_found"),
        (format!("{b}/"), StatusCode::NOT_FOUND, "not_found"),
    ];
    for (url, status, code) in cases {
        let (s, v) = get(&c, &url).await;
        assert_eq!(s, status, "{url}: {v}");
        assert_error(&v, code);
    }
    // The 404 of an unknown incident names this instance and the (empty) list of peers asked.
    let (_, v) = get(&c, &format!("{b}/incidents/iq-20990101-000000000000")).await;
    assert_eq!(v["instance_id"], "a");
    assert_eq!(v["peers"], serde_json::json!([]));
    assert_eq!(v["incident_id"], "iq-20990101-000000000000");
    // Other methods: 405, JSON.
    let resp = c
        .request(
            Request::post(format!("{b}/incidents"))
                .body(Empty::new())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    assert_error(
        &serde_json::from_slice(&body).unwrap(),
        "method_not_allowed",
    );
    api.server.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_follows_the_restore() {
    let model = model_with(ReadModelConfig::default());
    let api = start(model.clone(), Peers::default(), "a").await;
    let c = client();
    let (s, v) = get(&c, &format!("{}/healthz", api.base)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["status"], "ok");

    let (s, v) = get(&c, &format!("{}/readyz", api.base)).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "not joined yet: {v}");
    assert_error(&v, "not_ready");
    assert_eq!(v["joined"], false);

    model.assign(0);
    model.assign(2);
    let (s, v) = get(&c, &format!("{}/readyz", api.base)).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(v["restoring"], serde_json::json!([0, 2]));

    // While partition 2 restores, an incident not found is "retry", not "absent".
    model.restored(0, vec![]);
    let (s, v) = get(&c, &format!("{}/incidents/iq-x", api.base)).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{v}");
    assert_error(&v, "restoring");
    let (s, v) = get(&c, &format!("{}/readyz", api.base)).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(v["restoring"], serde_json::json!([2]));

    let mut engine = Engine::new(SourceRegistry::default());
    fold(&mut engine, &seed_lines());
    model.restored(2, engine.current_updates());
    let (s, v) = get(&c, &format!("{}/readyz", api.base)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["partitions"], serde_json::json!([0, 2]));
    // The restored incidents are served at their current version.
    let (s, v) = get(&c, &format!("{}/incidents?grade=contested", api.base)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(ids_of(&v).len(), 2);
    for u in v["incidents"].as_array().unwrap() {
        let id = IncidentId::parse(u["incident_id"].as_str().unwrap()).unwrap();
        let view = engine.view(&id).unwrap();
        assert_eq!(u["view"], serde_json::to_value(&view).unwrap());
    }
    api.server.shutdown(Duration::from_secs(5)).await;
}

// ---------------------------------------------------------------------------------------------
// Server-sent events

#[derive(Debug, Clone, PartialEq)]
struct Sse {
    event: String,
    id: Option<String>,
    data: String,
}

impl Sse {
    fn seq(&self) -> u64 {
        let id = self.id.as_deref().expect("an id");
        let (epoch, seq) = id.rsplit_once('-').expect("epoch-seq");
        assert_eq!(epoch, EPOCH);
        seq.parse().expect("seq")
    }
    fn json(&self) -> Value {
        serde_json::from_str(&self.data).expect("JSON data")
    }
}

struct SseReader {
    body: Incoming,
    buf: Vec<u8>,
}

impl SseReader {
    async fn open(c: &HttpClient, url: &str, last_event_id: Option<&str>) -> Self {
        let mut req = Request::get(url);
        if let Some(id) = last_event_id {
            req = req.header("last-event-id", id);
        }
        let resp = c.request(req.body(Empty::new()).unwrap()).await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(resp.headers()["content-type"], "text/event-stream");
        Self {
            body: resp.into_body(),
            buf: Vec::new(),
        }
    }

    /// The next event (keep-alive comments skipped), or `None` at the end of the stream.
    async fn next(&mut self) -> Option<Sse> {
        loop {
            if let Some(pos) = self.buf.windows(2).position(|w| w == b"\n\n") {
                let block: Vec<u8> = self.buf.drain(..pos + 2).collect();
                let text = String::from_utf8(block).expect("UTF-8");
                let mut e = Sse {
                    event: "message".into(),
                    id: None,
                    data: String::new(),
                };
                let mut has_data = false;
                for line in text.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        e.event = v.trim_start().to_string();
                    } else if let Some(v) = line.strip_prefix("id:") {
                        e.id = Some(v.trim_start().to_string());
                    } else if let Some(v) = line.strip_prefix("data:") {
                        if has_data {
                            e.data.push('\n');
                        }
                        e.data.push_str(v.strip_prefix(' ').unwrap_or(v));
                        has_data = true;
                    }
                }
                if has_data {
                    return Some(e);
                }
                continue;
            }
            let frame = tokio::time::timeout(Duration::from_secs(20), self.body.frame())
                .await
                .expect("an event in time")?
                .expect("frame");
            if let Ok(data) = frame.into_data() {
                self.buf.extend_from_slice(&data);
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sse_snapshot_then_live_updates_in_order_then_exact_resumption() {
    let model = model_with(ReadModelConfig::default());
    model.assign(0);
    model.restored(0, vec![]);
    let mut engine = Engine::new(SourceRegistry::default());
    let lines = seed_lines();
    // The first two reports before anyone subscribes.
    let before = fold(&mut engine, &lines[..2]);
    for u in &before {
        model.apply(0, u);
    }
    let api = start(model.clone(), Peers::default(), "a").await;
    let c = client();
    let url = format!("{}/updates", api.base);
    let mut live = SseReader::open(&c, &url, None).await;
    let snap = live.next().await.unwrap();
    assert_eq!(snap.event, "snapshot");
    assert_eq!(snap.seq(), before.len() as u64);
    let s = snap.json();
    assert_eq!(s["reason"], "initial");
    assert_eq!(s["count"], 1, "one incident so far (Karbala): {s}");
    assert_eq!(
        s["updates"][0],
        serde_json::from_slice::<Value>(&wire::json::encode_update(before.last().unwrap()))
            .unwrap()
    );

    // Live: the rest of the seed, in order, byte for byte.
    let after = fold(&mut engine, &lines[2..]);
    for u in &after {
        model.apply(0, u);
    }
    let mut received = Vec::new();
    for (i, u) in after.iter().enumerate() {
        let e = live.next().await.unwrap();
        assert_eq!(e.event, "update");
        assert_eq!(e.seq(), (before.len() + i + 1) as u64);
        assert_eq!(e.data.as_bytes(), wire::json::encode_update(u).as_slice());
        received.push(e);
    }

    // A subscriber that saw up to the first live event resumes with exactly the others.
    let first = received[0].id.clone().unwrap();
    let mut resumed = SseReader::open(&c, &url, Some(&first)).await;
    for want in &received[1..] {
        let got = resumed.next().await.unwrap();
        assert_eq!(&got, want);
    }
    // ... and then continues live, like everyone else. The extra report is of Karbala, so it
    // names the Karbala incident: a report naming an incident of another region is refused.
    let karbala = before.last().unwrap().incident_id.as_str().to_string();
    let extra = fold(&mut engine, &[extra_report(&karbala, 7)]);
    assert!(!extra.is_empty());
    for u in &extra {
        model.apply(0, u);
    }
    for u in &extra {
        let a = live.next().await.unwrap();
        let b = resumed.next().await.unwrap();
        assert_eq!(a, b);
        assert_eq!(a.data.as_bytes(), wire::json::encode_update(u).as_slice());
    }

    // An id of another run, garbage, or a sequence this run never reached: a snapshot of
    // everything held, at the current sequence.
    let now = model.seq();
    for bad in ["otherrun-3", "garbage", &format!("{EPOCH}-{}", now + 100)] {
        let mut r = SseReader::open(&c, &url, Some(bad)).await;
        let e = r.next().await.unwrap();
        assert_eq!(e.event, "snapshot", "{bad}");
        assert_eq!(e.seq(), now);
        assert_eq!(e.json()["reason"], "unknown_id");
        assert_eq!(e.json()["count"], 3);
    }
    // The `last_event_id` parameter works like the header.
    let mut r = SseReader::open(&c, &format!("{url}?last_event_id={first}"), None).await;
    assert_eq!(r.next().await.unwrap(), received[1]);

    // Filters: only Baghdad's updates (weak), and revocations.
    let mut weak = SseReader::open(&c, &format!("{url}?grade=weak&country=IQ"), None).await;
    let snap = weak.next().await.unwrap();
    assert_eq!(snap.json()["count"], 1);
    model.revoke(0);
    let e = weak.next().await.unwrap();
    assert_eq!(e.event, "revoked");
    assert_eq!(e.json()["partitions"], serde_json::json!([0]));
    api.server.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sse_resumes_from_an_old_id_with_a_snapshot_when_the_buffer_moved_on() {
    let model = model_with(ReadModelConfig {
        buffer_len: 2,
        ..ReadModelConfig::default()
    });
    model.assign(0);
    model.restored(0, vec![]);
    let updates = fold(&mut Engine::new(SourceRegistry::default()), &seed_lines());
    for u in &updates {
        model.apply(0, u);
    }
    let api = start(model.clone(), Peers::default(), "a").await;
    let c = client();
    let url = format!("{}/updates", api.base);
    let mut r = SseReader::open(&c, &url, Some(&format!("{EPOCH}-1"))).await;
    let e = r.next().await.unwrap();
    assert_eq!(e.event, "snapshot");
    assert_eq!(e.json()["reason"], "too_old");
    assert_eq!(e.seq(), updates.len() as u64);
    // Within the last two: exact.
    let n = updates.len() as u64;
    let mut r = SseReader::open(&c, &url, Some(&format!("{EPOCH}-{}", n - 2))).await;
    assert_eq!(r.next().await.unwrap().seq(), n - 1);
    assert_eq!(r.next().await.unwrap().seq(), n);
    api.server.shutdown(Duration::from_secs(5)).await;
}

/// A fabricated update of the Karbala incident at `version`, made large by its `caused_by`,
/// to fill socket buffers quickly.
fn big_update(base: &Update, version: u64) -> Update {
    let mut u = base.clone();
    u.version = version;
    u.caused_by = (0..60)
        .map(|i| {
            reckon::core::model::ReportId::parse(&format!(
                "{version:08}-{i:03}-{}",
                "r".repeat(100)
            ))
            .unwrap()
        })
        .collect();
    u
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lagging_subscriber_gets_a_snapshot_never_a_silent_gap() {
    let model = model_with(ReadModelConfig {
        history_len: 2,
        buffer_len: 32,
        broadcast_capacity: 8,
    });
    model.assign(0);
    model.restored(0, vec![]);
    let base = fold(
        &mut Engine::new(SourceRegistry::default()),
        &seed_lines()[..1],
    )
    .pop()
    .unwrap();
    let api = start(model.clone(), Peers::default(), "a").await;
    let c = client();
    let mut r = SseReader::open(&c, &format!("{}/updates", api.base), None).await;
    let first = r.next().await.unwrap();
    assert_eq!(first.event, "snapshot");
    // ~7 KB per event, 4000 events: far more than the socket buffers hold while the reader
    // does not read, so the server's stream falls behind the broadcast.
    let total = 4000u64;
    for v in 1..=total {
        model.apply(0, &big_update(&base, v));
    }
    let mut last = first.seq();
    let mut snapshots = 0;
    let mut final_version = 0;
    while final_version < total {
        let e = r.next().await.expect("stream open");
        match e.event.as_str() {
            "update" => {
                assert_eq!(e.seq(), last + 1, "a gap without a snapshot after {last}");
                final_version = e.json()["version"].as_u64().unwrap();
            }
            "snapshot" => {
                let s = e.json();
                assert_eq!(s["reason"], "lagged");
                assert!(e.seq() >= last);
                snapshots += 1;
                final_version = s["updates"][0]["version"].as_u64().unwrap();
            }
            other => panic!("unexpected event {other}"),
        }
        last = e.seq();
    }
    assert!(
        snapshots > 0,
        "the subscriber never lagged: the test did not test anything"
    );
    assert_eq!(last, model.seq());
    api.server.shutdown(Duration::from_secs(5)).await;
}

// ---------------------------------------------------------------------------------------------
// Interactive queries

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_for_incidents_held_elsewhere_are_forwarded_once() {
    // Instance a holds Karbala's partition, b holds Baghdad's; c is a peer that is gone.
    let updates = fold(&mut Engine::new(SourceRegistry::default()), &seed_lines());
    let (karbala, baghdad, _) = seed_ids(&updates);
    let (ma, mb) = (
        model_with(ReadModelConfig::default()),
        model_with(ReadModelConfig::default()),
    );
    ma.assign(0);
    ma.restored(0, vec![]);
    mb.assign(1);
    mb.restored(1, vec![]);
    for u in &updates {
        if u.incident_id.as_str() == baghdad {
            mb.apply(1, u);
        } else {
            ma.apply(0, u);
        }
    }
    let peers = Peers::default();
    let a = start(ma, peers.clone(), "a").await;
    let b = start(mb, peers.clone(), "b").await;
    let dead = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead_url = format!("http://{}", dead.local_addr().unwrap());
    drop(dead);
    for (id, url, partitions) in [
        ("a", a.base.clone(), vec![0]),
        ("b", b.base.clone(), vec![1]),
        ("c", dead_url, vec![2]),
        ("idle", "http://127.0.0.1:9".to_string(), vec![]),
    ] {
        peers.upsert(PeerInfo {
            instance_id: id.into(),
            url,
            partitions,
            epoch: String::new(),
            announced_at_ms: 0,
        });
    }
    let c = client();
    // b's incident asked of a: forwarded, answered by b.
    let (s, h, body) = get_raw(&c, &format!("{}/incidents/{baghdad}", a.base), &[]).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(h["x-reckon-served-by"], "b");
    let last = updates
        .iter()
        .rev()
        .find(|u| u.incident_id.as_str() == baghdad)
        .unwrap();
    assert_eq!(body.as_ref(), wire::json::encode_update(last).as_slice());
    let (s, h, _) = get_raw(&c, &format!("{}/incidents/{baghdad}/history", a.base), &[]).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(h["x-reckon-served-by"], "b");
    // a's own incident is answered locally.
    let (s, h, _) = get_raw(&c, &format!("{}/incidents/{karbala}", b.base), &[]).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(h["x-reckon-served-by"], "a");
    // A forwarded request is never forwarded again.
    let (s, _, body) = get_raw(
        &c,
        &format!("{}/incidents/{baghdad}", a.base),
        &[("x-reckon-forwarded", "1")],
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["forwarded"], true);
    assert_eq!(v["peers"], serde_json::json!([]));
    // Nobody has it: 404 with what each peer said.
    let (s, v) = get(&c, &format!("{}/incidents/iq-nowhere", a.base)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_error(&v, "not_found");
    let outcomes: Vec<(String, String)> = v["peers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["instance_id"].as_str().unwrap().to_string(),
                p["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        vec![
            ("b".to_string(), "not_found".to_string()),
            ("c".to_string(), "unreachable".to_string()),
            ("idle".to_string(), "not_asked".to_string()),
        ]
    );
    // The list covers local incidents only, and names the peers.
    let (_, v) = get(&c, &format!("{}/incidents", a.base)).await;
    assert!(!ids_of(&v).contains(&baghdad));
    assert_eq!(v["partitions"], serde_json::json!([0]));
    assert_eq!(v["peers"].as_array().unwrap().len(), 3);
    a.server.shutdown(Duration::from_secs(5)).await;
    b.server.shutdown(Duration::from_secs(5)).await;
}

// ---------------------------------------------------------------------------------------------
// Hostile requests

/// Sends raw bytes and returns the status code of the answer (0 if the connection closed
/// without one).
async fn raw_status(addr: std::net::SocketAddr, request: &[u8]) -> u16 {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    // The server may answer and close before everything is written.
    let _ = s.write_all(request).await;
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut buf)).await;
    let text = String::from_utf8_lossy(&buf);
    text.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_never_take_the_server_down() {
    let (model, _) = seeded();
    let api = start(model, Peers::default(), "a").await;
    let addr = api.server.local_addr();
    let huge = "a".repeat(1 << 20);
    let table: Vec<(Vec<u8>, &[u16])> = vec![
        (b"GET /incidents/\xff\xfe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(), &[400]),
        (b"GET /incidents/%ZZ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(), &[400, 404]),
        (b"GET /incidents?%ZZ=%ZZ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(), &[400]),
        (format!("GET /incidents?q={huge} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").into_bytes(), &[0, 400, 414, 431]),
        (format!("GET /incidents/{huge} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").into_bytes(), &[0, 400, 414, 431]),
        (b"GET /updates HTTP/1.1\r\nHost: x\r\nLast-Event-ID: \xff\xfe\r\nConnection: close\r\n\r\n".to_vec(), &[200]),
        (b"GET /updates?last_event_id=e0test-18446744073709551615 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(), &[200]),
        (b"GARBAGE\r\n\r\n".to_vec(), &[0, 400]),
        (b"GET / HTTP/9.9\r\n\r\n".to_vec(), &[0, 400, 505]),
        (b"GET /incidents HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\nConnection: close\r\n\r\nabc".to_vec(), &[200, 400, 413]),
    ];
    for (req, allowed) in &table {
        let is_sse = req.starts_with(b"GET /updates");
        let status = if is_sse {
            // The stream stays open: read only the status line.
            let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
            s.write_all(req).await.unwrap();
            let mut buf = vec![0u8; 512];
            let n = tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf))
                .await
                .unwrap()
                .unwrap();
            let text = String::from_utf8_lossy(&buf[..n]).to_string();
            text.split_whitespace().nth(1).unwrap().parse().unwrap()
        } else {
            raw_status(addr, req).await
        };
        assert!(
            allowed.contains(&status),
            "{:?}: status {status}",
            String::from_utf8_lossy(&req[..req.len().min(80)])
        );
        // Still serving.
        let (s, _) = get(&client(), &format!("{}/healthz", api.base)).await;
        assert_eq!(s, StatusCode::OK);
    }
    api.server.shutdown(Duration::from_secs(5)).await;
}

/// A client that opens connections and never finishes a request cannot hold them: the server
/// closes each one once the header deadline passes (silent ones, half-sent requests, and idle
/// keep-alive connections after an answer), and goes on serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_or_silent_clients_are_disconnected_at_the_header_deadline() {
    let (model, _) = seeded();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let mut config = HttpConfig::new("a");
    config.header_timeout = Duration::from_millis(300);
    let server = HttpServer::serve(listener, model, Peers::default(), config).expect("serve");
    let addr = server.local_addr();
    let cases: [(&str, &[u8]); 3] = [
        ("silent", b""),
        ("half a request", b"GET /healthz HTTP/1.1\r\nHost: x\r\n"),
        (
            "idle after an answer",
            b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
        ),
    ];
    for (what, sent) in cases {
        let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
        s.write_all(sent).await.expect("write");
        let mut buf = Vec::new();
        // Far longer than the deadline: only a connection the server never closes fails here.
        let closed = tokio::time::timeout(Duration::from_secs(30), s.read_to_end(&mut buf)).await;
        assert!(
            closed.is_ok(),
            "{what}: the server kept the connection open"
        );
        let text = String::from_utf8_lossy(&buf);
        if what == "idle after an answer" {
            assert!(text.starts_with("HTTP/1.1 200"), "{what}: {text}");
        } else {
            assert!(!text.contains(" 200 "), "{what}: {text}");
        }
    }
    let (status, _) = get(&client(), &format!("http://{addr}/healthz")).await;
    assert_eq!(status, StatusCode::OK);
    server.shutdown(Duration::from_secs(5)).await;
}

fn percent_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("%{b:02X}")).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// Any id bytes and any query string give an answer below 500 with a JSON body.
    #[test]
    fn any_id_or_query_gets_a_json_answer_below_500(
        id in proptest::collection::vec(any::<u8>(), 0..300),
        key in prop_oneof![
            Just("country".to_string()), Just("grade".to_string()), Just("since".to_string()),
            Just("limit".to_string()), Just("after".to_string()), "[a-z]{0,8}".prop_map(|s| s),
        ],
        value in proptest::collection::vec(any::<u8>(), 0..64),
        route in 0usize..4,
    ) {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let (model, _) = seeded();
            let api = start(model, Peers::default(), "a").await;
            let c = client();
            let url = match route {
                0 => format!("{}/incidents/{}", api.base, percent_encode(&id)),
                1 => format!("{}/incidents/{}/history", api.base, percent_encode(&id)),
                2 => format!("{}/incidents?{key}={}", api.base, percent_encode(&value)),
                _ => format!("{}/incidents/x?{key}={}", api.base, percent_encode(&value)),
            };
            let (s, h, body) = get_raw(&c, &url, &[]).await;
            prop_assert!(s.as_u16() < 500, "{url}: {s}");
            prop_assert_eq!(h.get("content-type").and_then(|v| v.to_str().ok()), Some("application/json"));
            let v: Value = serde_json::from_slice(&body).expect("JSON");
            if !s.is_success() {
                prop_assert!(v["error"].is_string() && v["detail"].is_string());
            }
            api.server.shutdown(Duration::from_secs(5)).await;
            Ok(())
        })?;
    }
}

#[test]
fn current_updates_rebuilt_from_the_state_match_the_last_published_ones() {
    let mut engine = Engine::new(SourceRegistry::default());
    let updates = fold(&mut engine, &seed_lines());
    let current = engine.current_updates();
    assert_eq!(current.len(), 3);
    for c in &current {
        let last = updates
            .iter()
            .rev()
            .find(|u| u.incident_id == c.incident_id)
            .unwrap();
        assert_eq!(
            (c.version, &c.view, &c.merge),
            (last.version, &last.view, &last.merge)
        );
    }
    // Restored from the state alone (as the processor does on assignment): the same.
    let restored = Engine::restore(SourceRegistry::default(), engine.incidents().cloned());
    assert_eq!(restored.current_updates(), current);
}

// ---------------------------------------------------------------------------------------------
// The instances topic on the embedded mock cluster

async fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !f() {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_find_each_other_through_the_topic_and_forward() {
    use rdkafka::mocking::MockCluster;
    use reckon::adapters::kafka::instances::{Announce, Instances};
    use reckon::adapters::kafka::KafkaArgs;

    let cluster = MockCluster::new(1).expect("mock cluster");
    cluster.create_topic("reckon.instances", 1, 1).unwrap();
    let kafka = KafkaArgs::for_brokers(cluster.bootstrap_servers());

    let updates = fold(&mut Engine::new(SourceRegistry::default()), &seed_lines());
    let (karbala, baghdad, _) = seed_ids(&updates);
    let (ma, mb) = (
        model_with(ReadModelConfig::default()),
        model_with(ReadModelConfig::default()),
    );
    let (pa, pb) = (Peers::default(), Peers::default());
    let a = start(ma.clone(), pa.clone(), "a").await;
    let b = start(mb.clone(), pb.clone(), "b").await;
    let ia = Instances::start(
        &kafka,
        Announce {
            topic: "reckon.instances".into(),
            instance_id: "a".into(),
            url: a.base.clone(),
        },
        ma.clone(),
        pa.clone(),
    )
    .unwrap();
    let ib = Instances::start(
        &kafka,
        Announce {
            topic: "reckon.instances".into(),
            instance_id: "b".into(),
            url: b.base.clone(),
        },
        mb.clone(),
        pb.clone(),
    )
    .unwrap();
    // Assignments change after the first announcement: the new partitions are announced.
    ma.assign(0);
    ma.restored(0, vec![]);
    mb.assign(1);
    mb.restored(1, vec![]);
    for u in &updates {
        if u.incident_id.as_str() == baghdad {
            mb.apply(1, u);
        } else {
            ma.apply(0, u);
        }
    }
    let knows = |p: &Peers, id: &str, partitions: &[i32]| {
        p.list()
            .iter()
            .any(|i| i.instance_id == id && i.partitions == partitions)
    };
    wait_until("a knows b", || knows(&pa, "b", &[1])).await;
    wait_until("b knows a", || knows(&pb, "a", &[0])).await;
    let info = pa
        .list()
        .into_iter()
        .find(|p| p.instance_id == "b")
        .unwrap();
    assert_eq!(info.url, b.base);
    assert_eq!(info.epoch, EPOCH);

    let c = client();
    let (s, h, _) = get_raw(&c, &format!("{}/incidents/{baghdad}", a.base), &[]).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(h["x-reckon-served-by"], "b");
    let (s, h, _) = get_raw(&c, &format!("{}/incidents/{karbala}", b.base), &[]).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(h["x-reckon-served-by"], "a");

    // A clean shutdown removes a from b's peers.
    ia.shutdown().await;
    wait_until("b forgets a", || {
        !pb.list().iter().any(|p| p.instance_id == "a")
    })
    .await;
    let (s, v) = get(&c, &format!("{}/incidents/{karbala}", b.base)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(v["peers"], serde_json::json!([]));
    ib.shutdown().await;
    a.server.shutdown(Duration::from_secs(5)).await;
    b.server.shutdown(Duration::from_secs(5)).await;
}

// ---------------------------------------------------------------------------------------------
// End to end: the processor feeds the read model on the mock cluster

/// A mock cluster with reckon's topics and the instances topic.
fn mock_cluster(
    partitions: i32,
) -> (
    rdkafka::mocking::MockCluster<'static, rdkafka::producer::DefaultProducerContext>,
    reckon::adapters::kafka::KafkaArgs,
) {
    let cluster = rdkafka::mocking::MockCluster::new(1).expect("mock cluster");
    let k = processor_common::kafka(&cluster.bootstrap_servers());
    for t in [
        &k.topics.reports_topic,
        &k.topics.updates_topic,
        &k.topics.changelog_topic,
        &k.topics.dead_letter_topic,
    ] {
        cluster.create_topic(t, partitions, 1).unwrap();
    }
    cluster.create_topic("reckon.instances", 1, 1).unwrap();
    (cluster, k)
}

async fn status_of(c: &HttpClient, url: &str) -> StatusCode {
    get_raw(c, url, &[]).await.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn end_to_end_the_processor_feeds_the_api() {
    use reckon::adapters::kafka::processor::Processor;

    let (_cluster, k) = mock_cluster(3);
    let model = Arc::new(ReadModel::new(ReadModelConfig::default()));
    let api = start(model.clone(), Peers::default(), "p1").await;
    let c = client();
    assert_eq!(
        status_of(&c, &format!("{}/readyz", api.base)).await,
        StatusCode::SERVICE_UNAVAILABLE,
        "not ready before the processor joined"
    );
    let mut config = processor_common::config(&k, "g-http-e2e", "p1");
    config.read_model = Some(model.clone());
    let handle = tokio::task::block_in_place(|| Processor::start(config)).expect("processor");
    let ready = format!("{}/readyz", api.base);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while status_of(&c, &ready).await != StatusCode::OK {
        assert!(tokio::time::Instant::now() < deadline, "never ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (_, v) = get(&c, &ready).await;
    assert_eq!(v["partitions"], serde_json::json!([0, 1, 2]));

    // A live subscriber from before the first report.
    let mut sse = SseReader::open(&c, &format!("{}/updates", api.base), None).await;
    assert_eq!(sse.next().await.unwrap().json()["count"], 0);

    tokio::task::block_in_place(|| {
        processor_common::produce(&k, &k.topics.reports_topic, &processor_common::seed_msgs());
        handle
            .wait_until_caught_up(Duration::from_secs(60))
            .expect("caught up");
    });
    let reports =
        tokio::task::block_in_place(|| processor_common::read_topic(&k, &k.topics.reports_topic));
    let (engines, published) = processor_common::offline(&reports);
    let (karbala, _, _) = seed_ids(&published);

    // GET /incidents/{karbala}: the reconciled view.
    let (s, v) = get(&c, &format!("{}/incidents/{karbala}", api.base)).await;
    assert_eq!(s, StatusCode::OK);
    let id = IncidentId::parse(&karbala).unwrap();
    let view = engines
        .values()
        .find_map(|e| e.view(&id))
        .expect("offline view");
    assert_eq!(v["view"], serde_json::to_value(&view).unwrap());
    assert_eq!(v["view"]["grade"], "contested");
    let (_, list) = get(&c, &format!("{}/incidents?grade=contested", api.base)).await;
    assert_eq!(ids_of(&list).len(), 2);

    // The live stream carried every published update, in each incident's version order.
    let mut seen: std::collections::BTreeMap<String, u64> = Default::default();
    for _ in 0..published.len() {
        let e = sse.next().await.unwrap();
        assert_eq!(e.event, "update");
        let u = e.json();
        let id = u["incident_id"].as_str().unwrap().to_string();
        let version = u["version"].as_u64().unwrap();
        let prev = seen.insert(id, version).unwrap_or(0);
        assert_eq!(version, prev + 1);
    }
    assert_eq!(seen.len(), 3);

    tokio::task::block_in_place(|| handle.shutdown()).expect("clean stop");
    // The processor left its group: nothing is held any more.
    assert!(model.is_empty());
    api.server.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn end_to_end_two_instances_answer_for_each_other() {
    use reckon::adapters::kafka::instances::{Announce, Instances};
    use reckon::adapters::kafka::processor::{caught_up, input_end_offsets, Processor};

    let (_cluster, k) = mock_cluster(4);
    let mut nodes = Vec::new();
    for name in ["n1", "n2"] {
        let model = Arc::new(ReadModel::new(ReadModelConfig::default()));
        let peers = Peers::default();
        let api = start(model.clone(), peers.clone(), name).await;
        let instances = Instances::start(
            &k,
            Announce {
                topic: "reckon.instances".into(),
                instance_id: name.into(),
                url: api.base.clone(),
            },
            model.clone(),
            peers.clone(),
        )
        .unwrap();
        let mut config = processor_common::config(&k, "g-http-two", name);
        config.read_model = Some(model.clone());
        let handle = tokio::task::block_in_place(|| Processor::start(config)).expect("processor");
        nodes.push((name, model, peers, api, instances, handle));
    }
    // Both ready, the partitions split between them, each knowing the other's share.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    loop {
        let split = nodes.iter().all(|(_, m, _, _, _, _)| {
            let r = m.readiness();
            r.ready() && !r.assigned.is_empty()
        });
        let total: usize = nodes.iter().map(|n| n.1.readiness().assigned.len()).sum();
        let known = nodes.iter().all(|(me, _, peers, _, _, _)| {
            nodes
                .iter()
                .filter(|n| n.0 != *me)
                .all(|(other, m, _, _, _, _)| {
                    peers
                        .list()
                        .iter()
                        .any(|p| p.instance_id == *other && p.partitions == m.readiness().assigned)
                })
        });
        if split && total == 4 && known {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never split and known"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::task::block_in_place(|| {
        processor_common::produce(&k, &k.topics.reports_topic, &processor_common::seed_msgs());
        let ends = input_end_offsets(&k, Duration::from_secs(10)).unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let statuses: Vec<_> = nodes.iter().map(|n| n.5.status()).collect();
            if caught_up(&statuses.iter().collect::<Vec<_>>(), &ends) {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "never caught up");
            std::thread::sleep(Duration::from_millis(50));
        }
    });
    let reports =
        tokio::task::block_in_place(|| processor_common::read_topic(&k, &k.topics.reports_topic));
    let (engines, published) = processor_common::offline(&reports);
    let c = client();
    let mut forwarded = 0;
    for id in [
        seed_ids(&published).0,
        seed_ids(&published).1,
        seed_ids(&published).2,
    ] {
        let owner = nodes
            .iter()
            .find(|n| n.1.get(&IncidentId::parse(&id).unwrap()).is_some())
            .map(|n| n.0)
            .expect("someone holds it");
        let view = engines
            .values()
            .find_map(|e| e.view(&IncidentId::parse(&id).unwrap()))
            .unwrap();
        for (name, _, _, api, _, _) in &nodes {
            let (s, h, body) = get_raw(&c, &format!("{}/incidents/{id}", api.base), &[]).await;
            assert_eq!(s, StatusCode::OK, "{id} asked of {name}");
            assert_eq!(h["x-reckon-served-by"], owner);
            let v: Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(v["view"], serde_json::to_value(&view).unwrap());
            if *name != owner {
                forwarded += 1;
            }
        }
    }
    assert_eq!(
        forwarded, 3,
        "each incident was forwarded once, by the non-owner"
    );
    for (_, _, _, api, instances, handle) in nodes {
        instances.shutdown().await;
        tokio::task::block_in_place(|| handle.shutdown()).expect("clean stop");
        api.server.shutdown(Duration::from_secs(5)).await;
    }
}

/// The instances topic's records for `key`, in order.
fn instance_records(k: &reckon::adapters::kafka::KafkaArgs, key: &str) -> Vec<Option<Value>> {
    processor_common::read_topic(k, "reckon.instances")
        .into_iter()
        .filter(|r| r.key.as_deref() == Some(key.as_bytes()))
        .map(|r| {
            r.payload
                .map(|p| serde_json::from_slice(&p).expect("JSON announcement"))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reckon_run_with_http_addr_serves_announces_and_leaves_cleanly() {
    let (_cluster, k) = mock_cluster(3);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let logs = std::env::temp_dir().join(format!("reckon-http-run-{}.log", std::process::id()));
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_reckon"));
    for (key, _) in std::env::vars() {
        if key.starts_with("RECKON_") {
            cmd.env_remove(key);
        }
    }
    let mut child = cmd
        .args(["run", "-b", &k.brokers, "--instance-id", "cli-1"])
        .args(["--http-addr", &addr, "--history-len", "5"])
        .args([
            "-X",
            "session.timeout.ms=6000",
            "-X",
            "heartbeat.interval.ms=500",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&logs).unwrap())
        .spawn()
        .expect("reckon run");
    let show_logs = || std::fs::read_to_string(&logs).unwrap_or_default();
    let base = format!("http://{addr}");
    let c = client();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let r = c
            .request(
                Request::get(format!("{base}/readyz"))
                    .body(Empty::new())
                    .unwrap(),
            )
            .await;
        if r.is_ok_and(|r| r.status() == StatusCode::OK) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never ready:\n{}",
            show_logs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::task::block_in_place(|| {
        processor_common::produce(&k, &k.topics.reports_topic, &processor_common::seed_msgs())
    });
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let (_, v) = get(&c, &format!("{base}/incidents?grade=contested")).await;
        if ids_of(&v).len() == 2 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{v}\n{}",
            show_logs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let published = fold(&mut Engine::new(SourceRegistry::default()), &seed_lines());
    let (karbala, _, _) = seed_ids(&published);
    let (s, v) = get(&c, &format!("{base}/incidents/{karbala}")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["view"]["grade"], "contested");
    assert_eq!(v["view"]["outcome"]["leading"], "foiled");
    let (_, h) = get(&c, &format!("{base}/incidents/{karbala}/history")).await;
    assert_eq!(h["history_len"], 5);

    // Announced with its URL and partitions.
    let announced = tokio::task::block_in_place(|| instance_records(&k, "cli-1"));
    let last = announced
        .last()
        .cloned()
        .flatten()
        .expect("an announcement");
    assert_eq!(last["url"], base);
    assert_eq!(last["partitions"], serde_json::json!([0, 1, 2]));

    // SIGTERM: a clean stop leaves a tombstone.
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = tokio::task::block_in_place(|| child.wait()).unwrap();
    assert!(exit.success(), "exit {exit:?}:\n{}", show_logs());
    let announced = tokio::task::block_in_place(|| instance_records(&k, "cli-1"));
    assert_eq!(announced.last(), Some(&None), "a tombstone last");
    let _ = std::fs::remove_file(&logs);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_still_restoring_makes_a_miss_a_retry_not_a_404() {
    let (ma, mr) = (
        model_with(ReadModelConfig::default()),
        model_with(ReadModelConfig::default()),
    );
    ma.assign(0);
    ma.restored(0, vec![]);
    mr.assign(1); // restoring
    let peers = Peers::default();
    let a = start(ma, peers.clone(), "a").await;
    let r = start(mr, peers.clone(), "r").await;
    for (id, url, partitions) in [("a", &a.base, vec![0]), ("r", &r.base, vec![1])] {
        peers.upsert(PeerInfo {
            instance_id: id.into(),
            url: url.clone(),
            partitions,
            epoch: String::new(),
            announced_at_ms: 0,
        });
    }
    let c = client();
    let (s, v) = get(&c, &format!("{}/incidents/iq-somewhere", a.base)).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{v}");
    assert_error(&v, "restoring");
    assert_eq!(v["peers"][0]["instance_id"], "r");
    assert_eq!(v["peers"][0]["outcome"], "restoring");
    let (s, h, _) = get_raw(&c, &format!("{}/incidents/iq-somewhere", a.base), &[]).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(h["retry-after"], "1");
    a.server.shutdown(Duration::from_secs(5)).await;
    r.server.shutdown(Duration::from_secs(5)).await;
}
