//! Malformed input at every write endpoint: a clear 400, never a crash, never lost data.

use proconsul_tests::{TestAgent, call, get, put};

#[tokio::test]
async fn garbage_bodies_get_400_and_the_agent_keeps_its_data() {
    let agent = TestAgent::start();
    put(&agent.url("/v1/kv/keep"), "safe").await;
    let bodies: Vec<Vec<u8>> = vec![
        b"{".to_vec(),
        b"null".to_vec(),
        b"[]".to_vec(),
        b"\"text\"".to_vec(),
        b"{\"Node\": 5}".to_vec(),
        vec![0xff, 0x00, 0xfe],
        b"{\"Service\": {\"Port\": 99999999}}".to_vec(),
        "{\"Name\": \"x\", \"Check\": {\"TTL\": \"1e9h\"}}"
            .as_bytes()
            .to_vec(),
    ];
    let endpoints = [
        "/v1/catalog/register",
        "/v1/catalog/deregister",
        "/v1/agent/service/register",
        "/v1/agent/check/register",
        "/v1/agent/check/update/serfHealth",
    ];
    for endpoint in endpoints {
        for body in &bodies {
            let answer = call("PUT", &agent.url(endpoint), Some(body.clone())).await;
            assert!(
                (400..500).contains(&answer.status),
                "{endpoint} {:?}: {} {}",
                String::from_utf8_lossy(body),
                answer.status,
                answer.body
            );
            assert!(!answer.body.is_empty(), "{endpoint}: empty error body");
        }
    }
    for query in ["wait=1x", "wait=-1s", "index=1.5", "index=%00"] {
        let answer = get(&agent.url(&format!("/v1/catalog/nodes?{query}"))).await;
        assert_eq!(answer.status, 400, "{query}");
    }
    let newline = get(&agent.url("/v1/kv/a?x=%0a")).await;
    assert_eq!(newline.status, 400);
    let mut agent = agent;
    assert!(agent.is_running());
    assert_eq!(get(&agent.url("/v1/kv/keep?raw")).await.body, "safe");
}

#[tokio::test]
async fn sigterm_shuts_down_cleanly_with_one_line_per_step() {
    let mut agent = TestAgent::start();
    let log = agent.log();
    assert!(log.contains("HTTP API listening"), "{log}");
    let status = agent.terminate();
    assert!(status.success(), "exit status {status}");
    let log = agent.log();
    assert!(log.contains("shutdown complete"), "{log}");
}

#[tokio::test]
async fn leave_through_the_api_stops_the_agent() {
    let mut agent = TestAgent::start();
    let answer = call("PUT", &agent.url("/v1/agent/leave"), None).await;
    assert_eq!(answer.status, 200);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while agent.is_running() {
        assert!(
            std::time::Instant::now() < deadline,
            "agent still running after leave"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(agent.log().contains("shutdown complete"), "{}", agent.log());
}

#[tokio::test]
async fn acl_endpoints_say_acls_are_disabled() {
    let agent = TestAgent::start();
    for (method, path) in [
        ("PUT", "/v1/agent/token/default"),
        ("PUT", "/v1/acl/bootstrap"),
        ("GET", "/v1/acl/tokens"),
        ("GET", "/v1/acl/policy/name/global-management"),
    ] {
        let answer = call(method, &agent.url(path), None).await;
        assert_eq!(
            (answer.status, answer.body.as_str()),
            (401, "ACL support disabled"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn blocking_queries_share_one_http2_connection() {
    let agent = TestAgent::start();
    let first = get(&agent.url("/v1/kv/h2/watched")).await;
    assert_eq!(first.status, 404);
    let index = first.index();
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", agent.http_port))
        .await
        .unwrap();
    let (send, connection) = h2::client::handshake(tcp).await.unwrap();
    tokio::spawn(connection);
    // Fifty blocking queries in flight on one cleartext HTTP/2 connection.
    let mut answers = Vec::new();
    for _ in 0..50 {
        let mut send = send.clone().ready().await.unwrap();
        let request = http::Request::get(format!(
            "http://127.0.0.1:{}/v1/kv/h2/watched?index={index}&wait=30s",
            agent.http_port
        ))
        .body(())
        .unwrap();
        let (response, _) = send.send_request(request, true).unwrap();
        answers.push(response);
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let written = put(&agent.url("/v1/kv/h2/watched"), "now").await;
    assert_eq!(written.body.trim(), "true");
    for answer in answers {
        let response = tokio::time::timeout(std::time::Duration::from_secs(10), answer)
            .await
            .expect("a blocking query over HTTP/2 woke")
            .unwrap();
        assert_eq!(response.status(), 200);
        let modified: u64 = response.headers()["x-consul-index"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(modified > index);
    }
}
