//! The paced producer's schedule: message `i` is due `i / rate` seconds after the start, on an
//! absolute timeline, so that a late send (a slow `send`, a descheduled thread) is caught up
//! by the following ones instead of shifting every later message (the offered rate stays the
//! one asked for, over the whole run).

use std::time::{Duration, Instant};

/// A fixed-rate schedule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Schedule {
    /// Messages per second (> 0).
    pub rate: f64,
    /// Messages in total.
    pub count: u64,
}

impl Schedule {
    /// `rate` messages per second for `duration`.
    pub fn for_duration(rate: f64, duration: Duration) -> Self {
        Self {
            rate,
            count: (rate * duration.as_secs_f64()).round() as u64,
        }
    }

    /// When message `i` (0-based) is due, after the start.
    pub fn due(&self, i: u64) -> Duration {
        if self.rate <= 0.0 {
            return Duration::ZERO;
        }
        // Nanoseconds in integer arithmetic where the rate is whole, so long runs do not drift.
        if self.rate.fract() == 0.0 && self.rate <= u64::MAX as f64 {
            let r = self.rate as u128;
            let ns = u128::from(i) * 1_000_000_000 / r;
            return Duration::from_nanos(u64::try_from(ns).unwrap_or(u64::MAX));
        }
        Duration::from_secs_f64(i as f64 / self.rate)
    }

    /// How long the schedule lasts: when the last message is due.
    pub fn span(&self) -> Duration {
        self.due(self.count.saturating_sub(1))
    }
}

/// Walks a [`Schedule`] in real time.
#[derive(Debug)]
pub struct Pacer {
    schedule: Schedule,
    start: Instant,
    next: u64,
    /// The largest lateness seen (how far behind its due time a message was released).
    max_behind: Duration,
}

impl Pacer {
    /// Starts the schedule now.
    pub fn start(schedule: Schedule) -> Self {
        Self::start_at(schedule, Instant::now())
    }

    /// Starts the schedule at `start`.
    pub fn start_at(schedule: Schedule, start: Instant) -> Self {
        Self {
            schedule,
            start,
            next: 0,
            max_behind: Duration::ZERO,
        }
    }

    /// When the schedule started.
    pub fn started(&self) -> Instant {
        self.start
    }

    /// Sleeps until the next message is due and returns its index, or `None` when every
    /// message has been released. A message already overdue is released at once.
    pub fn wait_next(&mut self) -> Option<u64> {
        if self.next >= self.schedule.count {
            return None;
        }
        let i = self.next;
        let due = self.start + self.schedule.due(i);
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
        } else {
            self.max_behind = self.max_behind.max(now - due);
        }
        self.next += 1;
        Some(i)
    }

    /// The largest lateness so far.
    pub fn max_behind(&self) -> Duration {
        self.max_behind
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_rates_are_exact() {
        let s = Schedule::for_duration(5000.0, Duration::from_secs(10));
        assert_eq!(s.count, 50_000);
        assert_eq!(s.due(0), Duration::ZERO);
        assert_eq!(s.due(1), Duration::from_micros(200));
        assert_eq!(s.due(5000), Duration::from_secs(1));
        assert_eq!(s.due(49_999), Duration::from_nanos(9_999_800_000));
        assert_eq!(s.span(), s.due(49_999));
        // 3 per second: no rounding drift over many periods.
        let t = Schedule {
            rate: 3.0,
            count: 10,
        };
        assert_eq!(t.due(3), Duration::from_secs(1));
        assert_eq!(t.due(3_000_000), Duration::from_secs(1_000_000));
        assert_eq!(t.due(1), Duration::from_nanos(333_333_333));
    }

    #[test]
    fn fractional_rates_and_edge_cases() {
        let s = Schedule {
            rate: 2.5,
            count: 5,
        };
        assert_eq!(s.due(5), Duration::from_secs(2));
        assert_eq!(
            Schedule::for_duration(1000.0, Duration::from_millis(1500)).count,
            1500
        );
        let empty = Schedule {
            rate: 100.0,
            count: 0,
        };
        assert_eq!(empty.span(), Duration::ZERO);
        assert_eq!(Pacer::start(empty).wait_next(), None);
    }

    #[test]
    fn the_pacer_releases_each_index_once_in_order() {
        // Started in the past: every message is overdue and released at once, in order.
        let schedule = Schedule {
            rate: 1000.0,
            count: 4,
        };
        let past = Instant::now() - Duration::from_secs(1);
        let mut p = Pacer::start_at(schedule, past);
        let got: Vec<u64> = std::iter::from_fn(|| p.wait_next()).collect();
        assert_eq!(got, vec![0, 1, 2, 3]);
        assert!(p.max_behind() >= Duration::from_millis(990));
        assert_eq!(p.started(), past);
    }
}
