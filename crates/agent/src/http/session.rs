//! `/v1/session`: create, destroy, renew and read sessions.
//!
//! Error texts are Consul's: clients such as Patroni read them (`Invalid Session TTL`,
//! `invalid session`).

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::Path;
use axum::response::Response;
use proconsul_acl::{Access, Authorize, Permission};
use proconsul_api::duration::parse_duration;
use proconsul_api::{ServiceCheckRef, Session, SessionBehavior};
use proconsul_state::{Command, CommandOutcome, State, Table};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::http::context::Ctx;
use crate::http::decode::decode_body;
use crate::http::error::ApiError;
use crate::http::respond::{json, query_json};
use crate::sessions;

/// The shortest and longest session TTL Consul accepts.
const TTL_MIN: Duration = Duration::from_secs(10);
const TTL_MAX: Duration = Duration::from_secs(86400);
/// Consul's default lock delay.
const DEFAULT_LOCK_DELAY: Duration = Duration::from_secs(15);

/// The body of `PUT /v1/session/create`; every field may be left out.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct SessionRequest {
    name: String,
    node: String,
    lock_delay: Option<Value>,
    behavior: Option<String>,
    #[serde(rename = "TTL")]
    ttl: Option<String>,
    node_checks: Option<Vec<String>>,
    service_checks: Option<Vec<ServiceCheckRef>>,
    /// The legacy spelling of `NodeChecks`.
    checks: Option<Vec<String>>,
}

/// `PUT /v1/session/create`: answers `{"ID": ...}`.
pub async fn create(ctx: Ctx, body: Bytes) -> Result<Response, ApiError> {
    let request: SessionRequest = decode_body(&body)?;
    let node = if request.node.is_empty() {
        ctx.agent_node().to_string()
    } else {
        request.node
    };
    ctx.authz
        .require(Permission::session(Access::Write, &node))?;
    let behavior = match request
        .behavior
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("") | Some("release") => SessionBehavior::Release,
        Some("delete") => SessionBehavior::Delete,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "Invalid Behavior setting '{other}'"
            )));
        }
    };
    let ttl = request.ttl.unwrap_or_default();
    if !ttl.is_empty() {
        let parsed = parse_duration(&ttl)
            .map_err(|error| ApiError::internal(format!("Session TTL '{ttl}' invalid: {error}")))?;
        if !parsed.is_zero() && !(TTL_MIN..=TTL_MAX).contains(&parsed) {
            return Err(ApiError::internal(format!(
                "Invalid Session TTL '{}', must be between [10s=24h0m0s]",
                parsed.as_nanos()
            )));
        }
    }
    let session = Session {
        id: uuid::Uuid::new_v4().to_string(),
        name: request.name,
        node,
        lock_delay: lock_delay(request.lock_delay)?,
        behavior,
        ttl,
        node_checks: request
            .node_checks
            .or(request.checks)
            .unwrap_or_else(|| vec!["serfHealth".to_string()]),
        service_checks: request.service_checks.unwrap_or_default(),
        create_index: 0,
        modify_index: 0,
    };
    let _timer = crate::telemetry::Timer::start(&ctx.agent.metrics.session_apply);
    let applied = ctx
        .agent
        .consensus()?
        .write(Command::SessionCreate(Box::new(session.clone())))
        .await?;
    if let CommandOutcome::Rejected(reason) = applied.outcome {
        return Err(ApiError::internal(reason));
    }
    ctx.agent.sessions.arm(&session);
    Ok(json(&json!({ "ID": session.id }), ctx.options.pretty))
}

/// `LockDelay` as Consul reads it: a Go duration, or a number of nanoseconds (numbers
/// under 1000 are seconds, Consul's fix-up for clients that sent seconds).
fn lock_delay(value: Option<Value>) -> Result<u64, ApiError> {
    let invalid = |detail: String| {
        ApiError::bad_request(format!("Request decode failed: LockDelay: {detail}"))
    };
    let nanos = |duration: Duration| u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX);
    match value {
        None | Some(Value::Null) => Ok(nanos(DEFAULT_LOCK_DELAY)),
        Some(Value::String(text)) => parse_duration(&text)
            .map(nanos)
            .map_err(|error| invalid(error.to_string())),
        Some(Value::Number(number)) => {
            let value = number
                .as_u64()
                .or_else(|| number.as_f64().filter(|v| *v >= 0.0).map(|v| v as u64))
                .ok_or_else(|| invalid(format!("{number} is not a duration")))?;
            Ok(if value < 1000 {
                value.saturating_mul(1_000_000_000)
            } else {
                value
            })
        }
        Some(other) => Err(invalid(format!("{other} is not a duration"))),
    }
}

/// `PUT /v1/session/destroy/:id`.
pub async fn destroy(ctx: Ctx, Path(id): Path<String>) -> Result<Response, ApiError> {
    let state = ctx.agent.consensus()?.reader().current();
    if let Some(session) = state.session(&id) {
        ctx.authz
            .require(Permission::session(Access::Write, &session.node))?;
    }
    ctx.agent.sessions.remove(&id);
    let _timer = crate::telemetry::Timer::start(&ctx.agent.metrics.session_apply);
    ctx.agent
        .consensus()?
        .write(Command::SessionDestroy {
            id,
            now_ms: sessions::now_ms(),
        })
        .await?;
    Ok(json(&true, ctx.options.pretty))
}

/// `PUT /v1/session/renew/:id`: restarts the TTL; answers the session in a list.
pub async fn renew(ctx: Ctx, Path(id): Path<String>) -> Result<Response, ApiError> {
    let _timer = crate::telemetry::Timer::start(&ctx.agent.metrics.session_renew);
    let state = ctx.agent.consensus()?.reader().current();
    let Some(session) = state.session(&id) else {
        return Err(ApiError::not_found(format!("Session id '{id}' not found")));
    };
    ctx.authz
        .require(Permission::session(Access::Write, &session.node))?;
    ctx.agent.sessions.arm(session);
    Ok(json(&[&**session], ctx.options.pretty))
}

/// `GET /v1/session/info/:id`.
pub async fn info(ctx: Ctx, Path(id): Path<String>) -> Result<Response, ApiError> {
    list_where(ctx, move |state| {
        state
            .session(&id)
            .map(|s| (**s).clone())
            .into_iter()
            .collect()
    })
    .await
}

/// `GET /v1/session/node/:node`.
pub async fn node(ctx: Ctx, Path(node): Path<String>) -> Result<Response, ApiError> {
    list_where(ctx, move |state| {
        state.node_sessions(&node).map(|s| (**s).clone()).collect()
    })
    .await
}

/// `GET /v1/session/list`.
pub async fn list(ctx: Ctx) -> Result<Response, ApiError> {
    list_where(ctx, |state| {
        state.sessions().map(|s| (**s).clone()).collect()
    })
    .await
}

async fn list_where(
    ctx: Ctx,
    select: impl Fn(&State) -> Vec<Session>,
) -> Result<Response, ApiError> {
    let (meta, sessions) = ctx
        .blocking(&[Table::Sessions], |state| {
            let sessions: Vec<Session> = select(state)
                .into_iter()
                .filter(|session| ctx.authz.keep(ctx.authz.session_read(&session.node)))
                .filter(|session| ctx.keep(session))
                .collect();
            (state.table_indexes().sessions, sessions)
        })
        .await?;
    Ok(query_json(&meta, &sessions, ctx.options.pretty))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_delays_as_consul_reads_them() {
        assert_eq!(lock_delay(None).unwrap(), 15_000_000_000);
        assert_eq!(lock_delay(Some(json!("0.001s"))).unwrap(), 1_000_000);
        assert_eq!(lock_delay(Some(json!(15))).unwrap(), 15_000_000_000);
        assert_eq!(lock_delay(Some(json!(2_000_000))).unwrap(), 2_000_000);
        assert!(lock_delay(Some(json!("soon"))).is_err());
    }
}
