//! The agent's DNS settings: Consul's `-dns-port`, `-domain`, `-alt-domain` and
//! `-recursor` flags over the `ports.dns`, `addresses.dns`, `domain`, `alt_domain`,
//! `recursors` and `dns_config` keys of the configuration files.

use std::net::{IpAddr, SocketAddr};

use clap::Args;
use proconsul_config::{FileConfig, RecursorStrategyName};
use proconsul_dns::{DnsConfig, RecursorStrategy};

/// DNS flags, as Consul names them.
#[derive(Debug, Args)]
pub struct DnsArgs {
    /// The DNS port, UDP and TCP; -1 turns DNS off [default: 8600].
    #[arg(long = "dns-port", value_name = "PORT", allow_hyphen_values = true)]
    dns_port: Option<i32>,
    /// The domain answered authoritatively [default: consul.].
    #[arg(long, value_name = "DOMAIN")]
    domain: Option<String>,
    /// A second domain answered like the first.
    #[arg(long = "alt-domain", value_name = "DOMAIN")]
    alt_domain: Option<String>,
    /// An upstream resolver for names outside the domain (IP or IP:port); repeatable.
    #[arg(long = "recursor", value_name = "ADDR")]
    recursors: Vec<String>,
}

/// Where DNS listens (`None`: off) and how it answers.
pub struct DnsSettings {
    pub port: Option<u16>,
    pub addr: Option<IpAddr>,
    pub config: DnsConfig,
}

impl DnsArgs {
    /// Flags over files over Consul's defaults.
    pub fn settings(&self, files: &FileConfig) -> anyhow::Result<DnsSettings> {
        let port = match self.dns_port.or(files.ports.dns).unwrap_or(8600) {
            -1 => None,
            port => Some(u16::try_from(port).map_err(|_| {
                anyhow::anyhow!("ports.dns: {port} is not a port this agent can listen on")
            })?),
        };
        let file = &files.dns_config;
        let defaults = DnsConfig::default();
        let recursor_texts = if self.recursors.is_empty() {
            &files.recursors
        } else {
            &self.recursors
        };
        let recursors = recursor_texts
            .iter()
            .map(|text| parse_recursor(text))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let soa = proconsul_dns::SoaConfig {
            refresh: file.soa.refresh.unwrap_or(defaults.soa.refresh),
            retry: file.soa.retry.unwrap_or(defaults.soa.retry),
            expire: file.soa.expire.unwrap_or(defaults.soa.expire),
            min_ttl: file.soa.min_ttl.unwrap_or(defaults.soa.min_ttl),
        };
        let config = DnsConfig {
            domain: self
                .domain
                .clone()
                .or_else(|| files.domain.clone())
                .unwrap_or(defaults.domain),
            alt_domain: self
                .alt_domain
                .clone()
                .or_else(|| files.alt_domain.clone())
                .filter(|domain| !domain.is_empty()),
            node_ttl: file.node_ttl.map_or(defaults.node_ttl, |ttl| ttl.0),
            service_ttl: file
                .service_ttl
                .iter()
                .map(|(service, ttl)| (service.clone(), ttl.0))
                .collect(),
            only_passing: file.only_passing.unwrap_or(defaults.only_passing),
            a_record_limit: file.a_record_limit.unwrap_or(defaults.a_record_limit),
            udp_answer_limit: file.udp_answer_limit.unwrap_or(defaults.udp_answer_limit),
            enable_truncate: file.enable_truncate.unwrap_or(defaults.enable_truncate),
            enable_additional_node_meta_txt: file
                .enable_additional_node_meta_txt
                .unwrap_or(defaults.enable_additional_node_meta_txt),
            allow_stale: file.allow_stale.unwrap_or(defaults.allow_stale),
            max_stale: file.max_stale.map_or(defaults.max_stale, |ttl| ttl.0),
            soa,
            recursors,
            recursor_timeout: file
                .recursor_timeout
                .map_or(defaults.recursor_timeout, |timeout| timeout.0),
            recursor_strategy: match file.recursor_strategy {
                Some(RecursorStrategyName::Random) => RecursorStrategy::Random,
                Some(RecursorStrategyName::Sequential) | None => RecursorStrategy::Sequential,
            },
            ..defaults
        };
        Ok(DnsSettings {
            port,
            addr: files.addresses.dns,
            config,
        })
    }
}

/// `IP`, `IP:port` or `[IPv6]:port`; port 53 when none is given. Host names are
/// refused: resolving them would need the very resolver being configured.
fn parse_recursor(text: &str) -> anyhow::Result<SocketAddr> {
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    text.parse::<IpAddr>()
        .map(|ip| SocketAddr::new(ip, 53))
        .map_err(|_| anyhow::anyhow!("recursors: {text:?} is not an IP address or IP:port"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(flags: &[&str]) -> DnsArgs {
        use clap::Parser;
        #[derive(Parser)]
        struct Wrapper {
            #[command(flatten)]
            dns: DnsArgs,
        }
        let argv = std::iter::once("test").chain(flags.iter().copied());
        Wrapper::parse_from(argv).dns
    }

    fn files(json: serde_json::Value) -> FileConfig {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn files_set_dns_and_flags_win() {
        let files = files(serde_json::json!({
            "ports": {"dns": 8653},
            "addresses": {"dns": "127.0.0.2"},
            "domain": "example.",
            "recursors": ["10.0.0.1"],
            "dns_config": {
                "node_ttl": "10s",
                "service_ttl": {"*": "5s"},
                "only_passing": true,
                "a_record_limit": 4,
                "recursor_strategy": "random",
                "soa": {"min_ttl": 3}
            }
        }));
        let settings = args(&[]).settings(&files).unwrap();
        assert_eq!(settings.port, Some(8653));
        assert_eq!(settings.addr, Some("127.0.0.2".parse().unwrap()));
        let config = settings.config;
        assert_eq!(config.domain, "example.");
        assert_eq!(config.recursors, ["10.0.0.1:53".parse().unwrap()]);
        assert_eq!(config.node_ttl, std::time::Duration::from_secs(10));
        assert_eq!(config.service_ttl("any"), std::time::Duration::from_secs(5));
        assert!(config.only_passing);
        assert_eq!(config.a_record_limit, 4);
        assert_eq!(config.recursor_strategy, RecursorStrategy::Random);
        assert_eq!(config.soa.min_ttl, 3);

        let flags = args(&[
            "--dns-port=-1",
            "--domain=flag.",
            "--recursor=10.9.9.9:5353",
        ]);
        let settings = flags.settings(&files).unwrap();
        assert_eq!(settings.port, None, "-1 turns DNS off");
        assert_eq!(settings.config.domain, "flag.");
        assert_eq!(
            settings.config.recursors,
            ["10.9.9.9:5353".parse().unwrap()]
        );
        assert!(
            args(&["--dns-port=70000"])
                .settings(&FileConfig::default())
                .is_err()
        );
    }

    #[test]
    fn recursors_default_to_port_53() {
        assert_eq!(
            parse_recursor("10.0.0.1").unwrap(),
            "10.0.0.1:53".parse().unwrap()
        );
        assert_eq!(
            parse_recursor("[::1]:5353").unwrap(),
            "[::1]:5353".parse().unwrap()
        );
        assert!(parse_recursor("resolver.example").is_err());
    }
}
