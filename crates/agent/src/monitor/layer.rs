//! The `tracing` side of log streaming: a layer that turns each event into a
//! [`LogRecord`] for the [`Hub`], behind a per-layer filter of its own, so that what the
//! monitor sees does not depend on the level the agent prints at (a client at `trace`
//! gets trace lines from an agent printing `info`).
//!
//! The filter costs nothing while nobody follows the log: it disables every callsite and
//! hints `OFF`, so `tracing`'s global maximum stays the printed level and disabled events
//! are skipped before any call. When clients come and go the hub rebuilds the callsites'
//! cached interest; then the filter enables what the most verbose client wants: our own
//! crates at any level, other crates (openraft included) from `warn` up.

use std::sync::Arc;

use tracing::field::{Field, Visit};
use tracing::subscriber::Interest;
use tracing::{Event, Metadata, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::filter::{Filtered, LevelFilter};
use tracing_subscriber::layer::{Context, Filter};
use tracing_subscriber::registry::LookupSpan;

use super::hub::{Hub, LogHub};
use super::line::{FieldValue, LogLevel, LogRecord, is_own_target, module_name};

impl LogHub {
    /// The layer that feeds this hub, with its own filter; add it to the process's
    /// subscriber beside the one that prints.
    pub fn layer<S>(&self) -> Filtered<MonitorLayer, MonitorFilter, S>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        MonitorLayer { hub: self.hub() }.with_filter(MonitorFilter { hub: self.hub() })
    }
}

/// Formats the events its filter lets through and hands them to the hub.
pub struct MonitorLayer {
    hub: Arc<Hub>,
}

/// Lets through the events some client follows (see the module documentation).
pub struct MonitorFilter {
    hub: Arc<Hub>,
}

impl MonitorFilter {
    fn wants(&self, metadata: &Metadata<'_>) -> bool {
        let level = LogLevel::from_tracing(metadata.level());
        metadata.is_event()
            && self.hub.followed(level)
            && (level >= LogLevel::Warn || is_own_target(metadata.target()))
    }
}

impl<S> Filter<S> for MonitorFilter {
    fn enabled(&self, metadata: &Metadata<'_>, _: &Context<'_, S>) -> bool {
        self.wants(metadata)
    }

    fn callsite_enabled(&self, metadata: &'static Metadata<'static>) -> Interest {
        // Exact, not "sometimes": the hub rebuilds every callsite's interest whenever
        // the answer could change.
        if self.wants(metadata) {
            Interest::always()
        } else {
            Interest::never()
        }
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(
            self.hub
                .most_verbose()
                .map_or(LevelFilter::OFF, LogLevel::as_filter),
        )
    }
}

impl<S: Subscriber> Layer<S> for MonitorLayer {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let metadata = event.metadata();
        let level = LogLevel::from_tracing(metadata.level());
        // The last client may have left since the filter said yes.
        if !self.hub.followed(level) {
            return;
        }
        self.hub.publish(&record_of(event));
    }
}

/// An event as a [`LogRecord`], stamped now: its message, its other fields in order, and
/// the module its target is shown under. The agent's own output
/// ([`crate::logging`]) writes the same records.
pub fn record_of(event: &Event<'_>) -> LogRecord {
    let metadata = event.metadata();
    let unix_nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_nanos() as i128);
    let mut fields = Fields::default();
    event.record(&mut fields);
    let target = fields.log_target.as_deref().unwrap_or(metadata.target());
    LogRecord {
        unix_nanos,
        level: LogLevel::from_tracing(metadata.level()),
        module: module_name(target),
        message: fields.message.unwrap_or_default(),
        fields: fields.others,
    }
}

/// An event's fields: its message, the others in order, and, for a record of the `log`
/// crate, its real target (the `log.*` fields are not shown).
#[derive(Default)]
struct Fields {
    message: Option<String>,
    others: Vec<(String, FieldValue)>,
    log_target: Option<String>,
}

impl Fields {
    fn add(&mut self, field: &Field, value: FieldValue) {
        match (field.name(), value) {
            // The format string comes first; a field also named `message` (as in
            // `debug!(message = %text, "request refused")`) is kept as a field.
            ("message", FieldValue::Str(text)) if self.message.is_none() => {
                self.message = Some(text);
            }
            ("log.target", FieldValue::Str(text)) => self.log_target = Some(text),
            (name, _) if name.starts_with("log.") => {}
            (name, value) => self.others.push((name.to_string(), value)),
        }
    }
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.add(field, FieldValue::Str(format!("{value:?}")));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.add(field, FieldValue::Str(value.to_string()));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.add(field, FieldValue::I64(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.add(field, FieldValue::U64(value));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.add(field, FieldValue::F64(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.add(field, FieldValue::Bool(value));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.add(field, FieldValue::Str(value.to_string()));
    }
}

#[cfg(test)]
mod tests {
    use tracing_subscriber::prelude::*;

    use super::super::line::LineFormat;
    use super::*;

    /// A subscriber that prints nothing and feeds `hub`, for this thread only.
    fn with_hub<T>(hub: &LogHub, body: impl FnOnce() -> T) -> T {
        let subscriber = tracing_subscriber::registry().with(hub.layer());
        tracing::subscriber::with_default(subscriber, body)
    }

    #[tokio::test]
    async fn events_reach_clients_at_their_level_with_their_fields() {
        let hub = LogHub::default();
        let mut trace = hub.subscribe(LogLevel::Trace, LineFormat::Json);
        let mut info = hub.subscribe(LogLevel::Info, LineFormat::Text);
        with_hub(&hub, || {
            tracing::trace!(
                service = "redis",
                port = 6379_u64,
                ok = true,
                "Synced service"
            );
            tracing::info!(address = %"10.0.0.1:8300", "joined");
            // Other crates' debug and info lines are not streamed; their warnings are.
            tracing::debug!(target: "hyper::proto", "flushed 10 bytes");
            tracing::info!(target: "openraft::core", "tick");
            tracing::warn!(target: "hyper::proto", "connection error");
            tracing::error!(message = "a field", "last");
        });
        let mut json = Vec::new();
        for _ in 0..4 {
            let line = trace.next().await.unwrap();
            json.push(serde_json::from_slice::<serde_json::Value>(&line).unwrap());
        }
        assert_eq!(json[0]["@level"], "trace");
        assert_eq!(json[0]["@message"], "Synced service");
        assert_eq!(json[0]["@module"], "agent.monitor");
        assert_eq!(json[0]["service"], "redis");
        assert_eq!(json[0]["port"], 6379);
        assert_eq!(json[0]["ok"], true);
        let messages: Vec<&str> = json
            .iter()
            .map(|j| j["@message"].as_str().unwrap())
            .collect();
        assert_eq!(
            messages,
            ["Synced service", "joined", "connection error", "last"]
        );
        let mut text = Vec::new();
        for _ in 0..3 {
            let line = info.next().await.unwrap();
            text.push(String::from_utf8(line.to_vec()).unwrap());
        }
        assert!(
            text[0].ends_with("[INFO]  agent.monitor: joined: address=10.0.0.1:8300\n"),
            "{text:?}"
        );
        assert!(
            text[1].ends_with("[WARN]  hyper: connection error\n"),
            "{text:?}"
        );
        assert!(
            text[2].ends_with("[ERROR] agent.monitor: last: message=\"a field\"\n"),
            "{text:?}"
        );
    }

    #[test]
    fn nobody_following_disables_everything() {
        let hub = LogHub::default();
        let filter = MonitorFilter { hub: hub.hub() };
        assert_eq!(
            <MonitorFilter as Filter<tracing_subscriber::Registry>>::max_level_hint(&filter),
            Some(LevelFilter::OFF)
        );
        let _client = hub.subscribe(LogLevel::Debug, LineFormat::Text);
        assert_eq!(
            <MonitorFilter as Filter<tracing_subscriber::Registry>>::max_level_hint(&filter),
            Some(LevelFilter::DEBUG)
        );
    }
}
