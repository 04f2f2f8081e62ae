//! The benchmark's findings: one structure for `--json`, and its text form, every figure with
//! its unit.

use std::fmt::Write as _;

use serde::Serialize;

use super::goals::{fmt_num, GoalResult, Verdict};
use super::latency::LatencyFigure;
use super::machine::Machine;
use super::memory::MemoryFigure;
use super::stats::median;

/// Repeated runs of one throughput measurement.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Series {
    /// Messages per run.
    pub messages: u64,
    /// Each run's throughput, reports/s, in run order.
    pub per_s: Vec<f64>,
    /// Each run's duration, s.
    pub seconds: Vec<f64>,
    /// Median throughput, reports/s.
    pub median_per_s: f64,
}

impl Series {
    /// Adds a run.
    pub fn push(&mut self, messages: u64, seconds: f64) {
        self.messages = messages;
        self.seconds.push(seconds);
        self.per_s.push(if seconds > 0.0 {
            messages as f64 / seconds
        } else {
            0.0
        });
        self.median_per_s = median(&self.per_s).unwrap_or(0.0);
    }

    fn runs_text(&self) -> String {
        let runs: Vec<String> = self.per_s.iter().map(|v| fmt_num(*v)).collect();
        if runs.len() == 1 {
            format!("1 run, {} messages", fmt_num(self.messages as f64))
        } else {
            format!(
                "median of {} runs: {} reports/s; {} messages each",
                runs.len(),
                runs.join(" / "),
                fmt_num(self.messages as f64)
            )
        }
    }
}

/// A ratio measured pairwise, side by side.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PairedRatio {
    /// Each pair's ratio.
    pub pairs: Vec<f64>,
    /// Their median.
    pub median: f64,
}

impl PairedRatio {
    /// Adds a pair's ratio.
    pub fn push(&mut self, r: f64) {
        self.pairs.push(r);
        self.median = median(&self.pairs).unwrap_or(0.0);
    }
}

/// The input stream of the throughput and replay measurements.
#[derive(Debug, Clone, Serialize)]
pub struct WorkloadInfo {
    /// Incidents generated.
    pub incidents: usize,
    /// Reports.
    pub reports: usize,
    /// Mean encoded report size, bytes.
    pub mean_report_bytes: f64,
    /// Wire form.
    pub format: String,
    /// Seed.
    pub seed: u64,
    /// Partitions of the topic it was produced to.
    pub partitions: Option<i32>,
}

/// Reckon's extra figures of the throughput runs.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ReckonExtra {
    /// Updates published per run.
    pub updates: u64,
    /// Checkpoints written in the last run.
    pub checkpoints: u64,
}

/// (d).
#[derive(Debug, Clone, Serialize)]
pub struct ReplayFigure {
    /// Replay (read, decode, fold), reports/s.
    pub replay: Series,
    /// Bare read of the same topic, messages/s.
    pub bare_read: Series,
    /// Updates the replay's fold produced.
    pub updates: u64,
    /// Incidents rebuilt.
    pub incidents: usize,
}

/// (e), one size.
#[derive(Debug, Clone, Serialize)]
pub struct MemoryRow {
    /// The measurement.
    #[serde(flatten)]
    pub figure: MemoryFigure,
    /// RSS growth per standing incident, bytes.
    pub bytes_per_incident: f64,
    /// How it was measured.
    pub method: String,
}

/// (f).
#[derive(Debug, Clone, Serialize)]
pub struct ExactlyOnceFigure {
    /// Where it was measured.
    pub broker: String,
    /// At-least-once runs.
    pub at_least_once: Series,
    /// `--exactly-once` runs.
    pub exactly_once: Series,
    /// Per pair, `exactly_once / at_least_once`.
    pub ratio: PairedRatio,
    /// Throughput lost, percent: `100 * (1 - median ratio)`.
    pub cost_pct: f64,
    /// Transactions aborted in the runs (0 expected).
    pub aborts: u64,
}

/// Everything a run found.
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    /// The machine.
    pub machine: Machine,
    /// The broker.
    pub broker: String,
    /// The processor's settings.
    pub processor: String,
    /// Partitions of every topic.
    pub partitions: i32,
    /// The throughput workload.
    pub workload: Option<WorkloadInfo>,
    /// (a) the bare pipe.
    pub pipe: Option<Series>,
    /// (b) reckon.
    pub reckon: Option<Series>,
    /// (b) reckon's updates and checkpoints.
    pub reckon_extra: Option<ReckonExtra>,
    /// (b) / (a), pairwise.
    pub ratio: Option<PairedRatio>,
    /// (c) one entry per rate and path.
    pub latency: Vec<LatencyFigure>,
    /// (d).
    pub replay: Option<ReplayFigure>,
    /// (e).
    pub memory: Vec<MemoryRow>,
    /// (f).
    pub exactly_once: Option<ExactlyOnceFigure>,
    /// Why a requested figure is missing, and other remarks.
    pub notes: Vec<String>,
    /// Goals and verdicts.
    pub goals: Vec<GoalResult>,
    /// Wall time of the whole run, s.
    pub total_seconds: f64,
}

fn mib(b: u64) -> String {
    format!("{:.1} MiB", b as f64 / (1u64 << 20) as f64)
}

impl BenchReport {
    /// The text form.
    pub fn to_text(&self) -> String {
        let mut o = String::new();
        let _ = writeln!(o, "machine: {}", self.machine.summary());
        let _ = writeln!(
            o,
            "broker: {}; {} partitions per topic",
            self.broker, self.partitions
        );
        let _ = writeln!(o, "processor: {}", self.processor);
        if let Some(w) = &self.workload {
            let _ = writeln!(
                o,
                "workload: {} incidents -> {} reports, {}, mean {} bytes per report, seed {}{}",
                fmt_num(w.incidents as f64),
                fmt_num(w.reports as f64),
                w.format,
                fmt_num(w.mean_report_bytes),
                w.seed,
                w.partitions.map_or(String::new(), |p| format!(
                    "; input topic of {p} partitions"
                ))
            );
        }
        o.push('\n');
        if let Some(a) = &self.pipe {
            let _ = writeln!(
                o,
                "(a) pipe throughput: {} reports/s ({})",
                fmt_num(a.median_per_s),
                a.runs_text()
            );
        }
        if let Some(b) = &self.reckon {
            let extra = self.reckon_extra.as_ref().map_or(String::new(), |e| {
                format!(
                    "; {} updates and {} checkpoints per run",
                    fmt_num(e.updates as f64),
                    fmt_num(e.checkpoints as f64)
                )
            });
            let _ = writeln!(
                o,
                "(b) reckon throughput: {} reports/s ({}{extra})",
                fmt_num(b.median_per_s),
                b.runs_text()
            );
        }
        if let Some(r) = &self.ratio {
            let pairs: Vec<String> = r.pairs.iter().map(|v| format!("{v:.3}")).collect();
            let _ = writeln!(
                o,
                "    ratio b/a: {:.3} (median of {} side-by-side pair(s): {})",
                r.median,
                r.pairs.len(),
                pairs.join(" / ")
            );
        }
        for l in &self.latency {
            let head = format!("(c) latency at {} reports/s, {}:", fmt_num(l.rate), l.path);
            match &l.latency {
                Some(s) => {
                    let matched = if l.path == "pipe" {
                        format!(
                            "{} copies seen, {} missing",
                            fmt_num(s.count as f64),
                            fmt_num(l.without_update as f64)
                        )
                    } else {
                        format!(
                            "{} reports with an update, {} changed no view",
                            fmt_num(s.count as f64),
                            fmt_num(l.without_update as f64)
                        )
                    };
                    let _ = writeln!(
                        o,
                        "{head} p50 {} ms, p99 {} ms, p999 {} ms, max {} ms ({matched}; feeder {} reports/s, at most {} ms behind schedule)",
                        fmt_num(s.p50_ms),
                        fmt_num(s.p99_ms),
                        fmt_num(s.p999_ms),
                        fmt_num(s.max_ms),
                        fmt_num(l.achieved_rate),
                        fmt_num(l.feeder_max_behind_ms)
                    );
                }
                None => {
                    let _ = writeln!(o, "{head} p50 - ms, p99 - ms, p999 - ms (no sample)");
                }
            }
        }
        if let Some(d) = &self.replay {
            let _ = writeln!(
                o,
                "(d) replay throughput: {} reports/s ({}; {} updates, {} incidents rebuilt); bare read of the same topic: {} messages/s",
                fmt_num(d.replay.median_per_s),
                d.replay.runs_text(),
                fmt_num(d.updates as f64),
                fmt_num(d.incidents as f64),
                fmt_num(d.bare_read.median_per_s)
            );
        }
        for m in &self.memory {
            let f = &m.figure;
            let _ = writeln!(
                o,
                "(e) memory at {} incidents: {} bytes per incident (RSS {} -> {}, +{} for {} standing incidents, {} reports; {}; fold {} reports/s)",
                fmt_num(f.incidents as f64),
                fmt_num(m.bytes_per_incident),
                mib(f.rss_before),
                mib(f.rss_after),
                mib(f.growth()),
                fmt_num(f.live_incidents as f64),
                fmt_num(f.reports as f64),
                m.method,
                fmt_num(f.per_s())
            );
        }
        if let Some(f) = &self.exactly_once {
            let pairs: Vec<String> = f.ratio.pairs.iter().map(|v| format!("{v:.3}")).collect();
            let _ = writeln!(
                o,
                "(f) exactly-once throughput: {} reports/s vs {} reports/s at-least-once: cost {:.1} %{} (median of {} pair(s), ratios {}; {}; {} aborted transactions)",
                fmt_num(f.exactly_once.median_per_s),
                fmt_num(f.at_least_once.median_per_s),
                f.cost_pct,
                if f.cost_pct < 0.0 {
                    " (exactly-once was the faster)"
                } else {
                    ""
                },
                f.ratio.pairs.len(),
                pairs.join(" / "),
                f.broker,
                f.aborts
            );
        }
        if !self.notes.is_empty() {
            o.push('\n');
            for n in &self.notes {
                let _ = writeln!(o, "note: {n}");
            }
        }
        o.push_str("\ngoals:\n");
        for g in &self.goals {
            let measured = match (g.measured, g.verdict) {
                (_, Verdict::NotMeasured) | (None, _) => "not measured".to_string(),
                (Some(v), _) if g.goal.unit.is_empty() => format!("{v:.3}"),
                (Some(v), _) => format!("{} {}", fmt_num(v), g.goal.unit),
            };
            let _ = writeln!(
                o,
                "  {:<12} {} {}: {measured}",
                g.verdict.as_str(),
                g.goal.name,
                g.goal.target_text()
            );
        }
        let _ = writeln!(o, "\ntotal: {:.1} s", self.total_seconds);
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_keep_medians() {
        let mut s = Series::default();
        s.push(1000, 1.0);
        s.push(1000, 0.5);
        s.push(1000, 2.0);
        assert_eq!(s.per_s, vec![1000.0, 2000.0, 500.0]);
        assert_eq!(s.median_per_s, 1000.0);
        assert!(s.runs_text().starts_with("median of 3 runs"));
        let mut r = PairedRatio::default();
        r.push(0.5);
        r.push(0.7);
        assert!((r.median - 0.6).abs() < 1e-12);
    }
}
