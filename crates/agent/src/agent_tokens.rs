//! The agent's own ACL tokens (`acl.tokens.*`): the default token of requests that
//! carry none, the agent's token for its own writes, the recovery token, and the DNS,
//! replication and config-file registration tokens. They come from the configuration
//! files and can be replaced at run time with `PUT /v1/agent/token/:type`; with
//! `acl.enable_token_persistence` a token set that way is kept in
//! `<data_dir>/acl-tokens.json` (Consul's file and keys) and wins over the
//! configuration file's value at the next start, as in Consul.
//!
//! Read on every request (the default and recovery tokens), so the values are copied on
//! write: readers take no lock, and writers take turns on a mutex held only for the
//! change and its file write, never across an `.await`.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;

use serde::{Deserialize, Serialize};

use crate::acl_config::AclTokensConfig;

/// The file in the data dir.
pub const TOKENS_FILE: &str = "acl-tokens.json";

/// Which of the agent's tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentTokenKind {
    /// `default`: the token of requests that name none.
    Default,
    /// `agent`: the agent's own catalog writes (falls back to `default`).
    Agent,
    /// `agent_recovery`: `agent:write` on this agent without servers.
    AgentRecovery,
    /// `replication`: what a secondary datacenter replicates with.
    Replication,
    /// `config_file_service_registration`: services and checks from files (falls back
    /// to `default`).
    ConfigFileServiceRegistration,
    /// `dns`: the token DNS answers with (falls back to `default`).
    Dns,
}

const KINDS: [AgentTokenKind; 6] = [
    AgentTokenKind::Default,
    AgentTokenKind::Agent,
    AgentTokenKind::AgentRecovery,
    AgentTokenKind::Replication,
    AgentTokenKind::ConfigFileServiceRegistration,
    AgentTokenKind::Dns,
];

impl AgentTokenKind {
    /// The kind `PUT /v1/agent/token/:type` names, Consul's legacy aliases included.
    pub fn from_path(name: &str) -> Option<AgentTokenKind> {
        Some(match name {
            "default" | "acl_token" => AgentTokenKind::Default,
            "agent" | "acl_agent_token" => AgentTokenKind::Agent,
            "agent_recovery" | "agent_master" | "acl_agent_master_token" => {
                AgentTokenKind::AgentRecovery
            }
            "replication" | "acl_replication_token" => AgentTokenKind::Replication,
            "config_file_service_registration" => AgentTokenKind::ConfigFileServiceRegistration,
            "dns" | "dns_token" => AgentTokenKind::Dns,
            _ => return None,
        })
    }

    /// Its modern name, as in logs.
    pub fn name(self) -> &'static str {
        match self {
            AgentTokenKind::Default => "default",
            AgentTokenKind::Agent => "agent",
            AgentTokenKind::AgentRecovery => "agent_recovery",
            AgentTokenKind::Replication => "replication",
            AgentTokenKind::ConfigFileServiceRegistration => "config_file_service_registration",
            AgentTokenKind::Dns => "dns",
        }
    }

    fn slot(self) -> usize {
        self as usize
    }
}

/// Where a token's current value came from: only those set through the API are
/// persisted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Config,
    Api,
}

/// Why the tokens could not be loaded or saved.
#[derive(Debug, thiserror::Error)]
pub enum AgentTokensError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a token file: {source}")]
    Parse {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("failed to persist tokens to {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The file's shape: Consul's `persistedTokens` (legacy `agent_master` read too).
#[derive(Debug, Default, Serialize, Deserialize)]
struct Persisted {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    replication: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    agent_recovery: String,
    #[serde(default, skip_serializing)]
    agent_master: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    default: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    agent: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    config_file_service_registration: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    dns: String,
}

impl Persisted {
    fn field(&mut self, kind: AgentTokenKind) -> &mut String {
        match kind {
            AgentTokenKind::Default => &mut self.default,
            AgentTokenKind::Agent => &mut self.agent,
            AgentTokenKind::AgentRecovery => &mut self.agent_recovery,
            AgentTokenKind::Replication => &mut self.replication,
            AgentTokenKind::ConfigFileServiceRegistration => {
                &mut self.config_file_service_registration
            }
            AgentTokenKind::Dns => &mut self.dns,
        }
    }
}

type Slots = [Option<(String, Source)>; KINDS.len()];

/// The agent's tokens, shared by the HTTP API and the token resolver.
#[derive(Debug)]
pub struct AgentTokens {
    /// Read on every request (the recovery token is compared with each request's), set
    /// rarely: copied on write, so that readers on different cores share no lock.
    slots: ArcSwap<Slots>,
    /// `<data_dir>/acl-tokens.json` with `enable_token_persistence`.
    file: Option<PathBuf>,
    /// Serializes file writes (the slots' lock is not held while writing).
    writing: Mutex<()>,
}

/// The tokens a configuration sets.
fn config_slots(config: &AclTokensConfig) -> Slots {
    let mut slots: Slots = Default::default();
    for (kind, value) in [
        (AgentTokenKind::Default, &config.default),
        (AgentTokenKind::Agent, &config.agent),
        (AgentTokenKind::AgentRecovery, &config.agent_recovery),
        (AgentTokenKind::Replication, &config.replication),
        (
            AgentTokenKind::ConfigFileServiceRegistration,
            &config.config_file_service_registration,
        ),
        (AgentTokenKind::Dns, &config.dns),
    ] {
        slots[kind.slot()] = value
            .clone()
            .filter(|token| !token.is_empty())
            .map(|token| (token, Source::Config));
    }
    slots
}

impl AgentTokens {
    /// The tokens of the configuration files, without persistence.
    pub fn from_config(config: &AclTokensConfig) -> AgentTokens {
        AgentTokens {
            slots: ArcSwap::from_pointee(config_slots(config)),
            file: None,
            writing: Mutex::new(()),
        }
    }

    /// The configuration's tokens, then those persisted in `data_dir`, which win; later
    /// API changes are saved there.
    pub fn persisted(
        config: &AclTokensConfig,
        data_dir: &Path,
    ) -> Result<AgentTokens, AgentTokensError> {
        let path = data_dir.join(TOKENS_FILE);
        let mut slots = config_slots(config);
        match std::fs::read(&path) {
            Ok(bytes) => {
                let mut persisted: Persisted =
                    serde_json::from_slice(&bytes).map_err(|source| AgentTokensError::Parse {
                        path: path.clone(),
                        source,
                    })?;
                if persisted.agent_recovery.is_empty() {
                    persisted.agent_recovery = std::mem::take(&mut persisted.agent_master);
                }
                for kind in KINDS {
                    let value = std::mem::take(persisted.field(kind));
                    if !value.is_empty() {
                        slots[kind.slot()] = Some((value, Source::Api));
                    }
                }
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(AgentTokensError::Read { path, source }),
        }
        Ok(AgentTokens {
            slots: ArcSwap::from_pointee(slots),
            file: Some(path),
            writing: Mutex::new(()),
        })
    }

    /// The token of this kind as set (no fallback).
    pub fn get(&self, kind: AgentTokenKind) -> Option<String> {
        self.read()[kind.slot()]
            .as_ref()
            .map(|(token, _)| token.clone())
    }

    /// `acl.tokens.default`: the token of requests that name none.
    pub fn default_token(&self) -> Option<String> {
        self.get(AgentTokenKind::Default)
    }

    /// The token of the agent's own writes: `agent`, else `default`.
    pub fn agent_token(&self) -> Option<String> {
        self.with_default(AgentTokenKind::Agent)
    }

    /// The token DNS answers with: `dns`, else `default`.
    pub fn dns_token(&self) -> Option<String> {
        self.with_default(AgentTokenKind::Dns)
    }

    /// The token of registrations from configuration files:
    /// `config_file_service_registration`, else `default`.
    pub fn config_file_registration_token(&self) -> Option<String> {
        self.with_default(AgentTokenKind::ConfigFileServiceRegistration)
    }

    /// Whether `secret` is the agent recovery token.
    pub fn is_agent_recovery(&self, secret: &str) -> bool {
        self.read()[AgentTokenKind::AgentRecovery.slot()]
            .as_ref()
            .is_some_and(|(token, _)| token == secret)
    }

    /// Replaces a token (an empty one clears it), as `PUT /v1/agent/token/:type` does,
    /// and saves the tokens set this way when persistence is on.
    pub fn set(&self, kind: AgentTokenKind, token: &str) -> Result<(), AgentTokensError> {
        let value = (!token.is_empty()).then(|| (token.to_string(), Source::Api));
        // Writers take turns, so that none loses another's change or file write.
        let _writing = self
            .writing
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut slots = Slots::clone(&self.read());
        slots[kind.slot()] = value;
        let mut persisted = Persisted::default();
        for kind in KINDS {
            if let Some((token, Source::Api)) = &slots[kind.slot()] {
                *persisted.field(kind) = token.clone();
            }
        }
        self.slots.store(Arc::new(slots));
        let Some(path) = &self.file else {
            return Ok(());
        };
        let bytes = serde_json::to_vec(&persisted).map_err(std::io::Error::other);
        bytes
            .and_then(|bytes| crate::private_file::replace(path, &bytes))
            .map_err(|source| AgentTokensError::Write {
                path: path.clone(),
                source,
            })
    }

    fn with_default(&self, kind: AgentTokenKind) -> Option<String> {
        let slots = self.read();
        slots[kind.slot()]
            .as_ref()
            .or(slots[AgentTokenKind::Default.slot()].as_ref())
            .map(|(token, _)| token.clone())
    }

    fn read(&self) -> arc_swap::Guard<Arc<Slots>> {
        self.slots.load()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> AclTokensConfig {
        AclTokensConfig {
            default: Some("config-default".into()),
            agent_recovery: Some("recovery".into()),
            ..AclTokensConfig::default()
        }
    }

    #[test]
    fn kinds_and_aliases() {
        for (name, kind) in [
            ("default", AgentTokenKind::Default),
            ("acl_token", AgentTokenKind::Default),
            ("agent", AgentTokenKind::Agent),
            ("acl_agent_token", AgentTokenKind::Agent),
            ("agent_recovery", AgentTokenKind::AgentRecovery),
            ("agent_master", AgentTokenKind::AgentRecovery),
            ("acl_agent_master_token", AgentTokenKind::AgentRecovery),
            ("replication", AgentTokenKind::Replication),
            ("acl_replication_token", AgentTokenKind::Replication),
            (
                "config_file_service_registration",
                AgentTokenKind::ConfigFileServiceRegistration,
            ),
            ("dns", AgentTokenKind::Dns),
            ("dns_token", AgentTokenKind::Dns),
        ] {
            assert_eq!(AgentTokenKind::from_path(name), Some(kind), "{name}");
        }
        assert_eq!(AgentTokenKind::from_path("master"), None);
        assert_eq!(AgentTokenKind::from_path(""), None);
    }

    #[test]
    fn fallbacks_to_the_default_token() {
        let tokens = AgentTokens::from_config(&config());
        assert_eq!(tokens.agent_token().as_deref(), Some("config-default"));
        assert_eq!(tokens.dns_token().as_deref(), Some("config-default"));
        assert_eq!(tokens.get(AgentTokenKind::Agent), None);
        tokens.set(AgentTokenKind::Agent, "agent-secret").unwrap();
        assert_eq!(tokens.agent_token().as_deref(), Some("agent-secret"));
        assert!(tokens.is_agent_recovery("recovery"));
        assert!(!tokens.is_agent_recovery("other"));
        tokens.set(AgentTokenKind::Default, "").unwrap();
        assert_eq!(tokens.default_token(), None, "an empty token clears it");
    }

    #[test]
    fn api_tokens_persist_and_win_over_the_config() {
        let dir = std::env::temp_dir().join(format!(
            "proconsul-agent-tokens-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let tokens = AgentTokens::persisted(&config(), &dir).unwrap();
        assert_eq!(tokens.default_token().as_deref(), Some("config-default"));
        tokens.set(AgentTokenKind::Default, "api-default").unwrap();
        tokens.set(AgentTokenKind::Dns, "api-dns").unwrap();
        let path = dir.join(TOKENS_FILE);
        let saved: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(
            saved,
            serde_json::json!({"default": "api-default", "dns": "api-dns"}),
            "only tokens set through the API are saved"
        );
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );

        let again = AgentTokens::persisted(&config(), &dir).unwrap();
        assert_eq!(again.default_token().as_deref(), Some("api-default"));
        assert_eq!(again.dns_token().as_deref(), Some("api-dns"));
        assert!(again.is_agent_recovery("recovery"), "config values remain");

        std::fs::write(&path, br#"{"agent_master": "legacy"}"#).unwrap();
        let legacy = AgentTokens::persisted(&config(), &dir).unwrap();
        assert!(legacy.is_agent_recovery("legacy"));

        std::fs::write(&path, b"not json").unwrap();
        assert!(matches!(
            AgentTokens::persisted(&config(), &dir),
            Err(AgentTokensError::Parse { .. })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
