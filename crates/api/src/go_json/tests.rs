use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::*;
use crate::{
    AgentService, CatalogService, CheckDefinitionSummary, HealthCheck, KvPair, ServiceEntry,
};

fn keys(value: &Value) -> BTreeSet<String> {
    value
        .as_object()
        .expect("an object")
        .keys()
        .cloned()
        .collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|name| name.to_string()).collect()
}

fn plain_service() -> AgentService {
    AgentService {
        id: "web".into(),
        service: "web".into(),
        port: 80,
        datacenter: "dc1".into(),
        ..AgentService::default()
    }
}

#[test]
fn every_literal_in_the_tables_is_json() {
    for literal in rules::LITERALS {
        serde_json::from_str::<Value>(literal).expect(literal);
    }
}

#[test]
fn agent_service_in_the_agent_shape_leaves_out_what_the_api_package_omits() {
    let value = to_value(&plain_service(), Shape::Agent).unwrap();
    assert_eq!(
        keys(&value),
        set(&[
            "ID",
            "Service",
            "Tags",
            "Meta",
            "Port",
            "Address",
            "Weights",
            "EnableTagOverride",
            "Datacenter"
        ])
    );
}

#[test]
fn agent_service_in_the_catalog_shape_is_a_node_service() {
    let mut service = plain_service();
    service.port = 0;
    let value = to_value(&service, Shape::Catalog).unwrap();
    assert_eq!(
        keys(&value),
        set(&[
            "ID",
            "Service",
            "Tags",
            "Meta",
            "Address",
            "Weights",
            "EnableTagOverride",
            "Proxy",
            "Connect",
            "PeerName",
            "CreateIndex",
            "ModifyIndex"
        ])
    );
    assert_eq!(value["Connect"], serde_json::json!({}));
    assert_eq!(value["Proxy"]["MeshGateway"], serde_json::json!({}));
    assert_eq!(value["PeerName"], "");
}

#[test]
fn zero_durations_and_empty_fields_leave_the_check_definition() {
    let check = HealthCheck {
        check_id: "serfHealth".into(),
        definition: CheckDefinitionSummary::default(),
        ..HealthCheck::default()
    };
    let value = to_value(&check, Shape::Catalog).unwrap();
    assert_eq!(value["Definition"], serde_json::json!({}));
    // The top-level Interval and Timeout carry no omitempty in Consul.
    assert_eq!(value["Interval"], "");

    let http = CheckDefinitionSummary {
        http: "http://127.0.0.1:8080/health".into(),
        interval: "10s".into(),
        ..CheckDefinitionSummary::default()
    };
    let value = to_value(&http, Shape::Catalog).unwrap();
    assert_eq!(keys(&value), set(&["HTTP", "Interval"]));
}

#[test]
fn rules_reach_structs_inside_lists_maps_and_options() {
    let entry = ServiceEntry {
        service: plain_service(),
        checks: vec![HealthCheck::default()],
        ..ServiceEntry::default()
    };
    let value = to_value(&vec![entry], Shape::Catalog).unwrap();
    assert!(value[0]["Service"].get("Datacenter").is_none());
    assert_eq!(value[0]["Checks"][0]["Definition"], serde_json::json!({}));

    let by_id = BTreeMap::from([("web".to_string(), plain_service())]);
    let value = to_value(&by_id, Shape::Agent).unwrap();
    assert!(value["web"].get("CreateIndex").is_none());

    let value = to_value(&Some(plain_service()), Shape::Agent).unwrap();
    assert!(value.get("Kind").is_none());
}

#[test]
fn kv_session_is_left_out_unless_held() {
    let pair = KvPair {
        key: "k".into(),
        ..KvPair::default()
    };
    let value = to_value(&pair, Shape::Catalog).unwrap();
    assert!(value.get("Session").is_none());
    assert_eq!(value["Value"], Value::Null);
    let held = KvPair {
        session: Some("s".into()),
        ..pair
    };
    assert_eq!(to_value(&held, Shape::Catalog).unwrap()["Session"], "s");
}

#[test]
fn catalog_service_writes_go_struct_values_and_socket_path() {
    let value = to_value(&CatalogService::default(), Shape::Catalog).unwrap();
    assert!(value.get("ServiceTaggedAddresses").is_none());
    assert_eq!(value["ServiceConnect"], serde_json::json!({}));
    assert_eq!(value["ServiceSocketPath"], "");
    assert_eq!(value["ServiceKind"], "");
}

#[test]
fn pretty_output_is_the_same_json() {
    let compact = to_vec(&plain_service(), Shape::Agent, false).unwrap();
    let pretty = to_vec(&plain_service(), Shape::Agent, true).unwrap();
    assert!(pretty.len() > compact.len());
    let a: Value = serde_json::from_slice(&compact).unwrap();
    let b: Value = serde_json::from_slice(&pretty).unwrap();
    assert_eq!(a, b);
}

/// Slices Consul leaves nil unless filled are `null` when empty and a list otherwise.
#[test]
fn nil_slices_are_null_when_empty() {
    let mut check = HealthCheck {
        check_id: "serfHealth".into(),
        ..HealthCheck::default()
    };
    let value = to_value(&check, Shape::Catalog).unwrap();
    assert_eq!(value["ServiceTags"], Value::Null);
    check.service_tags = vec!["a".into()];
    let value = to_value(&check, Shape::Catalog).unwrap();
    assert_eq!(value["ServiceTags"], serde_json::json!(["a"]));
    let session = crate::Session::default();
    let value = to_value(&session, Shape::Catalog).unwrap();
    assert_eq!(value["ServiceChecks"], Value::Null);
    assert!(value["NodeChecks"].is_array());
}

/// What is written as `null` reads back as empty in JSON, and postcard (the stored
/// encoding) round-trips unchanged.
#[test]
fn nil_slices_read_back_and_store_unchanged() {
    let check = HealthCheck {
        check_id: "serfHealth".into(),
        ..HealthCheck::default()
    };
    let json = to_vec(&check, Shape::Catalog, false).unwrap();
    let read: HealthCheck = serde_json::from_slice(&json).unwrap();
    assert_eq!(read, check);
    let tagged = HealthCheck {
        service_tags: vec!["a".into()],
        ..check
    };
    let stored = postcard::to_stdvec(&tagged).unwrap();
    assert_eq!(
        postcard::from_bytes::<HealthCheck>(&stored).unwrap(),
        tagged
    );
    let session: crate::Session =
        serde_json::from_str(r#"{"ID":"s","ServiceChecks":null}"#).unwrap();
    assert!(session.service_checks.is_empty());
}
