//! `proconsul leave`: the local agent leaves gracefully (a server also leaves the Raft
//! configuration) and shuts down.

use std::process::ExitCode;

use clap::Args;

use crate::commands::{HttpArgs, fail};

#[derive(Debug, Args)]
pub struct LeaveArgs {
    #[command(flatten)]
    http: HttpArgs,
}

pub async fn run(args: LeaveArgs) -> anyhow::Result<ExitCode> {
    let client = args.http.client()?;
    let result: Result<(), _> = client.put_raw("/v1/agent/leave", &[], Vec::new()).await;
    Ok(match result {
        Ok(()) => {
            println!("Graceful leave complete");
            ExitCode::SUCCESS
        }
        Err(error) => fail(format!("Error leaving: {error}")),
    })
}
