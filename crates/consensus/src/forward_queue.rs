//! Writes a follower forwards travel to the leader in batches. While a few batches are
//! in flight, the writes that arrive meanwhile wait and leave together in the next one,
//! so a busy follower makes one server RPC for many writes instead of one each, and the
//! leader proposes each batch with one message to Raft (which appends it with one
//! fsync). An idle follower sends a lone write at once: batching costs no latency.

use std::sync::Arc;
use std::time::Duration;

use proconsul_state::Command;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::rpc::client::{CallError, RpcClient};
use crate::rpc::messages::{self, Answer, ForwardedWrites, WriteApplied};

/// The most writes one batch carries.
const MAX_BATCH: usize = 256;
/// Batches in flight to the leader at once; more writes wait for the next batch.
const BATCHES_IN_FLIGHT: usize = 4;
/// Writes waiting for a batch; callers beyond it wait to enqueue (backpressure).
const QUEUE_DEPTH: usize = 4096;

/// What a forwarded write came to: the leader's answer, or why it did not come.
pub(crate) type Forwarded = Result<Answer<WriteApplied>, CallError>;

/// One write waiting to be forwarded.
struct Pending {
    leader: String,
    command: Arc<Command>,
    answer: oneshot::Sender<Forwarded>,
}

/// The follower's side of batched forwarding; cheap to clone.
#[derive(Clone)]
pub(crate) struct ForwardQueue {
    queue: mpsc::Sender<Pending>,
}

impl ForwardQueue {
    /// Starts the batching task; it ends with `shutdown`.
    pub(crate) fn spawn(rpc: RpcClient, shutdown: CancellationToken) -> ForwardQueue {
        let (queue, waiting) = mpsc::channel(QUEUE_DEPTH);
        tokio::spawn(gather(rpc, waiting, shutdown));
        ForwardQueue { queue }
    }

    /// Sends `command` to the leader at `leader` (its server RPC address) in the next
    /// batch and waits for the leader's answer.
    pub(crate) async fn forward(&self, leader: &str, command: Arc<Command>) -> Forwarded {
        let (answer, answered) = oneshot::channel();
        let pending = Pending {
            leader: leader.to_string(),
            command,
            answer,
        };
        let stopped = || CallError::Unreachable {
            addr: leader.to_string(),
            reason: "this server is shutting down".to_string(),
        };
        self.queue.send(pending).await.map_err(|_| stopped())?;
        answered.await.map_err(|_| stopped())?
    }
}

/// Collects waiting writes into batches, at most [`BATCHES_IN_FLIGHT`] in flight.
async fn gather(rpc: RpcClient, mut waiting: mpsc::Receiver<Pending>, shutdown: CancellationToken) {
    let in_flight = Arc::new(Semaphore::new(BATCHES_IN_FLIGHT));
    let mut carried: Option<Pending> = None;
    loop {
        let first = match carried.take() {
            Some(pending) => pending,
            None => tokio::select! {
                _ = shutdown.cancelled() => return,
                next = waiting.recv() => match next {
                    Some(pending) => pending,
                    None => return,
                },
            },
        };
        // Waiting for a free slot is what lets the next batch fill up.
        let permit = tokio::select! {
            _ = shutdown.cancelled() => return,
            permit = in_flight.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => return,
            },
        };
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match waiting.try_recv() {
                Ok(pending) if pending.leader == batch[0].leader => batch.push(pending),
                // The leader changed: that write starts the next batch.
                Ok(pending) => {
                    carried = Some(pending);
                    break;
                }
                Err(_) => break,
            }
        }
        tokio::spawn(send_batch(rpc.clone(), batch, permit));
    }
}

/// Sends one batch and hands each write its answer. A batch whose call failed fails
/// every write in it the same way, so each caller knows whether retrying is safe.
async fn send_batch(rpc: RpcClient, batch: Vec<Pending>, _slot: OwnedSemaphorePermit) {
    let leader = batch[0].leader.clone();
    let (commands, answers): (Vec<Arc<Command>>, Vec<oneshot::Sender<Forwarded>>) = batch
        .into_iter()
        .map(|pending| (pending.command, pending.answer))
        .unzip();
    let count = commands.len();
    let request = ForwardedWrites { commands };
    // The leader bounds its own wait by the write timeout; a little more covers the trip.
    let timeout = crate::forward::WRITE_TIMEOUT + Duration::from_secs(1);
    let called: Result<Answer<Vec<Answer<WriteApplied>>>, CallError> =
        rpc.call(&leader, messages::WRITE, &request, timeout).await;
    match called {
        Ok(Ok(results)) if results.len() == count => {
            for (answer, result) in answers.into_iter().zip(results) {
                let _ = answer.send(Ok(result));
            }
        }
        Ok(Ok(results)) => {
            let reason = format!("{} answers to {count} forwarded writes", results.len());
            tracing::error!(%leader, %reason, "server RPC: malformed batch answer");
            fail_all(
                answers,
                &CallError::Failed {
                    addr: leader,
                    reason,
                },
            );
        }
        Ok(Err(refused)) => {
            for answer in answers {
                let _ = answer.send(Ok(Err(refused.clone())));
            }
        }
        Err(error) => fail_all(answers, &error),
    }
}

fn fail_all(answers: Vec<oneshot::Sender<Forwarded>>, error: &CallError) {
    for answer in answers {
        let _ = answer.send(Err(error.clone()));
    }
}
