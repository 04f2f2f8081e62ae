//! Metrics: a live processor's `/metrics` endpoint parsed with a Prometheus text-format parser,
//! and a real Prometheus server (Debian's, via `scripts/install-prometheus.sh`) scraping it and
//! answering a query. The exporter is process-wide, so both checks share one running instance.

mod processor_common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use processor_common::*;
use reckon::adapters::kafka::mock::EmbeddedCluster;
use reckon::adapters::kafka::processor::{Processor, ProcessorHandle};
use reckon::adapters::kafka::TopicArgs;
use reckon::adapters::metrics;

struct Instance {
    metrics_addr: SocketAddr,
    _endpoint: metrics::Endpoint,
    _handle: ProcessorHandle,
    _cluster: EmbeddedCluster,
    _runtime: tokio::runtime::Runtime,
}

// The mock cluster and the processor hold raw librdkafka handles; the test only reads them.
unsafe impl Send for Instance {}
unsafe impl Sync for Instance {}

fn free_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
}

/// One processor on the mock cluster with the exporter installed, the seed article fed and
/// processed, and one invalid message dead-lettered.
fn instance() -> &'static Instance {
    static INSTANCE: OnceLock<Instance> = OnceLock::new();
    INSTANCE.get_or_init(|| {
        let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
        let endpoint = {
            let _guard = runtime.enter();
            metrics::Endpoint::start(free_addr()).expect("serve the metrics endpoint")
        };
        let metrics_addr = endpoint.local_addr();
        let cluster = EmbeddedCluster::start(&TopicArgs::default(), 2).expect("mock cluster");
        let k = kafka(&cluster.bootstrap_servers());
        let mut msgs = seed_msgs();
        msgs.push(Msg {
            key: Some(b"iq/karbala".to_vec()),
            payload: b"{\"not\": \"a report\"}".to_vec(),
            headers: vec![("content-type", b"application/json".to_vec())],
        });
        produce(&k, &k.topics.reports_topic, &msgs);
        let handle = Processor::start(config(&k, "metrics-test", "metrics-1")).expect("start");
        handle
            .wait_until_caught_up(Duration::from_secs(60))
            .expect("processor catches up");
        Instance {
            metrics_addr,
            _endpoint: endpoint,
            _handle: handle,
            _cluster: cluster,
            _runtime: runtime,
        }
    })
}

fn http_get(addr: SocketAddr, path: &str) -> String {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read response");
    let (head, body) = out.split_once("\r\n\r\n").expect("an HTTP response");
    assert!(
        head.starts_with("HTTP/1.") && head.contains(" 200 "),
        "{head}"
    );
    body.to_string()
}

fn scrape() -> prometheus_parse::Scrape {
    let body = http_get(instance().metrics_addr, "/metrics");
    prometheus_parse::Scrape::parse(body.lines().map(|l| Ok(l.to_string()))).expect("parses")
}

fn value(s: &prometheus_parse::Scrape, name: &str) -> f64 {
    s.samples
        .iter()
        .filter(|x| x.metric == name)
        .map(|x| match x.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => v,
            _ => 0.0,
        })
        .sum()
}

#[test]
fn metrics_endpoint_serves_prometheus_text_with_the_real_counts() {
    let s = scrape();
    assert_eq!(
        value(&s, metrics::RECORDS_CONSUMED),
        6.0,
        "5 reports and 1 bad message"
    );
    assert_eq!(value(&s, metrics::REPORTS_PROCESSED), 5.0);
    assert_eq!(value(&s, metrics::UPDATES_PUBLISHED), 5.0);
    let dead: Vec<_> = s
        .samples
        .iter()
        .filter(|x| x.metric == metrics::DEAD_LETTERS)
        .collect();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].labels.get("reason"), Some("malformed_json"));
    assert!(value(&s, metrics::REBALANCES) >= 1.0);
    assert_eq!(value(&s, metrics::ASSIGNED_PARTITIONS), 2.0);
    // Histograms with their buckets, in seconds.
    let processing = s
        .samples
        .iter()
        .find(|x| x.metric == metrics::PROCESSING_SECONDS)
        .expect("processing histogram");
    match &processing.value {
        prometheus_parse::Value::Histogram(buckets) => {
            assert!(buckets.len() >= 10, "{buckets:?}");
            let inf = buckets.iter().map(|b| b.count).fold(0.0, f64::max);
            assert_eq!(inf, 6.0, "every consumed record is timed");
        }
        other => panic!("expected a histogram, got {other:?}"),
    }
    assert!(s
        .samples
        .iter()
        .any(|x| x.metric == metrics::END_TO_END_SECONDS));
    assert!(s
        .samples
        .iter()
        .any(|x| x.metric == metrics::COMMIT_SECONDS));
    // Restore ran (empty changelog): its progress gauge is down to zero.
    assert_eq!(value(&s, metrics::RESTORE_REMAINING), 0.0);
    // Every exported name is one the code lists, and documented.
    for x in &s.samples {
        let base = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|suffix| x.metric.strip_suffix(suffix))
            .unwrap_or(&x.metric);
        assert!(metrics::ALL.contains(&base), "{}", x.metric);
    }
    assert!(s.docs.contains_key(metrics::REPORTS_PROCESSED));
}

/// The endpoint shares the HTTP API's connection loop: a client that never finishes its request
/// is disconnected at the header deadline (10 s) instead of holding the connection.
#[test]
fn a_half_sent_scrape_is_disconnected() {
    let mut s = TcpStream::connect(instance().metrics_addr).expect("connect");
    write!(s, "GET /metrics HTTP/1.1\r\nHost: x\r\n").unwrap();
    // Far longer than the deadline: only a connection the server never closes fails here.
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut out = Vec::new();
    let read = s.read_to_end(&mut out);
    // A close or a reset both end the connection; only the read timeout means it stayed open.
    let kept_open = read.as_ref().is_err_and(|e| {
        matches!(
            e.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        )
    });
    assert!(!kept_open, "the server kept the connection open: {read:?}");
    assert!(!String::from_utf8_lossy(&out).contains(" 200 "));
    // And it goes on serving.
    assert!(http_get(instance().metrics_addr, "/metrics").contains("reckon_"));
}

#[test]
fn consumer_lag_and_incidents_come_from_librdkafka_statistics() {
    let _ = instance();
    // Statistics arrive every 5 s.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let s = scrape();
        let lag: Vec<_> = s
            .samples
            .iter()
            .filter(|x| x.metric == metrics::CONSUMER_LAG)
            .collect();
        // librdkafka reports lag only for partitions with a known position: those that had
        // records here.
        if !lag.is_empty() && value(&s, metrics::INCIDENTS) == 3.0 {
            assert_eq!(value(&s, metrics::CONSUMER_LAG), 0.0, "caught up");
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no lag per partition after 30 s: {:?}",
            s.samples
                .iter()
                .filter(|x| x.metric == metrics::CONSUMER_LAG || x.metric == metrics::INCIDENTS)
                .map(|x| (&x.metric, &x.labels, &x.value))
                .collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn prometheus_binary() -> PathBuf {
    if let Ok(p) = std::env::var("RECKON_PROMETHEUS_BIN") {
        return PathBuf::from(p);
    }
    let home = std::env::var("HOME").unwrap_or_default();
    let tools = std::env::var("RECKON_TOOLS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(home).join(".cache/reckon-tools"));
    tools.join("prometheus-debian/usr/bin/prometheus")
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_real_prometheus_server_scrapes_the_instance() {
    let target = instance().metrics_addr;
    let bin = prometheus_binary();
    assert!(
        bin.exists(),
        "Prometheus not found at {} — run scripts/test.sh (or scripts/install-prometheus.sh)",
        bin.display()
    );
    let dir = std::env::temp_dir().join(format!("reckon-prometheus-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: reckon\n    static_configs:\n      - targets: ['{target}']\n"
        ),
    )
    .unwrap();
    let web = free_addr();
    let _server = Killed(
        Command::new(&bin)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address={web}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start prometheus"),
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(mut s) = TcpStream::connect(web) {
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let q = format!(
                "GET /api/v1/query?query={} HTTP/1.0\r\nHost: {web}\r\n\r\n",
                metrics::REPORTS_PROCESSED
            );
            let mut out = String::new();
            if s.write_all(q.as_bytes()).is_ok() && s.read_to_string(&mut out).is_ok() {
                if let Some((_, body)) = out.split_once("\r\n\r\n") {
                    if let Ok(v) = serde_json::from_str::<serde_json::Value>(body) {
                        if let Some(r) = v["data"]["result"].as_array().and_then(|r| r.first()) {
                            assert_eq!(r["metric"]["job"], "reckon");
                            assert_eq!(r["value"][1], "5", "{v}");
                            let _ = std::fs::remove_dir_all(&dir);
                            return;
                        }
                    }
                }
            }
        }
        assert!(
            Instant::now() < deadline,
            "Prometheus did not return {} within 60 s",
            metrics::REPORTS_PROCESSED
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}
