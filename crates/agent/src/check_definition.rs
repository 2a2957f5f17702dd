//! A check's registration as the agent keeps it. A registration has some forty fields and
//! a TTL check sets two or three, yet in memory it takes ~600 bytes plus its strings; an
//! agent with 100,000 checks would spend ~80 MB on empty fields. So the definition is kept
//! encoded (postcard: a few dozen bytes for a TTL check), with the values read on hot
//! paths (TTL, thresholds, `DeregisterCriticalServiceAfter`) decoded beside it; the whole
//! definition is decoded only to start a probe or to save the agent's state.

use std::time::Duration;

use proconsul_api::CheckRegistration;
use proconsul_api::duration::parse_duration;

/// How many results in a row change a check's status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Thresholds {
    pub success_before_passing: u32,
    pub failures_before_warning: u32,
    pub failures_before_critical: u32,
}

/// A check's definition, encoded, with what is read often decoded beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDefinition {
    encoded: Box<[u8]>,
    /// `TTL`, for TTL checks.
    pub ttl: Option<Duration>,
    /// `DeregisterCriticalServiceAfter`, when set and not zero.
    pub deregister_after: Option<Duration>,
    pub thresholds: Thresholds,
}

impl StoredDefinition {
    pub fn new(definition: &CheckRegistration) -> StoredDefinition {
        let duration = |text: &Option<String>| text.as_deref().and_then(|t| parse_duration(t).ok());
        StoredDefinition {
            // Encoding a value of a serde-derived type into memory cannot fail.
            encoded: postcard::to_allocvec(definition)
                .unwrap_or_default()
                .into_boxed_slice(),
            ttl: duration(&definition.ttl),
            deregister_after: duration(&definition.deregister_critical_service_after)
                .filter(|after| !after.is_zero()),
            thresholds: Thresholds {
                success_before_passing: definition.success_before_passing,
                failures_before_warning: definition.failures_before_warning,
                failures_before_critical: definition.failures_before_critical,
            },
        }
    }

    /// The definition as registered.
    pub fn decode(&self) -> CheckRegistration {
        postcard::from_bytes(&self.encoded).unwrap_or_else(|error| {
            // Only bytes encoded by `new` from the same type are ever decoded here.
            tracing::error!(%error, "a stored check definition did not decode");
            CheckRegistration::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn a_definition_comes_back_as_registered_and_small() {
        let ttl = CheckRegistration {
            id: "web-ttl".to_string(),
            name: "web alive".to_string(),
            service_id: "web-1".to_string(),
            ttl: Some("10m".to_string()),
            status: Some(proconsul_api::HealthStatus::Passing),
            deregister_critical_service_after: Some("90s".to_string()),
            failures_before_critical: 3,
            ..CheckRegistration::default()
        };
        let stored = StoredDefinition::new(&ttl);
        assert_eq!(stored.decode(), ttl);
        assert_eq!(stored.ttl, Some(Duration::from_secs(600)));
        assert_eq!(stored.deregister_after, Some(Duration::from_secs(90)));
        assert_eq!(stored.thresholds.failures_before_critical, 3);
        assert!(stored.encoded.len() < 100, "{} bytes", stored.encoded.len());

        let http = CheckRegistration {
            http: Some("https://127.0.0.1:8443/health".to_string()),
            method: Some("POST".to_string()),
            header: BTreeMap::from([("X-A".to_string(), vec!["1".to_string(), "2".to_string()])]),
            body: Some("{}".to_string()),
            interval: Some("5s".to_string()),
            tls_skip_verify: true,
            h2ping_use_tls: Some(false),
            args: vec!["a".to_string()],
            deregister_critical_service_after: Some("0s".to_string()),
            ..CheckRegistration::default()
        };
        let stored = StoredDefinition::new(&http);
        assert_eq!(stored.decode(), http);
        assert_eq!(stored.ttl, None);
        assert_eq!(stored.deregister_after, None, "zero means never");
    }
}
