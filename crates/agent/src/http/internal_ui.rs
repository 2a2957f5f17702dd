//! `/v1/internal/ui/*`: the reads Consul's web UI is built on (service list, node list
//! and detail, catalog overview, service topology), in Consul's JSON shapes, so that
//! Consul's UI, or any tool written against it, works against Proconsul.
//!
//! ACLs are applied as Consul applies them, before `?filter` (so a filter cannot probe
//! hidden data): a service instance is seen only with `node:read` on its node and
//! `service:read` on its name; a node only with `node:read`, and then only the services
//! (and service checks) the token may read; the overview needs `operator:read` and the
//! topology `service:read` on the service. What is left out sets
//! `X-Consul-Results-Filtered-By-ACLs`. Every read but the topology's error cases is a
//! blocking query on the catalog tables.

mod summary;

use std::sync::Arc;

use crate::telemetry::timed_routes::{TimedRoutes, get};
use axum::Router;
use axum::extract::Path;
use axum::response::Response;
use bytes::Bytes;
use proconsul_acl::{Access, Authorize, Permission};
use proconsul_api::{AgentService, HealthCheck, Node, ServiceEntry};
use proconsul_state::{NodeChecksCursor, State, Table};
use serde::Serialize;

use crate::http::AppState;
use crate::http::context::Ctx;
use crate::http::error::ApiError;
use crate::http::respond::{encode_json, query_encoded, query_json, query_not_found};

/// The tables every answer here is read from, and wakes on.
const CATALOG_TABLES: [Table; 3] = [Table::Nodes, Table::Services, Table::Checks];

/// The routes, merged into the agent's router.
pub fn routes() -> Router<AppState> {
    Router::new()
        .timed_route("/v1/internal/ui/services", get(services))
        .timed_route("/v1/internal/ui/nodes", get(nodes))
        .timed_route("/v1/internal/ui/node/", get(missing_node))
        .timed_route("/v1/internal/ui/node/{*name}", get(node))
        .timed_route("/v1/internal/ui/catalog-overview", get(catalog_overview))
        .timed_route("/v1/internal/ui/service-topology/", get(missing_service))
        .timed_route(
            "/v1/internal/ui/service-topology/{*name}",
            get(service_topology),
        )
}

/// `GET /v1/internal/ui/services`: one `ServiceListingSummary` per service name. The UI
/// polls it with blocking queries, so the encoded answer is kept per index and token
/// (see answer_cache.rs).
async fn services(ctx: Ctx) -> Result<Response, ApiError> {
    let key = format!(
        "ui-services|{:?}|{}|{}",
        ctx.params.get("filter"),
        ctx.options.pretty,
        ctx.authz.cache_scope()
    );
    let (meta, encoded) = ctx
        .blocking(&CATALOG_TABLES, |state| {
            cached(&ctx, &key, state.catalog_index(), || {
                encode_json(&service_summaries(&ctx, state), ctx.options.pretty)
            })
        })
        .await?;
    Ok(query_encoded(&meta, encoded))
}

/// The summaries of the instances the token may read and `?filter` keeps. As in Consul,
/// the filter sees each instance as `/v1/health/service` shows it (`Node`, `Service`,
/// `Checks`).
fn service_summaries(ctx: &Ctx, state: &State) -> Vec<summary::ServiceListingSummary> {
    let mut cursor = NodeChecksCursor::default();
    let instances = state
        .all_instances()
        .filter(|(node, service)| {
            ctx.authz
                .keep(ctx.authz.node_read(&node.node) && ctx.authz.service_read(&service.service))
        })
        .map(|(node, service)| summary::Instance {
            node,
            service,
            checks: cursor
                .at(state, &node.node)
                .of_instance(&service.id)
                .map(|check| &**check)
                .collect(),
        })
        .filter(|instance| ctx.filter.is_none() || ctx.keep(&entry_of(instance)));
    summary::services(instances, |name| {
        ctx.authz.keep(ctx.authz.service_read(name))
    })
}

/// An instance as `?filter` sees it.
fn entry_of(instance: &summary::Instance<'_>) -> ServiceEntry {
    ServiceEntry {
        node: instance.node.clone(),
        service: instance.service.clone(),
        checks: instance
            .checks
            .iter()
            .map(|check| (*check).clone())
            .collect(),
    }
}

/// Consul's `NodeInfo`: a node with its services and checks, as the UI's node pages
/// show it (no `Datacenter` or indexes; `Partition`/`PeerName` are empty in CE and left
/// out).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct NodeInfo {
    #[serde(rename = "ID")]
    id: String,
    node: String,
    address: String,
    tagged_addresses: std::collections::BTreeMap<String, String>,
    meta: std::collections::BTreeMap<String, String>,
    services: Vec<Arc<AgentService>>,
    checks: Vec<Arc<HealthCheck>>,
}

/// `node` with the services and checks the token may read: a check bound to a service
/// needs `service:read` on it, node-level checks come with the node.
fn node_info(ctx: &Ctx, state: &State, node: &Node) -> NodeInfo {
    let mut services = state.node_services(&node.node);
    services.retain(|service| ctx.authz.keep(ctx.authz.service_read(&service.service)));
    let mut checks = state.node_checks(&node.node);
    checks.retain(|check| {
        check.service_name.is_empty() || ctx.authz.keep(ctx.authz.service_read(&check.service_name))
    });
    NodeInfo {
        id: node.id.clone(),
        node: node.node.clone(),
        address: node.address.clone(),
        tagged_addresses: node.tagged_addresses.clone(),
        meta: node.meta.clone(),
        services,
        checks,
    }
}

/// `GET /v1/internal/ui/nodes`: every node the token may read that `?filter` keeps (the
/// filter sees the `NodeInfo`), ordered by name.
async fn nodes(ctx: Ctx) -> Result<Response, ApiError> {
    let key = format!(
        "ui-nodes|{:?}|{}|{}",
        ctx.params.get("filter"),
        ctx.options.pretty,
        ctx.authz.cache_scope()
    );
    let (meta, encoded) = ctx
        .blocking(&CATALOG_TABLES, |state| {
            cached(&ctx, &key, state.catalog_index(), || {
                let nodes: Vec<NodeInfo> = state
                    .nodes()
                    .filter(|node| ctx.authz.keep(ctx.authz.node_read(&node.node)))
                    .map(|node| node_info(&ctx, state, node))
                    .filter(|info| ctx.keep(info))
                    .collect();
                encode_json(&nodes, ctx.options.pretty)
            })
        })
        .await?;
    Ok(query_encoded(&meta, encoded))
}

/// `GET /v1/internal/ui/node/:node`: one `NodeInfo`; 404 with an empty body when the
/// node is unknown or the token may not read it, as Consul answers.
async fn node(ctx: Ctx, Path(name): Path<String>) -> Result<Response, ApiError> {
    let (meta, info) = ctx
        .blocking(&CATALOG_TABLES, |state| {
            let info = state
                .node(&name)
                .filter(|_| ctx.authz.keep(ctx.authz.node_read(&name)))
                .map(|node| node_info(&ctx, state, node));
            (state.catalog_index(), info)
        })
        .await?;
    Ok(match info {
        Some(info) => query_json(&meta, &info, ctx.options.pretty),
        None => query_not_found(&meta),
    })
}

/// `GET /v1/internal/ui/node/` without a name. The context is extracted, as for every
/// other read, so that an unknown token is refused first.
async fn missing_node(_ctx: Ctx) -> ApiError {
    ApiError::bad_request("Missing node name")
}

/// `GET /v1/internal/ui/catalog-overview`: nodes, service instances and checks by
/// status. Consul asks for `operator:read`; Proconsul also counts only what the token
/// may read (nodes with `node:read`, instances and service checks with `service:read`
/// too), so that a name it may not read is never shown.
async fn catalog_overview(ctx: Ctx) -> Result<Response, ApiError> {
    ctx.authz.require(Permission::operator(Access::Read))?;
    let (meta, overview) = ctx
        .blocking(&CATALOG_TABLES, |state| {
            let authz = &ctx.authz;
            let nodes = state
                .nodes()
                .filter(|node| authz.keep(authz.node_read(&node.node)))
                .map(|node| &**node);
            let instances = state
                .all_instances()
                .filter(|(node, service)| {
                    authz.keep(authz.node_read(&node.node) && authz.service_read(&service.service))
                })
                .map(|(node, service)| (node.node.as_str(), &**service));
            let checks = state.checks_in_state(None);
            let checks = checks
                .iter()
                .filter(|check| {
                    authz.keep(
                        authz.node_read(&check.node)
                            && (check.service_name.is_empty()
                                || authz.service_read(&check.service_name)),
                    )
                })
                .map(|check| &**check);
            let overview = summary::catalog_overview(nodes, instances, checks);
            (state.catalog_index(), overview)
        })
        .await?;
    Ok(query_json(&meta, &overview, ctx.options.pretty))
}

/// Consul's `ServiceTopology`. Upstreams and downstreams come from Connect proxy
/// registrations and intentions, which the topology does not follow yet: the lists are
/// empty and the protocol is Consul's default.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ServiceTopology {
    protocol: &'static str,
    transparent_proxy: bool,
    /// Always empty (see above), so no entry type is needed.
    upstreams: [(); 0],
    downstreams: [(); 0],
    #[serde(rename = "FilteredByACLs")]
    filtered_by_acls: bool,
}

/// `GET /v1/internal/ui/service-topology/:service?kind=`: `kind` must be given, empty
/// (a typical service) or `ingress-gateway`; the token needs `service:read` on the
/// service.
async fn service_topology(ctx: Ctx, Path(name): Path<String>) -> Result<Response, ApiError> {
    let Some(kind) = ctx.params.get("kind") else {
        return Err(ApiError::bad_request("Missing service kind"));
    };
    if !kind.is_empty() && kind != "ingress-gateway" {
        return Err(ApiError::bad_request(format!(
            "Unsupported service kind {kind:?}"
        )));
    }
    ctx.authz
        .require(Permission::service(Access::Read, &name))?;
    let (meta, topology) = ctx
        .blocking(&CATALOG_TABLES, |state| {
            let topology = ServiceTopology {
                protocol: "tcp",
                transparent_proxy: false,
                upstreams: [],
                downstreams: [],
                filtered_by_acls: false,
            };
            (state.catalog_index(), topology)
        })
        .await?;
    Ok(query_json(&meta, &topology, ctx.options.pretty))
}

/// `GET /v1/internal/ui/service-topology/` without a name (an unknown token is refused
/// first, as for [`missing_node`]).
async fn missing_service(_ctx: Ctx) -> ApiError {
    ApiError::bad_request("Missing service name")
}

/// The answer kept under `key` at `index`, else the one `build` encodes; with the index.
fn cached(ctx: &Ctx, key: &str, index: u64, build: impl FnOnce() -> Bytes) -> (u64, Bytes) {
    (
        index,
        ctx.agent
            .answers
            .get_or_build(&ctx.authz, key, index, build),
    )
}
