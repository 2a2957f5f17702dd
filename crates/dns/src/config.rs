//! The DNS settings, with Consul's names (`domain`, `alt_domain`, `recursors`,
//! `dns_config { ... }`) and defaults.

use std::net::SocketAddr;
use std::time::Duration;

/// Everything the DNS server needs besides the state it answers from.
#[derive(Debug, Clone, PartialEq)]
pub struct DnsConfig {
    /// `domain`: the zone answered authoritatively.
    pub domain: String,
    /// `alt_domain`: a second zone answered the same way, in its own names.
    pub alt_domain: Option<String>,
    /// The agent's datacenter: names without one, or naming this one, are answered.
    pub datacenter: String,
    /// The agent's node name: prepared queries with `Near: "_agent"` sort it first.
    pub node_name: String,
    /// `dns_config.node_ttl`.
    pub node_ttl: Duration,
    /// `dns_config.service_ttl`: per service name; a key ending in `*` is a prefix, and
    /// `"*"` matches every service.
    pub service_ttl: Vec<(String, Duration)>,
    /// `dns_config.only_passing`: leave out instances with a warning check too.
    pub only_passing: bool,
    /// `dns_config.a_record_limit`: the most A/AAAA answers in one response (0: no
    /// limit besides the packet size).
    pub a_record_limit: usize,
    /// `dns_config.udp_answer_limit`: the most answers in a UDP response to a client
    /// that sent no EDNS.
    pub udp_answer_limit: usize,
    /// `dns_config.enable_truncate`: also set TC when answers were dropped for the
    /// answer limits (answers dropped to fit the packet always set it).
    pub enable_truncate: bool,
    /// `dns_config.enable_additional_node_meta_txt`: node metadata as TXT records in
    /// the Additional section.
    pub enable_additional_node_meta_txt: bool,
    /// `dns_config.allow_stale` and `max_stale`: accepted for compatibility; every
    /// answer comes from this agent's own replica of the state.
    pub allow_stale: bool,
    pub max_stale: Duration,
    /// `dns_config.soa`.
    pub soa: SoaConfig,
    /// `recursors`: where names outside the domain are sent. Empty: refused.
    pub recursors: Vec<SocketAddr>,
    /// `dns_config.recursor_timeout`.
    pub recursor_timeout: Duration,
    /// `dns_config.recursor_strategy`.
    pub recursor_strategy: RecursorStrategy,
}

/// `dns_config.soa { ... }`, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SoaConfig {
    pub refresh: u32,
    pub retry: u32,
    pub expire: u32,
    pub min_ttl: u32,
}

/// The order in which recursors are tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RecursorStrategy {
    /// In the configured order, the next one after a failure.
    #[default]
    Sequential,
    /// In a random order for each query.
    Random,
}

impl Default for SoaConfig {
    fn default() -> Self {
        SoaConfig {
            refresh: 3600,
            retry: 600,
            expire: 86400,
            min_ttl: 0,
        }
    }
}

impl Default for DnsConfig {
    fn default() -> Self {
        DnsConfig {
            domain: "consul.".to_string(),
            alt_domain: None,
            datacenter: "dc1".to_string(),
            node_name: String::new(),
            node_ttl: Duration::ZERO,
            service_ttl: Vec::new(),
            only_passing: false,
            a_record_limit: 0,
            udp_answer_limit: 3,
            enable_truncate: false,
            enable_additional_node_meta_txt: true,
            allow_stale: true,
            max_stale: Duration::from_secs(87600 * 3600),
            soa: SoaConfig::default(),
            recursors: Vec::new(),
            recursor_timeout: Duration::from_secs(2),
            recursor_strategy: RecursorStrategy::Sequential,
        }
    }
}

impl DnsConfig {
    /// The TTL of a service's records: its own entry, else the longest matching prefix
    /// entry, else 0.
    pub fn service_ttl(&self, service: &str) -> Duration {
        let mut best: Option<(usize, Duration)> = None;
        for (pattern, ttl) in &self.service_ttl {
            let matched = match pattern.strip_suffix('*') {
                Some(prefix) => service.starts_with(prefix).then_some(prefix.len()),
                None => (pattern == service).then_some(usize::MAX),
            };
            if let Some(length) = matched
                && best.is_none_or(|(best, _)| length > best)
            {
                best = Some((length, *ttl));
            }
        }
        best.map_or(Duration::ZERO, |(_, ttl)| ttl)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_ttls_prefer_exact_then_longest_prefix() {
        let config = DnsConfig {
            service_ttl: vec![
                ("*".into(), Duration::from_secs(5)),
                ("db*".into(), Duration::from_secs(10)),
                ("db-main".into(), Duration::from_secs(30)),
            ],
            ..DnsConfig::default()
        };
        assert_eq!(config.service_ttl("web"), Duration::from_secs(5));
        assert_eq!(config.service_ttl("db-replica"), Duration::from_secs(10));
        assert_eq!(config.service_ttl("db-main"), Duration::from_secs(30));
        assert_eq!(DnsConfig::default().service_ttl("web"), Duration::ZERO);
    }
}
