//! `PUT /v1/txn`: Consul's transactions. Operations are decoded into the state's
//! [`TxnOp`]s; a transaction of reads is answered from the local state (honouring the
//! consistency mode), any other goes through Raft as one command.

use axum::body::Bytes;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use proconsul_api::{AgentService, HealthCheck, KvPair, Node};
use proconsul_state::{CatalogVerb, Command, CommandOutcome, KvVerb, Table, TxnOp, TxnResult};
use serde::{Deserialize, Serialize};

use crate::http::context::Ctx;
use crate::http::decode::decode_body;
use crate::http::error::ApiError;
use crate::http::respond::json as json_response;
use crate::http::txn_acl;

/// Consul's limit on operations per transaction.
const MAX_OPS: usize = 128;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct WireOp {
    #[serde(rename = "KV")]
    kv: Option<WireKv>,
    node: Option<WireNode>,
    service: Option<WireService>,
    check: Option<WireCheck>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct WireKv {
    verb: String,
    key: String,
    value: Option<String>,
    flags: u64,
    index: u64,
    session: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct WireNode {
    verb: String,
    node: Node,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct WireService {
    verb: String,
    node: String,
    service: AgentService,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct WireCheck {
    verb: String,
    check: HealthCheck,
}

/// `PUT /v1/txn`.
pub async fn txn(ctx: Ctx, body: Bytes) -> Result<Response, ApiError> {
    let wire: Vec<WireOp> = decode_body(&body)?;
    if wire.len() > MAX_OPS {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "Transaction contains too many operations ({} > {MAX_OPS})",
                wire.len()
            ),
        ));
    }
    let mut ops = wire
        .into_iter()
        .enumerate()
        .map(|(i, op)| {
            convert(&ctx, op)
                .map_err(|what| ApiError::bad_request(format!("Operation {i}: {what}")))
        })
        .collect::<Result<Vec<TxnOp>, ApiError>>()?;
    // The collection reused the wire operations' larger allocation; the command is kept
    // in the Raft log, so it gets an allocation of its own size.
    ops.shrink_to_fit();
    let denied = txn_acl::permission_errors(&ctx.authz, &ops);
    if !denied.is_empty() {
        return reply(&ctx, CommandOutcome::Txn(Err(denied)));
    }
    if ops.iter().all(TxnOp::is_read) {
        let _timer = crate::telemetry::Timer::start(&ctx.agent.metrics.txn_read);
        let (meta, outcome) = ctx
            .blocking(&Table::ALL, |state| {
                (state.last_applied(), state.read_txn(&ops))
            })
            .await?;
        let mut response = reply(&ctx, outcome)?;
        meta.write_headers(response.headers_mut());
        return Ok(response);
    }
    let _timer = crate::telemetry::Timer::start(&ctx.agent.metrics.txn_apply);
    let applied = ctx.agent.consensus()?.write(Command::Txn(ops)).await?;
    reply(&ctx, applied.outcome)
}

fn convert(ctx: &Ctx, op: WireOp) -> Result<TxnOp, String> {
    match op {
        WireOp { kv: Some(kv), .. } => {
            let verb =
                KvVerb::parse(&kv.verb).ok_or_else(|| format!("unknown KV verb {:?}", kv.verb))?;
            let value = match kv.value {
                Some(text) => STANDARD
                    .decode(text)
                    .map_err(|error| format!("Value is not base64: {error}"))?,
                None => Vec::new(),
            };
            if value.len() > ctx.agent.config.kv_max_value_size {
                return Err(format!(
                    "value for key {:?} is too large ({} > {} bytes)",
                    kv.key,
                    value.len(),
                    ctx.agent.config.kv_max_value_size
                ));
            }
            Ok(TxnOp::Kv {
                verb,
                key: kv.key,
                value,
                flags: kv.flags,
                index: kv.index,
                session: kv.session,
            })
        }
        WireOp {
            node: Some(mut node),
            ..
        } => {
            if node.node.datacenter.is_empty() {
                node.node.datacenter = ctx.agent.config.datacenter.clone();
            }
            Ok(TxnOp::Node {
                verb: catalog_verb(&node.verb)?,
                node: node.node,
            })
        }
        WireOp {
            service: Some(mut service),
            ..
        } => {
            service.service.default_zero_weights();
            Ok(TxnOp::Service {
                verb: catalog_verb(&service.verb)?,
                node: service.node,
                service: service.service,
            })
        }
        WireOp {
            check: Some(mut check),
            ..
        } => {
            check.check.derive_type_from_definition();
            Ok(TxnOp::Check {
                verb: catalog_verb(&check.verb)?,
                check: check.check,
            })
        }
        _ => Err("no KV, Node, Service or Check operation".to_string()),
    }
}

fn catalog_verb(name: &str) -> Result<CatalogVerb, String> {
    CatalogVerb::parse(name).ok_or_else(|| format!("unknown verb {name:?}"))
}

/// 200 with `Results`, or 409 with `Errors`, encoded in Consul's server shapes like
/// every catalog answer (a service result carries its empty `Proxy` and `Connect`).
fn reply(ctx: &Ctx, outcome: CommandOutcome) -> Result<Response, ApiError> {
    let pretty = ctx.options.pretty;
    match outcome {
        CommandOutcome::Txn(Ok(mut results)) => {
            txn_acl::filter_results(&ctx.authz, &mut results);
            let results = results.iter().map(WireResult::from).collect();
            Ok(json_response(
                &TxnAnswer {
                    results: Some(results),
                    errors: None,
                },
                pretty,
            ))
        }
        CommandOutcome::Txn(Err(errors)) => {
            let errors = errors
                .iter()
                .map(|error| WireError {
                    op_index: error.op_index,
                    what: &error.what,
                })
                .collect();
            let answer = TxnAnswer {
                results: None,
                errors: Some(errors),
            };
            let mut response = json_response(&answer, pretty);
            *response.status_mut() = StatusCode::CONFLICT;
            Ok(response.into_response())
        }
        CommandOutcome::Rejected(reason) => Err(ApiError::internal(reason)),
        other => Err(ApiError::internal(format!(
            "unexpected transaction outcome {other:?}"
        ))),
    }
}

/// Consul's `TxnResponse`: one of the two lists is `null`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct TxnAnswer<'a> {
    results: Option<Vec<WireResult<'a>>>,
    errors: Option<Vec<WireError<'a>>>,
}

/// One `TxnResult`: an object with the one key that names its kind.
#[derive(Serialize)]
enum WireResult<'a> {
    #[serde(rename = "KV")]
    Kv(&'a KvPair),
    Node(&'a Node),
    Service(&'a AgentService),
    Check(&'a HealthCheck),
}

impl<'a> From<&'a TxnResult> for WireResult<'a> {
    fn from(result: &'a TxnResult) -> Self {
        match result {
            TxnResult::Kv(entry) => WireResult::Kv(entry),
            TxnResult::Node(node) => WireResult::Node(node),
            TxnResult::Service(service) => WireResult::Service(service),
            TxnResult::Check(check) => WireResult::Check(check),
        }
    }
}

/// Consul's `TxnError`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct WireError<'a> {
    op_index: usize,
    what: &'a str,
}
