//! Consul's configuration keys that Proconsul does not act on, and Consul's legacy key
//! names. Two declarative tables:
//!
//! - [`LEGACY_RENAMES`]: old names Consul still reads, moved to their modern name before
//!   anything else looks at the file (`acl.tokens.master` is
//!   `acl.tokens.initial_management`);
//! - [`IGNORED`]: keys Consul knows and Proconsul does not implement. They are accepted
//!   (whatever their value) and removed before the file is checked against
//!   [`FileConfig`](crate::FileConfig), and the agent names them in one warning at
//!   start-up. A value that asks for nothing (a port of `-1`, `false`, an empty list or
//!   object, `null`) is accepted without a warning.
//!
//! Any other key Consul does not know is still refused, naming its file and key path.

use serde_json::{Map, Value};

/// `(legacy, modern)` dotted key paths. The modern name wins when a file has both.
pub const LEGACY_RENAMES: &[(&str, &str)] = &[
    ("acl.tokens.master", "acl.tokens.initial_management"),
    ("acl.tokens.agent_master", "acl.tokens.agent_recovery"),
    ("acl_datacenter", "primary_datacenter"),
    ("acl_default_policy", "acl.default_policy"),
    ("acl_down_policy", "acl.down_policy"),
    ("acl_enable_key_list_policy", "acl.enable_key_list_policy"),
    ("acl_ttl", "acl.token_ttl"),
    ("acl_master_token", "acl.tokens.initial_management"),
    ("acl_agent_master_token", "acl.tokens.agent_recovery"),
    ("acl_agent_token", "acl.tokens.agent"),
    ("acl_token", "acl.tokens.default"),
    ("acl_replication_token", "acl.tokens.replication"),
    ("enable_acl_replication", "acl.enable_token_replication"),
    ("ca_file", "tls.defaults.ca_file"),
    ("ca_path", "tls.defaults.ca_path"),
    ("cert_file", "tls.defaults.cert_file"),
    ("key_file", "tls.defaults.key_file"),
    ("tls_min_version", "tls.defaults.tls_min_version"),
    ("tls_cipher_suites", "tls.defaults.tls_cipher_suites"),
    ("verify_incoming", "tls.defaults.verify_incoming"),
    ("verify_outgoing", "tls.defaults.verify_outgoing"),
    ("verify_incoming_rpc", "tls.internal_rpc.verify_incoming"),
    ("verify_incoming_https", "tls.https.verify_incoming"),
    (
        "verify_server_hostname",
        "tls.internal_rpc.verify_server_hostname",
    ),
    ("ui", "ui_config.enabled"),
    ("ui_content_path", "ui_config.content_path"),
    ("ui_dir", "ui_config.dir"),
];

/// Dotted key paths Consul knows and Proconsul accepts without acting on them. A path
/// covers everything below it (`connect` covers `connect.ca_config.cluster_id`).
pub const IGNORED: &[&str] = &[
    // Access control: Enterprise-only ACL settings, and a TTL Consul no longer reads.
    "acl.disabled_ttl",
    "acl.msp_disable_bootstrap",
    "acl.tokens.managed_service_provider",
    // Service mesh (`connect.enabled` and `connect.ca_config.cluster_id` are read: they
    // decide whether `/v1/connect/ca/roots` lists a root, and its trust domain),
    // peering, partitions and network segments.
    "connect.ca_provider",
    "connect.enable_mesh_gateway_wan_federation",
    "connect.enable_serverless_plugin",
    "connect.mesh_gateway_wan_federation",
    "peering",
    "partition",
    "segments",
    "segment",
    "primary_gateways",
    "ports.grpc",
    "ports.grpc_tls",
    "ports.proxy_min_port",
    "ports.proxy_max_port",
    "ports.sidecar_min_port",
    "ports.sidecar_max_port",
    "ports.expose_min_port",
    "ports.expose_max_port",
    // TLS on gRPC (the HTTPS API's and server RPC's `tls.defaults`, `tls.https` and
    // `tls.internal_rpc` are read; the legacy top-level names are renamed into `tls`).
    "tls.grpc",
    "addresses.grpc",
    "addresses.grpc_tls",
    "auto_encrypt",
    "auto_config",
    // Connection, request-rate and handshake limits (`limits.kv_max_value_size` is read).
    "limits.http_max_conns_per_client",
    "limits.https_handshake_timeout",
    "limits.rpc_handshake_timeout",
    "limits.rpc_client_timeout",
    "limits.rpc_max_burst",
    "limits.rpc_max_conns_per_client",
    "limits.rpc_rate",
    "limits.txn_max_req_len",
    "limits.request_limits",
    // Operations Proconsul has no counterpart for.
    "disable_update_check",
    "enable_debug",
    "audit",
    "experiments",
    "raft_protocol",
    "locality",
    // Metrics sinks other than Prometheus, and metric filtering (`telemetry`'s
    // `metrics_prefix`, `disable_hostname` and `prometheus_retention_time` are read).
    "telemetry.circonus_api_app",
    "telemetry.circonus_api_token",
    "telemetry.circonus_api_url",
    "telemetry.circonus_broker_id",
    "telemetry.circonus_broker_select_tag",
    "telemetry.circonus_check_display_name",
    "telemetry.circonus_check_force_metric_activation",
    "telemetry.circonus_check_id",
    "telemetry.circonus_check_instance_id",
    "telemetry.circonus_check_search_tag",
    "telemetry.circonus_check_tags",
    "telemetry.circonus_submission_interval",
    "telemetry.circonus_submission_url",
    "telemetry.dogstatsd_addr",
    "telemetry.dogstatsd_tags",
    "telemetry.enable_host_metrics",
    "telemetry.filter_default",
    "telemetry.prefix_filter",
    "telemetry.retry_failed_connection",
    "telemetry.statsd_address",
    "telemetry.statsite_address",
    "telemetry.disable_per_tenancy_usage_metrics",
    // The UI's metrics graphs, dashboard links and a UI served from a directory
    // (`ui_config.enabled` and `content_path` are read).
    "ui_config.dir",
    "ui_config.metrics_provider",
    "ui_config.metrics_provider_files",
    "ui_config.metrics_provider_options_json",
    "ui_config.metrics_proxy",
    "ui_config.dashboard_url_templates",
    "license_path",
    "reporting",
    // Build facts a configuration may carry (sdk/testutil writes `version`).
    "version",
    "version_prerelease",
    "version_metadata",
];

/// What [`apply`] did to one file.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Applied {
    /// Ignored keys present with a value that asks for something.
    pub ignored: Vec<String>,
}

/// Renames legacy keys, then removes the ignored ones, reporting those that ask for
/// something.
pub fn apply(value: &mut Value) -> Applied {
    for (legacy, modern) in LEGACY_RENAMES {
        rename(value, legacy, modern);
    }
    let mut applied = Applied::default();
    for path in IGNORED {
        if let Some(found) = take(value, path)
            && !asks_nothing(&found)
        {
            applied.ignored.push((*path).to_string());
        }
    }
    applied
}

/// Moves `legacy` to `modern`, unless `modern` is set too (then it wins).
fn rename(value: &mut Value, legacy: &str, modern: &str) {
    if let Some(found) = take(value, legacy)
        && get(value, modern).is_none()
    {
        put(value, modern, found);
    }
}

/// `-1` (a disabled port), `false`, `null`, `""`, `[]` and `{}` ask for nothing; so does
/// an object whose every value asks for nothing.
fn asks_nothing(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Bool(on) => !on,
        Value::Number(number) => number.as_i64() == Some(-1),
        Value::String(text) => text.is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.values().all(asks_nothing),
    }
}

fn get<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.')
        .try_fold(value, |value, key| value.as_object()?.get(key))
}

/// Removes the value at `path`, and any object it leaves empty on the way up.
fn take(value: &mut Value, path: &str) -> Option<Value> {
    let (parent_path, key) = match path.rsplit_once('.') {
        Some((parent, key)) => (Some(parent), key),
        None => (None, path),
    };
    let parent = match parent_path {
        Some(parent_path) => parent_path.split('.').try_fold(&mut *value, |value, key| {
            value.as_object_mut()?.get_mut(key)
        })?,
        None => &mut *value,
    };
    let found = parent.as_object_mut()?.remove(key)?;
    if let Some(parent_path) = parent_path
        && get(value, parent_path)
            .and_then(Value::as_object)
            .is_some_and(Map::is_empty)
    {
        take(value, parent_path);
    }
    Some(found)
}

/// Sets `path`, creating the objects on the way. A non-object on the way is replaced.
fn put(value: &mut Value, path: &str, new: Value) {
    let mut slot = value;
    for key in path.split('.') {
        if !slot.is_object() {
            *slot = Value::Object(Map::new());
        }
        slot = slot
            .as_object_mut()
            .expect("just made an object")
            .entry(key)
            .or_insert(Value::Null);
    }
    *slot = new;
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn legacy_names_move_to_their_modern_name() {
        let mut value = json!({
            "acl": {"enabled": true, "tokens": {"master": "root", "agent_master": "rec"}},
            "acl_datacenter": "dc9",
            "ca_file": "/ca.pem",
            "verify_server_hostname": true,
        });
        let mut renamed = value.clone();
        for (legacy, modern) in LEGACY_RENAMES {
            rename(&mut renamed, legacy, modern);
        }
        assert_eq!(
            renamed,
            json!({
                "acl": {"enabled": true, "tokens": {"initial_management": "root", "agent_recovery": "rec"}},
                "primary_datacenter": "dc9",
                "tls": {"defaults": {"ca_file": "/ca.pem"}, "internal_rpc": {"verify_server_hostname": true}},
            })
        );
        // and then read under their modern names
        let applied = apply(&mut value);
        assert_eq!(value, renamed);
        assert!(applied.ignored.is_empty());
    }

    #[test]
    fn the_modern_name_wins() {
        let mut value = json!({"acl_datacenter": "old", "primary_datacenter": "new"});
        rename(&mut value, "acl_datacenter", "primary_datacenter");
        assert_eq!(value, json!({"primary_datacenter": "new"}));
    }

    #[test]
    fn ignored_keys_are_removed_and_named_unless_they_ask_nothing() {
        let mut value = json!({
            "node_name": "n",
            "ports": {"http": 1, "grpc": -1, "serf_wan": 8302, "grpc_tls": 8503},
            "segments": null,
            "disable_update_check": true,
            "connect": {"enabled": true, "ca_provider": "consul"},
            "peering": {"enabled": false},
            "experiments": [],
        });
        let applied = apply(&mut value);
        assert_eq!(
            value,
            json!({"node_name": "n", "ports": {"http": 1, "serf_wan": 8302}, "connect": {"enabled": true}})
        );
        assert_eq!(
            applied.ignored,
            [
                "connect.ca_provider",
                "ports.grpc_tls",
                "disable_update_check"
            ]
        );
    }

    #[test]
    fn an_emptied_parent_is_removed() {
        let mut value = json!({"ports": {"grpc": 1}});
        apply(&mut value);
        assert_eq!(value, json!({}));
    }

    #[test]
    fn the_tables_are_consistent() {
        for (legacy, modern) in LEGACY_RENAMES {
            assert!(
                !IGNORED.contains(legacy),
                "{legacy} is renamed, so it cannot be ignored under its old name"
            );
            // every modern name of a legacy key is either implemented or ignored
            let ignored = IGNORED
                .iter()
                .any(|ignored| modern == ignored || modern.starts_with(&format!("{ignored}.")));
            let mut with_key = json!({});
            put(&mut with_key, modern, Value::Null);
            let implemented = serde_json::from_value::<crate::FileConfig>(with_key).is_ok();
            assert!(
                ignored || implemented,
                "{modern} is neither implemented nor ignored"
            );
        }
        let mut sorted = IGNORED.to_vec();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), IGNORED.len(), "a key is listed twice");
    }
}
