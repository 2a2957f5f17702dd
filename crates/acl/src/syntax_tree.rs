//! The neutral tree that both rule syntaxes decode into before rules are read from it.
//!
//! Consul parses rules with HCL v1, which takes HCL or JSON text and picks JSON when the
//! first non-space character is `{`. We do the same, with our HCL v1 parser
//! ([`crate::hcl_parser`]) and serde_json for JSON.
//! The tree keeps repeated object keys as repeated entries instead of letting the last
//! one win, so `{"key": {"a": {"policy": "deny"}, "a": {"policy": "write"}}}` merges both
//! rules (deny wins) as HCL v1 does, rather than silently keeping `write`.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::hcl_parser;

/// A decoded value of the rule document.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Node {
    /// `null` (JSON only).
    Null,
    /// A boolean.
    Bool(bool),
    /// A number, kept as its text.
    Number(String),
    /// A string (HCL expressions that are not plain strings arrive as `${...}` text).
    String(String),
    /// A list, or the several bodies of a repeated block.
    List(Vec<Node>),
    /// An object or block body, entries in document order, repeated keys kept.
    Object(Vec<(String, Node)>),
}

impl Node {
    /// A short description for error messages.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Node::Null => "null",
            Node::Bool(_) => "bool",
            Node::Number(_) => "number",
            Node::String(_) => "string",
            Node::List(_) => "list",
            Node::Object(_) => "object",
        }
    }
}

/// Decodes rule text, choosing JSON or HCL the way HCL v1 does.
///
/// The error is the syntax error's text, without Consul's `Failed to parse ACL rules: `.
pub(crate) fn decode(text: &str) -> Result<Node, String> {
    let looks_like_json = text.trim_start().starts_with('{');
    if looks_like_json {
        serde_json::from_str::<Node>(text).map_err(|err| err.to_string())
    } else {
        hcl_parser::parse(text)
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Node, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

/// Builds a [`Node`] from whatever a self-describing deserializer reports.
struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any HCL or JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Number(v.to_string()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node, E> {
        Ok(Node::Number(v.to_string()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Number(v.to_string()))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Node, E> {
        Ok(Node::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Node, E> {
        Ok(Node::String(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Node, D::Error> {
        Node::deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(Node::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some((key, value)) = map.next_entry::<String, Node>()? {
            entries.push((key, value));
        }
        Ok(Node::Object(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_keeps_repeated_keys() {
        let node = decode(r#"{"acl": "read", "acl": "write"}"#).unwrap();
        assert_eq!(
            node,
            Node::Object(vec![
                ("acl".into(), Node::String("read".into())),
                ("acl".into(), Node::String("write".into())),
            ])
        );
    }

    #[test]
    fn hcl_repeated_blocks_stay_repeated() {
        let node =
            decode("key \"a\" { policy = \"read\" }\nkey \"a\" { policy = \"deny\" }").unwrap();
        assert!(matches!(node, Node::Object(ref top) if top.len() == 2));
    }

    #[test]
    fn leading_space_before_brace_is_json() {
        assert!(decode("  \n{\"acl\": \"read\"}").is_ok());
        assert!(decode("acl = \"read\"").is_ok());
        let err = decode("acl = ").unwrap_err();
        assert!(err.starts_with("At 1:"), "{err}");
    }
}
