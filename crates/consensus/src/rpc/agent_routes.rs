//! The receiving side of client agents' server RPC: forwarded HTTP requests and DNS
//! queries go to the handler the agent installed, writes (once that handler has vetted
//! their token) through this server's [`Consensus::write`] (to the leader), token
//! lookups to the handler, and node views come from the state as the leader has it
//! (the default consistency mode).

use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;

use std::sync::Arc;

use crate::agent_acl::{AgentWrite, TokenGrantRequest, TokenLookup};
use crate::agent_rpc::{
    ForwardedDnsQuery, ForwardedHttpRequest, ForwardedHttpResponse, ForwardedRequests, NodeView,
    NodeViewRequest,
};
use crate::node::Consensus;
use crate::rpc::messages::{Answer, RemoteError, WriteApplied};
use crate::rpc::server::serve;

pub(crate) async fn http(State(consensus): State<Consensus>, body: Bytes) -> Response {
    serve(
        body,
        async |request: ForwardedHttpRequest| -> Answer<ForwardedHttpResponse> {
            Ok(installed(&consensus)?.http(request).await)
        },
    )
    .await
}

pub(crate) async fn dns(State(consensus): State<Consensus>, body: Bytes) -> Response {
    serve(
        body,
        async |query: ForwardedDnsQuery| -> Answer<Option<Vec<u8>>> {
            Ok(installed(&consensus)?.dns(query).await)
        },
    )
    .await
}

/// The agent's handler of forwarded requests; until it is installed, "not ready"
/// (nothing done: the client tries another server).
fn installed(consensus: &Consensus) -> Result<Arc<dyn ForwardedRequests>, RemoteError> {
    consensus
        .inner
        .forwarded
        .get()
        .cloned()
        .ok_or(RemoteError::NotReady)
}

/// A client's catalog write: its token is vetted by the agent's handler (nothing is
/// proposed when refused), then the command goes through [`Consensus::write`].
pub(crate) async fn write(State(consensus): State<Consensus>, body: Bytes) -> Response {
    serve(
        body,
        async |request: AgentWrite| -> Answer<Result<WriteApplied, String>> {
            if let Err(refusal) = installed(&consensus)?.vet_write(&request.token, &request.command)
            {
                return Ok(Err(refusal));
            }
            let applied = consensus.write(request.command).await?;
            Ok(Ok(WriteApplied {
                index: applied.index,
                outcome: applied.outcome,
            }))
        },
    )
    .await
}

/// What a token grants, from the agent's handler (the server's replica).
pub(crate) async fn token_grant(State(consensus): State<Consensus>, body: Bytes) -> Response {
    serve(
        body,
        async |request: TokenGrantRequest| -> Answer<TokenLookup> {
            Ok(installed(&consensus)?.token_grant(&request.secret))
        },
    )
    .await
}

pub(crate) async fn node_view(State(consensus): State<Consensus>, body: Bytes) -> Response {
    serve(body, async |request: NodeViewRequest| -> Answer<NodeView> {
        consensus.read_barrier(false).await?;
        Ok(NodeView::of(&consensus.reader().current(), &request.node))
    })
    .await
}
