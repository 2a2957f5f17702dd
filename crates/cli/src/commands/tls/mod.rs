//! `proconsul tls ca create` and `proconsul tls cert create`: Consul's certificate
//! tooling, so that the guides that set up agent TLS with `consul tls` work unchanged
//! (same flags, file names, certificate contents and messages), with no agent needed.
//!
//! - [`profile`]: what each kind of certificate says (names, usages, file prefix);
//! - [`x509`]: building and signing the certificates with rcgen;
//! - [`files`]: Consul's file names, numbering and no-overwrite writes;
//! - [`ca`] and [`cert`]: the two commands' flags, checks and output.

mod ca;
mod cert;
mod files;
mod profile;
mod x509;

use std::process::ExitCode;

use clap::Subcommand;

/// `proconsul tls ...`.
#[derive(Debug, Subcommand)]
pub enum TlsCommand {
    /// Helpers for CAs.
    #[command(subcommand)]
    Ca(CaCommand),
    /// Helpers for certificates.
    #[command(subcommand)]
    Cert(CertCommand),
}

/// `proconsul tls ca ...`.
#[derive(Debug, Subcommand)]
pub enum CaCommand {
    /// Creates a new self-signed CA for agent TLS.
    Create(ca::CreateArgs),
}

/// `proconsul tls cert ...`.
#[derive(Debug, Subcommand)]
pub enum CertCommand {
    /// Creates a server, client or CLI certificate signed by the agent CA.
    Create(cert::CreateArgs),
}

/// Runs a `tls` command; these only touch files in the current directory.
pub fn run(command: TlsCommand) -> ExitCode {
    match command {
        TlsCommand::Ca(CaCommand::Create(args)) => ca::create(&args),
        TlsCommand::Cert(CertCommand::Create(args)) => cert::create(&args),
    }
}
