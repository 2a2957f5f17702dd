//! `proconsul tls ca create`: writes a new agent CA, `<domain>-agent-ca.pem` and
//! `<domain>-agent-ca-key.pem`, in the current directory, refusing to replace either
//! (a replaced CA key would orphan every certificate signed with it).

use std::path::Path;
use std::process::ExitCode;

use clap::Args;

use super::files::{Secrecy, ca_file_names, write_new};
use super::x509::{CaRequest, create_ca};
use crate::commands::fail;

/// Consul's flags for `tls ca create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Number of days the CA is valid for.
    #[arg(long, default_value_t = 1825)]
    days: u32,
    /// The DNS domain of the cluster; names the files, and is permitted with -name-constraint.
    #[arg(long, default_value = "consul")]
    domain: String,
    /// Restricts the CA to sign only for localhost, -domain and -additional-name-constraint.
    #[arg(long)]
    name_constraint: bool,
    /// Another DNS domain the CA may sign for (with -name-constraint). Repeatable.
    #[arg(long)]
    additional_name_constraint: Vec<String>,
    /// Common name of the CA. Defaults to "Consul Agent CA <serial>".
    #[arg(long)]
    common_name: Option<String>,
}

/// Runs `tls ca create`; exit code 1 with Consul's message when a file exists.
pub fn create(args: &CreateArgs) -> ExitCode {
    let (cert_file, key_file) = ca_file_names(&args.domain);
    for file in [&cert_file, &key_file] {
        if Path::new(file).exists() {
            return fail(format!("{file} already exists."));
        }
    }
    let request = CaRequest {
        days: args.days,
        domain: args.domain.clone(),
        common_name: args.common_name.clone().filter(|name| !name.is_empty()),
        name_constraint: args.name_constraint,
        additional_constraints: args.additional_name_constraint.clone(),
    };
    let issued = match create_ca(&request) {
        Ok(issued) => issued,
        Err(error) => return fail(format!("Error generating CA: {error}")),
    };
    for (file, contents, secrecy) in [
        (&cert_file, &issued.cert_pem, Secrecy::Public),
        (&key_file, &issued.key_pem, Secrecy::Secret),
    ] {
        if let Err(error) = write_new(Path::new(file), contents, secrecy) {
            return fail(format!("Error writing {file}: {error}"));
        }
        println!("==> Saved {file}");
    }
    ExitCode::SUCCESS
}
