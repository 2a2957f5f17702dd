//! The command tree. `agent` runs the agent; every other command is an HTTP client
//! sharing [`HttpArgs`], Consul's `-http-addr`, `-token`, `-datacenter` and `-stale`.

pub mod acl;
pub mod agent;
mod agent_acl;
mod agent_dns;
mod agent_gossip;
mod agent_log;
mod agent_telemetry;
mod agent_tls;
pub mod catalog;
pub mod debug;
pub mod event;
pub mod force_leave;
mod http_args;
pub mod info;
pub mod join;
pub mod keygen;
pub mod keyring;
pub mod kv;
pub mod leave;
pub mod lock;
pub mod maint;
pub mod members;
pub mod monitor;
pub mod operator;
mod operator_autopilot;
pub mod reload;
pub mod rtt;
pub mod services;
pub mod snapshot;
pub mod tls;
pub mod validate;
pub mod version;
pub mod watch;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use http_args::HttpArgs;

/// Proconsul: Consul's HTTP API and CLI, in Rust.
#[derive(Debug, Parser)]
#[command(name = "proconsul", about, disable_version_flag = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Commands,
}

#[derive(Debug, Subcommand)]
enum Commands {
    /// Runs an agent (`-dev` for an in-memory development server).
    Agent(agent::AgentArgs),
    /// Manages ACL tokens, policies and roles, and the agent's own tokens.
    #[command(subcommand)]
    Acl(acl::AclCommand),
    /// Reads and writes the key/value store.
    #[command(subcommand)]
    Kv(kv::KvCommand),
    /// Lists datacenters, nodes and services.
    #[command(subcommand)]
    Catalog(catalog::CatalogCommand),
    /// Lists the members of the cluster.
    Members(members::MembersArgs),
    /// Prints the agent's statistics (agent/self's Stats), by section.
    Info(info::InfoArgs),
    /// Records a debugging archive (agent, host, members, log, metrics) for operators.
    Debug(debug::DebugArgs),
    /// Streams the agent's log, at a level of its own, until interrupted.
    Monitor(monitor::MonitorArgs),
    /// Joins this agent to the servers at the given addresses.
    Join(join::JoinArgs),
    /// Makes the local agent leave its cluster and shut down.
    Leave(leave::LeaveArgs),
    /// Moves a failed member to left, or erases it with -prune.
    ForceLeave(force_leave::ForceLeaveArgs),
    /// Prints a new gossip encryption key.
    Keygen(keygen::KeygenArgs),
    /// Lists and changes the gossip encryption keys of every member.
    Keyring(keyring::KeyringArgs),
    /// Puts the node or a service in maintenance mode, or takes it out.
    Maint(maint::MaintArgs),
    /// Registers and deregisters services with the local agent.
    #[command(subcommand)]
    Services(services::ServicesCommand),
    /// Estimates the round-trip time between two nodes from their network coordinates.
    Rtt(rtt::RttArgs),
    /// Checks configuration files without starting an agent.
    Validate(validate::ValidateArgs),
    /// Makes the agent re-read its configuration files.
    Reload(reload::ReloadArgs),
    /// Fires a user event.
    Event(event::EventArgs),
    /// Raft operations: list-peers, remove-peer, transfer-leader.
    #[command(subcommand)]
    Operator(operator::OperatorCommand),
    /// Saves, restores and inspects backups of the whole state.
    #[command(subcommand)]
    Snapshot(snapshot::SnapshotCommand),
    /// Creates a CA and agent certificates for TLS, like `consul tls`.
    #[command(subcommand)]
    Tls(tls::TlsCommand),
    /// Runs a command while holding a lock (or a semaphore slot with -n).
    Lock(lock::LockArgs),
    /// Watches a view (key, keyprefix, services, nodes, service, checks, event) for changes.
    Watch(watch::WatchArgs),
    /// Prints the version.
    Version(version::VersionArgs),
}

impl Cli {
    /// Keeps what the parsed values lose: the order in which `-config-file` and
    /// `-config-dir` were given, which is the order Consul merges them in.
    pub fn record_argument_order(&mut self, matches: &clap::ArgMatches) {
        if let Commands::Agent(args) = &mut self.command
            && let Some(("agent", agent)) = matches.subcommand()
        {
            args.order_sources(agent);
        }
    }
}

/// Runs the parsed command and returns the process exit code.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Commands::Agent(args) => agent::run(args).await,
        Commands::Acl(command) => acl::run(command).await,
        Commands::Kv(command) => kv::run(command).await,
        Commands::Catalog(command) => catalog::run(command).await,
        Commands::Members(args) => members::run(args).await,
        Commands::ForceLeave(args) => force_leave::run(args).await,
        Commands::Keygen(args) => Ok(keygen::run(args)),
        Commands::Keyring(args) => keyring::run(args).await,
        Commands::Info(args) => info::run(args).await,
        Commands::Debug(args) => debug::run(args).await,
        Commands::Monitor(args) => monitor::run(args).await,
        Commands::Join(args) => join::run(args).await,
        Commands::Leave(args) => leave::run(args).await,
        Commands::Maint(args) => maint::run(args).await,
        Commands::Services(command) => services::run(command).await,
        Commands::Rtt(args) => rtt::run(args).await,
        Commands::Validate(args) => Ok(validate::run(args)),
        Commands::Reload(args) => reload::run(args).await,
        Commands::Event(args) => event::run(args).await,
        Commands::Snapshot(command) => snapshot::run(command).await,
        Commands::Operator(command) => operator::run(command).await,
        Commands::Tls(command) => Ok(tls::run(command)),
        Commands::Lock(args) => lock::run(args).await,
        Commands::Watch(args) => watch::run(args).await,
        Commands::Version(args) => Ok(version::run(&args)),
    }
}

/// Parses a flag value written as Go writes durations (`10s`, `1m30s`).
pub fn go_duration(text: &str) -> Result<std::time::Duration, String> {
    proconsul_api::duration::parse_duration(text).map_err(|error| error.to_string())
}

/// Prints `message` on stderr, as Consul's `UI.Error` does, and returns exit code 1.
pub fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("{message}");
    ExitCode::FAILURE
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_tree_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn go_style_command_lines_parse() {
        let parse = |line: &str| {
            let argv = crate::args::rewrite_go_style_flags(
                line.split(' ').map(std::ffi::OsString::from),
                &Cli::command(),
            );
            Cli::try_parse_from(argv)
        };
        for line in [
            "proconsul agent -dev -http-port=8501 -node=foo -log-level debug",
            "proconsul kv get -recurse -http-addr=127.0.0.1:1 foo",
            "proconsul kv get -keys -separator=/ -stale -datacenter dc2",
            "proconsul kv put -cas -modify-index=3 -flags=7 key -value",
            "proconsul kv delete -recurse -token=-secret- prefix",
            "proconsul catalog nodes -detailed",
            "proconsul catalog services -tags -node n",
            "proconsul members -status=alive -wan",
            "proconsul rtt -wan s1.dc1 s2.dc1",
            "proconsul rtt n1",
            "proconsul monitor -log-level=debug -log-json -http-addr=127.0.0.1:1",
            "proconsul -version",
            "proconsul version",
            "proconsul version -format=json",
            "proconsul acl bootstrap -format=json",
            "proconsul acl policy create -name p -rules - -valid-datacenter dc1 -token=t",
            "proconsul acl policy update -id 35b8 -no-merge -description -x- -meta",
            "proconsul acl token create -description d -policy-name p -policy-name q \
             -policy-id global-management -role-name r -service-identity web:dc1 \
             -node-identity n:dc1 -templated-policy builtin/service -var name:api \
             -expires-ttl 10m -local -accessor a -secret s -token-file f",
            "proconsul acl token read -self -expanded -http-addr 127.0.0.1:1",
            "proconsul acl token read -id 986 -format json -meta",
            "proconsul acl token update -id x -append-policy-name p -merge-roles",
            "proconsul acl token clone -accessor anonymous -description c",
            "proconsul acl token delete -id x",
            "proconsul acl token list -format=json",
            "proconsul acl role create -name r -policy-id 0000 -service-identity web",
            "proconsul acl role list -meta",
            "proconsul acl set-agent-token agent -",
            "proconsul tls ca create -days=30 -name-constraint -additional-name-constraint x.org",
            "proconsul tls cert create -server -dc east -node n1 -additional-dnsname a.example \
             -additional-ipaddress 10.0.0.1 -ca c.pem -key k.pem",
        ] {
            assert!(parse(line).is_ok(), "{line}: {:?}", parse(line).err());
        }
        let cli = parse("proconsul kv put key -cas").unwrap();
        let Commands::Kv(kv::KvCommand::Put(put)) = cli.command else {
            panic!("{cli:?}");
        };
        assert_eq!(put.value.as_deref(), Some("-cas"));
        assert!(!put.cas);
        assert!(parse("proconsul acl token read -format yaml").is_err());
        assert!(parse("proconsul acl token create -expires-ttl soon").is_err());
    }
}
