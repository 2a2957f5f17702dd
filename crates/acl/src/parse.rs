//! Reading rules out of the decoded document, with Consul's validation.
//!
//! Accepted shapes, for HCL and JSON alike (HCL blocks decode to the JSON shape):
//! - scalars: `acl = "write"` / `{"acl": "write"}`; the empty string means "no rule";
//! - labelled rules: `key_prefix "app/" { policy = "read" }` /
//!   `{"key_prefix": {"app/": {"policy": "read"}}}`, where the label map may also be a
//!   list of such maps and a label's body a list of bodies (repeated blocks);
//!   `service`/`identity` bodies may add `intentions`.
//!
//! Like Consul, unknown top-level keys and unknown keys inside a block are ignored
//! (Enterprise-only `namespace`, `partition`, `sentinel` among them); they are reported
//! in [`ParsedRules::ignored`] so a caller can warn. Every labelled rule needs a valid
//! `policy`; repeated rules for the same key merge by precedence.

use crate::disposition::Disposition;
use crate::error::{RuleError, WrittenRule};
use crate::go_string::quote;
use crate::resource::{LabelledResource, Matching, ScalarResource};
use crate::rules::{Grant, Rules};
use crate::syntax_tree::{self, Node};

/// The result of parsing rule text: the rules, and the top-level keys that were ignored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedRules {
    /// The rules, duplicates merged.
    pub rules: Rules,
    /// Top-level keys that are not resources Consul CE knows, in document order.
    pub ignored: Vec<String>,
}

impl Rules {
    /// Parses rule text (HCL, or JSON when it starts with `{`), as a policy's `Rules`.
    pub fn parse(text: &str) -> Result<Rules, RuleError> {
        parse_rules(text).map(|parsed| parsed.rules)
    }
}

/// Parses rule text and also reports which top-level keys were ignored.
pub fn parse_rules(text: &str) -> Result<ParsedRules, RuleError> {
    let mut parsed = ParsedRules {
        rules: Rules::new(),
        ignored: Vec::new(),
    };
    // Consul takes a fast path for empty rules; whitespace-only text is an empty body.
    if text.is_empty() {
        return Ok(parsed);
    }
    let document = syntax_tree::decode(text).map_err(RuleError::Syntax)?;
    let Node::Object(entries) = document else {
        return Err(RuleError::Syntax(format!(
            "expected an object of rules, found {}",
            document.kind()
        )));
    };
    for (keyword, value) in &entries {
        if let Some(resource) = ScalarResource::from_keyword(keyword) {
            read_scalar(&mut parsed.rules, resource, value)?;
        } else if let Some((resource, matching)) = LabelledResource::from_keyword(keyword) {
            read_labelled(&mut parsed.rules, resource, matching, value)?;
        } else {
            parsed.ignored.push(keyword.clone());
        }
    }
    Ok(parsed)
}

/// `acl = "write"`: an empty value means no rule; `list` is not valid here.
fn read_scalar(rules: &mut Rules, resource: ScalarResource, value: &Node) -> Result<(), RuleError> {
    let text = scalar_text(value).ok_or_else(|| {
        RuleError::Syntax(format!(
            "{}: expected a string, found {}",
            resource.keyword(),
            value.kind()
        ))
    })?;
    if text.is_empty() {
        return Ok(());
    }
    match Disposition::parse(&text) {
        Some(disposition) if disposition != Disposition::List => {
            rules.add_scalar(resource, disposition);
            Ok(())
        }
        _ => Err(RuleError::InvalidPolicy {
            keyword: resource.keyword(),
            rule: quote(&text),
        }),
    }
}

/// `key_prefix "a" { ... }`: a map from label to body (or bodies), or a list of maps.
fn read_labelled(
    rules: &mut Rules,
    resource: LabelledResource,
    matching: Matching,
    value: &Node,
) -> Result<(), RuleError> {
    match value {
        Node::Object(labels) => {
            for (label, body) in labels {
                read_bodies(rules, resource, matching, label, body)?;
            }
            Ok(())
        }
        Node::List(maps) => maps
            .iter()
            .try_for_each(|map| read_labelled(rules, resource, matching, map)),
        other => Err(RuleError::Syntax(format!(
            "{}: expected blocks labelled with a name, found {}",
            resource.keyword(matching),
            other.kind()
        ))),
    }
}

/// One label's body, or the bodies of a block repeated with the same label.
fn read_bodies(
    rules: &mut Rules,
    resource: LabelledResource,
    matching: Matching,
    label: &str,
    body: &Node,
) -> Result<(), RuleError> {
    match body {
        Node::List(bodies) => bodies
            .iter()
            .try_for_each(|body| read_bodies(rules, resource, matching, label, body)),
        Node::Object(fields) => {
            let grant = read_grant(resource, matching, label, fields)?;
            rules.add(resource, matching, label, grant);
            Ok(())
        }
        other => Err(RuleError::Syntax(format!(
            "{} {}: expected a block body, found {}",
            resource.keyword(matching),
            quote(label),
            other.kind()
        ))),
    }
}

/// The `policy` (required) and `intentions` (service and identity only) of one body.
fn read_grant(
    resource: LabelledResource,
    matching: Matching,
    label: &str,
    fields: &[(String, Node)],
) -> Result<Grant, RuleError> {
    let policy = field_values(resource, matching, label, fields, "policy")?;
    let intentions = if resource.has_intentions() {
        field_values(resource, matching, label, fields, "intentions")?
    } else {
        Vec::new()
    };
    let written = |policy: &str, intentions: &str| {
        WrittenRule {
            resource,
            label,
            policy,
            intentions,
        }
        .go_dump()
    };
    let first_intentions = intentions.first().map(String::as_str).unwrap_or("");

    // A body without `policy` is a rule with an empty policy, which Consul refuses.
    let policy_texts: Vec<&str> = if policy.is_empty() {
        vec![""]
    } else {
        policy.iter().map(String::as_str).collect()
    };
    let policy = strongest_of(&policy_texts, resource.allows_list()).map_err(|bad| {
        RuleError::InvalidPolicy {
            keyword: resource.keyword(matching),
            rule: written(bad, first_intentions),
        }
    })?;
    let intention_texts: Vec<&str> = intentions
        .iter()
        .map(String::as_str)
        .filter(|text| !text.is_empty())
        .collect();
    let intentions = if intention_texts.is_empty() {
        None
    } else {
        let strongest =
            strongest_of(&intention_texts, false).map_err(|bad| RuleError::InvalidIntentions {
                keyword: resource.keyword(matching),
                rule: written(policy.as_str(), bad),
            })?;
        Some(strongest)
    };
    Ok(Grant { policy, intentions })
}

/// The strongest of several written dispositions, or the first invalid one.
/// `texts` is never empty.
fn strongest_of<'t>(texts: &[&'t str], allow_list: bool) -> Result<Disposition, &'t str> {
    let mut strongest = Disposition::Read;
    for &text in texts {
        match Disposition::parse(text) {
            Some(d) if d != Disposition::List || allow_list => strongest = strongest.strongest(d),
            _ => return Err(text),
        }
    }
    Ok(strongest)
}

/// Every value given to `name` in a body (JSON may repeat a key), as text.
fn field_values(
    resource: LabelledResource,
    matching: Matching,
    label: &str,
    fields: &[(String, Node)],
    name: &str,
) -> Result<Vec<String>, RuleError> {
    fields
        .iter()
        .filter(|(field, _)| field == name)
        .map(|(_, value)| {
            scalar_text(value).ok_or_else(|| {
                RuleError::Syntax(format!(
                    "{} {}: {name}: expected a string, found {}",
                    resource.keyword(matching),
                    quote(label),
                    value.kind()
                ))
            })
        })
        .collect()
}

/// The text of a value that HCL v1 would decode into a string field.
fn scalar_text(value: &Node) -> Option<String> {
    match value {
        Node::String(text) | Node::Number(text) => Some(text.clone()),
        Node::Bool(b) => Some(b.to_string()),
        Node::Null => Some(String::new()),
        Node::List(_) | Node::Object(_) => None,
    }
}
