//! Auth methods and binding rules: stored and returned in Consul's shapes, with the
//! checks that need no method implementation (names, types, locality, TTL bounds, a
//! rule's method and bind type). Deleting a method takes its rules and tokens with it.

use std::sync::Arc;

use proconsul_api::acl::{AclAuthMethod, AclBindingRule};
use proconsul_api::duration::{format_duration, parse_duration};

use super::command::{AclOutcome, AclWriteOp};
use super::policy::valid_object_name;
use super::tables::fold;
use super::texts::{ACL_AUTH_METHOD_DELETE_NOT_FOUND, ACL_BINDING_RULE_DELETE_NOT_FOUND};
use super::token::{ACL_TOKEN_MAX_EXPIRATION_TTL, ACL_TOKEN_MIN_EXPIRATION_TTL};
use crate::command::CommandOutcome;
use crate::prepared_query::looks_like_uuid;
use crate::state::{State, Table};

/// The auth method types of Consul CE.
const AUTH_METHOD_TYPES: [&str; 4] = ["aws-iam", "jwt", "kubernetes", "oidc"];

/// What a binding rule may bind a login to.
const BIND_TYPES: [&str; 5] = ["service", "node", "role", "policy", "templated-policy"];

impl State {
    /// Creates or replaces the auth method with this name (its type may not change).
    pub(crate) fn apply_acl_auth_method_set(
        &mut self,
        index: u64,
        method: &AclAuthMethod,
    ) -> CommandOutcome {
        match self.prepare_auth_method(method) {
            Ok(mut stored) => {
                let key = fold(&stored.name);
                let existing = self.acl.auth_methods.get(key.as_str());
                stored.create_index = existing.map_or(index, |m| m.create_index);
                stored.modify_index = index;
                let stored = Arc::new(stored);
                self.acl.auth_methods.insert(key, stored.clone());
                self.table_indexes.bump(Table::AclAuthMethods, index);
                CommandOutcome::Acl(AclOutcome::AuthMethod(stored))
            }
            Err(reason) => CommandOutcome::Rejected(reason),
        }
    }

    fn prepare_auth_method(&self, method: &AclAuthMethod) -> Result<AclAuthMethod, String> {
        let mut stored = method.clone();
        if stored.name.is_empty() {
            return Err("Invalid Auth Method: no Name is set".into());
        }
        if !valid_object_name(&stored.name, 128) {
            return Err("Invalid Auth Method: invalid Name. Only alphanumeric characters, '-' and '_' are allowed".into());
        }
        if stored.display_name.len() > 256 {
            return Err("Invalid Auth Method: invalid DisplayName. Exceeds 256 characters".into());
        }
        if !AUTH_METHOD_TYPES.contains(&stored.kind.as_str()) {
            return Err(format!(
                "Invalid Auth Method: Type should be one of: [{}]",
                AUTH_METHOD_TYPES.join(" ")
            ));
        }
        if let Some(existing) = self.acl.auth_methods.get(fold(&stored.name).as_str()) {
            if existing.kind != stored.kind {
                return Err("the Type field is immutable".into());
            }
            stored.name = existing.name.clone();
        }
        if !matches!(stored.token_locality.as_str(), "" | "local" | "global") {
            return Err(
                "Invalid Auth Method: TokenLocality should be one of 'local' or 'global' or empty"
                    .into(),
            );
        }
        if !stored.max_token_ttl.is_empty() {
            let ttl = parse_duration(&stored.max_token_ttl)
                .map_err(|error| format!("Invalid Auth Method: MaxTokenTTL: {error}"))?;
            if ttl > ACL_TOKEN_MAX_EXPIRATION_TTL {
                return Err(format!(
                    "MaxTokenTTL {} cannot be more than {}",
                    format_duration(ttl),
                    format_duration(ACL_TOKEN_MAX_EXPIRATION_TTL)
                ));
            }
            if !ttl.is_zero() && ttl < ACL_TOKEN_MIN_EXPIRATION_TTL {
                return Err(format!(
                    "MaxTokenTTL {} cannot be less than {}",
                    format_duration(ttl),
                    format_duration(ACL_TOKEN_MIN_EXPIRATION_TTL)
                ));
            }
            stored.max_token_ttl = if ttl.is_zero() {
                String::new()
            } else {
                format_duration(ttl)
            };
        }
        Ok(stored)
    }

    /// Deletes an auth method with its binding rules and the tokens it issued (those of
    /// its locality).
    pub(crate) fn apply_acl_auth_method_delete(
        &mut self,
        index: u64,
        name: &str,
    ) -> CommandOutcome {
        let Some(method) = self.acl.auth_methods.remove(fold(name).as_str()) else {
            return CommandOutcome::Rejected(ACL_AUTH_METHOD_DELETE_NOT_FOUND.into());
        };
        self.table_indexes.bump(Table::AclAuthMethods, index);
        let rules: Vec<_> = self
            .acl
            .binding_rules
            .iter()
            .filter(|(_, rule)| rule.auth_method == method.name)
            .map(|(key, _)| key.clone())
            .collect();
        if !rules.is_empty() {
            for key in rules {
                self.acl.binding_rules.remove(&key);
            }
            self.table_indexes.bump(Table::AclBindingRules, index);
        }
        let global = method.token_locality == "global";
        let tokens: Vec<_> = self
            .acl
            .tokens
            .iter()
            .filter(|(_, token)| token.auth_method == method.name && token.local != global)
            .map(|(key, _)| key.clone())
            .collect();
        if !tokens.is_empty() {
            for key in tokens {
                self.acl.remove_token(&key);
            }
            self.table_indexes.bump(Table::AclTokens, index);
        }
        CommandOutcome::Done
    }

    /// Creates or updates a binding rule of an existing auth method.
    pub(crate) fn apply_acl_binding_rule_set(
        &mut self,
        index: u64,
        op: AclWriteOp,
        rule: &AclBindingRule,
    ) -> CommandOutcome {
        match self.prepare_binding_rule(op, rule) {
            Ok(mut stored) => {
                let key = fold(&stored.id);
                let existing = self.acl.binding_rules.get(key.as_str());
                stored.create_index = existing.map_or(index, |r| r.create_index);
                stored.modify_index = index;
                let stored = Arc::new(stored);
                self.acl.binding_rules.insert(key, stored.clone());
                self.table_indexes.bump(Table::AclBindingRules, index);
                CommandOutcome::Acl(AclOutcome::BindingRule(stored))
            }
            Err(reason) => CommandOutcome::Rejected(reason),
        }
    }

    fn prepare_binding_rule(
        &self,
        op: AclWriteOp,
        rule: &AclBindingRule,
    ) -> Result<AclBindingRule, String> {
        if !looks_like_uuid(&rule.id) {
            return Err("Binding Rule ID invalid UUID".into());
        }
        let mut stored = rule.clone();
        let existing = self.acl.binding_rules.get(fold(&rule.id).as_str());
        match (op, existing) {
            (AclWriteOp::Create, Some(_)) => {
                return Err(format!(
                    "Invalid Binding Rule: ID {:?} already exists",
                    rule.id
                ));
            }
            (AclWriteOp::Update, None) => {
                return Err(format!("Cannot find binding rule {}", rule.id));
            }
            (AclWriteOp::Update, Some(existing)) => {
                stored.id = existing.id.clone();
                if stored.auth_method.is_empty() {
                    stored.auth_method = existing.auth_method.clone();
                } else if fold(&stored.auth_method) != fold(&existing.auth_method) {
                    return Err("Invalid Binding Rule: the AuthMethod field is immutable".into());
                }
            }
            (AclWriteOp::Create, None) => {}
        }
        if stored.auth_method.is_empty() {
            return Err("Invalid Binding Rule: no AuthMethod is set".into());
        }
        match self
            .acl
            .auth_methods
            .get(fold(&stored.auth_method).as_str())
        {
            Some(method) => stored.auth_method = method.name.clone(),
            None => {
                return Err(format!(
                    "Invalid Binding Rule: unknown auth method {:?}",
                    stored.auth_method
                ));
            }
        }
        if stored.bind_type.is_empty() {
            return Err("Invalid Binding Rule: no BindType is set".into());
        }
        if !BIND_TYPES.contains(&stored.bind_type.as_str()) {
            return Err(format!(
                "Invalid Binding Rule: unknown BindType {:?}",
                stored.bind_type
            ));
        }
        if stored.bind_name.is_empty() {
            return Err("Invalid Binding Rule: no BindName is set".into());
        }
        Ok(stored)
    }

    /// Deletes a binding rule.
    pub(crate) fn apply_acl_binding_rule_delete(&mut self, index: u64, id: &str) -> CommandOutcome {
        match self.acl.binding_rules.remove(fold(id).as_str()) {
            Some(_) => {
                self.table_indexes.bump(Table::AclBindingRules, index);
                CommandOutcome::Done
            }
            None => CommandOutcome::Rejected(ACL_BINDING_RULE_DELETE_NOT_FOUND.into()),
        }
    }
}
