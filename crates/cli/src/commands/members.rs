//! `proconsul members`: the cluster's members as `consul members` prints them, with
//! its `-detailed`, `-status` and `-wan` flags and its exit code 2 when none match.

use std::net::IpAddr;
use std::process::ExitCode;

use clap::Args;
use proconsul_api::AgentMember;
use regex::Regex;

use crate::commands::{HttpArgs, fail};
use crate::output::{COLUMNIZE_GAP, columns, row};

#[derive(Debug, Args)]
pub struct MembersArgs {
    #[command(flatten)]
    http: HttpArgs,
    /// Show every tag of each member.
    #[arg(long)]
    detailed: bool,
    /// Only members whose status matches this regular expression.
    #[arg(
        long,
        value_name = "REGEX",
        default_value = ".*",
        allow_hyphen_values = true
    )]
    status: String,
    /// The WAN pool (servers of every datacenter) instead of the LAN pool.
    #[arg(long)]
    wan: bool,
}

pub async fn run(args: MembersArgs) -> anyhow::Result<ExitCode> {
    let status = match Regex::new(&args.status) {
        Ok(status) => status,
        Err(error) => return Ok(fail(format!("Failed to compile status regexp: {error}"))),
    };
    let client = args.http.client()?;
    let mut members = match client.agent_members(args.wan).await {
        Ok(members) => members,
        Err(error) => return Ok(fail(format!("Error retrieving members: {error}"))),
    };
    members.retain(|member| status.is_match(status_name(member.status)));
    if members.is_empty() {
        return Ok(ExitCode::from(2));
    }
    print!("{}", render(members, args.detailed));
    Ok(ExitCode::SUCCESS)
}

/// Serf's numeric member status as a word.
fn status_name(status: u8) -> &'static str {
    match status {
        0 => "none",
        1 => "alive",
        2 => "leaving",
        3 => "left",
        4 => "failed",
        _ => "unknown",
    }
}

/// `ip:port`, with brackets around IPv6 addresses as Go's `net.TCPAddr` prints them.
fn address(member: &AgentMember) -> String {
    match member.addr.parse::<IpAddr>() {
        Ok(IpAddr::V6(ip)) => format!("[{ip}]:{}", member.port),
        _ => format!("{}:{}", member.addr, member.port),
    }
}

fn tag<'a>(member: &'a AgentMember, name: &str) -> &'a str {
    member
        .tags
        .get(name)
        .map(String::as_str)
        .unwrap_or_default()
}

fn is_server(member: &AgentMember) -> bool {
    tag(member, "role") == "consul"
}

/// The members table; servers first, then by name.
fn render(mut members: Vec<AgentMember>, detailed: bool) -> String {
    members.sort_by(|a, b| {
        is_server(b)
            .cmp(&is_server(a))
            .then_with(|| a.name.cmp(&b.name))
    });
    let mut rows = vec![if detailed {
        row(["Node", "Address", "Status", "Tags"])
    } else {
        row([
            "Node",
            "Address",
            "Status",
            "Type",
            "Build",
            "Protocol",
            "DC",
            "Partition",
            "Segment",
        ])
    }];
    for member in &members {
        let mut cells = vec![
            member.name.clone(),
            address(member),
            status_name(member.status).to_string(),
        ];
        if detailed {
            let tags: Vec<String> = member
                .tags
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            cells.push(tags.join(","));
        } else {
            cells.extend(standard_columns(member));
        }
        rows.push(cells);
    }
    columns(&rows, COLUMNIZE_GAP)
}

/// Type, Build, Protocol, DC, Partition and Segment, as Consul derives them from tags.
fn standard_columns(member: &AgentMember) -> Vec<String> {
    let kind = match tag(member, "role") {
        "consul" => "server",
        "node" => "client",
        _ => return vec!["unknown".to_string()],
    };
    let build = match tag(member, "build") {
        "" => "< 0.3",
        build => build.split(':').next().unwrap_or_default(),
    };
    let partition = match tag(member, "ap") {
        "" => "default",
        partition => partition,
    };
    let segment = if partition != "default" {
        ""
    } else if kind == "server" {
        "<all>"
    } else {
        match tag(member, "segment") {
            "" => "<default>",
            segment => segment,
        }
    };
    [
        kind,
        build,
        tag(member, "vsn"),
        tag(member, "dc"),
        partition,
        segment,
    ]
    .map(str::to_string)
    .to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(name: &str, addr: &str, status: u8, tags: &[(&str, &str)]) -> AgentMember {
        AgentMember {
            name: name.into(),
            addr: addr.into(),
            port: 8301,
            status,
            tags: tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..AgentMember::default()
        }
    }

    #[test]
    fn renders_like_consul_members() {
        let server = member(
            "node-1",
            "127.0.0.1",
            1,
            &[
                ("role", "consul"),
                ("build", "1.20.0:proconsul"),
                ("vsn", "2"),
                ("dc", "dc1"),
                ("segment", ""),
            ],
        );
        let client = member(
            "a-client",
            "::1",
            4,
            &[
                ("role", "node"),
                ("build", "1.20.0"),
                ("vsn", "2"),
                ("dc", "dc1"),
            ],
        );
        let text = render(vec![client, server], false);
        assert_eq!(
            text,
            "Node      Address         Status  Type    Build   Protocol  DC   Partition  Segment\n\
             node-1    127.0.0.1:8301  alive   server  1.20.0  2         dc1  default    <all>\n\
             a-client  [::1]:8301      failed  client  1.20.0  2         dc1  default    <default>\n"
        );
    }

    #[test]
    fn unknown_roles_and_missing_builds() {
        let odd = member("odd", "10.0.0.1", 7, &[]);
        assert_eq!(standard_columns(&odd), ["unknown"]);
        assert_eq!(status_name(odd.status), "unknown");
        let old = member("old", "10.0.0.1", 0, &[("role", "node"), ("ap", "team")]);
        assert_eq!(
            standard_columns(&old),
            ["client", "< 0.3", "", "", "team", ""]
        );
    }

    #[test]
    fn detailed_lists_sorted_tags() {
        let m = member("n", "10.0.0.1", 3, &[("role", "consul"), ("dc", "dc1")]);
        assert_eq!(
            render(vec![m], true),
            "Node  Address        Status  Tags\nn     10.0.0.1:8301  left    dc=dc1,role=consul\n"
        );
    }
}
