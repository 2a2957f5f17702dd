//! Evaluates an expression against one JSON item.

use serde_json::Value;

use crate::parser::{Expr, Matcher, Op};

impl Expr {
    pub(crate) fn eval(&self, item: &Value) -> bool {
        match self {
            Expr::And(left, right) => left.eval(item) && right.eval(item),
            Expr::Or(left, right) => left.eval(item) || right.eval(item),
            Expr::Not(inner) => !inner.eval(item),
            Expr::Match(matcher) => matcher.eval(item),
        }
    }
}

impl Matcher {
    fn eval(&self, item: &Value) -> bool {
        let mut found = Vec::new();
        resolve(item, &self.selector, &mut found);
        let value = self.value.as_str();
        match &self.op {
            Op::Equal => found.iter().any(|v| equals(v, value)),
            Op::NotEqual => !found.iter().any(|v| equals(v, value)),
            Op::IsEmpty => found.iter().all(|v| is_empty(v)),
            Op::IsNotEmpty => !found.iter().all(|v| is_empty(v)),
            Op::In | Op::Contains => found.iter().any(|v| contains(v, value)),
            Op::NotIn | Op::NotContains => !found.iter().any(|v| contains(v, value)),
            Op::Matches(regex) => found
                .iter()
                .any(|v| v.as_str().is_some_and(|s| regex.is_match(s))),
            Op::NotMatches(regex) => !found
                .iter()
                .any(|v| v.as_str().is_some_and(|s| regex.is_match(s))),
        }
    }
}

/// Follows `path` from `value`, fanning out over arrays met on the way (so
/// `Checks.Status` means "the status of any check"). Field names match exactly, or else
/// without regard to case.
fn resolve<'a>(value: &'a Value, path: &[String], found: &mut Vec<&'a Value>) {
    let Some((head, rest)) = path.split_first() else {
        found.push(value);
        return;
    };
    match value {
        Value::Object(map) => {
            let child = map.get(head).or_else(|| {
                map.iter()
                    .find(|(key, _)| key.eq_ignore_ascii_case(head))
                    .map(|(_, child)| child)
            });
            if let Some(child) = child {
                resolve(child, rest, found);
            }
        }
        Value::Array(items) => {
            for item in items {
                resolve(item, path, found);
            }
        }
        _ => {}
    }
}

fn equals(field: &Value, value: &str) -> bool {
    match field {
        Value::String(text) => text == value,
        Value::Number(number) => value
            .parse::<f64>()
            .is_ok_and(|wanted| number.as_f64() == Some(wanted)),
        Value::Bool(flag) => value.parse::<bool>().is_ok_and(|wanted| *flag == wanted),
        Value::Null => value.is_empty(),
        Value::Array(items) => items.iter().any(|item| equals(item, value)),
        Value::Object(_) => false,
    }
}

fn is_empty(field: &Value) -> bool {
    match field {
        Value::Null => true,
        Value::String(text) => text.is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty(),
        Value::Number(_) | Value::Bool(_) => false,
    }
}

fn contains(field: &Value, value: &str) -> bool {
    match field {
        Value::Array(items) => items.iter().any(|item| equals(item, value)),
        Value::Object(map) => map.contains_key(value),
        Value::String(text) => text.contains(value),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use crate::Filter;
    use proptest::prelude::*;
    use serde_json::json;

    fn entry() -> serde_json::Value {
        json!({
            "Node": {"Node": "n1", "Meta": {"rack": "r1", "env": ""}},
            "Service": {"ID": "web-1", "Service": "web", "Tags": ["prod", "v2"], "Port": 8080,
                        "EnableTagOverride": false},
            "Checks": [{"CheckID": "serfHealth", "Status": "passing"},
                       {"CheckID": "web", "Status": "critical"}]
        })
    }

    fn check(expr: &str) -> bool {
        Filter::parse(expr)
            .unwrap_or_else(|e| panic!("{expr}: {e}"))
            .matches(&entry())
    }

    #[test]
    fn comparisons() {
        assert!(check(r#"Service.Service == "web""#));
        assert!(check("Service.Service == `web`"));
        assert!(!check(r#"Service.Service != "web""#));
        assert!(check("Service.Port == 8080"));
        assert!(check("Service.EnableTagOverride == false"));
        assert!(check(r#"Node.Meta.rack == "r1""#));
        assert!(check(r#"Node.Meta["rack"] == "r1""#));
        assert!(check(r#""/Node/Meta/rack" == "r1""#));
        assert!(
            check(r#"service.service == "web""#),
            "field names ignore case"
        );
    }

    #[test]
    fn membership_emptiness_and_regex() {
        assert!(check(r#""prod" in Service.Tags"#));
        assert!(check(r#""dev" not in Service.Tags"#));
        assert!(check(r#"Service.Tags contains "v2""#));
        assert!(check(r#"Service.Tags not contains "v3""#));
        assert!(check(r#""rack" in Node.Meta"#));
        assert!(check("Node.Meta.env is empty"));
        assert!(check("Node.Meta.missing is empty"));
        assert!(check("Service.Tags is not empty"));
        assert!(check(r#"Service.ID matches "^web-[0-9]+$""#));
        assert!(check(r#"Service.ID not matches "^db""#));
        assert!(
            check(r#"Checks.Status == "critical""#),
            "any element of a list"
        );
        assert!(check("Checks.Status == critical"), "bare words are values");
    }

    #[test]
    fn boolean_structure() {
        assert!(check(
            r#"Service.Service == "web" and "prod" in Service.Tags"#
        ));
        assert!(check(r#"Service.Service == "db" or Service.Port == 8080"#));
        assert!(check(r#"not Service.Service == "db""#));
        assert!(check(
            r#"(Service.Service == "db" or Service.Service == "web") and not Service.Tags is empty"#
        ));
        assert!(!check(
            r#"Service.Service == "web" and not ("prod" in Service.Tags)"#
        ));
    }

    #[test]
    fn malformed_expressions_are_errors() {
        for expr in [
            "not a valid expression((",
            "",
            "Service ==",
            "Service.",
            "== 1",
            "\"open",
            "A matches \"(\"",
            "A is full",
            "(A == 1",
            // go-bexpr's bare values have no `-` (Consul's api tests refuse this one).
            "Tags[\"dc\"] == invalid-bexpr-value",
        ] {
            let error = Filter::parse(expr).unwrap_err();
            assert!(
                error
                    .to_string()
                    .starts_with("Failed to create boolean expression evaluator")
            );
        }
    }

    proptest! {
        #[test]
        fn never_panics(expr in "\\PC{0,40}") {
            if let Ok(filter) = Filter::parse(&expr) {
                let _ = filter.matches(&entry());
            }
        }

        #[test]
        fn never_panics_on_filter_like_text(expr in "[A-Za-z\\.\\[\\]\"` ()=!0-9]{0,30}( (and|or|not|in|is|empty|contains|matches) [A-Za-z\"`. ()=!]{0,10}){0,4}") {
            if let Ok(filter) = Filter::parse(&expr) {
                let _ = filter.matches(&entry());
            }
        }
    }
}
