//! `/v1/agent/metrics` on a real agent: after KV writes, catalog registrations, health
//! and catalog queries, a transaction, sessions and DNS queries, the JSON summary (the
//! last finished 10-second interval, in go-metrics' shape) and the Prometheus text
//! (parsed with the prometheus-parse crate) carry Consul's names with the right kinds:
//! those Grafana dashboard 13396 queries among them.

use std::time::{Duration, Instant};

use proconsul_tests::dig::dig;
use proconsul_tests::{TestAgent, call, get, put};
use prometheus_parse::{Scrape, Value as Sample};
use serde_json::{Value, json};

/// Starts a dev agent with `telemetry` (JSON) in a configuration file.
fn agent_with(telemetry: Value) -> (TestAgent, proconsul_tests::TempDir) {
    let dir = proconsul_tests::TempDir::new("metrics-config");
    let config = json!({ "telemetry": telemetry }).to_string();
    let file = proconsul_tests::write_file(dir.path(), "telemetry.json", &config);
    (TestAgent::start_with(&["-config-file", &file]), dir)
}

/// Writes and reads of every instrumented kind.
async fn exercise(agent: &TestAgent) {
    for i in 0..3 {
        assert_eq!(
            put(&agent.url(&format!("/v1/kv/app/k{i}")), "v")
                .await
                .status,
            200
        );
    }
    for i in 0..2 {
        let registration = json!({
            "Node": format!("web-node-{i}"), "Address": format!("10.0.0.{i}"),
            "Service": {"ID": format!("web-{i}"), "Service": "web", "Tags": ["v1"], "Port": 80}
        });
        let answer = put(&agent.url("/v1/catalog/register"), registration.to_string()).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
    }
    let deregister = json!({"Node": "web-node-1", "ServiceID": "web-1"});
    assert_eq!(
        put(&agent.url("/v1/catalog/deregister"), deregister.to_string())
            .await
            .status,
        200
    );
    assert_eq!(get(&agent.url("/v1/health/service/web")).await.status, 200);
    assert_eq!(
        get(&agent.url("/v1/health/service/nothing-here"))
            .await
            .status,
        200
    );
    assert_eq!(
        get(&agent.url("/v1/catalog/service/web?tag=v1"))
            .await
            .status,
        200
    );
    // A method the route does not serve: 405, and timed as Consul times it.
    assert_eq!(
        call("POST", &agent.url("/v1/health/service/web"), None)
            .await
            .status,
        405
    );
    let txn = json!([{"KV": {"Verb": "set", "Key": "app/t", "Value": "dg=="}}]);
    assert_eq!(
        put(&agent.url("/v1/txn"), txn.to_string()).await.status,
        200
    );
    let read = json!([{"KV": {"Verb": "get", "Key": "app/t"}}]);
    assert_eq!(
        put(&agent.url("/v1/txn"), read.to_string()).await.status,
        200
    );
    let session = put(&agent.url("/v1/session/create"), r#"{"TTL": "30s"}"#)
        .await
        .json();
    let id = session["ID"].as_str().unwrap();
    assert_eq!(
        put(&agent.url(&format!("/v1/session/renew/{id}")), "")
            .await
            .status,
        200
    );
    assert_eq!(
        put(&agent.url(&format!("/v1/session/destroy/{id}")), "")
            .await
            .status,
        200
    );
    let answer = dig(agent.dns_port, &["web.service.consul", "SRV"]);
    assert_eq!(answer.status, "NOERROR", "{}", answer.raw);
    let reverse = dig(agent.dns_port, &["-x", "127.0.0.1"]);
    assert_eq!(reverse.status, "NOERROR", "{}", reverse.raw);
}

/// Polls the JSON summary until `ready` holds for it (the interval holding the work
/// above must finish first: up to 10 s, plus the collector's second).
async fn summary_when(agent: &TestAgent, ready: impl Fn(&Value) -> bool) -> (Value, String) {
    match poll_summary(agent, &ready, Duration::from_secs(30)).await {
        Ok(found) => found,
        Err(summary) => panic!("never ready: {summary:#}"),
    }
}

/// Runs [`exercise`] and polls the summary until `ready` holds for it. On a loaded
/// machine the work can straddle two 10 s intervals, and then no interval holds all of
/// it: the work is done again (the same keys and names), up to three times. Also
/// answers how many times the work was done, which cumulative views (Prometheus) count.
async fn exercised_summary(
    agent: &TestAgent,
    ready: impl Fn(&Value) -> bool,
) -> (Value, String, u32) {
    let mut last = Value::Null;
    for rounds in 1..=3 {
        exercise(agent).await;
        match poll_summary(agent, &ready, Duration::from_secs(25)).await {
            Ok((summary, text)) => return (summary, text, rounds),
            Err(summary) => last = summary,
        }
    }
    panic!("never ready: {last:#}")
}

/// The summary (and its text) once `ready` holds, or the last one seen after `within`.
async fn poll_summary(
    agent: &TestAgent,
    ready: &impl Fn(&Value) -> bool,
    within: Duration,
) -> Result<(Value, String), Value> {
    let deadline = Instant::now() + within;
    loop {
        let answer = get(&agent.url("/v1/agent/metrics")).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert_eq!(
            answer.headers.get("content-type").unwrap(),
            "application/json"
        );
        let summary = answer.json();
        if ready(&summary) {
            return Ok((summary, answer.body));
        }
        if Instant::now() >= deadline {
            return Err(summary);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// go-metrics' `MetricsSummary` in `text` has its fields in Go's order.
fn assert_fields_in_go_order(text: &str) {
    let order: Vec<usize> = [
        "\"Timestamp\"",
        "\"Gauges\"",
        "\"PrecisionGauges\"",
        "\"Points\"",
        "\"Counters\"",
        "\"Samples\"",
    ]
    .iter()
    .map(|key| text.find(key).unwrap_or_else(|| panic!("{key} in {text}")))
    .collect();
    assert!(order.is_sorted(), "{text}");
}

/// The entries of `list` ("Gauges", "Counters", "Samples") named `name`.
fn named<'a>(summary: &'a Value, list: &str, name: &str) -> Vec<&'a Value> {
    summary[list]
        .as_array()
        .unwrap_or_else(|| panic!("no {list} in {summary}"))
        .iter()
        .filter(|entry| entry["Name"] == name)
        .collect()
}

/// The one sample of `scrape` named `metric` whose labels include `labels`.
fn sample<'a>(scrape: &'a Scrape, metric: &str, labels: &[(&str, &str)]) -> Option<&'a Sample> {
    scrape
        .samples
        .iter()
        .find(|found| {
            found.metric == metric
                && labels
                    .iter()
                    .all(|(key, value)| found.labels.get(key) == Some(*value))
        })
        .map(|found| &found.value)
}

#[tokio::test]
async fn json_summary_and_prometheus_text_carry_consul_s_metrics() {
    let (agent, _dir) = agent_with(json!({
        "prometheus_retention_time": "60s",
        "disable_hostname": true
    }));
    let (summary, raw, rounds) = exercised_summary(&agent, |summary| {
        let nodes = named(summary, "Gauges", "consul.state.nodes");
        let kv_entries = named(summary, "Gauges", "consul.state.kv_entries");
        // All of one exercise's work in this interval: its three KV writes and, last,
        // its reverse lookup; and gauges sampled after its writes (the interval can
        // end within a second of the transaction's write, before the next sample).
        named(summary, "Samples", "consul.kvs.apply")
            .first()
            .is_some_and(|kvs| kvs["Count"] == 3)
            && !named(summary, "Samples", "consul.dns.ptr_query").is_empty()
            && nodes.first().and_then(|gauge| gauge["Value"].as_f64()) >= Some(3.0)
            && kv_entries.first().is_some_and(|gauge| gauge["Value"] == 4)
    })
    .await;
    assert_fields_in_go_order(&raw);
    let timestamp = summary["Timestamp"].as_str().unwrap();
    assert!(
        timestamp.ends_with(":00 +0000 UTC") || timestamp.ends_with("0 +0000 UTC"),
        "{timestamp}"
    );
    assert_eq!(timestamp.len(), "2024-05-01 10:00:00 +0000 UTC".len());

    // Gauges: a name, a value and labels; the host name left out.
    let alloc = named(&summary, "Gauges", "consul.runtime.alloc_bytes");
    assert_eq!(alloc.len(), 1, "{summary:#}");
    assert!(alloc[0]["Value"].as_f64().unwrap() > 1e6);
    assert_eq!(alloc[0]["Labels"], json!({}));
    let nodes = named(&summary, "Gauges", "consul.state.nodes")[0]["Value"]
        .as_f64()
        .unwrap();
    assert!(nodes >= 3.0, "the agent's node and two more: {nodes}");
    assert_eq!(
        named(&summary, "Gauges", "consul.state.kv_entries")[0]["Value"],
        4
    );
    // The lone server leads: its cluster is healthy and can lose no voter.
    let healthy = named(&summary, "Gauges", "consul.autopilot.healthy");
    assert_eq!(healthy[0]["Value"], 1, "{summary:#}");
    let tolerance = named(&summary, "Gauges", "consul.autopilot.failure_tolerance");
    assert_eq!(tolerance[0]["Value"], 0, "{summary:#}");
    let version = named(&summary, "Gauges", "consul.version");
    assert_eq!(version[0]["Labels"]["version"], "1.22.0", "{summary:#}");
    for name in [
        "consul.raft.applied_index",
        "consul.raft.last_index",
        "consul.members.servers",
        "consul.runtime.num_goroutines",
        "consul.session_ttl.active",
        "consul.state.services",
        "consul.state.service_instances",
    ] {
        assert_eq!(
            named(&summary, "Gauges", name).len(),
            1,
            "{name}: {summary:#}"
        );
    }

    // Counters and samples share go-metrics' SampledValue.
    let fields = [
        "Name", "Count", "Rate", "Sum", "Min", "Max", "Mean", "Stddev", "Labels",
    ];
    for list in ["Counters", "Samples"] {
        for entry in summary[list].as_array().unwrap() {
            let keys: Vec<&String> = entry.as_object().unwrap().keys().collect();
            let mut expected: Vec<&str> = fields.to_vec();
            expected.sort_unstable();
            assert_eq!(keys, expected, "{entry}");
        }
    }
    let applies = named(&summary, "Counters", "consul.raft.apply");
    assert!(applies[0]["Count"].as_u64().unwrap() >= 1, "{summary:#}");
    // The health and catalog reads above, each one query.
    let reads = named(&summary, "Counters", "consul.rpc.query");
    assert!(reads[0]["Count"].as_u64().unwrap() >= 3, "{summary:#}");
    let queries = named(&summary, "Counters", "consul.catalog.service.query");
    assert!(
        queries
            .iter()
            .any(|q| q["Labels"] == json!({"service": "web"})),
        "{summary:#}"
    );
    let tagged = named(&summary, "Counters", "consul.catalog.service.query-tags");
    assert!(
        tagged
            .iter()
            .any(|q| q["Labels"] == json!({"service": "web", "tag": "v1"})),
        "{summary:#}"
    );
    let missing = named(&summary, "Counters", "consul.health.service.not-found");
    assert!(
        missing
            .iter()
            .any(|q| q["Labels"] == json!({"service": "nothing-here"})),
        "{summary:#}"
    );
    let http = named(&summary, "Samples", "consul.api.http");
    for (method, path) in [
        ("PUT", "v1_kv_"),
        ("PUT", "v1_catalog_register"),
        ("GET", "v1_health_service_"),
        ("POST", "v1_health_service_"),
        ("PUT", "v1_session_renew_"),
    ] {
        assert!(
            http.iter()
                .any(|s| s["Labels"] == json!({"method": method, "path": path})),
            "{method} {path}: {http:?}"
        );
    }
    let kvs = named(&summary, "Samples", "consul.kvs.apply");
    let kvs = kvs[0];
    assert_eq!(kvs["Count"], 3, "{kvs}");
    let (min, mean, max) = (
        kvs["Min"].as_f64().unwrap(),
        kvs["Mean"].as_f64().unwrap(),
        kvs["Max"].as_f64().unwrap(),
    );
    assert!(
        0.0 < min && min <= mean && mean <= max && max < 5000.0,
        "{kvs}"
    );
    let rate = kvs["Rate"].as_f64().unwrap();
    assert!(
        (rate - kvs["Sum"].as_f64().unwrap() / 10.0).abs() < 1e-9,
        "{kvs}"
    );
    for name in [
        "consul.catalog.register",
        "consul.catalog.deregister",
        "consul.txn.apply",
        "consul.txn.read",
        "consul.session.apply",
        "consul.session.renew",
        "consul.raft.commitTime",
        "consul.raft.fsm.apply",
        "consul.raft.leader.dispatchLog",
        "consul.fsm.register",
        "consul.fsm.kvs",
        "consul.dns.domain_query",
        "consul.dns.ptr_query",
    ] {
        assert!(
            !named(&summary, "Samples", name).is_empty(),
            "{name}: {summary:#}"
        );
    }
    let dns = named(&summary, "Samples", "consul.dns.domain_query");
    assert_eq!(dns[0]["Labels"], json!({"node": agent.node_name}));

    // Prometheus, as a scraper asks for it (and as ?format=prometheus).
    let scraper_accept = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
    let scraped = reqwest::Client::new()
        .get(agent.url("/v1/agent/metrics"))
        .header("Accept", scraper_accept)
        .send()
        .await
        .unwrap();
    assert_eq!(
        scraped.headers().get("content-type").unwrap(),
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let answer = get(&agent.url("/v1/agent/metrics?format=prometheus")).await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.headers.get("content-type").unwrap(),
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = answer.body;
    let scrape = Scrape::parse(text.lines().map(|line| Ok(line.to_string()))).unwrap();
    // Counters keep their names: no `_total` added.
    assert!(
        scrape
            .samples
            .iter()
            .all(|found| !found.metric.ends_with("_total")),
        "{text}"
    );
    // Timers are summaries; the names keep their case.
    for name in [
        "consul_raft_commitTime",
        "consul_raft_leader_lastContact",
        "consul_kvs_apply",
        "consul_txn_apply",
        "consul_catalog_register",
        "consul_catalog_deregister",
        "consul_dns_domain_query",
        "consul_dns_ptr_query",
    ] {
        assert!(
            matches!(sample(&scrape, name, &[]), Some(Sample::Summary(q)) if q.len() == 3),
            "{name} is not a summary with three quantiles:\n{text}"
        );
        assert!(text.contains(&format!("# TYPE {name} summary\n")), "{name}");
        assert!(
            sample(&scrape, &format!("{name}_count"), &[]).is_some(),
            "{name}_count"
        );
    }
    let Some(Sample::Summary(quantiles)) = sample(
        &scrape,
        "consul_api_http",
        &[("method", "PUT"), ("path", "v1_kv_")],
    ) else {
        panic!("consul_api_http{{method=PUT,path=v1_kv_}}:\n{text}");
    };
    let wanted: Vec<f64> = quantiles.iter().map(|q| q.quantile).collect();
    assert_eq!(wanted, [0.5, 0.9, 0.99]);
    for (name, at_least) in [
        ("consul_raft_apply", 1.0),
        ("consul_raft_state_leader", 1.0),
        ("consul_raft_state_candidate", 0.0),
    ] {
        match sample(&scrape, name, &[]) {
            Some(Sample::Counter(value)) => assert!(*value >= at_least, "{name} {value}"),
            other => panic!("{name} is not a counter: {other:?}\n{text}"),
        }
    }
    match sample(
        &scrape,
        "consul_catalog_service_query",
        &[("service", "web")],
    ) {
        Some(Sample::Counter(value)) => assert!(*value >= 1.0),
        other => panic!("{other:?}\n{text}"),
    }
    match sample(&scrape, "consul_state_nodes", &[]) {
        Some(Sample::Gauge(value)) => assert!(*value >= 3.0),
        other => panic!("consul_state_nodes: {other:?}\n{text}"),
    }
    // Prometheus keeps every interval within its retention: three writes per exercise.
    match sample(&scrape, "consul_kvs_apply_count", &[]) {
        Some(Sample::Untyped(count)) => assert_eq!(*count, 3.0 * f64::from(rounds)),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        scrape
            .docs
            .get("consul_raft_commitTime")
            .map(String::as_str),
        Some(
            "This measures the time it takes to commit a new entry to the Raft log on the leader."
        )
    );
    // Families sorted by name, each typed once.
    let types: Vec<&str> = text
        .lines()
        .filter_map(|line| line.strip_prefix("# TYPE "))
        .collect();
    assert!(types.is_sorted(), "families out of order");
}

#[tokio::test]
async fn prometheus_off_answers_empty_with_the_reason_and_names_follow_the_settings() {
    let (agent, _dir) = agent_with(json!({ "metrics_prefix": "pc" }));
    let answer = get(&agent.url("/v1/agent/metrics?format=prometheus")).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body, "");
    assert_eq!(
        answer.headers.get("x-consul-reason").unwrap(),
        "Prometheus is not enabled since its retention time is not positive"
    );
    // Without disable_hostname, gauges carry the host name (as Consul's, which always
    // runs a second sink beside the in-memory one); the prefix is the configured one.
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .to_string();
    let alloc = format!("pc.{hostname}.runtime.alloc_bytes");
    let (summary, _) = summary_when(&agent, |summary| {
        !named(summary, "Gauges", &alloc).is_empty()
    })
    .await;
    assert!(named(&summary, "Gauges", "consul.runtime.alloc_bytes").is_empty());
    let pretty = get(&agent.url("/v1/agent/metrics?pretty")).await;
    assert!(
        pretty.body.starts_with("{\n    \"Timestamp\": \""),
        "{}",
        pretty.body
    );
}

#[tokio::test]
async fn metrics_need_agent_read() {
    const MANAGEMENT: &str = "a1b2c3d4-0000-4000-8000-00000000beef";
    let dir = proconsul_tests::TempDir::new("metrics-acl");
    let config = json!({"acl": {"enabled": true, "default_policy": "deny",
                                "tokens": {"initial_management": MANAGEMENT}}});
    let file = proconsul_tests::write_file(dir.path(), "acl.json", &config.to_string());
    let agent = TestAgent::start_with(&["-config-file", &file]);
    let with = |token: &str| agent.url(&format!("/v1/agent/metrics?token={token}"));
    let deadline = Instant::now() + Duration::from_secs(10);
    while get(&with(MANAGEMENT)).await.status != 200 {
        assert!(
            Instant::now() < deadline,
            "the management token never worked"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let anonymous = get(&agent.url("/v1/agent/metrics")).await;
    assert_eq!(anonymous.status, 403, "{}", anonymous.body);
    let policy = call(
        "PUT",
        &agent.url(&format!("/v1/acl/policy?token={MANAGEMENT}")),
        Some(
            json!({"Name": "agent-read", "Rules": "agent_prefix \"\" { policy = \"read\" }"})
                .to_string()
                .into_bytes(),
        ),
    )
    .await
    .json();
    let token = call(
        "PUT",
        &agent.url(&format!("/v1/acl/token?token={MANAGEMENT}")),
        Some(
            json!({"Policies": [{"ID": policy["ID"]}]})
                .to_string()
                .into_bytes(),
        ),
    )
    .await
    .json();
    let secret = token["SecretID"].as_str().unwrap();
    let reader = get(&with(secret)).await;
    assert_eq!(reader.status, 200, "{}", reader.body);

    // The stream asks the same: refused before anything is streamed, else 200.
    let refused = get(&agent.url("/v1/agent/metrics/stream")).await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(
        refused.body.contains("lacks permission 'agent:read'"),
        "{}",
        refused.body
    );
    let stream = reqwest::Client::new()
        .get(agent.url(&format!("/v1/agent/metrics/stream?token={secret}")))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
}

/// Reads `/v1/agent/metrics/stream`'s objects one at a time, as a `json.Decoder` does.
struct SummaryStream {
    response: reqwest::Response,
    buffer: Vec<u8>,
}

impl SummaryStream {
    async fn open(url: &str) -> SummaryStream {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let response = reqwest::Client::new().get(url).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers().get("content-type").unwrap(),
            "text/plain; charset=utf-8"
        );
        SummaryStream {
            response,
            buffer: Vec::new(),
        }
    }

    /// The next object and its text (with what follows it up to the next object); `None`
    /// when the stream ends. Panics after `within`.
    async fn next(&mut self, within: Duration) -> Option<(Value, String)> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let mut objects =
                serde_json::Deserializer::from_slice(&self.buffer).into_iter::<Value>();
            if let Some(Ok(object)) = objects.next() {
                let mut end = objects.byte_offset();
                while self.buffer.get(end) == Some(&b'\n') {
                    end += 1;
                }
                let text = String::from_utf8(self.buffer.drain(..end).collect()).unwrap();
                return Some((object, text));
            }
            match tokio::time::timeout_at(deadline, self.response.chunk()).await {
                Err(_) => panic!(
                    "no object within {within:?}; read: {}",
                    String::from_utf8_lossy(&self.buffer)
                ),
                Ok(Ok(Some(chunk))) => self.buffer.extend_from_slice(&chunk),
                Ok(Ok(None)) | Ok(Err(_)) => return None,
            }
        }
    }
}

/// go-metrics' `Timestamp` (`2006-01-02 15:04:05 +0000 UTC`) as seconds of the day.
fn seconds_of_day(timestamp: &str) -> u64 {
    let clock = timestamp.split(' ').nth(1).unwrap();
    clock
        .split(':')
        .map(|part| part.parse::<u64>().unwrap())
        .fold(0, |seconds, part| seconds * 60 + part)
}

#[tokio::test]
async fn the_stream_sends_each_finished_interval_until_the_agent_stops() {
    let (mut agent, _dir) = agent_with(json!({ "disable_hostname": true }));
    let mut stream = SummaryStream::open(&agent.url("/v1/agent/metrics/stream")).await;
    // The current interval ends within 10 s; the collector hands it out within a second.
    let (first, first_text) = stream.next(Duration::from_secs(40)).await.unwrap();
    let (second, second_text) = stream.next(Duration::from_secs(40)).await.unwrap();
    for (summary, text) in [(&first, &first_text), (&second, &second_text)] {
        // json.Encoder with SetIndent("", "    "): indented, one newline after each.
        assert!(
            text.starts_with("{\n    \"Timestamp\": \"") && text.ends_with("\n}\n"),
            "{text}"
        );
        assert_fields_in_go_order(text);
        assert_eq!(
            named(summary, "Gauges", "consul.runtime.alloc_bytes").len(),
            1,
            "{summary:#}"
        );
        let timestamp = summary["Timestamp"].as_str().unwrap();
        assert!(timestamp.ends_with("0 +0000 UTC"), "{timestamp}");
    }
    // Successive intervals, each once.
    let (from, to) = (
        seconds_of_day(first["Timestamp"].as_str().unwrap()),
        seconds_of_day(second["Timestamp"].as_str().unwrap()),
    );
    assert_eq!((to + 86_400 - from) % 86_400, 10, "{first:#}\n{second:#}");
    // The stream's own request is timed as Consul labels it (once the handler answered).
    let (third, _) = stream.next(Duration::from_secs(40)).await.unwrap();
    assert!(
        [&first, &second, &third].iter().any(|summary| {
            named(summary, "Samples", "consul.api.http")
                .iter()
                .any(|sample| {
                    sample["Labels"] == json!({"method": "GET", "path": "v1_agent_metrics_stream"})
                })
        }),
        "{first:#}\n{second:#}\n{third:#}"
    );
    // An agent that stops ends the stream (and does not wait for the client).
    assert!(agent.terminate().success());
    let ended = tokio::time::timeout(Duration::from_secs(30), async {
        while stream.next(Duration::from_secs(30)).await.is_some() {}
    })
    .await;
    assert!(ended.is_ok(), "the stream outlived the agent");
}

#[tokio::test]
async fn acl_writes_and_token_resolution_are_timed() {
    const MANAGEMENT: &str = "a1b2c3d4-0000-4000-8000-00000000cafe";
    let dir = proconsul_tests::TempDir::new("metrics-acl-writes");
    let config = json!({
        "primary_datacenter": "dc1",
        "acl": {"enabled": true, "default_policy": "deny",
                "tokens": {"initial_management": MANAGEMENT}},
        "telemetry": {"prometheus_retention_time": "60s", "disable_hostname": true}
    });
    let file = proconsul_tests::write_file(dir.path(), "acl.json", &config.to_string());
    let agent = TestAgent::start_with(&["-config-file", &file]);
    let acl = |method: &'static str, path: String, body: Value| {
        let url = agent.url(&path);
        async move {
            proconsul_tests::call_with_token(
                method,
                &url,
                Some(MANAGEMENT),
                Some(body.to_string().into_bytes()),
            )
            .await
        }
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while acl("GET", "/v1/acl/tokens".into(), json!(null))
        .await
        .status
        != 200
    {
        assert!(
            Instant::now() < deadline,
            "the management token never worked"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let expected = [
        "consul.acl.ResolveToken",
        "consul.acl.policy.upsert",
        "consul.acl.policy.delete",
        "consul.acl.role.upsert",
        "consul.acl.role.delete",
        "consul.acl.token.upsert",
        "consul.acl.token.clone",
        "consul.acl.token.delete",
        "consul.acl.authmethod.upsert",
        "consul.acl.authmethod.delete",
        "consul.acl.bindingrule.upsert",
        "consul.acl.bindingrule.delete",
        "consul.acl.login",
        "consul.acl.logout",
    ];
    let mut last = Value::Null;
    let mut found = None;
    // The writes of one round land in one 10 s interval unless they straddle two; then
    // the round is done again (new names).
    for round in 0..3 {
        let ok = |answer: proconsul_tests::Answer| {
            assert_eq!(answer.status, 200, "{}", answer.body);
            answer.json()
        };
        let policy = ok(acl(
            "PUT",
            "/v1/acl/policy".into(),
            json!({"Name": format!("p{round}"), "Rules": "key_prefix \"\" { policy = \"read\" }"}),
        )
        .await);
        let policy_id = policy["ID"].as_str().unwrap().to_string();
        ok(acl(
            "PUT",
            format!("/v1/acl/policy/{policy_id}"),
            json!({"Name": format!("p{round}"), "Rules": "key_prefix \"\" { policy = \"write\" }"}),
        )
        .await);
        let role = ok(acl(
            "PUT",
            "/v1/acl/role".into(),
            json!({"Name": format!("r{round}"), "Policies": [{"ID": policy_id}]}),
        )
        .await);
        let token = ok(acl(
            "PUT",
            "/v1/acl/token".into(),
            json!({"Policies": [{"ID": policy_id}]}),
        )
        .await);
        let accessor = token["AccessorID"].as_str().unwrap().to_string();
        let secret = token["SecretID"].as_str().unwrap().to_string();
        // The new token resolves: a miss (first time at this ACL version), then hits.
        for _ in 0..3 {
            let read = proconsul_tests::call_with_token(
                "GET",
                &agent.url("/v1/kv/anything"),
                Some(&secret),
                None,
            )
            .await;
            assert_eq!(read.status, 404, "{}", read.body);
        }
        let cloned = ok(acl(
            "PUT",
            format!("/v1/acl/token/{accessor}/clone"),
            json!({"Description": "a clone"}),
        )
        .await);
        ok(acl(
            "DELETE",
            format!("/v1/acl/token/{}", cloned["AccessorID"].as_str().unwrap()),
            json!(null),
        )
        .await);
        let method = format!("m{round}");
        ok(acl(
            "PUT",
            "/v1/acl/auth-method".into(),
            json!({"Name": method, "Type": "jwt",
                   "Config": {"JWTValidationPubKeys": ["-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----"]}}),
        )
        .await);
        let rule = ok(acl(
            "PUT",
            "/v1/acl/binding-rule".into(),
            json!({"AuthMethod": method, "BindType": "service", "BindName": "bound"}),
        )
        .await);
        ok(acl(
            "DELETE",
            format!("/v1/acl/binding-rule/{}", rule["ID"].as_str().unwrap()),
            json!(null),
        )
        .await);
        ok(acl(
            "DELETE",
            format!("/v1/acl/auth-method/{method}"),
            json!(null),
        )
        .await);
        // Refused (no login through a JWT here; a token not made by a login), and timed.
        let login = acl(
            "POST",
            "/v1/acl/login".into(),
            json!({"AuthMethod": "nope", "BearerToken": "x"}),
        )
        .await;
        assert_eq!(login.status, 403, "{}", login.body);
        let logout = acl("POST", "/v1/acl/logout".into(), json!(null)).await;
        assert_eq!(logout.status, 403, "{}", logout.body);
        ok(acl(
            "DELETE",
            format!("/v1/acl/role/{}", role["ID"].as_str().unwrap()),
            json!(null),
        )
        .await);
        ok(acl("DELETE", format!("/v1/acl/token/{accessor}"), json!(null)).await);
        ok(acl("DELETE", format!("/v1/acl/policy/{policy_id}"), json!(null)).await);

        let ready = |summary: &Value| {
            expected
                .iter()
                .all(|name| !named(summary, "Samples", name).is_empty())
                && !named(summary, "Counters", "consul.acl.token.cache_hit").is_empty()
                && !named(summary, "Counters", "consul.acl.token.cache_miss").is_empty()
        };
        let url = agent.url(&format!("/v1/agent/metrics?token={MANAGEMENT}"));
        let deadline = Instant::now() + Duration::from_secs(25);
        loop {
            let summary = get(&url).await.json();
            if ready(&summary) {
                found = Some(summary);
                break;
            }
            last = summary;
            if Instant::now() >= deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        if found.is_some() {
            break;
        }
    }
    let summary = found.unwrap_or_else(|| panic!("never ready: {last:#}"));
    // Create and update share `upsert`, as Consul's TokenSet and PolicySet do.
    let upserts = named(&summary, "Samples", "consul.acl.policy.upsert");
    assert_eq!(upserts[0]["Count"], 2, "{summary:#}");
    let hits = named(&summary, "Counters", "consul.acl.token.cache_hit")[0]["Count"]
        .as_u64()
        .unwrap();
    assert!(hits >= 2, "{summary:#}");

    // Prometheus: the same names as summaries, with Consul's HELP.
    let text = get(&agent.url(&format!(
        "/v1/agent/metrics?format=prometheus&token={MANAGEMENT}"
    )))
    .await
    .body;
    for name in [
        "consul_acl_ResolveToken",
        "consul_acl_token_upsert",
        "consul_acl_login",
    ] {
        assert!(
            text.contains(&format!("# TYPE {name} summary\n")),
            "{name}:\n{text}"
        );
    }
    assert!(
        text.contains("# TYPE consul_acl_token_cache_hit counter\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "# HELP consul_acl_ResolveToken Measures the time it takes to resolve an ACL token.\n"
        ),
        "{text}"
    );
}
