//! What the plain-harness benchmarks share: medians over repeated runs.

// Each benchmark binary compiles this module and uses only part of it.
#![allow(dead_code)]

/// The median of `samples` (the upper one for an even count).
pub fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// The median of `repetitions` calls of `sample`.
pub fn median_of(repetitions: usize, mut sample: impl FnMut() -> f64) -> f64 {
    median((0..repetitions).map(|_| sample()).collect())
}
