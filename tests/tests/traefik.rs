//! Traefik 3.7 (its consulCatalog provider) against a dev agent: a service tagged for
//! Traefik becomes a router whose load balancer holds exactly the passing instances, and
//! traffic through Traefik's entrypoint follows registrations, health changes and the
//! deregistration. Run once with `watch=true` (only blocking queries can wake Traefik:
//! its refresh interval is an hour) and once polling every second.

use std::collections::BTreeSet;
use std::time::Duration;

use proconsul_tests::traefik::{Follow, Traefik, consulcatalog_faults};
use proconsul_tests::{CheckTarget, TargetBehaviour, TestAgent, get, put};
use serde_json::json;

const ROUTER: &str = "whoami@consulcatalog";
const SERVICE: &str = "whoami@consulcatalog";
const HOST: &str = "whoami.test";
/// How long Traefik gets to follow one change (it normally takes well under a second;
/// this bound only stops a broken run).
const WITHIN: Duration = Duration::from_secs(30);

fn answering(body: &str, status: u16) -> TargetBehaviour {
    TargetBehaviour {
        status,
        body: body.as_bytes().to_vec(),
        ..TargetBehaviour::default()
    }
}

/// Registers instance `id` of `whoami` at `target`, with an HTTP check on it every 500ms.
async fn register(agent: &TestAgent, id: &str, target: &CheckTarget) {
    let answer = put(
        &agent.url("/v1/agent/service/register"),
        json!({
            "Name": "whoami",
            "ID": id,
            "Address": "127.0.0.1",
            "Port": target.addr.port(),
            "Tags": ["traefik.enable=true", "traefik.http.routers.whoami.rule=Host(`whoami.test`)"],
            "Check": {
                "CheckID": format!("{id}-http"),
                "HTTP": target.url("/health"),
                "Interval": "500ms",
                "Timeout": "2s",
            },
        })
        .to_string(),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
}

/// The distinct answers of up to 20 requests through Traefik for `whoami.test`: the body
/// of a 200, `HTTP <status>` otherwise (failed connections are left out); stops early once
/// `expected` have all been seen and nothing else has.
async fn bodies(traefik: &Traefik, expected: &BTreeSet<String>) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    for _ in 0..20 {
        match traefik.request(HOST).await {
            Some((200, body)) => seen.insert(body),
            Some((status, _)) => seen.insert(format!("HTTP {status}")),
            None => false,
        };
        if &seen == expected {
            break;
        }
    }
    seen
}

/// Waits until traffic for `whoami.test` reaches exactly the instances answering `expected`.
async fn wait_for_traffic(traefik: &Traefik, expected: &[&str]) {
    let expected: BTreeSet<String> = expected.iter().map(|s| s.to_string()).collect();
    let wanted = expected.clone();
    traefik
        .wait_until(
            &format!("traffic for {HOST} reaching {expected:?}"),
            WITHIN,
            async |traefik| bodies(traefik, &wanted).await,
            |seen| seen == &expected,
        )
        .await;
}

/// Waits until the `whoami` load balancer holds exactly these backends.
async fn wait_for_servers(traefik: &Traefik, targets: &[&CheckTarget]) {
    let mut expected: Vec<String> = targets
        .iter()
        .map(|target| format!("http://{}", target.addr))
        .collect();
    expected.sort();
    traefik
        .wait_until(
            &format!("servers of {SERVICE} being {expected:?}"),
            WITHIN,
            async |traefik| traefik.servers(SERVICE).await,
            |servers| servers == &expected,
        )
        .await;
}

async fn scenario(follow: Follow) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let agent = TestAgent::start();
    let one = CheckTarget::start(answering("whoami-1", 200)).await;
    let two = CheckTarget::start(answering("whoami-2", 200)).await;
    let mut traefik = Traefik::start(agent.http_port, follow).await;

    // 1-2. One tagged instance with a passing HTTP check: a router for its Host rule, and
    // traffic reaching it.
    register(&agent, "whoami-1", &one).await;
    traefik
        .wait_until(
            &format!("a router {ROUTER}"),
            WITHIN,
            async |traefik| traefik.routers().await,
            |routers| routers.iter().any(|name| name == ROUTER),
        )
        .await;
    assert_eq!(
        traefik.router_rule(ROUTER).await.as_deref(),
        Some("Host(`whoami.test`)")
    );
    wait_for_servers(&traefik, &[&one]).await;
    wait_for_traffic(&traefik, &["whoami-1"]).await;
    // The untagged services of the catalog (the agent's own `consul`) get no router.
    let routers = traefik.routers().await;
    assert!(
        routers
            .iter()
            .all(|name| !name.ends_with("@consulcatalog") || name == ROUTER),
        "{routers:?}"
    );

    // 3. A second instance: both in the load balancer, and traffic reaches both.
    register(&agent, "whoami-2", &two).await;
    wait_for_servers(&traefik, &[&one, &two]).await;
    wait_for_traffic(&traefik, &["whoami-1", "whoami-2"]).await;

    // 4. The second instance turns unhealthy (its backend answers 500, so its HTTP check
    // goes critical): Traefik drops it, and routes it again once it passes.
    two.set(answering("whoami-2", 500));
    wait_for_servers(&traefik, &[&one]).await;
    let health = get(&agent.url("/v1/health/service/whoami?passing"))
        .await
        .json();
    assert_eq!(health.as_array().map(Vec::len), Some(1), "{health}");
    wait_for_traffic(&traefik, &["whoami-1"]).await;
    two.set(answering("whoami-2", 200));
    wait_for_servers(&traefik, &[&one, &two]).await;
    wait_for_traffic(&traefik, &["whoami-1", "whoami-2"]).await;

    // 5. Deregistering the instances removes the router and the service.
    for id in ["whoami-1", "whoami-2"] {
        let answer = put(
            &agent.url(&format!("/v1/agent/service/deregister/{id}")),
            "",
        )
        .await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        if id == "whoami-1" {
            wait_for_servers(&traefik, &[&two]).await;
        }
    }
    traefik
        .wait_until(
            &format!("{ROUTER} gone"),
            WITHIN,
            async |traefik| traefik.routers().await,
            |routers| !routers.iter().any(|name| name == ROUTER),
        )
        .await;
    assert_eq!(traefik.servers(SERVICE).await, Vec::<String>::new());
    traefik
        .wait_until(
            &format!("no route for {HOST}"),
            WITHIN,
            async |traefik| traefik.request(HOST).await.map(|(status, _)| status),
            |status| *status == Some(404),
        )
        .await;

    // 6. The provider never failed on an answer of the agent (Traefik is stopped first, so
    // that the agent going away at the end is not logged as a fault).
    let log = traefik.stop();
    assert!(
        log.contains("Starting provider *consulcatalog.Provider"),
        "the consulCatalog provider did not start:\n{log}"
    );
    let faults = consulcatalog_faults(&log);
    assert!(
        faults.is_empty(),
        "the consulCatalog provider logged faults:\n{}",
        faults.join("\n")
    );
}

#[tokio::test]
async fn traefik_follows_the_catalog_through_blocking_queries() {
    scenario(Follow::Watch).await;
}

#[tokio::test]
async fn traefik_follows_the_catalog_by_polling() {
    scenario(Follow::Poll).await;
}

/// The fault filter catches what Traefik 3.7.15 logs when an answer does not decode (these
/// lines are from a run against a stub answering check definitions with `"Interval": ""`)
/// and when a watch fails, and passes the provider's ordinary debug lines.
#[test]
fn the_fault_filter_catches_the_providers_errors() {
    let faulty = [
        r#"2026-12-04T03:18:04Z ERR github.com/traefik/traefik/v3/pkg/provider/consulcatalog/consul_catalog.go:239 > Provider error, retrying in 498.660063ms error="failed to get consul catalog data: time: invalid duration \"\"" providerName=consulcatalog"#,
        r#"2026-12-04T03:18:07Z ERR github.com/traefik/traefik/v3/pkg/provider/consulcatalog/consul_catalog.go:244 > Cannot retrieve data error="context canceled" providerName=consulcatalog"#,
        r#"2026-12-04T03:06:16Z DBG github.com/hashicorp/go-hclog@v1.6.3/writer.go:32 > {"@level":"error","@message":"Watch errored","@module":"consulcatalog.watch","@timestamp":"2026-12-04T03:06:16.365078Z","error":"Get \"http://127.0.0.1:18500/v1/catalog/services?index=5\": dial tcp 127.0.0.1:18500: connect: connection refused","retry":5000000000,"type":"services"}"#,
    ];
    let fine = [
        r#"2026-12-04T03:05:04Z INF github.com/traefik/traefik/v3/pkg/provider/aggregator/aggregator.go:219 > Starting provider *consulcatalog.Provider"#,
        r#"2026-12-04T03:05:04Z DBG github.com/traefik/traefik/v3/pkg/provider/consulcatalog/consul_catalog.go:292 > Filtering disabled item providerName=consulcatalog serviceName=consul"#,
        r#"2026-12-04T03:05:04Z DBG github.com/traefik/traefik/v3/pkg/provider/consulcatalog/config.go:142 > Status "critical" is not included in the configured strictChecks of "passing,warning" providerName=consulcatalog serviceName=node-whoami-whoami-1"#,
    ];
    for line in faulty {
        assert_eq!(consulcatalog_faults(line), vec![line.to_string()]);
    }
    assert_eq!(consulcatalog_faults(&fine.join("\n")), Vec::<String>::new());
}
