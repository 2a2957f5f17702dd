//! The collector's state: each series the registry holds, with the names it is shown
//! under, what the last collection saw of it (to turn totals into per-interval counts),
//! its Prometheus totals and quantile window, and when it last changed; and the
//! in-memory intervals. A collection drains the registry's cells into both.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use metrics::Key;
use metrics_util::registry::Registry;

use crate::Kind;
use crate::aggregate::Aggregate;
use crate::definitions::DECLARED;
use crate::interval::Intervals;
use crate::names::SeriesNames;
use crate::settings::Settings;
use crate::storage::Cells;
use crate::window::Window;

/// What is known of one series.
#[derive(Debug)]
pub struct Series {
    pub names: Arc<SeriesNames>,
    /// A counter's total or a gauge's write count at the last collection.
    seen: u64,
    /// A counter's total or a gauge's value (at `float32` precision, as go-metrics).
    pub value: f64,
    /// A timer's sum and count since start-up (Prometheus `_sum`, `_count`).
    pub sum: f64,
    pub count: u64,
    /// A timer's last ten seconds (only with Prometheus output on).
    pub window: Window,
    /// When it last changed (seconds since the epoch); `None`: never, not listed.
    pub updated: Option<u64>,
}

impl Series {
    fn new(names: SeriesNames) -> Series {
        Series {
            names: Arc::new(names),
            seen: 0,
            value: 0.0,
            sum: 0.0,
            count: 0,
            window: Window::default(),
            updated: None,
        }
    }
}

/// A metric Consul declares up front, named under this agent's prefix.
#[derive(Debug)]
pub struct Declared {
    pub kind: Kind,
    pub names: SeriesNames,
    pub help: &'static str,
}

/// Every series seen so far, by kind, and the in-memory intervals.
#[derive(Debug)]
pub struct Sink {
    pub settings: Settings,
    pub counters: HashMap<Key, Series>,
    pub gauges: HashMap<Key, Series>,
    pub timers: HashMap<Key, Series>,
    pub intervals: Intervals,
    pub declared: Vec<Declared>,
}

impl Sink {
    pub fn new(settings: Settings) -> Sink {
        let declared = DECLARED
            .iter()
            .map(|(name, kind, help)| Declared {
                kind: *kind,
                names: SeriesNames::new(&settings.prefix, None, name, Vec::new()),
                help,
            })
            .collect();
        Sink {
            settings,
            counters: HashMap::new(),
            gauges: HashMap::new(),
            timers: HashMap::new(),
            intervals: Intervals::default(),
            declared,
        }
    }

    /// The names of `key` as a metric of `kind`.
    fn names(settings: &Settings, key: &Key, kind: Kind) -> SeriesNames {
        let host = match kind {
            Kind::Gauge => settings.hostname.as_deref(),
            Kind::Counter | Kind::Timer => None,
        };
        let labels = key
            .labels()
            .map(|label| (label.key().to_string(), label.value().to_string()))
            .collect();
        SeriesNames::new(&settings.prefix, host, key.name(), labels)
    }

    /// Takes in what the registry's cells recorded since the last collection, as of
    /// `now_seconds` (the current interval is created if it is new).
    pub fn collect(&mut self, registry: &Registry<Key, Cells>, now_seconds: u64) {
        let Sink {
            settings,
            counters,
            gauges,
            timers,
            intervals,
            ..
        } = self;
        let interval = intervals.current(now_seconds);
        let windows = settings.prometheus_enabled();
        registry.visit_counters(|key, cell| {
            let total = cell.0.load(Ordering::Relaxed);
            let series = counters
                .entry(key.clone())
                .or_insert_with(|| Series::new(Sink::names(settings, key, Kind::Counter)));
            let increments = total.saturating_sub(series.seen);
            if increments == 0 {
                return;
            }
            series.seen = total;
            series.value = total as f64;
            series.updated = Some(now_seconds);
            let names = &series.names;
            let entry = interval
                .counters
                .entry(names.json_hash.clone())
                .or_insert_with(|| (names.clone(), Aggregate::default()));
            // Every increment is of 1, as Consul's IncrCounter(key, 1).
            entry.1.ingest_repeated(1.0, increments);
        });
        registry.visit_gauges(|key, cell| {
            let (value, writes) = cell.0.read();
            let series = gauges
                .entry(key.clone())
                .or_insert_with(|| Series::new(Sink::names(settings, key, Kind::Gauge)));
            if writes == series.seen {
                return;
            }
            series.seen = writes;
            series.value = f64::from(value as f32);
            series.updated = Some(now_seconds);
            interval.gauges.insert(
                series.names.json_hash.clone(),
                (series.names.clone(), series.value),
            );
        });
        registry.visit_histograms(|key, cell| {
            let series = timers
                .entry(key.clone())
                .or_insert_with(|| Series::new(Sink::names(settings, key, Kind::Timer)));
            let mut aggregate = Aggregate::default();
            cell.0.clear_with(|values| {
                // go-metrics hands its sinks float32 samples.
                let values = values.iter().map(|value| f64::from(*value as f32));
                for value in values.clone() {
                    aggregate.ingest(value);
                    series.sum += value;
                    series.count += 1;
                }
                if windows {
                    series.window.add_all(now_seconds, values);
                }
            });
            if aggregate.count == 0 {
                return;
            }
            series.updated = Some(now_seconds);
            let names = &series.names;
            let entry = interval
                .samples
                .entry(names.json_hash.clone())
                .or_insert_with(|| (names.clone(), Aggregate::default()));
            merge(&mut entry.1, &aggregate);
        });
    }
}

/// Adds `more` to `into` (both aggregates of one series in one interval).
fn merge(into: &mut Aggregate, more: &Aggregate) {
    if into.count == 0 {
        *into = *more;
        return;
    }
    into.count += more.count;
    into.sum += more.sum;
    into.sum_sq += more.sum_sq;
    into.min = into.min.min(more.min);
    into.max = into.max.max(more.max);
}
