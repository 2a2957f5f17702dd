//! What a `tls cert create` certificate says, decided per kind (`-server`, `-client`,
//! `-cli`) as Consul decides it: its common name, its subject alternative names and
//! their order, its extended key usages and the prefix of its file names.
//!
//! Kept apart from the X.509 encoding ([`super::x509`]) so that these rules, which
//! agents check (`verify_server_hostname` wants `server.<dc>.<domain>`), are plain data
//! and unit-tested without a key or a signature.

use std::net::{IpAddr, Ipv4Addr};

/// The three kinds of agent certificate Consul's tooling issues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A server agent's: it may act as a server, so it is the most sensitive.
    Server,
    /// A client agent's.
    Client,
    /// A command-line client's, to talk to agents that verify incoming certificates.
    Cli,
}

impl Kind {
    /// The word Consul uses for the kind in the certificate's names and file names.
    pub fn word(self) -> &'static str {
        match self {
            Kind::Server => "server",
            Kind::Client => "client",
            Kind::Cli => "cli",
        }
    }
}

/// An extended key usage, named independently of the encoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Usage {
    /// TLS server authentication (id-kp-serverAuth).
    ServerAuth,
    /// TLS client authentication (id-kp-clientAuth).
    ClientAuth,
}

/// What the command line asked for, besides the kind.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub dc: String,
    pub domain: String,
    /// `-node`: adds `<node>.server.<dc>.<domain>` to a server's names.
    pub node: Option<String>,
    /// `-additional-dnsname`, in the order given.
    pub extra_dns: Vec<String>,
    /// `-additional-ipaddress`, in the order given.
    pub extra_ips: Vec<IpAddr>,
}

/// The contents of one certificate, before encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub common_name: String,
    /// DNS subject alternative names, in Consul's order.
    pub dns_names: Vec<String>,
    /// IP subject alternative names, in Consul's order.
    pub ip_addresses: Vec<IpAddr>,
    /// Extended key usages; empty means the extension is left out, as Consul does for
    /// CLI certificates (which then serve any purpose, RFC 5280 §4.2.1.12).
    pub usages: Vec<Usage>,
    /// `<dc>-<kind>-<domain>`: files are `<prefix>-<N>.pem` and `<prefix>-<N>-key.pem`.
    pub file_prefix: String,
}

/// Consul's profile for `kind`: additional names come first, then the node name (for a
/// server with `-node`), the kind's own name and `localhost`; additional IPs come before
/// `127.0.0.1`. A CLI certificate has only its own name and `localhost`: Consul drops
/// the additional names and IPs and sets no IP or extended key usage for it.
pub fn profile(kind: Kind, request: &Request) -> Profile {
    let Request {
        dc,
        domain,
        node,
        extra_dns,
        extra_ips,
    } = request;
    let name = format!("{}.{dc}.{domain}", kind.word());
    let loopback = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let (dns_names, ip_addresses, usages) = match kind {
        Kind::Server => {
            let mut dns = extra_dns.clone();
            dns.extend(node.iter().map(|node| format!("{node}.{name}")));
            dns.extend([name.clone(), "localhost".to_owned()]);
            let mut ips = extra_ips.clone();
            ips.push(loopback);
            (dns, ips, vec![Usage::ServerAuth, Usage::ClientAuth])
        }
        Kind::Client => {
            let mut dns = extra_dns.clone();
            dns.extend([name.clone(), "localhost".to_owned()]);
            let mut ips = extra_ips.clone();
            ips.push(loopback);
            (dns, ips, vec![Usage::ClientAuth, Usage::ServerAuth])
        }
        Kind::Cli => (
            vec![name.clone(), "localhost".to_owned()],
            Vec::new(),
            Vec::new(),
        ),
    };
    Profile {
        common_name: name,
        dns_names,
        ip_addresses,
        usages,
        file_prefix: format!("{dc}-{}-{domain}", kind.word()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> Request {
        Request {
            dc: "dc1".into(),
            domain: "consul".into(),
            node: None,
            extra_dns: vec!["consul.example.com".into()],
            extra_ips: vec!["10.0.0.1".parse().unwrap()],
        }
    }

    #[test]
    fn server_names_come_after_the_additional_ones() {
        let profile = profile(
            Kind::Server,
            &Request {
                node: Some("n1".into()),
                ..request()
            },
        );
        assert_eq!(profile.common_name, "server.dc1.consul");
        assert_eq!(
            profile.dns_names,
            [
                "consul.example.com",
                "n1.server.dc1.consul",
                "server.dc1.consul",
                "localhost"
            ]
        );
        assert_eq!(
            profile.ip_addresses,
            [
                "10.0.0.1".parse::<IpAddr>().unwrap(),
                "127.0.0.1".parse().unwrap()
            ]
        );
        assert_eq!(profile.usages, [Usage::ServerAuth, Usage::ClientAuth]);
        assert_eq!(profile.file_prefix, "dc1-server-consul");
    }

    #[test]
    fn client_certificates_serve_both_ends() {
        let profile = profile(Kind::Client, &request());
        assert_eq!(profile.common_name, "client.dc1.consul");
        assert_eq!(
            profile.dns_names,
            ["consul.example.com", "client.dc1.consul", "localhost"]
        );
        assert_eq!(profile.ip_addresses.len(), 2);
        assert_eq!(profile.usages, [Usage::ClientAuth, Usage::ServerAuth]);
        assert_eq!(profile.file_prefix, "dc1-client-consul");
    }

    #[test]
    fn cli_certificates_ignore_additional_names() {
        let profile = profile(
            Kind::Cli,
            &Request {
                dc: "east".into(),
                domain: "example".into(),
                ..request()
            },
        );
        assert_eq!(profile.common_name, "cli.east.example");
        assert_eq!(profile.dns_names, ["cli.east.example", "localhost"]);
        assert!(profile.ip_addresses.is_empty());
        assert!(profile.usages.is_empty());
        assert_eq!(profile.file_prefix, "east-cli-example");
    }
}
