//! `tls_cipher_suites`: Consul's comma-separated list of TLS 1.2 suites by their IANA
//! names (Go's short ChaCha20 names too), narrowing what a listener or client offers.
//! TLS 1.3's suites are not configurable, in Consul as here. A name rustls does not
//! implement (the CBC and RSA key-exchange suites Go still has) is refused, naming it.

use rustls::SupportedCipherSuite;
use rustls::crypto::CryptoProvider;

use crate::TlsError;

/// `provider` offering only the TLS 1.2 suites `names` lists (every TLS 1.3 suite
/// stays); `None` or an empty list leaves it as it is.
pub fn restrict(provider: CryptoProvider, names: Option<&str>) -> Result<CryptoProvider, TlsError> {
    let Some(names) = names.filter(|names| !names.trim().is_empty()) else {
        return Ok(provider);
    };
    let mut chosen: Vec<SupportedCipherSuite> = provider
        .cipher_suites
        .iter()
        .filter(|suite| matches!(suite, SupportedCipherSuite::Tls13(_)))
        .copied()
        .collect();
    for name in names
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
    {
        let wanted = iana_name(name);
        let suite = provider
            .cipher_suites
            .iter()
            .find(|suite| {
                matches!(suite, SupportedCipherSuite::Tls12(_))
                    && suite.suite().as_str() == Some(wanted.as_str())
            })
            .ok_or_else(|| TlsError::CipherSuite(name.to_string()))?;
        if !chosen.contains(suite) {
            chosen.push(*suite);
        }
    }
    Ok(CryptoProvider {
        cipher_suites: chosen,
        ..provider
    })
}

/// Go names the ChaCha20 suites without their `_SHA256`; IANA (and rustls) with it.
fn iana_name(name: &str) -> String {
    let name = name.to_ascii_uppercase();
    if name.ends_with("_CHACHA20_POLY1305") {
        format!("{name}_SHA256")
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tls12_names(provider: &CryptoProvider) -> Vec<&'static str> {
        provider
            .cipher_suites
            .iter()
            .filter(|suite| matches!(suite, SupportedCipherSuite::Tls12(_)))
            .filter_map(|suite| suite.suite().as_str())
            .collect()
    }

    #[test]
    fn named_suites_are_kept_in_order_with_tls13() {
        let all = rustls::crypto::ring::default_provider();
        let tls13 = all
            .cipher_suites
            .iter()
            .filter(|suite| matches!(suite, SupportedCipherSuite::Tls13(_)))
            .count();
        let restricted = restrict(
            all,
            Some("TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"),
        )
        .unwrap();
        assert_eq!(
            tls12_names(&restricted),
            [
                "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
                "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"
            ]
        );
        assert_eq!(restricted.cipher_suites.len(), tls13 + 2);
    }

    #[test]
    fn nothing_named_changes_nothing_and_unknown_names_are_refused() {
        let all = rustls::crypto::ring::default_provider();
        let count = all.cipher_suites.len();
        assert_eq!(restrict(all, Some(" ")).unwrap().cipher_suites.len(), count);
        let error = restrict(
            rustls::crypto::ring::default_provider(),
            Some("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"),
        )
        .unwrap_err();
        assert!(
            error
                .to_string()
                .contains("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"),
            "{error}"
        );
    }
}
