//! Consul's lenient decoding of request bodies and config blocks: field names match
//! without regard to case or underscores (Patroni sends `"name"`; config files and agent
//! registration use `snake_case`), while user data such as `Meta` keeps its keys, and a
//! JSON number in a duration field is nanoseconds, as Go decodes it.

use serde::de::DeserializeOwned;
use serde_json::Value;

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
    "LockDelay",
    "Behavior",
    "NodeChecks",
    "ServiceChecks",
    "Namespace",
    "KV",
    "Verb",
    "Index",
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

/// Decodes `value` into `T` after rewriting its keys to Consul's spelling.
pub fn decode_lenient<T: DeserializeOwned>(value: Value) -> Result<T, serde_json::Error> {
    serde_json::from_value(canonical_keys(value, false))
}

/// Rewrites object keys to their canonical spelling, leaving the keys of user-data maps
/// (but not the objects inside them, e.g. tagged addresses) untouched.
pub fn canonical_keys(value: Value, keep_keys: bool) -> Value {
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
