//! The HTTPS listener's rustls configuration: its certificate (checked against its key
//! and the clock), HTTP/2 and HTTP/1.1 by ALPN, the lowest protocol version, and with
//! `verify_incoming` a client certificate signed by the CA required in the handshake.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use rustls::ServerConfig;
use rustls::server::WebPkiClientVerifier;

use crate::{MinVersion, TlsError, files, provider};

/// What a TLS listener is configured with (Consul's `tls.https` over `tls.defaults`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerTls {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    pub ca_file: Option<PathBuf>,
    pub ca_path: Option<PathBuf>,
    pub verify_incoming: bool,
    /// Without `verify_incoming`: still ask for a client certificate and check it when
    /// one is given (server RPC, whose peers are told apart by their certificate).
    pub request_client_cert: bool,
    pub min_version: MinVersion,
    /// `tls_cipher_suites`: the TLS 1.2 suites accepted (all when `None`).
    pub cipher_suites: Option<String>,
}

/// Reads and checks `settings`' files and builds the listener's configuration.
pub fn server_config(settings: &ServerTls) -> Result<Arc<ServerConfig>, TlsError> {
    let chain = files::certificates(&settings.cert_file)?;
    files::check_validity(&settings.cert_file, &chain[0], SystemTime::now())?;
    let key = files::private_key(&settings.key_file)?;
    let provider = provider(settings.cipher_suites.as_deref())?;
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(settings.min_version.versions())?;
    let has_ca = settings.ca_file.is_some() || settings.ca_path.is_some();
    let builder = if settings.verify_incoming || (settings.request_client_cert && has_ca) {
        if !has_ca {
            return Err(TlsError::VerifyWithoutCa);
        }
        let roots = files::roots(settings.ca_file.as_deref(), settings.ca_path.as_deref())?;
        let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
        let verifier = if settings.verify_incoming {
            verifier
        } else {
            verifier.allow_unauthenticated()
        };
        let verifier = verifier
            .build()
            .map_err(|error| TlsError::Rustls(rustls::Error::General(error.to_string())))?;
        builder.with_client_cert_verifier(verifier)
    } else {
        builder.with_no_client_auth()
    };
    let mut config = builder
        .with_single_cert(chain, key)
        .map_err(|error| match error {
            rustls::Error::InconsistentKeys(_) => TlsError::KeyMismatch {
                cert: settings.cert_file.clone(),
                key: settings.key_file.clone(),
            },
            other => TlsError::Key {
                path: settings.key_file.clone(),
                reason: other.to_string(),
            },
        })?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
