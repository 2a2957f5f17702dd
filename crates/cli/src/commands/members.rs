//! `proconsul members`: the cluster's members as `consul members` prints them.

use std::process::ExitCode;

use clap::Args;
use proconsul_api::AgentMember;

use crate::commands::{HttpArgs, query_error};
use crate::table::columns;

#[derive(Debug, Args)]
pub struct MembersArgs {
    #[command(flatten)]
    http: HttpArgs,
}

pub async fn run(args: MembersArgs) -> anyhow::Result<ExitCode> {
    let client = args.http.client()?;
    match client.agent_members().await {
        Ok(members) => {
            print!("{}", render(&members));
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => Ok(query_error(error)),
    }
}

/// Serf's numeric member status as a word.
fn status_name(status: u8) -> &'static str {
    match status {
        1 => "alive",
        2 => "leaving",
        3 => "left",
        4 => "failed",
        _ => "none",
    }
}

fn render(members: &[AgentMember]) -> String {
    let mut rows = vec![
        [
            "Node",
            "Address",
            "Status",
            "Type",
            "Build",
            "Protocol",
            "DC",
            "Partition",
            "Segment",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for member in members {
        let tag = |name: &str| member.tags.get(name).cloned().unwrap_or_default();
        let role = if tag("role") == "consul" {
            "server"
        } else {
            "client"
        };
        let build = tag("build");
        let build = build.split(':').next().unwrap_or_default().to_string();
        rows.push(vec![
            member.name.clone(),
            format!("{}:{}", member.addr, member.port),
            status_name(member.status).to_string(),
            role.to_string(),
            build,
            tag("vsn"),
            tag("dc"),
            "default".to_string(),
            "<all>".to_string(),
        ]);
    }
    columns(&rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_consul_members() {
        let member = AgentMember {
            name: "node-1".into(),
            addr: "127.0.0.1".into(),
            port: 8301,
            status: 1,
            tags: [
                ("role", "consul"),
                ("build", "1.20.0:abc"),
                ("vsn", "2"),
                ("dc", "dc1"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
            ..AgentMember::default()
        };
        let text = render(&[member]);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("Node    Address         Status  Type"));
        assert_eq!(
            lines[1],
            "node-1  127.0.0.1:8301  alive   server  1.20.0  2         dc1  default    <all>"
        );
    }
}
