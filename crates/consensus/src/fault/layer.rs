//! One server's live fault layer: the rule set in force, and the waits it imposes on the
//! messages that leave this server (its requests, at [`crate::rpc::client::RpcClient`],
//! and its answers, in [`answer_faults`] around the RPC router).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::watch;

use crate::fault::rules::{FaultAction, FaultSet, InvalidFaults, Leg, delay_for};

/// The environment variable that turns the layer on (tests only).
pub const ENV_SWITCH: &str = "PROCONSUL_TEST_FAULTS";
/// The header a request carries its sender's server RPC address in, so that the
/// answering server knows whom its answer goes to.
pub(crate) const FROM_HEADER: &str = "x-proconsul-fault-from";
/// How long an answer may be held or dropped at most: its requester gave up long before.
const ANSWER_WAIT_LIMIT: Duration = Duration::from_secs(120);

/// The rules one server applies to what it sends; cheap to share.
#[derive(Debug)]
pub struct FaultLayer {
    /// This server's RPC address: the `From` of everything it sends.
    me: String,
    rules: watch::Sender<Arc<FaultSet>>,
    /// How many delays were drawn, for the seeded jitter.
    draws: AtomicU64,
}

impl FaultLayer {
    /// Whether `PROCONSUL_TEST_FAULTS=1` asks for the layer.
    pub fn requested_by_env() -> bool {
        std::env::var_os(ENV_SWITCH).is_some_and(|value| value == "1")
    }

    /// A layer with no rules for the server whose RPC address is `me`.
    pub fn new(me: String) -> Arc<FaultLayer> {
        Arc::new(FaultLayer {
            me,
            rules: watch::Sender::new(Arc::new(FaultSet::healed())),
            draws: AtomicU64::new(0),
        })
    }

    /// This server's RPC address, as rules name it.
    pub fn me(&self) -> &str {
        &self.me
    }

    /// The rules in force.
    pub fn rules(&self) -> Arc<FaultSet> {
        self.rules.borrow().clone()
    }

    /// Replaces the whole rule set; held messages are judged again by the new one.
    pub fn set(&self, rules: FaultSet) -> Result<(), InvalidFaults> {
        rules.validate()?;
        tracing::warn!(me = %self.me, rules = ?rules.rules, "test faults: new rules");
        self.rules.send_replace(Arc::new(rules));
        Ok(())
    }

    /// Removes every rule; held messages go on.
    pub fn heal(&self) {
        tracing::warn!(me = %self.me, "test faults: healed");
        self.rules.send_replace(Arc::new(FaultSet::healed()));
    }

    /// Waits as the rules say before a request of `kind` leaves for `to`. `false`: it
    /// is refused. A dropped request never returns: the caller's timeout ends it.
    pub(crate) async fn pass_request(&self, to: &str, kind: &str) -> bool {
        self.pass(to, kind, Leg::Request).await
    }

    /// Waits as the rules say before an answer to a request of `kind` from `to` leaves.
    /// `false`: the answer is replaced by a failure (refused, or dropped and given up).
    pub(crate) async fn pass_answer(&self, to: &str, kind: &str) -> bool {
        tokio::time::timeout(ANSWER_WAIT_LIMIT, self.pass(to, kind, Leg::Answer))
            .await
            .unwrap_or(false)
    }

    async fn pass(&self, to: &str, kind: &str, leg: Leg) -> bool {
        let mut changes = self.rules.subscribe();
        loop {
            let (action, seed) = {
                let rules = changes.borrow_and_update();
                let action = rules.action_for(&self.me, to, kind, leg).cloned();
                (action, rules.seed)
            };
            match action {
                None => return true,
                Some(FaultAction::Refuse) => return false,
                Some(FaultAction::Delay { base_ms, jitter_ms }) => {
                    let draw = self.draws.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(delay_for(base_ms, jitter_ms, seed, draw)).await;
                    return true;
                }
                Some(FaultAction::Drop) => {
                    std::future::pending::<()>().await;
                }
                Some(FaultAction::Hold) => {
                    if changes.changed().await.is_err() {
                        return false;
                    }
                }
            }
        }
    }
}

/// Around the RPC router: runs the request, then lets its answer leave as the rules say
/// (the requester is named by [`FROM_HEADER`]; requests without it, from client agents,
/// match only rules without a `To`).
pub(crate) async fn answer_faults(
    State(layer): State<Arc<FaultLayer>>,
    request: Request,
    next: Next,
) -> Response {
    let kind = request.uri().path().to_string();
    let from = request
        .headers()
        .get(FROM_HEADER)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let answer = next.run(request).await;
    if layer.pass_answer(&from, &kind).await {
        answer
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "test fault: answer lost").into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fault::rules::FaultRule;

    fn only(action: FaultAction) -> FaultSet {
        FaultSet {
            rules: vec![FaultRule {
                from: None,
                to: Some("b".to_string()),
                kinds: Vec::new(),
                leg: None,
                action,
            }],
            seed: 1,
        }
    }

    #[tokio::test]
    async fn refusals_and_passes_are_immediate() {
        let layer = FaultLayer::new("a".to_string());
        assert!(layer.pass_request("b", "/raft/vote").await);
        layer.set(only(FaultAction::Refuse)).expect("valid");
        assert!(!layer.pass_request("b", "/raft/vote").await);
        assert!(!layer.pass_answer("b", "/raft/vote").await);
        assert!(layer.pass_request("c", "/raft/vote").await);
    }

    #[tokio::test(start_paused = true)]
    async fn a_held_message_goes_when_healed_and_a_dropped_one_never() {
        let layer = FaultLayer::new("a".to_string());
        layer.set(only(FaultAction::Hold)).expect("valid");
        let held = tokio::spawn({
            let layer = layer.clone();
            async move { layer.pass_request("b", "/cluster/write").await }
        });
        tokio::time::sleep(Duration::from_secs(30)).await;
        assert!(!held.is_finished());
        layer.heal();
        assert!(held.await.expect("joins"));

        layer.set(only(FaultAction::Drop)).expect("valid");
        let dropped = tokio::time::timeout(
            Duration::from_secs(60),
            layer.pass_request("b", "/cluster/write"),
        )
        .await;
        assert!(dropped.is_err(), "a dropped request must hang");
        // A dropped answer is given up, and lost, after the limit.
        assert!(!layer.pass_answer("b", "/cluster/write").await);
    }

    #[tokio::test(start_paused = true)]
    async fn delays_wait_their_draw() {
        let layer = FaultLayer::new("a".to_string());
        layer
            .set(only(FaultAction::Delay {
                base_ms: 100,
                jitter_ms: 0,
            }))
            .expect("valid");
        let started = tokio::time::Instant::now();
        assert!(layer.pass_request("b", "/raft/append-entries").await);
        assert_eq!(started.elapsed(), Duration::from_millis(100));
    }
}
