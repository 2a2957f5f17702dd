//! go-metrics' in-memory sink: what happened in each 10-second interval (aligned to
//! the wall clock), the last minute of them kept. `/v1/agent/metrics` shows the latest
//! finished one, or the current one while it is the only one.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use crate::aggregate::Aggregate;
use crate::names::SeriesNames;

/// The length of an interval, in seconds (`NewInmemSink(10*time.Second, ...)`).
pub const INTERVAL_SECONDS: u64 = 10;
/// How many intervals are kept (one minute's worth: `retain / interval`).
pub const KEPT_INTERVALS: usize = 6;

/// The start of the interval `now_seconds` falls in.
pub fn start_of(now_seconds: u64) -> u64 {
    now_seconds - now_seconds % INTERVAL_SECONDS
}

/// One interval's gauges (last value set) and counters and timers (aggregates), each
/// keyed by the in-memory sink's hash so that they list in its order.
#[derive(Debug, Clone, Default)]
pub struct Interval {
    /// Its start, in seconds since the epoch.
    pub start: u64,
    pub gauges: BTreeMap<String, (Arc<SeriesNames>, f64)>,
    pub counters: BTreeMap<String, (Arc<SeriesNames>, Aggregate)>,
    pub samples: BTreeMap<String, (Arc<SeriesNames>, Aggregate)>,
}

/// The kept intervals, oldest first.
#[derive(Debug, Default)]
pub struct Intervals {
    kept: VecDeque<Interval>,
}

impl Intervals {
    /// The interval `now_seconds` falls in, created (and the oldest dropped) if new.
    pub fn current(&mut self, now_seconds: u64) -> &mut Interval {
        let start = start_of(now_seconds);
        if self.kept.back().is_none_or(|last| last.start != start) {
            self.kept.push_back(Interval {
                start,
                ..Interval::default()
            });
            while self.kept.len() > KEPT_INTERVALS {
                self.kept.pop_front();
            }
        }
        self.kept.back_mut().expect("just pushed")
    }

    /// The finished intervals (all kept but the current one) that start after
    /// `after`, oldest first: what go-metrics' `Stream` hands out as each one ends.
    pub fn finished_after(&self, after: Option<u64>) -> impl Iterator<Item = &Interval> {
        let finished = self.kept.len().saturating_sub(1);
        self.kept
            .iter()
            .take(finished)
            .filter(move |interval| after.is_none_or(|after| interval.start > after))
    }

    /// The start of the latest finished interval, if one has finished.
    pub fn latest_finished(&self) -> Option<u64> {
        let finished = self.kept.len().checked_sub(2)?;
        self.kept.get(finished).map(|interval| interval.start)
    }

    /// What `DisplayMetrics` shows: the latest finished interval, or the current one if
    /// it is the only one; none before the first.
    pub fn displayed(&self) -> Option<&Interval> {
        match self.kept.len() {
            0 => None,
            1 => self.kept.back(),
            n => self.kept.get(n - 2),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_the_last_finished_interval_and_keeps_a_minute() {
        let mut intervals = Intervals::default();
        assert!(intervals.displayed().is_none());
        intervals.current(1_000_003);
        assert_eq!(intervals.displayed().unwrap().start, 1_000_000);
        intervals.current(1_000_009);
        intervals.current(1_000_010);
        assert_eq!(intervals.displayed().unwrap().start, 1_000_000);
        for seconds in (1_000_020..1_000_100).step_by(10) {
            intervals.current(seconds);
        }
        assert_eq!(intervals.kept.len(), KEPT_INTERVALS);
        assert_eq!(intervals.displayed().unwrap().start, 1_000_080);
    }

    #[test]
    fn finished_intervals_are_all_but_the_current_one() {
        let mut intervals = Intervals::default();
        intervals.current(1_000_003);
        assert_eq!(intervals.latest_finished(), None);
        assert_eq!(intervals.finished_after(None).count(), 0);
        intervals.current(1_000_012);
        intervals.current(1_000_025);
        assert_eq!(intervals.latest_finished(), Some(1_000_010));
        let starts = |after| {
            intervals
                .finished_after(after)
                .map(|interval| interval.start)
                .collect::<Vec<_>>()
        };
        assert_eq!(starts(None), [1_000_000, 1_000_010]);
        assert_eq!(starts(Some(1_000_000)), [1_000_010]);
        assert_eq!(starts(Some(1_000_010)), Vec::<u64>::new());
    }
}
