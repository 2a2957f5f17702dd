//! Reading, parsing and checking configuration files.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::merge::{merge, normalize_blocks};
use crate::model::FileConfig;

/// Where configuration comes from, in the order given on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    /// `-config-file`: one HCL or JSON file.
    File(PathBuf),
    /// `-config-dir`: every `*.hcl` and `*.json` in it, alphabetically, not recursive.
    Dir(PathBuf),
}

/// A configuration problem, with the file and the key it is about.
#[derive(Debug, thiserror::Error)]
#[error("{}{}{message}", file.as_ref().map(|f| format!("{}: ", f.display())).unwrap_or_default(), key.as_ref().map(|k| format!("{k}: ")).unwrap_or_default())]
pub struct ConfigError {
    pub file: Option<PathBuf>,
    pub key: Option<String>,
    pub message: String,
}

impl ConfigError {
    fn in_file(file: &Path, key: Option<String>, message: impl Into<String>) -> ConfigError {
        ConfigError {
            file: Some(file.to_path_buf()),
            key,
            message: message.into(),
        }
    }
}

/// Loads, checks and merges every source, in order.
pub fn load(sources: &[ConfigSource]) -> Result<FileConfig, ConfigError> {
    let mut files_read = Vec::new();
    for path in files(sources)? {
        let text = std::fs::read_to_string(&path)
            .map_err(|error| ConfigError::in_file(&path, None, format!("cannot read: {error}")))?;
        files_read.push((path, text));
    }
    load_texts(&files_read)
}

/// Checks and merges configuration already read: each file's name (its extension says
/// HCL or JSON) and text, in order. [`load`] reads the files and calls this; it is apart
/// so the parsing can be driven with any text (the fuzz targets and properties).
pub fn load_texts(files: &[(PathBuf, String)]) -> Result<FileConfig, ConfigError> {
    let mut merged = Value::Object(Default::default());
    let mut ignored = std::collections::BTreeSet::new();
    for (path, text) in files {
        let path = path.as_path();
        let mut parsed = parse_text(path, text)?;
        ignored.extend(crate::compat::apply(&mut parsed).ignored);
        check(path, &parsed)?;
        merge(&mut merged, parsed);
    }
    let mut config: FileConfig = serde_json::from_value(merged).map_err(|error| ConfigError {
        file: None,
        key: None,
        message: error.to_string(),
    })?;
    ignored.extend(
        config
            .connect
            .ca_config
            .other
            .keys()
            .map(|key| format!("connect.ca_config.{key}")),
    );
    config.ignored = ignored.into_iter().collect();
    Ok(config)
}

/// The files the sources name, directories expanded.
fn files(sources: &[ConfigSource]) -> Result<Vec<PathBuf>, ConfigError> {
    let mut files = Vec::new();
    for source in sources {
        match source {
            ConfigSource::File(path) => files.push(path.clone()),
            ConfigSource::Dir(dir) => {
                let entries = std::fs::read_dir(dir).map_err(|error| {
                    ConfigError::in_file(dir, None, format!("cannot read directory: {error}"))
                })?;
                let mut found: Vec<PathBuf> = entries
                    .filter_map(|entry| entry.ok().map(|entry| entry.path()))
                    .filter(|path| path.is_file())
                    .filter(|path| matches!(extension(path), Some("json" | "hcl")))
                    .collect();
                found.sort();
                files.extend(found);
            }
        }
    }
    Ok(files)
}

fn extension(path: &Path) -> Option<&str> {
    path.extension().and_then(|extension| extension.to_str())
}

/// Parses one file's text, by its extension, into a JSON value with its blocks
/// normalized.
fn parse_text(path: &Path, text: &str) -> Result<Value, ConfigError> {
    let mut value: Value = match extension(path) {
        // An empty file is an empty configuration, as Consul reads it (tools create the
        // file first and fill it before a reload).
        Some("json" | "hcl") if text.trim().is_empty() => Value::Object(Default::default()),
        Some("json") => serde_json::from_str(text)
            .map_err(|error| ConfigError::in_file(path, None, format!("invalid JSON: {error}")))?,
        Some("hcl") => hcl::from_str(text)
            .map_err(|error| ConfigError::in_file(path, None, format!("invalid HCL: {error}")))?,
        _ => {
            return Err(ConfigError::in_file(
                path,
                None,
                "unknown format: configuration files must end in .json or .hcl",
            ));
        }
    };
    if !value.is_object() {
        return Err(ConfigError::in_file(
            path,
            None,
            "the top level must be an object",
        ));
    }
    normalize_blocks(&mut value);
    Ok(value)
}

/// Checks one file on its own, so that an error names the file and the key.
fn check(path: &Path, value: &Value) -> Result<(), ConfigError> {
    let config: FileConfig = serde_path_to_error::deserialize(value).map_err(|error| {
        let key = error.path().to_string();
        ConfigError::in_file(
            path,
            (key != ".").then_some(key),
            error.into_inner().to_string(),
        )
    })?;
    config
        .service_registrations()
        .map_err(|message| ConfigError::in_file(path, None, message))?;
    config
        .check_registrations()
        .map_err(|message| ConfigError::in_file(path, None, message))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn hcl_and_json_merge_in_order_and_dirs_are_alphabetical() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "b.json",
            r#"{"datacenter": "dc-b", "service": {"name": "two", "port": 2}}"#,
        );
        write(
            dir.path(),
            "a.hcl",
            "datacenter = \"dc-a\"\nnode_name = \"n1\"\nports {\n  http = 18500\n}\nservice {\n  name = \"one\"\n  port = 1\n  check {\n    http = \"http://127.0.0.1/\"\n    interval = \"10s\"\n  }\n}\n",
        );
        write(dir.path(), "ignored.txt", "not config");
        let config = load(&[ConfigSource::Dir(dir.path().to_path_buf())]).unwrap();
        assert_eq!(
            config.datacenter.as_deref(),
            Some("dc-b"),
            "later files win"
        );
        assert_eq!(config.node_name.as_deref(), Some("n1"));
        assert_eq!(config.ports.http, Some(18500));
        let services = config.service_registrations().unwrap();
        let names: Vec<&str> = services.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["one", "two"]);
        assert_eq!(
            services[0].check.as_ref().unwrap().http.as_deref(),
            Some("http://127.0.0.1/")
        );
    }

    #[test]
    fn telemetry_keys_are_read_and_other_sinks_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let file = write(
            dir.path(),
            "telemetry.hcl",
            "telemetry {\n  prometheus_retention_time = \"60s\"\n  disable_hostname = true\n  metrics_prefix = \"pc\"\n  statsd_address = \"127.0.0.1:8125\"\n}\n",
        );
        // A name with a dot in it is JSON's to write.
        let json = write(
            dir.path(),
            "compat.json",
            r#"{"telemetry": {"disable_compat_1.9": true}}"#,
        );
        let config = load(&[ConfigSource::File(file), ConfigSource::File(json)]).unwrap();
        let telemetry = &config.telemetry;
        assert_eq!(telemetry.disable_compat_1_9, Some(true));
        assert_eq!(
            telemetry.prometheus_retention_time.map(|d| d.0),
            Some(std::time::Duration::from_secs(60))
        );
        assert_eq!(telemetry.disable_hostname, Some(true));
        assert_eq!(telemetry.metrics_prefix.as_deref(), Some("pc"));
        assert_eq!(config.ignored, ["telemetry.statsd_address"]);
    }

    #[test]
    fn ui_config_is_read_and_legacy_ui_keys_move_into_it() {
        let dir = tempfile::tempdir().unwrap();
        let modern = write(
            dir.path(),
            "ui.hcl",
            "ui_config {\n  enabled = true\n  content_path = \"/consul/\"\n  metrics_provider = \"prometheus\"\n}\n",
        );
        let config = load(&[ConfigSource::File(modern)]).unwrap();
        assert_eq!(config.ui_config.enabled, Some(true));
        assert_eq!(config.ui_config.content_path.as_deref(), Some("/consul/"));
        assert_eq!(config.ignored, ["ui_config.metrics_provider"]);

        let legacy = write(
            dir.path(),
            "legacy.json",
            r#"{"ui": true, "ui_content_path": "/old/", "ui_dir": "/srv/ui"}"#,
        );
        let config = load(&[ConfigSource::File(legacy)]).unwrap();
        assert_eq!(config.ui_config.enabled, Some(true));
        assert_eq!(config.ui_config.content_path.as_deref(), Some("/old/"));
        assert_eq!(config.ignored, ["ui_config.dir"]);
    }

    /// The file HashiCorp's sdk/testutil (v0.18.2) writes for `consul agent -config-file`.
    #[test]
    fn the_go_sdk_test_server_file_loads() {
        let dir = tempfile::tempdir().unwrap();
        let file = write(
            dir.path(),
            "config.json",
            r#"{"node_name":"node-6f0c","node_id":"6f0c1e0e-6a55-4f7e-9d43-1d1e5a3c7b1a",
                "performance":{"raft_multiplier":1},"bootstrap":true,"server":true,
                "data_dir":"/tmp/x/data","segments":null,"disable_update_check":true,
                "log_level":"debug","bind_addr":"127.0.0.1","addresses":{},
                "ports":{"dns":1,"http":2,"https":3,"serf_lan":4,"serf_wan":5,"server":6,"grpc":7,"grpc_tls":8},
                "acl":{"enabled":true,"tokens":{"master":"root","agent_master":"rec"}},
                "acl_datacenter":"dc1","ca_file":"/ca.pem","verify_incoming":true,
                "connect":{"enabled":true,"ca_config":{"cluster_id":"11111111-2222-3333-4444-555555555555","private_key_type":"ec"}},
                "skip_leave_on_interrupt":true,"peering":{"enabled":true},"version":"1.22.0",
                "node_meta":{"rack":"r1"}}"#,
        );
        let config = load(&[ConfigSource::File(file)]).unwrap();
        assert_eq!(config.ports.http, Some(2));
        assert_eq!(config.ports.dns, Some(1));
        assert_eq!(config.ports.server, Some(6));
        assert_eq!(
            config.node_id.as_deref(),
            Some("6f0c1e0e-6a55-4f7e-9d43-1d1e5a3c7b1a")
        );
        assert_eq!(config.node_meta["rack"], "r1");
        assert_eq!(config.connect.enabled, Some(true));
        assert_eq!(
            config.connect.ca_config.cluster_id.as_deref(),
            Some("11111111-2222-3333-4444-555555555555")
        );
        assert_eq!(config.acl.enabled, Some(true));
        assert_eq!(
            config.acl.tokens.initial_management.as_deref(),
            Some("root")
        );
        assert_eq!(config.acl.tokens.agent_recovery.as_deref(), Some("rec"));
        assert_eq!(config.primary_datacenter.as_deref(), Some("dc1"));
        assert_eq!(
            config.ignored,
            [
                "connect.ca_config.private_key_type",
                "disable_update_check",
                "peering",
                "ports.grpc",
                "ports.grpc_tls",
                "version"
            ]
        );
        assert_eq!(config.ports.serf_lan, Some(4));
        assert_eq!(config.ports.serf_wan, Some(5));
        assert_eq!(config.skip_leave_on_interrupt, Some(true));
        // The HTTPS port and the TLS settings are read (the legacy names renamed).
        assert_eq!(config.ports.https, Some(3));
        assert_eq!(config.tls.https().ca_file.as_deref(), Some("/ca.pem"));
        assert_eq!(config.tls.https().verify_incoming, Some(true));
    }

    #[test]
    fn the_acl_block_in_hcl_and_json() {
        use crate::{AclDefaultPolicy, AclDownPolicy};
        let dir = tempfile::tempdir().unwrap();
        let hcl = write(
            dir.path(),
            "acl.hcl",
            "primary_datacenter = \"dc1\"\nacl {\n  enabled = true\n  default_policy = \"deny\"\n  down_policy = \"async-cache\"\n  enable_key_list_policy = true\n  enable_token_persistence = true\n  enable_token_replication = false\n  token_ttl = \"1m\"\n  policy_ttl = \"2m\"\n  role_ttl = \"3m\"\n  tokens {\n    initial_management = \"root\"\n    default = \"d\"\n    agent = \"a\"\n    agent_recovery = \"r\"\n    dns = \"n\"\n    replication = \"p\"\n    config_file_service_registration = \"c\"\n  }\n}\n",
        );
        let config = load(&[ConfigSource::File(hcl)]).unwrap();
        let acl = &config.acl;
        assert_eq!(config.primary_datacenter.as_deref(), Some("dc1"));
        assert_eq!(acl.enabled, Some(true));
        assert_eq!(acl.default_policy, Some(AclDefaultPolicy::Deny));
        assert_eq!(acl.down_policy, Some(AclDownPolicy::AsyncCache));
        assert_eq!(acl.enable_key_list_policy, Some(true));
        assert_eq!(acl.enable_token_persistence, Some(true));
        assert_eq!(acl.enable_token_replication, Some(false));
        assert_eq!(
            acl.token_ttl.map(|d| d.0),
            Some(std::time::Duration::from_secs(60))
        );
        assert_eq!(
            acl.role_ttl.map(|d| d.0),
            Some(std::time::Duration::from_secs(180))
        );
        let tokens = &acl.tokens;
        assert_eq!(tokens.initial_management.as_deref(), Some("root"));
        assert_eq!(tokens.default.as_deref(), Some("d"));
        assert_eq!(tokens.agent.as_deref(), Some("a"));
        assert_eq!(tokens.agent_recovery.as_deref(), Some("r"));
        assert_eq!(tokens.dns.as_deref(), Some("n"));
        assert_eq!(tokens.replication.as_deref(), Some("p"));
        assert_eq!(
            tokens.config_file_service_registration.as_deref(),
            Some("c")
        );
        assert!(config.ignored.is_empty(), "{:?}", config.ignored);

        // JSON, legacy names, and a later file overriding one key.
        let json = write(
            dir.path(),
            "acl.json",
            r#"{"acl_datacenter": "east", "acl_default_policy": "allow",
                "acl": {"enabled": true, "tokens": {"master": "m", "agent_master": "am"}},
                "acl_token": "t", "acl_enable_key_list_policy": true,
                "acl_down_policy": "extend-cache"}"#,
        );
        let later = write(
            dir.path(),
            "later.json",
            r#"{"acl": {"tokens": {"default": "u"}, "msp_disable_bootstrap": true}}"#,
        );
        let config = load(&[ConfigSource::File(json), ConfigSource::File(later)]).unwrap();
        let acl = &config.acl;
        assert_eq!(config.primary_datacenter.as_deref(), Some("east"));
        assert_eq!(acl.default_policy, Some(AclDefaultPolicy::Allow));
        assert_eq!(acl.down_policy, Some(AclDownPolicy::ExtendCache));
        assert_eq!(acl.enable_key_list_policy, Some(true));
        assert_eq!(acl.tokens.initial_management.as_deref(), Some("m"));
        assert_eq!(acl.tokens.agent_recovery.as_deref(), Some("am"));
        assert_eq!(acl.tokens.default.as_deref(), Some("u"), "later files win");
        assert_eq!(config.ignored, ["acl.msp_disable_bootstrap"]);

        // Nothing set: every field unset (the agent applies Consul's defaults).
        let empty = write(dir.path(), "empty.hcl", "acl {}\n");
        assert_eq!(
            load(&[ConfigSource::File(empty)]).unwrap().acl,
            crate::AclFile::default()
        );
    }

    #[test]
    fn acl_mistakes_name_their_key() {
        let dir = tempfile::tempdir().unwrap();
        for (name, text, key) in [
            ("typo.json", r#"{"acl": {"enabeld": true}}"#, "acl.enabeld"),
            (
                "token.hcl",
                "acl {\n  tokens {\n    bogus = \"x\"\n  }\n}\n",
                "acl.tokens.bogus",
            ),
            (
                "policy.json",
                r#"{"acl": {"default_policy": "maybe"}}"#,
                "acl.default_policy",
            ),
            (
                "down.json",
                r#"{"acl": {"down_policy": "extend"}}"#,
                "acl.down_policy",
            ),
            (
                "ttl.json",
                r#"{"acl": {"token_ttl": "soon"}}"#,
                "acl.token_ttl",
            ),
            (
                "enabled.json",
                r#"{"acl": {"enabled": "yes"}}"#,
                "acl.enabled",
            ),
        ] {
            let file = write(dir.path(), name, text);
            let error = load(&[ConfigSource::File(file)]).unwrap_err();
            assert_eq!(error.key.as_deref(), Some(key), "{name}: {error}");
            assert!(error.to_string().contains(name), "{error}");
        }
    }

    #[test]
    fn repeated_blocks_and_plural_lists() {
        let dir = tempfile::tempdir().unwrap();
        let file = write(
            dir.path(),
            "s.hcl",
            "service {\n  name = \"a\"\n}\nservice {\n  name = \"b\"\n}\nchecks = [{ name = \"c\", ttl = \"30s\" }]\n",
        );
        let config = load(&[ConfigSource::File(file)]).unwrap();
        assert_eq!(config.service_registrations().unwrap().len(), 2);
        assert_eq!(
            config.check_registrations().unwrap()[0].ttl.as_deref(),
            Some("30s")
        );
    }

    #[test]
    fn unknown_keys_and_bad_values_name_the_file_and_key() {
        let dir = tempfile::tempdir().unwrap();
        let typo = write(dir.path(), "typo.json", r#"{"ports": {"htp": 1}}"#);
        let error = load(&[ConfigSource::File(typo)]).unwrap_err();
        assert!(error.to_string().contains("typo.json"), "{error}");
        assert_eq!(error.key.as_deref(), Some("ports.htp"), "{error}");
        assert!(error.message.contains("htp"), "{error}");

        let unix = write(
            dir.path(),
            "unix.json",
            r#"{"addresses": {"http": "unix:///run/consul.sock", "dns": "127.0.0.2"}}"#,
        );
        let config = load(&[ConfigSource::File(unix)]).unwrap();
        assert_eq!(
            config.addresses.http,
            Some(crate::HttpAddress::Unix("/run/consul.sock".into()))
        );
        let not_an_address = write(dir.path(), "na.json", r#"{"addresses": {"http": "x"}}"#);
        let error = load(&[ConfigSource::File(not_an_address)]).unwrap_err();
        assert_eq!(error.key.as_deref(), Some("addresses.http"), "{error}");

        let bad = write(dir.path(), "bad.hcl", "client_addr = \"not an ip\"\n");
        let error = load(&[ConfigSource::File(bad)]).unwrap_err();
        assert_eq!(error.key.as_deref(), Some("client_addr"), "{error}");

        let service = write(
            dir.path(),
            "svc.json",
            r#"{"service": {"name": "x", "port": "eighty"}}"#,
        );
        let error = load(&[ConfigSource::File(service)]).unwrap_err();
        assert!(error.to_string().contains("services[0]"), "{error}");

        let broken = write(dir.path(), "broken.hcl", "datacenter = \n");
        assert!(
            load(&[ConfigSource::File(broken)])
                .unwrap_err()
                .to_string()
                .contains("invalid HCL")
        );
        let other = write(dir.path(), "conf.yaml", "a: b");
        assert!(
            load(&[ConfigSource::File(other)])
                .unwrap_err()
                .to_string()
                .contains("unknown format")
        );
        let unknown = write(
            dir.path(),
            "unknown.json",
            r#"{"connect": {"enabled": true}, "performance": {"raft_multiplier": 1, "bogus": 2}}"#,
        );
        let error = load(&[ConfigSource::File(unknown)]).unwrap_err();
        assert!(error.to_string().contains("unknown.json"), "{error}");
        assert_eq!(error.key.as_deref(), Some("performance.bogus"), "{error}");

        let empty = write(dir.path(), "empty.json", "\n");
        assert_eq!(
            load(&[ConfigSource::File(empty)]).unwrap(),
            FileConfig::default()
        );

        let missing = dir.path().join("missing.json");
        assert!(load(&[ConfigSource::File(missing)]).is_err());
    }

    #[test]
    fn the_log_keys_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let hcl = write(
            dir.path(),
            "log.hcl",
            "log_level = \"debug\"\nlog_json = true\nlog_file = \"/var/log/consul/\"\nlog_rotate_bytes = 1048576\nlog_rotate_duration = \"1h\"\nlog_rotate_max_files = -1\n",
        );
        let config = load(&[ConfigSource::File(hcl)]).unwrap();
        assert_eq!(config.log_level.as_deref(), Some("debug"));
        assert_eq!(config.log_json, Some(true));
        assert_eq!(config.log_file.as_deref(), Some("/var/log/consul/"));
        assert_eq!(config.log_rotate_bytes, Some(1_048_576));
        assert_eq!(
            config.log_rotate_duration.map(|d| d.0),
            Some(std::time::Duration::from_secs(3600))
        );
        assert_eq!(config.log_rotate_max_files, Some(-1));
        assert!(config.ignored.is_empty(), "{:?}", config.ignored);
    }
}
