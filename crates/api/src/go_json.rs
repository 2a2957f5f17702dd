//! Encoding answers as Go's `encoding/json` writes Consul's structs.
//!
//! The wire types in this crate derive plain `Serialize` (no `skip_serializing_if`),
//! because the same types travel through the Raft log and snapshots in postcard, where
//! every field must be written. What Consul leaves out of its JSON (`omitempty` on a field,
//! a field a shape does not have, a Go struct value where we keep an `Option`) is decided
//! here instead, in one table per [`Shape`], and applied by a serializer that wraps
//! `serde_json`'s while it writes: no intermediate `Value`, one lookup per struct field.
//!
//! Consul writes the same data in two dialects: the agent's endpoints answer with the
//! structs of its public `api` package (`AgentService`: indexes and empty `Kind` left out),
//! the catalog and health endpoints with the server's structs (`NodeService`: `Port` left
//! out when zero, `Proxy` and `Connect` always present, `PeerName` always written). The
//! tables follow the struct tags of those packages.

use std::sync::LazyLock;

use serde::ser::{self, Serialize, SerializeMap, SerializeSeq, SerializeStruct};
use serde_json::value::RawValue;

mod empty;
mod rules;
mod wrap;

pub use rules::Shape;

/// `value` as Consul's JSON for `shape`, compact or indented (`?pretty`).
pub fn to_vec<T: Serialize + ?Sized>(
    value: &T,
    shape: Shape,
    pretty: bool,
) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = Vec::with_capacity(256);
    let shaped = wrap::Shaped { value, shape };
    if pretty {
        let mut serializer = serde_json::Serializer::pretty(&mut out);
        shaped.serialize(&mut serializer)?;
    } else {
        let mut serializer = serde_json::Serializer::new(&mut out);
        shaped.serialize(&mut serializer)?;
    }
    Ok(out)
}

/// `value` as a `serde_json::Value` shaped for `shape` (for answers that add a field,
/// such as the `ContentHash` of `/v1/agent/service/:id`).
pub fn to_value<T: Serialize + ?Sized>(
    value: &T,
    shape: Shape,
) -> Result<serde_json::Value, serde_json::Error> {
    serde_json::from_slice(&to_vec(value, shape, false)?)
}

/// What to do with one field of one struct in one shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldRule {
    /// Written as it is (Go: no `omitempty`).
    Keep,
    /// Left out when it is Go's zero value: `""`, `0`, `false`, an empty list or map,
    /// or `None` (a nil pointer). Go never omits a struct value, and neither does this.
    OmitEmpty,
    /// Not part of this shape at all.
    Omit,
    /// `None` is written as this JSON (a Go struct value that is never nil), `Some` as
    /// the value.
    NoneAs(&'static str),
    /// An empty list or map is written as `null`: a Go slice Consul leaves nil unless
    /// something is in it.
    NullIfEmpty,
}

/// The rule tables' JSON literals, parsed once.
static RAW_LITERALS: LazyLock<Vec<(&'static str, Box<RawValue>)>> = LazyLock::new(|| {
    rules::LITERALS
        .iter()
        .map(|literal| {
            // The literals are valid JSON; a unit test parses every one.
            let raw = RawValue::from_string((*literal).to_string()).expect("valid JSON");
            (*literal, raw)
        })
        .collect()
});

fn raw(json: &'static str) -> &'static RawValue {
    match RAW_LITERALS.iter().find(|(literal, _)| *literal == json) {
        Some((_, raw)) => raw,
        None => serde_json::from_str(json).expect("rule tables hold valid JSON"),
    }
}

/// The struct serializer: applies the shape's rule to each field, then writes the
/// fields the shape adds.
struct ShapedStruct<S> {
    inner: S,
    rules: &'static rules::StructRules,
    shape: Shape,
}

impl<S: SerializeStruct> SerializeStruct for ShapedStruct<S> {
    type Ok = S::Ok;
    type Error = S::Error;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), S::Error> {
        let shaped = wrap::Shaped {
            value,
            shape: self.shape,
        };
        match self.rules.rule(key) {
            FieldRule::Keep => self.inner.serialize_field(key, &shaped),
            FieldRule::Omit => self.inner.skip_field(key),
            FieldRule::OmitEmpty => {
                if empty::is_empty(value) {
                    self.inner.skip_field(key)
                } else {
                    self.inner.serialize_field(key, &shaped)
                }
            }
            FieldRule::NullIfEmpty => {
                if empty::is_empty(value) {
                    self.inner.serialize_field(key, &())
                } else {
                    self.inner.serialize_field(key, &shaped)
                }
            }
            FieldRule::NoneAs(json) => {
                if empty::is_none(value) {
                    self.inner.serialize_field(key, raw(json))
                } else {
                    self.inner.serialize_field(key, &shaped)
                }
            }
        }
    }

    fn skip_field(&mut self, key: &'static str) -> Result<(), S::Error> {
        self.inner.skip_field(key)
    }

    fn end(mut self) -> Result<S::Ok, S::Error> {
        for (key, json) in self.rules.added {
            self.inner.serialize_field(key, raw(json))?;
        }
        self.inner.end()
    }
}

/// Lists and maps pass their shape on to their elements.
struct ShapedSeq<S> {
    inner: S,
    shape: Shape,
}

impl<S: SerializeSeq> SerializeSeq for ShapedSeq<S> {
    type Ok = S::Ok;
    type Error = S::Error;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), S::Error> {
        self.inner.serialize_element(&wrap::Shaped {
            value,
            shape: self.shape,
        })
    }

    fn end(self) -> Result<S::Ok, S::Error> {
        self.inner.end()
    }
}

impl<S: SerializeMap> SerializeMap for ShapedSeq<S> {
    type Ok = S::Ok;
    type Error = S::Error;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), S::Error> {
        self.inner.serialize_key(key)
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), S::Error> {
        self.inner.serialize_value(&wrap::Shaped {
            value,
            shape: self.shape,
        })
    }

    fn end(self) -> Result<S::Ok, S::Error> {
        self.inner.end()
    }
}

impl<S: ser::SerializeTuple> ser::SerializeTuple for ShapedSeq<S> {
    type Ok = S::Ok;
    type Error = S::Error;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), S::Error> {
        self.inner.serialize_element(&wrap::Shaped {
            value,
            shape: self.shape,
        })
    }

    fn end(self) -> Result<S::Ok, S::Error> {
        self.inner.end()
    }
}

#[cfg(test)]
mod tests;
