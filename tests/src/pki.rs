//! Certificates for TLS tests, made with rcgen in a temporary directory: a CA, leaves
//! it signs (servers with `server.dc1.consul`, `localhost` and 127.0.0.1, clients),
//! and the odd ones the refusal tests need (another CA, expired).

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    SanType, date_time_ymd,
};

use crate::TempDir;

/// A CA and the directory its files and those of the leaves it signs are written to.
pub struct Pki {
    dir: TempDir,
    name: String,
    params: CertificateParams,
    key: KeyPair,
}

impl Pki {
    /// A new CA whose files are `<name>-ca.pem` and `<name>-ca-key.pem`.
    pub fn new(name: &str) -> Pki {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, format!("{name} test CA"));
        let cert = params.self_signed(&key).unwrap();
        let dir = TempDir::new("pki");
        std::fs::write(dir.path().join(format!("{name}-ca.pem")), cert.pem()).unwrap();
        std::fs::write(
            dir.path().join(format!("{name}-ca-key.pem")),
            key.serialize_pem(),
        )
        .unwrap();
        Pki {
            dir,
            name: name.to_string(),
            params,
            key,
        }
    }

    /// The CA certificate's file.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join(format!("{}-ca.pem", self.name))
    }

    /// Where files are written.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// A server certificate for `server.dc1.consul`, `localhost` and 127.0.0.1, valid
    /// now; returns (cert, key) files.
    pub fn server(&self, name: &str) -> (PathBuf, PathBuf) {
        let sans = vec![
            SanType::DnsName("server.dc1.consul".try_into().unwrap()),
            SanType::DnsName("localhost".try_into().unwrap()),
            SanType::IpAddress([127, 0, 0, 1].into()),
        ];
        let usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        self.leaf(name, sans, usages, (2020, 2090))
    }

    /// A client certificate valid now.
    pub fn client(&self, name: &str) -> (PathBuf, PathBuf) {
        let sans = vec![SanType::DnsName("client.dc1.consul".try_into().unwrap())];
        self.leaf(
            name,
            sans,
            vec![ExtendedKeyUsagePurpose::ClientAuth],
            (2020, 2090),
        )
    }

    /// A client certificate that expired long ago.
    pub fn expired_client(&self, name: &str) -> (PathBuf, PathBuf) {
        let sans = vec![SanType::DnsName("client.dc1.consul".try_into().unwrap())];
        self.leaf(
            name,
            sans,
            vec![ExtendedKeyUsagePurpose::ClientAuth],
            (2001, 2002),
        )
    }

    fn leaf(
        &self,
        name: &str,
        sans: Vec<SanType>,
        usages: Vec<ExtendedKeyUsagePurpose>,
        (from, until): (i32, i32),
    ) -> (PathBuf, PathBuf) {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::default();
        params.subject_alt_names = sans;
        params.extended_key_usages = usages;
        params.not_before = date_time_ymd(from, 1, 1);
        params.not_after = date_time_ymd(until, 1, 1);
        let issuer = Issuer::from_params(&self.params, &self.key);
        let cert = params.signed_by(&key, &issuer).unwrap();
        let cert_file = self.dir.path().join(format!("{name}.pem"));
        let key_file = self.dir.path().join(format!("{name}-key.pem"));
        std::fs::write(&cert_file, cert.pem()).unwrap();
        std::fs::write(&key_file, key.serialize_pem()).unwrap();
        (cert_file, key_file)
    }
}
