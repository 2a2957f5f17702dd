//! `/v1/acl/binding-rule{,s}`: create, read, update, delete and list
//! (`?authmethod=`), stored and returned in Consul's shapes. A missing rule reads as
//! 404 `Requested binding rule does not exist: ACL not found` and deletes as 404
//! `Cannot find binding rule to delete`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::Path;
use axum::response::Response;
use proconsul_api::acl::AclBindingRule;
use proconsul_state::{
    ACL_BINDING_RULE_DELETE_NOT_FOUND, AclOutcome, AclWriteOp, Command, CommandOutcome, Table,
};

use crate::http::acl::{apply, check_uuid, new_id, require_read, require_write};
use crate::http::acl_decode::decode_strict;
use crate::http::context::Ctx;
use crate::http::error::ApiError;
use crate::http::respond::{json, query_json};
use crate::telemetry::Timer;

const DECODING_FAILED: &str = "BindingRule decoding failed";
const NOT_FOUND: &str = "Requested binding rule does not exist: ACL not found";
const ID_MISMATCH: &str = "BindingRule ID in URL and payload do not match";

/// `PUT /v1/acl/binding-rule`: a new rule (any ID in the body is a mismatch with the
/// empty path ID, as in Consul).
pub async fn create(ctx: Ctx, body: Bytes) -> Result<Response, ApiError> {
    let mut rule: AclBindingRule = decode_strict(&body, DECODING_FAILED)?;
    if !rule.id.is_empty() {
        return Err(ApiError::bad_request(ID_MISMATCH));
    }
    rule.id = new_id();
    write(ctx, AclWriteOp::Create, rule).await
}

/// `PUT /v1/acl/binding-rule/:id`.
pub async fn update(ctx: Ctx, Path(id): Path<String>, body: Bytes) -> Result<Response, ApiError> {
    let mut rule: AclBindingRule = decode_strict(&body, DECODING_FAILED)?;
    if rule.id.is_empty() {
        rule.id = id;
    } else if rule.id != id {
        return Err(ApiError::bad_request(ID_MISMATCH));
    }
    write(ctx, AclWriteOp::Update, rule).await
}

async fn write(ctx: Ctx, op: AclWriteOp, rule: AclBindingRule) -> Result<Response, ApiError> {
    let _timer = Timer::start(&ctx.agent.metrics.acl.bindingrule_upsert);
    require_write(&ctx)?;
    let command = Command::AclBindingRuleSet {
        op,
        rule: Box::new(rule),
    };
    match apply(&ctx, command).await? {
        CommandOutcome::Acl(AclOutcome::BindingRule(rule)) => Ok(json(&rule, ctx.options.pretty)),
        other => Err(ApiError::internal(format!(
            "unexpected outcome of a binding rule write: {other:?}"
        ))),
    }
}

/// `GET /v1/acl/binding-rule/:id`.
pub async fn read(ctx: Ctx, Path(id): Path<String>) -> Result<Response, ApiError> {
    require_read(&ctx)?;
    check_uuid("binding rule", &id)?;
    let (meta, rule) = ctx
        .blocking(&[Table::AclBindingRules], |state| {
            (
                state.table_indexes().get(Table::AclBindingRules),
                state.acl_binding_rule(&id).cloned(),
            )
        })
        .await?;
    let rule: Arc<AclBindingRule> = rule.ok_or_else(|| ApiError::not_found(NOT_FOUND))?;
    Ok(query_json(&meta, &rule, ctx.options.pretty))
}

/// `DELETE /v1/acl/binding-rule/:id`: `true`.
pub async fn delete(ctx: Ctx, Path(id): Path<String>) -> Result<Response, ApiError> {
    let _timer = Timer::start(&ctx.agent.metrics.acl.bindingrule_delete);
    require_write(&ctx)?;
    check_uuid("binding rule", &id)?;
    match apply(&ctx, Command::AclBindingRuleDelete { id }).await {
        Ok(_) => Ok(json(&true, ctx.options.pretty)),
        Err(error) if error.message == ACL_BINDING_RULE_DELETE_NOT_FOUND => {
            Err(ApiError::not_found(error.message))
        }
        Err(error) => Err(error),
    }
}

/// `GET /v1/acl/binding-rules`: `[]` when there are none.
pub async fn list(ctx: Ctx) -> Result<Response, ApiError> {
    require_read(&ctx)?;
    let method = ctx
        .params
        .get("authmethod")
        .filter(|method| !method.is_empty())
        .map(str::to_string);
    let (meta, rules) = ctx
        .blocking(&[Table::AclBindingRules], |state| {
            let rules: Vec<Arc<AclBindingRule>> = state
                .acl_binding_rules(method.as_deref())
                .into_iter()
                .cloned()
                .collect();
            (state.table_indexes().get(Table::AclBindingRules), rules)
        })
        .await?;
    Ok(query_json(&meta, &rules, ctx.options.pretty))
}
