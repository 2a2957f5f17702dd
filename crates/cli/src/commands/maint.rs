//! `proconsul maint`: put the node or one service in maintenance mode, take it out, or
//! list what is in maintenance, as `consul maint` does.

use std::collections::BTreeMap;
use std::process::ExitCode;

use clap::Args;
use proconsul_api::HealthCheck;
use proconsul_api::client::QueryOptions;

use crate::commands::{HttpArgs, fail};

const NODE_CHECK: &str = "_node_maintenance";
const SERVICE_CHECK_PREFIX: &str = "_service_maintenance:";

#[derive(Debug, Args)]
pub struct MaintArgs {
    #[command(flatten)]
    http: HttpArgs,
    /// Enable maintenance mode.
    #[arg(long)]
    enable: bool,
    /// Disable maintenance mode.
    #[arg(long)]
    disable: bool,
    /// Why (shown as the maintenance check's notes); only with -enable.
    #[arg(long, allow_hyphen_values = true)]
    reason: Option<String>,
    /// A service ID: act on that service instead of the node.
    #[arg(long, value_name = "ID")]
    service: Option<String>,
}

pub async fn run(args: MaintArgs) -> anyhow::Result<ExitCode> {
    if args.enable && args.disable {
        return Ok(fail("Only one of -enable or -disable may be provided"));
    }
    if !args.enable && args.reason.is_some() {
        return Ok(fail("Reason may only be provided with -enable"));
    }
    if !args.enable && !args.disable && args.service.is_some() {
        return Ok(fail("Service requires either -enable or -disable"));
    }
    let client = args.http.client()?;
    if !args.enable && !args.disable {
        let (checks, _): (BTreeMap<String, HealthCheck>, _) = match client
            .get_json("/v1/agent/checks", &QueryOptions::default())
            .await
        {
            Ok(answer) => answer,
            Err(error) => return Ok(fail(format!("Error getting checks: {error}"))),
        };
        let node_name = match client.agent_self().await {
            Ok(me) => me["Config"]["NodeName"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            Err(error) => return Ok(fail(format!("Error querying the agent: {error}"))),
        };
        print!("{}", render(&checks, &node_name));
        return Ok(ExitCode::SUCCESS);
    }
    let enable = args.enable.to_string();
    let mut params = vec![("enable", enable)];
    if let Some(reason) = &args.reason {
        params.push(("reason", reason.clone()));
    }
    let (path, what) = match &args.service {
        Some(id) => (format!("/v1/agent/service/maintenance/{id}"), "Service"),
        None => ("/v1/agent/maintenance".to_string(), "Node"),
    };
    let result: Result<(), _> = client.put_raw(&path, &params, Vec::new()).await;
    if let Err(error) = result {
        return Ok(fail(format!("Error toggling maintenance mode: {error}")));
    }
    if args.enable {
        println!("{what} entered maintenance mode");
    } else {
        println!("{what} left maintenance mode");
    }
    Ok(ExitCode::SUCCESS)
}

/// The listing: the node's maintenance, then each service's.
fn render(checks: &BTreeMap<String, HealthCheck>, node_name: &str) -> String {
    let mut out = String::new();
    if let Some(check) = checks.get(NODE_CHECK) {
        out.push_str(&format!(
            "Node:\n  Name:   {node_name}\n  Reason: {}\n\n",
            check.notes
        ));
    }
    for (id, check) in checks {
        if let Some(service) = id.strip_prefix(SERVICE_CHECK_PREFIX) {
            out.push_str(&format!(
                "Service:\n  ID:     {service}\n  Reason: {}\n\n",
                check.notes
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_node_then_services() {
        let check = |id: &str, notes: &str| {
            (
                id.to_string(),
                HealthCheck {
                    check_id: id.to_string(),
                    notes: notes.to_string(),
                    ..HealthCheck::default()
                },
            )
        };
        let checks: BTreeMap<String, HealthCheck> = [
            check("_service_maintenance:web", "deploy"),
            check("_node_maintenance", "kernel"),
            check("other", "x"),
        ]
        .into_iter()
        .collect();
        assert_eq!(
            render(&checks, "n1"),
            "Node:\n  Name:   n1\n  Reason: kernel\n\nService:\n  ID:     web\n  Reason: deploy\n\n"
        );
    }
}
