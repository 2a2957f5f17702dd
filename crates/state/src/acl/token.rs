//! Token writes: create, update and clone with Consul's checks and texts, delete, and
//! expiry at the proposer's `now`.

use std::sync::Arc;
use std::time::Duration;

use proconsul_api::acl::{ANONYMOUS_TOKEN_ACCESSOR_ID, AclToken, acl_id_reserved};
use proconsul_api::duration::{format_duration, parse_duration};
use proconsul_api::go_time::GoTime;

use super::command::{AclOutcome, AclTokenOp, AclTokenWrite};
use super::hash::token_hash;
use super::identity::{
    LinkKind, normalize_links, normalize_node_identities, normalize_service_identities,
    normalize_templated_policies,
};
use super::tables::fold;
use super::texts::{ACL_ANONYMOUS_DELETE, ACL_NOT_FOUND};
use crate::command::CommandOutcome;
use crate::prepared_query::looks_like_uuid;
use crate::state::{State, Table};

/// The shortest lifetime a token may be given (Consul's default
/// `acl.token_min_expiration_ttl`).
pub const ACL_TOKEN_MIN_EXPIRATION_TTL: Duration = Duration::from_secs(60);
/// The longest (`acl.token_max_expiration_ttl`).
pub const ACL_TOKEN_MAX_EXPIRATION_TTL: Duration = Duration::from_secs(24 * 3600);

/// Secrets that name Consul's root authorizers and may never be a token's.
const ROOT_SECRETS: [&str; 3] = ["allow", "deny", "manage"];

/// Checks an AccessorID or SecretID a client chose for a new token.
fn validate_new_token_id(field: &str, id: &str) -> Result<(), String> {
    if acl_id_reserved(id) {
        return Err(format!(
            "Invalid Token: {field} - UUIDs with the prefix \"{}\" are reserved",
            proconsul_api::acl::ACL_RESERVED_PREFIX
        ));
    }
    if !looks_like_uuid(id) {
        return Err(format!("Invalid Token: {field} - not a valid UUID"));
    }
    Ok(())
}

impl State {
    /// Applies a token create, update or clone; answers the stored token.
    pub(crate) fn apply_acl_token_set(
        &mut self,
        index: u64,
        write: &AclTokenWrite,
    ) -> CommandOutcome {
        let prepared = match &write.op {
            AclTokenOp::Create => self.prepare_token_create(write.token.clone(), write.now),
            AclTokenOp::Update => self.prepare_token_update(write.token.clone(), write.now),
            AclTokenOp::Clone { source_accessor_id } => {
                self.prepare_token_clone(source_accessor_id, &write.token, write.now)
            }
        };
        let mut token = match prepared.and_then(|token| self.normalize_token(token)) {
            Ok(token) => token,
            Err(reason) => return CommandOutcome::Rejected(reason),
        };
        let existing = self.acl.tokens.get(fold(&token.accessor_id).as_str());
        token.create_index = existing.map_or(index, |t| t.create_index);
        token.modify_index = index;
        let token = Arc::new(token);
        self.acl.put_token(token.clone());
        self.table_indexes.bump(Table::AclTokens, index);
        CommandOutcome::Acl(AclOutcome::Token(Arc::new(self.resolve_token(&token))))
    }

    fn prepare_token_create(&self, mut token: AclToken, now: GoTime) -> Result<AclToken, String> {
        validate_new_token_id("AccessorID", &token.accessor_id)?;
        if self.acl.token_id_in_use(&token.accessor_id) {
            return Err("Invalid Token: AccessorID is already in use".into());
        }
        validate_new_token_id("SecretID", &token.secret_id)?;
        if self.acl.token_id_in_use(&token.secret_id) {
            return Err("Invalid Token: SecretID is already in use".into());
        }
        token.create_time = now;
        if !token.expiration_ttl.is_empty() {
            let ttl = parse_duration(&token.expiration_ttl).map_err(|error| {
                format!("Token Expiration TTL '{}': {error}", token.expiration_ttl)
            })?;
            if !ttl.is_zero() {
                if token.expiration_time.is_some() {
                    return Err(
                        "Token Expiration TTL and Expiration Time cannot both be set".into(),
                    );
                }
                token.expiration_time = Some(
                    now.checked_add(ttl)
                        .ok_or("Token Expiration TTL is out of range")?,
                );
            }
            token.expiration_ttl.clear();
        }
        if let Some(at) = token.expiration_time {
            let Some(expires_in) = at.duration_since(now) else {
                return Err("ExpirationTime cannot be before CreateTime".into());
            };
            if expires_in > ACL_TOKEN_MAX_EXPIRATION_TTL {
                return Err(format!(
                    "ExpirationTime cannot be more than {} in the future (was {})",
                    format_duration(ACL_TOKEN_MAX_EXPIRATION_TTL),
                    format_duration(expires_in)
                ));
            }
            if expires_in < ACL_TOKEN_MIN_EXPIRATION_TTL {
                return Err(format!(
                    "ExpirationTime cannot be less than {} in the future (was {})",
                    format_duration(ACL_TOKEN_MIN_EXPIRATION_TTL),
                    format_duration(expires_in)
                ));
            }
        }
        if !token.auth_method.is_empty() {
            return Err("AuthMethod field is disallowed outside of login".into());
        }
        token.hash = None;
        token.create_index = 0;
        token.modify_index = 0;
        Ok(token)
    }

    fn prepare_token_update(&self, mut token: AclToken, now: GoTime) -> Result<AclToken, String> {
        if !looks_like_uuid(&token.accessor_id) {
            return Err("AccessorID is not a valid UUID".into());
        }
        if ROOT_SECRETS.contains(&token.secret_id.as_str()) {
            return Err("Permission denied: Cannot modify root ACL".into());
        }
        let existing = match self.acl.tokens.get(fold(&token.accessor_id).as_str()) {
            Some(existing) if !existing.is_expired(now) => existing,
            _ => return Err(format!("Cannot find token {:?}", token.accessor_id)),
        };
        let accessor = token.accessor_id.clone();
        if token.secret_id.is_empty() {
            token.secret_id = existing.secret_id.clone();
        } else if token.secret_id != existing.secret_id {
            return Err("Changing a token's SecretID is not permitted".into());
        }
        if token.local != existing.local {
            return Err(format!("Cannot toggle local mode of {accessor}"));
        }
        if token.auth_method.is_empty() {
            token.auth_method = existing.auth_method.clone();
        } else if token.auth_method != existing.auth_method {
            return Err(format!("Cannot change AuthMethod of {accessor}"));
        }
        if !token.expiration_ttl.is_empty() {
            return Err(format!("Cannot change expiration time of {accessor}"));
        }
        match token.expiration_time {
            Some(at) if existing.expiration_time != Some(at) => {
                return Err(format!("Cannot change expiration time of {accessor}"));
            }
            _ => token.expiration_time = existing.expiration_time,
        }
        token.accessor_id = existing.accessor_id.clone();
        token.create_time = existing.create_time;
        Ok(token)
    }

    fn prepare_token_clone(
        &self,
        source: &str,
        request: &AclToken,
        now: GoTime,
    ) -> Result<AclToken, String> {
        let source = match self.acl.tokens.get(fold(source).as_str()) {
            Some(source) if !source.is_expired(now) => source,
            _ => return Err(ACL_NOT_FOUND.into()),
        };
        if !source.auth_method.is_empty() {
            return Err("Cannot clone a token created from an auth method".into());
        }
        let clone = AclToken {
            accessor_id: request.accessor_id.clone(),
            secret_id: request.secret_id.clone(),
            description: if request.description.is_empty() {
                source.description.clone()
            } else {
                request.description.clone()
            },
            policies: source.policies.clone(),
            roles: source.roles.clone(),
            service_identities: source.service_identities.clone(),
            node_identities: source.node_identities.clone(),
            templated_policies: source.templated_policies.clone(),
            local: source.local,
            expiration_time: source.expiration_time,
            ..AclToken::default()
        };
        // Links to policies and roles deleted since are dropped, as a read would.
        let clone = AclToken {
            policies: self.live_links(&clone.policies, |key| self.acl.policies.contains_key(key)),
            roles: self.live_links(&clone.roles, |key| self.acl.roles.contains_key(key)),
            ..clone
        };
        self.prepare_token_create(clone, now)
    }

    fn live_links(
        &self,
        links: &[proconsul_api::acl::AclLink],
        exists: impl Fn(&str) -> bool,
    ) -> Vec<proconsul_api::acl::AclLink> {
        links
            .iter()
            .filter(|link| exists(fold(&link.id).as_str()))
            .cloned()
            .collect()
    }

    /// Links by ID, validated identities, and the hash.
    fn normalize_token(&self, mut token: AclToken) -> Result<AclToken, String> {
        token.roles = normalize_links(&self.acl, LinkKind::Role, &token.roles)?;
        token.policies = normalize_links(&self.acl, LinkKind::Policy, &token.policies)?;
        token.service_identities =
            normalize_service_identities(&token.service_identities, token.local, "token")?;
        token.node_identities = normalize_node_identities(&token.node_identities, "token")?;
        token.templated_policies =
            normalize_templated_policies(&token.templated_policies, "token")?;
        token.hash = Some(token_hash(&token));
        Ok(token)
    }

    /// Deletes a token (an unknown one is no error, as in Consul); the anonymous token
    /// cannot be deleted.
    pub(crate) fn apply_acl_token_delete(
        &mut self,
        index: u64,
        accessor_id: &str,
    ) -> CommandOutcome {
        let key = fold(accessor_id);
        if key == ANONYMOUS_TOKEN_ACCESSOR_ID {
            return CommandOutcome::Rejected(ACL_ANONYMOUS_DELETE.into());
        }
        if self.acl.remove_token(&key).is_some() {
            self.table_indexes.bump(Table::AclTokens, index);
        }
        CommandOutcome::Done
    }

    /// Deletes every token whose `ExpirationTime` is before `now`.
    pub(crate) fn apply_acl_tokens_expire(&mut self, index: u64, now: GoTime) -> CommandOutcome {
        let expired: Vec<_> = self
            .acl
            .expiries
            .iter()
            .take_while(|(at, _)| *at < now)
            .map(|(_, key)| key.clone())
            .collect();
        if expired.is_empty() {
            return CommandOutcome::Done;
        }
        let mut removed = Vec::with_capacity(expired.len());
        for key in expired {
            if let Some(token) = self.acl.remove_token(&key) {
                removed.push(token.accessor_id.clone());
            }
        }
        self.table_indexes.bump(Table::AclTokens, index);
        CommandOutcome::Acl(AclOutcome::Expired(removed))
    }
}
