//! `reckon bench --broker embedded` with tiny sizes prints every figure, with its unit, the
//! machine line and a verdict per goal. No timing is asserted: the machines are shared and
//! noisy, speed is what the benchmark reports, never what a test checks.

use std::process::Command;

#[test]
fn bench_prints_every_figure() {
    let out = Command::new(env!("CARGO_BIN_EXE_reckon"))
        .args([
            "bench",
            "--broker",
            "embedded",
            "--incidents",
            "150",
            "--repeat",
            "1",
            "--partitions",
            "2",
            "--rates",
            "200,5000",
            "--duration",
            "0.5",
            "--warmup",
            "0.2",
            "--memory-incidents",
            "300,600",
            "--quiet",
        ])
        .output()
        .expect("run reckon bench");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "reckon bench failed: {}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
    for needle in [
        "machine: ",
        " cores, ",
        "load average",
        " at start, ",
        " at end",
        "broker: embedded",
        "workload: 150 incidents -> ",
        "(a) pipe throughput: ",
        "(b) reckon throughput: ",
        "ratio b/a: ",
        "(c) latency at 200 reports/s, pipe: p50 ",
        "(c) latency at 200 reports/s, reckon: p50 ",
        "(c) latency at 5,000 reports/s, pipe: p50 ",
        "(c) latency at 5,000 reports/s, reckon: p50 ",
        " ms, p99 ",
        " ms, p999 ",
        "(d) replay throughput: ",
        "bare read of the same topic: ",
        "(e) memory at 300 incidents: ",
        "(e) memory at 600 incidents: ",
        " bytes per incident",
        "(f) exactly-once throughput: ",
        "at-least-once: cost ",
        "goals:",
        "reckon/pipe throughput ratio (b/a) >= 0.80: ",
        "p99 end-to-end latency at 5,000 reports/s <= 10 ms: ",
        "replay throughput >= 200,000 reports/s: ",
        "throughput cost of --exactly-once <= 15 %: ",
    ] {
        assert!(
            stdout.contains(needle),
            "missing {needle:?} in the output:\n{stdout}"
        );
    }
    assert!(stdout.matches(" reports/s").count() >= 6, "{stdout}");
    // Every measured goal has a verdict; the 100k and 1M memory goals were not run here.
    let goals = stdout.split("goals:").nth(1).unwrap_or_default();
    let verdicts = goals
        .lines()
        .filter(|l| l.trim_start().starts_with("PASS") || l.trim_start().starts_with("MISS"))
        .count();
    assert_eq!(verdicts, 4, "{goals}");
    assert_eq!(goals.matches("NOT MEASURED").count(), 2, "{goals}");
}

#[test]
fn bench_json_has_every_section() {
    let out = Command::new(env!("CARGO_BIN_EXE_reckon"))
        .args([
            "bench",
            "--only",
            "a,b,e",
            "--incidents",
            "100",
            "--repeat",
            "1",
            "--partitions",
            "1",
            "--memory-incidents",
            "200",
            "--json",
            "--quiet",
        ])
        .output()
        .expect("run reckon bench");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    for key in ["machine", "pipe", "reckon", "ratio", "memory", "goals"] {
        assert!(!v[key].is_null(), "{key} missing in {v:#}");
    }
    assert!(v["machine"]["cores"].as_u64().unwrap_or(0) >= 1);
    assert!(v["pipe"]["median_per_s"].as_f64().is_some());
    assert!(v["memory"][0]["bytes_per_incident"].as_f64().is_some());
    assert!(v["latency"].as_array().is_some_and(|a| a.is_empty()));
    assert_eq!(v["goals"].as_array().map(Vec::len), Some(6));
}
