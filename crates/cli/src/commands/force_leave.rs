//! `proconsul force-leave [-prune] NODE`: moves a failed member to left (its node is then
//! deregistered), or erases it with `-prune`, as `consul force-leave` does.

use std::process::ExitCode;

use clap::Args;

use crate::commands::{HttpArgs, fail};

#[derive(Debug, Args)]
pub struct ForceLeaveArgs {
    #[command(flatten)]
    http: HttpArgs,
    /// Erase the member from the member list entirely instead of marking it left.
    #[arg(long)]
    prune: bool,
    /// The WAN pool (one datacenter: the same servers as the LAN pool).
    #[arg(long)]
    wan: bool,
    /// The member's node name.
    #[arg(value_name = "NODE")]
    node: String,
}

pub async fn run(args: ForceLeaveArgs) -> anyhow::Result<ExitCode> {
    let client = args.http.client()?;
    let mut params = Vec::new();
    if args.prune {
        params.push(("prune", String::new()));
    }
    if args.wan {
        params.push(("wan", String::new()));
    }
    let path = format!("/v1/agent/force-leave/{}", args.node);
    let result: Result<(), _> = client.put_raw(&path, &params, Vec::new()).await;
    Ok(match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(format!("Error force leaving: {error}")),
    })
}
