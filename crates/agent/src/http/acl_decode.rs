//! ACL request bodies decoded as Consul decodes them (`lib.DecodeJSON`: Go's
//! `encoding/json` with unknown fields disallowed): field names match regardless of
//! case, but a field the object does not have is refused with Go's text,
//! `json: unknown field "X"`, and an empty body is Go's `EOF`. Errors are 400s behind the
//! caller's prefix (`Policy decoding failed: ...`).
//!
//! Values are decoded with the agent's Go-style decoder; the unknown-field check then
//! walks the request against the decoded value written back out, so every struct, at
//! any depth, is held to exactly the fields it has (free-form maps such as an auth
//! method's `Config` come back with the keys they were given, so any key passes there).

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::http::error::ApiError;

/// Decodes `body` into `T` strictly; a failure is a 400 reading `{prefix}: {reason}`.
pub fn decode_strict<T: DeserializeOwned + Serialize>(
    body: &[u8],
    prefix: &str,
) -> Result<T, ApiError> {
    let failed = |reason: String| ApiError::bad_request(format!("{prefix}: {reason}"));
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(failed("EOF".to_string()));
    }
    let sent: Value = serde_json::from_slice(body).map_err(|error| failed(error.to_string()))?;
    let decoded: T = proconsul_api::decode::decode_lenient(sent.clone())
        .map_err(|error| failed(error.to_string()))?;
    let known = serde_json::to_value(&decoded).map_err(|error| failed(error.to_string()))?;
    if let Some(field) = unknown_field(&sent, &known) {
        return Err(failed(unknown_field_text(&field)));
    }
    Ok(decoded)
}

/// Go's text, with Consul CE's note for the Enterprise-only `Namespace`.
fn unknown_field_text(field: &str) -> String {
    let text = format!("json: unknown field {}", serde_json::Value::from(field));
    if field == "Namespace" {
        format!("{text} - Namespaces are a Consul Enterprise feature")
    } else {
        text
    }
}

/// The first member of an object in `sent` that the matching object of `known` does not
/// have (names compared without regard to case, as Go matches them).
fn unknown_field(sent: &Value, known: &Value) -> Option<String> {
    match (sent, known) {
        (Value::Object(sent), Value::Object(known)) => sent.iter().find_map(|(name, value)| {
            match known
                .iter()
                .find(|(field, _)| field.eq_ignore_ascii_case(name))
            {
                None => Some(name.clone()),
                Some((_, known_value)) => unknown_field(value, known_value),
            }
        }),
        (Value::Array(sent), Value::Array(known)) => sent
            .iter()
            .zip(known)
            .find_map(|(sent, known)| unknown_field(sent, known)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proconsul_api::acl::{AclAuthMethod, AclPolicy, AclToken};

    #[test]
    fn any_case_is_read() {
        let policy: AclPolicy = decode_strict(
            br#"{"name": "p", "RULES": "acl = \"read\"", "description": "d"}"#,
            "Policy decoding failed",
        )
        .unwrap();
        assert_eq!(policy.name, "p");
        assert_eq!(policy.rules, "acl = \"read\"");
        assert_eq!(policy.description, "d");
        let token: AclToken = decode_strict(
            br#"{"templatedpolicies": [{"templatename": "builtin/service", "templatevariables": {"Name": "web"}}],
                 "nodeidentities": [{"nodename": "n", "datacenter": "dc1"}], "ExpirationTTL": 600000000000}"#,
            "Token decoding failed",
        )
        .unwrap();
        assert_eq!(token.templated_policies[0].template_name, "builtin/service");
        assert_eq!(
            token.templated_policies[0]
                .template_variables
                .as_ref()
                .unwrap()
                .name,
            "web"
        );
        assert_eq!(token.node_identities[0].node_name, "n");
        assert_eq!(token.expiration_ttl, "600000000000ns");
    }

    #[test]
    fn unknown_fields_are_refused_at_any_depth() {
        let refused = |body: &[u8]| {
            decode_strict::<AclToken>(body, "Token decoding failed")
                .unwrap_err()
                .message
        };
        assert_eq!(
            refused(br#"{"Description": "x", "Bogus": 1}"#),
            r#"Token decoding failed: json: unknown field "Bogus""#
        );
        assert_eq!(
            refused(
                br#"{"NodeIdentities": [{"NodeName": "n", "Datacenter": "dc1", "Extra": true}]}"#
            ),
            r#"Token decoding failed: json: unknown field "Extra""#
        );
        assert_eq!(
            refused(br#"{"node_identities": []}"#),
            r#"Token decoding failed: json: unknown field "node_identities""#,
            "Go matches case, not underscores"
        );
        assert_eq!(
            refused(br#"{"Namespace": "ns"}"#),
            r#"Token decoding failed: json: unknown field "Namespace" - Namespaces are a Consul Enterprise feature"#
        );
        assert_eq!(refused(b""), "Token decoding failed: EOF");
        let error = decode_strict::<AclToken>(b"{", "Token decoding failed").unwrap_err();
        assert_eq!(error.status, 400);
        assert!(error.message.starts_with("Token decoding failed: "));
    }

    #[test]
    fn free_form_maps_take_any_key() {
        let method: AclAuthMethod = decode_strict(
            br#"{"Name": "m", "Type": "jwt", "Config": {"BoundIssuer": "i", "anything": [1]}}"#,
            "AuthMethod decoding failed",
        )
        .unwrap();
        assert_eq!(method.config.unwrap().value()["BoundIssuer"], "i");
    }
}
