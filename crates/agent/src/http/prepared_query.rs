//! `/v1/query`: prepared queries. Create, update and delete go through Raft; list and
//! read are blocking-capable reads of the prepared-query table; execute and explain
//! resolve an ID or a name (templates by longest prefix) and run or render the query
//! against one state (`proconsul_state`'s pure functions).
//!
//! Errors are Consul's: an unknown query is a 404 `Query not found`; a query Consul's
//! server refuses (no service name, a bad template, a name taken) is a 500 with its text;
//! a body that does not decode is a 400.

use proconsul_acl::{Access, Authorize, Permission};
use std::net::SocketAddr;

use crate::telemetry::timed_routes::{TimedRoutes, get, put};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path};
use axum::http::{Extensions, HeaderMap};
use axum::response::{IntoResponse, Response};
use proconsul_api::query::{
    BodyQueryMeta, PreparedQuery, PreparedQueryExecuteResponse, PreparedQueryExplainResponse,
};
use proconsul_state::{
    Command, CommandOutcome, ExecuteRequest, PreparedQueryOp, QUERY_NOT_FOUND, State, Table,
    validate_query,
};
use serde_json::json;

use crate::acl::AclRefusal;
use crate::http::AppState;
use crate::http::context::Ctx;
use crate::http::decode::decode_body;
use crate::http::error::ApiError;
use crate::http::query::{Consistency, QueryMeta};
use crate::http::respond::{json, query_json};

/// The tables an execution reads: the queries and the catalog.
const EXECUTE_TABLES: [Table; 4] = [
    Table::PreparedQueries,
    Table::Nodes,
    Table::Services,
    Table::Checks,
];

/// The `/v1/query` routes, merged into the API router.
pub fn routes() -> Router<AppState> {
    Router::new()
        .timed_route("/v1/query", get(list).post(create))
        .timed_route("/v1/query/{id}", get(read).put(update).delete(delete))
        .timed_route("/v1/query/{id}/execute", get(execute))
        .timed_route("/v1/query/{id}/explain", get(explain))
        .timed_route(
            crate::http::query_failover::EXECUTE_REMOTE_PATH,
            put(execute_remote),
        )
}

/// `POST /v1/query`: stores a new query under a fresh ID; answers `{"ID": ...}`.
async fn create(ctx: Ctx, body: Bytes) -> Result<Response, ApiError> {
    let mut query: PreparedQuery = decode_body(&body)?;
    query.id = uuid::Uuid::new_v4().to_string();
    let id = query.id.clone();
    write(&ctx, PreparedQueryOp::Create, query).await?;
    Ok(json(&json!({ "ID": id }), ctx.options.pretty))
}

/// `PUT /v1/query/:id`: replaces the query (the ID in the path wins over the body's).
async fn update(ctx: Ctx, Path(id): Path<String>, body: Bytes) -> Result<Response, ApiError> {
    let mut query: PreparedQuery = decode_body(&body)?;
    query.id = id;
    write(&ctx, PreparedQueryOp::Update, query).await?;
    Ok(().into_response())
}

/// `DELETE /v1/query/:id`.
async fn delete(ctx: Ctx, Path(id): Path<String>) -> Result<Response, ApiError> {
    let state = ctx.agent.consensus()?.reader().current();
    if let Some(query) = state.prepared_query(&id) {
        require_query_write(&ctx, &query.name)?;
    }
    let applied = ctx
        .agent
        .consensus()?
        .write(Command::PreparedQueryDelete { id })
        .await?;
    if let CommandOutcome::Rejected(reason) = applied.outcome {
        return Err(ApiError::internal(reason));
    }
    Ok(().into_response())
}

/// Validates and proposes a create or update; answers once it is committed and applied.
async fn write(ctx: &Ctx, op: PreparedQueryOp, mut query: PreparedQuery) -> Result<(), ApiError> {
    require_query_write(ctx, &query.name)?;
    if op == PreparedQueryOp::Update {
        let state = ctx.agent.consensus()?.reader().current();
        if let Some(existing) = state.prepared_query(&query.id) {
            require_query_write(ctx, &existing.name)?;
        }
    }
    query.create_index = 0;
    query.modify_index = 0;
    validate_query(&query).map_err(ApiError::internal)?;
    let applied = ctx
        .agent
        .consensus()?
        .write(Command::PreparedQuerySet {
            op,
            query: Box::new(query),
        })
        .await?;
    match applied.outcome {
        CommandOutcome::Rejected(reason) => Err(ApiError::internal(reason)),
        _ => Ok(()),
    }
}

/// `GET /v1/query`: every query (blocking on the table with `?index`).
async fn list(ctx: Ctx) -> Result<Response, ApiError> {
    let (meta, queries) = ctx
        .blocking(&[Table::PreparedQueries], |state| {
            let queries: Vec<PreparedQuery> = state
                .prepared_queries()
                .filter(|query| ctx.authz.keep(may_read_query(&ctx, &query.name)))
                .map(|query| {
                    let mut query = (**query).clone();
                    redact_token(&ctx, &mut query);
                    query
                })
                .filter(|query| ctx.keep(query))
                .collect();
            (state.table_indexes().prepared_queries, queries)
        })
        .await?;
    Ok(query_json(&meta, &queries, ctx.options.pretty))
}

/// `GET /v1/query/:id`: the query in a list of one; 404 when there is none.
async fn read(ctx: Ctx, Path(id): Path<String>) -> Result<Response, ApiError> {
    let (meta, query) = ctx
        .blocking(&[Table::PreparedQueries], |state| {
            let query = state.prepared_query(&id).map(|query| (**query).clone());
            (state.table_indexes().prepared_queries, query)
        })
        .await?;
    match query {
        Some(mut query) => {
            require_query_read(&ctx, &query.name)?;
            redact_token(&ctx, &mut query);
            Ok(query_json(&meta, &[query], ctx.options.pretty))
        }
        None => Err(ApiError::not_found(QUERY_NOT_FOUND)),
    }
}

/// The query `id_or_name` resolves to in `state`, rendered; the index of its answer.
fn resolve(state: &State, id_or_name: &str) -> Result<PreparedQuery, ApiError> {
    match state.resolve_prepared_query(id_or_name) {
        Ok(Some(query)) => Ok(query),
        Ok(None) => Err(ApiError::not_found(QUERY_NOT_FOUND)),
        Err(reason) => Err(ApiError::internal(reason)),
    }
}

/// `GET /v1/query/:id_or_name/execute` (`?near`, `?limit`, `?connect`). With no healthy
/// instance here, the query fails over to other datacenters
/// ([`crate::http::query_failover`]).
async fn execute(
    ctx: Ctx,
    Path(id_or_name): Path<String>,
    headers: HeaderMap,
    extensions: Extensions,
) -> Result<Response, ApiError> {
    let limit = ctx.params.u64("limit", "limit")?.unwrap_or(0);
    let connect = ctx.params.flag("connect");
    let near = ctx.params.get("near").map(str::to_string);
    let source_ip = source_ip(&headers, &extensions);
    let agent_node = ctx.agent_node().to_string();
    let datacenter = ctx.agent.config.datacenter.clone();
    let seed: u64 = rand::random();
    let (meta, outcome) = ctx
        .blocking(&EXECUTE_TABLES, |state| {
            let query = match resolve(state, &id_or_name) {
                Ok(query) => query,
                Err(error) => return (state.table_indexes().prepared_queries, Err(error)),
            };
            let request = ExecuteRequest {
                agent_node: &agent_node,
                source_ip: source_ip.as_deref(),
                near: near.as_deref(),
                limit: usize::try_from(limit).unwrap_or(usize::MAX),
                connect,
                seed,
            };
            let execution = execute_filtered(&ctx, state, &query, &request);
            let index = state
                .table_indexes()
                .prepared_queries
                .max(state.service_index(&execution.service));
            (index, Ok((query, execution)))
        })
        .await?;
    let (query, mut execution) = outcome?;
    let mut datacenter = datacenter;
    if execution.nodes.is_empty()
        && let Some(wan) = &ctx.agent.wan
        && let Some(found) = crate::http::query_failover::fail_over(
            wan,
            &agent_node,
            &query,
            usize::try_from(limit).unwrap_or(usize::MAX),
            connect,
            crate::http::forward::end_to_end(&headers).collect(),
        )
        .await
    {
        execution.failovers = found.failovers;
        execution.nodes = found.nodes;
        datacenter = found.datacenter.unwrap_or(datacenter);
    }
    let response = PreparedQueryExecuteResponse {
        service: execution.service,
        nodes: execution.nodes,
        dns: execution.dns,
        datacenter,
        peer_name: String::new(),
        failovers: execution.failovers,
        meta: body_meta(&meta),
    };
    Ok(query_json(&meta, &response, ctx.options.pretty))
}

/// `query` run against `state`, without what the request's token may not read.
fn execute_filtered(
    ctx: &Ctx,
    state: &State,
    query: &PreparedQuery,
    request: &ExecuteRequest<'_>,
) -> proconsul_state::Execution {
    let mut execution = state.execute_prepared_query(query, request);
    if !ctx.authz.keep(ctx.authz.service_read(&execution.service)) {
        execution.nodes.clear();
    }
    execution
        .nodes
        .retain(|entry| ctx.authz.keep(ctx.authz.node_read(&entry.node.node)));
    execution
}

/// `PUT /v1/internal/query/execute-remote`: another datacenter's server failing over to
/// this one runs the query it sends (as rendered there) against this datacenter's
/// catalog; the instances come back as JSON. Only requests forwarded over server RPC are
/// served (404 otherwise).
async fn execute_remote(ctx: Ctx, body: Bytes) -> Result<Response, ApiError> {
    if ctx.origin.is_none() {
        return Err(ApiError::not_found("404 page not found"));
    }
    let remote: crate::http::query_failover::RemoteExecute = serde_json::from_slice(&body)
        .map_err(|error| ApiError::bad_request(format!("Request decode failed: {error}")))?;
    let state = ctx.agent.consensus()?.reader().current();
    let request = ExecuteRequest {
        agent_node: ctx.agent_node(),
        limit: remote.limit,
        connect: remote.connect,
        seed: rand::random(),
        ..ExecuteRequest::default()
    };
    let execution = execute_filtered(&ctx, &state, &remote.query, &request);
    let body = serde_json::to_vec(&execution.nodes)
        .map_err(|error| ApiError::internal(error.to_string()))?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response())
}

/// `GET /v1/query/:id_or_name/explain`: the query as it would run for that name.
async fn explain(ctx: Ctx, Path(id_or_name): Path<String>) -> Result<Response, ApiError> {
    let (meta, outcome) = ctx
        .blocking(&[Table::PreparedQueries], |state| {
            (
                state.table_indexes().prepared_queries,
                resolve(state, &id_or_name),
            )
        })
        .await?;
    let mut query = outcome?;
    require_query_read(&ctx, &query.name)?;
    redact_token(&ctx, &mut query);
    let response = PreparedQueryExplainResponse {
        query,
        meta: body_meta(&meta),
    };
    Ok(query_json(&meta, &response, ctx.options.pretty))
}

/// The `QueryMeta` Consul embeds in execute and explain bodies.
pub(crate) fn body_meta(meta: &QueryMeta) -> BodyQueryMeta {
    BodyQueryMeta {
        index: meta.index.max(1),
        last_contact: u64::try_from(meta.last_contact.as_nanos()).unwrap_or(u64::MAX),
        known_leader: meta.known_leader,
        consistency_level: match meta.consistency {
            Consistency::Leader => "leader",
            Consistency::Stale => "stale",
            Consistency::Consistent => "consistent",
        }
        .to_string(),
        not_modified: false,
        backend: 0,
        results_filtered_by_acls: meta.results_filtered_by_acls,
    }
}

/// The request's source address as Consul takes it for `Near: "_ip"`: the first
/// `X-Forwarded-For` entry, else the peer's address (when the server records it).
fn source_ip(headers: &HeaderMap, extensions: &Extensions) -> Option<String> {
    let forwarded = headers
        .get("x-forwarded-for")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(',').next())
        .map(str::trim)
        .filter(|value| !value.is_empty())
        .map(str::to_string);
    forwarded.or_else(|| {
        extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(address)| address.ip().to_string())
    })
}

/// Consul's prepared-query ACL: changing a named query takes `query:write` on its name;
/// an unnamed query is anyone's to create and change.
fn require_query_write(ctx: &Ctx, name: &str) -> Result<(), AclRefusal> {
    if name.is_empty() {
        return Ok(());
    }
    ctx.authz.require(Permission::query(Access::Write, name))
}

/// Reading a query: `query:read` on its name; unnamed queries only with `acl:write`
/// (a management token), as Consul lists them.
fn may_read_query(ctx: &Ctx, name: &str) -> bool {
    if name.is_empty() {
        ctx.authz.acl_write()
    } else {
        ctx.authz.query_read(name)
    }
}

/// Reading one query (or its explanation) as [`may_read_query`] allows, else Consul's 403.
fn require_query_read(ctx: &Ctx, name: &str) -> Result<(), AclRefusal> {
    if name.is_empty() {
        ctx.authz.require(Permission::acl(Access::Write))
    } else {
        ctx.authz.require(Permission::query(Access::Read, name))
    }
}

/// A query's captured `Token` is shown to management tokens only, as Consul redacts it.
fn redact_token(ctx: &Ctx, query: &mut PreparedQuery) {
    if !query.token.is_empty() && !ctx.authz.acl_write() {
        query.token = "<hidden>".to_string();
    }
}
