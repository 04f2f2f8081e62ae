//! When to run a commit cycle: after an interval, or after a number of records, whichever
//! comes first. Kept here, clock passed in, so the rule is testable without waiting.

use std::time::{Duration, Instant};

/// The commit trigger.
#[derive(Debug, Clone)]
pub struct CommitPolicy {
    interval: Duration,
    max_records: u64,
    last: Instant,
    since: u64,
}

impl CommitPolicy {
    /// Commits every `interval` or every `max_records` records (at least one).
    pub fn new(interval: Duration, max_records: u64, now: Instant) -> Self {
        Self {
            interval,
            max_records: max_records.max(1),
            last: now,
            since: 0,
        }
    }

    /// Counts one processed record.
    pub fn record(&mut self) {
        self.since += 1;
    }

    /// Whether a commit cycle is due.
    pub fn due(&self, now: Instant) -> bool {
        self.since >= self.max_records || now.duration_since(self.last) >= self.interval
    }

    /// Records that a commit cycle ran.
    pub fn committed(&mut self, now: Instant) {
        self.last = now;
        self.since = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_by_time_or_count() {
        let t0 = Instant::now();
        let mut p = CommitPolicy::new(Duration::from_millis(100), 3, t0);
        assert!(!p.due(t0));
        assert!(p.due(t0 + Duration::from_millis(100)));
        p.record();
        p.record();
        assert!(!p.due(t0 + Duration::from_millis(10)));
        p.record();
        assert!(p.due(t0 + Duration::from_millis(10)));
        p.committed(t0 + Duration::from_millis(10));
        assert!(!p.due(t0 + Duration::from_millis(20)));
        assert!(p.due(t0 + Duration::from_millis(110)));
    }
}
