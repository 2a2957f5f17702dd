//! `/v1/connect/intentions*`: Connect intentions, by (source, destination) name (Consul
//! 1.9's API) and by ID (the deprecated create-by-body API HashiCorp's Go client still
//! offers), plus `check` and `match`. Writes go through Raft; reads block on the
//! intentions table.
//!
//! ACLs: reading an intention needs `intentions:read` on its destination (lists leave
//! out the rest), writing needs `intentions:write` there; `check` needs `service:read`
//! on the destination. Without a matching intention, `check` answers the agent's
//! default: allow without ACLs, else what `acl.default_policy` says.

use crate::telemetry::timed_routes::{TimedRoutes, get};
use axum::Router;
use axum::body::Bytes;
use axum::extract::Path;
use axum::response::{IntoResponse, Response};
use proconsul_acl::{Access, Authorize, Permission};
use proconsul_api::connect::{Intention, IntentionAnswer, IntentionRequest, WILDCARD};
use proconsul_state::{Command, CommandOutcome, MatchBy, Table};
use serde_json::json;

use crate::http::AppState;
use crate::http::context::Ctx;
use crate::http::decode::decode_body;
use crate::http::error::ApiError;
use crate::http::respond::{json, query_json};

/// The intention routes, merged into the API router.
pub fn routes() -> Router<AppState> {
    Router::new()
        .timed_route("/v1/connect/intentions", get(list).post(create))
        .timed_route(
            "/v1/connect/intentions/exact",
            get(read_exact).put(upsert_exact).delete(delete_exact),
        )
        .timed_route("/v1/connect/intentions/check", get(check))
        .timed_route("/v1/connect/intentions/match", get(match_intentions))
        .timed_route(
            "/v1/connect/intentions/{id}",
            get(read_by_id).put(update_by_id).delete(delete_by_id),
        )
}

/// `GET /v1/connect/intentions`: those the token may read, highest precedence first.
async fn list(ctx: Ctx) -> Result<Response, ApiError> {
    let (meta, intentions) = ctx
        .blocking(&[Table::Intentions], |state| {
            let intentions: Vec<Intention> = state
                .intentions()
                .into_iter()
                .filter(|intention| {
                    ctx.authz
                        .keep(ctx.authz.intention_read(&intention.destination_name))
                })
                .filter(|intention| ctx.keep(&intention.answer()))
                .map(|intention| (**intention).clone())
                .collect();
            (state.table_indexes().get(Table::Intentions), intentions)
        })
        .await?;
    let answers: Vec<IntentionAnswer<'_>> = intentions.iter().map(Intention::answer).collect();
    Ok(query_json(&meta, &answers, ctx.options.pretty))
}

/// `GET /v1/connect/intentions/exact?source=&destination=`; 404 when there is none.
async fn read_exact(ctx: Ctx) -> Result<Response, ApiError> {
    let (source, destination) = pair(&ctx)?;
    read_one(&ctx, &destination, |state| {
        state
            .intention_exact(&source, &destination)
            .map(|found| (**found).clone())
    })
    .await
}

/// `GET /v1/connect/intentions/:id`.
async fn read_by_id(ctx: Ctx, Path(id): Path<String>) -> Result<Response, ApiError> {
    let found = ctx
        .agent
        .consensus()?
        .reader()
        .current()
        .intention_by_id(&id)
        .cloned();
    let destination = found.map_or_else(String::new, |found| found.destination_name.clone());
    read_one(&ctx, &destination, |state| {
        state.intention_by_id(&id).map(|found| (**found).clone())
    })
    .await
}

async fn read_one(
    ctx: &Ctx,
    destination: &str,
    find: impl Fn(&proconsul_state::State) -> Option<Intention>,
) -> Result<Response, ApiError> {
    ctx.authz
        .require(Permission::intention(Access::Read, destination))?;
    let (meta, found) = ctx
        .blocking(&[Table::Intentions], |state| {
            (state.table_indexes().get(Table::Intentions), find(state))
        })
        .await?;
    match found {
        Some(intention) => Ok(query_json(&meta, &intention.answer(), ctx.options.pretty)),
        None => Err(ApiError::not_found("Intention not found")),
    }
}

/// `PUT /v1/connect/intentions/exact?source=&destination=`: creates or replaces the
/// pair's intention; answers `true`.
async fn upsert_exact(ctx: Ctx, body: Bytes) -> Result<Response, ApiError> {
    let (source, destination) = pair(&ctx)?;
    let mut request: IntentionRequest = decode_body(&body)?;
    request.source_name = source;
    request.destination_name = destination;
    write(&ctx, String::new(), request).await?;
    Ok(json(&true, ctx.options.pretty))
}

/// `POST /v1/connect/intentions` (deprecated): creates an intention with a new ID;
/// answers `{"ID": ...}`. The pair must be free.
async fn create(ctx: Ctx, body: Bytes) -> Result<Response, ApiError> {
    let request: IntentionRequest = decode_body(&body)?;
    // Refused before anything about the pair is said.
    ctx.authz.require(Permission::intention(
        Access::Write,
        &request.destination_name,
    ))?;
    let state = ctx.agent.consensus()?.reader().current();
    if state
        .intention_exact(&request.source_name, &request.destination_name)
        .is_some()
    {
        return Err(ApiError::internal(format!(
            "duplicate intention found: {} => {}",
            request.source_name, request.destination_name
        )));
    }
    let id = uuid::Uuid::new_v4().to_string();
    write(&ctx, id.clone(), request).await?;
    Ok(json(&json!({ "ID": id }), ctx.options.pretty))
}

/// `PUT /v1/connect/intentions/:id` (deprecated): replaces the intention with that ID.
async fn update_by_id(ctx: Ctx, Path(id): Path<String>, body: Bytes) -> Result<Response, ApiError> {
    let request: IntentionRequest = decode_body(&body)?;
    let state = ctx.agent.consensus()?.reader().current();
    let Some(existing) = state.intention_by_id(&id) else {
        return Err(ApiError::internal("Cannot modify non-existent intention"));
    };
    ctx.authz.require(Permission::intention(
        Access::Write,
        &existing.destination_name,
    ))?;
    write(&ctx, id, request).await?;
    Ok(().into_response())
}

/// Validates a write and proposes it; answers once it is committed and applied.
async fn write(ctx: &Ctx, id: String, request: IntentionRequest) -> Result<(), ApiError> {
    ctx.authz.require(Permission::intention(
        Access::Write,
        &request.destination_name,
    ))?;
    if request.source_name.is_empty() || request.destination_name.is_empty() {
        return Err(ApiError::bad_request(
            "Invalid intention: SourceName and DestinationName must be set",
        ));
    }
    if request.action != "allow" && request.action != "deny" {
        return Err(ApiError::bad_request(
            "Invalid intention: Action must be set to 'allow' or 'deny'",
        ));
    }
    let source_type = if request.source_type.is_empty() {
        "consul".to_string()
    } else {
        request.source_type
    };
    if source_type != "consul" {
        return Err(ApiError::bad_request(
            "Invalid intention: SourceType must be set to 'consul'",
        ));
    }
    let intention = Intention {
        id,
        description: request.description,
        source_name: request.source_name,
        destination_name: request.destination_name,
        source_type,
        action: request.action,
        meta: request.meta.unwrap_or_default(),
        create_index: 0,
        modify_index: 0,
    };
    propose(ctx, Command::IntentionSet(Box::new(intention))).await
}

/// `DELETE /v1/connect/intentions/exact?source=&destination=`; answers `true`.
async fn delete_exact(ctx: Ctx) -> Result<Response, ApiError> {
    let (source, destination) = pair(&ctx)?;
    ctx.authz
        .require(Permission::intention(Access::Write, &destination))?;
    propose(
        &ctx,
        Command::IntentionDelete {
            source,
            destination,
        },
    )
    .await?;
    Ok(json(&true, ctx.options.pretty))
}

/// `DELETE /v1/connect/intentions/:id` (deprecated).
async fn delete_by_id(ctx: Ctx, Path(id): Path<String>) -> Result<Response, ApiError> {
    let state = ctx.agent.consensus()?.reader().current();
    let Some(existing) = state.intention_by_id(&id).cloned() else {
        return Err(ApiError::internal("Cannot delete non-existent intention"));
    };
    ctx.authz.require(Permission::intention(
        Access::Write,
        &existing.destination_name,
    ))?;
    let command = Command::IntentionDelete {
        source: existing.source_name.clone(),
        destination: existing.destination_name.clone(),
    };
    propose(&ctx, command).await?;
    Ok(().into_response())
}

async fn propose(ctx: &Ctx, command: Command) -> Result<(), ApiError> {
    match ctx.agent.consensus()?.write(command).await?.outcome {
        CommandOutcome::Rejected(reason) => Err(ApiError::internal(reason)),
        _ => Ok(()),
    }
}

/// `GET /v1/connect/intentions/check?source=&destination=`: `{"Allowed": bool}`.
async fn check(ctx: Ctx) -> Result<Response, ApiError> {
    let (source, destination) = pair(&ctx)?;
    ctx.authz
        .require(Permission::service(Access::Read, &destination))?;
    let default_allow = ctx
        .agent
        .acl_resolver
        .as_ref()
        .is_none_or(|resolver| resolver.default_policy_name() == "allow");
    let allowed = ctx
        .agent
        .consensus()?
        .reader()
        .with_current(|state| state.intention_allows(&source, &destination, default_allow));
    Ok(json(&json!({ "Allowed": allowed }), ctx.options.pretty))
}

/// `GET /v1/connect/intentions/match?by=source|destination&name=N` (`name` may repeat):
/// `{N: [intentions that apply, highest precedence first]}`.
async fn match_intentions(ctx: Ctx) -> Result<Response, ApiError> {
    let by = match ctx.params.get("by") {
        Some("source") => MatchBy::Source,
        Some("destination") => MatchBy::Destination,
        Some(_) => {
            return Err(ApiError::bad_request(
                "'by' parameter must be 'source' or 'destination'",
            ));
        }
        None => {
            return Err(ApiError::bad_request(
                "required query parameter 'by' not set",
            ));
        }
    };
    let names: Vec<String> = ctx.params.all("name").map(str::to_string).collect();
    if names.is_empty() {
        return Err(ApiError::bad_request(
            "required query parameter 'name' not set",
        ));
    }
    for name in &names {
        ctx.authz
            .require(Permission::intention(Access::Read, name))?;
    }
    let (meta, matched) = ctx
        .blocking(&[Table::Intentions], |state| {
            let matched: Vec<(String, Vec<Intention>)> = names
                .iter()
                .map(|name| {
                    let found = state
                        .intentions_matching(by, name)
                        .into_iter()
                        .filter(|intention| {
                            ctx.authz
                                .keep(ctx.authz.intention_read(&intention.destination_name))
                        })
                        .map(|intention| (**intention).clone())
                        .collect();
                    (name.clone(), found)
                })
                .collect();
            (state.table_indexes().get(Table::Intentions), matched)
        })
        .await?;
    let answer: serde_json::Map<String, serde_json::Value> = matched
        .iter()
        .map(|(name, found)| {
            let answers: Vec<IntentionAnswer<'_>> = found.iter().map(Intention::answer).collect();
            (
                name.clone(),
                serde_json::to_value(answers).unwrap_or_default(),
            )
        })
        .collect();
    Ok(query_json(&meta, &answer, ctx.options.pretty))
}

/// `?source=` and `?destination=`, both required.
fn pair(ctx: &Ctx) -> Result<(String, String), ApiError> {
    let required = |name: &str| {
        ctx.params
            .get(name)
            .filter(|value| !value.is_empty())
            .map(str::to_string)
            .ok_or_else(|| {
                ApiError::bad_request(format!("required query parameter '{name}' not set"))
            })
    };
    let source = required("source")?;
    let destination = required("destination")?;
    if source.contains('*') && source != WILDCARD
        || destination.contains('*') && destination != WILDCARD
    {
        return Err(ApiError::bad_request(
            "Invalid intention: wildcard usage is only allowed as the whole name",
        ));
    }
    Ok((source, destination))
}
