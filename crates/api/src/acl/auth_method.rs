//! Auth methods (`structs.ACLAuthMethod`) and binding rules (`structs.ACLBindingRule`):
//! stored and returned in Consul's shapes.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::identity::AclTemplatedPolicyVariables;

/// An auth method. `MaxTokenTTL` is a Go duration text (`"5m0s"`, empty for none), as
/// Consul's JSON writes it; `Config` is the method's free-form configuration object.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct AclAuthMethod {
    pub name: String,
    #[serde(rename = "Type")]
    pub kind: String,
    pub display_name: String,
    pub description: String,
    #[serde(rename = "MaxTokenTTL")]
    pub max_token_ttl: String,
    /// `local` or `global` (empty means local).
    pub token_locality: String,
    pub config: Option<JsonObject>,
    pub create_index: u64,
    pub modify_index: u64,
}

/// A binding rule: which tokens a login through `AuthMethod` gets, for identities that
/// match `Selector`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct AclBindingRule {
    #[serde(rename = "ID")]
    pub id: String,
    pub description: String,
    pub auth_method: String,
    pub selector: String,
    /// `service`, `node`, `role`, `policy` or `templated-policy`.
    pub bind_type: String,
    pub bind_name: String,
    pub bind_vars: Option<AclTemplatedPolicyVariables>,
    pub create_index: u64,
    pub modify_index: u64,
}

/// Arbitrary JSON (Go's `map[string]interface{}`): an object in JSON, its compact text
/// in binary formats (which cannot carry untyped values). Keys come out sorted, as Go
/// writes a map.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct JsonObject(String);

impl JsonObject {
    /// Wraps a JSON value.
    pub fn new(value: &serde_json::Value) -> JsonObject {
        JsonObject(value.to_string())
    }

    /// The value.
    pub fn value(&self) -> serde_json::Value {
        serde_json::from_str(&self.0).unwrap_or(serde_json::Value::Null)
    }

    /// The compact JSON text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for JsonObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for JsonObject {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            self.value().serialize(serializer)
        } else {
            serializer.serialize_str(&self.0)
        }
    }
}

impl<'de> Deserialize<'de> for JsonObject {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<JsonObject, D::Error> {
        if deserializer.is_human_readable() {
            let value = serde_json::Value::deserialize(deserializer)?;
            Ok(JsonObject::new(&value))
        } else {
            let text = String::deserialize(deserializer)?;
            serde_json::from_str::<serde_json::Value>(&text).map_err(serde::de::Error::custom)?;
            Ok(JsonObject(text))
        }
    }
}
