//! The ACL tables and their derived indexes, kept in step by the only functions that
//! insert and remove, and rebuilt from the primary data on restore.

use std::sync::Arc;

use imbl::{OrdMap, OrdSet};
use proconsul_api::acl::{AclAuthMethod, AclBindingRule, AclPolicy, AclRole, AclToken};
use proconsul_api::go_time::GoTime;
use serde::{Deserialize, Serialize};

use crate::state::Key;

/// The key of an ID or name: Consul's indexes on UUIDs and names ignore case.
pub(crate) fn fold(id: &str) -> Key {
    if id.bytes().any(|b| b.is_ascii_uppercase()) {
        Key::new(id.to_ascii_lowercase())
    } else {
        Key::new(id)
    }
}

/// All ACL objects. Primary: the five tables and the bootstrap index. Derived: the
/// secret, expiry and name indexes.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct AclTables {
    /// Tokens by folded AccessorID.
    pub(crate) tokens: OrdMap<Key, Arc<AclToken>>,
    /// Derived: SecretID (exact) to folded AccessorID; a hash trie, so resolving a
    /// request's token costs the same with ten tokens or a million.
    pub(crate) secrets: imbl::HashMap<Key, Key>,
    /// Derived: tokens that expire, in expiry order.
    pub(crate) expiries: OrdSet<(GoTime, Key)>,
    /// Policies by folded ID.
    pub(crate) policies: OrdMap<Key, Arc<AclPolicy>>,
    /// Derived: folded policy name to folded ID.
    pub(crate) policy_names: OrdMap<Key, Key>,
    /// Roles by folded ID.
    pub(crate) roles: OrdMap<Key, Arc<AclRole>>,
    /// Derived: folded role name to folded ID.
    pub(crate) role_names: OrdMap<Key, Key>,
    /// Auth methods by folded name.
    pub(crate) auth_methods: OrdMap<Key, Arc<AclAuthMethod>>,
    /// Binding rules by folded ID.
    pub(crate) binding_rules: OrdMap<Key, Arc<AclBindingRule>>,
    /// The log index of the last bootstrap (0: never bootstrapped).
    pub(crate) bootstrap_index: u64,
}

/// The primary ACL data as a snapshot holds it.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct AclSnapshot {
    pub(crate) tokens: Vec<Arc<AclToken>>,
    pub(crate) policies: Vec<Arc<AclPolicy>>,
    pub(crate) roles: Vec<Arc<AclRole>>,
    pub(crate) auth_methods: Vec<Arc<AclAuthMethod>>,
    pub(crate) binding_rules: Vec<Arc<AclBindingRule>>,
    pub(crate) bootstrap_index: u64,
}

impl AclTables {
    /// Inserts or replaces a token, keeping the secret and expiry indexes in step.
    pub(crate) fn put_token(&mut self, token: Arc<AclToken>) {
        let key = fold(&token.accessor_id);
        self.remove_token(&key);
        self.secrets.insert(Key::new(&token.secret_id), key.clone());
        if let Some(at) = token.expiration_time {
            self.expiries.insert((at, key.clone()));
        }
        self.tokens.insert(key, token);
    }

    /// Removes the token with folded AccessorID `key`.
    pub(crate) fn remove_token(&mut self, key: &str) -> Option<Arc<AclToken>> {
        let token = self.tokens.remove(key)?;
        if self.secrets.get(token.secret_id.as_str()).map(Key::as_str) == Some(key) {
            self.secrets.remove(token.secret_id.as_str());
        }
        if let Some(at) = token.expiration_time {
            self.expiries.remove(&(at, Key::new(key)));
        }
        Some(token)
    }

    /// The token whose SecretID is exactly `secret`.
    pub(crate) fn token_by_secret(&self, secret: &str) -> Option<&Arc<AclToken>> {
        let key = self.secrets.get(secret)?;
        self.tokens.get(key)
    }

    /// Whether `id` is in use as an AccessorID or a SecretID.
    pub(crate) fn token_id_in_use(&self, id: &str) -> bool {
        self.tokens.contains_key(fold(id).as_str()) || self.secrets.contains_key(id)
    }

    /// Inserts or replaces a policy, keeping the name index in step.
    /// Stores `policy` as written at `index`: its `CreateIndex` is the stored one's
    /// when it replaces a policy with its ID, else `index`; its `ModifyIndex` is `index`.
    pub(crate) fn store_policy(&mut self, mut policy: AclPolicy, index: u64) -> Arc<AclPolicy> {
        policy.create_index = self
            .policies
            .get(fold(&policy.id).as_str())
            .map_or(index, |stored| stored.create_index);
        policy.modify_index = index;
        let policy = Arc::new(policy);
        self.put_policy(policy.clone());
        policy
    }

    pub(crate) fn put_policy(&mut self, policy: Arc<AclPolicy>) {
        let key = fold(&policy.id);
        self.remove_policy(&key);
        self.policy_names.insert(fold(&policy.name), key.clone());
        self.policies.insert(key, policy);
    }

    /// Removes the policy with folded ID `key`.
    pub(crate) fn remove_policy(&mut self, key: &str) -> Option<Arc<AclPolicy>> {
        let policy = self.policies.remove(key)?;
        self.policy_names.remove(fold(&policy.name).as_str());
        Some(policy)
    }

    /// The policy named `name` (without regard to case).
    pub(crate) fn policy_by_name(&self, name: &str) -> Option<&Arc<AclPolicy>> {
        self.policies
            .get(self.policy_names.get(fold(name).as_str())?)
    }

    /// Inserts or replaces a role, keeping the name index in step.
    /// Stores `role` as written at `index`, its indexes set as [`Self::store_policy`]
    /// sets a policy's.
    pub(crate) fn store_role(&mut self, mut role: AclRole, index: u64) -> Arc<AclRole> {
        role.create_index = self
            .roles
            .get(fold(&role.id).as_str())
            .map_or(index, |stored| stored.create_index);
        role.modify_index = index;
        let role = Arc::new(role);
        self.put_role(role.clone());
        role
    }

    pub(crate) fn put_role(&mut self, role: Arc<AclRole>) {
        let key = fold(&role.id);
        self.remove_role(&key);
        self.role_names.insert(fold(&role.name), key.clone());
        self.roles.insert(key, role);
    }

    /// Removes the role with folded ID `key`.
    pub(crate) fn remove_role(&mut self, key: &str) -> Option<Arc<AclRole>> {
        let role = self.roles.remove(key)?;
        self.role_names.remove(fold(&role.name).as_str());
        Some(role)
    }

    /// The role named `name` (without regard to case).
    pub(crate) fn role_by_name(&self, name: &str) -> Option<&Arc<AclRole>> {
        self.roles.get(self.role_names.get(fold(name).as_str())?)
    }

    /// The primary data, for a snapshot.
    pub(crate) fn to_snapshot(&self) -> AclSnapshot {
        AclSnapshot {
            tokens: self.tokens.values().cloned().collect(),
            policies: self.policies.values().cloned().collect(),
            roles: self.roles.values().cloned().collect(),
            auth_methods: self.auth_methods.values().cloned().collect(),
            binding_rules: self.binding_rules.values().cloned().collect(),
            bootstrap_index: self.bootstrap_index,
        }
    }

    /// The tables of a snapshot, with every derived index rebuilt.
    pub(crate) fn from_snapshot(snapshot: AclSnapshot) -> AclTables {
        let mut tables = AclTables {
            bootstrap_index: snapshot.bootstrap_index,
            ..AclTables::default()
        };
        for token in snapshot.tokens {
            tables.put_token(token);
        }
        for policy in snapshot.policies {
            tables.put_policy(policy);
        }
        for role in snapshot.roles {
            tables.put_role(role);
        }
        for method in snapshot.auth_methods {
            tables.auth_methods.insert(fold(&method.name), method);
        }
        for rule in snapshot.binding_rules {
            tables.binding_rules.insert(fold(&rule.id), rule);
        }
        tables
    }
}
