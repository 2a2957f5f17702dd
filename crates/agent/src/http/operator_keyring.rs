//! `/v1/operator/keyring`: the gossip encryption keys, listed, installed, made primary
//! and removed on every member at once (`keyring:read`/`keyring:write`): in a server's
//! WAN pool first (every datacenter's servers), then in the LAN pool, then in every
//! other datacenter's LAN pool (the same request sent to one of its servers, marked to
//! run on its LAN pool only), as Consul does. Answers are Consul's `KeyringResponse`
//! list, one entry per pool, the WAN pool first, then this datacenter's LAN pool, then
//! the others'. Without a WAN pool (a client agent, `ports.serf_wan = -1`), the WAN entry
//! is this datacenter's servers as the LAN pool's answers count them.

use axum::body::Bytes;
use axum::http::HeaderMap;
use axum::response::Response;
use proconsul_acl::{Access, Permission};
use proconsul_api::keyring::{KeyringRequest, KeyringResponse};
use proconsul_gossip::{KeyringOp, KeyringReport};

use crate::http::context::Ctx;
use crate::http::decode::decode_body;
use crate::http::error::ApiError;
use crate::http::respond::json;

/// What serf answers for a keyring operation on a pool without encryption.
const NOT_ENCRYPTED: &str = "Keyring is empty (encryption not enabled)";
/// Consul's limit on `?relay-factor`.
const MAX_RELAY_FACTOR: u8 = 5;
/// Marks a keyring request another datacenter's server sent on: run it on this
/// datacenter's LAN pool only (the sender did the WAN pool). A caller setting it only
/// narrows what its own request does.
const LAN_ONLY_HEADER: &str = "x-proconsul-keyring-lan-only";

/// One keyring request as this agent received it.
struct KeyringCall<'a> {
    op: KeyringOp,
    method: &'static str,
    body: &'a [u8],
    lan_only: bool,
}

/// `GET /v1/operator/keyring` (`?relay-factor`, `?local-only`).
pub async fn list(ctx: Ctx, headers: HeaderMap) -> Result<Response, ApiError> {
    ctx.authz.require(Permission::keyring(Access::Read))?;
    relay_factor(&ctx)?;
    let call = KeyringCall {
        op: KeyringOp::List,
        method: "GET",
        body: &[],
        lan_only: headers.contains_key(LAN_ONLY_HEADER),
    };
    let answer = run(&ctx, &call).await?;
    Ok(json(&answer, ctx.options.pretty))
}

/// `POST /v1/operator/keyring`: installs `{"Key": ...}` on every member.
pub async fn install(ctx: Ctx, headers: HeaderMap, body: Bytes) -> Result<Response, ApiError> {
    change(ctx, &headers, &body, KeyringOp::Install, "POST").await
}

/// `PUT /v1/operator/keyring`: makes an installed key the primary one everywhere.
pub async fn use_key(ctx: Ctx, headers: HeaderMap, body: Bytes) -> Result<Response, ApiError> {
    change(ctx, &headers, &body, KeyringOp::Use, "PUT").await
}

/// `DELETE /v1/operator/keyring`: removes a key (not the primary) everywhere.
pub async fn remove(ctx: Ctx, headers: HeaderMap, body: Bytes) -> Result<Response, ApiError> {
    change(ctx, &headers, &body, KeyringOp::Remove, "DELETE").await
}

async fn change(
    ctx: Ctx,
    headers: &HeaderMap,
    body: &[u8],
    op: fn(String) -> KeyringOp,
    method: &'static str,
) -> Result<Response, ApiError> {
    ctx.authz.require(Permission::keyring(Access::Write))?;
    relay_factor(&ctx)?;
    if ctx.params.flag("local-only") {
        return Err(ApiError::bad_request(
            "local-only can only be set for list requests",
        ));
    }
    let request: KeyringRequest = decode_body(body)?;
    let call = KeyringCall {
        op: op(request.key),
        method,
        body,
        lan_only: headers.contains_key(LAN_ONLY_HEADER),
    };
    run(&ctx, &call).await?;
    Ok(Response::default())
}

/// `?relay-factor=N`, 0 to 5; accepted and not needed (answers come straight back).
fn relay_factor(ctx: &Ctx) -> Result<u8, ApiError> {
    match ctx.params.get("relay-factor") {
        None | Some("") => Ok(0),
        Some(text) => text
            .parse::<u8>()
            .ok()
            .filter(|factor| *factor <= MAX_RELAY_FACTOR)
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "Error parsing relay factor: relay-factor must be between 0 and {MAX_RELAY_FACTOR}, got {text:?}"
                ))
            }),
    }
}

/// Runs `call` on every pool it reaches: one entry per pool.
async fn run(ctx: &Ctx, call: &KeyringCall<'_>) -> Result<Vec<KeyringResponse>, ApiError> {
    let gossip = &ctx.agent.gossip;
    if !gossip.encryption_enabled() {
        return Err(ApiError::internal(NOT_ENCRYPTED));
    }
    let datacenter = &ctx.agent.config.datacenter;
    if call.lan_only {
        let report = pool_op(gossip, call.op.clone()).await?;
        return Ok(vec![response(false, datacenter, report)]);
    }
    let wan = match &ctx.agent.wan {
        Some(wan) if wan.gossip.encryption_enabled() => {
            let report = pool_op(&wan.gossip, call.op.clone()).await?;
            Some(response(true, datacenter, report))
        }
        _ => None,
    };
    let report = pool_op(gossip, call.op.clone()).await?;
    let wan = wan.unwrap_or_else(|| {
        let servers: Vec<String> = gossip
            .members()
            .into_iter()
            .filter(|member| {
                member.status == proconsul_gossip::MemberStatus::Alive
                    && crate::membership::tags::is_server(&member.tags)
            })
            .map(|member| member.name)
            .collect();
        wan_view(&report, &servers, datacenter)
    });
    let mut answer = vec![wan, response(false, datacenter, report)];
    answer.extend(other_datacenters(ctx, call).await?);
    Ok(answer)
}

/// `call` on the LAN pool of every other datacenter this server knows over the WAN:
/// their LAN entries. A datacenter that cannot be reached or refuses is an error
/// naming it (the pools before it have been changed already, as in Consul).
async fn other_datacenters(
    ctx: &Ctx,
    call: &KeyringCall<'_>,
) -> Result<Vec<KeyringResponse>, ApiError> {
    let Some(wan) = &ctx.agent.wan else {
        return Ok(Vec::new());
    };
    let mut entries = Vec::new();
    for datacenter in wan.datacenters.names() {
        if wan.datacenters.is_local(&datacenter) {
            continue;
        }
        let uri = format!("/v1/operator/keyring?dc={datacenter}");
        let headers = [(LAN_ONLY_HEADER, "1")];
        let Some(answer) = crate::http::datacenter_forward::answer_of_datacenter(
            ctx,
            &datacenter,
            call.method,
            &uri,
            &headers,
            call.body,
        )
        .await
        else {
            break;
        };
        let body = answer?;
        if matches!(call.op, KeyringOp::List) {
            let remote: Vec<KeyringResponse> = serde_json::from_slice(&body).map_err(|error| {
                ApiError::internal(format!("{datacenter}: bad keyring answer: {error}"))
            })?;
            entries.extend(remote.into_iter().filter(|entry| !entry.wan));
        }
    }
    Ok(entries)
}

/// One pool's keyring operation; a change some member refused is an error naming them.
async fn pool_op(
    gossip: &proconsul_gossip::Gossip,
    op: KeyringOp,
) -> Result<KeyringReport, ApiError> {
    let listing = matches!(op, KeyringOp::List);
    let report = gossip
        .keyring_op(op)
        .await
        .map_err(|error| ApiError::internal(error.to_string()))?;
    if !listing && let Some(failure) = report.failure_message() {
        let details: Vec<String> = report
            .messages
            .iter()
            .map(|(node, error)| format!("{node}: {error}"))
            .collect();
        return Err(ApiError::internal(format!(
            "{failure}: {}",
            details.join("; ")
        )));
    }
    Ok(report)
}

/// A pool's report in Consul's shape.
fn response(wan: bool, datacenter: &str, report: KeyringReport) -> KeyringResponse {
    KeyringResponse {
        wan,
        datacenter: datacenter.to_string(),
        segment: String::new(),
        messages: report.messages,
        keys: report.keys,
        primary_keys: report.primary_keys,
        num_nodes: report.num_nodes,
    }
}

/// The WAN entry without a WAN pool: this datacenter's servers (named `node.dc`),
/// counted from their LAN answers.
fn wan_view(report: &KeyringReport, servers: &[String], datacenter: &str) -> KeyringResponse {
    let mut view = KeyringResponse {
        wan: true,
        datacenter: datacenter.to_string(),
        num_nodes: servers.len(),
        ..KeyringResponse::default()
    };
    for server in servers {
        if let Some(error) = report.messages.get(server) {
            view.messages
                .insert(format!("{server}.{datacenter}"), error.clone());
        }
        let Some(answer) = report.node_keys.get(server) else {
            continue;
        };
        for key in &answer.keys {
            *view.keys.entry(key.clone()).or_default() += 1;
        }
        if let Some(primary) = &answer.primary {
            *view.primary_keys.entry(primary.clone()).or_default() += 1;
        }
    }
    view
}
