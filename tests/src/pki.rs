//! Certificates for TLS tests, made with rcgen in a temporary directory: a CA, leaves
//! it signs (servers with `server.dc1.consul`, `localhost` and 127.0.0.1, clients),
//! and the odd ones the refusal tests need (another CA, expired); and a small HTTPS
//! target for checks to probe ([`serve_ok`]).

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
    issuer: Issuer<'static, KeyPair>,
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
            issuer: Issuer::new(params, key),
        }
    }

    /// A CA made elsewhere (`proconsul tls ca create`), from its certificate and key
    /// files, to sign the odd leaves a test needs; `name` prefixes nothing it reads.
    pub fn adopt(name: &str, ca_file: &Path, ca_key_file: &Path) -> Pki {
        let pem = std::fs::read_to_string(ca_file).unwrap();
        let key = KeyPair::from_pem(&std::fs::read_to_string(ca_key_file).unwrap()).unwrap();
        let dir = TempDir::new("pki");
        std::fs::copy(ca_file, dir.path().join(format!("{name}-ca.pem"))).unwrap();
        Pki {
            dir,
            name: name.to_string(),
            issuer: Issuer::from_ca_cert_pem(&pem, key).unwrap(),
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
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        let cert_file = self.dir.path().join(format!("{name}.pem"));
        let key_file = self.dir.path().join(format!("{name}-key.pem"));
        std::fs::write(&cert_file, cert.pem()).unwrap();
        std::fs::write(&key_file, key.serialize_pem()).unwrap();
        (cert_file, key_file)
    }
}

/// An HTTPS server on a free loopback port with `config`, answering every request
/// `200` with `body` and closing the connection; runs until the test ends.
pub async fn serve_ok(config: rustls::ServerConfig, body: &'static str) -> std::net::SocketAddr {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(stream).await else {
                    return;
                };
                let mut request = Vec::new();
                let mut buffer = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buffer[..n]),
                    }
                }
                let answer = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(answer.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    addr
}
