//! The two most used real clients over HTTPS with mutual TLS: HashiCorp's Go client
//! (`github.com/hashicorp/consul/api`, the version tests/go-consul-api/ tests) and
//! py-consul 1.8.0, against an agent that serves its API over HTTPS only
//! (`ports.http = -1`) and requires client certificates (`verify_incoming`).
//!
//! The CA and the certificates are made by `proconsul tls ca create` and `proconsul tls
//! cert create -server|-client`, as an operator following Consul's guide would. Each
//! client is a small program (tests/go-tls/, tests/py-consul/https_client.py) that puts
//! and reads back a KV entry, registers a service with a TTL check, reads it from the
//! catalog and from health, and deregisters it, exiting non-zero on any wrong answer; it
//! runs with the client certificate (given in code, and through the environment the
//! client reads) and must succeed, and without it, where the agent must refuse the
//! handshake and the client must report the TLS alert.
//!
//! Go (`GO`, default `go`) and Python (`tests/py-consul/venv.sh` makes the venv) are
//! required: without them these tests fail, they never skip.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use proconsul_tests::{TempDir, binary, free_port, write_file};
use serde_json::json;

/// How long one client run may take before the test gives up on it (a hang, not a slow
/// run: the programs make a dozen requests).
const RUN_LIMIT: Duration = Duration::from_secs(120);

/// The CA and the certificates `proconsul tls` wrote, in Consul's file names.
struct Certificates {
    dir: TempDir,
}

impl Certificates {
    /// `proconsul tls ca create`, then a server and a client certificate for dc1.
    fn make() -> Certificates {
        let dir = TempDir::new("https-clients-pki");
        for args in [
            &["ca", "create"][..],
            &["cert", "create", "-server", "-dc", "dc1"],
            &["cert", "create", "-client", "-dc", "dc1"],
        ] {
            let output = Command::new(binary())
                .arg("tls")
                .args(args)
                .current_dir(dir.path())
                .output()
                .expect("cannot run proconsul tls");
            assert!(
                output.status.success(),
                "proconsul tls {args:?}: {output:?}"
            );
        }
        let certificates = Certificates { dir };
        for file in [
            certificates.ca(),
            certificates.server().0,
            certificates.server().1,
            certificates.client().0,
            certificates.client().1,
        ] {
            assert!(file.is_file(), "{} was not written", file.display());
        }
        certificates
    }

    fn ca(&self) -> PathBuf {
        self.dir.path().join("consul-agent-ca.pem")
    }

    fn server(&self) -> (PathBuf, PathBuf) {
        (
            self.dir.path().join("dc1-server-consul-0.pem"),
            self.dir.path().join("dc1-server-consul-0-key.pem"),
        )
    }

    fn client(&self) -> (PathBuf, PathBuf) {
        (
            self.dir.path().join("dc1-client-consul-0.pem"),
            self.dir.path().join("dc1-client-consul-0-key.pem"),
        )
    }
}

/// `proconsul agent -dev` with HTTPS only on a free loopback port, requiring client
/// certificates from the CA; killed on drop.
struct HttpsOnlyAgent {
    child: std::process::Child,
    port: u16,
    log: PathBuf,
    _dir: TempDir,
}

impl HttpsOnlyAgent {
    async fn start(certificates: &Certificates) -> HttpsOnlyAgent {
        let dir = TempDir::new("https-clients-agent");
        let port = free_port();
        let (cert, key) = certificates.server();
        let config = json!({
            "ports": {"http": -1, "https": port},
            "tls": {"defaults": {"ca_file": certificates.ca(), "cert_file": cert,
                                 "key_file": key, "verify_incoming": true}},
        });
        let file = write_file(dir.path(), "https.json", &config.to_string());
        let log = dir.path().join("agent.log");
        let out = std::fs::File::create(&log).unwrap();
        // No `-http-port`: it would turn plain HTTP back on.
        let child = Command::new(binary())
            .args(["agent", "-dev", "-node", "https-clients", "-dns-port=-1"])
            .arg(format!("-server-port={}", free_port()))
            .arg(format!("-serf-lan-port={}", free_port()))
            .args(["-config-file", &file])
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .expect("cannot start proconsul");
        let mut agent = HttpsOnlyAgent {
            child,
            port,
            log,
            _dir: dir,
        };
        agent.wait_until_ready(certificates).await;
        agent
    }

    /// Waits until `/v1/status/leader` names a leader over HTTPS with the client
    /// certificate.
    async fn wait_until_ready(&mut self, certificates: &Certificates) {
        let client = https_client(certificates);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("proconsul exited early ({status}):\n{}", self.log());
            }
            if let Ok(answer) = client.get(self.url("/v1/status/leader")).send().await
                && answer.text().await.is_ok_and(|leader| leader.contains(':'))
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the agent did not become ready over HTTPS:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// `127.0.0.1:PORT`.
    fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn url(&self, path: &str) -> String {
        format!("https://{}{path}", self.addr())
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The status and body of `GET path`, over HTTPS with the client certificate.
    async fn get(&self, certificates: &Certificates, path: &str) -> (u16, String) {
        let answer = https_client(certificates)
            .get(self.url(path))
            .send()
            .await
            .unwrap_or_else(|error| panic!("GET {path}: {error}"));
        let status = answer.status().as_u16();
        (status, answer.text().await.unwrap())
    }
}

impl Drop for HttpsOnlyAgent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A reqwest client trusting the CA and presenting the client certificate (the test's
/// own view of the agent, beside the clients under test).
fn https_client(certificates: &Certificates) -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (cert, key) = certificates.client();
    let config = proconsul_tls::client_config(&proconsul_tls::ClientTls {
        ca_file: Some(certificates.ca()),
        client_cert: Some(cert),
        client_key: Some(key),
        ..Default::default()
    })
    .unwrap();
    reqwest::Client::builder()
        .tls_backend_preconfigured((*config).clone())
        .build()
        .unwrap()
}

/// A client's command with none of the variables that configure Consul clients
/// (`CONSUL_*`) or send them through a proxy, so that only what a run sets counts.
fn clean_command(program: &Path) -> Command {
    let mut command = Command::new(program);
    for (name, _) in std::env::vars_os() {
        let text = name.to_string_lossy().to_ascii_uppercase();
        if text.starts_with("CONSUL_") || text.ends_with("_PROXY") {
            command.env_remove(&name);
        }
    }
    command.stdin(Stdio::null());
    command
}

/// Runs `command` to its end (killed after [`RUN_LIMIT`]: a hang fails the test).
fn run(mut command: Command, what: &str) -> Output {
    let dir = TempDir::new("https-clients-run");
    let stdout = dir.path().join("stdout");
    let stderr = dir.path().join("stderr");
    let mut child = command
        .stdout(std::fs::File::create(&stdout).unwrap())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .spawn()
        .unwrap_or_else(|error| panic!("cannot run {what}: {error}"));
    let deadline = Instant::now() + RUN_LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{what} did not finish in {RUN_LIMIT:?}; its stderr:\n{}",
                std::fs::read_to_string(&stderr).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: std::fs::read(&stdout).unwrap(),
        stderr: std::fs::read(&stderr).unwrap(),
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The steps each client program prints as `ok: STEP` when everything went right.
const STEPS: [&str; 6] = [
    "status leader",
    "kv put/get",
    "agent service register",
    "catalog service",
    "health service",
    "agent service deregister",
];

/// Asserts that a client run succeeded and did every step.
fn assert_all_steps(output: &Output, what: &str, agent: &HttpsOnlyAgent) {
    let stdout = text(&output.stdout);
    assert!(
        output.status.success(),
        "{what} failed ({}):\nstdout:\n{stdout}\nstderr:\n{}\nagent log:\n{}",
        output.status,
        text(&output.stderr),
        agent.log()
    );
    for step in STEPS {
        assert!(
            stdout.lines().any(|line| line == format!("ok: {step}")),
            "{what} did not report `ok: {step}`:\n{stdout}"
        );
    }
}

/// Asserts that a client run failed on its first request (exit status 2, "request
/// failed: status leader: ...") with an error containing each of `expected`.
fn assert_refused(output: &Output, what: &str, expected: &[&str]) {
    let stderr = text(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(2),
        "{what} should have failed its first request:\nstdout:\n{}\nstderr:\n{stderr}",
        text(&output.stdout)
    );
    assert!(
        stderr.starts_with("request failed: status leader: "),
        "{what}: {stderr}"
    );
    for text in expected {
        assert!(stderr.contains(text), "{what}: no {text:?} in\n{stderr}");
    }
    assert!(
        !text(&output.stdout).contains("ok: "),
        "{what} did a step: {}",
        text(&output.stdout)
    );
}

/// Asserts that the Go program was refused for want of a client certificate: its
/// request failed with the TLS alert or, in Go's HTTP/2 race, without a cause, and its
/// probe read the alert.
fn assert_go_refused_for_want_of_a_certificate(output: &Output, what: &str) {
    const ALERT: &str = "remote error: tls: certificate required";
    assert_refused(output, what, &[&format!("\ntls probe: {ALERT}\n")]);
    let stderr = text(&output.stderr);
    let request = stderr.lines().next().unwrap_or_default();
    assert!(
        request.ends_with(&format!(": {ALERT}"))
            || request.ends_with(": http2: client conn could not be established"),
        "{what}: the request failed otherwise: {stderr}"
    );
}

/// What the agent holds under `https-clients/<name>` (None when absent).
async fn kv_value(
    agent: &HttpsOnlyAgent,
    certificates: &Certificates,
    name: &str,
) -> Option<String> {
    let (status, body) = agent
        .get(certificates, &format!("/v1/kv/https-clients/{name}?raw"))
        .await;
    match status {
        200 => Some(body),
        404 => None,
        other => panic!("GET /v1/kv/https-clients/{name}: {other} {body}"),
    }
}

fn path_text(path: &Path) -> String {
    path.display().to_string()
}

/// Builds the Go program of tests/go-tls/ into `dir` with `go build` (`-mod=readonly`:
/// its go.sum is committed; the modules come from the module cache, else the module
/// proxy, as for tests/go-consul-api/run.sh).
fn build_go_program(dir: &Path) -> PathBuf {
    let go = std::env::var_os("GO").unwrap_or_else(|| "go".into());
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("go-tls");
    let program = dir.join("go-tls");
    let mut build = Command::new(&go);
    build
        .args(["build", "-mod=readonly", "-o"])
        .arg(&program)
        .arg(".")
        .current_dir(&source)
        .stdin(Stdio::null());
    if std::env::var_os("GOTOOLCHAIN").is_none() {
        // As tests/go-consul-api/run.sh: an older Go 1.26 fetches the toolchain the
        // client's go.mod asks for.
        build.env("GOTOOLCHAIN", "auto");
    }
    let output = build.output().unwrap_or_else(|error| {
        panic!(
            "cannot run {go:?} ({error}): Go 1.26 is needed by this test \
             (install it from https://go.dev/dl/, or set GO)"
        )
    });
    assert!(
        output.status.success(),
        "go build in {} failed ({}):\n{}",
        source.display(),
        output.status,
        text(&output.stderr)
    );
    program
}

/// The python of the venv tests/py-consul/venv.sh makes (with py-consul 1.8.0).
fn py_consul_python() -> PathBuf {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("py-consul/venv.sh");
    let output = Command::new("bash")
        .arg(&script)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .unwrap_or_else(|error| panic!("cannot run {}: {error}", script.display()));
    assert!(
        output.status.success(),
        "{} failed ({}): a Python 3 with venv is needed by this test",
        script.display(),
        output.status
    );
    let path = PathBuf::from(text(&output.stdout).trim());
    assert!(
        path.is_file(),
        "{} printed {path:?}, which is not a file",
        script.display()
    );
    path
}

#[tokio::test]
async fn the_go_client_works_over_mutual_tls_and_is_refused_without_a_certificate() {
    let build_dir = TempDir::new("https-clients-go");
    let program = build_go_program(build_dir.path());
    let certificates = Certificates::make();
    let agent = HttpsOnlyAgent::start(&certificates).await;
    let ca = path_text(&certificates.ca());
    let (cert, key) = certificates.client();
    let (cert, key) = (path_text(&cert), path_text(&key));
    let addr = agent.addr();

    // api.NewClient(&api.Config{Address, Scheme: "https", TLSConfig{CAFile, CertFile,
    // KeyFile}}).
    let mut command = clean_command(&program);
    command.args(["-name", "go-config", "-addr", &addr, "-ca", &ca]);
    command.args(["-cert", &cert, "-key", &key]);
    let output = run(command, "the Go client configured in code");
    assert_all_steps(&output, "the Go client configured in code", &agent);
    // Go's transport negotiates HTTP/2 by ALPN, as with Consul's HTTPS listener.
    assert!(
        text(&output.stdout).contains("protocol: HTTP/2.0\n"),
        "{}",
        text(&output.stdout)
    );
    assert_eq!(
        kv_value(&agent, &certificates, "go-config")
            .await
            .as_deref(),
        Some("value of go-config")
    );

    // api.DefaultConfig(): CONSUL_HTTP_ADDR with https://, CONSUL_CACERT,
    // CONSUL_CLIENT_CERT, CONSUL_CLIENT_KEY.
    let mut command = clean_command(&program);
    command
        .args(["-name", "go-env", "-env"])
        .env("CONSUL_HTTP_ADDR", format!("https://{addr}"))
        .env("CONSUL_CACERT", &ca)
        .env("CONSUL_CLIENT_CERT", &cert)
        .env("CONSUL_CLIENT_KEY", &key);
    let output = run(command, "the Go client configured by the environment");
    assert_all_steps(
        &output,
        "the Go client configured by the environment",
        &agent,
    );
    assert_eq!(
        kv_value(&agent, &certificates, "go-env").await.as_deref(),
        Some("value of go-env")
    );

    // Without the client certificate the agent refuses the handshake with the TLS 1.3
    // alert Consul's Go server sends too (RequireAndVerifyClientCert). The client reports
    // it, or (Go's HTTP/2 transport, when the refusal closes the connection before the
    // first request is on it) that the connection could not be established; the
    // program's probe with the client's TLS configuration then reads the alert.
    let mut command = clean_command(&program);
    command.args(["-name", "go-no-cert", "-addr", &addr, "-ca", &ca]);
    let output = run(command, "the Go client without a certificate");
    assert_go_refused_for_want_of_a_certificate(&output, "the Go client without a certificate");
    let mut command = clean_command(&program);
    command
        .args(["-name", "go-env-no-cert", "-env"])
        .env("CONSUL_HTTP_ADDR", format!("https://{addr}"))
        .env("CONSUL_CACERT", &ca);
    let output = run(command, "the Go client (environment) without a certificate");
    assert_go_refused_for_want_of_a_certificate(
        &output,
        "the Go client (environment) without a certificate",
    );
    // Without the CA the client refuses the agent's certificate.
    let mut command = clean_command(&program);
    command.args(["-name", "go-no-ca", "-addr", &addr]);
    command.args(["-cert", &cert, "-key", &key]);
    let output = run(command, "the Go client without the CA");
    assert_refused(
        &output,
        "the Go client without the CA",
        &[
            "x509: certificate signed by unknown authority\n",
            "\ntls probe: tls: failed to verify certificate: \
             x509: certificate signed by unknown authority\n",
        ],
    );
    for name in ["go-no-cert", "go-env-no-cert", "go-no-ca"] {
        assert_eq!(kv_value(&agent, &certificates, name).await, None, "{name}");
    }
    let log = agent.log();
    assert!(log.contains("HTTPS: handshake refused"), "{log}");
}

#[tokio::test]
async fn py_consul_works_over_mutual_tls_and_is_refused_without_a_certificate() {
    let python = py_consul_python();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("py-consul/https_client.py");
    let certificates = Certificates::make();
    let agent = HttpsOnlyAgent::start(&certificates).await;
    let ca = path_text(&certificates.ca());
    let (cert, key) = certificates.client();
    let (cert, key) = (path_text(&cert), path_text(&key));
    let port = agent.port.to_string();
    let client = |name: &str| {
        let mut command = clean_command(&python);
        command.arg(&script).args(["--name", name]);
        command
    };

    // consul.Consul(host, port, scheme='https', verify=CA, cert=(cert, key)).
    let mut command = client("py-config");
    command.args(["--host", "127.0.0.1", "--port", &port, "--ca", &ca]);
    command.args(["--cert", &cert, "--key", &key]);
    let output = run(command, "py-consul configured in code");
    assert_all_steps(&output, "py-consul configured in code", &agent);
    assert_eq!(
        kv_value(&agent, &certificates, "py-config")
            .await
            .as_deref(),
        Some("value of py-config")
    );

    // Host, port and scheme from CONSUL_HTTP_ADDR=https://... (py-consul reads no
    // certificate variables; verify and cert are still given in code).
    let mut command = client("py-env");
    command
        .args(["--env", "--ca", &ca, "--cert", &cert, "--key", &key])
        .env("CONSUL_HTTP_ADDR", format!("https://{}", agent.addr()));
    let output = run(command, "py-consul configured by CONSUL_HTTP_ADDR");
    assert_all_steps(&output, "py-consul configured by CONSUL_HTTP_ADDR", &agent);
    assert_eq!(
        kv_value(&agent, &certificates, "py-env").await.as_deref(),
        Some("value of py-env")
    );

    // Verifying as urllib3 does on Python 3.13+ (OpenSSL's VERIFY_X509_STRICT, whatever
    // Python runs here): `proconsul tls` certificates pass its stricter profile.
    let mut command = client("py-strict");
    command.args(["--x509-strict", "--port", &port, "--ca", &ca]);
    command.args(["--cert", &cert, "--key", &key]);
    let output = run(command, "py-consul verifying with VERIFY_X509_STRICT");
    assert_all_steps(
        &output,
        "py-consul verifying with VERIFY_X509_STRICT",
        &agent,
    );

    // Without `cert` the agent refuses the handshake: requests raises its SSLError with
    // OpenSSL's text for the TLS 1.3 alert.
    let mut command = client("py-no-cert");
    command.args(["--port", &port, "--ca", &ca]);
    let output = run(command, "py-consul without a certificate");
    assert_refused(
        &output,
        "py-consul without a certificate",
        &[
            "requests.exceptions.SSLError",
            "tlsv13 alert certificate required",
        ],
    );
    // Without the CA (requests' default roots) the client refuses the agent's certificate.
    let mut command = client("py-no-ca");
    command.args(["--port", &port, "--cert", &cert, "--key", &key]);
    let output = run(command, "py-consul without the CA");
    assert_refused(
        &output,
        "py-consul without the CA",
        &["requests.exceptions.SSLError", "CERTIFICATE_VERIFY_FAILED"],
    );
    for name in ["py-no-cert", "py-no-ca"] {
        assert_eq!(kv_value(&agent, &certificates, name).await, None, "{name}");
    }
    let log = agent.log();
    assert!(log.contains("HTTPS: handshake refused"), "{log}");
}
