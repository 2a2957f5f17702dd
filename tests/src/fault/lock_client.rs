//! The lock operations over HTTP, each recorded in the history: acquire through a
//! transaction's `lock` verb (its answer carries the `LockIndex`, the fencing token),
//! release through `unlock` or `?release`, session destroy, and reads of the key.
//! Sessions are created with `LockDelay: "0s"` and no health checks, so only these
//! operations change a lock.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::http::{self, Endpoints, Reply};
use super::recorder::Recorder;
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
        let call = self.recorder.invoke(
            process,
            key,
            "acquire",
            input,
            Some(self.endpoints.label(server)),
        );
        let op = json!({"Verb": "lock", "Key": key, "Session": session, "Value": STANDARD.encode(&value)});
        let url = format!("{}/v1/txn", self.endpoints.url(server));
        let body = json!([{ "KV": op }]).to_string();
        let (outcome, output) = match http::send(self.http.put(url).body(body)).await {
            Ok(reply) if reply.status == 200 => match lock_index(&reply.body) {
                Some(lock_index) => (Outcome::Ok, Some(LockOutput::Acquired { lock_index })),
                None => (Outcome::Info, None),
            },
            Ok(reply) if reply.status == 409 => (Outcome::Fail, None),
            Ok(reply) => (http::write_failure(reply.status), None),
            Err(outcome) => (outcome, None),
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
        let call = self.recorder.invoke(
            process,
            key,
            "release",
            input,
            Some(self.endpoints.label(server)),
        );
        let base = self.endpoints.url(server);
        let outcome = if through_txn {
            let op = json!({"Verb": "unlock", "Key": key, "Session": session, "Value": STANDARD.encode(&value)});
            let body = json!([{ "KV": op }]).to_string();
            match http::send(self.http.put(format!("{base}/v1/txn")).body(body)).await {
                Ok(reply) if reply.status == 200 => Outcome::Ok,
                Ok(reply) if reply.status == 409 => Outcome::Fail,
                Ok(reply) => http::write_failure(reply.status),
                Err(outcome) => outcome,
            }
        } else {
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
        let call = self.recorder.invoke(
            process,
            key,
            "destroy",
            input,
            Some(self.endpoints.label(server)),
        );
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
        let call = self.recorder.invoke(
            process,
            key,
            "read",
            LockInput::Read,
            Some(self.endpoints.label(server)),
        );
        let url = format!(
            "{}/v1/kv/{key}?{}",
            self.endpoints.url(server),
            mode.query()
        );
        let view = match http::send(self.http.get(url)).await {
            Ok(Reply { status: 404, .. }) => Some(None),
            Ok(Reply {
                status: 200, body, ..
            }) => parse_view(&body).map(Some),
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

fn lock_index(body: &str) -> Option<u64> {
    let answer: Value = serde_json::from_str(body).ok()?;
    answer["Results"][0]["KV"]["LockIndex"].as_u64()
}

fn parse_view(body: &str) -> Option<LockView> {
    let entries: Value = serde_json::from_str(body).ok()?;
    let entry = entries.get(0)?;
    let value = match entry["Value"].as_str() {
        Some(encoded) => Some(String::from_utf8(STANDARD.decode(encoded).ok()?).ok()?),
        None => None,
    };
    Some(LockView {
        holder: entry["Session"]
            .as_str()
            .filter(|session| !session.is_empty())
            .map(str::to_string),
        lock_index: entry["LockIndex"].as_u64()?,
        value,
    })
}
