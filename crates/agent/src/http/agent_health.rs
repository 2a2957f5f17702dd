//! `/v1/agent/health/service/{id,name}/:x`: the health of this agent's own instances as
//! a status code (200 passing, 429 warning, 503 critical), for load balancers and
//! orchestrators that can only read a status line.

use axum::body::Body;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use proconsul_acl::{Access, Authorize, Permission};
use proconsul_api::{AgentService, HealthCheck, HealthStatus};
use serde::Serialize;

use crate::http::context::Ctx;
use crate::http::error::ApiError;
use crate::http::respond::json_shaped;
use proconsul_api::go_json::Shape;

/// One instance with its checks and their worst status.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct InstanceHealth {
    aggregated_status: HealthStatus,
    service: AgentService,
    checks: Vec<HealthCheck>,
}

/// The worst status among checks; passing when there are none.
fn aggregate<'a>(checks: impl IntoIterator<Item = &'a HealthCheck>) -> HealthStatus {
    checks
        .into_iter()
        .map(|check| check.status)
        .max()
        .unwrap_or(HealthStatus::Passing)
}

fn status_code(status: HealthStatus) -> StatusCode {
    match status {
        HealthStatus::Passing => StatusCode::OK,
        HealthStatus::Warning => StatusCode::TOO_MANY_REQUESTS,
        HealthStatus::Critical => StatusCode::SERVICE_UNAVAILABLE,
    }
}

/// The local node's own checks plus the instance's, as Consul aggregates them.
fn instance_health(ctx: &Ctx, service: AgentService) -> InstanceHealth {
    let checks: Vec<HealthCheck> = ctx
        .agent
        .local
        .checks()
        .into_values()
        .map(|local| local.check)
        .filter(|check| check.service_id.is_empty() || check.service_id == service.id)
        .collect();
    InstanceHealth {
        aggregated_status: aggregate(&checks),
        service,
        checks,
    }
}

fn answer<T: Serialize>(ctx: &Ctx, status: HealthStatus, body: &T) -> Response {
    let mut response = if ctx.params.get("format") == Some("text") {
        let mut text = Body::from(status.as_str()).into_response();
        text.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        text
    } else {
        json_shaped(Shape::Agent, body, ctx.options.pretty)
    };
    *response.status_mut() = status_code(status);
    response
}

/// `GET /v1/agent/health/service/id/:id`.
pub async fn by_id(ctx: Ctx, Path(id): Path<String>) -> Result<Response, ApiError> {
    let service = ctx
        .agent
        .local
        .service(&id)
        .filter(|service| ctx.authz.keep(ctx.authz.service_read(&service.service)))
        .ok_or_else(|| ApiError::not_found(format!("ServiceId {id} not found")))?;
    let health = instance_health(&ctx, service);
    Ok(answer(&ctx, health.aggregated_status, &health))
}

/// `GET /v1/agent/health/service/name/:name`: every local instance of the service; the
/// status code is that of the worst.
pub async fn by_name(ctx: Ctx, Path(name): Path<String>) -> Result<Response, ApiError> {
    ctx.authz
        .require(Permission::service(Access::Read, &name))?;
    let instances: Vec<InstanceHealth> = ctx
        .agent
        .local
        .services()
        .into_values()
        .filter(|service| service.service == name)
        .map(|service| instance_health(&ctx, service))
        .collect();
    if instances.is_empty() {
        return Err(ApiError::not_found(format!("ServiceName {name} Not Found")));
    }
    let worst = instances
        .iter()
        .map(|instance| instance.aggregated_status)
        .max()
        .unwrap_or(HealthStatus::Passing);
    Ok(answer(&ctx, worst, &instances))
}
