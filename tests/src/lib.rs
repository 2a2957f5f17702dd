//! Test harness: starts the real `proconsul` binary as a child process on free loopback
//! ports and stops it when the test ends.
//!
//! The binary is taken from `PROCONSUL_BIN`, or else `target/debug/proconsul` of this
//! workspace, which the test command builds first.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The path of the `proconsul` binary under test.
pub fn binary() -> PathBuf {
    if let Some(path) = std::env::var_os("PROCONSUL_BIN") {
        return PathBuf::from(path);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let path = target.join("debug/proconsul");
    assert!(
        path.exists(),
        "{} does not exist: run `cargo build --bin proconsul` first or set PROCONSUL_BIN",
        path.display()
    );
    path
}

/// Runs the agent and expects it to refuse to start; a hang or a success fails the test.
pub fn expect_refusal(args: &[&str]) -> String {
    let mut child = std::process::Command::new(binary())
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("the agent started instead of refusing: {args:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(!status.success(), "{args:?}");
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    stderr
}

/// A free port on 127.0.0.1 (TCP and UDP), released before use.
///
/// Ports come from below the kernel's ephemeral range (32768+), so an outgoing
/// connection cannot take one between this check and the agent's bind, nor while a
/// killed server is down before it restarts on the same port. Each test process walks
/// the range from its own starting point.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    const FIRST: u32 = 10_000;
    const SPAN: u32 = 22_000;
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let start = std::process::id().wrapping_mul(7919) % SPAN;
    for _ in 0..SPAN {
        let step = NEXT.fetch_add(1, Ordering::Relaxed);
        // 13 is coprime with SPAN, so the walk visits every port once.
        let port = (FIRST + (start + step.wrapping_mul(13)) % SPAN) as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok()
            && std::net::UdpSocket::bind(("127.0.0.1", port)).is_ok()
        {
            return port;
        }
    }
    panic!("no free loopback port below the ephemeral range")
}

pub use tempdir::TempDir;

/// Writes `text` to `dir/name` (a configuration or rules file for a test) and returns
/// the path as the agent's flags take it.
pub fn write_file(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("cannot write a test file");
    path.display().to_string()
}

/// The ports one agent listens on.
#[derive(Debug, Clone, Copy)]
pub struct AgentPorts {
    pub http: u16,
    pub server: u16,
    /// Every agent gets its own DNS port, so that agents can run side by side.
    pub dns: u16,
    /// LAN gossip (UDP and TCP).
    pub serf_lan: u16,
    /// WAN gossip of servers (UDP and TCP).
    pub serf_wan: u16,
}

impl AgentPorts {
    pub fn free() -> AgentPorts {
        AgentPorts {
            http: free_port(),
            server: free_port(),
            dns: free_port(),
            serf_lan: free_port(),
            serf_wan: free_port(),
        }
    }
}

pub mod check;
pub mod cluster;

pub mod dig;
pub mod fault;
pub mod faults_api;
pub mod pki;

pub mod traefik;

/// A running `proconsul agent -dev`, killed on drop.
pub struct TestAgent {
    child: Option<Child>,
    pub http_port: u16,
    /// The server RPC (Raft) port.
    pub server_port: u16,
    /// The DNS port (UDP and TCP), unless the test turned DNS off or chose its own.
    pub dns_port: u16,
    /// The LAN gossip port (UDP and TCP), unless the test chose its own.
    pub serf_lan_port: u16,
    /// The WAN gossip port (UDP and TCP) of a server, unless the test chose its own.
    pub serf_wan_port: u16,
    pub node_name: String,
    log_path: PathBuf,
    _dir: TempDir,
}

mod tempdir {
    //! A scratch directory removed on drop: agents' logs, tests' config files.
    use std::path::{Path, PathBuf};

    pub struct TempDir(PathBuf);

    impl TempDir {
        pub fn new(tag: &str) -> TempDir {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0);
            let path = std::env::temp_dir().join(format!(
                "proconsul-test-{tag}-{}-{nanos}",
                std::process::id()
            ));
            std::fs::create_dir_all(&path).expect("cannot create a temp dir");
            TempDir(path)
        }

        pub fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

impl TestAgent {
    /// Starts a dev agent with extra flags and waits until it has a leader.
    pub fn start_with(extra: &[&str]) -> TestAgent {
        TestAgent::spawn(&["-dev"], None, extra)
    }

    /// Starts a durable single-voter server (`-server -bootstrap`) keeping its data in
    /// `data_dir`, named `node` (so that a restart is the same node).
    pub fn start_server(data_dir: &std::path::Path, node: &str, extra: &[&str]) -> TestAgent {
        let data_dir = format!("-data-dir={}", data_dir.display());
        TestAgent::spawn(&["-server", "-bootstrap", &data_dir], Some(node), extra)
    }

    fn spawn(mode: &[&str], node: Option<&str>, extra: &[&str]) -> TestAgent {
        let ports = AgentPorts::free();
        let mut agent = TestAgent::launch(mode, node, extra, ports);
        agent.wait_until_ready();
        agent
    }

    /// Starts the binary on `ports` without waiting for it (cluster members wait for each
    /// other).
    pub fn launch(
        mode: &[&str],
        node: Option<&str>,
        extra: &[&str],
        ports: AgentPorts,
    ) -> TestAgent {
        TestAgent::launch_with_env(mode, node, extra, ports, &[])
    }

    /// [`TestAgent::launch`] with extra environment variables for the process (e.g.
    /// `LD_PRELOAD` of a fault-injection library).
    pub fn launch_with_env(
        mode: &[&str],
        node: Option<&str>,
        extra: &[&str],
        ports: AgentPorts,
        env: &[(String, String)],
    ) -> TestAgent {
        let AgentPorts {
            http: http_port,
            server: server_port,
            dns: dns_port,
            serf_lan: serf_lan_port,
            serf_wan: serf_wan_port,
        } = ports;
        let node_name = node.map_or_else(|| format!("node-{http_port}"), str::to_string);
        let dir = TempDir::new("agent");
        let log_path = dir.path().join("agent.log");
        let log = std::fs::File::create(&log_path).expect("cannot create the agent log");
        let mut command = Command::new(binary());
        command
            .arg("agent")
            .args(mode)
            .args(["-node", &node_name])
            .args(
                (!extra.iter().any(|arg| arg.starts_with("-http-port")))
                    .then(|| format!("-http-port={http_port}")),
            )
            .arg(format!("-server-port={server_port}"))
            .args(
                (!extra.iter().any(|arg| arg.starts_with("-dns-port")))
                    .then(|| format!("-dns-port={dns_port}")),
            )
            .args(
                (!extra.iter().any(|arg| arg.starts_with("-serf-lan-port")))
                    .then(|| format!("-serf-lan-port={serf_lan_port}")),
            )
            .args(
                (!extra.iter().any(|arg| arg.starts_with("-serf-wan-port")))
                    .then(|| format!("-serf-wan-port={serf_wan_port}")),
            )
            .args(extra)
            .envs(env.iter().map(|(key, value)| (key, value)))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("cannot share the log file"))
            .stderr(log);
        let child = command.spawn().expect("cannot start proconsul");
        TestAgent {
            child: Some(child),
            http_port,
            server_port,
            dns_port,
            serf_lan_port,
            serf_wan_port,
            node_name,
            log_path,
            _dir: dir,
        }
    }

    /// Starts a plain dev agent.
    pub fn start() -> TestAgent {
        TestAgent::start_with(&[])
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.http_port)
    }

    /// `127.0.0.1:PORT`, as `CONSUL_HTTP_ADDR` takes it.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.http_port)
    }

    /// Runs a `proconsul` CLI command against this agent (`CONSUL_HTTP_ADDR` set, no
    /// token) and returns its output.
    pub fn cli(&self, args: &[&str]) -> std::process::Output {
        self.cli_command(args)
            .output()
            .expect("cannot run proconsul")
    }

    /// The `proconsul` CLI command against this agent, to spawn or run.
    pub fn cli_command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(binary());
        command
            .args(args)
            .env("CONSUL_HTTP_ADDR", self.addr())
            .env_remove("CONSUL_HTTP_TOKEN");
        command
    }

    /// What the agent has logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// Waits until the agent answers `/v1/status/leader` with a leader.
    pub fn wait_until_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let url = self.url("/v1/status/leader");
        while Instant::now() < deadline {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!("proconsul exited early ({status}):\n{}", self.log());
            }
            if let Ok(body) = blocking_get(&url)
                && body.trim() != "\"\""
                && !body.is_empty()
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("proconsul did not become ready:\n{}", self.log());
    }

    /// Sends SIGTERM and waits for the process to exit; returns its exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("agent already stopped");
        let pid = child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = child.try_wait().expect("cannot wait for the agent") {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("agent did not exit after SIGTERM:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Kills the process with SIGKILL: no clean shutdown.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Sends a signal (`STOP`, `CONT`, ...) to the process.
    pub fn signal(&self, signal: &str) {
        let child = self.child.as_ref().expect("agent stopped");
        let status = Command::new("kill")
            .args([format!("-{signal}"), child.id().to_string()])
            .status()
            .expect("cannot run kill");
        assert!(status.success(), "kill -{signal} failed");
    }

    /// The process's ID, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|child| matches!(child.try_wait(), Ok(None)))
    }
}

impl Drop for TestAgent {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A minimal HTTP/1.0 GET over std sockets, so readiness checks need no runtime.
fn blocking_get(url: &str) -> std::io::Result<String> {
    use std::io::{Read, Write};
    let rest = url.trim_start_matches("http://");
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut stream = std::net::TcpStream::connect(host)?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n")?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let (head, body) = response
        .split_once("\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no HTTP header"))?;
    if !head.starts_with("HTTP/1.1 200") && !head.starts_with("HTTP/1.0 200") {
        return Err(std::io::Error::other(head.to_string()));
    }
    Ok(body.to_string())
}

/// A raw HTTP answer: status, headers and body text.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Answer {
    /// The body parsed as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|error| panic!("not JSON ({error}): {:?}", self.body))
    }

    /// `X-Consul-Index` as a number.
    pub fn index(&self) -> u64 {
        self.headers
            .get("x-consul-index")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse().ok())
            .unwrap_or_else(|| panic!("no X-Consul-Index in {:?}", self.headers))
    }
}

/// Sends one request with an optional body and returns the whole answer.
pub async fn call(method: &str, url: &str, body: Option<Vec<u8>>) -> Answer {
    call_with_token(method, url, None, body).await
}

/// [`call`] with an `X-Consul-Token` header when `token` is given.
pub async fn call_with_token(
    method: &str,
    url: &str,
    token: Option<&str>,
    body: Option<Vec<u8>>,
) -> Answer {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::new();
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("bad method");
    let mut request = client.request(method, url);
    if let Some(token) = token {
        request = request.header("X-Consul-Token", token);
    }
    if let Some(body) = body {
        request = request.body(body);
    }
    let response = request.send().await.expect("request failed");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.text().await.expect("cannot read body");
    Answer {
        status,
        headers,
        body,
    }
}

/// `GET url`.
pub async fn get(url: &str) -> Answer {
    call("GET", url, None).await
}

/// Polls an async condition every 50 ms for up to `within`; panics naming `what` if it
/// never holds.
pub async fn eventually<F: std::future::Future<Output = bool>>(
    what: &str,
    within: Duration,
    mut condition: impl FnMut() -> F,
) {
    let deadline = Instant::now() + within;
    while !condition().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `PUT url` with a body.
pub async fn put(url: &str, body: impl Into<Vec<u8>>) -> Answer {
    call("PUT", url, Some(body.into())).await
}

/// How a [`CheckTarget`] answers.
#[derive(Debug, Clone)]
pub struct TargetBehaviour {
    pub status: u16,
    pub body: Vec<u8>,
    /// Wait this long before answering (a slow or hanging target).
    pub delay: std::time::Duration,
    /// Answer with a redirect to this path instead.
    pub redirect_to: Option<String>,
}

impl Default for TargetBehaviour {
    fn default() -> Self {
        TargetBehaviour {
            status: 200,
            body: b"ok".to_vec(),
            delay: std::time::Duration::ZERO,
            redirect_to: None,
        }
    }
}

/// A tiny HTTP/1.1 server on loopback that health checks probe; its answers can be
/// changed while it runs. Stops when dropped.
pub struct CheckTarget {
    pub addr: std::net::SocketAddr,
    behaviour: std::sync::Arc<std::sync::Mutex<TargetBehaviour>>,
    hits: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl CheckTarget {
    /// Starts a target answering with `behaviour`.
    pub async fn start(behaviour: TargetBehaviour) -> CheckTarget {
        use std::sync::atomic::Ordering;
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let behaviour = std::sync::Arc::new(std::sync::Mutex::new(behaviour));
        let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (shared, counter) = (behaviour.clone(), hits.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                let behaviour = shared.lock().expect("behaviour").clone();
                counter.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let mut request = Vec::new();
                    let mut buffer = [0u8; 1024];
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                        match stream.read(&mut buffer).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&buffer[..n]),
                        }
                    }
                    tokio::time::sleep(behaviour.delay).await;
                    let head = match &behaviour.redirect_to {
                        Some(location) => format!(
                            "HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                        ),
                        None => format!(
                            "HTTP/1.1 {} Status\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            behaviour.status,
                            behaviour.body.len()
                        ),
                    };
                    let _ = stream.write_all(head.as_bytes()).await;
                    if behaviour.redirect_to.is_none() {
                        let _ = stream.write_all(&behaviour.body).await;
                    }
                    let _ = stream.shutdown().await;
                });
            }
        });
        CheckTarget {
            addr,
            behaviour,
            hits,
            task,
        }
    }

    /// `http://127.0.0.1:PORT/path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Changes how the target answers from now on.
    pub fn set(&self, behaviour: TargetBehaviour) {
        *self.behaviour.lock().expect("behaviour") = behaviour;
    }

    /// How many connections the target has accepted.
    pub fn hits(&self) -> usize {
        self.hits.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Drop for CheckTarget {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Polls `GET /v1/agent/checks` until `check` has `status` (or panics after `within`);
/// returns the check's JSON.
pub async fn wait_for_check(
    agent: &TestAgent,
    check: &str,
    status: &str,
    within: std::time::Duration,
) -> serde_json::Value {
    let deadline = std::time::Instant::now() + within;
    loop {
        let checks = get(&agent.url("/v1/agent/checks")).await.json();
        if checks[check]["Status"] == status {
            return checks[check].clone();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "check {check} never became {status}: {}",
            checks[check]
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
