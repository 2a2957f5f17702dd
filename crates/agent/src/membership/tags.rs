//! The tags an agent gossips about itself, exactly as Consul's clients read them, and
//! the reverse: recognising a server of this datacenter in another member's tags (the
//! rules of Consul's `metadata.IsConsulServer`), which is how servers find each other's
//! RPC addresses and client agents find servers.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};

/// Consul's protocol versions (`vsn`, `vsn_min`, `vsn_max`) and Raft protocol.
const VSN: &str = "2";
const VSN_MIN: &str = "2";
const VSN_MAX: &str = "3";
const RAFT_VSN: &str = "3";

/// What a server's tags say about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerFacts<'a> {
    pub datacenter: &'a str,
    /// The agent's node ID (a UUID).
    pub node_id: &'a str,
    /// The Consul version this build answers as (`build` is `<version>:proconsul`).
    pub version: &'a str,
    pub rpc_port: u16,
    /// `bootstrap_expect`; zero leaves the `expect` tag out.
    pub bootstrap_expect: u32,
    /// `-bootstrap`: the `bootstrap=1` tag.
    pub bootstrap: bool,
    pub acls_enabled: bool,
    /// The WAN gossip port, advertised so that servers can flood-join the WAN pool
    /// (`None`: no WAN pool, no tag, as in Consul).
    pub wan_join_port: Option<u16>,
}

/// A server's tags (`role=consul`).
pub fn server_tags(facts: &ServerFacts<'_>) -> BTreeMap<String, String> {
    let mut tags = common_tags("consul", facts.datacenter, facts.node_id, facts.version);
    let mut put = |key: &str, value: String| {
        tags.insert(key.to_string(), value);
    };
    put("port", facts.rpc_port.to_string());
    put("raft_vsn", RAFT_VSN.to_string());
    put(
        "acls",
        if facts.acls_enabled { "1" } else { "0" }.to_string(),
    );
    if let Some(port) = facts.wan_join_port {
        put("wan_join_port", port.to_string());
    }
    if facts.bootstrap_expect > 0 {
        put("expect", facts.bootstrap_expect.to_string());
    }
    if facts.bootstrap {
        put("bootstrap", "1".to_string());
    }
    tags
}

/// A client agent's tags (`role=node`).
pub fn client_tags(datacenter: &str, node_id: &str, version: &str) -> BTreeMap<String, String> {
    common_tags("node", datacenter, node_id, version)
}

fn common_tags(
    role: &str,
    datacenter: &str,
    node_id: &str,
    version: &str,
) -> BTreeMap<String, String> {
    [
        ("role", role.to_string()),
        ("dc", datacenter.to_string()),
        ("segment", String::new()),
        ("id", node_id.to_string()),
        ("vsn", VSN.to_string()),
        ("vsn_min", VSN_MIN.to_string()),
        ("vsn_max", VSN_MAX.to_string()),
        ("build", format!("{version}:proconsul")),
    ]
    .into_iter()
    .map(|(key, value)| (key.to_string(), value))
    .collect()
}

/// A server of `datacenter` as its tags describe it: `None` unless the tags pass Consul's
/// checks (`role=consul`, the datacenter, an integer `port`, a `vsn`, a `build` that
/// starts with a version `N.N.N`, integer `expect`/`raft_vsn` when present).
pub fn server_rpc_addr(
    tags: &BTreeMap<String, String>,
    gossip_ip: IpAddr,
    datacenter: &str,
) -> Option<SocketAddr> {
    if tags.get("role").map(String::as_str) != Some("consul")
        || tags.get("dc").map(String::as_str) != Some(datacenter)
        || !tags.get("segment").is_none_or(String::is_empty)
    {
        return None;
    }
    let port: u16 = tags.get("port")?.parse().ok()?;
    tags.get("vsn")?.parse::<u32>().ok()?;
    for optional in ["expect", "raft_vsn", "wan_join_port"] {
        if let Some(value) = tags.get(optional) {
            value.parse::<u32>().ok()?;
        }
    }
    if !has_version_prefix(tags.get("build")?) {
        return None;
    }
    Some(SocketAddr::new(gossip_ip, port))
}

/// Whether `build` starts with `digits.digits.digits` (Consul matches `\d+\.\d+\.\d+`).
fn has_version_prefix(build: &str) -> bool {
    let mut parts = build.splitn(4, '.');
    (0..3).all(|position| {
        parts.next().is_some_and(|part| {
            let digits = if position == 2 {
                part.split(|c: char| !c.is_ascii_digit())
                    .next()
                    .unwrap_or("")
            } else {
                part
            };
            !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())
        })
    })
}

/// Whether a member with these tags belongs to `datacenter`'s LAN pool as Consul's
/// leader counts it (a server or a client agent of this datacenter).
pub fn is_local_member(tags: &BTreeMap<String, String>, datacenter: &str) -> bool {
    matches!(
        tags.get("role").map(String::as_str),
        Some("consul" | "node")
    ) && tags.get("dc").map(String::as_str) == Some(datacenter)
}

/// Whether the tags are a server's.
pub fn is_server(tags: &BTreeMap<String, String>) -> bool {
    tags.get("role").map(String::as_str) == Some("consul")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> ServerFacts<'static> {
        ServerFacts {
            datacenter: "dc1",
            node_id: "6f8b1f0e-0000-4000-8000-000000000001",
            version: "1.22.0",
            rpc_port: 8300,
            bootstrap_expect: 3,
            bootstrap: false,
            acls_enabled: false,
            wan_join_port: Some(8302),
        }
    }

    #[test]
    fn server_tags_are_consuls_and_name_the_rpc_address() {
        let tags = server_tags(&facts());
        let keys: Vec<&str> = tags.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "acls",
                "build",
                "dc",
                "expect",
                "id",
                "port",
                "raft_vsn",
                "role",
                "segment",
                "vsn",
                "vsn_max",
                "vsn_min",
                "wan_join_port"
            ]
        );
        assert_eq!(tags["build"], "1.22.0:proconsul");
        let ip: IpAddr = "127.0.0.2".parse().unwrap();
        assert_eq!(
            server_rpc_addr(&tags, ip, "dc1"),
            Some("127.0.0.2:8300".parse().unwrap())
        );
        assert_eq!(server_rpc_addr(&tags, ip, "dc2"), None);
    }

    #[test]
    fn tags_that_fail_consuls_checks_are_not_a_server() {
        let ip: IpAddr = "127.0.0.2".parse().unwrap();
        let client = client_tags("dc1", "id", "1.22.0");
        assert_eq!(server_rpc_addr(&client, ip, "dc1"), None);
        assert!(is_local_member(&client, "dc1"));
        for (key, bad) in [
            ("port", "x"),
            ("build", "dev"),
            ("build", "1.2"),
            ("expect", "three"),
        ] {
            let mut tags = server_tags(&facts());
            tags.insert(key.to_string(), bad.to_string());
            assert_eq!(server_rpc_addr(&tags, ip, "dc1"), None, "{key}={bad}");
        }
        let mut tags = server_tags(&facts());
        tags.remove("vsn");
        assert_eq!(server_rpc_addr(&tags, ip, "dc1"), None);
    }

    #[test]
    fn builds_with_suffixes_still_match() {
        assert!(has_version_prefix("1.22.0:abcdef"));
        assert!(has_version_prefix("1.22.10-dev:x"));
        assert!(!has_version_prefix("1..0"));
        assert!(!has_version_prefix(":1.2.3"));
    }

    #[test]
    fn tags_fit_in_gossip_metadata() {
        let encoded: usize = server_tags(&facts())
            .iter()
            .map(|(key, value)| key.len() + value.len() + 2)
            .sum();
        assert!(encoded < 512, "{encoded} bytes");
    }
}
