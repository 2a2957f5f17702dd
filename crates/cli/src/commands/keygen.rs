//! `proconsul keygen`: a new gossip encryption key, 32 random bytes in base64, as
//! `consul keygen` prints it.

use std::process::ExitCode;

use clap::Args;

#[derive(Debug, Args)]
pub struct KeygenArgs {}

pub fn run(_args: KeygenArgs) -> ExitCode {
    println!("{}", proconsul_gossip::generate_key());
    ExitCode::SUCCESS
}
