//! `PUT /v1/agent/reload`: re-reads the configuration files and brings the services and
//! checks they define in line with them. Other settings take effect on restart.

use axum::response::Response;
use proconsul_acl::{Access, Permission};

use crate::config_registrations;
use crate::http::context::Ctx;
use crate::http::error::ApiError;

/// `PUT /v1/agent/reload`.
pub async fn reload(ctx: Ctx) -> Result<Response, ApiError> {
    let agent = &ctx.agent;
    ctx.authz
        .require(Permission::agent(Access::Write, &agent.node.name))?;
    let failed = |message: String| ApiError::internal(format!("Failed reloading: {message}"));
    let files = proconsul_config::load(&agent.config.config_sources)
        .map_err(|error| failed(error.to_string()))?;
    let services = files.service_registrations().map_err(failed)?;
    let checks = files.check_registrations().map_err(failed)?;
    let prepared = config_registrations::prepare(agent, &services, &checks).map_err(failed)?;
    config_registrations::apply(agent, prepared)
        .await
        .map_err(|error| failed(error.to_string()))?;
    tracing::info!(
        services = services.len(),
        checks = checks.len(),
        "reloaded configuration"
    );
    Ok(Response::default())
}
