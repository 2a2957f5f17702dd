//! The quantiles of a timer over its last ten seconds, as client_golang's summary with
//! `MaxAge: 10s` keeps them: five two-second slices of samples, read together when a
//! scrape asks. Like client_golang's, the quantiles of a few samples are exact (the
//! sample at rank ⌈q·n⌉), so a lone 1.5 ms request reads `1.5`; a slice keeps at most
//! [`SLICE_CAPACITY`] samples, beyond which each new one replaces a random kept one
//! (reservoir sampling), so memory and a scrape's sorting stay bounded under load. A
//! timer that saw nothing in that time has no quantiles (Prometheus reads `NaN`).

use std::collections::VecDeque;

/// How long a slice lasts, in seconds.
const SLICE_SECONDS: u64 = 2;
/// How many slices make the window (10 s: client_golang's `MaxAge`, 5 age buckets).
const SLICES: u64 = 5;
/// The most samples one slice keeps.
pub const SLICE_CAPACITY: usize = 512;

/// One slice: its number (seconds / 2), the samples kept and how many were offered.
#[derive(Debug, Clone)]
struct Slice {
    number: u64,
    kept: Vec<f64>,
    offered: u64,
}

impl Slice {
    fn offer(&mut self, value: f64) {
        self.offered += 1;
        if self.kept.len() < SLICE_CAPACITY {
            self.kept.push(value);
            return;
        }
        // Algorithm R: the n-th sample replaces a kept one with probability capacity/n.
        let pick = mix(self.offered ^ self.number.rotate_left(32)) % self.offered;
        if let Some(slot) = self.kept.get_mut(pick as usize) {
            *slot = value;
        }
    }
}

/// A 64-bit mixer (SplitMix64's finaliser): a cheap, reproducible "random" index.
fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// The recent samples of one timer series.
#[derive(Debug, Default, Clone)]
pub struct Window {
    /// Oldest first.
    slices: VecDeque<Slice>,
}

impl Window {
    /// Records `value` at `now_seconds`.
    #[cfg(test)]
    pub fn add(&mut self, now_seconds: u64, value: f64) {
        self.add_all(now_seconds, [value]);
    }

    /// Records `values`, all at `now_seconds`: a collection's samples of one series
    /// find their slice once, not once each.
    pub fn add_all(&mut self, now_seconds: u64, values: impl IntoIterator<Item = f64>) {
        let mut values = values.into_iter().peekable();
        if values.peek().is_none() {
            return;
        }
        let number = now_seconds / SLICE_SECONDS;
        let oldest = number.saturating_sub(SLICES - 1);
        while self
            .slices
            .front()
            .is_some_and(|slice| slice.number < oldest)
        {
            self.slices.pop_front();
        }
        if self
            .slices
            .back()
            .is_none_or(|slice| slice.number != number)
        {
            self.slices.push_back(Slice {
                number,
                kept: Vec::new(),
                offered: 0,
            });
        }
        if let Some(slice) = self.slices.back_mut() {
            values.for_each(|value| slice.offer(value));
        }
    }

    /// The `quantiles` over the last ten seconds as of `now_seconds`; `None` for each
    /// when nothing was recorded then.
    pub fn quantiles(&self, now_seconds: u64, quantiles: &[f64]) -> Vec<Option<f64>> {
        let oldest = (now_seconds / SLICE_SECONDS).saturating_sub(SLICES - 1);
        let mut values: Vec<f64> = self
            .slices
            .iter()
            .filter(|slice| slice.number >= oldest)
            .flat_map(|slice| slice.kept.iter().copied())
            .collect();
        if values.is_empty() {
            return vec![None; quantiles.len()];
        }
        values.sort_by(f64::total_cmp);
        let count = values.len();
        quantiles
            .iter()
            .map(|q| {
                let rank = (q * count as f64).ceil() as usize;
                Some(values[rank.clamp(1, count) - 1])
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_cover_the_last_ten_seconds_only() {
        let mut window = Window::default();
        for value in 1..=100 {
            window.add(100, f64::from(value));
        }
        let found = window.quantiles(101, &[0.5, 0.9, 0.99]);
        assert_eq!(found, vec![Some(50.0), Some(90.0), Some(99.0)]);
        assert_eq!(window.quantiles(108, &[0.5]), vec![Some(50.0)]);
        // Ten seconds later the samples are gone.
        assert_eq!(window.quantiles(112, &[0.5]), vec![None]);
        assert_eq!(Window::default().quantiles(0, &[0.5]), vec![None]);
    }

    #[test]
    fn samples_added_together_land_as_if_added_one_by_one() {
        let mut together = Window::default();
        let mut one_by_one = Window::default();
        for (now, values) in [
            (100, 0..700),
            (101, 700..900),
            (104, 900..950),
            (111, 950..960),
        ] {
            together.add_all(now, values.clone().map(f64::from));
            values.for_each(|value| one_by_one.add(now, f64::from(value)));
        }
        together.add_all(112, std::iter::empty());
        assert_eq!(together.slices.len(), one_by_one.slices.len());
        for (a, b) in together.slices.iter().zip(&one_by_one.slices) {
            assert_eq!(
                (a.number, a.offered, &a.kept),
                (b.number, b.offered, &b.kept)
            );
        }
        let quantiles = [0.5, 0.9, 0.99];
        for now in [100, 104, 111, 113] {
            assert_eq!(
                together.quantiles(now, &quantiles),
                one_by_one.quantiles(now, &quantiles)
            );
        }
    }

    #[test]
    fn a_busy_slice_keeps_a_bounded_sample_of_everything() {
        let mut window = Window::default();
        for value in 0..100_000 {
            window.add(7, f64::from(value % 1000));
        }
        assert_eq!(window.slices[0].kept.len(), SLICE_CAPACITY);
        let median = window.quantiles(7, &[0.5])[0].unwrap();
        assert!((400.0..600.0).contains(&median), "{median}");
    }
}
