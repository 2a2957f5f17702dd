//! HAProxy (Debian's) as a real DNS client: `server-template` fills a backend from the
//! agent's SRV records, and traffic follows the instances' health.

use std::collections::BTreeSet;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use proconsul_tests::{CheckTarget, TargetBehaviour, TempDir, TestAgent, free_port, get, put};
use serde_json::json;

/// HAProxy in the foreground, killed on drop.
struct Haproxy {
    child: Child,
    frontend: u16,
    _dir: TempDir,
}

impl Haproxy {
    fn start(dns_port: u16) -> Haproxy {
        let dir = TempDir::new("haproxy");
        let frontend = free_port();
        let config = format!(
            r#"
global
    maxconn 100

defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s

resolvers consul
    nameserver proconsul 127.0.0.1:{dns_port}
    accepted_payload_size 8192
    resolve_retries 3
    timeout resolve 200ms
    timeout retry 200ms
    hold valid 200ms
    hold nx 200ms
    hold obsolete 200ms

frontend web
    bind 127.0.0.1:{frontend}
    default_backend instances

backend instances
    balance roundrobin
    server-template instance 4 _web._tcp.service.consul resolvers consul resolve-opts allow-dup-ip resolve-prefer ipv4 init-addr none
"#
        );
        let path = dir.path().join("haproxy.cfg");
        std::fs::write(&path, config).expect("write haproxy.cfg");
        let log = std::fs::File::create(dir.path().join("haproxy.log")).expect("log");
        let child = Command::new("haproxy")
            .args(["-db", "-f"])
            .arg(&path)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("cannot run haproxy: install Debian's haproxy");
        Haproxy {
            child,
            frontend,
            _dir: dir,
        }
    }

    /// The bodies of `count` requests through the frontend (failed requests skipped).
    async fn bodies(&self, count: usize) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        for _ in 0..count {
            let url = format!("http://127.0.0.1:{}/", self.frontend);
            let client = reqwest::Client::builder()
                .timeout(Duration::from_secs(2))
                .build()
                .expect("client");
            if let Ok(response) = client.get(&url).send().await
                && response.status() == 200
                && let Ok(body) = response.text().await
            {
                seen.insert(body);
            }
        }
        seen
    }

    /// Waits until the traffic reaches exactly `expected`.
    async fn wait_for_bodies(&self, expected: &[&str]) {
        let expected: BTreeSet<String> = expected.iter().map(|s| s.to_string()).collect();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let seen = self.bodies(12).await;
            if seen == expected {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "traffic reached {seen:?}, expected {expected:?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn answering(body: &str) -> TargetBehaviour {
    TargetBehaviour {
        body: body.as_bytes().to_vec(),
        ..TargetBehaviour::default()
    }
}

#[tokio::test]
async fn haproxy_routes_to_the_healthy_instances_it_finds_by_srv() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let agent = TestAgent::start();
    let alpha = CheckTarget::start(answering("alpha")).await;
    let beta = CheckTarget::start(answering("beta")).await;
    for (id, target) in [("alpha", &alpha), ("beta", &beta)] {
        let answer = put(
            &agent.url("/v1/agent/service/register"),
            json!({"Name": "web", "ID": id, "Address": "127.0.0.1", "Port": target.addr.port(),
                   "Check": {"CheckID": format!("{id}-ttl"), "TTL": "10m", "Status": "passing"}})
            .to_string(),
        )
        .await;
        assert_eq!(answer.status, 200, "{}", answer.body);
    }
    let haproxy = Haproxy::start(agent.dns_port);
    haproxy.wait_for_bodies(&["alpha", "beta"]).await;

    // beta goes critical: DNS stops naming it, and HAProxy stops sending to it.
    put(&agent.url("/v1/agent/check/fail/beta-ttl"), "").await;
    haproxy.wait_for_bodies(&["alpha"]).await;
    put(&agent.url("/v1/agent/check/pass/beta-ttl"), "").await;
    haproxy.wait_for_bodies(&["alpha", "beta"]).await;

    // A third instance registered later joins the rotation.
    let gamma = CheckTarget::start(answering("gamma")).await;
    put(
        &agent.url("/v1/agent/service/register"),
        json!({"Name": "web", "ID": "gamma", "Address": "127.0.0.1", "Port": gamma.addr.port()})
            .to_string(),
    )
    .await;
    haproxy.wait_for_bodies(&["alpha", "beta", "gamma"]).await;
    let catalog = get(&agent.url("/v1/health/service/web?passing"))
        .await
        .json();
    assert_eq!(catalog.as_array().map(Vec::len), Some(3));
}
