//! Merging parsed files the way Consul does: maps merge key by key, lists are appended,
//! and any other value from a later file replaces the earlier one.

use serde_json::Value;

/// Merges `later` into `earlier`.
pub fn merge(earlier: &mut Value, later: Value) {
    match (earlier, later) {
        (Value::Object(into), Value::Object(from)) => {
            for (key, value) in from {
                match into.get_mut(&key) {
                    Some(existing) => merge(existing, value),
                    None => {
                        into.insert(key, value);
                    }
                }
            }
        }
        (Value::Array(into), Value::Array(from)) => into.extend(from),
        (slot, value) => *slot = value,
    }
}

/// Folds the singular block names into their plural lists: `service {}` (one block
/// parses as an object, several as a list) joins `services`, and `check` joins `checks`.
pub fn normalize_blocks(value: &mut Value) {
    let Value::Object(map) = value else {
        return;
    };
    for (singular, plural) in [("service", "services"), ("check", "checks")] {
        if let Some(found) = map.remove(singular) {
            let items = match found {
                Value::Array(items) => items,
                other => vec![other],
            };
            match map
                .entry(plural)
                .or_insert_with(|| Value::Array(Vec::new()))
            {
                Value::Array(list) => list.extend(items),
                other => {
                    let previous = std::mem::take(other);
                    *other = Value::Array(std::iter::once(previous).chain(items).collect());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scalars_replace_lists_append_maps_merge() {
        let mut base =
            json!({"datacenter": "a", "retry_join": ["x"], "ports": {"http": 1, "dns": 2}});
        merge(
            &mut base,
            json!({"datacenter": "b", "retry_join": ["y"], "ports": {"http": 3}}),
        );
        assert_eq!(
            base,
            json!({"datacenter": "b", "retry_join": ["x", "y"], "ports": {"http": 3, "dns": 2}})
        );
    }

    #[test]
    fn singular_blocks_join_the_plural_list() {
        let mut one = json!({"service": {"name": "a"}, "services": [{"name": "b"}], "check": [{"name": "c"}, {"name": "d"}]});
        normalize_blocks(&mut one);
        assert_eq!(one["services"], json!([{"name": "b"}, {"name": "a"}]));
        assert_eq!(one["checks"], json!([{"name": "c"}, {"name": "d"}]));
        assert!(one.get("service").is_none());
    }
}
