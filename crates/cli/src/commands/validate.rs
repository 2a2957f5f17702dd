//! `proconsul validate PATH...`: checks configuration files (or directories of them)
//! without starting an agent, as `consul validate` does.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use proconsul_config::ConfigSource;

use crate::commands::fail;

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Configuration files or directories, merged in the order given.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Print nothing on success.
    #[arg(long)]
    quiet: bool,
}

pub fn run(args: ValidateArgs) -> ExitCode {
    let sources: Vec<ConfigSource> = args
        .paths
        .into_iter()
        .map(|path| {
            if path.is_dir() {
                ConfigSource::Dir(path)
            } else {
                ConfigSource::File(path)
            }
        })
        .collect();
    let checked = proconsul_config::load(&sources).and_then(|config| {
        config
            .service_registrations()
            .and(config.check_registrations())
            .map_err(|message| proconsul_config::ConfigError {
                file: None,
                key: None,
                message,
            })
    });
    match checked {
        Ok(_) => {
            if !args.quiet {
                println!("Configuration is valid!");
            }
            ExitCode::SUCCESS
        }
        Err(error) => fail(format!("Config validation failed: {error}")),
    }
}
