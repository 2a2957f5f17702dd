//! `?filter=` expressions: any text parses or is refused, and what parses is evaluated
//! against a catalog-like entry without panicking.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use proconsul_filter::Filter;
use serde_json::{Value, json};

static ENTRY: LazyLock<Value> = LazyLock::new(|| {
    json!({"Node": "n1", "Address": "10.0.0.1", "ServiceName": "web",
           "ServiceTags": ["a", "b"], "ServicePort": 80, "ServiceMeta": {"v": "1"},
           "Checks": [{"Status": "passing", "Name": "c"}], "Weights": {"Passing": 1},
           "Empty": [], "Null": null})
});

fuzz_target!(|data: &[u8]| {
    if let Ok(filter) = Filter::parse(&String::from_utf8_lossy(data)) {
        let _ = filter.matches(&ENTRY);
    }
});
