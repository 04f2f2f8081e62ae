//! Checks of the deployment files in `deploy/` that need neither a Docker engine nor a cluster:
//! every YAML file parses; the Grafana dashboard and the alert rules only use metrics this build
//! exports, and the dashboard has the panels an operator needs; the Kubernetes manifests agree
//! with each other (probes, ports, selectors, settings); the compose stack runs two reckon
//! instances in one consumer group on topics created as reckon expects; the Prometheus and
//! Grafana files agree with the compose stack. Schema validation of the Kubernetes manifests,
//! `promtool check config` and `compose config` run in `scripts/check-deploy.sh`.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use reckon::adapters::metrics;
use serde::Deserialize;
use serde_json::Value as Json;
use yaml_serde::Value as Yaml;

// ---------------------------------------------------------------------------------------------
// Files

fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy")
}

fn read(rel: &str) -> String {
    let path = deploy_dir().join(rel);
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// Every file under `dir`, recursively, sorted.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn is_yaml(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yml" | "yaml")
    )
}

/// Every document of a (possibly multi-document) YAML text, with `<<` merge keys applied.
fn yaml_documents(text: &str, what: &str) -> Vec<Yaml> {
    let mut docs = Vec::new();
    for (i, de) in yaml_serde::Deserializer::from_str(text).enumerate() {
        let mut doc = Yaml::deserialize(de).unwrap_or_else(|e| panic!("{what}: document {i}: {e}"));
        doc.apply_merge()
            .unwrap_or_else(|e| panic!("{what}: document {i}: merge keys: {e}"));
        docs.push(doc);
    }
    docs
}

/// The single document of a YAML file under `deploy/`.
fn yaml_file(rel: &str) -> Yaml {
    let mut docs = yaml_documents(&read(rel), rel);
    assert_eq!(docs.len(), 1, "{rel}: expected one YAML document");
    docs.pop().unwrap()
}

fn dashboard() -> Json {
    let rel = "grafana/dashboards/reckon.json";
    serde_json::from_str(&read(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn str_at<'a>(v: &'a Yaml, what: &str) -> &'a str {
    v.as_str()
        .unwrap_or_else(|| panic!("{what}: expected a string, got {v:?}"))
}

/// A YAML scalar as text (`8080` and `"8080"` both give "8080").
fn scalar(v: &Yaml) -> Option<String> {
    match v {
        Yaml::String(s) => Some(s.clone()),
        Yaml::Number(n) => Some(n.to_string()),
        Yaml::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The port of a `host:port` address.
fn port_of(addr: &str) -> u16 {
    addr.rsplit_once(':')
        .and_then(|(_, p)| p.parse().ok())
        .unwrap_or_else(|| panic!("{addr:?} has no port"))
}

// ---------------------------------------------------------------------------------------------
// Every file parses

#[test]
fn every_yaml_and_json_file_under_deploy_parses() {
    let files = files_under(&deploy_dir());
    let yaml: Vec<_> = files.iter().filter(|p| is_yaml(p)).collect();
    assert!(
        yaml.len() >= 10,
        "expected the compose, Prometheus, Grafana and Kubernetes YAML files, found {yaml:?}"
    );
    for path in yaml {
        let text = fs::read_to_string(path).unwrap();
        let docs = yaml_documents(&text, &path.display().to_string());
        assert!(!docs.is_empty(), "{}: no YAML document", path.display());
        for (i, doc) in docs.iter().enumerate() {
            assert!(
                doc.is_mapping(),
                "{}: document {i} is not a mapping",
                path.display()
            );
        }
    }
    for path in files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
    {
        let text = fs::read_to_string(path).unwrap();
        serde_json::from_str::<Json>(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
}

#[test]
fn the_yaml_parser_rejects_broken_yaml() {
    // The parse test above is only worth something if the parser can say no.
    let broken = "a: [1, 2\nb: c\n";
    let parsed: Result<Vec<Yaml>, _> = yaml_serde::Deserializer::from_str(broken)
        .map(Yaml::deserialize)
        .collect();
    assert!(parsed.is_err());
}

// ---------------------------------------------------------------------------------------------
// PromQL: which metric names an expression uses

/// Aggregation operators, binary keywords and modifiers: identifiers that are not metrics.
const PROMQL_KEYWORDS: &[&str] = &[
    "sum",
    "avg",
    "min",
    "max",
    "count",
    "stddev",
    "stdvar",
    "topk",
    "bottomk",
    "quantile",
    "count_values",
    "group",
    "limitk",
    "limit_ratio",
    "and",
    "or",
    "unless",
    "offset",
    "bool",
    "atan2",
    "inf",
    "nan",
];

/// Keywords followed by a parenthesised list of label names.
const PROMQL_LABEL_LIST_KEYWORDS: &[&str] = &[
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
];

/// Skips from an opening delimiter at `i` to just past its closing one, stepping over quoted
/// strings. Returns the index after the closing delimiter.
fn skip_delimited(s: &[char], mut i: usize, open: char, close: char) -> usize {
    assert_eq!(s[i], open);
    let mut depth = 0;
    while i < s.len() {
        let c = s[i];
        if c == '"' || c == '\'' || c == '`' {
            i = skip_string(s, i);
            continue;
        }
        if c == open {
            depth += 1;
        } else if c == close {
            depth -= 1;
            if depth == 0 {
                return i + 1;
            }
        }
        i += 1;
    }
    panic!(
        "unbalanced {open}{close} in {:?}",
        s.iter().collect::<String>()
    );
}

fn skip_string(s: &[char], mut i: usize) -> usize {
    let quote = s[i];
    i += 1;
    while i < s.len() {
        match s[i] {
            '\\' if quote != '`' => i += 2,
            c if c == quote => return i + 1,
            _ => i += 1,
        }
    }
    panic!("unterminated string in {:?}", s.iter().collect::<String>());
}

fn next_non_space(s: &[char], mut i: usize) -> Option<(usize, char)> {
    while i < s.len() && s[i].is_whitespace() {
        i += 1;
    }
    s.get(i).map(|&c| (i, c))
}

/// The metric names a PromQL expression selects: identifiers that are not keywords, function
/// calls, label names (in `{...}` matchers and `by (...)` lists) or Grafana variables.
fn promql_metric_names(expr: &str) -> BTreeSet<String> {
    let s: Vec<char> = expr.chars().collect();
    let mut names = BTreeSet::new();
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        if c == '"' || c == '\'' || c == '`' {
            i = skip_string(&s, i);
        } else if c == '{' {
            i = skip_delimited(&s, i, '{', '}');
        } else if c == '[' {
            i = skip_delimited(&s, i, '[', ']');
        } else if c == '#' {
            while i < s.len() && s[i] != '\n' {
                i += 1;
            }
        } else if c == '$' {
            // A Grafana variable: $name, $__interval, ${name}.
            i += 1;
            if s.get(i) == Some(&'{') {
                i = skip_delimited(&s, i, '{', '}');
            } else {
                while i < s.len() && (s[i].is_ascii_alphanumeric() || s[i] == '_') {
                    i += 1;
                }
            }
        } else if c.is_ascii_digit() || (c == '.' && s.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            // A number or a duration: 0.99, 1e-3, 5m, 1h30m.
            while i < s.len() && (s[i].is_ascii_alphanumeric() || s[i] == '.') {
                i += 1;
            }
        } else if c.is_ascii_alphabetic() || c == '_' || c == ':' {
            let start = i;
            while i < s.len() && (s[i].is_ascii_alphanumeric() || s[i] == '_' || s[i] == ':') {
                i += 1;
            }
            let ident: String = s[start..i].iter().collect();
            let lower = ident.to_ascii_lowercase();
            let next = next_non_space(&s, i);
            if PROMQL_LABEL_LIST_KEYWORDS.contains(&lower.as_str()) {
                if let Some((j, '(')) = next {
                    i = skip_delimited(&s, j, '(', ')');
                }
            } else if PROMQL_KEYWORDS.contains(&lower.as_str()) {
                // Not a metric; an aggregation's argument list is lexed normally.
            } else if matches!(next, Some((_, '('))) {
                // A function call.
            } else {
                names.insert(ident);
            }
        } else {
            i += 1;
        }
    }
    names
}

/// The exported metric a series name belongs to: itself, or the histogram it is a
/// `_bucket` / `_sum` / `_count` series of.
fn exported_metric(series: &str) -> Option<&'static str> {
    if let Some(m) = metrics::ALL.iter().find(|m| **m == series) {
        return Some(m);
    }
    ["_bucket", "_sum", "_count"].iter().find_map(|suffix| {
        let base = series.strip_suffix(suffix)?;
        metrics::ALL.iter().copied().find(|m| *m == base)
    })
}

#[test]
fn the_promql_lexer_finds_metrics_and_only_metrics() {
    let names = |e: &str| -> Vec<String> { promql_metric_names(e).into_iter().collect() };
    assert_eq!(
        names(
            r#"histogram_quantile(0.99, sum by (le, instance) (rate(reckon_x_bucket{instance=~"$instance", a="}"}[$__rate_interval])))"#
        ),
        ["reckon_x_bucket"]
    );
    assert_eq!(
        names("sum without (partition) (a) / ignoring(kind) group_left(x) b > bool 5 offset 5m"),
        ["a", "b"]
    );
    assert_eq!(
        names("max by (partition) (c) > 10000 and deriv(d[15m]) > 0 or up{job='r'} == 0"),
        ["c", "d", "up"]
    );
    assert_eq!(
        exported_metric("reckon_end_to_end_latency_seconds_bucket"),
        Some(metrics::END_TO_END_SECONDS)
    );
    assert_eq!(
        exported_metric(metrics::CONSUMER_LAG),
        Some(metrics::CONSUMER_LAG)
    );
    assert_eq!(exported_metric("reckon_consumer_lag"), None);
    assert_eq!(exported_metric("reckon_records_consumed"), None);
}

// ---------------------------------------------------------------------------------------------
// Grafana dashboard

/// Every panel, rows' nested panels included.
fn all_panels(dash: &Json) -> Vec<&Json> {
    fn walk<'a>(panels: &'a Json, out: &mut Vec<&'a Json>) {
        for p in panels.as_array().into_iter().flatten() {
            out.push(p);
            walk(&p["panels"], out);
        }
    }
    let mut out = Vec::new();
    walk(&dash["panels"], &mut out);
    out
}

/// The PromQL expressions of a panel's targets.
fn panel_exprs(panel: &Json) -> Vec<&str> {
    panel["targets"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            t["expr"].as_str().unwrap_or_else(|| {
                panic!("panel {:?}: a target without a PromQL expr", panel["title"])
            })
        })
        .collect()
}

/// The PromQL a Grafana template variable's query evaluates. Only the forms this dashboard
/// uses are understood; anything else fails the test rather than going unchecked.
fn template_query_promql(query: &str) -> String {
    let q = query.trim();
    if let Some(args) = q
        .strip_prefix("label_values(")
        .and_then(|r| r.strip_suffix(')'))
    {
        // label_values(selector, label) or label_values(label).
        return match args.rsplit_once(',') {
            Some((selector, _label)) => selector.to_string(),
            None => String::new(),
        };
    }
    if let Some(inner) = q
        .strip_prefix("query_result(")
        .and_then(|r| r.strip_suffix(')'))
    {
        return inner.to_string();
    }
    panic!("template variable query {query:?}: unknown form");
}

/// Every PromQL expression of the dashboard, with where it comes from.
fn dashboard_exprs(dash: &Json) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for panel in all_panels(dash) {
        for e in panel_exprs(panel) {
            out.push((format!("panel {}", panel["title"]), e.to_string()));
        }
    }
    for var in dash["templating"]["list"].as_array().into_iter().flatten() {
        if var["type"] != "query" {
            continue;
        }
        let q = match &var["query"] {
            Json::String(s) => s.as_str(),
            other => other["query"].as_str().unwrap_or_default(),
        };
        out.push((
            format!("template variable {}", var["name"]),
            template_query_promql(q),
        ));
    }
    out
}

#[test]
fn the_dashboard_only_uses_metrics_the_code_exports() {
    let dash = dashboard();
    let exprs = dashboard_exprs(&dash);
    assert!(exprs.len() >= 10, "only {} expressions", exprs.len());
    let mut unknown = Vec::new();
    for (whence, expr) in &exprs {
        let names = promql_metric_names(expr);
        if names.is_empty() && !whence.starts_with("template") {
            unknown.push(format!("{whence}: no metric in {expr:?}"));
        }
        for name in names {
            if exported_metric(&name).is_none() {
                unknown.push(format!("{whence}: {name} (in {expr:?})"));
            }
        }
    }
    assert!(
        unknown.is_empty(),
        "the dashboard uses metrics that src/adapters/metrics.rs does not export:\n  {}\nexported: {:?}",
        unknown.join("\n  "),
        metrics::ALL
    );
}

#[test]
fn the_dashboard_has_a_panel_for_each_important_metric() {
    let dash = dashboard();
    let panels = all_panels(&dash);
    let uses = |metric: &str| -> Vec<(&Json, &str)> {
        panels
            .iter()
            .flat_map(|p| panel_exprs(p).into_iter().map(move |e| (*p, e)))
            .filter(|(_, e)| {
                promql_metric_names(e)
                    .iter()
                    .any(|n| exported_metric(n) == Some(metric))
            })
            .collect()
    };
    for metric in [
        metrics::RECORDS_CONSUMED,
        metrics::DEAD_LETTERS,
        metrics::PROCESSING_SECONDS,
        metrics::END_TO_END_SECONDS,
        metrics::CONSUMER_LAG,
        metrics::INCIDENTS,
        metrics::RESTORE_REMAINING,
        metrics::COMMIT_SECONDS,
        metrics::REBALANCES,
    ] {
        assert!(
            !uses(metric).is_empty(),
            "no dashboard panel shows {metric}"
        );
    }
    // Dead letters by reason, lag per partition.
    assert!(uses(metrics::DEAD_LETTERS)
        .iter()
        .any(|(_, e)| e.contains("by (reason)")));
    assert!(uses(metrics::CONSUMER_LAG)
        .iter()
        .any(|(_, e)| e.contains("by (partition)")));
    // Latencies as p50 and p99 from the histogram buckets.
    for metric in [metrics::PROCESSING_SECONDS, metrics::END_TO_END_SECONDS] {
        let bucket = format!("{metric}_bucket");
        for q in ["histogram_quantile(0.5,", "histogram_quantile(0.99,"] {
            assert!(
                uses(metric)
                    .iter()
                    .any(|(_, e)| e.contains(q) && e.contains(&bucket)),
                "no {q} ...{bucket}... panel"
            );
        }
    }
}

#[test]
fn the_dashboard_is_well_formed_and_uses_the_provisioned_datasource() {
    let dash = dashboard();
    assert_eq!(dash["uid"], "reckon");
    assert!(dash["title"].is_string());
    let datasources = yaml_file("grafana/provisioning/datasources/prometheus.yml");
    let ds = &datasources["datasources"][0];
    assert_eq!(ds["type"], "prometheus");
    let uid = str_at(&ds["uid"], "datasource uid");
    let mut ids = BTreeSet::new();
    for panel in all_panels(&dash) {
        let id = panel["id"]
            .as_u64()
            .unwrap_or_else(|| panic!("panel {} has no id", panel["title"]));
        assert!(ids.insert(id), "panel id {id} is used twice");
        assert!(panel["gridPos"]["w"].is_u64(), "panel {id} has no gridPos");
        if panel["type"] == "row" {
            continue;
        }
        assert!(!panel_exprs(panel).is_empty(), "panel {id} has no query");
        assert_eq!(
            panel["datasource"]["uid"], uid,
            "panel {id} does not use the provisioned datasource"
        );
        for t in panel["targets"].as_array().unwrap() {
            assert_eq!(t["datasource"]["uid"], uid, "panel {id}: target datasource");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Prometheus

#[test]
fn the_alert_rules_only_use_exported_metrics() {
    let prometheus = yaml_file("prometheus/prometheus.yml");
    let rule_files = prometheus["rule_files"].as_sequence().expect("rule_files");
    assert!(!rule_files.is_empty());
    for f in rule_files {
        let rel = format!("prometheus/{}", str_at(f, "rule file"));
        let rules = yaml_file(&rel);
        let mut n = 0;
        for group in rules["groups"].as_sequence().expect("groups") {
            for rule in group["rules"].as_sequence().expect("rules") {
                let expr = str_at(&rule["expr"], "expr");
                n += 1;
                for name in promql_metric_names(expr) {
                    // `up` is the series Prometheus itself writes for every scrape.
                    assert!(
                        name == "up" || exported_metric(&name).is_some(),
                        "{rel}: rule {:?} uses {name}, which the code does not export",
                        rule["alert"]
                    );
                }
            }
        }
        assert!(n > 0, "{rel}: no rules");
    }
}

// ---------------------------------------------------------------------------------------------
// Kubernetes

/// Every resource in deploy/k8s (kustomization.yaml aside), by file.
fn k8s_resources() -> Vec<(String, Yaml)> {
    let mut out = Vec::new();
    for path in files_under(&deploy_dir().join("k8s")) {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if !is_yaml(&path) || name == "kustomization.yaml" {
            continue;
        }
        let text = fs::read_to_string(&path).unwrap();
        for doc in yaml_documents(&text, &name) {
            out.push((name.clone(), doc));
        }
    }
    out
}

fn k8s_one<'a>(resources: &'a [(String, Yaml)], kind: &str) -> &'a Yaml {
    let found: Vec<_> = resources
        .iter()
        .filter(|(_, r)| r["kind"] == kind)
        .collect();
    assert_eq!(found.len(), 1, "expected one {kind} in deploy/k8s");
    &found[0].1
}

/// The container ports of a container, by name: (name, number).
fn container_ports(container: &Yaml) -> Vec<(String, i64)> {
    container["ports"]
        .as_sequence()
        .expect("container ports")
        .iter()
        .map(|p| {
            (
                str_at(&p["name"], "port name").to_string(),
                p["containerPort"].as_i64().expect("containerPort"),
            )
        })
        .collect()
}

/// The container port number a probe or Service `targetPort` (a name or a number) refers to.
fn resolve_port(ports: &[(String, i64)], port: &Yaml, what: &str) -> i64 {
    let found = match port {
        Yaml::Number(n) => ports.iter().find(|(_, p)| Some(*p) == n.as_i64()),
        Yaml::String(s) => ports.iter().find(|(name, _)| name == s),
        _ => None,
    };
    found
        .unwrap_or_else(|| panic!("{what}: port {port:?} is not a container port ({ports:?})"))
        .1
}

fn labels(v: &Yaml) -> BTreeMap<String, String> {
    v.as_mapping()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (scalar(k).unwrap(), scalar(v).unwrap()))
                .collect()
        })
        .unwrap_or_default()
}

fn selects(selector: &BTreeMap<String, String>, labels: &BTreeMap<String, String>) -> bool {
    !selector.is_empty() && selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

#[test]
fn every_k8s_resource_has_the_required_fields_and_one_namespace() {
    let resources = k8s_resources();
    assert!(!resources.is_empty());
    for (file, r) in &resources {
        assert!(r["apiVersion"].is_string(), "{file}: apiVersion");
        assert!(r["kind"].is_string(), "{file}: kind");
        assert!(r["metadata"]["name"].is_string(), "{file}: metadata.name");
        if r["kind"] != "Namespace" {
            assert_eq!(r["metadata"]["namespace"], "reckon", "{file}: namespace");
        }
    }
    for kind in [
        "Namespace",
        "ConfigMap",
        "Deployment",
        "Service",
        "PodDisruptionBudget",
    ] {
        k8s_one(&resources, kind);
    }
}

#[test]
fn the_kustomization_lists_every_manifest() {
    let k = yaml_file("k8s/kustomization.yaml");
    let listed: BTreeSet<String> = k["resources"]
        .as_sequence()
        .expect("resources")
        .iter()
        .map(|r| str_at(r, "resource").to_string())
        .collect();
    let files: BTreeSet<String> = k8s_resources().into_iter().map(|(f, _)| f).collect();
    assert_eq!(listed, files);
    // The image kustomize rewrites is the one the Deployment uses.
    let resources = k8s_resources();
    let deployment = k8s_one(&resources, "Deployment");
    let image = str_at(
        &deployment["spec"]["template"]["spec"]["containers"][0]["image"],
        "image",
    );
    let image_name = image.rsplit_once(':').map_or(image, |(n, _)| n);
    assert!(k["images"]
        .as_sequence()
        .expect("images")
        .iter()
        .any(|i| i["name"] == image_name));
}

#[test]
fn the_deployment_probes_ports_and_settings_fit_reckon() {
    let resources = k8s_resources();
    let deployment = k8s_one(&resources, "Deployment");
    let service = k8s_one(&resources, "Service");
    let pdb = k8s_one(&resources, "PodDisruptionBudget");
    let config = k8s_one(&resources, "ConfigMap");

    let pod = &deployment["spec"]["template"];
    let containers = pod["spec"]["containers"].as_sequence().expect("containers");
    assert_eq!(containers.len(), 1);
    let c = &containers[0];
    let ports = container_ports(c);
    let port_numbers: BTreeSet<i64> = ports.iter().map(|(_, p)| *p).collect();
    assert_eq!(port_numbers, BTreeSet::from([8080, 9464]));

    // The container runs `reckon run` (the image's entrypoint is `reckon`).
    assert_eq!(c["args"][0], "run");

    // Probes: liveness /healthz, readiness /readyz, a startup probe, all on the HTTP port.
    let probe = |name: &str| -> (&str, i64) {
        let get = &c[name]["httpGet"];
        (
            str_at(&get["path"], name),
            resolve_port(&ports, &get["port"], name),
        )
    };
    assert_eq!(probe("livenessProbe"), ("/healthz", 8080));
    assert_eq!(probe("readinessProbe"), ("/readyz", 8080));
    let (startup_path, startup_port) = probe("startupProbe");
    assert!(["/healthz", "/readyz"].contains(&startup_path));
    assert_eq!(startup_port, 8080);
    let startup = &c["startupProbe"];
    let budget = startup["periodSeconds"].as_i64().unwrap_or(10)
        * startup["failureThreshold"].as_i64().unwrap_or(3);
    assert!(
        budget >= 300,
        "startup probe allows only {budget} s before restarting the pod"
    );

    // The settings the container reads: the ConfigMap, whose addresses match the ports.
    let config_name = str_at(&config["metadata"]["name"], "ConfigMap name");
    assert!(c["envFrom"]
        .as_sequence()
        .expect("envFrom")
        .iter()
        .any(|e| e["configMapRef"]["name"] == config_name));
    let data = labels(&config["data"]);
    assert!(!data["RECKON_BROKERS"].is_empty());
    assert!(!data["RECKON_GROUP_ID"].is_empty());
    let http_port = i64::from(port_of(&data["RECKON_HTTP_ADDR"]));
    let metrics_port = i64::from(port_of(&data["RECKON_METRICS_ADDR"]));
    assert_eq!(resolve_port(&ports, &"http".into(), "http"), http_port);
    assert_eq!(
        resolve_port(&ports, &"metrics".into(), "metrics"),
        metrics_port
    );
    for key in data.keys() {
        assert!(key.starts_with("RECKON_"), "ConfigMap key {key}");
    }

    // Prometheus scrape annotations name the metrics port.
    let annotations = labels(&pod["metadata"]["annotations"]);
    assert_eq!(annotations["prometheus.io/scrape"], "true");
    assert_eq!(annotations["prometheus.io/port"], metrics_port.to_string());
    assert_eq!(annotations["prometheus.io/path"], "/metrics");

    // The Service selects the pods and exposes every container port.
    let pod_labels = labels(&pod["metadata"]["labels"]);
    assert!(selects(&labels(&service["spec"]["selector"]), &pod_labels));
    assert!(selects(
        &labels(&deployment["spec"]["selector"]["matchLabels"]),
        &pod_labels
    ));
    let mut exposed = BTreeSet::new();
    for p in service["spec"]["ports"]
        .as_sequence()
        .expect("service ports")
    {
        let target = if p["targetPort"].is_null() {
            &p["port"]
        } else {
            &p["targetPort"]
        };
        exposed.insert(resolve_port(&ports, target, "Service targetPort"));
        assert_eq!(
            p["port"].as_i64(),
            Some(resolve_port(&ports, target, "Service port")),
            "the Service port and the container port differ"
        );
    }
    assert_eq!(exposed, port_numbers);

    // The PDB covers the same pods and lets one go at a time.
    assert!(selects(
        &labels(&pdb["spec"]["selector"]["matchLabels"]),
        &pod_labels
    ));
    assert_eq!(pdb["spec"]["maxUnavailable"].as_i64(), Some(1));

    // Security: non-root, read-only root filesystem, no privilege escalation.
    let pod_sc = &pod["spec"]["securityContext"];
    let sc = &c["securityContext"];
    assert!(pod_sc["runAsNonRoot"] == true || sc["runAsNonRoot"] == true);
    assert_eq!(sc["readOnlyRootFilesystem"], true);
    assert_eq!(sc["allowPrivilegeEscalation"], false);

    // Time for the revoke flush on shutdown; resources set.
    assert!(
        pod["spec"]["terminationGracePeriodSeconds"]
            .as_i64()
            .unwrap_or(30)
            >= 60
    );
    assert!(c["resources"]["requests"]["cpu"].is_string());
    assert!(c["resources"]["requests"]["memory"].is_string());
    assert!(c["resources"]["limits"]["memory"].is_string());
}

// ---------------------------------------------------------------------------------------------
// Docker compose

fn compose() -> Yaml {
    yaml_file("docker-compose.yml")
}

/// A service's environment as a map (compose allows a map or a list of `K=V`).
fn environment(service: &Yaml) -> BTreeMap<String, String> {
    match &service["environment"] {
        Yaml::Mapping(m) => m
            .iter()
            .map(|(k, v)| (scalar(k).unwrap(), scalar(v).unwrap_or_default()))
            .collect(),
        Yaml::Sequence(s) => s
            .iter()
            .map(|kv| {
                let kv = str_at(kv, "environment entry");
                let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                (k.to_string(), v.to_string())
            })
            .collect(),
        _ => BTreeMap::new(),
    }
}

/// The reckon processor services: built from deploy/Dockerfile and running `run`.
fn reckon_services(compose: &Yaml) -> Vec<(String, &Yaml)> {
    compose["services"]
        .as_mapping()
        .expect("services")
        .iter()
        .filter(|(_, s)| s["build"]["dockerfile"] == "deploy/Dockerfile")
        .map(|(name, s)| (str_at(name, "service name").to_string(), s))
        .collect()
}

#[test]
fn compose_runs_two_reckon_instances_in_one_group() {
    let compose = compose();
    let services = &compose["services"];
    let reckons = reckon_services(&compose);
    assert_eq!(
        reckons.len(),
        2,
        "expected two reckon services, found {:?}",
        reckons.iter().map(|(n, _)| n).collect::<Vec<_>>()
    );
    let mut groups = BTreeSet::new();
    for (name, s) in &reckons {
        assert_eq!(s["command"][0], "run", "{name}: command");
        let env = environment(s);
        let group = env
            .get("RECKON_GROUP_ID")
            .unwrap_or_else(|| panic!("{name}: RECKON_GROUP_ID"));
        assert!(!group.is_empty());
        groups.insert(group.clone());

        // Brokers: the kafka service's in-network listener.
        let brokers = &env["RECKON_BROKERS"];
        let kafka_env = environment(&services["kafka"]);
        let advertised = &kafka_env["KAFKA_ADVERTISED_LISTENERS"];
        assert!(
            advertised
                .split(',')
                .any(|l| l.ends_with(&format!("//{brokers}"))),
            "{name}: RECKON_BROKERS={brokers} is not an advertised listener ({advertised})"
        );

        // Started only once Kafka is healthy and the topics exist.
        assert_eq!(s["depends_on"]["kafka"]["condition"], "service_healthy");
        assert_eq!(
            s["depends_on"]["topics"]["condition"],
            "service_completed_successfully"
        );
        let metrics_port = port_of(&env["RECKON_METRICS_ADDR"]);
        let http_port = port_of(&env["RECKON_HTTP_ADDR"]);
        assert_eq!((http_port, metrics_port), (8080, 9464), "{name}: ports");
    }
    assert_eq!(
        groups.len(),
        1,
        "the reckon services use different groups: {groups:?}"
    );
}

#[test]
fn compose_kafka_runs_in_kraft_mode() {
    let compose = compose();
    let kafka = &compose["services"]["kafka"];
    assert!(str_at(&kafka["image"], "kafka image").starts_with("apache/kafka:"));
    let env = environment(kafka);
    let roles: BTreeSet<&str> = env["KAFKA_PROCESS_ROLES"].split(',').collect();
    assert_eq!(roles, BTreeSet::from(["broker", "controller"]));
    for key in [
        "KAFKA_NODE_ID",
        "CLUSTER_ID",
        "KAFKA_CONTROLLER_QUORUM_VOTERS",
        "KAFKA_CONTROLLER_LISTENER_NAMES",
        "KAFKA_LISTENERS",
        "KAFKA_ADVERTISED_LISTENERS",
    ] {
        assert!(env.contains_key(key), "kafka: {key}");
    }
    assert!(
        kafka["healthcheck"]["test"].is_sequence(),
        "kafka: healthcheck"
    );
}

/// The topics the compose `topics` service creates: name -> its kafka-topics.sh arguments.
fn created_topics(compose: &Yaml) -> BTreeMap<String, String> {
    let topics = &compose["services"]["topics"];
    let script: String = topics["command"]
        .as_sequence()
        .expect("topics command")
        .iter()
        .map(|l| str_at(l, "command").to_string())
        .collect::<Vec<_>>()
        .join("\n");
    let mut out = BTreeMap::new();
    for line in script.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        let Some(i) = words.iter().position(|w| *w == "--topic") else {
            continue;
        };
        if line.contains("--describe") {
            continue;
        }
        out.insert(words[i + 1].to_string(), line.to_string());
    }
    out
}

fn option_value<'a>(line: &'a str, option: &str) -> Vec<&'a str> {
    let words: Vec<&str> = line.split_whitespace().collect();
    words
        .windows(2)
        .filter(|w| w[0] == option)
        .map(|w| w[1])
        .collect()
}

#[test]
fn compose_creates_the_topics_reckon_expects() {
    let compose = compose();
    let (_, reckon) = &reckon_services(&compose)[0];
    let env = environment(reckon);
    let created = created_topics(&compose);
    let topic = |var: &str| -> &String {
        let name = &env[var];
        created
            .get(name)
            .unwrap_or_else(|| panic!("topic {name} ({var}) is not created: {created:?}"))
    };
    let partitions = |line: &str| -> u32 { option_value(line, "--partitions")[0].parse().unwrap() };
    let configs = |line: &str| -> BTreeSet<String> {
        option_value(line, "--config")
            .into_iter()
            .map(str::to_string)
            .collect()
    };
    let reports = topic("RECKON_REPORTS_TOPIC");
    let changelog = topic("RECKON_CHANGELOG_TOPIC");
    let updates = topic("RECKON_UPDATES_TOPIC");
    let dead = topic("RECKON_DEAD_LETTER_TOPIC");
    // The changelog is co-partitioned with the reports topic.
    assert_eq!(partitions(reports), partitions(changelog));
    assert!(
        partitions(reports) >= 2,
        "two instances need two partitions or more"
    );
    for line in [reports, changelog, updates, dead] {
        assert_eq!(partitions(line), partitions(reports));
    }
    assert!(configs(changelog).contains("cleanup.policy=compact"));
    assert!(configs(changelog).contains("min.compaction.lag.ms=3600000"));
    assert!(configs(updates).contains("cleanup.policy=compact"));
    assert!(!configs(reports).contains("cleanup.policy=compact"));
    let topics = &compose["services"]["topics"];
    assert_eq!(
        topics["depends_on"]["kafka"]["condition"],
        "service_healthy"
    );
    assert!(str_at(&topics["image"], "topics image").starts_with("apache/kafka:"));
}

#[test]
fn prometheus_and_grafana_fit_the_compose_stack() {
    let compose = compose();
    let services = &compose["services"];

    // Prometheus scrapes every reckon service on its metrics port, and only those.
    let prometheus = yaml_file("prometheus/prometheus.yml");
    let job = prometheus["scrape_configs"]
        .as_sequence()
        .expect("scrape_configs")
        .iter()
        .find(|j| j["job_name"] == "reckon")
        .expect("a scrape job named reckon");
    let path = job["metrics_path"].as_str().unwrap_or("/metrics");
    assert_eq!(path, "/metrics");
    let targets: BTreeSet<String> = job["static_configs"]
        .as_sequence()
        .expect("static_configs")
        .iter()
        .flat_map(|sc| sc["targets"].as_sequence().expect("targets").iter())
        .map(|t| str_at(t, "target").to_string())
        .collect();
    let expected: BTreeSet<String> = reckon_services(&compose)
        .iter()
        .map(|(name, s)| format!("{name}:{}", port_of(&environment(s)["RECKON_METRICS_ADDR"])))
        .collect();
    assert_eq!(targets, expected);

    // The Prometheus container mounts deploy/prometheus (rule files are relative to it).
    let mounts = |service: &str| -> Vec<(String, String)> {
        services[service]["volumes"]
            .as_sequence()
            .expect("volumes")
            .iter()
            .map(|v| {
                let parts: Vec<&str> = str_at(v, "volume").split(':').collect();
                (parts[0].to_string(), parts[1].to_string())
            })
            .collect()
    };
    assert!(mounts("prometheus").contains(&("./prometheus".into(), "/etc/prometheus".into())));

    // Grafana: the datasource points at the prometheus service; the dashboard provider reads
    // the directory where deploy/grafana/dashboards is mounted.
    let ds = yaml_file("grafana/provisioning/datasources/prometheus.yml");
    assert_eq!(ds["datasources"][0]["url"], "http://prometheus:9090");
    let providers = yaml_file("grafana/provisioning/dashboards/reckon.yml");
    let dashboards_path = str_at(
        &providers["providers"][0]["options"]["path"],
        "provider path",
    );
    let grafana_mounts = mounts("grafana");
    assert!(grafana_mounts.contains(&("./grafana/dashboards".into(), dashboards_path.into())));
    assert!(grafana_mounts.contains(&(
        "./grafana/provisioning".into(),
        "/etc/grafana/provisioning".into()
    )));
}

// ---------------------------------------------------------------------------------------------
// Dockerfile

#[test]
fn the_dockerfile_builds_a_non_root_image_running_reckon() {
    let text = read("Dockerfile");
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .collect();
    let froms: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.starts_with("FROM "))
        .collect();
    assert!(froms.len() >= 2, "multi-stage: {froms:?}");
    assert!(froms[0].contains("rust:"), "builder: {}", froms[0]);
    let runtime = froms.last().unwrap();
    assert!(
        runtime.contains("debian:bookworm-slim") || runtime.contains("distroless"),
        "runtime: {runtime}"
    );
    assert!(text.contains("cargo build --release --locked"));
    let user = lines
        .iter()
        .rev()
        .find_map(|l| l.strip_prefix("USER "))
        .expect("a USER");
    let uid = user.split(':').next().unwrap();
    assert!(
        uid.parse::<u32>().is_ok_and(|u| u != 0),
        "USER {user}: a numeric non-root uid (Kubernetes' runAsNonRoot checks it)"
    );
    assert!(lines.contains(&r#"ENTRYPOINT ["reckon"]"#));
    assert!(lines.contains(&r#"CMD ["run"]"#));
    let exposed: BTreeSet<&str> = lines
        .iter()
        .filter_map(|l| l.strip_prefix("EXPOSE "))
        .flat_map(str::split_whitespace)
        .collect();
    assert!(
        exposed.contains("8080") && exposed.contains("9464"),
        "EXPOSE {exposed:?}"
    );

    let ignore = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(".dockerignore"))
        .expect(".dockerignore at the repository root");
    assert!(ignore
        .lines()
        .any(|l| l.trim().trim_end_matches('/') == "target"));
}

// ---------------------------------------------------------------------------------------------
// Settings the deployment uses exist in the command line

/// Every `RECKON_*` name the compose and Kubernetes files set.
fn deploy_env_names() -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for path in files_under(&deploy_dir())
        .into_iter()
        .filter(|p| is_yaml(p))
    {
        let text = fs::read_to_string(&path).unwrap();
        // Comments may name variables the deployment avoids (service links): skip them.
        let code: String = text
            .lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .collect::<Vec<_>>()
            .join("\n");
        let mut rest = code.as_str();
        while let Some(i) = rest.find("RECKON_") {
            let tail = &rest[i..];
            let end = tail
                .find(|c: char| !(c.is_ascii_uppercase() || c == '_'))
                .unwrap_or(tail.len());
            if !tail[..end].ends_with('_') {
                names.insert(tail[..end].to_string());
            }
            rest = &tail[end..];
        }
    }
    names
}

#[test]
fn every_reckon_setting_the_deployment_uses_is_a_cli_env_var() {
    let mut declared = BTreeSet::new();
    for path in files_under(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src")) {
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = fs::read_to_string(&path).unwrap();
        let mut rest = text.as_str();
        while let Some(i) = rest.find("env = \"RECKON_") {
            let tail = &rest[i + "env = \"".len()..];
            let end = tail.find('"').unwrap();
            declared.insert(tail[..end].to_string());
            rest = &tail[end..];
        }
    }
    let used = deploy_env_names();
    let missing: Vec<_> = used.difference(&declared).collect();
    assert!(
        missing.is_empty(),
        "deploy/ sets {missing:?}, which no command declares (declared: {declared:?})"
    );
}
