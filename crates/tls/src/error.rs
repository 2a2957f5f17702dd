//! Why TLS material could not be used; each names the file and the problem, since the
//! agent refuses to start with it.

use std::path::PathBuf;

/// A file or setting that cannot make a TLS configuration.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: no PEM certificate in the file")]
    NoCertificate { path: PathBuf },
    #[error("{path}: no PEM private key in the file (or it is not PKCS#8, PKCS#1 or SEC1)")]
    NoKey { path: PathBuf },
    #[error("{path}: not a valid PEM file: {reason}")]
    Pem { path: PathBuf, reason: String },
    #[error("{path}: the certificate cannot be parsed: {reason}")]
    Certificate { path: PathBuf, reason: String },
    #[error("{path}: the certificate expired on {not_after}")]
    Expired { path: PathBuf, not_after: String },
    #[error("{path}: the certificate is not valid before {not_before}")]
    NotYetValid { path: PathBuf, not_before: String },
    #[error("{key}: the private key does not match the certificate in {cert}")]
    KeyMismatch { cert: PathBuf, key: PathBuf },
    #[error("{path}: {reason}")]
    Key { path: PathBuf, reason: String },
    #[error("{path}: no CA certificate found")]
    NoCa { path: PathBuf },
    #[error(
        "verify_incoming and verify_outgoing need a CA (ca_file or ca_path) to check certificates against"
    )]
    VerifyWithoutCa,
    #[error("a certificate needs its key: set both cert_file and key_file")]
    HalfPair,
    #[error("{0:?} is not a valid TLS server name")]
    ServerName(String),
    #[error("unsupported tls_min_version {0:?} (TLSv1_2 or TLSv1_3)")]
    MinVersion(String),
    #[error(
        "tls_cipher_suites: {0:?} is not a TLS 1.2 suite this agent supports (ECDHE with AES-GCM or ChaCha20-Poly1305)"
    )]
    CipherSuite(String),
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
}
