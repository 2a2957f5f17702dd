//! `proconsul`: the agent and the command-line client in one binary, like `consul`.

mod args;
mod commands;
mod table;

use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use crate::commands::Cli;

fn main() -> ExitCode {
    let argv = args::rewrite_go_style_flags(std::env::args_os(), &Cli::command());
    let cli = Cli::parse_from(argv);
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
