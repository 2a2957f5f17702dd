//! ACL replication into a secondary datacenter: the primary datacenter holds the
//! authoritative policies, roles and global tokens; a secondary's leader fetches them
//! ([`State::acl_replica_set`] on the primary), works out what differs from its own
//! ([`State::acl_replication_diff`], pure) and commits that through its own Raft
//! ([`AclReplicate`]). Objects are carried as stored (links by ID), so the secondary
//! resolves them exactly as the primary does; local tokens never travel and are never
//! deleted by replication. The primary's data wins: a secondary object holding a
//! replicated object's name under another ID is replaced.

use std::sync::Arc;

use proconsul_api::acl::{AclPolicy, AclRole, AclToken};
use serde::{Deserialize, Serialize};

use super::tables::fold;
use crate::command::CommandOutcome;
use crate::state::{State, Table};

/// Which objects a replication round carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AclReplicatedKind {
    Policies,
    Roles,
    /// Global tokens (`Local: false`) only.
    Tokens,
}

impl AclReplicatedKind {
    /// The name in paths and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            AclReplicatedKind::Policies => "policies",
            AclReplicatedKind::Roles => "roles",
            AclReplicatedKind::Tokens => "tokens",
        }
    }

    /// The kind a path names.
    pub fn parse(name: &str) -> Option<AclReplicatedKind> {
        match name {
            "policies" => Some(AclReplicatedKind::Policies),
            "roles" => Some(AclReplicatedKind::Roles),
            "tokens" => Some(AclReplicatedKind::Tokens),
            _ => None,
        }
    }

    /// The table whose index says when objects of this kind last changed.
    pub fn table(self) -> Table {
        match self {
            AclReplicatedKind::Policies => Table::AclPolicies,
            AclReplicatedKind::Roles => Table::AclRoles,
            AclReplicatedKind::Tokens => Table::AclTokens,
        }
    }
}

/// Every replicated object of one kind, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AclReplicaSet {
    Policies(Vec<Arc<AclPolicy>>),
    Roles(Vec<Arc<AclRole>>),
    Tokens(Vec<Arc<AclToken>>),
}

impl AclReplicaSet {
    /// Its kind.
    pub fn kind(&self) -> AclReplicatedKind {
        match self {
            AclReplicaSet::Policies(_) => AclReplicatedKind::Policies,
            AclReplicaSet::Roles(_) => AclReplicatedKind::Roles,
            AclReplicaSet::Tokens(_) => AclReplicatedKind::Tokens,
        }
    }

    /// How many objects it holds.
    pub fn len(&self) -> usize {
        match self {
            AclReplicaSet::Policies(set) => set.len(),
            AclReplicaSet::Roles(set) => set.len(),
            AclReplicaSet::Tokens(set) => set.len(),
        }
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The same objects in pieces of at most `size`, so that one Raft entry stays small.
    pub fn chunks(&self, size: usize) -> Vec<AclReplicaSet> {
        let size = size.max(1);
        match self {
            AclReplicaSet::Policies(set) => set
                .chunks(size)
                .map(|c| AclReplicaSet::Policies(c.to_vec()))
                .collect(),
            AclReplicaSet::Roles(set) => set
                .chunks(size)
                .map(|c| AclReplicaSet::Roles(c.to_vec()))
                .collect(),
            AclReplicaSet::Tokens(set) => set
                .chunks(size)
                .map(|c| AclReplicaSet::Tokens(c.to_vec()))
                .collect(),
        }
    }
}

/// One replication write: objects to store (replacing those with their IDs) and IDs
/// (AccessorIDs for tokens) of the same kind to remove.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AclReplicate {
    pub set: AclReplicaSet,
    pub delete: Vec<String>,
}

impl AclReplicate {
    /// Whether applying it would change nothing.
    pub fn is_empty(&self) -> bool {
        self.set.is_empty() && self.delete.is_empty()
    }
}

/// Whether two stored objects are the same but for the indexes they were stored at.
fn same<T: Clone + PartialEq>(a: &T, b: &T, indexes: fn(&mut T) -> (&mut u64, &mut u64)) -> bool {
    let (mut a, mut b) = (a.clone(), b.clone());
    for object in [&mut a, &mut b] {
        let (create, modify) = indexes(object);
        (*create, *modify) = (0, 0);
    }
    a == b
}

fn policy_indexes(p: &mut AclPolicy) -> (&mut u64, &mut u64) {
    (&mut p.create_index, &mut p.modify_index)
}

fn role_indexes(r: &mut AclRole) -> (&mut u64, &mut u64) {
    (&mut r.create_index, &mut r.modify_index)
}

fn token_indexes(t: &mut AclToken) -> (&mut u64, &mut u64) {
    (&mut t.create_index, &mut t.modify_index)
}

/// What differs between `local` (this datacenter's objects of one kind, by folded ID)
/// and `remote`: the remote objects that are missing or changed here, and the local IDs
/// the remote side no longer has.
fn differences<T: Clone + PartialEq>(
    local: &imbl::OrdMap<crate::state::Key, Arc<T>>,
    remote: &[Arc<T>],
    id: fn(&T) -> &str,
    replicated: fn(&T) -> bool,
    indexes: fn(&mut T) -> (&mut u64, &mut u64),
) -> (Vec<Arc<T>>, Vec<String>) {
    let remote: Vec<&Arc<T>> = remote.iter().filter(|o| replicated(o)).collect();
    let wanted: std::collections::HashSet<crate::state::Key> =
        remote.iter().map(|o| fold(id(o))).collect();
    let set = remote
        .into_iter()
        .filter(|o| {
            local
                .get(fold(id(o)).as_str())
                .is_none_or(|mine| !same(mine.as_ref(), o.as_ref(), indexes))
        })
        .cloned()
        .collect();
    let delete = local
        .iter()
        .filter(|(key, o)| replicated(o) && !wanted.contains(*key))
        .map(|(_, o)| id(o).to_string())
        .collect();
    (set, delete)
}

fn is_global(token: &AclToken) -> bool {
    !token.local
}

impl State {
    /// Every object of `kind` a secondary replicates from this (primary) datacenter:
    /// all policies, all roles, the global tokens.
    pub fn acl_replica_set(&self, kind: AclReplicatedKind) -> AclReplicaSet {
        match kind {
            AclReplicatedKind::Policies => {
                AclReplicaSet::Policies(self.acl.policies.values().cloned().collect())
            }
            AclReplicatedKind::Roles => {
                AclReplicaSet::Roles(self.acl.roles.values().cloned().collect())
            }
            AclReplicatedKind::Tokens => AclReplicaSet::Tokens(
                self.acl
                    .tokens
                    .values()
                    .filter(|token| is_global(token))
                    .cloned()
                    .collect(),
            ),
        }
    }

    /// The write that makes this datacenter's objects of `remote`'s kind equal to
    /// `remote` (local tokens left alone); empty when they already are.
    pub fn acl_replication_diff(&self, remote: &AclReplicaSet) -> AclReplicate {
        match remote {
            AclReplicaSet::Policies(remote) => {
                let (set, delete) = differences(
                    &self.acl.policies,
                    remote,
                    |p| &p.id,
                    |_| true,
                    policy_indexes,
                );
                AclReplicate {
                    set: AclReplicaSet::Policies(set),
                    delete,
                }
            }
            AclReplicaSet::Roles(remote) => {
                let (set, delete) =
                    differences(&self.acl.roles, remote, |r| &r.id, |_| true, role_indexes);
                AclReplicate {
                    set: AclReplicaSet::Roles(set),
                    delete,
                }
            }
            AclReplicaSet::Tokens(remote) => {
                let (set, delete) = differences(
                    &self.acl.tokens,
                    remote,
                    |t| &t.accessor_id,
                    is_global,
                    token_indexes,
                );
                AclReplicate {
                    set: AclReplicaSet::Tokens(set),
                    delete,
                }
            }
        }
    }

    /// Applies a replication write. Never refused: the primary already validated
    /// every object.
    pub(crate) fn apply_acl_replicate(
        &mut self,
        index: u64,
        replicate: &AclReplicate,
    ) -> CommandOutcome {
        if replicate.is_empty() {
            return CommandOutcome::Done;
        }
        match &replicate.set {
            AclReplicaSet::Policies(set) => {
                for id in &replicate.delete {
                    self.acl.remove_policy(&fold(id));
                }
                for policy in set {
                    let key = fold(&policy.id);
                    if let Some(other) = self.acl.policy_names.get(fold(&policy.name).as_str())
                        && *other != key
                    {
                        let other = other.clone();
                        self.acl.remove_policy(&other);
                    }
                    self.acl.store_policy(policy.as_ref().clone(), index);
                }
            }
            AclReplicaSet::Roles(set) => {
                for id in &replicate.delete {
                    self.acl.remove_role(&fold(id));
                }
                for role in set {
                    let key = fold(&role.id);
                    if let Some(other) = self.acl.role_names.get(fold(&role.name).as_str())
                        && *other != key
                    {
                        let other = other.clone();
                        self.acl.remove_role(&other);
                    }
                    self.acl.store_role(role.as_ref().clone(), index);
                }
            }
            AclReplicaSet::Tokens(set) => {
                for id in &replicate.delete {
                    let key = fold(id);
                    if self
                        .acl
                        .tokens
                        .get(key.as_str())
                        .is_some_and(|t| is_global(t))
                    {
                        self.acl.remove_token(&key);
                    }
                }
                for token in set.iter().filter(|token| is_global(token)) {
                    let key = fold(&token.accessor_id);
                    let existing = self.acl.tokens.get(key.as_str());
                    if existing.is_some_and(|t| !is_global(t)) {
                        continue;
                    }
                    let mut stored = token.as_ref().clone();
                    stored.create_index = existing.map_or(index, |t| t.create_index);
                    stored.modify_index = index;
                    self.acl.put_token(Arc::new(stored));
                }
                // Tokens exist here now: an unknown secret is "ACL not found", not a
                // request to bootstrap this datacenter.
                if self.acl.bootstrap_index == 0 {
                    self.acl.bootstrap_index = index;
                }
            }
        }
        self.table_indexes.bump(replicate.set.kind().table(), index);
        CommandOutcome::Done
    }
}
