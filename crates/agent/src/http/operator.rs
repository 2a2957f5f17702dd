//! `/v1/operator/raft/*`: the Raft configuration, removing a server from it, and handing
//! leadership to another voter. Any server answers; changes are made by the leader.

use axum::response::Response;
use proconsul_acl::{Access, Permission};
use proconsul_consensus::RaftServer;
use serde_json::json;

use crate::http::context::Ctx;
use crate::http::error::ApiError;
use crate::http::respond::json;

/// `GET /v1/operator/raft/configuration`.
pub async fn configuration(ctx: Ctx) -> Result<Response, ApiError> {
    ctx.authz.require(Permission::operator(Access::Read))?;
    let configuration = ctx.agent.consensus()?.configuration();
    let servers: Vec<serde_json::Value> = configuration
        .servers
        .iter()
        .map(|server| {
            json!({
                "ID": server.id,
                "Node": server.name,
                "Address": server.address,
                "Leader": server.leader,
                "ProtocolVersion": "3",
                "Voter": server.voter,
                "LastIndex": server.last_index,
            })
        })
        .collect();
    Ok(json(
        &json!({"Servers": servers, "Index": configuration.index}),
        ctx.options.pretty,
    ))
}

/// The server `?id=` (node ID, or Raft ID) or `?address=` names.
fn find_server(ctx: &Ctx) -> Result<RaftServer, ApiError> {
    let (kind, wanted) = match (ctx.params.get("id"), ctx.params.get("address")) {
        (Some(id), _) => ("id", id.to_string()),
        (None, Some(address)) => ("address", address.to_string()),
        (None, None) => {
            return Err(ApiError::bad_request(
                "Must specify either ?id with the server's ID or ?address with IP:port of peer to remove",
            ));
        }
    };
    let configuration = ctx.agent.consensus()?.configuration();
    configuration
        .servers
        .into_iter()
        .find(|server| match kind {
            "id" => server.id == wanted || server.node_id.to_string() == wanted,
            _ => server.address == wanted,
        })
        .ok_or_else(|| {
            ApiError::internal(format!(
                "{kind} {wanted:?} was not found in the Raft configuration"
            ))
        })
}

/// `DELETE /v1/operator/raft/peer?id=|address=`.
pub async fn remove_peer(ctx: Ctx) -> Result<Response, ApiError> {
    ctx.authz.require(Permission::operator(Access::Write))?;
    let server = find_server(&ctx)?;
    ctx.agent.consensus()?.remove_server(server.node_id).await?;
    tracing::info!(node = %server.name, address = %server.address, "operator: removed server from the Raft configuration");
    Ok(Response::default())
}

/// `POST /v1/operator/raft/transfer-leader[?id=]`: `{"Success": true}` once the new
/// leader leads.
pub async fn transfer_leader(ctx: Ctx) -> Result<Response, ApiError> {
    ctx.authz.require(Permission::operator(Access::Write))?;
    let to = match ctx.params.get("id") {
        Some(_) => Some(find_server(&ctx)?.node_id),
        None => None,
    };
    ctx.agent.consensus()?.transfer_leadership(to).await?;
    Ok(json(&json!({"Success": true}), ctx.options.pretty))
}
