//! `autopilot { ... }`: the settings a new cluster's autopilot starts with (Consul reads
//! them when the cluster is bootstrapped; afterwards `operator autopilot set-config`
//! changes them). Unset keys keep Consul's defaults.

use proconsul_api::operator::AutopilotConfiguration;
use serde::Deserialize;

use crate::model::GoDuration;

/// `autopilot { ... }`, with Consul's key names.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AutopilotFile {
    pub cleanup_dead_servers: Option<bool>,
    pub last_contact_threshold: Option<GoDuration>,
    pub max_trailing_logs: Option<u64>,
    pub min_quorum: Option<u32>,
    pub server_stabilization_time: Option<GoDuration>,
    pub redundancy_zone_tag: Option<String>,
    pub disable_upgrade_migration: Option<bool>,
    pub upgrade_version_tag: Option<String>,
}

impl AutopilotFile {
    /// The configuration these settings describe, over Consul's defaults.
    pub fn configuration(&self) -> AutopilotConfiguration {
        let defaults = AutopilotConfiguration::default();
        AutopilotConfiguration {
            cleanup_dead_servers: self
                .cleanup_dead_servers
                .unwrap_or(defaults.cleanup_dead_servers),
            last_contact_threshold: self
                .last_contact_threshold
                .map_or(defaults.last_contact_threshold, |d| d.0),
            max_trailing_logs: self.max_trailing_logs.unwrap_or(defaults.max_trailing_logs),
            min_quorum: self.min_quorum.unwrap_or(defaults.min_quorum),
            server_stabilization_time: self
                .server_stabilization_time
                .map_or(defaults.server_stabilization_time, |d| d.0),
            redundancy_zone_tag: self.redundancy_zone_tag.clone().unwrap_or_default(),
            disable_upgrade_migration: self.disable_upgrade_migration.unwrap_or(false),
            upgrade_version_tag: self.upgrade_version_tag.clone().unwrap_or_default(),
            ..defaults
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn unset_keys_keep_consuls_defaults() {
        let file: AutopilotFile = serde_json::from_value(serde_json::json!({
            "server_stabilization_time": "3s", "max_trailing_logs": 10,
        }))
        .unwrap();
        let config = file.configuration();
        assert_eq!(config.server_stabilization_time, Duration::from_secs(3));
        assert_eq!(config.max_trailing_logs, 10);
        assert_eq!(config.last_contact_threshold, Duration::from_millis(200));
        assert!(config.cleanup_dead_servers);
        assert!(serde_json::from_value::<AutopilotFile>(serde_json::json!({"bogus": 1})).is_err());
    }
}
