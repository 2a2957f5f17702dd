//! The lock operations over HTTP, each recorded in the history: acquire through a
//! transaction's `lock` verb (its answer carries the `LockIndex`, the fencing token),
//! release through `unlock` or `?release`, session destroy, and reads of the key.
//! Sessions are created with `LockDelay: "0s"` and no health checks, so only these
//! operations change a lock.

use std::sync::Arc;

use serde_json::{Value, json};

use super::http::{self, Endpoints, Reply};
use super::kv_wire;
use super::recorder::{Invocation, Recorder};
use crate::check::history::Outcome;
use crate::check::lock::{LockInput, LockOutput, LockView};
use crate::check::register::ReadMode;

/// Records lock operations.
#[derive(Clone)]
pub struct LockClient {
    pub http: reqwest::Client,
    pub endpoints: Endpoints,
    pub recorder: Arc<Recorder<LockInput, LockOutput>>,
}

impl LockClient {
    /// Creates a session on `server` (not recorded: a session nobody uses changes
    /// nothing).
    pub async fn create_session(&self, server: usize) -> Option<String> {
        let body = json!({"Name": "fault-lock", "LockDelay": "0s", "NodeChecks": []});
        let url = format!("{}/v1/session/create", self.endpoints.url(server));
        let reply = http::send(self.http.put(url).body(body.to_string()))
            .await
            .ok()?;
        if reply.status != 200 {
            return None;
        }
        let answer: Value = serde_json::from_str(&reply.body).ok()?;
        answer["ID"].as_str().map(str::to_string)
    }

    /// Starts recording `input` on `key` through `server`.
    fn begin(
        &self,
        process: u64,
        server: usize,
        key: &str,
        input: LockInput,
    ) -> Invocation<LockInput> {
        let label = Some(self.endpoints.label(server));
        self.recorder
            .invoke(process, key, input.name(), input, label)
    }

    /// Sends a one-operation transaction: `verb` on `key` for `session`.
    async fn txn(
        &self,
        server: usize,
        verb: &str,
        key: &str,
        session: &str,
        value: &str,
    ) -> Result<Reply, Outcome> {
        let body = kv_wire::txn_body(&[(verb, key, value, json!({ "Session": session }))]);
        let url = format!("{}/v1/txn", self.endpoints.url(server));
        http::send(self.http.put(url).body(body)).await
    }

    /// Acquires `key` for `session` (a transaction's `lock`).
    pub async fn acquire(
        &self,
        process: u64,
        server: usize,
        key: &str,
        session: &str,
        value: String,
    ) -> Outcome {
        let input = LockInput::Acquire {
            session: session.to_string(),
            value: value.clone(),
        };
        let call = self.begin(process, server, key, input);
        let reply = self.txn(server, "lock", key, session, &value).await;
        let (outcome, output) = match txn_outcome(&reply) {
            Outcome::Ok => match reply
                .ok()
                .and_then(|reply| kv_wire::txn_result(&reply.body))
            {
                Some(entry) => (
                    Outcome::Ok,
                    Some(LockOutput::Acquired {
                        lock_index: entry.lock_index,
                    }),
                ),
                None => (Outcome::Info, None),
            },
            other => (other, None),
        };
        self.recorder.complete(call, outcome, output, None);
        outcome
    }

    /// Releases `key` held by `session`, through a transaction's `unlock` or through
    /// `PUT /v1/kv/k?release=`.
    pub async fn release(
        &self,
        process: u64,
        server: usize,
        key: &str,
        session: &str,
        value: String,
        through_txn: bool,
    ) -> Outcome {
        let input = LockInput::Release {
            session: session.to_string(),
            value: value.clone(),
        };
        let call = self.begin(process, server, key, input);
        let outcome = if through_txn {
            txn_outcome(&self.txn(server, "unlock", key, session, &value).await)
        } else {
            let base = self.endpoints.url(server);
            let url = format!("{base}/v1/kv/{key}?release={session}");
            true_or_false(http::send(self.http.put(url).body(value)).await)
        };
        self.recorder
            .complete(call, outcome, Some(LockOutput::Done), None);
        outcome
    }

    /// Destroys `session` (which was used on `key` only).
    pub async fn destroy(&self, process: u64, server: usize, key: &str, session: &str) -> Outcome {
        let input = LockInput::Destroy {
            session: session.to_string(),
        };
        let call = self.begin(process, server, key, input);
        let url = format!(
            "{}/v1/session/destroy/{session}",
            self.endpoints.url(server)
        );
        let outcome = true_or_false(http::send(self.http.put(url)).await);
        self.recorder
            .complete(call, outcome, Some(LockOutput::Done), None);
        outcome
    }

    /// Reads `key` (default or `?consistent`); a read that failed is recorded as `fail`.
    pub async fn read(&self, process: u64, server: usize, key: &str, mode: ReadMode) -> Outcome {
        let call = self.begin(process, server, key, LockInput::Read);
        let url = format!(
            "{}/v1/kv/{key}?{}",
            self.endpoints.url(server),
            mode.query()
        );
        let view = match http::send(self.http.get(url)).await {
            Ok(Reply { status: 404, .. }) => Some(None),
            Ok(Reply {
                status: 200, body, ..
            }) => kv_wire::entries(&body)
                .and_then(|entries| entries.into_iter().next())
                .map(|entry| {
                    Some(LockView {
                        holder: entry.session,
                        lock_index: entry.lock_index,
                        value: entry.value,
                    })
                }),
            _ => None,
        };
        match view {
            Some(view) => {
                self.recorder
                    .complete(call, Outcome::Ok, Some(LockOutput::Read { view }), None);
                Outcome::Ok
            }
            None => {
                self.recorder.complete(call, Outcome::Fail, None, None);
                Outcome::Fail
            }
        }
    }
}

/// A transaction's answer: 200 is ok, 409 (rolled back) fail.
fn txn_outcome(reply: &Result<Reply, Outcome>) -> Outcome {
    match reply {
        Ok(reply) if reply.status == 200 => Outcome::Ok,
        Ok(reply) if reply.status == 409 => Outcome::Fail,
        Ok(reply) => http::write_failure(reply.status),
        Err(outcome) => *outcome,
    }
}

fn true_or_false(reply: Result<Reply, Outcome>) -> Outcome {
    match reply {
        Ok(reply) if reply.status == 200 => match reply.body.trim() {
            "true" => Outcome::Ok,
            "false" => Outcome::Fail,
            _ => Outcome::Info,
        },
        Ok(reply) => http::write_failure(reply.status),
        Err(outcome) => outcome,
    }
}
