//! Percentiles and means of samples.

use std::time::Duration;

/// Summary of a sample of durations, in milliseconds.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    pub n: usize,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub mean: f64,
    pub max: f64,
}

/// Summarises `samples` (nearest-rank percentiles); all zero for an empty sample.
pub fn summarize(samples: &[Duration]) -> Summary {
    let mut ms: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1e3).collect();
    ms.sort_by(f64::total_cmp);
    if ms.is_empty() {
        return Summary {
            n: 0,
            p50: 0.0,
            p95: 0.0,
            p99: 0.0,
            mean: 0.0,
            max: 0.0,
        };
    }
    let rank = |p: f64| ms[(((p * ms.len() as f64).ceil() as usize).max(1) - 1).min(ms.len() - 1)];
    Summary {
        n: ms.len(),
        p50: rank(0.50),
        p95: rank(0.95),
        p99: rank(0.99),
        mean: ms.iter().sum::<f64>() / ms.len() as f64,
        max: ms[ms.len() - 1],
    }
}

/// The median of plain numbers.
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        0.0
    } else {
        v[v.len() / 2]
    }
}
