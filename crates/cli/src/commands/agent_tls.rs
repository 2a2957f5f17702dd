//! The agent's HTTPS settings: Consul's `-https-port` flag over `ports.https`,
//! `addresses.https` and `tls.https` (over `tls.defaults`, with the pre-1.12 top-level
//! names already renamed into them).
//!
//! As in Consul, HTTPS is off unless a port is set. A port without a certificate and key
//! does not listen (HashiCorp's test harness sets one on every agent) and is said so;
//! settings that would apply to server RPC in Consul are named in a warning, since
//! server RPC here is not encrypted yet.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use clap::Args;
use proconsul_agent::ChecksTls;
use proconsul_agent::https::HttpsSettings;
use proconsul_config::FileConfig;
use proconsul_tls::{MinVersion, ServerTls};

/// HTTPS flags, as Consul names them.
#[derive(Debug, Args)]
pub struct TlsArgs {
    /// The HTTPS API port; -1 (the default) turns HTTPS off.
    #[arg(long = "https-port", value_name = "PORT", allow_hyphen_values = true)]
    https_port: Option<i32>,
}

impl TlsArgs {
    /// Flags over files; `None` when HTTPS is off.
    pub fn https(
        &self,
        files: &FileConfig,
        client_addr: IpAddr,
    ) -> anyhow::Result<Option<HttpsSettings>> {
        let internal = files.tls.internal_rpc();
        if internal.verify_incoming == Some(true)
            || internal.verify_outgoing == Some(true)
            || internal.verify_server_hostname == Some(true)
        {
            tracing::warn!(
                "TLS on server RPC (verify_incoming, verify_outgoing, verify_server_hostname \
                 for internal RPC) is not implemented: server RPC is plaintext; the HTTPS API \
                 uses the TLS settings"
            );
        }
        let port = match self.https_port.or(files.ports.https) {
            None | Some(-1) | Some(0) => return Ok(None),
            Some(port) => u16::try_from(port)
                .map_err(|_| anyhow::anyhow!("ports.https: {port} is not a port"))?,
        };
        let https = files.tls.https();
        let (Some(cert_file), Some(key_file)) = (&https.cert_file, &https.key_file) else {
            tracing::warn!(
                port,
                "ports.https is set but tls cert_file and key_file are not: HTTPS is off"
            );
            return Ok(None);
        };
        let min_version = match &https.tls_min_version {
            Some(text) => MinVersion::parse(text)?,
            None => MinVersion::default(),
        };
        Ok(Some(HttpsSettings {
            addr: SocketAddr::new(files.addresses.https.unwrap_or(client_addr), port),
            tls: ServerTls {
                cert_file: PathBuf::from(cert_file),
                key_file: PathBuf::from(key_file),
                ca_file: https.ca_file.as_ref().map(PathBuf::from),
                ca_path: https.ca_path.as_ref().map(PathBuf::from),
                verify_incoming: https.verify_incoming.unwrap_or(false),
                min_version,
            },
        }))
    }
}

/// What HTTP checks take from `tls.defaults`: its CA, and with `verify_outgoing` its
/// certificate and key.
pub fn checks_tls(files: &FileConfig) -> ChecksTls {
    let defaults = &files.tls.defaults;
    let client_cert = match (&defaults.cert_file, &defaults.key_file) {
        (Some(cert), Some(key)) if defaults.verify_outgoing == Some(true) => {
            Some((PathBuf::from(cert), PathBuf::from(key)))
        }
        _ => None,
    };
    ChecksTls {
        ca_file: defaults.ca_file.as_ref().map(PathBuf::from),
        ca_path: defaults.ca_path.as_ref().map(PathBuf::from),
        client_cert,
    }
}
