//! `/v1/health`: checks, and service instances with the health that decides routing.

use std::sync::Arc;

use axum::extract::Path;
use axum::response::Response;
use proconsul_acl::Authorize;
use proconsul_api::{HealthCheck, HealthStatus, ServiceEntry};
use proconsul_state::{State, Table};

use crate::http::blocking::ServiceScope;
use crate::http::catalog::node_meta_matches;
use crate::http::context::Ctx;
use crate::http::error::ApiError;
use crate::http::respond::{encode_json, query_encoded, query_json};

/// `GET /v1/health/node/:node`.
pub async fn node(ctx: Ctx, Path(name): Path<String>) -> Result<Response, ApiError> {
    let (meta, checks) = ctx
        .blocking(&[Table::Checks], |state| {
            let checks: Vec<Arc<HealthCheck>> = if ctx.authz.keep(ctx.authz.node_read(&name)) {
                let mut checks = state.node_checks(&name);
                checks.retain(|check| {
                    check.service_name.is_empty()
                        || ctx.authz.keep(ctx.authz.service_read(&check.service_name))
                });
                checks.retain(|check| ctx.keep(check));
                checks
            } else {
                Vec::new()
            };
            (state.table_indexes().checks, checks)
        })
        .await?;
    Ok(query_json(&meta, &checks, ctx.options.pretty))
}

/// `GET /v1/health/checks/:service` (`?near` sorts by the checks' nodes).
pub async fn checks(ctx: Ctx, Path(name): Path<String>) -> Result<Response, ApiError> {
    let (meta, checks) = ctx
        .blocking_service(&name, ServiceScope::Service, |state, _| {
            let mut checks: Vec<Arc<HealthCheck>> = if ctx.authz.keep(ctx.authz.service_read(&name))
            {
                state
                    .service_checks(&name)
                    .into_iter()
                    .filter(|check| ctx.authz.keep(ctx.authz.node_read(&check.node)))
                    .filter(|check| ctx.keep(check))
                    .filter(|check| {
                        ctx.options.node_meta.is_empty()
                            || state.node(&check.node).is_some_and(|node| {
                                node_meta_matches(&ctx.options.node_meta, &node.meta)
                            })
                    })
                    .collect()
            } else {
                Vec::new()
            };
            ctx.sort_near(state, &mut checks, |check| &check.node);
            checks
        })
        .await?;
    Ok(query_json(&meta, &checks, ctx.options.pretty))
}

/// `GET /v1/health/service/:service` (`?passing`, `?tag` repeated, `?node-meta`,
/// `?near`).
pub async fn service(ctx: Ctx, Path(name): Path<String>) -> Result<Response, ApiError> {
    service_entries(
        ctx,
        "service",
        name,
        State::health_service,
        ServiceScope::Service,
    )
    .await
}

/// `GET /v1/health/connect/:service`: Connect-capable instances with their health.
pub async fn connect(ctx: Ctx, Path(name): Path<String>) -> Result<Response, ApiError> {
    service_entries(
        ctx,
        "connect",
        name,
        State::health_connect,
        ServiceScope::Catalog,
    )
    .await
}

/// Entries for one service from `entries`, filtered by `?passing`, `?tag`,
/// `?node-meta`, ACLs and `?filter`; none for a `?peer` (no peerings exist).
async fn service_entries(
    ctx: Ctx,
    kind: &str,
    name: String,
    entries: fn(&State, &str) -> Vec<ServiceEntry>,
    scope: ServiceScope,
) -> Result<Response, ApiError> {
    let passing_only = ctx.params.flag("passing");
    let tags: Vec<String> = ctx.params.all("tag").map(str::to_string).collect();
    let peered = ctx.options.peer.is_some();
    // Everything that shapes the answer (see answer_cache.rs).
    let key = format!(
        "{kind}|{name}|{passing_only}|{tags:?}|{:?}|{:?}|{:?}|{}|{}",
        ctx.options.node_meta,
        ctx.params.get("filter"),
        ctx.options.peer,
        ctx.options.pretty,
        ctx.authz.cache_scope()
    );
    let cache = &ctx.agent.answers;
    let (meta, encoded) = ctx
        .blocking_service(&name, scope, |state, index| {
            let build = || {
                let mut entries: Vec<ServiceEntry> =
                    if ctx.authz.keep(ctx.authz.service_read(&name)) && !peered {
                        entries(state, &name)
                            .into_iter()
                            .filter(|entry| tags.iter().all(|tag| entry.service.tags.contains(tag)))
                            .filter(|entry| {
                                node_meta_matches(&ctx.options.node_meta, &entry.node.meta)
                            })
                            .filter(|entry| ctx.authz.keep(ctx.authz.node_read(&entry.node.node)))
                            .filter(|entry| !passing_only || all_passing(entry))
                            .filter(|entry| ctx.keep(entry))
                            .collect()
                    } else {
                        Vec::new()
                    };
                ctx.sort_near(state, &mut entries, |entry| &entry.node.node);
                encode_json(&entries, ctx.options.pretty)
            };
            // A sorted answer also depends on coordinates, which the service's index
            // does not follow: built for each request.
            if ctx.near().is_some() {
                build()
            } else {
                cache.get_or_build(&ctx.authz, &key, index, build)
            }
        })
        .await?;
    let queries = match scope {
        ServiceScope::Service => &ctx.agent.metrics.health_service,
        ServiceScope::Catalog => &ctx.agent.metrics.health_connect,
    };
    queries.record(&name, &tags, encoded.as_ref() != b"[]");
    Ok(query_encoded(&meta, encoded))
}

fn all_passing(entry: &ServiceEntry) -> bool {
    entry
        .checks
        .iter()
        .all(|check| check.status == HealthStatus::Passing)
}

/// `GET /v1/health/state/:state`: `any`, `passing`, `warning` or `critical` (`?near`
/// sorts by the checks' nodes).
pub async fn state(ctx: Ctx, Path(wanted): Path<String>) -> Result<Response, ApiError> {
    let status = match wanted.as_str() {
        "any" => None,
        other => Some(
            other
                .parse::<HealthStatus>()
                .map_err(|_| ApiError::bad_request("Invalid check state"))?,
        ),
    };
    let (meta, checks) = ctx
        .blocking(&[Table::Checks], |state| {
            let mut checks: Vec<Arc<HealthCheck>> = state
                .checks_in_state(status)
                .into_iter()
                .filter(|check| ctx.authz.keep(ctx.authz.node_read(&check.node)))
                .filter(|check| ctx.keep(check))
                .filter(|check| {
                    check.service_name.is_empty()
                        || ctx.authz.keep(ctx.authz.service_read(&check.service_name))
                })
                .filter(|check| {
                    ctx.options.node_meta.is_empty()
                        || state.node(&check.node).is_some_and(|node| {
                            node_meta_matches(&ctx.options.node_meta, &node.meta)
                        })
                })
                .collect();
            ctx.sort_near(state, &mut checks, |check| &check.node);
            (state.table_indexes().checks, checks)
        })
        .await?;
    Ok(query_json(&meta, &checks, ctx.options.pretty))
}
