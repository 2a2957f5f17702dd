//! Role writes: unique valid names, policy links by ID, validated identities.

use std::sync::Arc;

use proconsul_api::acl::AclRole;

use super::command::{AclOutcome, AclWriteOp};
use super::hash::role_hash;
use super::identity::{
    LinkKind, normalize_links, normalize_node_identities, normalize_service_identities,
    normalize_templated_policies,
};
use super::policy::valid_object_name;
use super::tables::fold;
use super::texts::ACL_ROLE_DELETE_NOT_FOUND;
use crate::command::CommandOutcome;
use crate::prepared_query::looks_like_uuid;
use crate::state::{State, Table};

impl State {
    /// Creates or updates a role; answers the stored role with its links' names.
    pub(crate) fn apply_acl_role_set(
        &mut self,
        index: u64,
        op: AclWriteOp,
        role: &AclRole,
    ) -> CommandOutcome {
        match self.prepare_role(op, role) {
            Ok(stored) => {
                let stored = self.acl.store_role(stored, index);
                self.table_indexes.bump(Table::AclRoles, index);
                CommandOutcome::Acl(AclOutcome::Role(Arc::new(self.resolve_role(&stored))))
            }
            Err(reason) => CommandOutcome::Rejected(reason),
        }
    }

    fn prepare_role(&self, op: AclWriteOp, role: &AclRole) -> Result<AclRole, String> {
        if !looks_like_uuid(&role.id) {
            return Err("Role ID invalid UUID".into());
        }
        let key = fold(&role.id);
        let existing = self.acl.roles.get(key.as_str());
        let mut stored = role.clone();
        match (op, existing) {
            (AclWriteOp::Create, Some(_)) => {
                return Err(format!(
                    "Invalid Role: A Role with ID {:?} already exists",
                    role.id
                ));
            }
            (AclWriteOp::Update, None) => return Err(format!("Cannot find role {}", role.id)),
            (AclWriteOp::Update, Some(existing)) => stored.id = existing.id.clone(),
            (AclWriteOp::Create, None) => {}
        }
        if stored.name.is_empty() {
            return Err("Invalid Role: no Name is set".into());
        }
        if !valid_object_name(&stored.name, 256) {
            return Err(
                "Invalid Role: invalid Name. Only alphanumeric characters, '-' and '_' are allowed"
                    .into(),
            );
        }
        if let Some(owner) = self.acl.role_names.get(fold(&stored.name).as_str())
            && *owner != key
        {
            return Err(format!(
                "Invalid Role: A Role with Name {:?} already exists",
                stored.name
            ));
        }
        stored.policies = normalize_links(&self.acl, LinkKind::Policy, &stored.policies)?;
        stored.service_identities =
            normalize_service_identities(&stored.service_identities, false, "role")?;
        stored.node_identities = normalize_node_identities(&stored.node_identities, "role")?;
        stored.templated_policies =
            normalize_templated_policies(&stored.templated_policies, "role")?;
        stored.hash = Some(role_hash(&stored));
        Ok(stored)
    }

    /// Deletes a role; tokens linking to it keep the link, which reads leave out.
    pub(crate) fn apply_acl_role_delete(&mut self, index: u64, id: &str) -> CommandOutcome {
        match self.acl.remove_role(&fold(id)) {
            Some(_) => {
                self.table_indexes.bump(Table::AclRoles, index);
                CommandOutcome::Done
            }
            None => CommandOutcome::Rejected(ACL_ROLE_DELETE_NOT_FOUND.into()),
        }
    }
}
