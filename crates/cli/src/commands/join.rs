//! `proconsul join ADDR...`: asks the local agent to join the servers at these addresses.

use std::process::ExitCode;

use clap::Args;

use crate::commands::{HttpArgs, fail};

#[derive(Debug, Args)]
pub struct JoinArgs {
    #[command(flatten)]
    http: HttpArgs,
    /// Join over the WAN (not supported: one datacenter).
    #[arg(long)]
    wan: bool,
    /// Server RPC addresses (`host[:port]`, port 8300 by default).
    #[arg(required = true, value_name = "ADDR")]
    addresses: Vec<String>,
}

pub async fn run(args: JoinArgs) -> anyhow::Result<ExitCode> {
    let client = args.http.client()?;
    let query: Vec<(&str, String)> = if args.wan {
        vec![("wan", "1".to_string())]
    } else {
        vec![]
    };
    let mut joined = 0;
    let mut errors = Vec::new();
    for address in &args.addresses {
        let path = format!("/v1/agent/join/{address}");
        let result: Result<(), _> = client.put_raw(&path, &query, Vec::new()).await;
        match result {
            Ok(()) => joined += 1,
            Err(error) => errors.push(format!("{address}: {error}")),
        }
    }
    if joined == 0 {
        return Ok(fail(format!(
            "Error joining address(es): {}",
            errors.join("; ")
        )));
    }
    for error in errors {
        eprintln!("Error joining {error}");
    }
    println!("Successfully joined cluster by contacting {joined} nodes.");
    Ok(ExitCode::SUCCESS)
}
