//! Order statistics for latency samples and repeated runs: nearest-rank percentiles and the
//! median, on plain slices, with no interpolation (a reported p99 is a latency that was
//! actually observed).

use serde::Serialize;

/// The `p`-th percentile (`0 < p <= 100`) of `sorted` by the nearest-rank method: the smallest
/// sample such that at least `p` percent of the samples are at or below it. `None` for an
/// empty slice. `sorted` must be sorted ascending.
pub fn percentile_sorted(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() || !(p > 0.0 && p <= 100.0) {
        return None;
    }
    let n = sorted.len();
    // rank = ceil(p/100 * n), 1-based; computed in integers of 1/1000 % so that 99.9 is exact.
    let permille = (p * 1000.0).round() as u128;
    let rank = (permille * n as u128).div_ceil(100_000) as usize;
    Some(sorted[rank.clamp(1, n) - 1])
}

/// Sorts `samples` (NaNs last) and returns the given percentiles.
pub fn percentiles(samples: &mut [f64], ps: &[f64]) -> Vec<Option<f64>> {
    samples.sort_by(|a, b| a.total_cmp(b));
    ps.iter().map(|p| percentile_sorted(samples, *p)).collect()
}

/// The median of `samples` (the mean of the two middle ones for an even count); `None` when
/// empty.
pub fn median(samples: &[f64]) -> Option<f64> {
    if samples.is_empty() {
        return None;
    }
    let mut s = samples.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    let n = s.len();
    Some(if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    })
}

/// A latency distribution in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LatencySummary {
    /// Samples.
    pub count: usize,
    /// Median, ms.
    pub p50_ms: f64,
    /// 99th percentile, ms.
    pub p99_ms: f64,
    /// 99.9th percentile, ms.
    pub p999_ms: f64,
    /// Largest sample, ms.
    pub max_ms: f64,
    /// Arithmetic mean, ms.
    pub mean_ms: f64,
}

impl LatencySummary {
    /// Summarises samples given in milliseconds; `None` when there are none.
    pub fn of_ms(samples: &mut [f64]) -> Option<Self> {
        if samples.is_empty() {
            return None;
        }
        let q = percentiles(samples, &[50.0, 99.0, 99.9, 100.0]);
        let mean = samples.iter().sum::<f64>() / samples.len() as f64;
        Some(Self {
            count: samples.len(),
            p50_ms: q[0]?,
            p99_ms: q[1]?,
            p999_ms: q[2]?,
            max_ms: q[3]?,
            mean_ms: mean,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_on_one_to_a_thousand() {
        let v: Vec<f64> = (1..=1000).map(f64::from).collect();
        assert_eq!(percentile_sorted(&v, 50.0), Some(500.0));
        assert_eq!(percentile_sorted(&v, 99.0), Some(990.0));
        assert_eq!(percentile_sorted(&v, 99.9), Some(999.0));
        assert_eq!(percentile_sorted(&v, 100.0), Some(1000.0));
        assert_eq!(percentile_sorted(&v, 0.1), Some(1.0));
    }

    #[test]
    fn small_samples_take_an_observed_value() {
        let v = [3.0, 7.0, 9.0];
        assert_eq!(percentile_sorted(&v, 50.0), Some(7.0));
        // With fewer than 100 samples the p99 is the largest one.
        assert_eq!(percentile_sorted(&v, 99.0), Some(9.0));
        assert_eq!(percentile_sorted(&v, 99.9), Some(9.0));
        assert_eq!(percentile_sorted(&[4.0], 50.0), Some(4.0));
        assert_eq!(percentile_sorted(&[], 50.0), None);
        assert_eq!(percentile_sorted(&v, 0.0), None);
        assert_eq!(percentile_sorted(&v, 101.0), None);
    }

    #[test]
    fn unsorted_input_is_sorted_first() {
        let mut v = vec![5.0, 1.0, 4.0, 2.0, 3.0];
        assert_eq!(
            percentiles(&mut v, &[20.0, 50.0, 100.0]),
            vec![Some(1.0), Some(3.0), Some(5.0)]
        );
        assert_eq!(v, vec![1.0, 2.0, 3.0, 4.0, 5.0]);
    }

    #[test]
    fn p999_needs_a_thousand_samples_to_differ_from_the_max() {
        let mut v: Vec<f64> = (1..=10_000).map(f64::from).collect();
        let s = LatencySummary::of_ms(&mut v).unwrap();
        assert_eq!(
            (s.p50_ms, s.p99_ms, s.p999_ms, s.max_ms),
            (5000.0, 9900.0, 9990.0, 10_000.0)
        );
        assert_eq!(s.count, 10_000);
        assert!((s.mean_ms - 5000.5).abs() < 1e-9);
        assert_eq!(LatencySummary::of_ms(&mut []), None);
    }

    #[test]
    fn medians() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&[]), None);
    }
}
