//! Client configurations (the CLI, server RPC, checks): the servers' CA, or the
//! system's roots when no CA is given; optionally a client certificate for listeners
//! that verify incoming connections, another name to check the server's certificate
//! against, or no check at all when the operator asked for that.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use rustls::ClientConfig;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::ServerCertVerifier;
use rustls::pki_types::ServerName;

use crate::verify::{CaOnly, NamedServer, Unverified};
use crate::{TlsError, files, provider};

/// What a client is configured with (`-ca-file`, `-client-cert`, `CONSUL_CACERT`, ...).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientTls {
    pub ca_file: Option<PathBuf>,
    pub ca_path: Option<PathBuf>,
    pub client_cert: Option<PathBuf>,
    pub client_key: Option<PathBuf>,
    /// The name the server's certificate must carry, instead of the host dialled.
    pub server_name: Option<String>,
    /// Accept any server certificate (`CONSUL_HTTP_SSL_VERIFY=false`).
    pub skip_verify: bool,
    /// Check only that the CA signed the server's certificate, not the name in it
    /// (server RPC without `verify_server_hostname`); needs a CA.
    pub ca_only: bool,
    /// `tls_cipher_suites`: the TLS 1.2 suites offered (all when `None`).
    pub cipher_suites: Option<String>,
}

/// Builds a client configuration from `settings`.
pub fn client_config(settings: &ClientTls) -> Result<Arc<ClientConfig>, TlsError> {
    let provider = provider(settings.cipher_suites.as_deref())?;
    let verifier = server_verifier(settings, &provider)?;
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let mut config = match (&settings.client_cert, &settings.client_key) {
        (Some(cert), Some(key)) => {
            let chain = files::certificates(cert)?;
            files::check_validity(cert, &chain[0], SystemTime::now())?;
            builder
                .with_client_auth_cert(chain, files::private_key(key)?)
                .map_err(|_| TlsError::KeyMismatch {
                    cert: cert.clone(),
                    key: key.clone(),
                })?
        }
        (None, None) => builder.with_no_client_auth(),
        _ => return Err(TlsError::HalfPair),
    };
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

fn server_verifier(
    settings: &ClientTls,
    provider: &Arc<rustls::crypto::CryptoProvider>,
) -> Result<Arc<dyn ServerCertVerifier>, TlsError> {
    if settings.skip_verify {
        return Ok(Arc::new(Unverified {
            provider: provider.clone(),
        }));
    }
    let has_ca = settings.ca_file.is_some() || settings.ca_path.is_some();
    if settings.ca_only {
        if !has_ca {
            return Err(TlsError::VerifyWithoutCa);
        }
        let roots = files::roots(settings.ca_file.as_deref(), settings.ca_path.as_deref())?;
        return Ok(Arc::new(CaOnly {
            roots: Arc::new(roots),
            provider: provider.clone(),
        }));
    }
    let verifier: Arc<dyn ServerCertVerifier> = if has_ca {
        let roots = files::roots(settings.ca_file.as_deref(), settings.ca_path.as_deref())?;
        WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .map_err(|error| TlsError::Rustls(rustls::Error::General(error.to_string())))?
    } else {
        Arc::new(rustls_platform_verifier::Verifier::new(provider.clone())?)
    };
    match &settings.server_name {
        None => Ok(verifier),
        Some(name) => {
            let name = ServerName::try_from(name.clone())
                .map_err(|_| TlsError::ServerName(name.clone()))?;
            Ok(Arc::new(NamedServer {
                inner: verifier,
                name,
            }))
        }
    }
}
