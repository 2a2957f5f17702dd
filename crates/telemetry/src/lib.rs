//! Consul's metrics for Proconsul: a recorder for the [`metrics`] facade and the two
//! ways Consul shows what it recorded.
//!
//! Instrumented code creates its handles once through the facade (`metrics::counter!`,
//! `gauge!`, `histogram!` with Consul's names, without the `consul.` prefix, timers in
//! milliseconds); the [`Telemetry`] installed as the process's recorder keeps them in
//! lock-free cells (metrics-util's registry). A collection, every second and before
//! each read, drains the cells into go-metrics' in-memory sink (10-second intervals,
//! one minute kept; [`Telemetry::summary_json`]) and into the state behind its
//! Prometheus sink ([`Telemetry::prometheus_text`]). Both are rendered here byte for
//! byte as Consul writes them, so the crate holds no I/O: the caller passes the time.
//!
//! Without an installed recorder the facade's handles do nothing, which is how an
//! agent runs with metrics off ([`Telemetry::detached`]).

mod aggregate;
mod definitions;
mod go_format;
mod interval;
mod json;
mod names;
mod prometheus;
mod settings;
mod sink;
mod storage;
mod window;

use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};
use metrics_util::registry::Registry;

pub use settings::Settings;
use sink::Sink;
use storage::Cells;

/// The three kinds of go-metrics metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    /// A sample (`AddSample`, `MeasureSince`): a summary in Prometheus.
    Timer,
}

/// Why a summary cannot be shown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TelemetryError {
    /// go-metrics' text when no interval exists yet.
    #[error("no metric intervals have been initialized yet")]
    NoIntervals,
    /// Another recorder was installed in this process first.
    #[error("a metrics recorder is already installed")]
    AlreadyInstalled,
}

struct Inner {
    registry: Registry<Key, Cells>,
    sink: Mutex<Sink>,
}

/// The process's metrics: the registry the facade writes to and what was collected.
/// Cheap to clone.
#[derive(Clone)]
pub struct Telemetry {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Telemetry").finish_non_exhaustive()
    }
}

/// The recorder installed once per process.
static INSTALLED: OnceLock<Telemetry> = OnceLock::new();

impl Telemetry {
    /// A telemetry that is not the process's recorder: the facade's handles do not
    /// reach it, so it shows only what is declared (metrics off).
    pub fn detached(settings: Settings) -> Telemetry {
        Telemetry {
            inner: Arc::new(Inner {
                registry: Registry::new(Cells),
                sink: Mutex::new(Sink::new(settings)),
            }),
        }
    }

    /// Installs a telemetry with `settings` as the process's recorder. Handles created
    /// before this do nothing, so it must come before the instrumented parts start.
    pub fn install(settings: Settings) -> Result<Telemetry, TelemetryError> {
        let telemetry = Telemetry::detached(settings);
        metrics::set_global_recorder(TelemetryRecorder(telemetry.inner.clone()))
            .map_err(|_| TelemetryError::AlreadyInstalled)?;
        let _ = INSTALLED.set(telemetry.clone());
        Ok(telemetry)
    }

    /// The installed telemetry, installing one with `settings` if there is none (a
    /// process running several agents shares the first one's).
    pub fn installed_or_install(settings: Settings) -> Telemetry {
        if let Some(telemetry) = INSTALLED.get() {
            return telemetry.clone();
        }
        Telemetry::install(settings.clone()).unwrap_or_else(|_| {
            INSTALLED
                .get()
                .cloned()
                .unwrap_or_else(|| Telemetry::detached(settings))
        })
    }

    /// Whether a telemetry is the process's recorder: without one every handle does
    /// nothing, so callers can leave out the work around them (`-no-metrics`).
    pub fn is_recording() -> bool {
        INSTALLED.get().is_some()
    }

    /// The settings it was made with.
    pub fn settings(&self) -> Settings {
        self.sink().settings.clone()
    }

    fn sink(&self) -> MutexGuard<'_, Sink> {
        self.inner
            .sink
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Takes in what was recorded since the last collection, as of `now`.
    pub fn collect(&self, now: SystemTime) {
        let seconds = unix_seconds(now);
        self.sink().collect(&self.inner.registry, seconds);
    }

    /// `GET /v1/agent/metrics`: the latest finished interval (collected first), as
    /// compact JSON or, with `pretty`, indented.
    pub fn summary_json(&self, now: SystemTime, pretty: bool) -> Result<String, TelemetryError> {
        let seconds = unix_seconds(now);
        let mut sink = self.sink();
        sink.collect(&self.inner.registry, seconds);
        let text = json::summary(
            sink.intervals
                .displayed()
                .ok_or(TelemetryError::NoIntervals)?,
        );
        Ok(if pretty { json::indent(&text) } else { text })
    }

    /// The start (seconds since the epoch) of the latest finished interval, as of the
    /// last collection; `None` before one has finished.
    pub fn latest_finished(&self) -> Option<u64> {
        self.sink().intervals.latest_finished()
    }

    /// `GET /v1/agent/metrics/stream`'s objects: the summaries of the intervals that
    /// finished (as of the last collection) after the one starting at `after` (all kept
    /// ones without it), oldest first, with their starts. Each is indented and ends in a
    /// newline, as Go's `json.Encoder` with `SetIndent("", "    ")` writes it.
    pub fn finished_summaries(&self, after: Option<u64>) -> Vec<(u64, String)> {
        let sink = self.sink();
        sink.intervals
            .finished_after(after)
            .map(|interval| {
                let mut text = json::indent(&json::summary(interval));
                text.push('\n');
                (interval.start, text)
            })
            .collect()
    }

    /// The start (seconds since the epoch) of the interval `now` falls in.
    pub fn interval_start(now: SystemTime) -> u64 {
        interval::start_of(unix_seconds(now))
    }

    /// `GET /v1/agent/metrics?format=prometheus` (collected first); `None` when the
    /// Prometheus output is off (`prometheus_retention_time` not positive).
    pub fn prometheus_text(&self, now: SystemTime) -> Option<String> {
        let seconds = unix_seconds(now);
        let mut sink = self.sink();
        if !sink.settings.prometheus_enabled() {
            return None;
        }
        sink.collect(&self.inner.registry, seconds);
        Some(prometheus::render(&sink, seconds))
    }
}

fn unix_seconds(now: SystemTime) -> u64 {
    now.duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs()
}

/// The facade's view of a [`Telemetry`]: registrations create (or find) its cells.
struct TelemetryRecorder(Arc<Inner>);

impl Recorder for TelemetryRecorder {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        let cell = self.0.registry.get_or_create_counter(key, Clone::clone);
        Counter::from_arc(Arc::new(cell))
    }

    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        let cell = self.0.registry.get_or_create_gauge(key, Clone::clone);
        Gauge::from_arc(Arc::new(cell))
    }

    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        let cell = self.0.registry.get_or_create_histogram(key, Clone::clone);
        Histogram::from_arc(Arc::new(cell))
    }
}

#[cfg(test)]
mod tests;
