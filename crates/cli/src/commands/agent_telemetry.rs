//! `telemetry { ... }` as the agent applies it: Consul's defaults for what the files
//! leave unset, and the hidden `-no-metrics` flag (benchmarks' "metrics off": no
//! recorder is installed, so instrumented code records nothing).

use proconsul_agent::telemetry::TelemetryConfig;
use proconsul_config::FileConfig;

/// The agent's telemetry settings from the files, with metrics off when `no_metrics`.
pub fn telemetry_config(files: &FileConfig, no_metrics: bool) -> TelemetryConfig {
    let defaults = TelemetryConfig::default();
    let telemetry = &files.telemetry;
    TelemetryConfig {
        metrics_prefix: telemetry
            .metrics_prefix
            .clone()
            .unwrap_or(defaults.metrics_prefix),
        disable_hostname: telemetry
            .disable_hostname
            .unwrap_or(defaults.disable_hostname),
        prometheus_retention: telemetry
            .prometheus_retention_time
            .map_or(defaults.prometheus_retention, |retention| retention.0),
        enabled: !no_metrics,
    }
}
