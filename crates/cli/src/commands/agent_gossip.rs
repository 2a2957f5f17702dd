//! The agent's gossip flags, as Consul names them (`-serf-lan-port`, `-serf-wan-port`,
//! `-join-wan`, `-retry-join-wan`, `-encrypt`, `-advertise`), over the files'
//! `ports.serf_lan`, `ports.serf_wan`, `start_join_wan`, `retry_join_wan`, `encrypt`,
//! `encrypt_verify_*`,
//! `advertise_addr`, `reconnect_timeout`, `skip_leave_on_interrupt` and Proconsul's
//! `gossip_failure_hold_down`.

use std::net::IpAddr;
use std::time::Duration;

use clap::Args;
use proconsul_agent::gossip_settings::GossipSettings;
use proconsul_config::FileConfig;

/// Flags override the files' keys.
#[derive(Debug, Args)]
pub struct GossipArgs {
    /// The LAN gossip port, UDP and TCP [default: 8301].
    #[arg(long = "serf-lan-port", value_name = "PORT")]
    serf_lan_port: Option<u16>,
    /// The WAN gossip port of a server, UDP and TCP [default: 8302].
    #[arg(long = "serf-wan-port", value_name = "PORT")]
    serf_wan_port: Option<u16>,
    /// A server of another datacenter to join in the WAN pool at start; repeatable.
    #[arg(long = "join-wan", value_name = "ADDR")]
    join_wan: Vec<String>,
    /// A server of another datacenter to join in the WAN pool, retried until it
    /// answers; repeatable.
    #[arg(long = "retry-join-wan", value_name = "ADDR")]
    retry_join_wan: Vec<String>,
    /// The gossip encryption key (base64 of 16, 24 or 32 bytes; `proconsul keygen`).
    #[arg(long, value_name = "KEY")]
    encrypt: Option<String>,
    /// The address other agents reach this one's gossip at [default: the bind address].
    #[arg(long, value_name = "IP")]
    advertise: Option<IpAddr>,
    /// How often the leader reconciles members with the catalog (tests shorten it).
    #[arg(long = "reconcile-interval", value_name = "DURATION", value_parser = super::go_duration, hide = true)]
    reconcile_interval: Option<Duration>,
    /// The gossip probe interval (tests shorten it) [default: 1s].
    #[arg(long = "gossip-probe-interval", value_name = "DURATION", value_parser = super::go_duration, hide = true)]
    probe_interval: Option<Duration>,
}

impl GossipArgs {
    /// The gossip settings: flags over files over Consul's defaults; servers skip the
    /// leave on SIGINT by default, clients do not.
    pub fn settings(&self, files: &FileConfig, server: bool) -> anyhow::Result<GossipSettings> {
        let defaults = GossipSettings::default();
        let serf_lan_port = match (self.serf_lan_port, files.ports.serf_lan) {
            (Some(port), _) => port,
            (None, Some(port)) => u16::try_from(port)
                .ok()
                .filter(|port| *port != 0)
                .ok_or_else(|| {
                    anyhow::anyhow!("ports.serf_lan: {port} is not a port this agent can listen on")
                })?,
            (None, None) => defaults.serf_lan_port,
        };
        let serf_wan_port = match (self.serf_wan_port, files.ports.serf_wan) {
            (Some(port), _) => Some(port),
            (None, Some(port)) if port < 0 => None,
            (None, Some(port)) => Some(
                u16::try_from(port)
                    .ok()
                    .filter(|port| *port != 0)
                    .ok_or_else(|| {
                        anyhow::anyhow!(
                            "ports.serf_wan: {port} is not a port this agent can listen on"
                        )
                    })?,
            ),
            (None, None) => defaults.serf_wan_port,
        };
        let encrypt = self
            .encrypt
            .clone()
            .or_else(|| files.encrypt.clone())
            .filter(|key| !key.is_empty());
        Ok(GossipSettings {
            serf_lan_port,
            serf_wan_port,
            start_join_wan: super::agent::merged(&self.join_wan, &files.start_join_wan),
            retry_join_wan: super::agent::merged(&self.retry_join_wan, &files.retry_join_wan),
            advertise_addr: self.advertise.or(files.advertise_addr),
            encrypt,
            verify_incoming: files.encrypt_verify_incoming.unwrap_or(true),
            verify_outgoing: files.encrypt_verify_outgoing.unwrap_or(true),
            reconnect_timeout: files
                .reconnect_timeout
                .map_or(defaults.reconnect_timeout, |d| d.0),
            skip_leave_on_interrupt: files.skip_leave_on_interrupt.unwrap_or(server),
            failure_hold_down: files
                .gossip_failure_hold_down
                .map_or(defaults.failure_hold_down, |d| d.0),
            reconcile_interval: self
                .reconcile_interval
                .unwrap_or(defaults.reconcile_interval),
            probe_interval: self.probe_interval,
        })
    }
}
