//! `proconsul monitor`: prints the agent's log as it is written (`/v1/agent/monitor`),
//! at a level of its own (`-log-level`, default INFO) and optionally as JSON lines
//! (`-log-json`), until interrupted, as `consul monitor` does. An interrupt ends it with
//! status 0; the agent ending the stream, with Consul's message and status 1.

use std::io::Write;
use std::process::ExitCode;

use clap::Args;

use crate::commands::{HttpArgs, fail};

#[derive(Debug, Args)]
pub struct MonitorArgs {
    /// The least severe level shown: trace, debug, info, warn or err (any case).
    #[arg(long = "log-level", value_name = "LEVEL", default_value = "INFO")]
    log_level: String,
    /// Print each line as a JSON object.
    #[arg(long = "log-json")]
    log_json: bool,
    #[command(flatten)]
    http: HttpArgs,
}

pub async fn run(args: MonitorArgs) -> anyhow::Result<ExitCode> {
    use tokio::signal::unix::{SignalKind, signal};
    // Installed before the stream starts, so an early interrupt still exits cleanly.
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    let client = args.http.client()?;
    let mut params = vec![("loglevel", args.log_level.clone())];
    if args.log_json {
        params.push(("logjson", "true".to_string()));
    }
    let mut response = match client.get_streaming("/v1/agent/monitor", &params).await {
        Ok(response) => response,
        Err(error) => return Ok(fail(format!("Error starting monitor: {error}"))),
    };
    let mut stdout = std::io::stdout();
    loop {
        let chunk = tokio::select! {
            _ = interrupt.recv() => return Ok(ExitCode::SUCCESS),
            _ = terminate.recv() => return Ok(ExitCode::SUCCESS),
            chunk = response.chunk() => chunk,
        };
        match chunk {
            Ok(Some(bytes)) => {
                // A closed stdout (`| head`) ends the command quietly.
                if stdout
                    .write_all(&bytes)
                    .and_then(|()| stdout.flush())
                    .is_err()
                {
                    return Ok(ExitCode::SUCCESS);
                }
            }
            Ok(None) | Err(_) => {
                println!();
                println!(
                    "Remote side ended the monitor! This usually means that the\n\
                     remote side has exited or crashed."
                );
                return Ok(ExitCode::FAILURE);
            }
        }
    }
}
