//! The HTTPS API against a real agent: mutual TLS with `verify_incoming`, HTTP/2 and
//! HTTP/1.1, each refused case (no client certificate, one from another CA, an expired
//! one, plaintext on the TLS port, a server name the certificate does not carry),
//! certificate rotation by `reload` and SIGHUP with a connection kept open, bad files
//! refused at start, and the CLI over HTTPS with flags and with environment variables.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use proconsul_tests::pki::Pki;
use proconsul_tests::{TempDir, TestAgent, expect_refusal, free_port, write_file};
use serde_json::json;

/// A dev agent with HTTPS on a free port, serving `cert`/`key`, requiring client
/// certificates from `ca`.
struct HttpsAgent {
    agent: TestAgent,
    port: u16,
    _dir: TempDir,
}

fn start(ca: &Path, cert: &Path, key: &Path) -> HttpsAgent {
    let dir = TempDir::new("https");
    let port = free_port();
    let config = json!({
        "ports": {"https": port},
        "tls": {"defaults": {"ca_file": ca, "cert_file": cert, "key_file": key,
                              "verify_incoming": true}},
    });
    let file = write_file(dir.path(), "tls.json", &config.to_string());
    let agent = TestAgent::start_with(&["-config-file", &file, "-dns-port=-1"]);
    HttpsAgent {
        agent,
        port,
        _dir: dir,
    }
}

impl HttpsAgent {
    fn url(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{path}", self.port)
    }
}

/// A client trusting `ca`, presenting `identity` (cert, key) if given.
fn client(ca: &Path, identity: Option<&(PathBuf, PathBuf)>) -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let settings = proconsul_tls::ClientTls {
        ca_file: Some(ca.to_path_buf()),
        client_cert: identity.map(|(cert, _)| cert.clone()),
        client_key: identity.map(|(_, key)| key.clone()),
        ..Default::default()
    };
    let config = proconsul_tls::client_config(&settings).unwrap();
    reqwest::Client::builder()
        .tls_backend_preconfigured((*config).clone())
        .build()
        .unwrap()
}

/// `curl` over HTTPS with a client certificate; returns (HTTP version, body).
fn curl(url: &str, ca: &Path, identity: &(PathBuf, PathBuf), http2: bool) -> (String, String) {
    let output = Command::new("curl")
        .args(["-sS", "--cacert"])
        .arg(ca)
        .arg("--cert")
        .arg(&identity.0)
        .arg("--key")
        .arg(&identity.1)
        .arg(if http2 { "--http2" } else { "--http1.1" })
        .args(["-w", "\n%{http_version}", url])
        .output()
        .expect("curl");
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8(output.stdout).unwrap();
    let (body, version) = text.rsplit_once('\n').unwrap();
    (version.to_string(), body.to_string())
}

#[tokio::test]
async fn mutual_tls_serves_and_refuses_as_configured() {
    let pki = Pki::new("cluster");
    let (cert, key) = pki.server("server");
    let client_identity = pki.client("client");
    let agent = start(&pki.ca_file(), &cert, &key);

    // With a client certificate from the CA: served, over HTTP/2 and HTTP/1.1.
    let answer = client(&pki.ca_file(), Some(&client_identity))
        .get(agent.url("/v1/status/leader"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let (version, body) = curl(
        &agent.url("/v1/catalog/services"),
        &pki.ca_file(),
        &client_identity,
        true,
    );
    assert_eq!(version, "2");
    assert!(body.contains("consul"), "{body}");
    let (version, _) = curl(
        &agent.url("/v1/catalog/services"),
        &pki.ca_file(),
        &client_identity,
        false,
    );
    assert_eq!(version, "1.1");

    // Refused in the handshake: no certificate, another CA's, an expired one.
    let refused = |result: Result<reqwest::Response, reqwest::Error>, what: &str| {
        assert!(result.is_err(), "{what} was served: {result:?}");
    };
    refused(
        client(&pki.ca_file(), None)
            .get(agent.url("/v1/status/leader"))
            .send()
            .await,
        "no client certificate",
    );
    let stranger = Pki::new("stranger");
    let stranger_identity = stranger.client("intruder");
    refused(
        client(&pki.ca_file(), Some(&stranger_identity))
            .get(agent.url("/v1/status/leader"))
            .send()
            .await,
        "another CA's certificate",
    );
    // The expired certificate is written with rcgen; the client library would refuse to
    // load it, so it is presented through curl.
    let expired = pki.expired_client("expired");
    let output = Command::new("curl")
        .args(["-sS", "--cacert"])
        .arg(pki.ca_file())
        .arg("--cert")
        .arg(&expired.0)
        .arg("--key")
        .arg(&expired.1)
        .arg(agent.url("/v1/status/leader"))
        .output()
        .unwrap();
    assert!(
        !output.status.success(),
        "an expired certificate was served: {output:?}"
    );
    // A server that is not who the client asked for.
    let named = proconsul_tls::client_config(&proconsul_tls::ClientTls {
        ca_file: Some(pki.ca_file()),
        client_cert: Some(client_identity.0.clone()),
        client_key: Some(client_identity.1.clone()),
        server_name: Some("server.dc2.consul".into()),
        ..Default::default()
    })
    .unwrap();
    let named = reqwest::Client::builder()
        .tls_backend_preconfigured((*named).clone())
        .build()
        .unwrap();
    refused(
        named.get(agent.url("/v1/status/leader")).send().await,
        "a wrong server name",
    );
    // Plaintext on the TLS port.
    refused(
        reqwest::get(format!("http://127.0.0.1:{}/v1/status/leader", agent.port)).await,
        "plaintext",
    );
    let log = agent.agent.log();
    assert!(log.contains("HTTPS: handshake refused"), "{log}");
    assert!(
        log.contains("peer=127.0.0.1:"),
        "refusals name the peer: {log}"
    );
}

#[tokio::test]
async fn reload_rotates_certificates_without_dropping_connections() {
    let old = Pki::new("old");
    let (cert, key) = old.server("server");
    let live_cert = old.dir().join("live.pem");
    let live_key = old.dir().join("live-key.pem");
    std::fs::copy(&cert, &live_cert).unwrap();
    std::fs::copy(&key, &live_key).unwrap();
    let new = Pki::new("new");
    // The agent trusts clients of both CAs, so that clients of either may connect.
    let bundle = old.dir().join("both-ca.pem");
    let both = std::fs::read_to_string(old.ca_file()).unwrap()
        + &std::fs::read_to_string(new.ca_file()).unwrap();
    std::fs::write(&bundle, both).unwrap();
    let agent = start(&bundle, &live_cert, &live_key);

    let old_identity = old.client("old-client");
    let kept = client(&old.ca_file(), Some(&old_identity));
    assert_eq!(
        kept.get(agent.url("/v1/status/leader"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    // Rotate to a certificate from the new CA, and reload.
    let (new_cert, new_key) = new.server("server");
    std::fs::copy(&new_cert, &live_cert).unwrap();
    std::fs::copy(&new_key, &live_key).unwrap();
    let reloaded = kept
        .put(agent.url("/v1/agent/reload"))
        .send()
        .await
        .unwrap();
    assert_eq!(reloaded.status(), 200, "{:?}", reloaded.text().await);

    // The kept-alive connection goes on with the old certificate...
    for _ in 0..3 {
        assert_eq!(
            kept.get(agent.url("/v1/status/leader"))
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
    }
    // ... new connections get the new one: a client trusting only the old CA is
    // refused, one trusting the new CA is served.
    assert!(
        client(&old.ca_file(), Some(&old_identity))
            .get(agent.url("/v1/status/leader"))
            .send()
            .await
            .is_err()
    );
    let new_identity = new.client("new-client");
    let fresh = client(&new.ca_file(), Some(&new_identity));
    assert_eq!(
        fresh
            .get(agent.url("/v1/status/leader"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    // SIGHUP reloads too: back to the old CA's certificate.
    std::fs::copy(&cert, &live_cert).unwrap();
    std::fs::copy(&key, &live_key).unwrap();
    agent.agent.signal("HUP");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let again = client(&old.ca_file(), Some(&old_identity))
            .get(agent.url("/v1/status/leader"))
            .send()
            .await;
        if again.is_ok_and(|answer| answer.status() == 200) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "SIGHUP did not reload: {}",
            agent.agent.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // A reload with a broken key keeps the certificate in use and says why.
    std::fs::write(&live_key, "not a key").unwrap();
    let failed = kept
        .put(agent.url("/v1/agent/reload"))
        .send()
        .await
        .unwrap();
    assert_eq!(failed.status(), 500);
    let text = failed.text().await.unwrap();
    assert!(text.contains("live-key.pem"), "{text}");
    assert_eq!(
        client(&old.ca_file(), Some(&old_identity))
            .get(agent.url("/v1/status/leader"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[test]
fn bad_tls_files_stop_the_agent_naming_the_file() {
    let pki = Pki::new("cluster");
    let (cert, _) = pki.server("server");
    let (_, other_key) = pki.server("other");
    let expired = pki.expired_client("expired");
    let dir = TempDir::new("https-bad");
    let port = free_port().to_string();
    let cases = [
        (
            json!({"cert_file": cert, "key_file": other_key}),
            "does not match",
        ),
        (
            json!({"cert_file": dir.path().join("absent.pem"), "key_file": other_key}),
            "absent.pem",
        ),
        (
            json!({"cert_file": expired.0, "key_file": expired.1}),
            "expired",
        ),
        (
            json!({"cert_file": cert, "key_file": pki.dir().join("server-key.pem"), "verify_incoming": true}),
            "need a CA",
        ),
    ];
    for (i, (tls, expected)) in cases.into_iter().enumerate() {
        let config =
            json!({"ports": {"https": port.parse::<u16>().unwrap()}, "tls": {"https": tls}});
        let file = write_file(dir.path(), &format!("bad-{i}.json"), &config.to_string());
        let stderr = expect_refusal(&[
            "agent",
            "-dev",
            "-http-port",
            &free_port().to_string(),
            "-dns-port=-1",
            "-server-port",
            &free_port().to_string(),
            "-config-file",
            &file,
        ]);
        assert!(stderr.contains(expected), "case {i}: {stderr}");
    }
}

#[test]
fn the_cli_speaks_https_with_flags_and_with_the_environment() {
    let pki = Pki::new("cluster");
    let (cert, key) = pki.server("server");
    let identity = pki.client("cli");
    let agent = start(&pki.ca_file(), &cert, &key);
    let https = format!("https://127.0.0.1:{}", agent.port);
    let ca = pki.ca_file().display().to_string();
    let (client_cert, client_key) = (
        identity.0.display().to_string(),
        identity.1.display().to_string(),
    );

    let put = agent
        .agent
        .cli_command(&[
            "kv",
            "put",
            "-http-addr",
            &https,
            "-ca-file",
            &ca,
            "-client-cert",
            &client_cert,
            "-client-key",
            &client_key,
            "tls/key",
            "over-https",
        ])
        .output()
        .unwrap();
    assert!(put.status.success(), "{put:?}");

    let get = agent
        .agent
        .cli_command(&["kv", "get", "tls/key"])
        .env("CONSUL_HTTP_ADDR", format!("127.0.0.1:{}", agent.port))
        .env("CONSUL_HTTP_SSL", "true")
        .env("CONSUL_CACERT", &ca)
        .env("CONSUL_CLIENT_CERT", &client_cert)
        .env("CONSUL_CLIENT_KEY", &client_key)
        .env("CONSUL_TLS_SERVER_NAME", "server.dc1.consul")
        .output()
        .unwrap();
    assert!(get.status.success(), "{get:?}");
    assert_eq!(String::from_utf8_lossy(&get.stdout).trim(), "over-https");

    // Without the client certificate the agent refuses; with a wrong server name the
    // CLI refuses.
    let refused = agent
        .agent
        .cli_command(&[
            "kv",
            "get",
            "-http-addr",
            &https,
            "-ca-file",
            &ca,
            "tls/key",
        ])
        .output()
        .unwrap();
    assert!(!refused.status.success(), "{refused:?}");
    let wrong_name = agent
        .agent
        .cli_command(&[
            "kv",
            "get",
            "-http-addr",
            &https,
            "-ca-file",
            &ca,
            "-client-cert",
            &client_cert,
            "-client-key",
            &client_key,
            "-tls-server-name",
            "server.dc2.consul",
            "tls/key",
        ])
        .output()
        .unwrap();
    assert!(!wrong_name.status.success(), "{wrong_name:?}");
}

#[tokio::test]
async fn an_agent_can_serve_https_only() {
    let pki = Pki::new("cluster");
    let (cert, key) = pki.server("server");
    let dir = TempDir::new("https-only");
    let https_port = free_port();
    let config = json!({
        "ports": {"http": -1, "https": https_port},
        "tls": {"defaults": {"cert_file": cert, "key_file": key}},
    });
    let file = write_file(dir.path(), "tls.json", &config.to_string());
    // Started without `-http-port`, which would turn plain HTTP back on.
    let server_port = free_port().to_string();
    let log = dir.path().join("agent.log");
    let agent = KillOnDrop(
        Command::new(proconsul_tests::binary())
            .args([
                "agent",
                "-dev",
                "-dns-port=-1",
                "-server-port",
                &server_port,
            ])
            .arg(format!("-serf-lan-port={}", free_port()))
            .args(["-config-file", &file])
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(std::fs::File::options().append(true).open(&log).unwrap())
            .spawn()
            .unwrap(),
    );
    let read_log = || std::fs::read_to_string(&log).unwrap_or_default();
    let https = client(&pki.ca_file(), None);
    let url = |path: &str| format!("https://127.0.0.1:{https_port}{path}");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let answer = https.get(url("/v1/status/leader")).send().await;
        if let Ok(answer) = answer
            && answer.text().await.is_ok_and(|leader| leader.contains(':'))
        {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{}", read_log());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let me = https.get(url("/v1/agent/self")).send().await.unwrap();
    let me: serde_json::Value = me.json().await.unwrap();
    assert_eq!(me["DebugConfig"]["HTTPPort"], -1);
    assert_eq!(me["DebugConfig"]["HTTPSPort"], https_port);
    // No plain HTTP listener was opened.
    let text = read_log();
    assert!(text.contains("plain HTTP API off"), "{text}");
    assert!(!text.contains("HTTP API listening: http_addr"), "{text}");
    drop(agent);
}

/// A child process killed when the test ends, however it ends.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// An HTTPS target that requires a client certificate from `ca` and answers every
/// request `200 ok`; returns its port.
async fn https_target(ca: &Path, cert: &Path, key: &Path) -> u16 {
    let config = proconsul_tls::server_config(&proconsul_tls::ServerTls {
        cert_file: cert.to_path_buf(),
        key_file: key.to_path_buf(),
        ca_file: Some(ca.to_path_buf()),
        verify_incoming: true,
        ..Default::default()
    })
    .unwrap();
    let mut config = (*config).clone();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    proconsul_tests::pki::serve_ok(config, "ok").await.port()
}

/// Registers the check `definition` (with an `ID`) on `agent` and waits until it has
/// run once; returns the status that run gave.
async fn first_status(agent: &TestAgent, definition: serde_json::Value) -> String {
    let id = definition["ID"].as_str().unwrap().to_string();
    let registered = proconsul_tests::put(
        &agent.url("/v1/agent/check/register"),
        definition.to_string(),
    )
    .await;
    assert_eq!(registered.status, 200, "{}", registered.body);
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let checks = proconsul_tests::get(&agent.url("/v1/agent/checks"))
            .await
            .json();
        let check = &checks[id.as_str()];
        if !check["Output"].as_str().unwrap_or("").is_empty() {
            return check["Status"].as_str().unwrap().to_string();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the check never ran: {check}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A dev agent with `tls.defaults` holding `pki`'s CA and, with `certificate`, a
/// certificate it presents (`verify_outgoing`).
fn agent_with_tls(pki: &Pki, dir: &TempDir, certificate: bool) -> TestAgent {
    let mut defaults = json!({"ca_file": pki.ca_file()});
    if certificate {
        let (cert, key) = pki.server("agent");
        defaults["cert_file"] = json!(cert);
        defaults["key_file"] = json!(key);
        defaults["verify_outgoing"] = json!(true);
    }
    let name = if certificate {
        "with-cert.json"
    } else {
        "ca-only.json"
    };
    let file = write_file(
        dir.path(),
        name,
        &json!({"tls": {"defaults": defaults}}).to_string(),
    );
    TestAgent::start_with(&["-config-file", &file, "-dns-port=-1"])
}

#[tokio::test]
async fn http_checks_use_the_agents_ca_and_certificate() {
    let pki = Pki::new("cluster");
    let (target_cert, target_key) = pki.server("target");
    let port = https_target(&pki.ca_file(), &target_cert, &target_key).await;
    let check = json!({"ID": "tls-target", "Name": "tls target", "Interval": "1s",
                       "HTTP": format!("https://127.0.0.1:{port}/health")});
    let dir = TempDir::new("checks-tls");

    // Without the agent's TLS settings the target's CA is unknown: critical.
    let plain = TestAgent::start_with(&["-dns-port=-1"]);
    assert_eq!(first_status(&plain, check.clone()).await, "critical");

    // With `tls.defaults` (the CA, and with verify_outgoing the agent's certificate,
    // which the target requires): passing.
    let with_tls = agent_with_tls(&pki, &dir, true);
    assert_eq!(first_status(&with_tls, check.clone()).await, "passing");

    // The CA alone is not enough for a target that asks for a client certificate.
    let ca_only = agent_with_tls(&pki, &dir, false);
    assert_eq!(first_status(&ca_only, check).await, "critical");
}

#[tokio::test]
async fn tls_tcp_checks_use_the_agents_ca_and_certificate() {
    let pki = Pki::new("cluster");
    let (target_cert, target_key) = pki.server("target");
    let port = https_target(&pki.ca_file(), &target_cert, &target_key).await;
    let check = json!({"ID": "tls-tcp", "Name": "tls tcp", "Interval": "1s",
                       "TCP": format!("127.0.0.1:{port}"), "TCPUseTLS": true});
    let plain = TestAgent::start_with(&["-dns-port=-1"]);
    assert_eq!(first_status(&plain, check.clone()).await, "critical");
    let dir = TempDir::new("tcp-tls");
    let with_tls = agent_with_tls(&pki, &dir, true);
    assert_eq!(first_status(&with_tls, check).await, "passing");
}

#[test]
fn tls_cipher_suites_narrow_what_tls12_clients_may_use() {
    let pki = Pki::new("suites");
    let (cert, key) = pki.server("server");
    let dir = TempDir::new("https-suites");
    let port = free_port();
    let config = json!({
        "ports": {"https": port},
        "tls": {"https": {"cert_file": cert, "key_file": key,
                          "tls_cipher_suites": "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305"}},
    });
    let file = write_file(dir.path(), "tls.json", &config.to_string());
    let _agent = TestAgent::start_with(&["-config-file", &file, "-dns-port=-1"]);
    let curl_with = |cipher: &str| {
        Command::new("curl")
            .args(["-sS", "--tls-max", "1.2", "--ciphers", cipher, "--cacert"])
            .arg(pki.ca_file())
            .arg(format!("https://127.0.0.1:{port}/v1/status/leader"))
            .output()
            .expect("curl")
    };
    let allowed = curl_with("ECDHE-ECDSA-CHACHA20-POLY1305");
    assert!(allowed.status.success(), "{allowed:?}");
    let refused = curl_with("ECDHE-ECDSA-AES128-GCM-SHA256");
    assert!(!refused.status.success(), "{refused:?}");
}
