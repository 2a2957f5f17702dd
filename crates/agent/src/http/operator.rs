//! `/v1/operator/raft/*`: the Raft configuration, and the peer removal and leadership
//! transfer operators ask for. With one server, removal and transfer have nothing to
//! act on and say so.

use axum::response::Response;
use serde_json::json;

use crate::http::context::Ctx;
use crate::http::error::ApiError;
use crate::http::respond::json;

/// `GET /v1/operator/raft/configuration`.
pub async fn configuration(ctx: Ctx) -> Result<Response, ApiError> {
    if !ctx.authz.operator_read() {
        return Err(ApiError::permission_denied());
    }
    let configuration = ctx.agent.consensus.configuration();
    let servers: Vec<serde_json::Value> = configuration
        .servers
        .iter()
        .map(|server| {
            // This server is known by its node; others by their Raft ID until servers
            // exchange node names.
            let (id, node) = if server.local {
                (ctx.agent.node.id.clone(), ctx.agent.node.name.clone())
            } else {
                (server.node_id.to_string(), String::new())
            };
            json!({
                "ID": id,
                "Node": node,
                "Address": server.address,
                "Leader": server.leader,
                "ProtocolVersion": "3",
                "Voter": server.voter,
                "LastIndex": if server.local { configuration.last_index } else { 0 },
            })
        })
        .collect();
    Ok(json(
        &json!({"Servers": servers, "Index": configuration.index}),
        ctx.options.pretty,
    ))
}

/// `DELETE /v1/operator/raft/peer?id=|address=`.
pub async fn remove_peer(ctx: Ctx) -> Result<Response, ApiError> {
    if !ctx.authz.operator_write() {
        return Err(ApiError::permission_denied());
    }
    let (kind, wanted) = match (ctx.params.get("id"), ctx.params.get("address")) {
        (Some(id), _) => ("id", id.to_string()),
        (None, Some(address)) => ("address", address.to_string()),
        (None, None) => {
            return Err(ApiError::bad_request(
                "Must specify either ?id with the server's ID or ?address with IP:port of peer to remove",
            ));
        }
    };
    let configuration = ctx.agent.consensus.configuration();
    let found = configuration.servers.iter().find(|server| match kind {
        "id" => server.local && wanted == ctx.agent.node.id || server.node_id.to_string() == wanted,
        _ => server.address == wanted,
    });
    match found {
        None => Err(ApiError::internal(format!(
            "{kind} {wanted:?} was not found in the Raft configuration"
        ))),
        Some(_) => Err(ApiError::internal(
            "cannot remove the only server of the Raft configuration",
        )),
    }
}

/// `POST /v1/operator/raft/transfer-leader`.
pub async fn transfer_leader(ctx: Ctx) -> Result<Response, ApiError> {
    if !ctx.authz.operator_write() {
        return Err(ApiError::permission_denied());
    }
    let voters = ctx.agent.consensus.voters();
    if voters.len() < 2 {
        return Err(ApiError::internal(
            "cannot transfer leadership: there are no other voters",
        ));
    }
    Err(ApiError::internal(
        "leadership transfer needs server RPC, which is not built yet",
    ))
}
