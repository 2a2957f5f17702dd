//! `GET /v1/operator/usage` (`?global`, consistency modes): this datacenter's catalog
//! usage (`State::service_usage`), keyed by datacenter, with the `QueryMeta` Consul
//! embeds in the body. `operator:read`. With `?global`, every other datacenter this
//! server knows over the WAN is asked too (its usage, with the caller's token); the
//! meta stays this datacenter's, as Consul answers.

use axum::response::Response;
use proconsul_acl::{Access, Permission};
use proconsul_api::operator::{ServiceUsage, UsageResponse};
use proconsul_state::Table;

use crate::http::context::Ctx;
use crate::http::error::ApiError;
use crate::http::prepared_query::body_meta;
use crate::http::respond::query_json;

/// `GET /v1/operator/usage`.
pub async fn usage(ctx: Ctx) -> Result<Response, ApiError> {
    ctx.authz.require(Permission::operator(Access::Read))?;
    let (meta, usage) = ctx
        .blocking(&[Table::Nodes, Table::Services], |state| {
            let indexes = state.table_indexes();
            (indexes.nodes.max(indexes.services), state.service_usage())
        })
        .await?;
    let mut response = UsageResponse {
        usage: [(ctx.agent.config.datacenter.clone(), usage)].into(),
        meta: body_meta(&meta),
    };
    if ctx.params.flag("global") {
        response.usage.extend(other_datacenters(&ctx).await?);
    }
    Ok(query_json(&meta, &response, ctx.options.pretty))
}

/// The usage of every other datacenter known over the WAN, asked of one of its servers.
async fn other_datacenters(ctx: &Ctx) -> Result<Vec<(String, ServiceUsage)>, ApiError> {
    let Some(wan) = &ctx.agent.wan else {
        return Ok(Vec::new());
    };
    let mut usage = Vec::new();
    for datacenter in wan.datacenters.names() {
        if wan.datacenters.is_local(&datacenter) {
            continue;
        }
        let uri = format!("/v1/operator/usage?dc={datacenter}");
        let Some(answer) = crate::http::datacenter_forward::answer_of_datacenter(
            ctx,
            &datacenter,
            "GET",
            &uri,
            &[],
            &[],
        )
        .await
        else {
            break;
        };
        let remote: UsageResponse = serde_json::from_slice(&answer?).map_err(|error| {
            ApiError::internal(format!("{datacenter}: bad usage answer: {error}"))
        })?;
        usage.extend(remote.usage);
    }
    Ok(usage)
}
