//! Policy writes: unique valid names, the built-ins' rules and datacenters fixed, rules
//! kept verbatim (checking them is the ACL engine's, before proposing).

use proconsul_api::acl::{
    AclPolicy, GLOBAL_MANAGEMENT_POLICY_ID, GLOBAL_MANAGEMENT_POLICY_RULES,
    GLOBAL_READ_ONLY_POLICY_ID, GLOBAL_READ_ONLY_POLICY_RULES,
};

use super::command::{AclOutcome, AclWriteOp};
use super::hash::policy_hash;
use super::tables::fold;
use super::texts::ACL_POLICY_DELETE_NOT_FOUND;
use crate::command::CommandOutcome;
use crate::prepared_query::looks_like_uuid;
use crate::state::{State, Table};

/// Consul's policy and role names: ASCII letters, digits, `-` and `_`, up to `max`.
pub(super) fn valid_object_name(name: &str, max: usize) -> bool {
    !name.is_empty()
        && name.len() <= max
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The fixed rules of a built-in policy, with the name Consul's texts give it.
fn builtin(id: &str) -> Option<(&'static str, &'static str)> {
    match id {
        GLOBAL_MANAGEMENT_POLICY_ID => Some(("global-management", GLOBAL_MANAGEMENT_POLICY_RULES)),
        GLOBAL_READ_ONLY_POLICY_ID => Some(("global-read-only", GLOBAL_READ_ONLY_POLICY_RULES)),
        _ => None,
    }
}

impl State {
    /// Creates or updates a policy; answers the stored policy.
    pub(crate) fn apply_acl_policy_set(
        &mut self,
        index: u64,
        op: AclWriteOp,
        policy: &AclPolicy,
    ) -> CommandOutcome {
        match self.prepare_policy(op, policy) {
            Ok(stored) => {
                let stored = self.acl.store_policy(stored, index);
                self.table_indexes.bump(Table::AclPolicies, index);
                CommandOutcome::Acl(AclOutcome::Policy(stored))
            }
            Err(reason) => CommandOutcome::Rejected(reason),
        }
    }

    fn prepare_policy(&self, op: AclWriteOp, policy: &AclPolicy) -> Result<AclPolicy, String> {
        if !looks_like_uuid(&policy.id) {
            return Err("Policy ID invalid UUID".into());
        }
        let key = fold(&policy.id);
        let existing = self.acl.policies.get(key.as_str());
        let mut stored = policy.clone();
        match (op, existing) {
            (AclWriteOp::Create, Some(_)) => {
                return Err(format!(
                    "Invalid Policy: A policy with ID {:?} already exists",
                    policy.id
                ));
            }
            (AclWriteOp::Update, None) => return Err(format!("cannot find policy {}", policy.id)),
            (AclWriteOp::Update, Some(existing)) => stored.id = existing.id.clone(),
            (AclWriteOp::Create, None) => {}
        }
        if stored.name.is_empty() {
            return Err("Invalid Policy: no Name is set".into());
        }
        let renamed = existing.is_none_or(|existing| existing.name != stored.name);
        if renamed && !valid_object_name(&stored.name, 128) {
            return Err(
                "Invalid Policy: invalid Name. Only alphanumeric characters, '-' and '_' are allowed"
                    .into(),
            );
        }
        if let Some(owner) = self.acl.policy_names.get(fold(&stored.name).as_str())
            && *owner != key
        {
            return Err(format!(
                "Invalid Policy: A policy with name {:?} already exists",
                stored.name
            ));
        }
        if let Some((name, rules)) = builtin(key.as_str()) {
            if !stored.datacenters.is_empty() {
                return Err(format!(
                    "Changing the Datacenters of the builtin {name} policy is not permitted"
                ));
            }
            if stored.rules != rules {
                return Err(format!(
                    "Changing the Rules for the builtin {name} policy is not permitted"
                ));
            }
        }
        stored.hash = Some(policy_hash(&stored));
        Ok(stored)
    }

    /// Deletes a policy. Tokens and roles that link to it keep the link, which reads
    /// leave out (Consul resolves links lazily).
    pub(crate) fn apply_acl_policy_delete(&mut self, index: u64, id: &str) -> CommandOutcome {
        let key = fold(id);
        if let Some((name, _)) = builtin(key.as_str()) {
            return CommandOutcome::Rejected(format!(
                "Deletion of the builtin {name} policy is not permitted"
            ));
        }
        match self.acl.remove_policy(&key) {
            Some(_) => {
                self.table_indexes.bump(Table::AclPolicies, index);
                CommandOutcome::Done
            }
            None => CommandOutcome::Rejected(ACL_POLICY_DELETE_NOT_FOUND.into()),
        }
    }
}
