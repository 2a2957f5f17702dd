//! `proconsul agent`: turns Consul's agent flags into an [`AgentConfig`], sets up
//! logging, and runs the agent until SIGINT or SIGTERM.

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use proconsul_agent::{AgentConfig, StopSignal};
use proconsul_config::{ConfigSource, FileConfig, HttpAddress};

use super::agent_dns::DnsArgs;
use super::agent_gossip::GossipArgs;
use super::agent_log::LogArgs;
use super::agent_tls::TlsArgs;

/// Flags as Consul names them. Flags given on the command line override the same
/// settings from configuration files; both override Consul's defaults.
#[derive(Debug, Args)]
pub struct AgentArgs {
    /// Development mode: an in-memory server with no data dir.
    #[arg(long)]
    dev: bool,
    /// Run as a server; without it (and without -dev) the agent is a client agent,
    /// which forwards to the servers it joins.
    #[arg(long)]
    server: bool,
    /// Bootstrap a cluster with this server as its only voter.
    #[arg(long)]
    bootstrap: bool,
    /// How many servers to wait for before bootstrapping a cluster of them.
    #[arg(long = "bootstrap-expect", value_name = "N")]
    bootstrap_expect: Option<u32>,
    /// A server to join (its server RPC address, port 8300 by default), retried until it
    /// answers; repeatable. A client agent sends its requests to the servers given here
    /// (and to the others they report).
    #[arg(long = "retry-join", value_name = "ADDR")]
    retry_join: Vec<String>,
    /// A server to join at start-up; repeatable.
    #[arg(long = "join", value_name = "ADDR")]
    join: Vec<String>,
    /// The pause between join attempts [default: 30s].
    #[arg(long = "retry-interval", value_name = "DURATION", value_parser = super::go_duration)]
    retry_interval: Option<Duration>,
    /// performance.raft_multiplier: scales Raft's timeouts (1 fastest) [default: 5].
    #[arg(long = "raft-multiplier", value_name = "N", hide = true)]
    raft_multiplier: Option<u32>,
    /// Where the Raft log and snapshots are kept (required outside -dev).
    #[arg(long = "data-dir", value_name = "PATH")]
    data_dir: Option<PathBuf>,
    /// Log entries between Raft snapshots [default: 16384].
    #[arg(long = "raft-snapshot-threshold", value_name = "N", hide = true)]
    raft_snapshot_threshold: Option<u64>,
    /// Log entries kept after a Raft snapshot [default: 10240].
    #[arg(long = "raft-trailing-logs", value_name = "N", hide = true)]
    raft_trailing_logs: Option<u64>,
    /// A configuration file (HCL or JSON); repeatable.
    #[arg(long = "config-file", value_name = "PATH")]
    config_file: Vec<PathBuf>,
    /// A directory of *.hcl and *.json configuration files; repeatable.
    #[arg(long = "config-dir", value_name = "PATH")]
    config_dir: Vec<PathBuf>,
    /// Files and directories in command-line order (set after parsing).
    #[arg(skip)]
    ordered_sources: Option<Vec<ConfigSource>>,
    /// The node's name [default: the host name].
    #[arg(long, allow_hyphen_values = true)]
    node: Option<String>,
    /// The datacenter this agent runs in [default: dc1].
    #[arg(long)]
    datacenter: Option<String>,
    /// The address the HTTP API listens on [default: 127.0.0.1].
    #[arg(long, value_name = "IP")]
    client: Option<IpAddr>,
    /// The address for cluster traffic, advertised as the node's address [default: 127.0.0.1].
    #[arg(long, value_name = "IP")]
    bind: Option<IpAddr>,
    /// The HTTP API port [default: 8500]; -1 turns plain HTTP off.
    #[arg(long = "http-port", value_name = "PORT", allow_hyphen_values = true)]
    http_port: Option<i32>,
    /// The server RPC (Raft) port [default: 8300].
    #[arg(long = "server-port", value_name = "PORT")]
    server_port: Option<u16>,
    /// The largest KV value accepted, in bytes (Consul's limits.kv_max_value_size).
    #[arg(long = "kv-max-value-size", value_name = "BYTES", hide = true)]
    kv_max_value_size: Option<usize>,
    /// trace, debug, info, warn or err [default: info].
    #[arg(long = "log-level", value_name = "LEVEL")]
    log_level: Option<String>,
    #[command(flatten)]
    log: LogArgs,
    /// Serve the web UI (on by default with -dev; `ui_config.enabled`).
    #[arg(long)]
    ui: bool,
    /// The URL path the web UI is served under [default: /ui/] (`ui_config.content_path`).
    #[arg(long = "ui-content-path", value_name = "PATH")]
    ui_content_path: Option<String>,
    /// Record no metrics (benchmarks measure what recording costs with it).
    #[arg(long = "no-metrics", hide = true)]
    no_metrics: bool,
    #[command(flatten)]
    dns: DnsArgs,
    #[command(flatten)]
    tls: TlsArgs,
    #[command(flatten)]
    gossip: GossipArgs,
    /// Run script checks, from the HTTP API or config files (a remote-execution risk).
    #[arg(long = "enable-script-checks")]
    enable_script_checks: bool,
    /// Run script checks defined in configuration files only.
    #[arg(long = "enable-local-script-checks")]
    enable_local_script_checks: bool,
    /// How often anti-entropy compares the agent with the catalog (tests shorten it).
    #[arg(long = "ae-interval", value_name = "DURATION", default_value = "1m", value_parser = super::go_duration, hide = true)]
    ae_interval: Duration,
    /// How long a server collects coordinate updates before writing them (tests
    /// shorten it).
    #[arg(long = "coordinate-update-period", value_name = "DURATION", default_value = "5s", value_parser = super::go_duration, hide = true)]
    coordinate_update_period: Duration,
    /// The least time between two reports of this agent's own coordinate (tests
    /// shorten it).
    #[arg(long = "sync-coordinate-interval-min", value_name = "DURATION", default_value = "15s", value_parser = super::go_duration, hide = true)]
    sync_coordinate_interval_min: Duration,
    /// How often services with long-critical checks are reaped (tests shorten it).
    #[arg(long = "check-reap-interval", value_name = "DURATION", default_value = "30s", value_parser = super::go_duration, hide = true)]
    check_reap_interval: Duration,
    /// The least DeregisterCriticalServiceAfter honoured (tests shorten it).
    #[arg(long = "check-deregister-minimum", value_name = "DURATION", default_value = "1m", value_parser = super::go_duration, hide = true)]
    check_deregister_minimum: Duration,
}

impl AgentArgs {
    /// The web UI: `-ui` turns it on, else `ui_config.enabled`, else on only in `-dev`
    /// (as in Consul); the content path from `-ui-content-path` or the file.
    fn ui_settings(&self, files: &FileConfig) -> anyhow::Result<proconsul_ui::UiSettings> {
        let path = self
            .ui_content_path
            .as_deref()
            .or(files.ui_config.content_path.as_deref())
            .unwrap_or(proconsul_ui::DEFAULT_CONTENT_PATH);
        let content_path = proconsul_ui::normalize_content_path(path).ok_or_else(|| {
            anyhow::anyhow!(
                "ui_config.content_path: {path:?} is not a path the UI can be served under"
            )
        })?;
        Ok(proconsul_ui::UiSettings {
            enabled: self.ui || files.ui_config.enabled.unwrap_or(self.dev),
            content_path,
        })
    }

    /// Whether this agent is a server (`-server`, `server = true`, or `-dev`); else a
    /// client agent.
    fn is_server(&self, files: &FileConfig) -> bool {
        self.dev || self.server || files.server == Some(true)
    }

    /// Outside `-dev` an agent needs a data directory: a server for its Raft log, and
    /// a client (as in Consul) for its node ID and local state. A client has no Raft
    /// (no bootstrap settings); with ACLs it resolves tokens through the servers.
    fn check_mode(&self, files: &FileConfig) -> Result<(), String> {
        if self.dev {
            return Ok(());
        }
        let data_dir = self
            .data_dir
            .clone()
            .or_else(|| files.data_dir.clone().map(PathBuf::from));
        if data_dir.is_none_or(|dir| dir.as_os_str().is_empty()) {
            return Err("data_dir cannot be empty".to_string());
        }
        let expect = self.bootstrap_expect.or(files.bootstrap_expect);
        let bootstrap = self.bootstrap || files.bootstrap == Some(true);
        if !self.is_server(files) {
            if expect.is_some_and(|expect| expect > 0) {
                return Err("'bootstrap_expect > 0' requires 'server = true'".to_string());
            }
            if bootstrap {
                return Err("'bootstrap = true' requires 'server = true'".to_string());
            }
            return Ok(());
        }
        if bootstrap && expect.is_some() {
            return Err("'bootstrap' and 'bootstrap_expect' are mutually exclusive".to_string());
        }
        if expect == Some(0) {
            return Err("bootstrap_expect must be at least 1".to_string());
        }
        if let Some(multiplier) = self
            .raft_multiplier
            .or(files.performance.raft_multiplier)
            .filter(|m| !(1..=10).contains(m))
        {
            return Err(format!(
                "performance.raft_multiplier cannot be {multiplier}. Must be between 1 and 10"
            ));
        }
        Ok(())
    }

    /// The configuration sources in the order they are read: as given on the command
    /// line (when known), else files, then directories.
    fn sources(&self) -> Vec<ConfigSource> {
        if let Some(ordered) = &self.ordered_sources {
            return ordered.clone();
        }
        let files = self.config_file.iter().cloned().map(ConfigSource::File);
        let dirs = self.config_dir.iter().cloned().map(ConfigSource::Dir);
        files.chain(dirs).collect()
    }

    /// Records the command-line order of `-config-file` and `-config-dir`.
    pub fn order_sources(&mut self, matches: &clap::ArgMatches) {
        let positions = |id: &str| -> Vec<usize> {
            matches
                .indices_of(id)
                .map(Iterator::collect)
                .unwrap_or_default()
        };
        let mut sources: Vec<(usize, ConfigSource)> = positions("config_file")
            .into_iter()
            .zip(self.config_file.iter().cloned().map(ConfigSource::File))
            .chain(
                positions("config_dir")
                    .into_iter()
                    .zip(self.config_dir.iter().cloned().map(ConfigSource::Dir)),
            )
            .collect();
        sources.sort_by_key(|(position, _)| *position);
        self.ordered_sources = Some(sources.into_iter().map(|(_, source)| source).collect());
    }

    /// The agent configuration: flags over files over Consul's defaults.
    fn config(&self, files: &FileConfig) -> anyhow::Result<AgentConfig> {
        let defaults = AgentConfig::default();
        let port =
            |flag: Option<u16>, file: Option<i32>, default: u16, name: &str| match (flag, file) {
                (Some(port), _) => Ok(port),
                (None, Some(port)) => u16::try_from(port).map_err(|_| {
                    anyhow::anyhow!("ports.{name}: {port} is not a port this agent can listen on")
                }),
                (None, None) => Ok(default),
            };
        let dns = self.dns.settings(files)?;
        let datacenter = self
            .datacenter
            .clone()
            .or_else(|| files.datacenter.clone())
            .unwrap_or(defaults.datacenter.clone());
        Ok(AgentConfig {
            dev: self.dev,
            server: self.is_server(files),
            data_dir: (!self.dev)
                .then(|| {
                    self.data_dir
                        .clone()
                        .or_else(|| files.data_dir.clone().map(PathBuf::from))
                })
                .flatten(),
            raft_snapshot_threshold: self
                .raft_snapshot_threshold
                .or(files.raft_snapshot_threshold)
                .unwrap_or(defaults.raft_snapshot_threshold),
            raft_trailing_logs: self
                .raft_trailing_logs
                .or(files.raft_trailing_logs)
                .unwrap_or(defaults.raft_trailing_logs),
            bootstrap: self.bootstrap || files.bootstrap == Some(true),
            bootstrap_expect: self
                .bootstrap_expect
                .or(files.bootstrap_expect)
                .unwrap_or(0),
            retry_join: merged(&self.retry_join, &files.retry_join),
            start_join: merged(&self.join, &files.start_join),
            retry_interval: self
                .retry_interval
                .or(files.retry_interval.map(|d| d.0))
                .unwrap_or(defaults.retry_interval),
            raft_multiplier: self
                .raft_multiplier
                .or(files.performance.raft_multiplier)
                .unwrap_or(defaults.raft_multiplier),
            autopilot: files.autopilot.configuration(),
            // Consul: clients leave on SIGTERM, servers do not.
            leave_on_terminate: files
                .leave_on_terminate
                .unwrap_or(!(self.dev || self.server || files.server == Some(true))),
            dns_port: dns.port,
            dns_addr: dns.addr,
            http_addr: match &files.addresses.http {
                Some(HttpAddress::Ip(ip)) => Some(*ip),
                _ => None,
            },
            http_unix_socket: match &files.addresses.http {
                Some(HttpAddress::Unix(path)) => Some(path.clone()),
                _ => None,
            },
            rpc_tls: super::agent_tls::rpc_tls(files, &datacenter, &dns.config.domain)?,
            dns: dns.config,
            node_name: self
                .node
                .clone()
                .or_else(|| files.node_name.clone())
                .filter(|node| !node.is_empty()),
            datacenter,
            client_addr: self
                .client
                .or(files.client_addr)
                .unwrap_or(defaults.client_addr),
            // `-1` (flag or `ports.http`) turns plain HTTP off; a flag port turns it on.
            http_disabled: self.http_port.or(files.ports.http) == Some(-1),
            http_port: match self.http_port.or(files.ports.http) {
                Some(-1) => defaults.http_port,
                chosen => port(None, chosen, defaults.http_port, "http")?,
            },
            bind_addr: self.bind.or(files.bind_addr).unwrap_or(defaults.bind_addr),
            server_port: port(
                self.server_port,
                files.ports.server,
                defaults.server_port,
                "server",
            )?,
            kv_max_value_size: self
                .kv_max_value_size
                .or(files.limits.kv_max_value_size)
                .unwrap_or(defaults.kv_max_value_size),
            enable_script_checks: self.enable_script_checks
                || files.enable_script_checks == Some(true),
            enable_local_script_checks: self.enable_local_script_checks
                || files.enable_local_script_checks == Some(true),
            config_sources: self.sources(),
            services: files.service_registrations().map_err(anyhow::Error::msg)?,
            checks: files.check_registrations().map_err(anyhow::Error::msg)?,
            node_id: files
                .node_id
                .as_deref()
                .filter(|id| !id.is_empty())
                .map(|id| {
                    uuid::Uuid::parse_str(id)
                        .map_err(|error| anyhow::anyhow!("node_id: {id:?} is not a UUID: {error}"))
                })
                .transpose()?,
            node_meta: files.node_meta.clone(),
            connect_enabled: files.connect.enabled.unwrap_or(self.dev),
            connect_cluster_id: files.connect.ca_config.cluster_id.clone(),
            ui: self.ui_settings(files)?,
            ae_interval: self.ae_interval,
            coordinates: proconsul_agent::CoordinateSettings {
                update_period: self.coordinate_update_period,
                sync_interval_min: self.sync_coordinate_interval_min,
                ..defaults.coordinates.clone()
            },
            check_reap_interval: self.check_reap_interval,
            check_deregister_minimum: self.check_deregister_minimum,
            primary_datacenter: files.primary_datacenter.clone().filter(|dc| !dc.is_empty()),
            acl: super::agent_acl::acl_config(&files.acl),
            telemetry: super::agent_telemetry::telemetry_config(files, self.no_metrics),
            checks_tls: super::agent_tls::checks_tls(files),
            gossip: self.gossip.settings(files, self.is_server(files))?,
            https: self.tls.https(
                files,
                self.client
                    .or(files.client_addr)
                    .unwrap_or(defaults.client_addr),
            )?,
            ..defaults
        })
    }
}

/// Flag values then file values, each once.
pub(super) fn merged(flags: &[String], files: &[String]) -> Vec<String> {
    let mut all: Vec<String> = flags.iter().chain(files).cloned().collect();
    let mut seen = std::collections::BTreeSet::new();
    all.retain(|addr| seen.insert(addr.clone()));
    all
}

pub async fn run(args: AgentArgs) -> anyhow::Result<ExitCode> {
    let files = match proconsul_config::load(&args.sources()) {
        Ok(files) => files,
        Err(error) => {
            return Ok(super::fail(format!(
                "==> Error loading configuration: {error}"
            )));
        }
    };
    let log_level = args
        .log_level
        .clone()
        .or_else(|| files.log_level.clone())
        .unwrap_or_else(|| "info".to_string());
    let Some(level) = proconsul_agent::logging::parse_level(&log_level) else {
        return Ok(super::fail(format!(
            "==> {}",
            proconsul_agent::logging::invalid_level(&log_level)
        )));
    };
    if let Err(message) = args.check_mode(&files) {
        return Ok(super::fail(format!("==> {message}")));
    }
    let log_hub = proconsul_agent::monitor::LogHub::default();
    let log_settings = args.log.settings(&files, level, args.log_level.clone());
    let log_level = match proconsul_agent::logging::init(log_settings, &log_hub) {
        Ok(control) => control,
        Err(error) => return Ok(super::fail(format!("==> {error}"))),
    };
    if !files.ignored.is_empty() {
        tracing::warn!(
            "config: ignoring keys Proconsul does not implement: {}",
            files.ignored.join(", ")
        );
    }
    let config = match args.config(&files) {
        Ok(config) => AgentConfig {
            log_hub,
            log_level,
            ..config
        },
        Err(error) => {
            return Ok(super::fail(format!(
                "==> Error loading configuration: {error}"
            )));
        }
    };
    // Installed before the agent starts, so that an early SIGINT stops it cleanly.
    let shutdown = shutdown_signal()?;
    proconsul_agent::run(config, shutdown)
        .await
        .map_err(|error| anyhow::anyhow!("==> Error running agent: {error}"))?;
    Ok(ExitCode::SUCCESS)
}

/// A future that resolves on the first SIGINT or SIGTERM, saying which. The handlers
/// are installed now, not when the future is first polled.
fn shutdown_signal() -> anyhow::Result<impl Future<Output = StopSignal> + Send + 'static> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        let (name, stop) = tokio::select! {
            _ = interrupt.recv() => ("SIGINT", StopSignal::Interrupt),
            _ = terminate.recv() => ("SIGTERM", StopSignal::Terminate),
        };
        tracing::info!(signal = name, "caught signal, shutting down");
        stop
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Wrapper {
        #[command(flatten)]
        agent: AgentArgs,
    }

    fn parse(args: &[&str]) -> AgentArgs {
        Wrapper::try_parse_from(std::iter::once("agent").chain(args.iter().copied()))
            .unwrap()
            .agent
    }

    #[test]
    fn config_sources_keep_command_line_order() {
        use clap::{CommandFactory, FromArgMatches};
        let argv = [
            "proconsul",
            "agent",
            "--dev",
            "--config-dir",
            "d1",
            "--config-file",
            "f1",
            "--config-dir",
            "d2",
            "--config-file",
            "f2",
        ];
        let matches = super::super::Cli::command().get_matches_from(argv);
        let mut cli = super::super::Cli::from_arg_matches(&matches).unwrap();
        cli.record_argument_order(&matches);
        let super::super::Commands::Agent(args) = cli.command else {
            panic!("not the agent command");
        };
        let names: Vec<String> = args
            .sources()
            .into_iter()
            .map(|source| match source {
                ConfigSource::File(path) => format!("file {}", path.display()),
                ConfigSource::Dir(path) => format!("dir {}", path.display()),
            })
            .collect();
        assert_eq!(names, ["dir d1", "file f1", "dir d2", "file f2"]);
    }

    #[test]
    fn defaults_are_consuls() {
        let config = parse(&["--dev"]).config(&FileConfig::default()).unwrap();
        let default = AgentConfig::default();
        assert!(config.dev);
        assert_eq!(config.node_name, None);
        assert_eq!(config.datacenter, default.datacenter);
        assert_eq!(config.client_addr, default.client_addr);
        assert_eq!(config.bind_addr, default.bind_addr);
        assert_eq!(config.http_port, default.http_port);
        assert_eq!(config.server_port, default.server_port);
        assert_eq!(config.kv_max_value_size, default.kv_max_value_size);
        assert_eq!(config.coordinates, default.coordinates);
    }

    #[test]
    fn flags_reach_the_config() {
        let config = parse(&[
            "--dev",
            "--node=n1",
            "--datacenter=east",
            "--client=0.0.0.0",
            "--bind=::1",
            "--http-port=8501",
            "--server-port=8301",
            "--kv-max-value-size=10",
        ])
        .config(&FileConfig::default())
        .unwrap();
        assert_eq!(config.node_name.as_deref(), Some("n1"));
        assert_eq!(config.datacenter, "east");
        assert_eq!(config.client_addr.to_string(), "0.0.0.0");
        assert_eq!(config.bind_addr.to_string(), "::1");
        assert_eq!(config.http_port, 8501);
        assert_eq!(config.server_port, 8301);
        assert_eq!(config.kv_max_value_size, 10);
    }

    #[test]
    fn http_port_minus_one_turns_plain_http_off_and_a_flag_port_back_on() {
        let off: FileConfig =
            serde_json::from_value(serde_json::json!({"ports": {"http": -1}})).unwrap();
        assert!(parse(&["--dev"]).config(&off).unwrap().http_disabled);
        let flag_off = parse(&["--dev", "--http-port=-1"]);
        assert!(
            flag_off
                .config(&FileConfig::default())
                .unwrap()
                .http_disabled
        );
        let flag_on = parse(&["--dev", "--http-port=8502"]).config(&off).unwrap();
        assert!(!flag_on.http_disabled);
        assert_eq!(flag_on.http_port, 8502);
    }

    #[test]
    fn server_rpc_tls_follows_consuls_flags() {
        let config = |tls: serde_json::Value| {
            let files: FileConfig =
                serde_json::from_value(serde_json::json!({"datacenter": "east", "tls": tls}))
                    .unwrap();
            parse(&["--server", "--data-dir=/tmp/x", "--domain=example."]).config(&files)
        };
        // Nothing set: plaintext.
        assert_eq!(config(serde_json::json!({})).unwrap().rpc_tls, None);
        // A certificate: TLS accepted (certificates asked for, not required), plaintext
        // out.
        let pair = serde_json::json!({"ca_file": "/ca.pem", "cert_file": "/s.pem", "key_file": "/s-key.pem"});
        let accepting = config(serde_json::json!({"defaults": pair}))
            .unwrap()
            .rpc_tls
            .unwrap();
        let server = accepting.server.as_ref().unwrap();
        assert!(server.request_client_cert && !server.verify_incoming);
        assert_eq!(accepting.client, None);
        assert!(!accepting.verify_incoming);
        // All three flags, the legacy names included: TLS both ways, the server name
        // from the datacenter and domain, the certificate presented to peers.
        let strict = config(serde_json::json!({
            "defaults": pair,
            "internal_rpc": {"verify_incoming": true, "verify_outgoing": true, "verify_server_hostname": true},
        }))
        .unwrap()
        .rpc_tls
        .unwrap();
        assert!(strict.verify_incoming);
        assert_eq!(strict.server_name.as_deref(), Some("server.east.example"));
        let client = strict.client.unwrap();
        assert_eq!(client.server_name.as_deref(), Some("server.east.example"));
        assert!(!client.ca_only);
        assert_eq!(client.client_cert.unwrap().to_str(), Some("/s.pem"));
        // `verify_outgoing` alone checks the CA, not the name.
        let outgoing = config(
            serde_json::json!({"defaults": pair, "internal_rpc": {"verify_outgoing": true}}),
        )
        .unwrap()
        .rpc_tls
        .unwrap();
        assert!(outgoing.client.unwrap().ca_only);
        // Refused at start: verify_incoming without a certificate or CA, verify_outgoing
        // without a CA, half a pair.
        for (tls, expected) in [
            (
                serde_json::json!({"internal_rpc": {"verify_incoming": true, "ca_file": "/ca.pem"}}),
                "verify_incoming",
            ),
            (
                serde_json::json!({"internal_rpc": {"verify_incoming": true, "cert_file": "/s.pem", "key_file": "/k.pem"}}),
                "verify_incoming",
            ),
            (
                serde_json::json!({"internal_rpc": {"verify_outgoing": true}}),
                "verify_outgoing",
            ),
            (
                serde_json::json!({"internal_rpc": {"cert_file": "/s.pem"}}),
                "key_file",
            ),
        ] {
            let error = config(tls.clone()).unwrap_err().to_string();
            assert!(error.contains(expected), "{tls}: {error}");
        }
    }

    #[test]
    fn an_agent_without_server_is_a_client_that_needs_a_data_dir_and_no_raft_settings() {
        let files = FileConfig::default();
        let client = parse(&["--data-dir=/tmp/x", "--retry-join=127.0.0.2"]);
        assert_eq!(client.check_mode(&files), Ok(()));
        let config = client.config(&files).unwrap();
        assert!(!config.server);
        assert_eq!(config.retry_join, ["127.0.0.2"]);
        assert!(
            parse(&["--server", "--data-dir=/tmp/x"])
                .config(&files)
                .unwrap()
                .server
        );
        assert!(parse(&["--dev"]).config(&files).unwrap().server);
        let from_file: FileConfig =
            serde_json::from_value(serde_json::json!({"server": true})).unwrap();
        assert!(
            parse(&["--data-dir=/tmp/x"])
                .config(&from_file)
                .unwrap()
                .server
        );
        for (args, expected) in [
            (vec![], "data_dir cannot be empty"),
            (
                vec!["--data-dir=/tmp/x", "--bootstrap"],
                "'bootstrap = true' requires",
            ),
            (
                vec!["--data-dir=/tmp/x", "--bootstrap-expect=3"],
                "'bootstrap_expect > 0' requires",
            ),
        ] {
            let error = parse(&args).check_mode(&files).unwrap_err();
            assert!(error.contains(expected), "{args:?}: {error}");
        }
    }

    #[test]
    fn a_client_agent_takes_the_acl_block_with_consuls_defaults() {
        let files: FileConfig = serde_json::from_value(serde_json::json!({
            "acl": {
                "enabled": true,
                "default_policy": "deny",
                "down_policy": "async-cache",
                "token_ttl": "5s",
                "tokens": {"agent": "agent-secret", "default": "default-secret"},
            }
        }))
        .unwrap();
        let client = parse(&["--data-dir=/tmp/x"]);
        assert_eq!(client.check_mode(&files), Ok(()));
        let config = client.config(&files).unwrap();
        assert!(!config.server);
        assert!(config.acl.enabled);
        assert_eq!(config.acl.down_policy.as_str(), "async-cache");
        assert_eq!(config.acl.token_ttl, Duration::from_secs(5));
        assert_eq!(config.acl.tokens.agent.as_deref(), Some("agent-secret"));
        let defaults: FileConfig =
            serde_json::from_value(serde_json::json!({"acl": {"enabled": true}})).unwrap();
        let config = client.config(&defaults).unwrap();
        assert_eq!(config.acl.down_policy.as_str(), "extend-cache");
        assert_eq!(config.acl.token_ttl, Duration::from_secs(30));
    }

    #[test]
    fn node_id_node_meta_and_connect_from_files() {
        let files: FileConfig = serde_json::from_value(serde_json::json!({
            "node_id": "6f0c1e0e-6a55-4f7e-9d43-1d1e5a3c7b1a",
            "node_meta": {"rack": "r1"},
            "connect": {"enabled": true, "ca_config": {"cluster_id": "c1"}},
        }))
        .unwrap();
        let config = parse(&["--server", "--data-dir=/tmp/x"])
            .config(&files)
            .unwrap();
        assert_eq!(
            config.node_id.unwrap().to_string(),
            "6f0c1e0e-6a55-4f7e-9d43-1d1e5a3c7b1a"
        );
        assert_eq!(config.node_meta["rack"], "r1");
        assert!(config.connect_enabled);
        assert_eq!(config.connect_cluster_id.as_deref(), Some("c1"));

        // The UI too, and -ui or ui_config turns it on elsewhere.
        let plain = ["--data-dir=/tmp/x"];
        assert!(
            parse(&["--dev"])
                .config(&FileConfig::default())
                .unwrap()
                .ui
                .enabled
        );
        assert!(
            !parse(&plain)
                .config(&FileConfig::default())
                .unwrap()
                .ui
                .enabled
        );
        assert!(
            parse(&["--data-dir=/tmp/x", "--ui"])
                .config(&FileConfig::default())
                .unwrap()
                .ui
                .enabled
        );
        let mut files = FileConfig::default();
        files.ui_config.enabled = Some(true);
        files.ui_config.content_path = Some("consul".into());
        let ui = parse(&plain).config(&files).unwrap().ui;
        assert!(ui.enabled);
        assert_eq!(ui.content_path, "/consul/");
        files.ui_config.enabled = Some(false);
        assert!(!parse(&["--dev"]).config(&files).unwrap().ui.enabled);
        files.ui_config.content_path = Some("/v1/".into());
        assert!(parse(&["--dev"]).config(&files).is_err());
        // Connect is on by default in -dev only, as in Consul.
        let dev = parse(&["--dev"]).config(&FileConfig::default()).unwrap();
        assert!(dev.connect_enabled);
        let server = parse(&["--server", "--data-dir=/tmp/x"])
            .config(&FileConfig::default())
            .unwrap();
        assert!(!server.connect_enabled);

        let bad: FileConfig =
            serde_json::from_value(serde_json::json!({"node_id": "not-a-uuid"})).unwrap();
        let error = parse(&["--dev"]).config(&bad).unwrap_err().to_string();
        assert!(error.contains("node_id"), "{error}");
    }
}
