//! `reckon reconcile` run as a user runs it: on a file of JSON-lines reports, with options.

use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use reckon::core::view::IncidentView;
use reckon::wire::json;

/// Runs `reckon reconcile ARGS FILE` on `input` written to a file of its own (tests of one crate
/// run at once, in one process).
pub fn run(args: &[&str], input: &str) -> Output {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!("reckon-reconcile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!(
        "reports-{}.jsonl",
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&file, input).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_reckon"))
        .arg("reconcile")
        .args(args)
        .arg(&file)
        .output()
        .expect("run reckon reconcile");
    let _ = std::fs::remove_file(&file);
    out
}

/// The views of the updates a successful run printed.
pub fn views(out: &Output) -> Vec<IncidentView> {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| json::decode_update(l.as_bytes()).unwrap().view.unwrap())
        .collect()
}
