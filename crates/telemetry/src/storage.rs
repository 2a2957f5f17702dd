//! Where the facade's handles write: lock-free cells in a metrics-util `Registry`.
//! Counters are an atomic total, histograms a lock-free bucket of samples drained by the
//! collector, and gauges their value with a count of updates, so that the collector can
//! tell a gauge set again to the same value (it counts as fresh) from one left alone.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use metrics::{CounterFn, GaugeFn, HistogramFn};
use metrics_util::registry::Storage;
use metrics_util::storage::AtomicBucket;

/// A gauge: its value (`f64` bits) and how many times it was written.
#[derive(Debug, Default)]
pub struct GaugeCell {
    bits: AtomicU64,
    updates: AtomicU64,
}

impl GaugeCell {
    /// The current value and the number of writes so far.
    pub fn read(&self) -> (f64, u64) {
        let updates = self.updates.load(Ordering::Acquire);
        (f64::from_bits(self.bits.load(Ordering::Relaxed)), updates)
    }

    fn update(&self, change: impl Fn(f64) -> f64) {
        let _ = self
            .bits
            .fetch_update(Ordering::AcqRel, Ordering::Relaxed, |bits| {
                Some(change(f64::from_bits(bits)).to_bits())
            });
        self.updates.fetch_add(1, Ordering::Release);
    }
}

/// The facade's gauge handle over a shared [`GaugeCell`].
#[derive(Debug, Clone, Default)]
pub struct SharedGauge(pub Arc<GaugeCell>);

impl GaugeFn for SharedGauge {
    fn increment(&self, value: f64) {
        self.0.update(|current| current + value);
    }

    fn decrement(&self, value: f64) {
        self.0.update(|current| current - value);
    }

    fn set(&self, value: f64) {
        self.0.bits.store(value.to_bits(), Ordering::Relaxed);
        self.0.updates.fetch_add(1, Ordering::Release);
    }
}

/// The facade's counter handle: an atomic total.
#[derive(Debug, Clone, Default)]
pub struct SharedCounter(pub Arc<AtomicU64>);

impl CounterFn for SharedCounter {
    fn increment(&self, value: u64) {
        self.0.fetch_add(value, Ordering::Relaxed);
    }

    fn absolute(&self, value: u64) {
        self.0.fetch_max(value, Ordering::Relaxed);
    }
}

/// The facade's histogram handle: samples waiting for the collector.
#[derive(Debug, Clone, Default)]
pub struct SharedHistogram(pub Arc<AtomicBucket<f64>>);

impl HistogramFn for SharedHistogram {
    fn record(&self, value: f64) {
        self.0.push(value);
    }
}

/// The registry's storage: one cell per key, created on first registration.
#[derive(Debug, Clone, Copy, Default)]
pub struct Cells;

impl<K> Storage<K> for Cells {
    type Counter = SharedCounter;
    type Gauge = SharedGauge;
    type Histogram = SharedHistogram;

    fn counter(&self, _: &K) -> SharedCounter {
        SharedCounter::default()
    }

    fn gauge(&self, _: &K) -> SharedGauge {
        SharedGauge::default()
    }

    fn histogram(&self, _: &K) -> SharedHistogram {
        SharedHistogram::default()
    }
}
