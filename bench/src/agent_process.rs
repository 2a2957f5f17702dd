//! A server under test as a child process (Proconsul, or a peer), with its CPU time and
//! memory read from `/proc`. Killed on drop.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running server process.
pub struct AgentProcess {
    child: Child,
    /// Its HTTP base URL.
    pub http: String,
    /// Kept until the process is gone (a data dir, for instance).
    _scratch: Option<Scratch>,
}

/// A temporary directory removed on drop.
pub struct Scratch(pub std::path::PathBuf);

impl Scratch {
    pub fn new(tag: &str) -> anyhow::Result<Scratch> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let path = std::env::temp_dir().join(format!(
            "proconsul-bench-{tag}-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&path)?;
        Ok(Scratch(path))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl AgentProcess {
    /// `proconsul agent -dev` on free loopback ports, once its leader is known.
    pub async fn start(binary: &str) -> anyhow::Result<AgentProcess> {
        Self::start_proconsul(binary, &["-dev"], None).await
    }

    /// A durable single server (`-server -bootstrap`) with a scratch data dir.
    pub async fn start_durable(binary: &str) -> anyhow::Result<AgentProcess> {
        let scratch = Scratch::new("durable")?;
        let data_dir = format!("-data-dir={}", scratch.0.display());
        Self::start_proconsul(binary, &["-server", "-bootstrap", &data_dir], Some(scratch)).await
    }

    async fn start_proconsul(
        binary: &str,
        mode: &[&str],
        scratch: Option<Scratch>,
    ) -> anyhow::Result<AgentProcess> {
        let port = free_port()?;
        let mut command = Command::new(binary);
        command
            .arg("agent")
            .args(mode)
            .args(["-log-level=warn", "-node=bench"])
            .arg(format!("-http-port={port}"))
            .arg(format!("-server-port={}", free_port()?))
            .arg(format!("-dns-port={}", free_port()?))
            .arg(format!("-serf-lan-port={}", free_port()?))
            .arg(format!("-serf-wan-port={}", free_port()?));
        let http = format!("http://127.0.0.1:{port}");
        let ready = format!("{http}/v1/status/leader");
        Self::spawn(command, http, scratch, &ready, |body| body.len() > 2).await
    }

    /// Starts `command` (already given its ports) and waits until `ready_url` answers
    /// with a body `ready` accepts.
    pub async fn spawn(
        mut command: Command,
        http: String,
        scratch: Option<Scratch>,
        ready_url: &str,
        ready: impl Fn(&str) -> bool,
    ) -> anyhow::Result<AgentProcess> {
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let agent = AgentProcess {
            child,
            http,
            _scratch: scratch,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        let client = proconsul_api::client::http_client();
        loop {
            let answer = client.get(ready_url).send().await;
            if let Ok(response) = answer
                && response.text().await.is_ok_and(|body| ready(&body))
            {
                return Ok(agent);
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "{ready_url} did not become ready"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// User plus system CPU time the process has used so far.
    pub fn cpu_time(&self) -> anyhow::Result<Duration> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id()))?;
        // Fields after the command name (which may hold spaces) start after ')'.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest.split_whitespace().collect())
            .unwrap_or_default();
        let ticks: u64 = fields.get(11).and_then(|t| t.parse().ok()).unwrap_or(0)
            + fields.get(12).and_then(|t| t.parse().ok()).unwrap_or(0);
        // Linux reports CPU time in USER_HZ, 100 per second on every common build.
        Ok(Duration::from_millis(ticks * 10))
    }

    /// Resident memory, in MiB.
    pub fn rss_mib(&self) -> anyhow::Result<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        let kib: f64 = status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kib| kib.parse().ok())
            .unwrap_or(0.0);
        Ok(kib / 1024.0)
    }
}

impl Drop for AgentProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free TCP port on loopback.
pub fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}
