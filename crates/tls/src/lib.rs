//! TLS material, read and checked once so that every listener and client builds its
//! rustls configuration the same way: certificate chains, private keys and CA bundles
//! from PEM files ([`files`]), refused with a message naming the file and the problem
//! (missing, not PEM, a key that does not match its certificate, a certificate expired
//! or not yet valid), and server and client configurations built from them
//! ([`server`], [`client`]) with Consul's settings (`verify_incoming`,
//! `tls_min_version`, a client certificate).
//!
//! The ring provider is used, as everywhere in the workspace.

pub mod cipher_suites;
pub mod client;
pub mod error;
pub mod files;
pub mod refusal;
pub mod server;
pub mod verify;

pub use client::{ClientTls, client_config};
pub use error::TlsError;
pub use server::{ServerTls, server_config};

/// The lowest protocol version a listener or client accepts (`tls_min_version`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MinVersion {
    /// `TLSv1_2`, Consul's default.
    #[default]
    Tls12,
    /// `TLSv1_3`.
    Tls13,
}

impl MinVersion {
    /// Consul's names: `TLSv1_2`, `TLSv1_3` (`tls12`/`tls13` too). `TLSv1_0` and
    /// `TLSv1_1` are refused: rustls does not speak them.
    pub fn parse(text: &str) -> Result<MinVersion, TlsError> {
        match text
            .to_ascii_lowercase()
            .replace(['_', '.', 'v'], "")
            .as_str()
        {
            "tls12" => Ok(MinVersion::Tls12),
            "tls13" => Ok(MinVersion::Tls13),
            _ => Err(TlsError::MinVersion(text.to_string())),
        }
    }

    fn versions(self) -> &'static [&'static rustls::SupportedProtocolVersion] {
        match self {
            MinVersion::Tls12 => rustls::ALL_VERSIONS,
            MinVersion::Tls13 => TLS13_ONLY,
        }
    }
}

const TLS13_ONLY: &[&rustls::SupportedProtocolVersion] = &[&rustls::version::TLS13];

/// The ring provider, offering only the TLS 1.2 suites `cipher_suites` names (all when
/// `None`).
fn provider(
    cipher_suites: Option<&str>,
) -> Result<std::sync::Arc<rustls::crypto::CryptoProvider>, TlsError> {
    let provider = rustls::crypto::ring::default_provider();
    Ok(std::sync::Arc::new(cipher_suites::restrict(
        provider,
        cipher_suites,
    )?))
}
