//! The agent's TLS settings: HTTPS (Consul's `-https-port` flag over `ports.https`,
//! `addresses.https` and `tls.https`), server RPC (`tls.internal_rpc`) and checks, each
//! over `tls.defaults`, with the pre-1.12 top-level names already renamed into them.
//!
//! As in Consul, HTTPS is off unless a port is set. A port without a certificate and key
//! does not listen (HashiCorp's test harness sets one on every agent) and is said so.
//! Server RPC accepts TLS once it has a certificate; `verify_incoming` without one, or
//! `verify_outgoing` without a CA, is refused at start.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use clap::Args;
use proconsul_agent::ChecksTls;
use proconsul_agent::https::HttpsSettings;
use proconsul_agent::rpc_tls::RpcTlsSettings;
use proconsul_config::FileConfig;
use proconsul_config::TlsInterfaceFile;
use proconsul_tls::{ClientTls, MinVersion, ServerTls};

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
        let min_version = min_version(&https)?;
        Ok(Some(HttpsSettings {
            addr: SocketAddr::new(files.addresses.https.unwrap_or(client_addr), port),
            tls: ServerTls {
                cert_file: PathBuf::from(cert_file),
                key_file: PathBuf::from(key_file),
                ca_file: https.ca_file.as_ref().map(PathBuf::from),
                ca_path: https.ca_path.as_ref().map(PathBuf::from),
                verify_incoming: https.verify_incoming.unwrap_or(false),
                request_client_cert: false,
                min_version,
                cipher_suites: https.tls_cipher_suites.clone(),
            },
        }))
    }
}

fn min_version(settings: &TlsInterfaceFile) -> anyhow::Result<MinVersion> {
    Ok(match &settings.tls_min_version {
        Some(text) => MinVersion::parse(text)?,
        None => MinVersion::default(),
    })
}

/// Server RPC's TLS (`tls.internal_rpc` over `tls.defaults`); `None` when it has neither
/// a certificate nor `verify_outgoing` (plaintext). Servers' certificates carry
/// `server.<datacenter>.<domain>`, which `verify_server_hostname` checks.
pub fn rpc_tls(
    files: &FileConfig,
    datacenter: &str,
    domain: &str,
) -> anyhow::Result<Option<RpcTlsSettings>> {
    let rpc = files.tls.internal_rpc();
    let verify_incoming = rpc.verify_incoming == Some(true);
    let verify_outgoing = rpc.verify_outgoing == Some(true);
    let verify_server_hostname = rpc.verify_server_hostname == Some(true);
    let has_ca = rpc.ca_file.is_some() || rpc.ca_path.is_some();
    let pair = match (&rpc.cert_file, &rpc.key_file) {
        (Some(cert), Some(key)) => Some((PathBuf::from(cert), PathBuf::from(key))),
        (None, None) => None,
        _ => anyhow::bail!(
            "tls.internal_rpc: a certificate needs its key: set both cert_file and key_file"
        ),
    };
    if verify_incoming && (pair.is_none() || !has_ca) {
        anyhow::bail!(
            "tls.internal_rpc.verify_incoming needs cert_file, key_file and ca_file (or ca_path)"
        );
    }
    if verify_outgoing && !has_ca {
        anyhow::bail!(
            "tls.internal_rpc.verify_outgoing is set but no CA certificate (ca_file or ca_path) is"
        );
    }
    if pair.is_none() && !verify_outgoing {
        return Ok(None);
    }
    let ca_file = rpc.ca_file.as_ref().map(PathBuf::from);
    let ca_path = rpc.ca_path.as_ref().map(PathBuf::from);
    let server_name =
        verify_server_hostname.then(|| format!("server.{datacenter}.{}", domain.trim_matches('.')));
    let min_version = min_version(&rpc)?;
    Ok(Some(RpcTlsSettings {
        server: pair.as_ref().map(|(cert, key)| ServerTls {
            cert_file: cert.clone(),
            key_file: key.clone(),
            ca_file: ca_file.clone(),
            ca_path: ca_path.clone(),
            verify_incoming,
            request_client_cert: true,
            min_version,
            cipher_suites: rpc.tls_cipher_suites.clone(),
        }),
        client: verify_outgoing.then(|| ClientTls {
            ca_file,
            ca_path,
            client_cert: pair.as_ref().map(|(cert, _)| cert.clone()),
            client_key: pair.as_ref().map(|(_, key)| key.clone()),
            server_name: server_name.clone(),
            skip_verify: false,
            ca_only: server_name.is_none(),
            cipher_suites: rpc.tls_cipher_suites.clone(),
        }),
        verify_incoming,
        server_name,
    }))
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
