//! The register operations over HTTP, each recorded in the history: reads in a
//! consistency mode (`GET /v1/kv/k`), puts and check-and-sets through `/v1/txn` (whose
//! answer carries the write's ModifyIndex) or the plain KV endpoint, and deletes.

use std::sync::Arc;

use serde_json::json;

use super::http::{self, Endpoints, Reply};
use super::kv_wire;
use super::recorder::Recorder;
use crate::check::history::Outcome;
use crate::check::register::{ReadMode, RegisterInput, RegisterOutput};

/// Which endpoint a write goes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WritePath {
    /// `PUT /v1/txn`: the answer names the write's index.
    Txn,
    /// `PUT /v1/kv/k` (`?cas=`): answers `true`/`false` only.
    Kv,
}

/// Records register operations.
#[derive(Clone)]
pub struct RegisterClient {
    pub http: reqwest::Client,
    pub endpoints: Endpoints,
    pub recorder: Arc<Recorder<RegisterInput, RegisterOutput>>,
}

/// What a write did, for the client's next choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    pub outcome: Outcome,
    pub index: Option<u64>,
}

impl RegisterClient {
    /// Reads `key` on `server`; returns what was found when the read succeeded. A read
    /// that failed or timed out changed nothing and is recorded as `fail`.
    pub async fn get(
        &self,
        process: u64,
        server: usize,
        key: &str,
        mode: ReadMode,
    ) -> Option<Option<(String, u64)>> {
        let call = self.recorder.invoke(
            process,
            key,
            "get",
            RegisterInput::Get { mode },
            Some(self.endpoints.label(server)),
        );
        let url = format!(
            "{}/v1/kv/{key}?{}",
            self.endpoints.url(server),
            mode.query()
        );
        let reply = http::send(self.http.get(url)).await;
        let read = match &reply {
            Ok(Reply {
                status: 404,
                index: Some(index),
                ..
            }) => Some((None, *index)),
            Ok(Reply {
                status: 200,
                index: Some(index),
                body,
            }) => parse_entry(body).map(|entry| (Some(entry), *index)),
            _ => None,
        };
        match read {
            Some((found, x_consul_index)) => {
                let output = RegisterOutput::Read {
                    found: found.clone(),
                    x_consul_index,
                };
                self.recorder
                    .complete(call, Outcome::Ok, Some(output), None);
                Some(found)
            }
            None => {
                self.recorder.complete(call, Outcome::Fail, None, None);
                None
            }
        }
    }

    /// Writes `value` to `key` (a CAS on `expect` when given).
    pub async fn write(
        &self,
        process: u64,
        server: usize,
        key: &str,
        value: String,
        expect: Option<u64>,
        path: WritePath,
    ) -> Written {
        let input = match expect {
            Some(expect) => RegisterInput::Cas {
                expect,
                value: value.clone(),
            },
            None => RegisterInput::Put {
                value: value.clone(),
            },
        };
        let f = input.name();
        let call = self
            .recorder
            .invoke(process, key, f, input, Some(self.endpoints.label(server)));
        let base = self.endpoints.url(server);
        let written = match path {
            WritePath::Txn => {
                let (verb, extra) = match expect {
                    Some(expect) => ("cas", json!({ "Index": expect })),
                    None => ("set", json!({})),
                };
                let body = kv_wire::txn_body(&[(verb, key, &value, extra)]);
                match http::send(self.http.put(format!("{base}/v1/txn")).body(body)).await {
                    Ok(reply) if reply.status == 200 => match kv_wire::txn_result(&reply.body) {
                        Some(entry) => Written {
                            outcome: Outcome::Ok,
                            index: Some(entry.modify_index),
                        },
                        None => unknown(),
                    },
                    Ok(reply) if reply.status == 409 => failed(),
                    Ok(reply) => outcome_only(http::write_failure(reply.status)),
                    Err(outcome) => outcome_only(outcome),
                }
            }
            WritePath::Kv => {
                let cas = expect.map(|i| format!("?cas={i}")).unwrap_or_default();
                let request = self
                    .http
                    .put(format!("{base}/v1/kv/{key}{cas}"))
                    .body(value);
                kv_answer(http::send(request).await)
            }
        };
        self.recorder.complete(
            call,
            written.outcome,
            Some(RegisterOutput::Written),
            written.index,
        );
        written
    }

    /// Deletes `key`.
    pub async fn delete(&self, process: u64, server: usize, key: &str) -> Written {
        let call = self.recorder.invoke(
            process,
            key,
            "delete",
            RegisterInput::Delete,
            Some(self.endpoints.label(server)),
        );
        let url = format!("{}/v1/kv/{key}", self.endpoints.url(server));
        let written = kv_answer(http::send(self.http.delete(url)).await);
        self.recorder
            .complete(call, written.outcome, Some(RegisterOutput::Written), None);
        written
    }
}

fn outcome_only(outcome: Outcome) -> Written {
    Written {
        outcome,
        index: None,
    }
}

fn failed() -> Written {
    outcome_only(Outcome::Fail)
}

fn unknown() -> Written {
    outcome_only(Outcome::Info)
}

/// `true` is ok, `false` (a CAS that did not hold) is fail.
fn kv_answer(reply: Result<Reply, Outcome>) -> Written {
    match reply {
        Ok(reply) if reply.status == 200 => match reply.body.trim() {
            "true" => outcome_only(Outcome::Ok),
            "false" => failed(),
            _ => unknown(),
        },
        Ok(reply) => outcome_only(http::write_failure(reply.status)),
        Err(outcome) => outcome_only(outcome),
    }
}

/// The value and ModifyIndex of a `GET /v1/kv/k` answer.
pub fn parse_entry(body: &str) -> Option<(String, u64)> {
    let entry = kv_wire::entries(body)?.into_iter().next()?;
    Some((entry.value.unwrap_or_default(), entry.modify_index))
}
