//! The goals a benchmark run is compared against, and the PASS/MISS verdicts.

use serde::Serialize;

/// Which way a goal points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// The figure must be at least the target.
    AtLeast,
    /// The figure must be at most the target.
    AtMost,
}

/// A goal: a named figure, a direction and a target, with the unit they are in.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Goal {
    /// What is measured, e.g. `reckon/pipe throughput ratio`.
    pub name: String,
    /// Which way.
    pub direction: Direction,
    /// The target.
    pub target: f64,
    /// The unit of the target and the figure (`""` for a ratio).
    pub unit: String,
}

impl Goal {
    /// A goal.
    pub fn new(name: &str, direction: Direction, target: f64, unit: &str) -> Self {
        Self {
            name: name.into(),
            direction,
            target,
            unit: unit.into(),
        }
    }

    /// The verdict for a measured figure (`None`: not measured in this run).
    pub fn judge(&self, measured: Option<f64>) -> Verdict {
        match measured {
            None => Verdict::NotMeasured,
            Some(v) if v.is_nan() => Verdict::NotMeasured,
            Some(v) => {
                let ok = match self.direction {
                    Direction::AtLeast => v >= self.target,
                    Direction::AtMost => v <= self.target,
                };
                if ok {
                    Verdict::Pass
                } else {
                    Verdict::Miss
                }
            }
        }
    }

    /// The target as text, e.g. `>= 0.8` or `<= 10 ms`.
    pub fn target_text(&self) -> String {
        let op = match self.direction {
            Direction::AtLeast => ">=",
            Direction::AtMost => "<=",
        };
        if self.unit.is_empty() {
            format!("{op} {}", fmt_num(self.target))
        } else {
            format!("{op} {} {}", fmt_num(self.target), self.unit)
        }
    }
}

/// The outcome of one goal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Verdict {
    /// The figure meets the goal.
    #[serde(rename = "PASS")]
    Pass,
    /// It does not.
    #[serde(rename = "MISS")]
    Miss,
    /// The run did not measure it (`--only`, or a broker that cannot).
    #[serde(rename = "NOT MEASURED")]
    NotMeasured,
}

impl Verdict {
    /// `PASS`, `MISS` or `NOT MEASURED`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "PASS",
            Self::Miss => "MISS",
            Self::NotMeasured => "NOT MEASURED",
        }
    }
}

/// A goal with its figure and verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GoalResult {
    /// The goal.
    pub goal: Goal,
    /// The figure, in the goal's unit.
    pub measured: Option<f64>,
    /// The verdict.
    pub verdict: Verdict,
}

/// The figures the goals look at, each `None` when not measured.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Figures {
    /// reckon throughput / pipe throughput.
    pub ratio: Option<f64>,
    /// p99 end-to-end latency at 5,000 reports/s, ms.
    pub p99_at_5000_ms: Option<f64>,
    /// Replay throughput, reports/s.
    pub replay_per_s: Option<f64>,
    /// Resident bytes per incident at 100k incidents.
    pub bytes_per_incident_100k: Option<f64>,
    /// Resident bytes per incident at 1M incidents.
    pub bytes_per_incident_1m: Option<f64>,
    /// Throughput lost to `--exactly-once`, percent.
    pub exactly_once_cost_pct: Option<f64>,
}

/// The goals of the brief, with this run's figures.
pub fn evaluate(f: &Figures) -> Vec<GoalResult> {
    let goals = [
        (
            Goal::new(
                "reckon/pipe throughput ratio (b/a)",
                Direction::AtLeast,
                0.8,
                "",
            ),
            f.ratio,
        ),
        (
            Goal::new(
                "p99 end-to-end latency at 5,000 reports/s",
                Direction::AtMost,
                10.0,
                "ms",
            ),
            f.p99_at_5000_ms,
        ),
        (
            Goal::new(
                "replay throughput",
                Direction::AtLeast,
                200_000.0,
                "reports/s",
            ),
            f.replay_per_s,
        ),
        (
            Goal::new(
                "resident memory per incident at 100k incidents",
                Direction::AtMost,
                2048.0,
                "bytes",
            ),
            f.bytes_per_incident_100k,
        ),
        (
            Goal::new(
                "resident memory per incident at 1M incidents",
                Direction::AtMost,
                2048.0,
                "bytes",
            ),
            f.bytes_per_incident_1m,
        ),
        (
            Goal::new(
                "throughput cost of --exactly-once",
                Direction::AtMost,
                15.0,
                "%",
            ),
            f.exactly_once_cost_pct,
        ),
    ];
    goals
        .into_iter()
        .map(|(goal, measured)| GoalResult {
            verdict: goal.judge(measured),
            goal,
            measured,
        })
        .collect()
}

/// A number for people: thousands separated, at most three significant decimals for small
/// values.
pub fn fmt_num(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    let a = v.abs();
    if a >= 1000.0 {
        let n = v.round() as i64;
        let digits = n.unsigned_abs().to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        if n < 0 {
            format!("-{out}")
        } else {
            out
        }
    } else if a >= 100.0 || v.fract() == 0.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 0.1 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_follow_direction_and_boundaries() {
        let at_least = Goal::new("r", Direction::AtLeast, 0.8, "");
        assert_eq!(at_least.judge(Some(0.8)), Verdict::Pass);
        assert_eq!(at_least.judge(Some(0.79)), Verdict::Miss);
        assert_eq!(at_least.judge(None), Verdict::NotMeasured);
        assert_eq!(at_least.judge(Some(f64::NAN)), Verdict::NotMeasured);
        let at_most = Goal::new("p99", Direction::AtMost, 10.0, "ms");
        assert_eq!(at_most.judge(Some(10.0)), Verdict::Pass);
        assert_eq!(at_most.judge(Some(10.01)), Verdict::Miss);
        assert_eq!(at_least.target_text(), ">= 0.80");
        assert_eq!(at_most.target_text(), "<= 10 ms");
    }

    #[test]
    fn the_report_lists_every_goal_with_its_figure() {
        let r = evaluate(&Figures {
            ratio: Some(0.5),
            p99_at_5000_ms: Some(4.0),
            replay_per_s: Some(250_000.0),
            bytes_per_incident_100k: Some(1500.0),
            bytes_per_incident_1m: None,
            exactly_once_cost_pct: Some(22.0),
        });
        let verdicts: Vec<Verdict> = r.iter().map(|g| g.verdict).collect();
        assert_eq!(
            verdicts,
            vec![
                Verdict::Miss,
                Verdict::Pass,
                Verdict::Pass,
                Verdict::Pass,
                Verdict::NotMeasured,
                Verdict::Miss
            ]
        );
        assert_eq!(r[2].goal.target_text(), ">= 200,000 reports/s");
        assert_eq!(r[3].goal.target_text(), "<= 2,048 bytes");
        assert_eq!(r[5].measured, Some(22.0));
        assert!(evaluate(&Figures::default())
            .iter()
            .all(|g| g.verdict == Verdict::NotMeasured));
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(fmt_num(1_234_567.4), "1,234,567");
        assert_eq!(fmt_num(-2048.0), "-2,048");
        assert_eq!(fmt_num(999.0), "999");
        assert_eq!(fmt_num(12.34), "12.3");
        assert_eq!(fmt_num(0.8), "0.80");
        assert_eq!(fmt_num(0.0123), "0.012");
        assert_eq!(fmt_num(7.0), "7");
        assert_eq!(Verdict::NotMeasured.as_str(), "NOT MEASURED");
    }
}
