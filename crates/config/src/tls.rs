//! The `tls { ... }` block, with Consul's key names: `defaults` for every listener and
//! client, and `https`, `internal_rpc` and `grpc` overriding them per interface. The
//! pre-1.12 top-level keys (`ca_file`, `verify_incoming`, ...) are renamed into this
//! block before it is read ([`crate::compat::LEGACY_RENAMES`]). Values are kept as
//! written; the agent resolves each interface's effective settings with
//! [`TlsFile::https`].

use serde::Deserialize;

/// `tls { ... }`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsFile {
    pub defaults: TlsInterfaceFile,
    pub https: TlsInterfaceFile,
    pub internal_rpc: TlsInterfaceFile,
    pub grpc: TlsInterfaceFile,
}

/// The settings of one interface (or the defaults). Unset: inherited from `defaults`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsInterfaceFile {
    pub ca_file: Option<String>,
    pub ca_path: Option<String>,
    pub cert_file: Option<String>,
    pub key_file: Option<String>,
    pub verify_incoming: Option<bool>,
    pub verify_outgoing: Option<bool>,
    /// `TLSv1_0` ... `TLSv1_3` (Consul's names).
    pub tls_min_version: Option<String>,
    pub tls_cipher_suites: Option<String>,
    /// `internal_rpc` only: servers must present `server.<dc>.<domain>`.
    pub verify_server_hostname: Option<bool>,
    /// `grpc` only: use the HTTPS port's settings.
    pub use_auto_cert: Option<bool>,
}

impl TlsInterfaceFile {
    /// `self` with what it leaves unset taken from `defaults`.
    fn over(&self, defaults: &TlsInterfaceFile) -> TlsInterfaceFile {
        fn pick<T: Clone>(own: &Option<T>, fallback: &Option<T>) -> Option<T> {
            own.clone().or_else(|| fallback.clone())
        }
        TlsInterfaceFile {
            ca_file: pick(&self.ca_file, &defaults.ca_file),
            ca_path: pick(&self.ca_path, &defaults.ca_path),
            cert_file: pick(&self.cert_file, &defaults.cert_file),
            key_file: pick(&self.key_file, &defaults.key_file),
            verify_incoming: pick(&self.verify_incoming, &defaults.verify_incoming),
            verify_outgoing: pick(&self.verify_outgoing, &defaults.verify_outgoing),
            tls_min_version: pick(&self.tls_min_version, &defaults.tls_min_version),
            tls_cipher_suites: pick(&self.tls_cipher_suites, &defaults.tls_cipher_suites),
            verify_server_hostname: pick(
                &self.verify_server_hostname,
                &defaults.verify_server_hostname,
            ),
            use_auto_cert: pick(&self.use_auto_cert, &defaults.use_auto_cert),
        }
    }
}

impl TlsFile {
    /// The HTTPS listener's effective settings (`tls.https` over `tls.defaults`).
    pub fn https(&self) -> TlsInterfaceFile {
        self.https.over(&self.defaults)
    }

    /// Server RPC's effective settings (`tls.internal_rpc` over `tls.defaults`).
    pub fn internal_rpc(&self) -> TlsInterfaceFile {
        self.internal_rpc.over(&self.defaults)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interfaces_inherit_what_they_leave_unset() {
        let file = TlsFile {
            defaults: TlsInterfaceFile {
                ca_file: Some("ca.pem".into()),
                verify_incoming: Some(true),
                ..TlsInterfaceFile::default()
            },
            https: TlsInterfaceFile {
                verify_incoming: Some(false),
                cert_file: Some("https.pem".into()),
                ..TlsInterfaceFile::default()
            },
            ..TlsFile::default()
        };
        let https = file.https();
        assert_eq!(https.ca_file.as_deref(), Some("ca.pem"));
        assert_eq!(https.verify_incoming, Some(false));
        assert_eq!(https.cert_file.as_deref(), Some("https.pem"));
        assert_eq!(file.internal_rpc().verify_incoming, Some(true));
    }
}
