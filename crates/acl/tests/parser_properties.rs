//! The parser never panics, on any text; and rules written out as HCL or JSON parse
//! back to the same rules. (The fuzz target in `fuzz/` explores the first property
//! further; this runs it in CI on stable.)

use proconsul_acl::{
    Disposition, Grant, LabelledResource, Matching, Rules, ScalarResource, parse_rules,
};
use proptest::prelude::*;

/// Fragments of the rule language, so that random text gets past the first token.
fn rule_soup() -> impl Strategy<Value = String> {
    let fragments = vec![
        "key",
        "key_prefix",
        "service",
        "service_prefix",
        "acl",
        "operator",
        "node_prefix",
        "identity",
        "policy",
        "intentions",
        "=",
        "{",
        "}",
        "[",
        "]",
        "\"",
        "\"\"",
        "\"read\"",
        "\"write\"",
        "\"deny\"",
        "\"list\"",
        "\"x\"",
        ",",
        ":",
        "\n",
        " ",
        "#",
        "//",
        "/*",
        "*/",
        "${",
        "%{",
        "<<EOF\n",
        "EOF\n",
        "1",
        "true",
        "null",
        "\\",
        "é",
        "\u{0}",
    ];
    proptest::collection::vec(proptest::sample::select(fragments), 0..40)
        .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn never_panics_on_arbitrary_text(text in ".*") {
        let _ = parse_rules(&text);
        let _ = parse_rules(&format!("{{{text}"));
    }

    #[test]
    fn never_panics_on_rule_soup(text in rule_soup()) {
        let _ = parse_rules(&text);
        let _ = parse_rules(&format!("{{{text}"));
    }
}

/// One rule to write out.
#[derive(Clone, Debug)]
enum Written {
    Scalar(ScalarResource, Disposition),
    Labelled(
        LabelledResource,
        Matching,
        String,
        Disposition,
        Option<Disposition>,
    ),
}

fn written() -> impl Strategy<Value = Written> {
    let dispositions = vec![Disposition::Read, Disposition::Write, Disposition::Deny];
    let scalar = (
        proptest::sample::select(ScalarResource::ALL.to_vec()),
        proptest::sample::select(dispositions.clone()),
    )
        .prop_map(|(r, d)| Written::Scalar(r, d));
    let labelled = (
        proptest::sample::select(LabelledResource::ALL.to_vec()),
        proptest::sample::select(vec![Matching::Exact, Matching::Prefix]),
        // Labels with characters that need escaping in both syntaxes.
        "[a-z0-9/._\\-\"\\\\ é]{0,8}",
        proptest::sample::select(dispositions.clone()),
        proptest::option::of(proptest::sample::select(dispositions)),
    )
        .prop_map(|(r, m, label, d, i)| {
            Written::Labelled(r, m, label, d, i.filter(|_| r.has_intentions()))
        });
    prop_oneof![scalar, labelled]
}

fn expected(rules: &[Written]) -> Rules {
    let mut expected = Rules::new();
    for rule in rules {
        match rule {
            Written::Scalar(resource, d) => expected.add_scalar(*resource, *d),
            Written::Labelled(resource, matching, label, d, i) => expected.add(
                *resource,
                *matching,
                label.clone(),
                Grant {
                    policy: *d,
                    intentions: *i,
                },
            ),
        }
    }
    expected
}

fn hcl_string(text: &str) -> String {
    let escaped = text.replace('\\', "\\\\").replace('"', "\\\"");
    format!("\"{escaped}\"")
}

/// HCL text; a scalar may appear only once in HCL, so later ones are merged first.
fn as_hcl(rules: &[Written]) -> String {
    let mut text = String::new();
    let merged = expected(rules);
    for (resource, d) in merged.scalars() {
        text.push_str(&format!("{} = \"{}\"\n", resource.keyword(), d));
    }
    for rule in rules {
        if let Written::Labelled(resource, matching, label, d, i) = rule {
            text.push_str(&format!(
                "{} {} {{\n  policy = \"{}\"\n",
                resource.keyword(*matching),
                hcl_string(label),
                d
            ));
            if let Some(i) = i {
                text.push_str(&format!("  intentions = \"{i}\"\n"));
            }
            text.push_str("}\n");
        }
    }
    text
}

/// JSON text, each rule in its own list entry so repeated rules stay repeated.
fn as_json(rules: &[Written]) -> String {
    let mut entries = Vec::new();
    for rule in rules {
        match rule {
            Written::Scalar(resource, d) => {
                entries.push(format!("\"{}\": \"{}\"", resource.keyword(), d));
            }
            Written::Labelled(resource, matching, label, d, i) => {
                let mut body = format!("\"policy\": \"{d}\"");
                if let Some(i) = i {
                    body.push_str(&format!(", \"intentions\": \"{i}\""));
                }
                let label = serde_json::to_string(label).unwrap();
                entries.push(format!(
                    "\"{}\": [{{{label}: {{{body}}}}}]",
                    resource.keyword(*matching)
                ));
            }
        }
    }
    format!("{{{}}}", entries.join(", "))
}

proptest! {
    #[test]
    fn written_rules_parse_back(rules in proptest::collection::vec(written(), 0..10)) {
        let expected = expected(&rules);
        let hcl = as_hcl(&rules);
        let from_hcl = Rules::parse(&hcl).map_err(|e| TestCaseError::fail(format!("{hcl}\n{e}")))?;
        prop_assert_eq!(from_hcl, expected.clone());
        let json = as_json(&rules);
        let from_json = Rules::parse(&json).map_err(|e| TestCaseError::fail(format!("{json}\n{e}")))?;
        prop_assert_eq!(from_json, expected);
    }
}
