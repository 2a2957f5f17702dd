//! `proconsul reload`: asks the agent to re-read its configuration files.

use std::process::ExitCode;

use clap::Args;

use crate::commands::{HttpArgs, fail};

#[derive(Debug, Args)]
pub struct ReloadArgs {
    #[command(flatten)]
    http: HttpArgs,
}

pub async fn run(args: ReloadArgs) -> anyhow::Result<ExitCode> {
    let client = args.http.client()?;
    let result: Result<(), _> = client.put_raw("/v1/agent/reload", &[], Vec::new()).await;
    Ok(match result {
        Ok(()) => {
            println!("Configuration reload triggered");
            ExitCode::SUCCESS
        }
        Err(error) => fail(format!("Error reloading: {error}")),
    })
}
