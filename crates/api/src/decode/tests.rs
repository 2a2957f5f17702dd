use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;
use crate::{
    CatalogRegistration, CheckRegistration, HealthCheck, HealthStatus, ServiceRegistration, Session,
};

#[test]
fn null_is_the_zero_value_at_any_depth() {
    let service: ServiceRegistration = decode_lenient(json!({
        "Name": "web", "ID": null, "Tags": null, "Port": null, "Meta": null,
        "EnableTagOverride": null, "Weights": null, "Check": null,
        "Checks": [{"Name": null, "TTL": "10s", "Status": null, "Header": null}],
        "TaggedAddresses": {"lan": {"Address": null, "Port": 80}}
    }))
    .unwrap();
    assert_eq!(service.name, "web");
    assert_eq!(service.id, "");
    assert!(service.tags.is_empty() && service.meta.is_empty());
    assert_eq!(service.port, 0);
    assert!(service.check.is_none() && service.weights.is_none());
    assert_eq!(service.checks[0].ttl.as_deref(), Some("10s"));
    assert_eq!(service.checks[0].status, None);
    assert_eq!(service.tagged_addresses["lan"].port, 80);
    assert_eq!(service.tagged_addresses["lan"].address, "");
}

#[test]
fn a_session_with_a_null_node_decodes_as_ansible_sends_it() {
    let session: Session = decode_lenient(json!({"Name": "x", "Node": null})).unwrap();
    assert_eq!(session.name, "x");
    assert_eq!(session.node, "");
}

#[test]
fn names_match_without_case_or_underscores_and_unknown_fields_are_ignored() {
    let check: CheckRegistration = decode_lenient(json!({
        "name": "c", "service_id": "web", "http": "http://x", "TLSSERVERNAME": "h",
        "deregister_critical_service_after": "1m", "NoSuchField": {"a": 1},
        "header": {"X-Token": ["a"]}
    }))
    .unwrap();
    assert_eq!(check.name, "c");
    assert_eq!(check.service_id, "web");
    assert_eq!(check.http.as_deref(), Some("http://x"));
    assert_eq!(check.tls_server_name.as_deref(), Some("h"));
    assert_eq!(
        check.deregister_critical_service_after.as_deref(),
        Some("1m")
    );
    // map keys are user data and keep their spelling
    assert!(check.header.contains_key("X-Token"));
}

#[test]
fn meta_keys_keep_their_spelling() {
    let node: CatalogRegistration =
        decode_lenient(json!({"node": "n", "nodemeta": {"Some_Key": "v", "id": "x"}})).unwrap();
    assert_eq!(node.node, "n");
    assert_eq!(node.node_meta["Some_Key"], "v");
    assert_eq!(node.node_meta["id"], "x");
}

/// HashiCorp's Go client writes a script check's arguments as `ScriptArgs`.
#[test]
fn script_args_is_read_as_args() {
    let check: CheckRegistration =
        decode_lenient(json!({"Name": "s", "ScriptArgs": ["bash", "-c", "true"]})).unwrap();
    assert_eq!(check.args, ["bash", "-c", "true"]);
    assert_eq!(check.check_type(), "script");
}

/// An empty status is the default one, critical, as Consul registers it.
#[test]
fn an_empty_check_status_is_critical() {
    let check: HealthCheck =
        decode_lenient(json!({"Node": "n", "CheckID": "c", "Status": ""})).unwrap();
    assert_eq!(check.status, HealthStatus::Critical);
    assert!(decode_lenient::<HealthCheck>(json!({"Status": "bogus"})).is_err());
}

#[test]
fn numeric_durations_are_nanoseconds() {
    let check: CheckRegistration =
        decode_lenient(json!({"Name": "s", "Interval": 10, "ttl": 1_000_000_000})).unwrap();
    assert_eq!(check.interval.as_deref(), Some("10ns"));
    assert_eq!(check.ttl.as_deref(), Some("1000000000ns"));
}

#[test]
fn wrong_types_are_errors_not_panics() {
    for body in [
        json!({"Port": "80"}),
        json!({"Tags": "a"}),
        json!([1]),
        json!({"Check": 5}),
    ] {
        assert!(decode_lenient::<ServiceRegistration>(body).is_err());
    }
}

/// A registration with every kind of field: strings, numbers, booleans, lists, maps of
/// user data, nested structs and lists of structs.
fn full_registration() -> Value {
    json!({
        "ID": "web-1", "Name": "web", "Tags": ["a", "b"], "Address": "10.0.0.1",
        "Port": 8080, "EnableTagOverride": true, "Meta": {"Version": "1", "team_name": "x"},
        "Weights": {"Passing": 3, "Warning": 1},
        "TaggedAddresses": {"lan": {"Address": "10.0.0.1", "Port": 8080}},
        "Check": {"Name": "h", "HTTP": "http://10.0.0.1:8080/", "Interval": "10s",
                  "Header": {"X-A": ["1"]}, "TLSSkipVerify": true, "Status": "passing"},
        "Checks": [{"CheckID": "t", "Name": "ttl", "TTL": "30s", "Notes": "n"},
                   {"Name": "tcp", "TCP": "10.0.0.1:8080", "Interval": "5s", "Timeout": "1s"}]
    })
}

/// The keys of struct-valued objects in `full_registration`, as paths; the members of
/// `Meta`, `Header` and the tagged-address map are user data and not among them.
fn struct_paths(value: &Value) -> Vec<Vec<String>> {
    fn walk(value: &Value, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    path.push(key.clone());
                    out.push(path.clone());
                    if key == "TaggedAddresses" && child.get("lan").is_some_and(Value::is_object) {
                        if let Value::Object(addresses) = child {
                            for (name, address) in addresses {
                                path.push(name.clone());
                                walk(address, path, out);
                                path.pop();
                            }
                        }
                    } else if !matches!(
                        key.as_str(),
                        "Meta" | "Header" | "NodeMeta" | "TaggedAddresses"
                    ) {
                        walk(child, path, out);
                    }
                    path.pop();
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    path.push(i.to_string());
                    walk(item, path, out);
                    path.pop();
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(value, &mut Vec::new(), &mut out);
    out
}

/// What to do to one key.
#[derive(Debug, Clone, Copy)]
enum Change {
    Keep,
    Recase(u64),
    Null,
    Drop,
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        4 => Just(Change::Keep),
        3 => any::<u64>().prop_map(Change::Recase),
        1 => Just(Change::Null),
        1 => Just(Change::Drop),
    ]
}

fn recased(key: &str, seed: u64) -> String {
    key.chars()
        .enumerate()
        .map(|(i, c)| {
            if seed >> (i % 64) & 1 == 1 {
                c.to_ascii_lowercase()
            } else {
                c.to_ascii_uppercase()
            }
        })
        .collect()
}

/// Applies `change` to the member at `path` in `value` (paths are of the original keys;
/// a path whose parent was dropped or nulled is skipped).
fn apply(value: &mut Value, path: &[String], change: Change, expected: &mut Value) {
    fn parent<'a>(value: &'a mut Value, path: &[String]) -> Option<&'a mut Map<String, Value>> {
        let mut current = value;
        for step in path {
            current = match current {
                Value::Object(map) => map.get_mut(step)?,
                Value::Array(items) => items.get_mut(step.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        current.as_object_mut()
    }
    let (key, parent_path) = path.split_last().expect("non-empty path");
    let Some(map) = parent(value, parent_path) else {
        return;
    };
    if !map.contains_key(key) {
        return;
    }
    match change {
        Change::Keep => {}
        Change::Recase(seed) => {
            let member = map.remove(key).expect("present");
            map.insert(recased(key, seed), member);
        }
        Change::Null | Change::Drop => {
            if matches!(change, Change::Null) {
                map.insert(key.clone(), Value::Null);
            } else {
                map.remove(key);
            }
            if let Some(expected_map) = parent(expected, parent_path) {
                expected_map.remove(key);
            }
        }
    }
}

/// Decodes `sent` and `expected` as `T` and compares them (as text, so that one law
/// serves every request type).
fn same_decoding<T: DeserializeOwned + std::fmt::Debug>(
    sent: &Value,
    expected: &Value,
) -> Result<(), TestCaseError> {
    let wanted = decode_lenient::<T>(expected.clone());
    prop_assert!(wanted.is_ok(), "reference does not decode: {:?}", wanted);
    let decoded = decode_lenient::<T>(sent.clone());
    prop_assert_eq!(
        format!("{decoded:?}"),
        format!("{wanted:?}"),
        "sent {}",
        sent
    );
    Ok(())
}

/// The decoding law checked for one request type: `sent` decodes as `expected` does.
type Law = fn(&Value, &Value) -> Result<(), TestCaseError>;

/// Every request type with a body that sets all of its kinds of field.
fn samples() -> Vec<(Value, Law)> {
    vec![
        (full_registration(), same_decoding::<ServiceRegistration>),
        (
            full_registration()["Check"].clone(),
            same_decoding::<CheckRegistration>,
        ),
        (
            json!({
                "ID": "40e4a748-2192-161a-0510-9bf59fe950b5", "Node": "n1",
                "Address": "10.0.0.9", "Datacenter": "dc1", "SkipNodeUpdate": true,
                "TaggedAddresses": {"lan": "10.0.0.9"}, "NodeMeta": {"rack": "a"},
                "Service": {"ID": "db", "Service": "db", "Tags": ["p"], "Port": 5432,
                            "Weights": {"Passing": 2, "Warning": 1}},
                "Checks": [{"CheckID": "c1", "Name": "c", "Status": "passing",
                            "ServiceID": "db", "Definition": {"HTTP": "http://x"}}]
            }),
            same_decoding::<CatalogRegistration>,
        ),
        (
            json!({"Node": "n1", "Datacenter": "dc1", "ServiceID": "db", "CheckID": "c1"}),
            same_decoding::<crate::CatalogDeregistration>,
        ),
        (
            json!({"Status": "warning", "Output": "slow"}),
            same_decoding::<crate::CheckUpdate>,
        ),
    ]
}

proptest! {
    /// For every request type: re-casing a field name changes nothing; nulling a field
    /// is the same as leaving it out; neither ever panics.
    #[test]
    fn recased_nulled_and_dropped_fields_decode_as_go_decodes_them(
        sample in 0usize..5,
        changes in proptest::collection::vec(change(), 64)
    ) {
        let samples = samples();
        let (original, law) = &samples[sample % samples.len()];
        let paths = struct_paths(original);
        let mut sent = original.clone();
        let mut expected = original.clone();
        for (path, change) in paths.iter().zip(changes.iter().cycle()) {
            apply(&mut sent, path, *change, &mut expected);
        }
        law(&sent, &expected)?;
    }

    /// Whatever JSON arrives, decoding answers a value or an error.
    #[test]
    fn arbitrary_json_never_panics(text in "\\PC{0,200}") {
        if let Ok(value) = serde_json::from_str::<Value>(&text) {
            let _ = decode_lenient::<ServiceRegistration>(value.clone());
            let _ = decode_lenient::<CatalogRegistration>(value.clone());
            let _ = decode_lenient::<Session>(value);
        }
    }
}
