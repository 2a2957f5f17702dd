//! The Connect CA root, and nothing else of Connect: clients (HashiCorp's own test
//! harness among them) wait for `/v1/connect/ca/roots` to list an active root before
//! they use an agent that has Connect enabled. When `connect.enabled` is true (and by
//! default in `-dev`, as in Consul) the agent generates a self-signed ECDSA P-256 root
//! at start-up, for the trust domain `<cluster_id>.consul`, and lists it.
//!
//! The root signs nothing (there are no leaf certificates, intentions or proxies), is
//! kept in memory only, and is per agent: in a cluster each server lists its own.

use sha2::{Digest, Sha256};

/// One root as `/v1/connect/ca/roots` lists it (Consul's `CARoot` field names).
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CaRoot {
    #[serde(rename = "ID")]
    pub id: String,
    pub name: String,
    pub serial_number: u64,
    #[serde(rename = "SigningKeyID")]
    pub signing_key_id: String,
    pub external_trust_domain: String,
    pub not_before: String,
    pub not_after: String,
    pub root_cert: String,
    pub intermediate_certs: Vec<String>,
    pub active: bool,
    pub private_key_type: String,
    pub private_key_bits: u32,
    pub create_index: u64,
    pub modify_index: u64,
}

/// `/v1/connect/ca/roots`' answer.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CaRoots {
    #[serde(rename = "ActiveRootID")]
    pub active_root_id: String,
    #[serde(rename = "TrustDomain")]
    pub trust_domain: String,
    #[serde(rename = "Roots")]
    pub roots: Vec<CaRoot>,
}

/// Generates this agent's root for `cluster_id` (a UUID; random when not configured),
/// valid from today for ten years, as Consul's built-in provider's root is.
pub fn generate(cluster_id: &str, index: u64) -> Result<CaRoots, String> {
    let trust_domain = format!("{cluster_id}.consul");
    let key = rcgen::KeyPair::generate().map_err(|error| error.to_string())?;
    let mut params =
        rcgen::CertificateParams::new(Vec::<String>::new()).map_err(|error| error.to_string())?;
    let uri = format!("spiffe://{trust_domain}")
        .try_into()
        .map_err(|error: rcgen::Error| error.to_string())?;
    params.subject_alt_names = vec![rcgen::SanType::URI(uri)];
    let name = "Proconsul CA Primary Cert";
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
        rcgen::KeyUsagePurpose::DigitalSignature,
    ];
    let serial = u64::from_be_bytes(rand::random::<[u8; 8]>()) >> 1;
    params.serial_number = Some(rcgen::SerialNumber::from(serial.to_be_bytes().to_vec()));
    let (year, month, day) = civil_date(today_days());
    params.not_before = rcgen::date_time_ymd(year, month, day);
    params.not_after = rcgen::date_time_ymd(year + 10, month, day.min(28));
    let certificate = params
        .self_signed(&key)
        .map_err(|error| error.to_string())?;
    let fingerprint = colon_hex(&Sha256::digest(certificate.der().as_ref())[..20]);
    let key_id = colon_hex(&Sha256::digest(key.public_key_raw())[..20]);
    Ok(CaRoots {
        active_root_id: fingerprint.clone(),
        trust_domain,
        roots: vec![CaRoot {
            id: fingerprint,
            name: name.to_string(),
            serial_number: serial,
            signing_key_id: key_id,
            external_trust_domain: cluster_id.to_string(),
            not_before: format!("{year:04}-{month:02}-{day:02}T00:00:00Z"),
            not_after: format!("{:04}-{month:02}-{:02}T00:00:00Z", year + 10, day.min(28)),
            root_cert: certificate.pem(),
            intermediate_certs: Vec::new(),
            active: true,
            private_key_type: "ec".to_string(),
            private_key_bits: 256,
            create_index: index,
            modify_index: index,
        }],
    })
}

fn colon_hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn today_days() -> i64 {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or_default();
    i64::try_from(seconds / 86_400).unwrap_or_default()
}

/// The proleptic Gregorian date of a day count since 1970-01-01.
fn civil_date(days: i64) -> (i32, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (
        i32::try_from(year).unwrap_or(1970),
        u8::try_from(month).unwrap_or(1),
        u8::try_from(day).unwrap_or(1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(civil_date(0), (1970, 1, 1));
        assert_eq!(civil_date(11_016), (2000, 2, 29));
        assert_eq!(civil_date(20_454), (2026, 1, 1));
    }

    #[test]
    fn a_root_for_the_trust_domain() {
        let roots = generate("11111111-2222-3333-4444-555555555555", 7).unwrap();
        assert_eq!(
            roots.trust_domain,
            "11111111-2222-3333-4444-555555555555.consul"
        );
        assert_eq!(roots.roots.len(), 1);
        let root = &roots.roots[0];
        assert_eq!(root.id, roots.active_root_id);
        assert!(root.active);
        assert!(root.root_cert.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(root.not_after > root.not_before);
        assert_eq!(root.create_index, 7);
    }
}
