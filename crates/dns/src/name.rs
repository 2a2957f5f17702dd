//! What a query name asks for. Consul's names read from the right: the domain, then an
//! optional locality (`<dc>.dc`, or a bare datacenter in the legacy form), then a type
//! label (`service`, `node`, `addr`, `query`, ...), then what the type looks up.
//!
//! Parsing works on labels that are already lowercased and stripped of the domain, so it
//! knows nothing of wire formats; it is total (every input gives a [`Lookup`]) and is
//! fuzzed.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// One parsed query name, relative to the agent's domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// The domain itself: SOA, NS.
    Apex,
    /// `ns.<domain>`: the name server named in the SOA and NS records.
    NameServer,
    /// `[<tag>.]<service>.service`, or RFC 2782 `_<service>._<tag|tcp>[.service]`.
    Service {
        name: String,
        tag: Option<String>,
        datacenter: Option<String>,
    },
    /// `<node>.node`.
    Node {
        name: String,
        datacenter: Option<String>,
    },
    /// `<hex>.addr`: an address encoded in hexadecimal, the SRV target form.
    Addr {
        ip: IpAddr,
        datacenter: Option<String>,
    },
    /// `<query>.query`, or RFC 2782 `_<query>._tcp.query`: a prepared query's ID or
    /// name (names may contain dots).
    Query {
        name: String,
        datacenter: Option<String>,
    },
    /// A form Consul has that this agent does not serve (mesh,
    /// peering, Enterprise namespaces and partitions). Answered NXDOMAIN.
    Unsupported(&'static str),
    /// Not a Consul name.
    Invalid,
}

/// Labels that name what a query looks up.
const TYPE_LABELS: [&str; 7] = [
    "service", "node", "addr", "query", "connect", "ingress", "virtual",
];

/// Labels that qualify the label before them in the locality part of a name.
const LOCALITY_LABELS: [&str; 6] = ["dc", "peer", "ns", "ap", "sg", "cluster"];

/// Parses the labels in front of the domain, left to right, lowercased.
pub fn parse(labels: &[&str]) -> Lookup {
    match labels {
        [] => return Lookup::Apex,
        ["ns"] => return Lookup::NameServer,
        _ => {}
    }
    // The type label is the rightmost one whose tail is a locality.
    for at in (0..labels.len()).rev() {
        if !TYPE_LABELS.contains(&labels[at]) {
            continue;
        }
        let Some(locality) = parse_locality(&labels[at + 1..]) else {
            continue;
        };
        return typed(labels[at], &labels[..at], locality);
    }
    // RFC 2782 without the `service` label: `_<service>._<proto>[.<dc>]`.
    match labels {
        [service, tag] | [service, tag, _] if is_underscored(service) && is_underscored(tag) => {
            let datacenter = labels.get(2).map(|dc| dc.to_string());
            typed("service", &labels[..2], Ok(datacenter))
        }
        _ => Lookup::Invalid,
    }
}

/// The datacenter a locality names (`Ok(None)`: the local one), `Err` for a locality
/// that names something this agent does not serve, `None` when `tail` is no locality.
fn parse_locality(tail: &[&str]) -> Option<Result<Option<String>, &'static str>> {
    match tail {
        [] => Some(Ok(None)),
        // The legacy form: `<service>.service.<dc>.<domain>`.
        [datacenter] if !LOCALITY_LABELS.contains(datacenter) => {
            Some(Ok(Some(datacenter.to_string())))
        }
        _ if tail.len().is_multiple_of(2) => {
            let mut datacenter = None;
            for pair in tail.chunks(2) {
                match pair[1] {
                    "dc" => datacenter = Some(pair[0].to_string()),
                    // One namespace and one partition exist outside Enterprise.
                    "ns" | "ap" if pair[0] == "default" => {}
                    "peer" => return Some(Err("cluster peering")),
                    "ns" | "ap" | "sg" | "cluster" => {
                        return Some(Err("namespaces, partitions and sameness groups"));
                    }
                    _ => return None,
                }
            }
            Some(Ok(datacenter))
        }
        _ => None,
    }
}

fn typed(kind: &str, prefix: &[&str], locality: Result<Option<String>, &'static str>) -> Lookup {
    let datacenter = match locality {
        Ok(datacenter) => datacenter,
        Err(feature) => return Lookup::Unsupported(feature),
    };
    match kind {
        "service" => service(prefix, datacenter),
        "node" if !prefix.is_empty() => Lookup::Node {
            // Node names may contain dots.
            name: prefix.join("."),
            datacenter,
        },
        "addr" => match prefix {
            [hex] => {
                decode_hex_ip(hex).map_or(Lookup::Invalid, |ip| Lookup::Addr { ip, datacenter })
            }
            _ => Lookup::Invalid,
        },
        "query" => query(prefix, datacenter),
        "connect" | "ingress" | "virtual" => Lookup::Unsupported("service mesh lookups"),
        _ => Lookup::Invalid,
    }
}

fn service(prefix: &[&str], datacenter: Option<String>) -> Lookup {
    let (name, tag) = match prefix {
        [name] => (*name, None),
        // RFC 2782: `_<service>._<tag>`, where the protocol `_tcp` means "any tag".
        [name, tag] if is_underscored(name) && is_underscored(tag) => {
            let tag = &tag[1..];
            (&name[1..], (tag != "tcp").then_some(tag))
        }
        [tag, name] => (*name, Some(*tag)),
        _ => return Lookup::Invalid,
    };
    if name.is_empty() || tag.is_some_and(str::is_empty) {
        return Lookup::Invalid;
    }
    Lookup::Service {
        name: name.to_string(),
        tag: tag.map(str::to_string),
        datacenter,
    }
}

fn query(prefix: &[&str], datacenter: Option<String>) -> Lookup {
    let name = match prefix {
        [] => return Lookup::Invalid,
        // RFC 2782: `_<query>._tcp`.
        [name, "_tcp"] if is_underscored(name) => name[1..].to_string(),
        labels => labels.join("."),
    };
    if name.is_empty() {
        return Lookup::Invalid;
    }
    Lookup::Query { name, datacenter }
}

fn is_underscored(label: &str) -> bool {
    label.len() > 1 && label.starts_with('_')
}

/// `7f000001` → 127.0.0.1; 32 hex digits → an IPv6 address.
pub fn decode_hex_ip(hex: &str) -> Option<IpAddr> {
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    match hex.len() {
        8 => u32::from_str_radix(hex, 16)
            .ok()
            .map(|bits| IpAddr::V4(Ipv4Addr::from(bits))),
        32 => u128::from_str_radix(hex, 16)
            .ok()
            .map(|bits| IpAddr::V6(Ipv6Addr::from(bits))),
        _ => None,
    }
}

/// The `addr` label of an address: the inverse of [`decode_hex_ip`].
pub fn encode_hex_ip(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => format!("{:08x}", u32::from(v4)),
        IpAddr::V6(v6) => format!("{:032x}", u128::from(v6)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_name(name: &str) -> Lookup {
        let labels: Vec<&str> = if name.is_empty() {
            Vec::new()
        } else {
            name.split('.').collect()
        };
        parse(&labels)
    }

    fn service(name: &str, tag: Option<&str>, dc: Option<&str>) -> Lookup {
        Lookup::Service {
            name: name.into(),
            tag: tag.map(Into::into),
            datacenter: dc.map(Into::into),
        }
    }

    #[test]
    fn service_forms() {
        assert_eq!(parse_name("web.service"), service("web", None, None));
        assert_eq!(
            parse_name("v1.web.service"),
            service("web", Some("v1"), None)
        );
        assert_eq!(
            parse_name("web.service.dc2"),
            service("web", None, Some("dc2"))
        );
        assert_eq!(
            parse_name("web.service.dc2.dc"),
            service("web", None, Some("dc2"))
        );
        assert_eq!(
            parse_name("web.service.default.ns.default.ap.dc1.dc"),
            service("web", None, Some("dc1"))
        );
        assert_eq!(parse_name("a.b.web.service"), Lookup::Invalid);
    }

    #[test]
    fn rfc2782_forms() {
        assert_eq!(parse_name("_web._tcp.service"), service("web", None, None));
        assert_eq!(parse_name("_web._tcp"), service("web", None, None));
        assert_eq!(
            parse_name("_web._v1.service.dc1"),
            service("web", Some("v1"), Some("dc1"))
        );
        assert_eq!(
            parse_name("_web._v1.dc1"),
            service("web", Some("v1"), Some("dc1"))
        );
        assert_eq!(parse_name("_web"), Lookup::Invalid);
    }

    #[test]
    fn a_service_may_be_named_like_a_type_label() {
        assert_eq!(parse_name("node.service"), service("node", None, None));
        assert_eq!(
            parse_name("service.service.dc1"),
            service("service", None, Some("dc1"))
        );
    }

    #[test]
    fn node_and_addr_forms() {
        assert_eq!(
            parse_name("db1.node"),
            Lookup::Node {
                name: "db1".into(),
                datacenter: None
            }
        );
        assert_eq!(
            parse_name("db1.example.node.dc1.dc"),
            Lookup::Node {
                name: "db1.example".into(),
                datacenter: Some("dc1".into())
            }
        );
        assert_eq!(
            parse_name("7f000001.addr.dc1"),
            Lookup::Addr {
                ip: "127.0.0.1".parse().unwrap(),
                datacenter: Some("dc1".into())
            }
        );
        assert_eq!(parse_name("7f00001.addr"), Lookup::Invalid);
        assert_eq!(parse_name("node"), Lookup::Invalid);
    }

    #[test]
    fn query_forms() {
        let query = |name: &str, dc: Option<&str>| Lookup::Query {
            name: name.into(),
            datacenter: dc.map(Into::into),
        };
        assert_eq!(parse_name("web.query"), query("web", None));
        assert_eq!(
            parse_name("geo-db-x.query.dc1"),
            query("geo-db-x", Some("dc1"))
        );
        assert_eq!(parse_name("_web._tcp.query"), query("web", None));
        assert_eq!(parse_name("a.b.query.dc1.dc"), query("a.b", Some("dc1")));
        assert_eq!(parse_name("query"), Lookup::Invalid);
    }

    #[test]
    fn hex_addresses_round_trip() {
        for ip in ["10.1.2.3", "::1", "2001:db8::ff00:42:8329"] {
            let ip: IpAddr = ip.parse().unwrap();
            assert_eq!(decode_hex_ip(&encode_hex_ip(ip)), Some(ip));
        }
        assert_eq!(decode_hex_ip("+7f00001"), None);
    }

    #[test]
    fn unserved_forms_are_named() {
        assert!(matches!(parse_name("web.ingress"), Lookup::Unsupported(_)));
        assert!(matches!(parse_name("web.connect"), Lookup::Unsupported(_)));
        assert!(matches!(
            parse_name("web.service.other.peer"),
            Lookup::Unsupported(_)
        ));
        assert_eq!(parse_name(""), Lookup::Apex);
        assert_eq!(parse_name("ns"), Lookup::NameServer);
        assert_eq!(parse_name("whatever"), Lookup::Invalid);
    }

    proptest::proptest! {
        #[test]
        fn any_labels_parse_without_panicking(labels in proptest::collection::vec("[a-z0-9_.-]{0,12}", 0..8)) {
            let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
            let _ = parse(&labels);
        }
    }
}
