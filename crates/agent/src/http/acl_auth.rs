//! `/v1/acl/auth-method{,s}` (create, read, update, delete, list) and `login`/`logout`.
//!
//! Auth methods are stored and returned in Consul's shapes; Proconsul does not verify
//! bearer tokens with them, so a login through an existing method is refused with a
//! text saying so, while a login through an unknown method and a logout of a token
//! that did not come from a login answer as Consul does (403 `ACL not found: auth
//! method "x" not found`, 403 `Permission denied`).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use proconsul_api::acl::{AclAuthMethod, JsonObject};
use proconsul_state::{
    ACL_AUTH_METHOD_DELETE_NOT_FOUND, AclOutcome, Command, CommandOutcome, Table,
};
use serde::{Deserialize, Serialize};

use crate::http::acl::{apply, request_secret, require_read, require_write};
use crate::http::acl_decode::decode_strict;
use crate::http::context::Ctx;
use crate::http::error::ApiError;
use crate::http::respond::{json, query_json};
use crate::telemetry::Timer;

const DECODING_FAILED: &str = "AuthMethod decoding failed";
const NOT_FOUND: &str = "Requested auth method does not exist: ACL not found";

/// `PUT /v1/acl/auth-method`: creates or replaces the method the body names.
pub async fn create_method(ctx: Ctx, body: Bytes) -> Result<Response, ApiError> {
    let method: AclAuthMethod = decode_strict(&body, DECODING_FAILED)?;
    write_method(ctx, method).await
}

/// `PUT /v1/acl/auth-method/:name`: the body's `Name`, if any, must be the path's.
pub async fn update_method(
    ctx: Ctx,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let mut method: AclAuthMethod = decode_strict(&body, DECODING_FAILED)?;
    if method.name.is_empty() {
        method.name = name;
    } else if method.name != name {
        return Err(ApiError::bad_request(
            "AuthMethod Name in URL and payload do not match",
        ));
    }
    write_method(ctx, method).await
}

async fn write_method(ctx: Ctx, method: AclAuthMethod) -> Result<Response, ApiError> {
    let _timer = Timer::start(&ctx.agent.metrics.acl.authmethod_upsert);
    require_write(&ctx)?;
    match apply(&ctx, Command::AclAuthMethodSet(Box::new(method))).await? {
        CommandOutcome::Acl(AclOutcome::AuthMethod(method)) => {
            Ok(json(&method, ctx.options.pretty))
        }
        other => Err(ApiError::internal(format!(
            "unexpected outcome of an auth method write: {other:?}"
        ))),
    }
}

/// `GET /v1/acl/auth-method/:name`.
pub async fn read_method(ctx: Ctx, Path(name): Path<String>) -> Result<Response, ApiError> {
    require_read(&ctx)?;
    let (meta, method) = ctx
        .blocking(&[Table::AclAuthMethods], |state| {
            (
                state.table_indexes().get(Table::AclAuthMethods),
                state.acl_auth_method(&name).cloned(),
            )
        })
        .await?;
    let method: Arc<AclAuthMethod> = method.ok_or_else(|| ApiError::not_found(NOT_FOUND))?;
    Ok(query_json(&meta, &method, ctx.options.pretty))
}

/// `DELETE /v1/acl/auth-method/:name`: `true`; the method's binding rules and the
/// tokens it issued go with it.
pub async fn delete_method(ctx: Ctx, Path(name): Path<String>) -> Result<Response, ApiError> {
    let _timer = Timer::start(&ctx.agent.metrics.acl.authmethod_delete);
    require_write(&ctx)?;
    match apply(&ctx, Command::AclAuthMethodDelete { name }).await {
        Ok(_) => Ok(json(&true, ctx.options.pretty)),
        Err(error) if error.message == ACL_AUTH_METHOD_DELETE_NOT_FOUND => {
            Err(ApiError::not_found(error.message))
        }
        Err(error) => Err(error),
    }
}

/// One entry of `GET /v1/acl/auth-methods` (`structs.ACLAuthMethodListStub`): the
/// method without its `Config`.
#[derive(Serialize)]
#[serde(rename = "AclAuthMethod", rename_all = "PascalCase")]
struct MethodStub<'a> {
    name: &'a str,
    #[serde(rename = "Type")]
    kind: &'a str,
    display_name: &'a str,
    description: &'a str,
    #[serde(rename = "MaxTokenTTL")]
    max_token_ttl: &'a str,
    token_locality: &'a str,
    create_index: u64,
    modify_index: u64,
}

impl<'a> From<&'a AclAuthMethod> for MethodStub<'a> {
    fn from(method: &'a AclAuthMethod) -> MethodStub<'a> {
        MethodStub {
            name: &method.name,
            kind: &method.kind,
            display_name: &method.display_name,
            description: &method.description,
            max_token_ttl: &method.max_token_ttl,
            token_locality: &method.token_locality,
            create_index: method.create_index,
            modify_index: method.modify_index,
        }
    }
}

/// `GET /v1/acl/auth-methods`: list entries, `[]` when there are none.
pub async fn list_methods(ctx: Ctx) -> Result<Response, ApiError> {
    require_read(&ctx)?;
    let (meta, methods) = ctx
        .blocking(&[Table::AclAuthMethods], |state| {
            let methods: Vec<Arc<AclAuthMethod>> = state.acl_auth_methods().cloned().collect();
            (state.table_indexes().get(Table::AclAuthMethods), methods)
        })
        .await?;
    let stubs: Vec<MethodStub<'_>> = methods.iter().map(|m| MethodStub::from(&**m)).collect();
    Ok(query_json(&meta, &stubs, ctx.options.pretty))
}

/// `structs.ACLLoginParams`.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct LoginRequest {
    auth_method: String,
    bearer_token: String,
    meta: Option<JsonObject>,
}

/// `POST /v1/acl/login`.
pub async fn login(ctx: Ctx, body: Bytes) -> Result<Response, ApiError> {
    let _timer = Timer::start(&ctx.agent.metrics.acl.login);
    let request: LoginRequest = decode_strict(&body, "Failed to decode request body")?;
    let state = ctx.agent.consensus()?.reader().current();
    match state.acl_auth_method(&request.auth_method) {
        None => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!(
                "ACL not found: auth method {} not found",
                serde_json::Value::from(request.auth_method.as_str())
            ),
        )),
        Some(method) => Err(ApiError::internal(format!(
            "Proconsul cannot validate logins through auth method {} of type {}",
            serde_json::Value::from(method.name.as_str()),
            serde_json::Value::from(method.kind.as_str())
        ))),
    }
}

/// `POST /v1/acl/logout`: deletes the request's token if a login made it.
pub async fn logout(ctx: Ctx) -> Result<Response, ApiError> {
    let _timer = Timer::start(&ctx.agent.metrics.acl.logout);
    let Some(secret) = request_secret(&ctx) else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "Supplied token does not exist",
        ));
    };
    let state = ctx.agent.consensus()?.reader().current();
    let token = state
        .acl_token_by_secret(&secret)
        .ok_or_else(|| ApiError::new(StatusCode::FORBIDDEN, "ACL not found"))?;
    if token.auth_method.is_empty() {
        return Err(ApiError::permission_denied());
    }
    apply(
        &ctx,
        Command::AclTokenDelete {
            accessor_id: token.accessor_id,
        },
    )
    .await?;
    Ok(json(&true, ctx.options.pretty))
}
