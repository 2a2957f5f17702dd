//! Key/value entries as `/v1/kv` returns them.

use serde::{Deserialize, Serialize};

/// One KV entry. `Value` is base64 on the wire and `null` for an empty value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct KvPair {
    pub lock_index: u64,
    pub key: String,
    pub flags: u64,
    #[serde(with = "base64_value")]
    pub value: Option<Vec<u8>>,
    pub session: Option<String>,
    pub create_index: u64,
    pub modify_index: u64,
}

/// Base64 encoding of KV values, with `null` for an absent value, as Consul does in JSON.
/// Binary formats (snapshots, the Raft log) keep the raw bytes.
pub(crate) mod base64_value {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(value: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        if !s.is_human_readable() {
            return value.serialize(s);
        }
        match value {
            Some(bytes) => s.serialize_some(&STANDARD.encode(bytes)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        if !d.is_human_readable() {
            return Option::<Vec<u8>>::deserialize(d);
        }
        let text: Option<String> = Option::deserialize(d)?;
        text.map(|t| STANDARD.decode(t).map_err(serde::de::Error::custom))
            .transpose()
    }
}
