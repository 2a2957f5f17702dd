//! The receiving side of server RPC: an axum router on the server port, each route
//! decoding a postcard request, handing it to Raft or to [`Consensus`], and encoding the
//! answer. It stops with the server.

use std::future::Future;
use std::io::Cursor;
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use openraft::Snapshot;
use openraft::raft::{AppendEntriesRequest, TransferLeaderRequest, VoteRequest};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::net::TcpListener;

use crate::metrics::millis_since;
use crate::node::{Consensus, fatal_error};
use crate::rpc::messages::{
    self, AddServer, Answer, ForwardedWrites, Hello, ReadIndexRequest, RemoteError, RemoveServer,
    SnapshotTransfer, TransferLeadership,
};
use crate::types::TypeConfig;

/// The largest request accepted: a whole snapshot travels in one.
const MAX_REQUEST: usize = 1 << 30;

/// Serves server RPC on `listener` until the server shuts down.
pub(crate) fn spawn(consensus: Consensus, listener: TcpListener) {
    let shutdown = consensus.inner.shutdown.clone();
    let tls = consensus.inner.listener_tls.clone();
    let router = Router::new()
        .route(messages::APPEND_ENTRIES, post(append_entries))
        .route(messages::VOTE, post(vote))
        .route(messages::PRE_VOTE, post(pre_vote))
        .route(messages::SNAPSHOT, post(snapshot))
        .route(messages::TRANSFER_LEADER, post(transfer_leader))
        .route(messages::HELLO, post(hello))
        .route(messages::WRITE, post(write))
        .route(messages::READ_INDEX, post(read_index))
        .route(messages::ADD_SERVER, post(add_server))
        .route(messages::REMOVE_SERVER, post(remove_server))
        .route(messages::LEAD_TRANSFER, post(transfer_leadership))
        .route(messages::AUTOPILOT_HEALTH, post(autopilot_health))
        .route(messages::AGENT_HTTP, post(crate::rpc::agent_routes::http))
        .route(messages::AGENT_WRITE, post(crate::rpc::agent_routes::write))
        .route(
            messages::AGENT_NODE,
            post(crate::rpc::agent_routes::node_view),
        )
        .route(messages::AGENT_DNS, post(crate::rpc::agent_routes::dns))
        .route(
            messages::AGENT_ACL_TOKEN,
            post(crate::rpc::agent_routes::token_grant),
        )
        .layer(DefaultBodyLimit::max(MAX_REQUEST));
    // Only under test faults: answers pass the fault layer on their way out.
    let router = match consensus.inner.faults.clone() {
        Some(faults) => router.layer(axum::middleware::from_fn_with_state(
            faults,
            crate::fault::layer::answer_faults,
        )),
        None => router,
    };
    let router = router.with_state(consensus);
    tokio::spawn(crate::rpc::listener::serve(listener, router, tls, shutdown));
}

/// Decodes the request, runs `handle`, encodes its answer.
pub(crate) async fn serve<Req, Resp, Fut>(body: Bytes, handle: impl FnOnce(Req) -> Fut) -> Response
where
    Req: DeserializeOwned,
    Resp: Serialize,
    Fut: Future<Output = Resp>,
{
    let request = match postcard::from_bytes::<Req>(&body) {
        Ok(request) => request,
        Err(error) => {
            tracing::warn!(%error, "server RPC: undecodable request");
            let message = format!("undecodable server RPC request: {error}");
            return (StatusCode::BAD_REQUEST, message).into_response();
        }
    };
    let answer = handle(request).await;
    match postcard::to_allocvec(&answer) {
        Ok(bytes) => bytes.into_response(),
        Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response(),
    }
}

/// Raft's own answer, or why Raft could not give one.
fn raft_answer<T, E: std::fmt::Display>(result: Result<T, E>) -> Answer<T> {
    result.map_err(|error| RemoteError::Failed(error.to_string()))
}

async fn append_entries(State(consensus): State<Consensus>, body: Bytes) -> Response {
    serve(body, async |request: AppendEntriesRequest<TypeConfig>| {
        let started = Instant::now();
        let answer = raft_answer(consensus.inner.raft.append_entries(request).await);
        let timer = &consensus.inner.raft_rpc_metrics.append_entries;
        timer.record(millis_since(started));
        if answer.is_ok() {
            consensus.heard_from_leader();
        }
        answer
    })
    .await
}

async fn vote(State(consensus): State<Consensus>, body: Bytes) -> Response {
    serve(body, async |request: VoteRequest<TypeConfig>| {
        let started = Instant::now();
        let answer = raft_answer(consensus.inner.raft.vote(request).await);
        let timer = &consensus.inner.raft_rpc_metrics.request_vote;
        timer.record(millis_since(started));
        answer
    })
    .await
}

async fn pre_vote(State(consensus): State<Consensus>, body: Bytes) -> Response {
    serve(body, async |request: VoteRequest<TypeConfig>| {
        raft_answer(consensus.inner.raft.pre_vote(request).await)
    })
    .await
}

async fn snapshot(State(consensus): State<Consensus>, body: Bytes) -> Response {
    serve(body, async |transfer: SnapshotTransfer| {
        let snapshot = Snapshot {
            meta: transfer.meta,
            snapshot: Cursor::new(transfer.data),
        };
        let started = Instant::now();
        let installed = consensus
            .inner
            .raft
            .install_full_snapshot(transfer.vote, snapshot)
            .await;
        let timer = &consensus.inner.raft_rpc_metrics.install_snapshot;
        timer.record(millis_since(started));
        if installed.is_ok() {
            consensus.heard_from_leader();
        }
        installed.map_err(|fatal| RemoteError::from(fatal_error(fatal)))
    })
    .await
}

async fn transfer_leader(State(consensus): State<Consensus>, body: Bytes) -> Response {
    serve(body, async |request: TransferLeaderRequest<TypeConfig>| {
        raft_answer(consensus.inner.raft.handle_transfer_leader(request).await)
    })
    .await
}

async fn hello(State(consensus): State<Consensus>, body: Bytes) -> Response {
    serve(body, async |hello: Hello| consensus.answer_hello(hello)).await
}

async fn write(State(consensus): State<Consensus>, body: Bytes) -> Response {
    serve(body, async |request: ForwardedWrites| -> Answer<_> {
        Ok(consensus.write_for_follower(request.commands).await)
    })
    .await
}

async fn read_index(State(consensus): State<Consensus>, body: Bytes) -> Response {
    serve(body, async |request: ReadIndexRequest| -> Answer<u64> {
        Ok(consensus.read_index(request.consistent).await?)
    })
    .await
}

async fn add_server(State(consensus): State<Consensus>, body: Bytes) -> Response {
    serve(body, async |request: AddServer| -> Answer<()> {
        Ok(consensus.add_server(request.server).await?)
    })
    .await
}

async fn remove_server(State(consensus): State<Consensus>, body: Bytes) -> Response {
    serve(body, async |request: RemoveServer| {
        consensus.remove_as_leader(request.node_id).await
    })
    .await
}

async fn transfer_leadership(State(consensus): State<Consensus>, body: Bytes) -> Response {
    serve(body, async |request: TransferLeadership| {
        consensus.transfer_as_leader(request.to).await
    })
    .await
}

async fn autopilot_health(State(consensus): State<Consensus>, body: Bytes) -> Response {
    serve(body, async |_: crate::autopilot::HealthRequest| {
        consensus.health_as_leader()
    })
    .await
}
