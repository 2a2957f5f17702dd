//! Server and client configurations from real PEM files made with rcgen: what builds,
//! and each refusal naming its file and problem.

use std::path::{Path, PathBuf};

use proconsul_tls::{ClientTls, MinVersion, ServerTls, TlsError, client_config, server_config};
use rcgen::{CertificateParams, IsCa, Issuer, KeyPair, date_time_ymd};

struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    fn new() -> Pki {
        Pki {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    /// A CA, written as `<name>.pem` and `<name>-key.pem`; returns its params and key.
    fn ca(&self, name: &str) -> (CertificateParams, KeyPair) {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let cert = params.self_signed(&key).unwrap();
        self.write(&format!("{name}.pem"), &cert.pem());
        self.write(&format!("{name}-key.pem"), &key.serialize_pem());
        (params, key)
    }

    /// A leaf for `localhost` signed by `ca`, valid from `from` to `until` (years).
    fn leaf(&self, name: &str, ca: &(CertificateParams, KeyPair), from: i32, until: i32) {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
        params.not_before = date_time_ymd(from, 1, 1);
        params.not_after = date_time_ymd(until, 1, 1);
        let issuer = Issuer::from_params(&ca.0, &ca.1);
        let cert = params.signed_by(&key, &issuer).unwrap();
        self.write(&format!("{name}.pem"), &cert.pem());
        self.write(&format!("{name}-key.pem"), &key.serialize_pem());
    }

    fn server(&self, leaf: &str, key: &str) -> ServerTls {
        ServerTls {
            cert_file: self.path(&format!("{leaf}.pem")),
            key_file: self.path(&format!("{key}-key.pem")),
            ..ServerTls::default()
        }
    }
}

fn names(error: &TlsError, path: &Path) -> bool {
    error.to_string().contains(&path.display().to_string())
}

#[test]
fn a_good_pair_builds_and_verify_incoming_needs_a_ca() {
    let pki = Pki::new();
    let ca = pki.ca("ca");
    pki.leaf("server", &ca, 2020, 2090);
    let config = server_config(&pki.server("server", "server")).unwrap();
    assert_eq!(
        config.alpn_protocols,
        [b"h2".to_vec(), b"http/1.1".to_vec()]
    );

    let mut verifying = pki.server("server", "server");
    verifying.verify_incoming = true;
    assert!(matches!(
        server_config(&verifying),
        Err(TlsError::VerifyWithoutCa)
    ));
    verifying.ca_file = Some(pki.path("ca.pem"));
    server_config(&verifying).unwrap();
    verifying.min_version = MinVersion::Tls13;
    server_config(&verifying).unwrap();

    let client = ClientTls {
        ca_file: Some(pki.path("ca.pem")),
        client_cert: Some(pki.path("server.pem")),
        client_key: Some(pki.path("server-key.pem")),
        ..ClientTls::default()
    };
    client_config(&client).unwrap();
    let half = ClientTls {
        client_cert: Some(pki.path("server.pem")),
        ..client.clone()
    };
    let half = ClientTls {
        client_key: None,
        ..half
    };
    assert!(matches!(client_config(&half), Err(TlsError::HalfPair)));
}

#[test]
fn bad_files_are_refused_naming_the_file_and_the_problem() {
    let pki = Pki::new();
    let ca = pki.ca("ca");
    pki.leaf("good", &ca, 2020, 2090);
    pki.leaf("other", &ca, 2020, 2090);
    pki.leaf("expired", &ca, 2001, 2002);
    pki.leaf("future", &ca, 2080, 2090);

    let mismatch = server_config(&pki.server("good", "other")).unwrap_err();
    assert!(
        matches!(mismatch, TlsError::KeyMismatch { .. }),
        "{mismatch}"
    );
    assert!(names(&mismatch, &pki.path("other-key.pem")), "{mismatch}");

    let expired = server_config(&pki.server("expired", "expired")).unwrap_err();
    assert!(matches!(expired, TlsError::Expired { .. }), "{expired}");
    assert!(names(&expired, &pki.path("expired.pem")), "{expired}");

    let future = server_config(&pki.server("future", "future")).unwrap_err();
    assert!(matches!(future, TlsError::NotYetValid { .. }), "{future}");

    let missing = server_config(&pki.server("absent", "good")).unwrap_err();
    assert!(matches!(missing, TlsError::Read { .. }), "{missing}");
    assert!(names(&missing, &pki.path("absent.pem")), "{missing}");

    pki.write("junk.pem", "not a certificate\n");
    let junk = server_config(&pki.server("junk", "good")).unwrap_err();
    assert!(matches!(junk, TlsError::NoCertificate { .. }), "{junk}");

    // A certificate where the key should be.
    let mut no_key = pki.server("good", "good");
    no_key.key_file = pki.path("good.pem");
    let no_key = server_config(&no_key).unwrap_err();
    assert!(matches!(no_key, TlsError::NoKey { .. }), "{no_key}");

    assert!(MinVersion::parse("TLSv1_3").is_ok());
    assert!(MinVersion::parse("tls12").is_ok());
    assert!(matches!(
        MinVersion::parse("TLSv1_0"),
        Err(TlsError::MinVersion(_))
    ));
}

/// The leaf's DER, as a peer would present it.
fn der(pki: &Pki, name: &str) -> rustls_pki_types::CertificateDer<'static> {
    proconsul_tls::files::certificates(&pki.path(&format!("{name}.pem")))
        .unwrap()
        .remove(0)
}

#[test]
fn a_peer_certificate_is_told_apart_by_its_name() {
    let pki = Pki::new();
    let ca = pki.ca("ca");
    pki.leaf("leaf", &ca, 2020, 2090);
    let leaf = der(&pki, "leaf");
    assert!(proconsul_tls::verify::certificate_is_for(
        &leaf,
        "localhost"
    ));
    assert!(!proconsul_tls::verify::certificate_is_for(
        &leaf,
        "server.dc1.consul"
    ));
    assert!(!proconsul_tls::verify::certificate_is_for(
        &leaf,
        "not a name"
    ));
}

#[test]
fn ca_only_checks_the_chain_not_the_name() {
    use rustls::client::danger::ServerCertVerifier;
    let pki = Pki::new();
    let ca = pki.ca("ca");
    pki.leaf("leaf", &ca, 2020, 2090);
    let other = pki.ca("other");
    pki.leaf("stranger", &other, 2020, 2090);
    pki.leaf("old", &ca, 2001, 2002);
    let verifier = proconsul_tls::verify::CaOnly {
        roots: std::sync::Arc::new(
            proconsul_tls::files::roots(Some(&pki.path("ca.pem")), None).unwrap(),
        ),
        provider: std::sync::Arc::new(rustls::crypto::ring::default_provider()),
    };
    let verify = |name: &str| {
        verifier.verify_server_cert(
            &der(&pki, name),
            &[],
            &rustls_pki_types::ServerName::try_from("elsewhere.example").unwrap(),
            &[],
            rustls_pki_types::UnixTime::now(),
        )
    };
    assert!(
        verify("leaf").is_ok(),
        "a name it does not carry is not checked"
    );
    assert!(
        verify("stranger").is_err(),
        "another CA's certificate passed"
    );
    assert!(verify("old").is_err(), "an expired certificate passed");
    // and a client configuration asking for it needs a CA.
    let no_ca = ClientTls {
        ca_only: true,
        ..ClientTls::default()
    };
    assert!(matches!(
        client_config(&no_ca),
        Err(TlsError::VerifyWithoutCa)
    ));
}
