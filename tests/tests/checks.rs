//! HTTP and TCP checks run by the agent against real targets on loopback.

use std::time::Duration;

use proconsul_tests::{CheckTarget, TargetBehaviour, TestAgent, get, put, wait_for_check};
use serde_json::json;

const SOON: Duration = Duration::from_secs(15);

async fn register_check(agent: &TestAgent, body: serde_json::Value) {
    let answer = put(&agent.url("/v1/agent/check/register"), body.to_string()).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
}

#[tokio::test]
async fn http_check_follows_the_target_status() {
    let agent = TestAgent::start();
    let target = CheckTarget::start(TargetBehaviour::default()).await;
    register_check(
        &agent,
        json!({"Name": "web", "HTTP": target.url("/health"), "Interval": "1s"}),
    )
    .await;
    let check = wait_for_check(&agent, "web", "passing", SOON).await;
    assert_eq!(check["Type"], "http");
    assert!(check["Output"].as_str().unwrap().contains("200"), "{check}");

    target.set(TargetBehaviour {
        status: 429,
        ..TargetBehaviour::default()
    });
    wait_for_check(&agent, "web", "warning", SOON).await;
    target.set(TargetBehaviour {
        status: 503,
        body: b"down".to_vec(),
        ..TargetBehaviour::default()
    });
    let check = wait_for_check(&agent, "web", "critical", SOON).await;
    assert!(
        check["Output"].as_str().unwrap().contains("down"),
        "{check}"
    );
    // The catalog shows what the agent sees.
    let catalog = get(&agent.url("/v1/health/state/critical")).await.json();
    assert_eq!(catalog[0]["CheckID"], "web");
    target.set(TargetBehaviour::default());
    wait_for_check(&agent, "web", "passing", SOON).await;
}

#[tokio::test]
async fn http_check_target_down_slow_or_huge() {
    let agent = TestAgent::start();
    let dead_port = proconsul_tests::free_port();
    register_check(
        &agent,
        json!({"Name": "dead", "HTTP": format!("http://127.0.0.1:{dead_port}/"), "Interval": "1s", "Status": "passing"}),
    )
    .await;
    let check = wait_for_check(&agent, "dead", "critical", SOON).await;
    assert!(
        check["Output"]
            .as_str()
            .unwrap()
            .contains("onnection refused"),
        "{check}"
    );

    let slow = CheckTarget::start(TargetBehaviour {
        delay: Duration::from_secs(30),
        ..TargetBehaviour::default()
    })
    .await;
    register_check(
        &agent,
        json!({"Name": "slow", "HTTP": slow.url("/"), "Interval": "1s", "Timeout": "500ms", "Status": "passing"}),
    )
    .await;
    wait_for_check(&agent, "slow", "critical", SOON).await;

    let huge = CheckTarget::start(TargetBehaviour {
        body: vec![b'x'; 1 << 20],
        ..TargetBehaviour::default()
    })
    .await;
    register_check(
        &agent,
        json!({"Name": "huge", "HTTP": huge.url("/"), "Interval": "1s"}),
    )
    .await;
    let check = wait_for_check(&agent, "huge", "passing", SOON).await;
    assert!(
        check["Output"].as_str().unwrap().len() <= 4096,
        "output is capped"
    );
}

#[tokio::test]
async fn redirects_are_followed_unless_disabled() {
    let agent = TestAgent::start();
    let healthy = CheckTarget::start(TargetBehaviour::default()).await;
    let redirecting = CheckTarget::start(TargetBehaviour {
        redirect_to: Some(healthy.url("/")),
        ..TargetBehaviour::default()
    })
    .await;
    register_check(
        &agent,
        json!({"Name": "follow", "HTTP": redirecting.url("/"), "Interval": "1s"}),
    )
    .await;
    register_check(
        &agent,
        json!({"Name": "stay", "HTTP": redirecting.url("/"), "Interval": "1s", "DisableRedirects": true, "Status": "passing"}),
    )
    .await;
    wait_for_check(&agent, "follow", "passing", SOON).await;
    let check = wait_for_check(&agent, "stay", "critical", SOON).await;
    assert!(check["Output"].as_str().unwrap().contains("302"), "{check}");
}

#[tokio::test]
async fn tcp_check_sees_a_listener_come_and_go() {
    let agent = TestAgent::start();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    register_check(
        &agent,
        json!({"Name": "tcp", "TCP": addr.to_string(), "Interval": "1s"}),
    )
    .await;
    let check = wait_for_check(&agent, "tcp", "passing", SOON).await;
    assert_eq!(check["Output"], format!("TCP connect {addr}: Success"));
    drop(listener);
    wait_for_check(&agent, "tcp", "critical", SOON).await;
}

#[tokio::test]
async fn thresholds_delay_status_changes() {
    let agent = TestAgent::start();
    let target = CheckTarget::start(TargetBehaviour::default()).await;
    register_check(
        &agent,
        json!({"Name": "steady", "HTTP": target.url("/"), "Interval": "1s", "Status": "passing",
               "FailuresBeforeCritical": 3}),
    )
    .await;
    wait_for_check(&agent, "steady", "passing", SOON).await;
    let before = target.hits();
    target.set(TargetBehaviour {
        status: 500,
        ..TargetBehaviour::default()
    });
    // Still passing after at least one failed run.
    while target.hits() < before + 2 {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let checks = get(&agent.url("/v1/agent/checks")).await.json();
    assert_eq!(
        checks["steady"]["Status"], "passing",
        "one failure must not flip it"
    );
    wait_for_check(&agent, "steady", "critical", SOON).await;
}

#[tokio::test]
async fn a_deregistered_check_stops_running() {
    let agent = TestAgent::start();
    let target = CheckTarget::start(TargetBehaviour::default()).await;
    register_check(
        &agent,
        json!({"Name": "gone", "HTTP": target.url("/"), "Interval": "1s"}),
    )
    .await;
    wait_for_check(&agent, "gone", "passing", SOON).await;
    assert_eq!(
        put(&agent.url("/v1/agent/check/deregister/gone"), "")
            .await
            .status,
        200
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let hits = target.hits();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(target.hits(), hits, "the target is still being probed");
}

#[tokio::test]
async fn services_critical_past_deregister_after_are_reaped() {
    let agent =
        TestAgent::start_with(&["-check-reap-interval=200ms", "-check-deregister-minimum=1s"]);
    let target = CheckTarget::start(TargetBehaviour::default()).await;
    let dead_port = proconsul_tests::free_port();
    let service = |name: &str, url: String| json!({"Name": name, "Check": {"HTTP": url, "Interval": "1s", "DeregisterCriticalServiceAfter": "1s"}});
    for body in [
        service("alive", target.url("/")),
        service("dead", format!("http://127.0.0.1:{dead_port}/")),
    ] {
        let answer = put(&agent.url("/v1/agent/service/register"), body.to_string()).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
    }
    let deadline = std::time::Instant::now() + SOON;
    loop {
        let services = get(&agent.url("/v1/agent/services")).await.json();
        if services.get("dead").is_none() {
            assert!(
                services.get("alive").is_some(),
                "the healthy service must stay"
            );
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the dead service was never reaped"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        get(&agent.url("/v1/catalog/service/dead")).await.json(),
        json!([])
    );
    assert_eq!(
        get(&agent.url("/v1/catalog/service/alive"))
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn script_checks_run_only_when_enabled_and_map_exit_codes() {
    let refusing = TestAgent::start();
    let body = json!({"Name": "s", "Args": ["/bin/true"], "Interval": "1s"});
    let answer = put(&refusing.url("/v1/agent/check/register"), body.to_string()).await;
    assert_eq!(answer.status, 400);
    assert!(
        answer.body.contains("Scripts are disabled"),
        "{}",
        answer.body
    );

    let agent = TestAgent::start_with(&["-enable-script-checks"]);
    let script = |name: &str, command: &str, timeout: &str| json!({"Name": name, "Args": ["/bin/sh", "-c", command], "Interval": "1s", "Timeout": timeout});
    register_check(&agent, script("ok", "echo all good", "10s")).await;
    register_check(&agent, script("meh", "echo degraded; exit 1", "10s")).await;
    register_check(&agent, script("bad", "echo broken >&2; exit 2", "10s")).await;
    register_check(&agent, script("hang", "sleep 60", "500ms")).await;
    let ok = wait_for_check(&agent, "ok", "passing", SOON).await;
    assert_eq!(ok["Output"], "all good\n");
    wait_for_check(&agent, "meh", "warning", SOON).await;
    let bad = wait_for_check(&agent, "bad", "critical", SOON).await;
    // Critical from the start; wait for the script's own output.
    let deadline = std::time::Instant::now() + SOON;
    let mut output = bad["Output"].clone();
    while output != "broken\n" {
        assert!(
            std::time::Instant::now() < deadline,
            "script output never shown: {output}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
        output = get(&agent.url("/v1/agent/checks")).await.json()["bad"]["Output"].clone();
    }
    let deadline = std::time::Instant::now() + SOON;
    loop {
        let hang = get(&agent.url("/v1/agent/checks")).await.json()["hang"].clone();
        if hang["Output"]
            .as_str()
            .unwrap_or_default()
            .contains("Timed out")
        {
            assert_eq!(hang["Status"], "critical");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the hanging script never timed out: {hang}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn udp_check_passes_on_an_answer_and_fails_on_port_unreachable() {
    let agent = TestAgent::start();
    let echo = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let echo_addr = echo.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buffer = [0u8; 512];
        while let Ok((n, from)) = echo.recv_from(&mut buffer).await {
            let _ = echo.send_to(&buffer[..n], from).await;
        }
    });
    let closed = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let closed_addr = closed.local_addr().unwrap();
    drop(closed);
    register_check(
        &agent,
        json!({"Name": "echo", "UDP": echo_addr.to_string(), "Interval": "1s"}),
    )
    .await;
    register_check(
        &agent,
        json!({"Name": "nobody", "UDP": closed_addr.to_string(), "Interval": "1s", "Timeout": "2s", "Status": "passing"}),
    )
    .await;
    let check = wait_for_check(&agent, "echo", "passing", SOON).await;
    assert_eq!(check["Output"], format!("UDP check {echo_addr}: Success"));
    wait_for_check(&agent, "nobody", "critical", SOON).await;
}

#[tokio::test]
async fn alias_checks_mirror_the_aliased_service() {
    let agent = TestAgent::start();
    let web = json!({"Name": "web", "Check": {"TTL": "60s"}});
    assert_eq!(
        put(&agent.url("/v1/agent/service/register"), web.to_string())
            .await
            .status,
        200
    );
    let proxy = json!({"Name": "web-proxy", "Port": 21000, "Check": {"AliasService": "web"}});
    assert_eq!(
        put(&agent.url("/v1/agent/service/register"), proxy.to_string())
            .await
            .status,
        200
    );
    // Bound to a service of its own: a node-level check would count toward every
    // instance on the node, the aliased one included.
    put(
        &agent.url("/v1/agent/service/register"),
        json!({"Name": "other"}).to_string(),
    )
    .await;
    register_check(
        &agent,
        json!({"Name": "ghost-alias", "AliasService": "ghost", "ServiceID": "other", "Status": "passing"}),
    )
    .await;

    wait_for_check(&agent, "service:web-proxy", "critical", SOON).await;
    put(&agent.url("/v1/agent/check/pass/service:web"), "").await;
    wait_for_check(&agent, "service:web-proxy", "passing", SOON).await;
    put(&agent.url("/v1/agent/check/warn/service:web"), "").await;
    wait_for_check(&agent, "service:web-proxy", "warning", SOON).await;
    let ghost = wait_for_check(&agent, "ghost-alias", "critical", SOON).await;
    assert!(
        ghost["Output"]
            .as_str()
            .unwrap()
            .contains("could not be found"),
        "{ghost}"
    );
}

#[tokio::test]
async fn grpc_checks_speak_the_standard_health_protocol() {
    use tonic_health::ServingStatus;
    let (reporter, service) = tonic_health::server::health_reporter();
    reporter
        .set_service_status("web", ServingStatus::Serving)
        .await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(service)
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );
    let agent = TestAgent::start();
    register_check(
        &agent,
        json!({"Name": "g-web", "GRPC": format!("{addr}/web"), "Interval": "1s"}),
    )
    .await;
    register_check(
        &agent,
        json!({"Name": "g-server", "GRPC": addr.to_string(), "Interval": "1s"}),
    )
    .await;
    register_check(
        &agent,
        json!({"Name": "g-unknown", "GRPC": format!("{addr}/nope"), "Interval": "1s", "Status": "passing"}),
    )
    .await;
    let web = wait_for_check(&agent, "g-web", "passing", SOON).await;
    assert!(web["Output"].as_str().unwrap().contains("success"), "{web}");
    wait_for_check(&agent, "g-server", "passing", SOON).await;
    let unknown = wait_for_check(&agent, "g-unknown", "critical", SOON).await;
    assert!(
        unknown["Output"].as_str().unwrap().contains("code = 5"),
        "{unknown}"
    );
    reporter
        .set_service_status("web", ServingStatus::NotServing)
        .await;
    let web = wait_for_check(&agent, "g-web", "critical", SOON).await;
    assert!(
        web["Output"].as_str().unwrap().contains("NOT_SERVING"),
        "{web}"
    );
}

#[tokio::test]
async fn h2ping_checks_ping_an_http2_server() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                // Pings are answered by the connection itself while it is driven.
                if let Ok(mut connection) = h2::server::handshake(stream).await {
                    while let Some(Ok(_)) = connection.accept().await {}
                }
            });
        }
    });
    let agent = TestAgent::start();
    register_check(
        &agent,
        json!({"Name": "ping", "H2PING": addr.to_string(), "H2PingUseTLS": false, "Interval": "1s"}),
    )
    .await;
    let check = wait_for_check(&agent, "ping", "passing", SOON).await;
    assert_eq!(check["Output"], "HTTP2 ping was successful");
    register_check(&agent, json!({"Name": "tls-ping", "H2PING": addr.to_string(), "Interval": "1s", "Status": "passing"})).await;
    let tls = wait_for_check(&agent, "tls-ping", "critical", SOON).await;
    assert!(tls["Output"].as_str().unwrap().contains("TLS"), "{tls}");
    let dead = proconsul_tests::free_port();
    register_check(
        &agent,
        json!({"Name": "dead-ping", "H2PING": format!("127.0.0.1:{dead}"), "H2PingUseTLS": false, "Interval": "1s", "Status": "passing"}),
    )
    .await;
    wait_for_check(&agent, "dead-ping", "critical", SOON).await;
}

/// A rustls server configuration with a self-signed certificate for `name`.
fn self_signed(name: &str) -> rustls::ServerConfig {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let certified = rcgen::generate_simple_self_signed(vec![name.to_string()]).unwrap();
    let key =
        rustls::pki_types::PrivateKeyDer::try_from(certified.signing_key.serialize_der()).unwrap();
    rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![certified.cert.der().clone()], key)
        .unwrap()
}

/// An HTTPS server with a self-signed certificate for `localhost`, answering 200.
async fn start_tls_target() -> std::net::SocketAddr {
    proconsul_tests::pki::serve_ok(self_signed("localhost"), "secure").await
}

#[tokio::test]
async fn https_checks_verify_certificates_unless_told_not_to() {
    let addr = start_tls_target().await;
    let agent = TestAgent::start();
    let url = format!("https://localhost:{}/", addr.port());
    register_check(
        &agent,
        json!({"Name": "trusting", "HTTP": url, "Interval": "1s", "TLSSkipVerify": true}),
    )
    .await;
    register_check(
        &agent,
        json!({"Name": "verifying", "HTTP": url, "Interval": "1s", "Status": "passing"}),
    )
    .await;
    let trusting = wait_for_check(&agent, "trusting", "passing", SOON).await;
    assert!(
        trusting["Output"].as_str().unwrap().contains("secure"),
        "{trusting}"
    );
    let verifying = wait_for_check(&agent, "verifying", "critical", SOON).await;
    assert!(
        verifying["Output"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("certificate"),
        "{verifying}"
    );
}

/// A TLS server (self-signed for `checks.internal`, ALPN h2) that speaks HTTP/2: it
/// answers every request as a gRPC health service reporting SERVING, answers pings, and
/// records the server name each client sent.
async fn start_tls_h2_target() -> (
    std::net::SocketAddr,
    std::sync::Arc<std::sync::Mutex<Vec<String>>>,
) {
    let mut config = self_signed("checks.internal");
    config.alpn_protocols = vec![b"h2".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let names = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = names.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (acceptor, seen) = (acceptor.clone(), seen.clone());
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(stream).await else {
                    return;
                };
                if let Some(name) = tls.get_ref().1.server_name() {
                    seen.lock().unwrap().push(name.to_string());
                }
                // A TCP check only completes the handshake; others speak HTTP/2.
                let Ok(mut connection) = h2::server::handshake(tls).await else {
                    return;
                };
                while let Some(Ok((_request, mut respond))) = connection.accept().await {
                    let response = http::Response::builder()
                        .status(200)
                        .header("content-type", "application/grpc")
                        .body(())
                        .unwrap();
                    let Ok(mut body) = respond.send_response(response, false) else {
                        continue;
                    };
                    // HealthCheckResponse { status: SERVING }, length-prefixed.
                    let _ =
                        body.send_data(bytes::Bytes::from_static(&[0, 0, 0, 0, 2, 8, 1]), false);
                    let mut trailers = http::HeaderMap::new();
                    trailers.insert("grpc-status", http::HeaderValue::from_static("0"));
                    let _ = body.send_trailers(trailers);
                }
            });
        }
    });
    (addr, names)
}

#[tokio::test]
async fn tcp_grpc_and_h2ping_checks_over_tls() {
    let (addr, names) = start_tls_h2_target().await;
    let agent = TestAgent::start();
    let tls = |extra: serde_json::Value| {
        let mut check =
            json!({"Interval": "1s", "TLSSkipVerify": true, "TLSServerName": "checks.internal"});
        check
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        check
    };
    register_check(
        &agent,
        tls(json!({"Name": "tcp-tls", "TCP": addr.to_string(), "TCPUseTLS": true})),
    )
    .await;
    register_check(
        &agent,
        tls(json!({"Name": "grpc-tls", "GRPC": format!("{addr}/web"), "GRPCUseTLS": true})),
    )
    .await;
    // H2PingUseTLS is true unless set.
    register_check(
        &agent,
        tls(json!({"Name": "ping-tls", "H2PING": addr.to_string()})),
    )
    .await;
    register_check(
        &agent,
        json!({"Name": "tcp-verified", "TCP": addr.to_string(), "TCPUseTLS": true, "Interval": "1s", "Status": "passing"}),
    )
    .await;
    let tcp = wait_for_check(&agent, "tcp-tls", "passing", SOON).await;
    assert!(tcp["Output"].as_str().unwrap().contains("TLS"), "{tcp}");
    wait_for_check(&agent, "grpc-tls", "passing", SOON).await;
    let ping = wait_for_check(&agent, "ping-tls", "passing", SOON).await;
    assert_eq!(ping["Output"], "HTTP2 ping was successful");
    // Without TLSSkipVerify a self-signed certificate is refused.
    let verified = wait_for_check(&agent, "tcp-verified", "critical", SOON).await;
    assert!(
        verified["Output"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("certificate"),
        "{verified}"
    );
    assert!(
        names
            .lock()
            .unwrap()
            .iter()
            .any(|name| name == "checks.internal"),
        "TLSServerName is sent as SNI: {:?}",
        names.lock().unwrap()
    );

    // TCPUseTLS against a server that does not speak TLS fails the check.
    let plain = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let plain_addr = plain.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = plain.accept().await {
            use tokio::io::AsyncWriteExt;
            let _ = stream.write_all(b"not tls\r\n").await;
        }
    });
    register_check(
        &agent,
        json!({"Name": "tcp-plain", "TCP": plain_addr.to_string(), "TCPUseTLS": true, "TLSSkipVerify": true, "Interval": "1s", "Status": "passing"}),
    )
    .await;
    wait_for_check(&agent, "tcp-plain", "critical", SOON).await;
}

#[tokio::test]
async fn https_checks_send_tls_server_name() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let config = self_signed("api.internal");
    let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<(String, String)>::new()));
    let record = seen.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (acceptor, record) = (acceptor.clone(), record.clone());
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(stream).await else {
                    return;
                };
                let sni = tls.get_ref().1.server_name().unwrap_or("").to_string();
                let mut request = Vec::new();
                let mut buffer = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buffer[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&request).to_lowercase();
                let host = text
                    .lines()
                    .find_map(|line| line.strip_prefix("host: "))
                    .unwrap_or("")
                    .trim()
                    .to_string();
                record.lock().unwrap().push((sni, host));
                let _ = tls
                    .write_all(
                        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
                    )
                    .await;
                let _ = tls.shutdown().await;
            });
        }
    });
    let agent = TestAgent::start();
    register_check(
        &agent,
        json!({"Name": "named", "HTTP": format!("https://{addr}/health"), "Interval": "1s",
               "TLSServerName": "api.internal", "TLSSkipVerify": true}),
    )
    .await;
    let check = wait_for_check(&agent, "named", "passing", SOON).await;
    assert!(
        check["Output"]
            .as_str()
            .unwrap()
            .contains(&addr.to_string()),
        "{check}"
    );
    let seen = seen.lock().unwrap().clone();
    assert!(
        seen.iter()
            .any(|(sni, host)| sni == "api.internal" && host == &addr.to_string()),
        "SNI is TLSServerName and Host the target: {seen:?}"
    );
}
