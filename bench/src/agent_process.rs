//! The agent under test as a child process, with its CPU time and memory read from
//! `/proc`.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `proconsul agent -dev`, killed on drop.
pub struct AgentProcess {
    child: Child,
    pub http: String,
}

impl AgentProcess {
    /// Starts the agent on free loopback ports and waits for its leader.
    pub async fn start(binary: &str) -> anyhow::Result<AgentProcess> {
        let port = free_port()?;
        let child = Command::new(binary)
            .args(["agent", "-dev", "-log-level=warn", "-node=bench"])
            .arg(format!("-http-port={port}"))
            .arg(format!("-server-port={}", free_port()?))
            .arg(format!("-dns-port={}", free_port()?))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()?;
        let agent = AgentProcess {
            child,
            http: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        let client = proconsul_api::client::http_client();
        loop {
            let leader = client
                .get(format!("{}/v1/status/leader", agent.http))
                .send()
                .await;
            if let Ok(response) = leader
                && response.text().await.is_ok_and(|body| body.len() > 2)
            {
                return Ok(agent);
            }
            anyhow::ensure!(Instant::now() < deadline, "the agent did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// User plus system CPU time the agent has used so far.
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

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}
