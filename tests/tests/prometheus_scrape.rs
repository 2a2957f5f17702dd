//! A real Prometheus server (Debian's 2.42, unpacked by tests/prometheus/install.sh)
//! scrapes a 3-server cluster configured as Consul's docs say (`prometheus_retention_time`,
//! `disable_hostname`), and the queries of HashiCorp's "Consul Server Monitoring"
//! dashboard (Grafana 13396) are evaluated by Prometheus itself: each must return data,
//! and the metric types Prometheus recorded must be the ones the dashboard assumes.
//!
//! Not asserted: the dashboard's `consul_acl_apply` panel: the legacy ACL API it timed
//! was removed in Consul 1.11, so today's Consul does not emit it either. The
//! `consul_acl_ResolveToken` panels are answered from Consul's declared series (this
//! cluster has no ACLs); their values with ACLs are checked by tests/tests/metrics.rs.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use proconsul_tests::cluster::TestCluster;
use proconsul_tests::dig::dig;
use proconsul_tests::{TempDir, free_port, get, put, write_file};
use serde_json::{Value, json};

/// The dashboard's queries (its legacy `acl.apply` panel aside).
const DASHBOARD_QUERIES: &[&str] = &[
    "consul_raft_commitTime",
    "rate(consul_raft_apply[5m])",
    "consul_raft_leader_lastContact != 0",
    "rate(consul_raft_state_candidate[1m])",
    "rate(consul_raft_state_leader[1m])",
    "consul_autopilot_healthy",
    "rate(consul_dns_domain_query_count[5m])",
    "consul_dns_domain_query",
    "consul_dns_ptr_query",
    "rate(consul_kvs_apply_count[5m])",
    "consul_kvs_apply",
    "consul_txn_apply",
    "rate(consul_acl_ResolveToken_count[5m])",
    "consul_acl_ResolveToken",
    "rate(consul_catalog_register_count[5m])",
    "rate(consul_catalog_deregister_count[5m])",
    "consul_catalog_register",
    "consul_catalog_deregister",
];

/// The Prometheus binary: `PROCONSUL_PROMETHEUS_BIN`, else where install.sh puts it.
fn prometheus_binary() -> PathBuf {
    let path = std::env::var_os("PROCONSUL_PROMETHEUS_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../target/prometheus/usr/bin/prometheus")
        });
    assert!(
        path.exists(),
        "{} does not exist: run tests/prometheus/install.sh (scripts/test.sh does)",
        path.display()
    );
    path
}

/// The Prometheus server, killed when the test ends.
struct Prometheus {
    child: Child,
    port: u16,
    _dir: TempDir,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Prometheus {
    /// Scrapes `targets` (host:port of agents' HTTP APIs) every second.
    fn start(targets: &[String]) -> Prometheus {
        let dir = TempDir::new("prometheus");
        let config = json!({
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "scrape_configs": [{
                "job_name": "proconsul",
                "metrics_path": "/v1/agent/metrics",
                "params": {"format": ["prometheus"]},
                "static_configs": [{"targets": targets}],
            }],
        });
        // YAML is a superset of JSON.
        let config_file = write_file(dir.path(), "prometheus.yml", &config.to_string());
        let port = free_port();
        let log = std::fs::File::create(dir.path().join("prometheus.log")).unwrap();
        let child = Command::new(prometheus_binary())
            .arg(format!("--config.file={config_file}"))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("cannot start prometheus");
        Prometheus {
            child,
            port,
            _dir: dir,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self._dir.path().join("prometheus.log")).unwrap_or_default()
    }

    /// Evaluates `query` now; the result vector (empty on any failure).
    async fn query(&self, query: &str) -> Vec<Value> {
        let url = format!(
            "http://127.0.0.1:{}/api/v1/query?query={}",
            self.port,
            percent_encode(query)
        );
        let answer = get(&url).await;
        if answer.status != 200 {
            return Vec::new();
        }
        answer.json()["data"]["result"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// The metric type Prometheus recorded for `name` (`summary`, `counter`, `gauge`).
    async fn metric_type(&self, name: &str) -> String {
        let url = format!(
            "http://127.0.0.1:{}/api/v1/metadata?metric={name}",
            self.port
        );
        get(&url).await.json()["data"][name][0]["type"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-' | b'.' => {
                (byte as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_scrapes_what_the_consul_dashboard_queries() {
    let dir = TempDir::new("prometheus-agents");
    let telemetry =
        json!({"telemetry": {"prometheus_retention_time": "60s", "disable_hostname": true}});
    let file = write_file(dir.path(), "telemetry.json", &telemetry.to_string());
    let config = format!("-config-file={file}");
    let cluster = TestCluster::start(3, &[&config]);
    let leader = cluster.wait_for_leader(Duration::from_secs(30));
    let targets: Vec<String> = (0..3)
        .map(|i| format!("127.0.0.1:{}", cluster.agent(i).http_port))
        .collect();
    let prometheus = Prometheus::start(&targets);

    // The work the panels show, through a follower and the leader.
    let agent = cluster.agent((leader + 1) % 3);
    for i in 0..5 {
        assert_eq!(
            put(&agent.url(&format!("/v1/kv/dash/{i}")), "v")
                .await
                .status,
            200
        );
        let register = json!({"Node": format!("n{i}"), "Address": "10.0.0.1",
                              "Service": {"ID": "web", "Service": "web", "Port": 80}});
        let url = cluster.agent(leader).url("/v1/catalog/register");
        assert_eq!(put(&url, register.to_string()).await.status, 200);
    }
    let deregister = json!({"Node": "n0", "ServiceID": "web"});
    let url = cluster.agent(leader).url("/v1/catalog/deregister");
    assert_eq!(put(&url, deregister.to_string()).await.status, 200);
    let txn = json!([{"KV": {"Verb": "set", "Key": "dash/txn", "Value": "dg=="}}]);
    assert_eq!(
        put(&agent.url("/v1/txn"), txn.to_string()).await.status,
        200
    );
    let dns_port = cluster.agent(leader).dns_port;
    assert_eq!(
        dig(dns_port, &["web.service.consul", "SRV"]).status,
        "NOERROR"
    );
    assert_eq!(dig(dns_port, &["-x", "127.0.0.1"]).status, "NOERROR");

    // Every panel gets data once Prometheus has scraped a few times.
    let deadline = Instant::now() + Duration::from_secs(60);
    for query in DASHBOARD_QUERIES {
        loop {
            if !prometheus.query(query).await.is_empty() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "no data for {query}\n{}",
                prometheus.log()
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
    // The types the panels assume: timers are summaries with quantiles, counters stay
    // counters (no `_total`), gauges gauges.
    for (name, kind) in [
        ("consul_raft_commitTime", "summary"),
        ("consul_kvs_apply", "summary"),
        ("consul_catalog_register", "summary"),
        ("consul_raft_apply", "counter"),
        ("consul_raft_state_leader", "counter"),
        ("consul_autopilot_healthy", "gauge"),
    ] {
        assert_eq!(prometheus.metric_type(name).await, kind, "{name}");
    }
    let quantiles = prometheus.query("consul_raft_commitTime").await;
    let labels: Vec<&str> = quantiles
        .iter()
        .filter_map(|series| series["metric"]["quantile"].as_str())
        .collect();
    for quantile in ["0.5", "0.9", "0.99"] {
        assert!(labels.contains(&quantile), "{quantiles:?}");
    }
    // The leader says its cluster is healthy; the followers leave the gauge NaN.
    let healthy = prometheus.query("consul_autopilot_healthy == 1").await;
    assert_eq!(healthy.len(), 1, "{healthy:?}");
    let leader_target = &targets[leader];
    assert_eq!(healthy[0]["metric"]["instance"], leader_target.as_str());
}
