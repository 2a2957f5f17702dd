//! Request bodies decoded the way Consul decodes them: field names match without regard
//! to case or underscores (Patroni sends `"name"`, `"enabletagoverride"`; agent
//! registration accepts `snake_case`), while user data such as `Meta` keeps its keys.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::http::error::ApiError;

/// Every field name of the request bodies we decode, in Consul's spelling.
const FIELD_NAMES: &[&str] = &[
    "Address",
    "AliasNode",
    "AliasService",
    "Args",
    "Body",
    "Check",
    "CheckID",
    "Checks",
    "CreateIndex",
    "Datacenter",
    "Definition",
    "DeregisterCriticalServiceAfter",
    "DockerContainerID",
    "EnableTagOverride",
    "ExposedPort",
    "FailuresBeforeCritical",
    "FailuresBeforeWarning",
    "Flags",
    "GRPC",
    "GRPCUseTLS",
    "H2PING",
    "H2PingUseTLS",
    "HTTP",
    "Header",
    "ID",
    "Interval",
    "Key",
    "Kind",
    "LockIndex",
    "Meta",
    "Method",
    "ModifyIndex",
    "Name",
    "Node",
    "NodeMeta",
    "Notes",
    "OSService",
    "Output",
    "Passing",
    "Port",
    "Script",
    "Service",
    "ServiceID",
    "ServiceName",
    "ServiceTags",
    "Session",
    "SkipNodeUpdate",
    "Status",
    "SuccessBeforePassing",
    "TCP",
    "TCPUseTLS",
    "TLSServerName",
    "TLSSkipVerify",
    "TTL",
    "Tags",
    "TaggedAddresses",
    "Timeout",
    "Type",
    "UDP",
    "Value",
    "Warning",
    "Weights",
    "DisableRedirects",
    "OutputMaxSize",
];

/// Duration fields. Consul takes a JSON number there as nanoseconds (Go's
/// `time.Duration`); py-consul sends `"Interval": 10` for script checks.
const DURATION_FIELDS: &[&str] = &[
    "Interval",
    "Timeout",
    "TTL",
    "DeregisterCriticalServiceAfter",
];

/// Fields whose object value is user data: its keys are kept as sent.
const USER_MAPS: &[&str] = &["Meta", "NodeMeta", "TaggedAddresses", "Header"];

/// Parses `body` as JSON and decodes it into `T` with Consul's lenient field matching.
/// An empty body decodes as `{}`, as Consul treats it.
pub fn decode_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let value: Value = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Map::new())
    } else {
        serde_json::from_slice(body)
            .map_err(|error| ApiError::bad_request(format!("Request decode failed: {error}")))?
    };
    serde_json::from_value(canonical_keys(value, false))
        .map_err(|error| ApiError::bad_request(format!("Request decode failed: {error}")))
}

/// Rewrites object keys to their canonical spelling, leaving the keys of user-data maps
/// (but not the objects inside them, e.g. tagged addresses) untouched.
fn canonical_keys(value: Value, keep_keys: bool) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(key, value)| {
                    let key = if keep_keys { key } else { canonical_name(key) };
                    let child_keeps = USER_MAPS.contains(&key.as_str());
                    let value = match value {
                        Value::Number(n)
                            if !keep_keys && DURATION_FIELDS.contains(&key.as_str()) =>
                        {
                            Value::String(format!("{n}ns"))
                        }
                        value => canonical_keys(value, child_keeps),
                    };
                    (key, value)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|item| canonical_keys(item, false))
                .collect(),
        ),
        other => other,
    }
}

fn canonical_name(key: String) -> String {
    let folded: String = key
        .chars()
        .filter(|c| *c != '_')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    FIELD_NAMES
        .iter()
        .find(|name| name.eq_ignore_ascii_case(&folded))
        .map(|name| name.to_string())
        .unwrap_or(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proconsul_api::ServiceRegistration;

    #[test]
    fn lowercase_and_snake_case_keys_match() {
        let body = br#"{"name":"pg","id":"scope/pg0","enabletagoverride":true,"tags":["master"],
            "meta":{"Some_Key":"v"},"check":{"http":"http://x","deregister_critical_service_after":"30s","interval":"5s"},
            "tagged_addresses":{"lan_ipv4":{"address":"10.0.0.1","port":5432}}}"#;
        let service: ServiceRegistration = decode_body(body).unwrap();
        assert_eq!(service.name, "pg");
        assert_eq!(service.id, "scope/pg0");
        assert!(service.enable_tag_override);
        assert_eq!(service.tags, ["master"]);
        assert_eq!(service.meta["Some_Key"], "v");
        let check = service.check.unwrap();
        assert_eq!(check.http.as_deref(), Some("http://x"));
        assert_eq!(
            check.deregister_critical_service_after.as_deref(),
            Some("30s")
        );
        assert_eq!(service.tagged_addresses["lan_ipv4"].port, 5432);
    }

    #[test]
    fn malformed_bodies_are_400_with_a_reason() {
        for body in [&b"{"[..], b"[1,2]", b"{\"Port\":\"80\"}", b"\xff\xfe"] {
            let error = decode_body::<ServiceRegistration>(body).unwrap_err();
            assert_eq!(error.status, 400);
            assert!(
                error.message.starts_with("Request decode failed"),
                "{}",
                error.message
            );
        }
    }

    #[test]
    fn numeric_durations_are_nanoseconds() {
        let check: proconsul_api::CheckRegistration =
            decode_body(br#"{"Name":"s","Args":["/bin/true"],"Interval":10,"ttl":1000000000}"#)
                .unwrap();
        assert_eq!(check.interval.as_deref(), Some("10ns"));
        assert_eq!(check.ttl.as_deref(), Some("1000000000ns"));
    }

    #[test]
    fn empty_body_is_an_empty_object() {
        let service: ServiceRegistration = decode_body(b"  ").unwrap();
        assert_eq!(service, ServiceRegistration::default());
    }
}
