//! What `telemetry { ... }` asks of the metrics (the keys Proconsul reads).

use std::time::Duration;

/// `metrics_prefix`, `disable_hostname` (as the host name to insert, or none) and
/// `prometheus_retention_time`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The first part of every name (`consul`); empty: none.
    pub prefix: String,
    /// Inserted after the prefix in gauge names (`consul.<host>.runtime...`), as
    /// go-metrics does unless `disable_hostname` is true.
    pub hostname: Option<String>,
    /// How long a series not updated stays in the Prometheus output; zero turns the
    /// Prometheus output off.
    pub prometheus_retention: Duration,
}

impl Settings {
    /// Whether `?format=prometheus` is answered.
    pub fn prometheus_enabled(&self) -> bool {
        !self.prometheus_retention.is_zero()
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            prefix: "consul".to_string(),
            hostname: None,
            prometheus_retention: Duration::ZERO,
        }
    }
}
