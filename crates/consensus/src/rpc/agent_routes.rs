//! The receiving side of client agents' server RPC: forwarded HTTP requests and DNS
//! queries go to the handler the agent installed, writes through this server's
//! [`Consensus::write`] (to the leader), and node views come from the state as the
//! leader has it (the default consistency mode).

use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use proconsul_state::Command;

use std::sync::Arc;

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

pub(crate) async fn write(State(consensus): State<Consensus>, body: Bytes) -> Response {
    serve(body, async |command: Command| -> Answer<WriteApplied> {
        let applied = consensus.write(command).await?;
        Ok(WriteApplied {
            index: applied.index,
            outcome: applied.outcome,
        })
    })
    .await
}

pub(crate) async fn node_view(State(consensus): State<Consensus>, body: Bytes) -> Response {
    serve(body, async |request: NodeViewRequest| -> Answer<NodeView> {
        consensus.read_barrier(false).await?;
        Ok(NodeView::of(&consensus.reader().current(), &request.node))
    })
    .await
}
