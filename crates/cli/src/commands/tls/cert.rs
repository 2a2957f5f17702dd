//! `proconsul tls cert create -server|-client|-cli`: signs a new agent certificate
//! with the CA files and writes it under the next free number
//! (`dc1-server-consul-0.pem`, then `-1`, ...), so that one run per agent never
//! replaces an earlier agent's certificate.

use std::net::IpAddr;
use std::path::Path;
use std::process::ExitCode;

use clap::Args;

use super::files::{Secrecy, ca_file_names, go_open_error, next_free_pair, write_new};
use super::profile::{Kind, Request, profile};
use super::x509::{CaError, issue};
use crate::commands::fail;

/// Printed (on stderr, as Consul's warnings are) before a server certificate is made.
const SERVER_WARNING: &str = "==> WARNING: Server Certificates grants authority to become a
    server and access all state in the cluster including root keys
    and all ACL tokens. Do not distribute them to production hosts
    that are not server nodes. Store them as securely as CA keys.";

/// Consul's flags for `tls cert create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Generate a server certificate.
    #[arg(long)]
    server: bool,
    /// Generate a client certificate.
    #[arg(long)]
    client: bool,
    /// Generate a CLI certificate.
    #[arg(long)]
    cli: bool,
    /// Datacenter of the agent.
    #[arg(long, default_value = "dc1")]
    dc: String,
    /// Domain of the cluster.
    #[arg(long, default_value = "consul")]
    domain: String,
    /// Number of days the certificate is valid for.
    #[arg(long, default_value_t = 365)]
    days: u32,
    /// Path to the CA certificate. Defaults to <domain>-agent-ca.pem.
    #[arg(long)]
    ca: Option<String>,
    /// Path to the CA key. Defaults to <domain>-agent-ca-key.pem.
    #[arg(long)]
    key: Option<String>,
    /// Another DNS name for the subject alternative names. Repeatable.
    #[arg(long)]
    additional_dnsname: Vec<String>,
    /// Another IP address for the subject alternative names. Repeatable.
    #[arg(long)]
    additional_ipaddress: Vec<IpAddr>,
    /// Node name of a server, added as <node>.server.<dc>.<domain>.
    #[arg(long)]
    node: Option<String>,
}

/// The kind the flags ask for: exactly one of -server, -client and -cli.
fn kind(args: &CreateArgs) -> Option<Kind> {
    match (args.server, args.client, args.cli) {
        (true, false, false) => Some(Kind::Server),
        (false, true, false) => Some(Kind::Client),
        (false, false, true) => Some(Kind::Cli),
        _ => None,
    }
}

/// Runs `tls cert create`; exit code 1 with Consul's messages on bad flags or an
/// unreadable CA.
pub fn create(args: &CreateArgs) -> ExitCode {
    let Some(kind) = kind(args) else {
        return fail("Please provide either -server, -client, or -cli");
    };
    let node = args.node.clone().filter(|node| !node.is_empty());
    if node.is_some() && kind != Kind::Server {
        return fail("-node requires -server");
    }
    let (default_ca, default_key) = ca_file_names(&args.domain);
    let ca_file = args.ca.clone().unwrap_or(default_ca);
    let key_file = args.key.clone().unwrap_or(default_key);
    if ca_file.is_empty() {
        return fail("Please provide the ca");
    }
    if key_file.is_empty() {
        return fail("Please provide the key");
    }
    let request = Request {
        dc: args.dc.clone(),
        domain: args.domain.clone(),
        node,
        extra_dns: args.additional_dnsname.clone(),
        extra_ips: args.additional_ipaddress.clone(),
    };
    let profile = profile(kind, &request);
    let Some((cert_file, cert_key_file)) = next_free_pair(Path::new("."), &profile.file_prefix)
    else {
        return fail("Could not find a filename that doesn't already exist");
    };
    let ca_pem = match std::fs::read_to_string(&ca_file) {
        Ok(text) => text,
        Err(error) => {
            return fail(format!(
                "Error reading CA: {}",
                go_open_error(&ca_file, &error)
            ));
        }
    };
    let ca_key_pem = match std::fs::read_to_string(&key_file) {
        Ok(text) => text,
        Err(error) => {
            return fail(format!(
                "Error reading CA key: {}",
                go_open_error(&key_file, &error)
            ));
        }
    };
    if kind == Kind::Server {
        eprintln!("{SERVER_WARNING}");
    }
    println!("==> Using {ca_file} and {key_file}");
    let issued = match issue(&profile, args.days, &ca_pem, &ca_key_pem) {
        Ok(issued) => issued,
        Err(CaError::Certificate(error)) => {
            return fail(format!("Error parsing CA {ca_file}: {error}"));
        }
        Err(CaError::Key(error)) => {
            return fail(format!("Error parsing CA key {key_file}: {error}"));
        }
    };
    for (file, contents, secrecy) in [
        (&cert_file, &issued.cert_pem, Secrecy::Public),
        (&cert_key_file, &issued.key_pem, Secrecy::Secret),
    ] {
        if let Err(error) = write_new(Path::new(file), contents, secrecy) {
            return fail(format!("Error writing {file}: {error}"));
        }
        println!("==> Saved {file}");
    }
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Wrapper {
        #[command(flatten)]
        args: CreateArgs,
    }

    fn parse(line: &[&str]) -> CreateArgs {
        Wrapper::try_parse_from(std::iter::once("x").chain(line.iter().copied()))
            .unwrap()
            .args
    }

    #[test]
    fn exactly_one_kind_is_accepted() {
        assert_eq!(kind(&parse(&["--server"])), Some(Kind::Server));
        assert_eq!(kind(&parse(&["--client"])), Some(Kind::Client));
        assert_eq!(kind(&parse(&["--cli"])), Some(Kind::Cli));
        assert_eq!(kind(&parse(&[])), None);
        assert_eq!(kind(&parse(&["--server", "--cli"])), None);
    }

    #[test]
    fn repeated_flags_accumulate() {
        let args = parse(&[
            "--server",
            "--additional-dnsname=a.example",
            "--additional-dnsname=b.example",
            "--additional-ipaddress=10.0.0.1",
            "--additional-ipaddress=::1",
        ]);
        assert_eq!(args.additional_dnsname, ["a.example", "b.example"]);
        assert_eq!(args.additional_ipaddress.len(), 2);
        assert_eq!((args.dc.as_str(), args.days), ("dc1", 365));
    }
}
