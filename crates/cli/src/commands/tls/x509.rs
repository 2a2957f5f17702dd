//! The certificates themselves, built with rcgen (no hand-written ASN.1): a
//! self-signed agent CA, and agent certificates signed by it from a [`Profile`].
//!
//! Keys are ECDSA P-256, as Consul's; they are written as PKCS#8 (`PRIVATE KEY`), the
//! form ring (rcgen's backend here) reads and writes, which Consul's agents and
//! Proconsul's both load. Consequence: a CA key written by Consul itself (SEC1,
//! `EC PRIVATE KEY`) must be converted before Proconsul can sign with it.

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, DnValue,
    ExtendedKeyUsagePurpose, GeneralSubtree, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    NameConstraints, SanType, SerialNumber,
};
use time::{Duration, OffsetDateTime};

use super::profile::{Profile, Usage};

/// X.520 streetAddress (2.5.4.9), which rcgen has no name for.
const STREET_ADDRESS: &[u64] = &[2, 5, 4, 9];
/// X.520 postalCode (2.5.4.17).
const POSTAL_CODE: &[u64] = &[2, 5, 4, 17];

/// A PEM certificate and its PEM private key.
#[derive(Debug)]
pub struct Issued {
    pub cert_pem: String,
    pub key_pem: String,
}

/// What `tls ca create` asked for.
#[derive(Debug, Clone)]
pub struct CaRequest {
    pub days: u32,
    pub domain: String,
    /// `-common-name`; without it the name is `Consul Agent CA <serial>`, like Consul's.
    pub common_name: Option<String>,
    /// `-name-constraint`: the CA may only sign for `domain`, `localhost` and these.
    pub name_constraint: bool,
    pub additional_constraints: Vec<String>,
}

/// A random positive 128-bit serial number: unique without any state to keep, and also
/// printed in decimal in the CA's default common name.
fn random_serial() -> Result<u128, String> {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 16];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| "cannot read random bytes".to_owned())?;
    // Never zero, which RFC 5280 does not allow.
    Ok(u128::from_be_bytes(bytes).max(1))
}

/// From now (to the second, as X.509 times are) for `days` days.
fn validity(params: &mut CertificateParams, days: u32) {
    let now = OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or_else(|_| OffsetDateTime::now_utc());
    params.not_before = now;
    params.not_after = now + Duration::days(i64::from(days));
}

/// The CA's subject: Consul's fixed organisation fields, in the order Go writes them.
fn ca_subject(common_name: &str) -> Result<DistinguishedName, rcgen::Error> {
    let mut name = DistinguishedName::new();
    name.push(
        DnType::CountryName,
        DnValue::PrintableString("US".try_into()?),
    );
    name.push(DnType::OrganizationName, "HashiCorp Inc.");
    name.push(DnType::LocalityName, "San Francisco");
    name.push(DnType::StateOrProvinceName, "CA");
    name.push(
        DnType::CustomDnType(STREET_ADDRESS.to_vec()),
        "101 Second Street",
    );
    name.push(DnType::CustomDnType(POSTAL_CODE.to_vec()), "94105");
    name.push(DnType::CommonName, common_name);
    Ok(name)
}

/// Creates a self-signed CA (basic constraints CA, key usage cert-sign, CRL-sign and
/// digital signature, name constraints when asked).
pub fn create_ca(request: &CaRequest) -> Result<Issued, String> {
    let serial = random_serial()?;
    let common_name = request
        .common_name
        .clone()
        .unwrap_or_else(|| format!("Consul Agent CA {serial}"));
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(text)?;
    let mut params = CertificateParams::default();
    params.serial_number = Some(SerialNumber::from_slice(&serial.to_be_bytes()));
    params.distinguished_name = ca_subject(&common_name).map_err(text)?;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
    ];
    params.use_authority_key_identifier_extension = true;
    if request.name_constraint {
        let permitted = [request.domain.clone(), "localhost".to_owned()]
            .into_iter()
            .chain(request.additional_constraints.iter().cloned())
            .map(GeneralSubtree::DnsName)
            .collect();
        params.name_constraints = Some(NameConstraints {
            permitted_subtrees: permitted,
            excluded_subtrees: Vec::new(),
        });
    }
    validity(&mut params, request.days);
    let cert = params.self_signed(&key).map_err(text)?;
    Ok(Issued {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

/// Why the CA files cannot be used for signing.
#[derive(Debug)]
pub enum CaError {
    /// The CA certificate is not a PEM certificate rcgen can read.
    Certificate(String),
    /// The CA key is not a PKCS#8 key, or does not fit.
    Key(String),
}

/// Issues the certificate `profile` describes, valid for `days`, signed by the CA in
/// `ca_pem` with `ca_key_pem`; the issuer name and the authority key identifier are
/// taken from the CA certificate, so that they match it exactly.
pub fn issue(
    profile: &Profile,
    days: u32,
    ca_pem: &str,
    ca_key_pem: &str,
) -> Result<Issued, CaError> {
    let ca_key = KeyPair::from_pem(ca_key_pem).map_err(|error| {
        let hint = if ca_key_pem.contains("EC PRIVATE KEY") {
            " (a SEC1 \"EC PRIVATE KEY\"; convert it to PKCS#8 with \
             `openssl pkcs8 -topk8 -nocrypt`)"
        } else {
            ""
        };
        CaError::Key(format!("{error}{hint}"))
    })?;
    let issuer = Issuer::from_ca_cert_pem(ca_pem, ca_key)
        .map_err(|error| CaError::Certificate(error.to_string()))?;
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
        .map_err(|error| CaError::Key(error.to_string()))?;
    let params = leaf_params(profile, days).map_err(CaError::Certificate)?;
    let cert = params
        .signed_by(&key, &issuer)
        .map_err(|error| CaError::Key(error.to_string()))?;
    Ok(Issued {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

/// The agent certificate's fields: CN, SANs and usages from the profile; key usage
/// digital signature and key encipherment; not a CA.
fn leaf_params(profile: &Profile, days: u32) -> Result<CertificateParams, String> {
    let mut params = CertificateParams::default();
    params.serial_number = Some(SerialNumber::from_slice(&random_serial()?.to_be_bytes()));
    let mut subject = DistinguishedName::new();
    subject.push(DnType::CommonName, profile.common_name.as_str());
    params.distinguished_name = subject;
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = profile
        .usages
        .iter()
        .map(|usage| match usage {
            Usage::ServerAuth => ExtendedKeyUsagePurpose::ServerAuth,
            Usage::ClientAuth => ExtendedKeyUsagePurpose::ClientAuth,
        })
        .collect();
    let mut names = Vec::new();
    for name in &profile.dns_names {
        let name = name
            .as_str()
            .try_into()
            .map_err(|_| format!("invalid DNS name {name:?}"))?;
        names.push(SanType::DnsName(name));
    }
    names.extend(profile.ip_addresses.iter().copied().map(SanType::IpAddress));
    params.subject_alt_names = names;
    params.use_authority_key_identifier_extension = true;
    validity(&mut params, days);
    Ok(params)
}

fn text(error: rcgen::Error) -> String {
    error.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::tls::profile::{Kind, Request, profile};

    #[test]
    fn a_new_ca_signs_an_agent_certificate() {
        let ca = create_ca(&CaRequest {
            days: 10,
            domain: "consul".into(),
            common_name: None,
            name_constraint: true,
            additional_constraints: vec!["example.com".into()],
        })
        .unwrap();
        assert!(ca.cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(ca.key_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        let request = Request {
            dc: "dc1".into(),
            domain: "consul".into(),
            ..Request::default()
        };
        let leaf = issue(
            &profile(Kind::Server, &request),
            1,
            &ca.cert_pem,
            &ca.key_pem,
        )
        .unwrap();
        assert!(leaf.cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
    }

    #[test]
    fn a_sec1_key_is_refused_with_a_hint() {
        let error = issue(
            &profile(Kind::Cli, &Request::default()),
            1,
            "",
            "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n",
        )
        .unwrap_err();
        let CaError::Key(message) = error else {
            panic!("{error:?}")
        };
        assert!(message.contains("openssl pkcs8"), "{message}");
    }
}
