//! `proconsul`: the agent and the command-line client in one binary, like `consul`.
//! This file only parses argv and dispatches; the commands live in [`commands`].

/// jemalloc rather than glibc's malloc: writes are decoded on HTTP workers and freed on
/// the Raft state machine's task, a cross-thread pattern glibc's arenas handle poorly
/// (malloc was a fifth of a registration's CPU). Measured with bench/: registrations
/// +15–40%, the same memory idle and less with 100k instances.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

mod args;
mod commands;
mod output;
mod progress;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

use crate::commands::Cli;

fn main() -> ExitCode {
    let argv = args::rewrite_go_style_flags(std::env::args_os(), &Cli::command());
    let parsed = Cli::command()
        .try_get_matches_from(argv)
        .and_then(|matches| {
            let mut cli = Cli::from_arg_matches(&matches)?;
            cli.record_argument_order(&matches);
            Ok(cli)
        });
    let cli = match parsed {
        Ok(cli) => cli,
        Err(error) => {
            // Help goes to stdout with success; usage errors exit 1, as Consul's do.
            let _ = error.print();
            return if error.use_stderr() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("Error starting the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("{error:#}");
            ExitCode::FAILURE
        }
    }
}
