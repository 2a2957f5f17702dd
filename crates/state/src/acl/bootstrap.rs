//! The built-in objects, the `initial_management` token, and bootstrap (allowed once,
//! or again with the reset index the operator read from the refusal).

use std::sync::Arc;

use proconsul_api::acl::{
    ANONYMOUS_TOKEN_ACCESSOR_ID, ANONYMOUS_TOKEN_DESCRIPTION, ANONYMOUS_TOKEN_SECRET_ID, AclLink,
    AclPolicy, AclToken, BOOTSTRAP_TOKEN_DESCRIPTION, GLOBAL_MANAGEMENT_POLICY_DESCRIPTION,
    GLOBAL_MANAGEMENT_POLICY_ID, GLOBAL_MANAGEMENT_POLICY_NAME, GLOBAL_MANAGEMENT_POLICY_RULES,
    GLOBAL_READ_ONLY_POLICY_DESCRIPTION, GLOBAL_READ_ONLY_POLICY_ID, GLOBAL_READ_ONLY_POLICY_NAME,
    GLOBAL_READ_ONLY_POLICY_RULES, INITIAL_MANAGEMENT_TOKEN_DESCRIPTION, acl_id_reserved,
};
use proconsul_api::go_time::GoTime;

use super::command::{AclBootstrap, AclInit, AclOutcome};
use super::hash::{policy_hash, token_hash};
use super::texts::ACL_BOOTSTRAP_NOT_ALLOWED;
use crate::command::CommandOutcome;
use crate::state::{State, Table};

/// A management token: linked to `global-management`, global.
fn management_token(
    accessor_id: &str,
    secret_id: &str,
    description: &str,
    now: GoTime,
) -> AclToken {
    let mut token = AclToken {
        accessor_id: accessor_id.to_string(),
        secret_id: secret_id.to_string(),
        description: description.to_string(),
        policies: vec![AclLink {
            id: GLOBAL_MANAGEMENT_POLICY_ID.to_string(),
            name: String::new(),
        }],
        create_time: now,
        ..AclToken::default()
    };
    token.hash = Some(token_hash(&token));
    token
}

impl State {
    /// Creates the built-in policies and the anonymous token where missing, and brings a
    /// built-in policy's rules up to this version's. Returns whether anything changed.
    fn ensure_acl_builtins(&mut self, index: u64, now: GoTime) -> bool {
        let mut policies_changed = false;
        for (id, name, description, rules) in [
            (
                GLOBAL_MANAGEMENT_POLICY_ID,
                GLOBAL_MANAGEMENT_POLICY_NAME,
                GLOBAL_MANAGEMENT_POLICY_DESCRIPTION,
                GLOBAL_MANAGEMENT_POLICY_RULES,
            ),
            (
                GLOBAL_READ_ONLY_POLICY_ID,
                GLOBAL_READ_ONLY_POLICY_NAME,
                GLOBAL_READ_ONLY_POLICY_DESCRIPTION,
                GLOBAL_READ_ONLY_POLICY_RULES,
            ),
        ] {
            let mut policy = match self.acl.policies.get(id) {
                Some(existing) if existing.rules == rules => continue,
                Some(existing) => AclPolicy {
                    rules: rules.to_string(),
                    ..(**existing).clone()
                },
                None if self.acl.policy_by_name(name).is_some() => continue,
                None => AclPolicy {
                    id: id.to_string(),
                    name: name.to_string(),
                    description: description.to_string(),
                    rules: rules.to_string(),
                    create_index: index,
                    ..AclPolicy::default()
                },
            };
            policy.modify_index = index;
            policy.hash = Some(policy_hash(&policy));
            self.acl.put_policy(Arc::new(policy));
            policies_changed = true;
        }
        if policies_changed {
            self.table_indexes.bump(Table::AclPolicies, index);
        }
        let mut tokens_changed = false;
        if !self.acl.tokens.contains_key(ANONYMOUS_TOKEN_ACCESSOR_ID)
            && !self.acl.secrets.contains_key(ANONYMOUS_TOKEN_SECRET_ID)
        {
            let mut token = AclToken {
                accessor_id: ANONYMOUS_TOKEN_ACCESSOR_ID.to_string(),
                secret_id: ANONYMOUS_TOKEN_SECRET_ID.to_string(),
                description: ANONYMOUS_TOKEN_DESCRIPTION.to_string(),
                create_time: now,
                create_index: index,
                modify_index: index,
                ..AclToken::default()
            };
            token.hash = Some(token_hash(&token));
            self.acl.put_token(Arc::new(token));
            self.table_indexes.bump(Table::AclTokens, index);
            tokens_changed = true;
        }
        policies_changed || tokens_changed
    }

    /// A new leader's initialization; see [`AclInit`].
    pub(crate) fn apply_acl_init(&mut self, index: u64, init: &AclInit) -> CommandOutcome {
        self.ensure_acl_builtins(index, init.now);
        if let Some(initial) = &init.initial_management
            && !initial.secret_id.is_empty()
            && self.acl.token_by_secret(&initial.secret_id).is_none()
            && !self.acl.token_id_in_use(&initial.accessor_id)
        {
            let mut token = management_token(
                &initial.accessor_id,
                &initial.secret_id,
                INITIAL_MANAGEMENT_TOKEN_DESCRIPTION,
                init.now,
            );
            token.create_index = index;
            token.modify_index = index;
            self.acl.put_token(Arc::new(token));
            self.table_indexes.bump(Table::AclTokens, index);
            if self.acl.bootstrap_index == 0 {
                self.acl.bootstrap_index = index;
            }
        }
        CommandOutcome::Done
    }

    /// `PUT /v1/acl/bootstrap`: the first management token; refused once bootstrapped
    /// unless the reset index matches the last bootstrap's.
    pub(crate) fn apply_acl_bootstrap(
        &mut self,
        index: u64,
        bootstrap: &AclBootstrap,
    ) -> CommandOutcome {
        let done = self.acl.bootstrap_index;
        if done != 0 {
            if bootstrap.reset_index == 0 {
                return CommandOutcome::Rejected(format!(
                    "{ACL_BOOTSTRAP_NOT_ALLOWED} (reset index: {done})"
                ));
            }
            if bootstrap.reset_index != done {
                return CommandOutcome::Rejected(format!(
                    "Invalid bootstrap reset index (specified {}, reset index: {done})",
                    bootstrap.reset_index
                ));
            }
        }
        // Checked before the built-ins are created, so the IDs they will take count too.
        let taken = |id: &str| {
            id.is_empty()
                || acl_id_reserved(id)
                || id == ANONYMOUS_TOKEN_SECRET_ID
                || self.acl.token_id_in_use(id)
        };
        if taken(&bootstrap.accessor_id) {
            return CommandOutcome::Rejected("Invalid Token: AccessorID is already in use".into());
        }
        if taken(&bootstrap.secret_id) {
            return CommandOutcome::Rejected("Invalid Token: SecretID is already in use".into());
        }
        self.ensure_acl_builtins(index, bootstrap.now);
        let mut token = management_token(
            &bootstrap.accessor_id,
            &bootstrap.secret_id,
            BOOTSTRAP_TOKEN_DESCRIPTION,
            bootstrap.now,
        );
        token.create_index = index;
        token.modify_index = index;
        let token = Arc::new(token);
        self.acl.put_token(token.clone());
        self.acl.bootstrap_index = index;
        self.table_indexes.bump(Table::AclTokens, index);
        CommandOutcome::Acl(AclOutcome::Token(Arc::new(self.resolve_token(&token))))
    }
}
