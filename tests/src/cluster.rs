//! A cluster of server processes on loopback. Each server keeps its ports and data dir
//! for the whole test, so a killed server restarts as the same member.

use std::time::{Duration, Instant};

use crate::{AgentPorts, TempDir, TestAgent};

/// One member's fixed identity.
struct Member {
    name: String,
    ports: AgentPorts,
    data: TempDir,
}

/// Servers started with `-bootstrap-expect=N` and `-retry-join` to each other's gossip
/// port (they find each other's server RPC addresses in member tags), with
/// `raft_multiplier = 1` so that elections take about a second.
pub struct TestCluster {
    members: Vec<Member>,
    agents: Vec<Option<TestAgent>>,
    extra: Vec<String>,
    /// Environment variables of each server's process, by index (restarts included).
    env: Vec<Vec<(String, String)>>,
}

impl TestCluster {
    /// Starts `size` servers and waits until every one knows the leader.
    pub fn start(size: usize, extra: &[&str]) -> TestCluster {
        TestCluster::start_with_env(size, extra, &[])
    }

    /// [`TestCluster::start`] with environment variables for every server process.
    pub fn start_with_env(size: usize, extra: &[&str], env: &[(&str, &str)]) -> TestCluster {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect();
        TestCluster::start_with_env_of(size, extra, |_| env.clone())
    }

    /// [`TestCluster::start`] with `env_of(i)` the environment of server `i`'s process
    /// (e.g. a clock of its own under libfaketime).
    pub fn start_with_env_of(
        size: usize,
        extra: &[&str],
        env_of: impl Fn(usize) -> Vec<(String, String)>,
    ) -> TestCluster {
        let members: Vec<Member> = (0..size)
            .map(|i| Member {
                name: format!("server-{}", i + 1),
                ports: AgentPorts::free(),
                data: TempDir::new("cluster"),
            })
            .collect();
        let mut cluster = TestCluster {
            agents: (0..size).map(|_| None).collect(),
            members,
            extra: extra.iter().map(|s| s.to_string()).collect(),
            env: (0..size).map(env_of).collect(),
        };
        for i in 0..size {
            cluster.launch(i);
        }
        for i in 0..size {
            cluster.agent_mut(i).wait_until_ready();
        }
        cluster
    }

    fn launch(&mut self, i: usize) {
        let size = self.members.len();
        let member = &self.members[i];
        let mut args = vec![
            "-server".to_string(),
            format!("-bootstrap-expect={size}"),
            format!("-data-dir={}", member.data.path().display()),
            "-raft-multiplier=1".to_string(),
            "-retry-interval=200ms".to_string(),
        ];
        for (j, other) in self.members.iter().enumerate() {
            if j != i {
                args.push(format!("-retry-join=127.0.0.1:{}", other.ports.serf_lan));
            }
        }
        args.extend(self.extra.iter().cloned());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.agents[i] = Some(TestAgent::launch_with_env(
            &[],
            Some(&member.name),
            &args,
            member.ports,
            &self.env[i],
        ));
    }

    /// Server `i`'s LAN gossip port.
    pub fn serf_port(&self, i: usize) -> u16 {
        self.members[i].ports.serf_lan
    }

    /// Server `i`'s server RPC address, as peers (and fault rules) know it.
    pub fn rpc_addr(&self, i: usize) -> String {
        format!("127.0.0.1:{}", self.members[i].ports.server)
    }

    /// Server `i`'s WAN gossip port.
    pub fn serf_wan_port(&self, i: usize) -> u16 {
        self.members[i].ports.serf_wan
    }

    /// Server `i`'s node name.
    pub fn name(&self, i: usize) -> &str {
        &self.members[i].name
    }

    /// Starts a client agent (no `-server`) named `name` on `ports`, keeping its state
    /// in `data_dir` and joined to servers `join` (their LAN gossip addresses), and
    /// waits until it answers through them.
    pub fn start_client(
        &self,
        name: &str,
        join: &[usize],
        data_dir: &std::path::Path,
        ports: AgentPorts,
        extra: &[&str],
    ) -> TestAgent {
        let mut args = vec![format!("-data-dir={}", data_dir.display())];
        for i in join {
            args.push(format!(
                "-retry-join=127.0.0.1:{}",
                self.members[*i].ports.serf_lan
            ));
        }
        args.extend(extra.iter().map(|arg| arg.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut client = TestAgent::launch(&[], Some(name), &args, ports);
        client.wait_until_ready();
        client
    }

    pub fn size(&self) -> usize {
        self.members.len()
    }

    /// The running server `i`.
    pub fn agent(&self, i: usize) -> &TestAgent {
        self.agents[i].as_ref().expect("server is stopped")
    }

    fn agent_mut(&mut self, i: usize) -> &mut TestAgent {
        self.agents[i].as_mut().expect("server is stopped")
    }

    /// The running servers' indexes.
    pub fn running(&self) -> Vec<usize> {
        (0..self.size())
            .filter(|i| self.agents[*i].is_some())
            .collect()
    }

    /// Stops server `i` with SIGTERM (a server does not leave on SIGTERM by default).
    pub fn terminate(&mut self, i: usize) {
        if let Some(mut agent) = self.agents[i].take() {
            agent.terminate();
        }
    }

    /// Forgets server `i` without touching its process (it stopped on its own, e.g.
    /// after `leave`).
    pub fn forget(&mut self, i: usize) {
        self.agents[i] = None;
    }

    /// Whether server `i`'s process has ended on its own (after `leave`, say); a server
    /// already stopped through this cluster counts as ended.
    pub fn has_exited(&mut self, i: usize) -> bool {
        self.agents[i]
            .as_mut()
            .is_none_or(|agent| !agent.is_running())
    }

    /// Kills server `i` with SIGKILL.
    pub fn kill(&mut self, i: usize) {
        if let Some(mut agent) = self.agents[i].take() {
            agent.kill();
        }
    }

    /// Starts server `i` again with its data dir and ports.
    pub fn restart(&mut self, i: usize) {
        assert!(self.agents[i].is_none(), "server {i} is running");
        self.launch(i);
    }

    /// Restarts server `i` and waits until it knows a leader (the others must be up).
    pub fn restart_and_wait(&mut self, i: usize) {
        self.restart(i);
        self.agent_mut(i).wait_until_ready();
    }

    /// The index of the server every running server agrees leads, once they agree.
    pub fn wait_for_leader(&self, within: Duration) -> usize {
        let deadline = Instant::now() + within;
        loop {
            if let Some(leader) = self.agreed_leader() {
                return leader;
            }
            assert!(Instant::now() < deadline, "no leader within {within:?}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The index of the server every running server names as leader now, if they agree
    /// and it is running.
    pub fn agreed_leader(&self) -> Option<usize> {
        let mut agreed = None;
        for i in self.running() {
            let body = crate::blocking_get(&self.agent(i).url("/v1/status/leader")).ok()?;
            let addr: String = serde_json::from_str(&body).ok()?;
            let port: u16 = addr.rsplit(':').next()?.parse().ok()?;
            let leader = self.members.iter().position(|m| m.ports.server == port)?;
            if agreed.is_some_and(|agreed| agreed != leader) {
                return None;
            }
            agreed = Some(leader);
        }
        agreed.filter(|leader| self.agents[*leader].is_some())
    }
}
