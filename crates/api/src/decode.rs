//! Decoding request bodies and config blocks as Go's `encoding/json` decodes them into
//! Consul's structs, so that what any Consul client sends is understood:
//! - a field name matches regardless of case, and of underscores (Patroni sends `"name"`;
//!   config files and agent registration use `snake_case`);
//! - `null` is the zero value, for a field of any type and at any depth;
//! - unknown fields are ignored;
//! - a JSON number in a duration field is nanoseconds (py-consul sends `"Interval": 10`).
//!
//! It works as a serde `Deserializer` over a parsed `serde_json::Value`: when serde asks
//! for a struct it names the struct's fields, so keys are matched against exactly those
//! names. Maps (`Meta`, `NodeMeta`, `Header`, tagged addresses) are not structs and keep
//! their keys as sent.

use serde::Deserializer;
use serde::de::value::{MapDeserializer, SeqDeserializer};
use serde::de::{DeserializeOwned, IntoDeserializer, Visitor};
use serde::forward_to_deserialize_any;
use serde_json::{Map, Value};

/// Duration fields. Consul takes a JSON number there as nanoseconds (Go's
/// `time.Duration`).
const DURATION_FIELDS: &[&str] = &[
    "Interval",
    "Timeout",
    "TTL",
    "DeregisterCriticalServiceAfter",
    "ExpirationTTL",
    "MaxTokenTTL",
];

/// For a field Consul writes as `null` when empty (a nil Go slice): `null` reads as the
/// empty value in JSON. Binary formats (postcard, for the Raft log and snapshots) carry
/// no `null` and are read as they are, so the stored encoding does not change.
pub fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de> + Default,
{
    if deserializer.is_human_readable() {
        <Option<T> as serde::Deserialize>::deserialize(deserializer).map(Option::unwrap_or_default)
    } else {
        T::deserialize(deserializer)
    }
}

/// Decodes `value` into `T` as Go would decode the same JSON into Consul's struct.
pub fn decode_lenient<T: DeserializeOwned>(value: Value) -> Result<T, serde_json::Error> {
    T::deserialize(GoValue(value))
}

/// A JSON value being decoded the Go way.
struct GoValue(Value);

/// Folds a name for matching: lowercase, no underscores.
fn folded(name: &str) -> String {
    name.chars()
        .filter(|c| *c != '_')
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// An object's members renamed to the struct's own field names where they match, with
/// `null` members dropped (so the field keeps its default) and numeric durations written
/// as Go duration strings.
fn struct_members(
    members: Map<String, Value>,
    fields: &'static [&'static str],
) -> Vec<(String, Value)> {
    let folded_fields: Vec<String> = fields.iter().map(|field| folded(field)).collect();
    members
        .into_iter()
        .filter(|(_, value)| !value.is_null())
        .map(|(key, value)| {
            let key_folded = folded(&key);
            let name = folded_fields
                .iter()
                .position(|field| *field == key_folded)
                .map(|index| fields[index].to_string())
                .unwrap_or(key);
            let value = match value {
                Value::Number(n) if DURATION_FIELDS.contains(&name.as_str()) => {
                    Value::String(format!("{n}ns"))
                }
                value => value,
            };
            (name, value)
        })
        .collect()
}

fn visit_members<'de, V: Visitor<'de>>(
    members: Vec<(String, Value)>,
    visitor: V,
) -> Result<V::Value, serde_json::Error> {
    let mut access = MapDeserializer::new(
        members
            .into_iter()
            .map(|(key, value)| (key, GoValue(value))),
    );
    let value = visitor.visit_map(&mut access)?;
    access.end()?;
    Ok(value)
}

fn visit_items<'de, V: Visitor<'de>>(
    items: Vec<Value>,
    visitor: V,
) -> Result<V::Value, serde_json::Error> {
    let mut access = SeqDeserializer::new(items.into_iter().map(GoValue));
    let value = visitor.visit_seq(&mut access)?;
    access.end()?;
    Ok(value)
}

impl<'de> IntoDeserializer<'de, serde_json::Error> for GoValue {
    type Deserializer = GoValue;
    fn into_deserializer(self) -> GoValue {
        self
    }
}

/// Scalars: `null` is the zero value; anything else is decoded by `serde_json` itself,
/// whose errors name what was expected.
macro_rules! scalar {
    ($($method:ident => $zero:ident($($arg:expr)?)),* $(,)?) => {
        $(fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, serde_json::Error> {
            match self.0 {
                Value::Null => visitor.$zero($($arg)?),
                other => other.$method(visitor),
            }
        })*
    };
}

impl<'de> Deserializer<'de> for GoValue {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, serde_json::Error> {
        match self.0 {
            Value::Array(items) => visit_items(items, visitor),
            Value::Object(members) => visit_members(members.into_iter().collect(), visitor),
            other => other.deserialize_any(visitor),
        }
    }

    scalar!(
        deserialize_bool => visit_bool(false),
        deserialize_i8 => visit_i8(0),
        deserialize_i16 => visit_i16(0),
        deserialize_i32 => visit_i32(0),
        deserialize_i64 => visit_i64(0),
        deserialize_u8 => visit_u8(0),
        deserialize_u16 => visit_u16(0),
        deserialize_u32 => visit_u32(0),
        deserialize_u64 => visit_u64(0),
        deserialize_f32 => visit_f32(0.0),
        deserialize_f64 => visit_f64(0.0),
        deserialize_str => visit_str(""),
        deserialize_string => visit_str(""),
    );

    fn deserialize_option<V: Visitor<'de>>(
        self,
        visitor: V,
    ) -> Result<V::Value, serde_json::Error> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            other => visitor.visit_some(GoValue(other)),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, serde_json::Error> {
        match self.0 {
            Value::Null => visit_items(Vec::new(), visitor),
            Value::Array(items) => visit_items(items, visitor),
            other => other.deserialize_seq(visitor),
        }
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, serde_json::Error> {
        match self.0 {
            Value::Null => visit_members(Vec::new(), visitor),
            Value::Object(members) => visit_members(members.into_iter().collect(), visitor),
            other => other.deserialize_map(visitor),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, serde_json::Error> {
        match self.0 {
            Value::Null => visit_members(Vec::new(), visitor),
            Value::Object(members) => visit_members(struct_members(members, fields), visitor),
            other => other.deserialize_map(visitor),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, serde_json::Error> {
        self.0.deserialize_enum(name, variants, visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, serde_json::Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(
        self,
        visitor: V,
    ) -> Result<V::Value, serde_json::Error> {
        visitor.visit_unit()
    }

    forward_to_deserialize_any! {
        i128 u128 char bytes byte_buf unit unit_struct tuple tuple_struct identifier
    }
}

#[cfg(test)]
mod tests;
