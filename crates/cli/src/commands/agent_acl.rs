//! The agent's ACL settings: the `acl { ... }` block of the configuration files (there
//! are no ACL flags) with Consul's defaults applied.

use proconsul_agent::{AclConfig, AclTokensConfig, DefaultPolicy, DownPolicy};
use proconsul_config::{AclDefaultPolicy, AclDownPolicy, AclFile};

/// `acl { ... }` over Consul's defaults. An empty token is no token, as in Consul.
pub fn acl_config(file: &AclFile) -> AclConfig {
    let defaults = AclConfig::default();
    let token = |value: &Option<String>| value.clone().filter(|token| !token.is_empty());
    let tokens = &file.tokens;
    AclConfig {
        enabled: file.enabled.unwrap_or(defaults.enabled),
        default_policy: match file.default_policy {
            None => defaults.default_policy,
            Some(AclDefaultPolicy::Allow) => DefaultPolicy::Allow,
            Some(AclDefaultPolicy::Deny) => DefaultPolicy::Deny,
        },
        down_policy: match file.down_policy {
            None => defaults.down_policy,
            Some(AclDownPolicy::Allow) => DownPolicy::Allow,
            Some(AclDownPolicy::Deny) => DownPolicy::Deny,
            Some(AclDownPolicy::ExtendCache) => DownPolicy::ExtendCache,
            Some(AclDownPolicy::AsyncCache) => DownPolicy::AsyncCache,
        },
        enable_key_list_policy: file
            .enable_key_list_policy
            .unwrap_or(defaults.enable_key_list_policy),
        enable_token_persistence: file
            .enable_token_persistence
            .unwrap_or(defaults.enable_token_persistence),
        enable_token_replication: file
            .enable_token_replication
            .unwrap_or(defaults.enable_token_replication),
        token_ttl: file.token_ttl.map_or(defaults.token_ttl, |d| d.0),
        policy_ttl: file.policy_ttl.map_or(defaults.policy_ttl, |d| d.0),
        role_ttl: file.role_ttl.map_or(defaults.role_ttl, |d| d.0),
        tokens: AclTokensConfig {
            initial_management: token(&tokens.initial_management),
            default: token(&tokens.default),
            agent: token(&tokens.agent),
            agent_recovery: token(&tokens.agent_recovery),
            dns: token(&tokens.dns),
            replication: token(&tokens.replication),
            config_file_service_registration: token(&tokens.config_file_service_registration),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consuls_defaults_and_file_values() {
        let defaults = acl_config(&AclFile::default());
        assert!(!defaults.enabled);
        assert_eq!(defaults.default_policy, DefaultPolicy::Allow);
        assert_eq!(defaults.down_policy, DownPolicy::ExtendCache);
        assert_eq!(defaults.token_ttl, std::time::Duration::from_secs(30));
        assert_eq!(defaults.tokens, AclTokensConfig::default());

        let file: AclFile = serde_json::from_value(serde_json::json!({
            "enabled": true, "default_policy": "deny", "down_policy": "deny",
            "token_ttl": "5s", "tokens": {"initial_management": "root", "default": ""},
        }))
        .unwrap();
        let config = acl_config(&file);
        assert!(config.enabled);
        assert_eq!(config.default_policy, DefaultPolicy::Deny);
        assert_eq!(config.down_policy, DownPolicy::Deny);
        assert_eq!(config.token_ttl, std::time::Duration::from_secs(5));
        assert_eq!(config.tokens.initial_management.as_deref(), Some("root"));
        assert_eq!(config.tokens.default, None, "an empty token is no token");
    }
}
