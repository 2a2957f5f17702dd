//! The recorder, the collector and both renderings together, against exact texts.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::*;

fn at(seconds: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(seconds)
}

fn prometheus_on() -> Settings {
    Settings {
        prometheus_retention: Duration::from_secs(60),
        ..Settings::default()
    }
}

/// Records through the facade into `telemetry` without installing it globally.
fn record(telemetry: &Telemetry, body: impl FnOnce()) {
    let recorder = TelemetryRecorder(telemetry.inner.clone());
    metrics::with_local_recorder(&recorder, body);
}

#[test]
fn a_read_creates_the_current_interval() {
    let telemetry = Telemetry::detached(Settings::default());
    // A read creates the current interval, as go-metrics' Data() does.
    let first = telemetry.summary_json(at(1_000_000_005), false).unwrap();
    assert!(
        first.starts_with(r#"{"Timestamp":"2001-09-09 01:46:40 +0000 UTC","Gauges":[]"#),
        "{first}"
    );
}

#[test]
fn json_shows_the_last_finished_interval() {
    let telemetry = Telemetry::detached(Settings::default());
    record(&telemetry, || {
        let apply = metrics::counter!("raft.apply");
        apply.increment(1);
        apply.increment(1);
        metrics::gauge!("runtime.alloc_bytes").set(4_704_344.0);
        let http = metrics::histogram!("api.http", "method" => "GET", "path" => "v1_kv_");
        http.record(2.0);
        http.record(4.0);
    });
    telemetry.collect(at(1_000_000_003));
    // In the next interval: the one above is the last finished one.
    let text = telemetry.summary_json(at(1_000_000_012), false).unwrap();
    assert_eq!(
        text,
        concat!(
            r#"{"Timestamp":"2001-09-09 01:46:40 +0000 UTC","#,
            r#""Gauges":[{"Name":"consul.runtime.alloc_bytes","Value":4704344,"Labels":{}}],"#,
            r#""PrecisionGauges":[],"Points":[],"#,
            r#""Counters":[{"Name":"consul.raft.apply","Count":2,"Rate":0.2,"Sum":2,"Min":1,"Max":1,"Mean":1,"Stddev":0,"Labels":{}}],"#,
            r#""Samples":[{"Name":"consul.api.http","Count":2,"Rate":0.6,"Sum":6,"Min":2,"Max":4,"Mean":3,"Stddev":1.4142135623730951,"Labels":{"method":"GET","path":"v1_kv_"}}]}"#
        )
    );
}

#[test]
fn gauges_carry_the_host_name_unless_disabled() {
    let telemetry = Telemetry::detached(Settings {
        hostname: Some("node-1".to_string()),
        ..Settings::default()
    });
    record(&telemetry, || {
        metrics::gauge!("runtime.alloc_bytes").set(1.0);
        metrics::counter!("raft.apply").increment(1);
    });
    let text = telemetry.summary_json(at(1_000_000_001), false).unwrap();
    assert!(
        text.contains(r#""Name":"consul.node-1.runtime.alloc_bytes""#),
        "{text}"
    );
    assert!(text.contains(r#""Name":"consul.raft.apply""#), "{text}");
}

#[test]
fn prometheus_text_is_client_golang_s() {
    let telemetry = Telemetry::detached(prometheus_on());
    record(&telemetry, || {
        metrics::counter!("raft.apply").increment(1);
        metrics::counter!("raft.state.follower").increment(1);
        metrics::gauge!("rpc.queries_blocking").set(3.0);
        let commit = metrics::histogram!("raft.commitTime");
        for value in 1..=100 {
            commit.record(f64::from(value));
        }
        metrics::histogram!("api.http", "path" => "v1_kv_", "method" => "PUT").record(1.5);
        metrics::histogram!("api.http", "method" => "GET", "path" => "v1_agent_metrics")
            .record(0.25);
    });
    let text = telemetry.prometheus_text(at(1_000_000_001)).unwrap();
    let family = |name: &str| -> String {
        let start = text
            .find(&format!("# HELP {name} "))
            .unwrap_or_else(|| panic!("{name} in {text}"));
        let rest = &text[start..];
        let end = rest[1..].find("# HELP ").map_or(rest.len(), |at| at + 1);
        rest[..end].to_string()
    };
    assert_eq!(
        family("consul_raft_apply"),
        "# HELP consul_raft_apply This counts the number of Raft transactions occurring over the interval.\n\
         # TYPE consul_raft_apply counter\n\
         consul_raft_apply 1\n"
    );
    assert_eq!(
        family("consul_raft_state_follower"),
        "# HELP consul_raft_state_follower consul_raft_state_follower\n\
         # TYPE consul_raft_state_follower counter\n\
         consul_raft_state_follower 1\n"
    );
    assert_eq!(
        family("consul_rpc_queries_blocking"),
        "# HELP consul_rpc_queries_blocking Shows the current number of in-flight blocking queries the server is handling.\n\
         # TYPE consul_rpc_queries_blocking gauge\n\
         consul_rpc_queries_blocking 3\n"
    );
    let commit = family("consul_raft_commitTime");
    assert!(commit.starts_with(
        "# HELP consul_raft_commitTime This measures the time it takes to commit a new entry to the Raft log on the leader.\n\
         # TYPE consul_raft_commitTime summary\n\
         consul_raft_commitTime{quantile=\"0.5\"} "
    ), "{commit}");
    assert!(
        commit.ends_with("consul_raft_commitTime_sum 5050\nconsul_raft_commitTime_count 100\n"),
        "{commit}"
    );
    // The declared, unlabelled series first, then by label values in label-name order.
    assert_eq!(
        family("consul_api_http"),
        "# HELP consul_api_http Samples how long it takes to service the given HTTP request for the given verb and path.\n\
         # TYPE consul_api_http summary\n\
         consul_api_http{quantile=\"0.5\"} NaN\n\
         consul_api_http{quantile=\"0.9\"} NaN\n\
         consul_api_http{quantile=\"0.99\"} NaN\n\
         consul_api_http_sum 0\n\
         consul_api_http_count 0\n\
         consul_api_http{method=\"GET\",path=\"v1_agent_metrics\",quantile=\"0.5\"} 0.25\n\
         consul_api_http{method=\"GET\",path=\"v1_agent_metrics\",quantile=\"0.9\"} 0.25\n\
         consul_api_http{method=\"GET\",path=\"v1_agent_metrics\",quantile=\"0.99\"} 0.25\n\
         consul_api_http_sum{method=\"GET\",path=\"v1_agent_metrics\"} 0.25\n\
         consul_api_http_count{method=\"GET\",path=\"v1_agent_metrics\"} 1\n\
         consul_api_http{method=\"PUT\",path=\"v1_kv_\",quantile=\"0.5\"} 1.5\n\
         consul_api_http{method=\"PUT\",path=\"v1_kv_\",quantile=\"0.9\"} 1.5\n\
         consul_api_http{method=\"PUT\",path=\"v1_kv_\",quantile=\"0.99\"} 1.5\n\
         consul_api_http_sum{method=\"PUT\",path=\"v1_kv_\"} 1.5\n\
         consul_api_http_count{method=\"PUT\",path=\"v1_kv_\"} 1\n"
    );
    // Declared metrics nothing updated are listed at zero.
    assert!(
        text.contains("# TYPE consul_kvs_apply summary\nconsul_kvs_apply{quantile=\"0.5\"} NaN\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "# TYPE consul_catalog_service_query counter\nconsul_catalog_service_query 0\n"
        ),
        "{text}"
    );
    // Families are sorted by name.
    let names: Vec<&str> = text
        .lines()
        .filter_map(|line| line.strip_prefix("# TYPE "))
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
}

#[test]
fn quantiles_go_stale_and_idle_series_expire() {
    let telemetry = Telemetry::detached(prometheus_on());
    record(&telemetry, || {
        metrics::histogram!("raft.commitTime").record(2.0);
        metrics::counter!("raft.state.follower").increment(1);
    });
    telemetry.collect(at(1_000_000_000));
    let later = telemetry.prometheus_text(at(1_000_000_030)).unwrap();
    assert!(
        later.contains("consul_raft_commitTime{quantile=\"0.5\"} NaN\n"),
        "{later}"
    );
    assert!(
        later.contains("consul_raft_commitTime_count 1\n"),
        "{later}"
    );
    assert!(later.contains("consul_raft_state_follower 1\n"), "{later}");
    // Past the retention the undeclared series goes; the declared one stays.
    let gone = telemetry.prometheus_text(at(1_000_000_100)).unwrap();
    assert!(!gone.contains("consul_raft_state_follower"), "{gone}");
    assert!(gone.contains("consul_raft_commitTime_count 1\n"), "{gone}");
}

#[test]
fn prometheus_is_off_without_a_retention() {
    let telemetry = Telemetry::detached(Settings::default());
    assert!(telemetry.prometheus_text(at(1_000_000_000)).is_none());
}

#[test]
fn finished_intervals_stream_as_indented_objects() {
    let telemetry = Telemetry::detached(Settings::default());
    record(&telemetry, || metrics::counter!("raft.apply").increment(1));
    telemetry.collect(at(1_000_000_003));
    assert_eq!(telemetry.latest_finished(), None);
    assert!(telemetry.finished_summaries(None).is_empty());
    telemetry.collect(at(1_000_000_011));
    telemetry.collect(at(1_000_000_021));
    assert_eq!(telemetry.latest_finished(), Some(1_000_000_010));
    let summaries = telemetry.finished_summaries(None);
    let starts: Vec<u64> = summaries.iter().map(|(start, _)| *start).collect();
    assert_eq!(starts, [1_000_000_000, 1_000_000_010]);
    let (_, first) = &summaries[0];
    assert!(
        first.starts_with(
            "{\n    \"Timestamp\": \"2001-09-09 01:46:40 +0000 UTC\",\n    \"Gauges\": [],"
        ),
        "{first}"
    );
    assert!(
        first.contains("\"Name\": \"consul.raft.apply\",\n            \"Count\": 1,"),
        "{first}"
    );
    assert!(first.ends_with("}\n"), "{first}");
    assert_eq!(
        telemetry.finished_summaries(Some(1_000_000_000)).len(),
        1,
        "only what finished after the one given"
    );
    assert_eq!(Telemetry::interval_start(at(1_000_000_019)), 1_000_000_010);
}
