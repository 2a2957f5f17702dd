//! `GET /v1/operator/usage` (`?global`, consistency modes): this datacenter's catalog
//! usage (`State::service_usage`), keyed by datacenter, with the `QueryMeta` Consul
//! embeds in the body. `operator:read`. With one datacenter, `?global` answers the same.

use axum::response::Response;
use proconsul_acl::{Access, Permission};
use proconsul_api::operator::UsageResponse;
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
    let response = UsageResponse {
        usage: [(ctx.agent.config.datacenter.clone(), usage)].into(),
        meta: body_meta(&meta),
    };
    Ok(query_json(&meta, &response, ctx.options.pretty))
}
