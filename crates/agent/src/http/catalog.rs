//! `/v1/catalog`: registering and listing nodes and services cluster-wide.

use proconsul_acl::{Access, Authorize, Permission};
use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::Path;
use axum::response::Response;
use proconsul_api::{
    AgentService, CatalogDeregistration, CatalogRegistration, CatalogService, Node,
    NodeServiceList, NodeServices,
};
use proconsul_state::{Command, CommandOutcome, State, Table};

use crate::http::blocking::ServiceScope;
use crate::http::context::Ctx;
use crate::http::decode::decode_body;
use crate::http::error::ApiError;
use crate::http::query::QueryMeta;
use crate::http::respond::{encode_json, json, query_encoded, query_json};

/// `PUT /v1/catalog/register`.
pub async fn register(ctx: Ctx, body: Bytes) -> Result<Response, ApiError> {
    let mut registration: CatalogRegistration = decode_body(&body)?;
    if registration.node.is_empty() {
        return Err(ApiError::bad_request("Must provide node"));
    }
    if registration.address.is_empty() && !registration.skip_node_update {
        return Err(ApiError::bad_request("Must provide address"));
    }
    if let Some(service) = &registration.service
        && service.service.is_empty()
    {
        return Err(ApiError::bad_request("Must provide service name"));
    }
    if let Some(forwarded) = other_datacenter(
        &ctx,
        "/v1/catalog/register",
        &registration.datacenter,
        &body,
    )
    .await?
    {
        return Ok(forwarded);
    }
    if registration.datacenter.is_empty() {
        registration.datacenter = ctx.agent.config.datacenter.clone();
    }
    ctx.authz
        .require(Permission::node(Access::Write, &registration.node))?;
    if let Some(service) = &registration.service {
        ctx.authz.require_service_write(service)?;
    }
    if let Some(service) = &mut registration.service {
        service.datacenter = registration.datacenter.clone();
        service.default_zero_weights();
    }
    // Consul names a check after itself when no CheckID is given.
    for check in registration
        .check
        .iter_mut()
        .chain(&mut registration.checks)
    {
        if check.check_id.is_empty() {
            check.check_id = check.name.clone();
        }
        check.derive_type_from_definition();
    }
    let _timer = crate::telemetry::Timer::start(&ctx.agent.metrics.catalog_register);
    commit(&ctx, Command::Register(Box::new(registration))).await
}

/// `PUT /v1/catalog/deregister`.
pub async fn deregister(ctx: Ctx, body: Bytes) -> Result<Response, ApiError> {
    let deregistration: CatalogDeregistration = decode_body(&body)?;
    if deregistration.node.is_empty() {
        return Err(ApiError::bad_request("Must provide node"));
    }
    if let Some(forwarded) = other_datacenter(
        &ctx,
        "/v1/catalog/deregister",
        &deregistration.datacenter,
        &body,
    )
    .await?
    {
        return Ok(forwarded);
    }
    ctx.authz
        .require(Permission::node(Access::Write, &deregistration.node))?;
    let _timer = crate::telemetry::Timer::start(&ctx.agent.metrics.catalog_deregister);
    commit(&ctx, Command::Deregister(deregistration)).await
}

/// Commits a catalog write and answers `true`, or the state's refusal as a 500, which is
/// how Consul reports errors raised past its HTTP layer.
async fn commit(ctx: &Ctx, command: Command) -> Result<Response, ApiError> {
    let applied = ctx.agent.consensus()?.write(command).await?;
    match applied.outcome {
        CommandOutcome::Rejected(reason) => Err(ApiError::internal(reason)),
        _ => Ok(json(&true, ctx.options.pretty)),
    }
}

/// A write whose body names another datacenter: that datacenter's answer (`None`: it
/// names this one).
async fn other_datacenter(
    ctx: &Ctx,
    path: &str,
    datacenter: &str,
    body: &[u8],
) -> Result<Option<Response>, ApiError> {
    if datacenter.is_empty() || datacenter == ctx.agent.config.datacenter {
        return Ok(None);
    }
    match crate::http::datacenter_forward::forward_by_body(ctx, path, datacenter, body).await {
        Some(answer) => Ok(Some(answer)),
        None => Err(ApiError::internal("No path to datacenter")),
    }
}

/// `GET /v1/catalog/datacenters`: every datacenter the WAN pool knows, this one first,
/// then by median estimated round trip to their servers.
pub async fn datacenters(ctx: Ctx) -> Response {
    match &ctx.agent.wan {
        Some(wan) => json(&wan.datacenters_by_distance(), ctx.options.pretty),
        None => json(&[&ctx.agent.config.datacenter], ctx.options.pretty),
    }
}

/// True when `meta` has every `?node-meta` pair the client asked for.
pub fn node_meta_matches(filters: &[(String, String)], meta: &BTreeMap<String, String>) -> bool {
    filters
        .iter()
        .all(|(key, value)| meta.get(key) == Some(value))
}

/// `GET /v1/catalog/nodes` (`?near` sorts them by estimated RTT).
pub async fn nodes(ctx: Ctx) -> Result<Response, ApiError> {
    let (meta, nodes) = ctx
        .blocking(&[Table::Nodes], |state| {
            let mut nodes: Vec<Node> = state
                .nodes()
                .filter(|node| node_meta_matches(&ctx.options.node_meta, &node.meta))
                .filter(|node| ctx.authz.keep(ctx.authz.node_read(&node.node)))
                .filter(|node| ctx.keep(node))
                .map(|node| (**node).clone())
                .collect();
            ctx.sort_near(state, &mut nodes, |node| &node.node);
            (state.table_indexes().nodes, nodes)
        })
        .await?;
    Ok(query_json(&meta, &nodes, ctx.options.pretty))
}

/// `GET /v1/catalog/services`: every service name with its tags.
pub async fn services(ctx: Ctx) -> Result<Response, ApiError> {
    let tables = [Table::Nodes, Table::Services];
    // Everything that shapes the answer (see answer_cache.rs).
    let key = format!(
        "catalog-services|{:?}|{:?}|{}|{}",
        ctx.options.node_meta,
        ctx.params.get("filter"),
        ctx.options.pretty,
        ctx.authz.cache_scope()
    );
    let cache = &ctx.agent.answers;
    let (meta, encoded) = ctx
        .blocking(&tables, |state| {
            let indexes = state.table_indexes();
            let index = indexes.services.max(indexes.nodes);
            let encoded = cache.get_or_build(&ctx.authz, &key, index, || {
                let mut names = state.service_names();
                names.retain(|name, _| ctx.authz.keep(ctx.authz.service_read(name)));
                if ctx.filter.is_some() {
                    // The filter sees each instance as /v1/catalog/service shows it; a name
                    // stays with the tags of the instances that pass.
                    names = names
                        .into_keys()
                        .filter_map(|name| {
                            let rows: Vec<_> = state
                                .catalog_service(&name)
                                .into_iter()
                                // ACLs first, so a filter cannot probe hidden nodes.
                                .filter(|row| ctx.authz.keep(ctx.authz.node_read(&row.node)))
                                .filter(|row| ctx.keep(row))
                                .collect();
                            if rows.is_empty() {
                                return None;
                            }
                            let mut tags: Vec<String> =
                                rows.into_iter().flat_map(|row| row.service_tags).collect();
                            tags.sort();
                            tags.dedup();
                            Some((name, tags))
                        })
                        .collect();
                }
                if !ctx.options.node_meta.is_empty() {
                    names.retain(|name, _| {
                        state
                            .service_instances(name)
                            .any(|(node, _)| node_meta_matches(&ctx.options.node_meta, &node.meta))
                    });
                }
                encode_json(&names, ctx.options.pretty)
            });
            (index, encoded)
        })
        .await?;
    Ok(query_encoded(&meta, encoded))
}

/// `GET /v1/catalog/service/:name` (`?tag` repeated: an instance must carry all).
pub async fn service(ctx: Ctx, Path(name): Path<String>) -> Result<Response, ApiError> {
    service_rows(ctx, name, State::catalog_service, ServiceScope::Service).await
}

/// `GET /v1/catalog/connect/:name`: the Connect-capable instances for a service.
pub async fn connect(ctx: Ctx, Path(name): Path<String>) -> Result<Response, ApiError> {
    service_rows(ctx, name, State::catalog_connect, ServiceScope::Catalog).await
}

/// Catalog rows for one service from `rows`, filtered by `?tag`, `?node-meta`, ACLs
/// and `?filter`; no rows for a `?peer` (no peerings exist).
async fn service_rows(
    ctx: Ctx,
    name: String,
    rows: fn(&State, &str) -> Vec<CatalogService>,
    scope: ServiceScope,
) -> Result<Response, ApiError> {
    let tags: Vec<String> = ctx.params.all("tag").map(str::to_string).collect();
    let peered = ctx.options.peer.is_some();
    let (meta, rows) = ctx
        .blocking_service(&name, scope, |state, _| {
            let mut rows: Vec<CatalogService> =
                if ctx.authz.keep(ctx.authz.service_read(&name)) && !peered {
                    rows(state, &name)
                        .into_iter()
                        .filter(|row| tags.iter().all(|tag| row.service_tags.contains(tag)))
                        .filter(|row| node_meta_matches(&ctx.options.node_meta, &row.node_meta))
                        .filter(|row| ctx.authz.keep(ctx.authz.node_read(&row.node)))
                        .filter(|row| ctx.keep(row))
                        .collect()
                } else {
                    Vec::new()
                };
            ctx.sort_near(state, &mut rows, |row| &row.node);
            rows
        })
        .await?;
    let queries = match scope {
        ServiceScope::Service => &ctx.agent.metrics.catalog_service,
        ServiceScope::Catalog => &ctx.agent.metrics.catalog_connect,
    };
    queries.record(&name, &tags, !rows.is_empty());
    Ok(query_json(&meta, &rows, ctx.options.pretty))
}

/// `GET /v1/catalog/node/:name`: the node and its services by ID (`null` if unknown).
pub async fn node(ctx: Ctx, Path(name): Path<String>) -> Result<Response, ApiError> {
    let (meta, answer) = node_with_services(&ctx, &name).await?;
    let answer = answer.map(|(node, services)| NodeServices {
        node: Some(node),
        services: services
            .into_iter()
            .map(|service| (service.id.clone(), service))
            .collect(),
    });
    Ok(query_json(&meta, &answer, ctx.options.pretty))
}

/// `GET /v1/catalog/node-services/:name`: the node and its services as a list.
pub async fn node_services(ctx: Ctx, Path(name): Path<String>) -> Result<Response, ApiError> {
    let (meta, answer) = node_with_services(&ctx, &name).await?;
    match answer {
        Some((node, services)) => {
            let answer = NodeServiceList {
                node: Some(node),
                services,
            };
            Ok(query_json(&meta, &answer, ctx.options.pretty))
        }
        None => Err(ApiError::not_found(format!("Node {name:?} not found"))),
    }
}

/// A node and the services on it that the caller may read and `?filter` keeps.
async fn node_with_services(
    ctx: &Ctx,
    name: &str,
) -> Result<(QueryMeta, Option<(Node, Vec<AgentService>)>), ApiError> {
    let tables = [Table::Nodes, Table::Services];
    ctx.blocking(&tables, |state| {
        let indexes = state.table_indexes();
        let answer = state
            .node(name)
            .filter(|_| ctx.authz.keep(ctx.authz.node_read(name)))
            .map(|node| {
                let services = state
                    .node_services(name)
                    .into_iter()
                    .filter(|service| ctx.authz.keep(ctx.authz.service_read(&service.service)))
                    .filter(|service| ctx.keep(service))
                    .map(|service| (*service).clone())
                    .collect();
                ((**node).clone(), services)
            });
        (indexes.nodes.max(indexes.services), answer)
    })
    .await
}
