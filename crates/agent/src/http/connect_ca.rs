//! `/v1/connect/ca/roots` and `/v1/agent/connect/ca/roots`: the agent's Connect CA root
//! (see [`crate::connect_ca`]). It never changes while the agent runs, so a blocking
//! query at its index waits out its whole wait time.
//!
//! `/v1/connect/ca/configuration`: the CA's provider and settings, replicated. Only
//! Consul's built-in provider (`consul`) exists; its settings are stored as written and
//! read back as they were (they do not change the root yet).

use axum::body::Bytes;
use axum::response::{IntoResponse, Response};
use proconsul_acl::{Access, Permission};
use proconsul_api::connect::CaConfiguration;
use proconsul_state::{Command, CommandOutcome, Table};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::http::context::Ctx;
use crate::http::decode::decode_body;
use crate::http::error::ApiError;
use crate::http::respond::query_json;

/// The only provider there is.
const BUILT_IN_PROVIDER: &str = "consul";

/// The body of `PUT /v1/connect/ca/configuration`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct CaConfigRequest {
    provider: String,
    config: Option<serde_json::Map<String, Value>>,
}

/// `GET /v1/connect/ca/configuration`: the stored configuration, else the built-in
/// provider's defaults (Consul's: leaf certificates for 72h, intermediates for a year,
/// the root for ten).
pub async fn configuration(ctx: Ctx) -> Result<Response, ApiError> {
    require_connect(&ctx)?;
    ctx.authz.require(Permission::operator(Access::Read))?;
    let (meta, stored) = ctx
        .blocking(&[Table::Intentions], |state| {
            let stored = state.ca_configuration().map(|config| (**config).clone());
            (state.table_indexes().get(Table::Intentions).max(1), stored)
        })
        .await?;
    let (provider, config, create_index, modify_index) = match stored {
        Some(stored) => (
            stored.provider,
            serde_json::from_str(&stored.config_json).unwrap_or_else(|_| json!({})),
            stored.create_index,
            stored.modify_index,
        ),
        None => (
            BUILT_IN_PROVIDER.to_string(),
            json!({"LeafCertTTL": "72h", "IntermediateCertTTL": "8760h", "RootCertTTL": "87600h"}),
            1,
            1,
        ),
    };
    let answer = json!({
        "Provider": provider,
        "Config": config,
        "State": null,
        "ForceWithoutCrossSigning": false,
        "CreateIndex": create_index,
        "ModifyIndex": modify_index,
    });
    Ok(query_json(&meta, &answer, ctx.options.pretty))
}

/// `PUT /v1/connect/ca/configuration`: replaces the configuration (`operator:write`).
pub async fn set_configuration(ctx: Ctx, body: Bytes) -> Result<Response, ApiError> {
    require_connect(&ctx)?;
    ctx.authz.require(Permission::operator(Access::Write))?;
    let request: CaConfigRequest = decode_body(&body)?;
    if request.provider != BUILT_IN_PROVIDER {
        return Err(ApiError::bad_request(format!(
            "unknown CA provider {:?}",
            request.provider
        )));
    }
    let config = Value::Object(request.config.unwrap_or_default()).to_string();
    let command = Command::CaConfigSet(Box::new(CaConfiguration {
        provider: request.provider,
        config_json: config,
        create_index: 0,
        modify_index: 0,
    }));
    match ctx.agent.consensus()?.write(command).await?.outcome {
        CommandOutcome::Rejected(reason) => Err(ApiError::internal(reason)),
        _ => Ok(().into_response()),
    }
}

/// The CA's roots; Consul's 400 when Connect is disabled.
fn require_connect(ctx: &Ctx) -> Result<&crate::connect_ca::CaRoots, ApiError> {
    match &ctx.agent.connect_ca {
        Some(roots) => Ok(roots),
        None => Err(ApiError::bad_request(
            "Connect must be enabled in order to use this endpoint",
        )),
    }
}

/// `GET /v1/connect/ca/roots` and `GET /v1/agent/connect/ca/roots`.
pub async fn roots(ctx: Ctx) -> Result<Response, ApiError> {
    let roots = require_connect(&ctx)?;
    let index = roots
        .roots
        .iter()
        .map(|root| root.modify_index)
        .max()
        .unwrap_or(1);
    if ctx.options.min_index >= index {
        tokio::select! {
            _ = tokio::time::sleep(ctx.options.wait) => {}
            _ = ctx.agent.shutdown.cancelled() => {}
        }
    }
    Ok(query_json(&ctx.meta(index), roots, ctx.options.pretty))
}
