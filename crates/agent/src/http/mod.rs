//! Consul's HTTP API (`/v1/...`) on axum: routing, the per-request context, blocking
//! queries and JSON responses. One file per endpoint family.

mod acl;
mod acl_auth;
mod acl_binding_rule;
mod acl_bootstrap;
mod acl_decode;
pub mod acl_headers;
mod acl_policy;
pub(crate) mod acl_primary_forward;
mod acl_replica_source;
mod acl_role;
mod acl_templated;
mod acl_token;
mod acl_token_answer;
mod agent;
mod agent_health;
mod agent_host;
mod agent_metrics;
mod agent_metrics_stream;
mod agent_stats;
mod agent_token;
mod agent_version;
pub mod answer_cache;
mod blocking;
mod catalog;
mod connect_ca;
mod connect_intentions;
pub(crate) mod context;
mod coordinate;
mod datacenter_forward;
pub mod decode;
pub mod error;
mod event;
pub(crate) mod forward;
mod health;
mod internal_ui;
mod kv;
mod maintenance;
mod monitor;
mod near;
mod operator;
mod operator_autopilot;
mod operator_keyring;
mod operator_usage;
pub mod origin;
mod prepared_query;
pub mod query;
pub(crate) mod query_failover;
mod reload;
mod respond;
mod session;
mod snapshot;
mod status;
mod test_faults;
mod txn;
mod txn_acl;

use std::sync::Arc;

use crate::telemetry::timed_routes::{TimedRoutes, any, delete, get, post, put};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use tower_http::catch_panic::CatchPanicLayer;

use crate::agent::AgentInner;

/// Shared by all handlers.
pub type AppState = Arc<AgentInner>;

/// The whole `/v1` API of a server, or, on a client agent, the endpoints it serves
/// itself with every other request forwarded to a server ([`forward`]).
pub fn router(agent: AppState) -> Router {
    // KV values are checked against kv_max_value_size in the handler (413 with Consul's
    // text); this outer limit only stops absurd bodies before they are buffered (and,
    // on a client, before they are forwarded).
    let body_limit = body_limit(&agent.config);
    let ui = proconsul_ui::router(&agent.config.ui);
    let routes = match agent.catalog.client() {
        None => agent_routes()
            .merge(ui)
            .merge(server_routes(&agent))
            .merge(test_faults::routes(&agent).unwrap_or_default())
            .fallback(not_found),
        // A client with ACLs sets its own tokens; its ACL objects live on the servers.
        Some(_) => agent_routes()
            .merge(ui)
            .timed_route(
                "/v1/agent/token/{*kind}",
                match &agent.acl_resolver {
                    Some(_) => put(agent_token::set),
                    None => put(acl::disabled),
                },
            )
            // Backups are as large on the way through as on a server.
            .timed_route(
                "/v1/snapshot",
                any(forward::forward).layer(DefaultBodyLimit::max(snapshot::MAX_BACKUP)),
            )
            .fallback(forward::forward),
    };
    let routes = routes.layer(DefaultBodyLimit::max(body_limit));
    // The ACL headers' layer costs an allocation per request: only with ACLs on.
    let routes = match &agent.acl_resolver {
        Some(resolver) => routes.layer(acl_headers::AclHeadersLayer {
            default_policy: resolver.default_policy_name(),
        }),
        None => routes,
    };
    // A secondary datacenter's server sends ACL writes of the primary's objects there.
    let routes = if agent.wan.is_some() && agent.config.is_acl_secondary() {
        routes.layer(axum::middleware::from_fn_with_state(
            agent.clone(),
            crate::http::acl_primary_forward::forward_acl_writes,
        ))
    } else {
        routes
    };
    // A server sends requests for other datacenters there, answers and headers untouched.
    let routes = match &agent.wan {
        Some(_) => routes.layer(axum::middleware::from_fn_with_state(
            agent.clone(),
            crate::http::datacenter_forward::forward_to_datacenter,
        )),
        None => routes,
    };
    routes
        .layer(CatchPanicLayer::custom(respond::panic_response))
        .with_state(agent)
}

/// The largest request body buffered (KV values are checked against
/// `kv_max_value_size` in the handler, with Consul's 413 text).
pub(crate) fn body_limit(config: &crate::config::AgentConfig) -> usize {
    config.kv_max_value_size.max(4 * 1024 * 1024) + 1024
}

/// The largest backup `PUT /v1/snapshot` takes.
pub(crate) fn snapshot_body_limit() -> usize {
    snapshot::MAX_BACKUP
}

/// The endpoints every agent serves from its own state: itself, the services and
/// checks registered through it, membership, metrics, logs, reload.
fn agent_routes() -> Router<AppState> {
    Router::new()
        .timed_route("/v1/agent/self", get(agent::self_info))
        .timed_route("/v1/agent/host", get(agent_host::host))
        .timed_route("/v1/agent/version", get(agent_version::version))
        .timed_route("/v1/agent/members", get(agent::members))
        .timed_route("/v1/agent/metrics", get(agent_metrics::metrics))
        .timed_route(
            "/v1/agent/metrics/stream",
            get(agent_metrics_stream::stream),
        )
        .timed_route("/v1/agent/monitor", get(monitor::monitor))
        .timed_route("/v1/agent/services", get(agent::services))
        .timed_route("/v1/agent/service/register", put(agent::register_service))
        .timed_route(
            "/v1/agent/service/deregister/{*id}",
            put(agent::deregister_service).get(agent::deregister_service),
        )
        .timed_route(
            "/v1/agent/service/maintenance/{*id}",
            put(maintenance::service),
        )
        .timed_route("/v1/agent/service/{*id}", get(agent::service))
        .timed_route("/v1/agent/maintenance", put(maintenance::node))
        .timed_route(
            "/v1/agent/health/service/id/{*id}",
            get(agent_health::by_id),
        )
        .timed_route(
            "/v1/agent/health/service/name/{*name}",
            get(agent_health::by_name),
        )
        .timed_route("/v1/agent/checks", get(agent::checks))
        .timed_route("/v1/agent/check/register", put(agent::register_check))
        .timed_route(
            "/v1/agent/check/deregister/{*id}",
            put(agent::deregister_check),
        )
        .timed_route("/v1/agent/check/pass/{*id}", put(agent::pass_check))
        .timed_route("/v1/agent/check/warn/{*id}", put(agent::warn_check))
        .timed_route("/v1/agent/check/fail/{*id}", put(agent::fail_check))
        .timed_route("/v1/agent/check/update/{*id}", put(agent::update_check))
        .timed_route("/v1/agent/leave", put(agent::leave))
        .timed_route("/v1/agent/join/{*address}", put(agent::join))
        .timed_route("/v1/agent/reload", put(reload::reload))
        .timed_route("/v1/agent/force-leave/{*node}", put(agent::force_leave))
}

/// The endpoints servers answer from the catalog (client agents forward them).
fn server_routes(agent: &AppState) -> Router<AppState> {
    Router::new()
        .timed_route("/v1/catalog/register", put(catalog::register))
        .timed_route("/v1/catalog/deregister", put(catalog::deregister))
        .timed_route("/v1/catalog/datacenters", get(catalog::datacenters))
        .timed_route("/v1/catalog/nodes", get(catalog::nodes))
        .timed_route("/v1/catalog/services", get(catalog::services))
        .timed_route("/v1/catalog/service/{*name}", get(catalog::service))
        .timed_route("/v1/catalog/connect/{*name}", get(catalog::connect))
        .timed_route("/v1/catalog/node/{*name}", get(catalog::node))
        .timed_route(
            "/v1/catalog/node-services/{*name}",
            get(catalog::node_services),
        )
        .timed_route("/v1/coordinate/datacenters", get(coordinate::datacenters))
        .timed_route("/v1/coordinate/nodes", get(coordinate::nodes))
        .timed_route("/v1/coordinate/node/{*name}", get(coordinate::node))
        .timed_route("/v1/coordinate/update", put(coordinate::update))
        .timed_route("/v1/health/node/{*name}", get(health::node))
        .timed_route("/v1/health/checks/{*name}", get(health::checks))
        .timed_route("/v1/health/service/{*name}", get(health::service))
        .timed_route("/v1/health/connect/{*name}", get(health::connect))
        .timed_route("/v1/health/state/{*state}", get(health::state))
        .timed_route(
            "/v1/kv/",
            get(kv::get_root).put(kv::put_root).delete(kv::delete_root),
        )
        .timed_route(
            "/v1/kv/{*key}",
            get(kv::get).put(kv::put).delete(kv::delete),
        )
        .timed_route("/v1/session/create", put(session::create))
        .timed_route("/v1/session/destroy/{id}", put(session::destroy))
        .timed_route("/v1/session/renew/{id}", put(session::renew))
        .timed_route("/v1/session/info/{id}", get(session::info))
        .timed_route("/v1/session/node/{*node}", get(session::node))
        .timed_route("/v1/session/list", get(session::list))
        .timed_route("/v1/txn", put(txn::txn))
        .timed_route(
            "/v1/operator/raft/configuration",
            get(operator::configuration),
        )
        .timed_route("/v1/operator/raft/peer", delete(operator::remove_peer))
        .timed_route("/v1/operator/usage", get(operator_usage::usage))
        .timed_route(
            "/v1/operator/keyring",
            get(operator_keyring::list)
                .post(operator_keyring::install)
                .put(operator_keyring::use_key)
                .delete(operator_keyring::remove),
        )
        .timed_route(
            "/v1/operator/raft/transfer-leader",
            post(operator::transfer_leader),
        )
        .timed_route(
            "/v1/operator/autopilot/configuration",
            get(operator_autopilot::configuration).put(operator_autopilot::set_configuration),
        )
        .timed_route(
            "/v1/operator/autopilot/health",
            get(operator_autopilot::health),
        )
        .timed_route(
            "/v1/operator/autopilot/state",
            get(operator_autopilot::state),
        )
        .timed_route(
            "/v1/snapshot",
            get(snapshot::save)
                .put(snapshot::restore)
                .layer(DefaultBodyLimit::max(snapshot::MAX_BACKUP)),
        )
        .timed_route("/v1/event/fire/{name}", put(event::fire))
        .timed_route("/v1/event/list", get(event::list))
        .timed_route("/v1/connect/ca/roots", get(connect_ca::roots))
        .timed_route("/v1/agent/connect/ca/roots", get(connect_ca::roots))
        .timed_route(
            "/v1/connect/ca/configuration",
            get(connect_ca::configuration).put(connect_ca::set_configuration),
        )
        .merge(connect_intentions::routes())
        .merge(prepared_query::routes())
        .merge(internal_ui::routes())
        .merge(acl::routes(agent.config.acl.enabled))
        .timed_route("/v1/status/leader", get(status::leader))
        .timed_route("/v1/status/peers", get(status::peers))
}

async fn not_found() -> (StatusCode, &'static str) {
    (StatusCode::NOT_FOUND, "404 page not found")
}
