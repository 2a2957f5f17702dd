//! Configuration text from outside (files an operator wrote, or anything else) never
//! panics the loader: every input is a configuration or an error that names its file.
//! The same inputs run for minutes under cargo-fuzz (`crates/config/fuzz`).

use std::path::PathBuf;

use proconsul_config::load_texts;
use proptest::prelude::*;

/// A configuration using most sections, in HCL.
const SAMPLE_HCL: &str = r#"
datacenter = "dc1"
node_name = "web-1"
server = true
bootstrap_expect = 3
retry_join = ["127.0.0.2:8301"]
ports {
  http = 8500
  dns = 8600
}
acl {
  enabled = true
  default_policy = "deny"
  tokens {
    agent = "a"
  }
}
telemetry {
  prometheus_retention_time = "60s"
}
service {
  name = "web"
  port = 80
  check {
    ttl = "10s"
  }
}
"#;

/// The same kind of configuration in JSON.
const SAMPLE_JSON: &str = r#"{"datacenter": "dc1", "node_name": "n", "server": true,
"ports": {"http": 8500, "grpc": -1}, "acl": {"enabled": true, "token_ttl": "30s"},
"services": [{"name": "api", "tags": ["v1"], "checks": [{"http": "http://x", "interval": "5s"}]}],
"limits": {"http_max_conns_per_client": 200}, "encrypt": "c2VjcmV0c2VjcmV0c2VjcmV0"}"#;

/// Loads `text` as the one file `name`; the error, if any, must name the file.
fn load_named(name: &str, text: String) -> Result<(), TestCaseError> {
    let path = PathBuf::from(name);
    if let Err(error) = load_texts(&[(path, text)]) {
        prop_assert!(error.to_string().starts_with(name), "{error}");
    }
    Ok(())
}

/// `sample` with `edits` applied: each (position, byte) replaces, inserts or deletes.
fn mutated(sample: &str, edits: &[(usize, u8, u8)]) -> String {
    let mut bytes = sample.as_bytes().to_vec();
    for &(at, kind, byte) in edits {
        let at = at % (bytes.len() + 1);
        match kind % 3 {
            0 if at < bytes.len() => bytes[at] = byte,
            1 => bytes.insert(at, byte),
            _ if at < bytes.len() => {
                bytes.remove(at);
            }
            _ => {}
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        load_named("any.hcl", text.clone())?;
        load_named("any.json", text)?;
    }

    #[test]
    fn damaged_configurations_never_panic(
        edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..12)
    ) {
        load_named("edited.hcl", mutated(SAMPLE_HCL, &edits))?;
        load_named("edited.json", mutated(SAMPLE_JSON, &edits))?;
    }
}

#[test]
fn the_samples_themselves_load() {
    for (name, text) in [("s.hcl", SAMPLE_HCL), ("s.json", SAMPLE_JSON)] {
        let loaded = load_texts(&[(PathBuf::from(name), text.to_string())]);
        assert!(loaded.is_ok(), "{name}: {:?}", loaded.err());
    }
}
