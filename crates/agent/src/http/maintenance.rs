//! Maintenance mode: a node or one service taken out of rotation on purpose, shown as a
//! critical check (`_node_maintenance`, `_service_maintenance:<id>`) as Consul does, so
//! every client that routes on health stops sending traffic without knowing about it.

use axum::extract::Path;
use axum::response::Response;
use proconsul_acl::{Access, Permission};
use proconsul_api::{CheckRegistration, HealthCheck, HealthStatus};

use crate::agent::AgentInner;
use crate::http::context::Ctx;
use crate::http::error::ApiError;
use crate::local::LocalCheck;

/// The check ID of node maintenance.
pub const NODE_MAINTENANCE: &str = "_node_maintenance";

/// The prefix of a service's maintenance check ID.
pub const SERVICE_MAINTENANCE_PREFIX: &str = "_service_maintenance:";

const NODE_DEFAULT_REASON: &str = "Maintenance mode is enabled for this node, but no reason was provided. This is a default message.";
const SERVICE_DEFAULT_REASON: &str = "Maintenance mode is enabled for this service, but no reason was provided. This is a default message.";

/// `?enable=true|false`, required.
fn enable_flag(ctx: &Ctx) -> Result<bool, ApiError> {
    match ctx.params.get("enable") {
        None | Some("") => Err(ApiError::bad_request("Missing value for enable")),
        Some(value) => value
            .parse::<bool>()
            .map_err(|_| ApiError::bad_request(format!("Invalid value for enable: {value:?}"))),
    }
}

fn reason(ctx: &Ctx, default: &str) -> String {
    ctx.params
        .get("reason")
        .filter(|reason| !reason.is_empty())
        .unwrap_or(default)
        .to_string()
}

fn maintenance_check(
    agent: &AgentInner,
    id: String,
    name: &str,
    notes: String,
    service: Option<&proconsul_api::AgentService>,
) -> LocalCheck {
    LocalCheck::new(
        HealthCheck {
            node: agent.node.name.clone(),
            check_id: id.clone(),
            name: name.to_string(),
            status: HealthStatus::Critical,
            notes: notes.clone(),
            service_id: service.map(|s| s.id.clone()).unwrap_or_default(),
            service_name: service.map(|s| s.service.clone()).unwrap_or_default(),
            service_tags: service.map(|s| s.tags.clone()).unwrap_or_default(),
            check_type: "maintenance".to_string(),
            ..HealthCheck::default()
        },
        &CheckRegistration {
            id,
            name: name.to_string(),
            notes,
            ..CheckRegistration::default()
        },
    )
}

/// Registers or removes a maintenance check, with the request's `token`.
async fn set(
    agent: &AgentInner,
    enable: bool,
    check: LocalCheck,
    token: &str,
) -> Result<(), ApiError> {
    let id = check.check.check_id.clone();
    if enable {
        agent.add_check(check, token).await?;
        tracing::info!(check = %id, "maintenance mode enabled");
    } else if agent.local.check(&id).is_some() {
        agent.remove_check(&id).await?;
        tracing::info!(check = %id, "maintenance mode disabled");
    }
    Ok(())
}

/// `PUT /v1/agent/maintenance?enable=&reason=`.
pub async fn node(ctx: Ctx) -> Result<Response, ApiError> {
    let enable = enable_flag(&ctx)?;
    let agent = &ctx.agent;
    ctx.authz
        .require(Permission::node(Access::Write, &agent.node.name))?;
    let check = maintenance_check(
        agent,
        NODE_MAINTENANCE.to_string(),
        "Node Maintenance Mode",
        reason(&ctx, NODE_DEFAULT_REASON),
        None,
    );
    set(agent, enable, check, ctx.options.token.secret()).await?;
    Ok(Response::default())
}

/// `PUT /v1/agent/service/maintenance/:id?enable=&reason=`.
pub async fn service(ctx: Ctx, Path(id): Path<String>) -> Result<Response, ApiError> {
    let enable = enable_flag(&ctx)?;
    let agent = &ctx.agent;
    let service = agent
        .local
        .service(&id)
        .ok_or_else(|| ApiError::not_found(format!("Unknown service ID {id:?}")))?;
    ctx.authz
        .require(Permission::service(Access::Write, &service.service))?;
    let check = maintenance_check(
        agent,
        format!("{SERVICE_MAINTENANCE_PREFIX}{id}"),
        "Service Maintenance Mode",
        reason(&ctx, SERVICE_DEFAULT_REASON),
        Some(&service),
    );
    set(agent, enable, check, ctx.options.token.secret()).await?;
    Ok(Response::default())
}
