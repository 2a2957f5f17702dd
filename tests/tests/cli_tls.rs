//! `proconsul tls ca create` and `proconsul tls cert create` run as Consul's guides run
//! them (in a scratch directory), then the files are parsed with x509-parser and the
//! chains verified with rustls's webpki verifiers, the ones Proconsul's agent uses.

use std::net::IpAddr;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;

use proconsul_tests::{TempDir, binary};
use rustls::RootCertStore;
use rustls::client::danger::ServerCertVerifier;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::danger::ClientCertVerifier;
use x509_parser::prelude::{GeneralName, X509Certificate};

const DAY: i64 = 86_400;

/// Runs `proconsul tls <args>` in `dir`.
fn tls(dir: &Path, args: &[&str]) -> Output {
    Command::new(binary())
        .arg("tls")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("cannot run proconsul")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The DER of the PEM certificate in `dir/file`.
fn der(dir: &Path, file: &str) -> Vec<u8> {
    let pem = std::fs::read(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    let (_, pem) = x509_parser::pem::parse_x509_pem(&pem).expect("not PEM");
    assert_eq!(pem.label, "CERTIFICATE");
    pem.contents
}

fn parse(der: &[u8]) -> X509Certificate<'_> {
    x509_parser::parse_x509_certificate(der)
        .expect("not X.509")
        .1
}

fn common_name(cert: &X509Certificate<'_>) -> String {
    let name = cert.subject().iter_common_name().next().expect("no CN");
    name.as_str().expect("CN not a string").to_owned()
}

/// The DNS and IP subject alternative names, in order.
fn sans(cert: &X509Certificate<'_>) -> (Vec<String>, Vec<IpAddr>) {
    let mut dns = Vec::new();
    let mut ips = Vec::new();
    let Some(extension) = cert.subject_alternative_name().expect("bad SAN") else {
        return (dns, ips);
    };
    for name in &extension.value.general_names {
        match name {
            GeneralName::DNSName(name) => dns.push((*name).to_owned()),
            GeneralName::IPAddress(bytes) => ips.push(match bytes.len() {
                4 => IpAddr::from(<[u8; 4]>::try_from(*bytes).unwrap()),
                _ => IpAddr::from(<[u8; 16]>::try_from(*bytes).unwrap()),
            }),
            other => panic!("unexpected SAN {other:?}"),
        }
    }
    (dns, ips)
}

/// (serverAuth, clientAuth), or None without the extension.
fn usages(cert: &X509Certificate<'_>) -> Option<(bool, bool)> {
    let extension = cert.extended_key_usage().expect("bad EKU")?;
    Some((extension.value.server_auth, extension.value.client_auth))
}

fn validity_days(cert: &X509Certificate<'_>) -> i64 {
    let validity = cert.validity();
    (validity.not_after.timestamp() - validity.not_before.timestamp()) / DAY
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

/// Webpki's verdicts with `ca` as the only root: as a server for `name`, as a client.
struct Verifier {
    server: Arc<rustls::client::WebPkiServerVerifier>,
    client: Arc<dyn ClientCertVerifier>,
}

impl Verifier {
    fn new(ca: &[u8]) -> Verifier {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = RootCertStore::empty();
        roots.add(CertificateDer::from(ca.to_vec())).unwrap();
        let roots = Arc::new(roots);
        Verifier {
            server: rustls::client::WebPkiServerVerifier::builder_with_provider(
                roots.clone(),
                provider.clone(),
            )
            .build()
            .unwrap(),
            client: rustls::server::WebPkiClientVerifier::builder_with_provider(roots, provider)
                .build()
                .unwrap(),
        }
    }

    fn as_server(&self, cert: &[u8], name: &str) -> Result<(), rustls::Error> {
        let name = ServerName::try_from(name.to_owned()).unwrap();
        self.server
            .verify_server_cert(
                &CertificateDer::from(cert.to_vec()),
                &[],
                &name,
                &[],
                UnixTime::now(),
            )
            .map(|_| ())
    }

    fn as_client(&self, cert: &[u8]) -> Result<(), rustls::Error> {
        self.client
            .verify_client_cert(&CertificateDer::from(cert.to_vec()), &[], UnixTime::now())
            .map(|_| ())
    }
}

#[test]
fn a_ca_signs_server_client_and_cli_certificates_like_consuls() {
    let dir = TempDir::new("tls");
    let dir = dir.path();

    let output = tls(
        dir,
        &[
            "ca",
            "create",
            "-days=30",
            "-name-constraint",
            "-additional-name-constraint",
            "example.com",
        ],
    );
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        stdout(&output),
        "==> Saved consul-agent-ca.pem\n==> Saved consul-agent-ca-key.pem\n"
    );
    let ca_der = der(dir, "consul-agent-ca.pem");
    let ca = parse(&ca_der);
    assert!(ca.is_ca());
    assert_eq!(ca.subject(), ca.issuer());
    let serial = u128::from_be_bytes({
        let raw = ca.raw_serial();
        let raw = &raw[raw.len().saturating_sub(16)..];
        let mut bytes = [0u8; 16];
        bytes[16 - raw.len()..].copy_from_slice(raw);
        bytes
    });
    assert_eq!(common_name(&ca), format!("Consul Agent CA {serial}"));
    let organisation = ca.subject().iter_organization().next().unwrap();
    assert_eq!(organisation.as_str().unwrap(), "HashiCorp Inc.");
    let key_usage = ca.key_usage().unwrap().expect("no key usage").value;
    assert!(key_usage.key_cert_sign() && key_usage.crl_sign());
    assert_eq!(validity_days(&ca), 30);
    let constraints = ca.name_constraints().unwrap().expect("no name constraints");
    assert!(constraints.critical);
    let permitted: Vec<String> = constraints
        .value
        .permitted_subtrees
        .as_ref()
        .expect("nothing permitted")
        .iter()
        .map(|subtree| match subtree.base {
            GeneralName::DNSName(name) => name.to_owned(),
            ref other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(permitted, ["consul", "localhost", "example.com"]);
    let key = std::fs::read_to_string(dir.join("consul-agent-ca-key.pem")).unwrap();
    assert!(key.contains("PRIVATE KEY"), "{key}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("consul-agent-ca-key.pem"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(
            mode & 0o077,
            0,
            "the CA key is readable by others: {mode:o}"
        );
    }

    let output = tls(
        dir,
        &[
            "cert",
            "create",
            "-server",
            "-node=n1",
            "-additional-dnsname=a.example.com",
            "-additional-ipaddress=10.1.2.3",
        ],
    );
    assert!(output.status.success(), "{output:?}");
    assert!(
        stderr(&output).starts_with("==> WARNING: Server Certificates grants authority"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        stdout(&output),
        "==> Using consul-agent-ca.pem and consul-agent-ca-key.pem\n\
         ==> Saved dc1-server-consul-0.pem\n\
         ==> Saved dc1-server-consul-0-key.pem\n"
    );
    let output = tls(dir, &["cert", "create", "-server", "-days", "7"]);
    assert!(output.status.success(), "{output:?}");
    assert!(stdout(&output).contains("==> Saved dc1-server-consul-1.pem\n"));
    assert!(stdout(&output).contains("==> Saved dc1-server-consul-1-key.pem\n"));
    let output = tls(dir, &["cert", "create", "-client"]);
    assert!(output.status.success(), "{output:?}");
    assert!(stderr(&output).is_empty(), "{}", stderr(&output));
    assert!(stdout(&output).contains("==> Saved dc1-client-consul-0.pem\n"));
    let output = tls(
        dir,
        &[
            "cert",
            "create",
            "-cli",
            "-additional-dnsname=ignored.example.com",
        ],
    );
    assert!(output.status.success(), "{output:?}");
    assert!(stdout(&output).contains("==> Saved dc1-cli-consul-0-key.pem\n"));
    for file in [
        "dc1-server-consul-0-key.pem",
        "dc1-server-consul-1-key.pem",
        "dc1-client-consul-0-key.pem",
        "dc1-cli-consul-0-key.pem",
    ] {
        let key = std::fs::read_to_string(dir.join(file)).unwrap();
        assert!(key.starts_with("-----BEGIN PRIVATE KEY-----"), "{file}");
    }

    let verifier = Verifier::new(&ca_der);

    let server0_der = der(dir, "dc1-server-consul-0.pem");
    let server0 = parse(&server0_der);
    assert_eq!(server0.issuer(), ca.subject());
    assert!(!server0.is_ca());
    assert_eq!(common_name(&server0), "server.dc1.consul");
    assert_eq!(
        sans(&server0),
        (
            vec![
                "a.example.com".to_owned(),
                "n1.server.dc1.consul".to_owned(),
                "server.dc1.consul".to_owned(),
                "localhost".to_owned()
            ],
            vec![ip("10.1.2.3"), ip("127.0.0.1")]
        )
    );
    assert_eq!(usages(&server0), Some((true, true)));
    assert_eq!(validity_days(&server0), 365);
    let key_usage = server0.key_usage().unwrap().expect("no key usage").value;
    assert!(key_usage.digital_signature() && key_usage.key_encipherment());
    for name in [
        "server.dc1.consul",
        "n1.server.dc1.consul",
        "localhost",
        "a.example.com",
        "127.0.0.1",
        "10.1.2.3",
    ] {
        verifier
            .as_server(&server0_der, name)
            .unwrap_or_else(|e| panic!("server cert for {name}: {e}"));
    }
    verifier.as_client(&server0_der).unwrap();

    let server1_der = der(dir, "dc1-server-consul-1.pem");
    let server1 = parse(&server1_der);
    assert_eq!(server1.issuer(), ca.subject());
    assert_ne!(server1.raw_serial(), server0.raw_serial());
    assert_eq!(
        sans(&server1),
        (
            vec!["server.dc1.consul".to_owned(), "localhost".to_owned()],
            vec![ip("127.0.0.1")]
        )
    );
    assert_eq!(validity_days(&server1), 7);
    verifier
        .as_server(&server1_der, "server.dc1.consul")
        .unwrap();
    assert!(
        verifier
            .as_server(&server1_der, "n1.server.dc1.consul")
            .is_err()
    );

    let client_der = der(dir, "dc1-client-consul-0.pem");
    let client = parse(&client_der);
    assert_eq!(client.issuer(), ca.subject());
    assert_eq!(common_name(&client), "client.dc1.consul");
    assert_eq!(
        sans(&client),
        (
            vec!["client.dc1.consul".to_owned(), "localhost".to_owned()],
            vec![ip("127.0.0.1")]
        )
    );
    assert_eq!(usages(&client), Some((true, true)));
    verifier.as_client(&client_der).unwrap();
    verifier
        .as_server(&client_der, "client.dc1.consul")
        .unwrap();
    // A client certificate cannot pass for a server under verify_server_hostname.
    assert!(
        verifier
            .as_server(&client_der, "server.dc1.consul")
            .is_err()
    );

    let cli_der = der(dir, "dc1-cli-consul-0.pem");
    let cli = parse(&cli_der);
    assert_eq!(cli.issuer(), ca.subject());
    assert_eq!(common_name(&cli), "cli.dc1.consul");
    // As Consul: only the CLI name and localhost, no IP, no extended key usage.
    assert_eq!(
        sans(&cli),
        (
            vec!["cli.dc1.consul".to_owned(), "localhost".to_owned()],
            vec![]
        )
    );
    assert_eq!(usages(&cli), None);
    verifier.as_client(&cli_der).unwrap();
    assert!(verifier.as_server(&cli_der, "server.dc1.consul").is_err());

    // The name constraints bind: a name outside them makes the certificate unusable.
    let output = tls(
        dir,
        &["cert", "create", "-server", "-additional-dnsname=evil.org"],
    );
    assert!(output.status.success(), "{output:?}");
    let outside = der(dir, "dc1-server-consul-2.pem");
    assert!(verifier.as_server(&outside, "server.dc1.consul").is_err());
    assert!(verifier.as_client(&outside).is_err());

    // Another CA's certificates do not verify against this one.
    let other = TempDir::new("tls-other");
    assert!(tls(other.path(), &["ca", "create"]).status.success());
    assert!(
        tls(other.path(), &["cert", "create", "-client"])
            .status
            .success()
    );
    let foreign = der(other.path(), "dc1-client-consul-0.pem");
    assert!(verifier.as_client(&foreign).is_err());
}

#[test]
fn domains_and_datacenters_name_the_files() {
    let dir = TempDir::new("tls-domain");
    let dir = dir.path();
    let output = tls(
        dir,
        &[
            "ca",
            "create",
            "-domain",
            "example",
            "-common-name",
            "My CA",
        ],
    );
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        stdout(&output),
        "==> Saved example-agent-ca.pem\n==> Saved example-agent-ca-key.pem\n"
    );
    let ca_der = der(dir, "example-agent-ca.pem");
    let ca = parse(&ca_der);
    assert_eq!(common_name(&ca), "My CA");
    assert!(ca.name_constraints().unwrap().is_none());
    assert_eq!(validity_days(&ca), 1825);

    // The default CA files follow -domain.
    let output = tls(
        dir,
        &["cert", "create", "-client", "-domain=example", "-dc=east"],
    );
    assert!(output.status.success(), "{output:?}");
    assert!(
        stdout(&output)
            .starts_with("==> Using example-agent-ca.pem and example-agent-ca-key.pem\n"),
        "{}",
        stdout(&output)
    );
    let client_der = der(dir, "east-client-example-0.pem");
    assert_eq!(common_name(&parse(&client_der)), "client.east.example");
    Verifier::new(&ca_der).as_client(&client_der).unwrap();

    // Explicit -ca and -key, from another directory.
    let elsewhere = TempDir::new("tls-elsewhere");
    let ca_path = dir.join("example-agent-ca.pem").display().to_string();
    let key_path = dir.join("example-agent-ca-key.pem").display().to_string();
    let output = tls(
        elsewhere.path(),
        &["cert", "create", "-cli", "-ca", &ca_path, "-key", &key_path],
    );
    assert!(output.status.success(), "{output:?}");
    let cli_der = der(elsewhere.path(), "dc1-cli-consul-0.pem");
    Verifier::new(&ca_der).as_client(&cli_der).unwrap();
}

#[test]
fn refusals_exit_1_with_consuls_messages() {
    let dir = TempDir::new("tls-refusals");
    let dir = dir.path();
    let files = || {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };

    // No CA yet.
    let output = tls(dir, &["cert", "create", "-server"]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert_eq!(
        stderr(&output).trim_end(),
        "Error reading CA: open consul-agent-ca.pem: no such file or directory"
    );
    assert!(files().is_empty(), "{:?}", files());

    assert!(tls(dir, &["ca", "create"]).status.success());
    let ca_before = std::fs::read(dir.join("consul-agent-ca.pem")).unwrap();

    // The CA is never replaced.
    let output = tls(dir, &["ca", "create"]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert_eq!(
        stderr(&output).trim_end(),
        "consul-agent-ca.pem already exists."
    );
    assert!(stdout(&output).is_empty());
    std::fs::remove_file(dir.join("consul-agent-ca.pem")).unwrap();
    std::fs::write(dir.join("consul-agent-ca.pem"), &ca_before).unwrap();
    let key_before = std::fs::read(dir.join("consul-agent-ca-key.pem")).unwrap();
    let output = tls(dir, &["ca", "create", "-days=1"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output).trim_end(),
        "consul-agent-ca.pem already exists."
    );
    assert_eq!(
        std::fs::read(dir.join("consul-agent-ca.pem")).unwrap(),
        ca_before
    );
    assert_eq!(
        std::fs::read(dir.join("consul-agent-ca-key.pem")).unwrap(),
        key_before
    );

    // Exactly one kind.
    for args in [
        &["cert", "create"][..],
        &["cert", "create", "-server", "-client"],
        &["cert", "create", "-client", "-cli"],
    ] {
        let output = tls(dir, args);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {output:?}");
        assert_eq!(
            stderr(&output).trim_end(),
            "Please provide either -server, -client, or -cli",
            "{args:?}"
        );
    }
    let output = tls(dir, &["cert", "create", "-client", "-node", "n1"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stderr(&output).trim_end(), "-node requires -server");

    // A missing CA key.
    let output = tls(dir, &["cert", "create", "-client", "-key", "nope.pem"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output).trim_end(),
        "Error reading CA key: open nope.pem: no such file or directory"
    );
    // A bad IP address is a usage error.
    let output = tls(
        dir,
        &["cert", "create", "-client", "-additional-ipaddress", "x"],
    );
    assert_eq!(output.status.code(), Some(1));

    assert_eq!(files(), ["consul-agent-ca-key.pem", "consul-agent-ca.pem"]);
}
