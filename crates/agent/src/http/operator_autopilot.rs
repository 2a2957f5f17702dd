//! `/v1/operator/autopilot/*`: autopilot's configuration (replicated; PUT with `?cas`),
//! the servers' health as the leader sees it (429 when any is unhealthy, as Consul
//! answers), and autopilot's state. Shapes are those of the `api` package's
//! `AutopilotConfiguration`, `OperatorHealthReply` and `AutopilotState`.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::body::Bytes;
use axum::http::StatusCode;
use axum::response::Response;
use proconsul_acl::{Access, Permission};
use proconsul_api::duration::{format_duration, parse_duration};
use proconsul_api::go_time::GoTime;
use proconsul_api::operator::AutopilotConfiguration;
use proconsul_consensus::{ClusterHealth, ServerHealth};
use proconsul_state::{Command, CommandOutcome};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::agent::CONSUL_COMPAT_VERSION;
use crate::http::context::Ctx;
use crate::http::decode::decode_body;
use crate::http::error::ApiError;
use crate::http::respond::json;

/// `GET /v1/operator/autopilot/configuration`.
pub async fn configuration(ctx: Ctx) -> Result<Response, ApiError> {
    ctx.authz.require(Permission::operator(Access::Read))?;
    let config = ctx.agent.consensus()?.autopilot_configuration();
    Ok(json(&render_configuration(&config), ctx.options.pretty))
}

fn render_configuration(config: &AutopilotConfiguration) -> Value {
    json!({
        "CleanupDeadServers": config.cleanup_dead_servers,
        "LastContactThreshold": format_duration(config.last_contact_threshold),
        "MaxTrailingLogs": config.max_trailing_logs,
        "MinQuorum": config.min_quorum,
        "ServerStabilizationTime": format_duration(config.server_stabilization_time),
        "RedundancyZoneTag": config.redundancy_zone_tag,
        "DisableUpgradeMigration": config.disable_upgrade_migration,
        "UpgradeVersionTag": config.upgrade_version_tag,
        "CreateIndex": config.create_index,
        "ModifyIndex": config.modify_index,
    })
}

/// The body of `PUT /v1/operator/autopilot/configuration`, decoded as Go decodes it:
/// what is missing or `null` is the zero value.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct ConfigurationRequest {
    cleanup_dead_servers: bool,
    last_contact_threshold: Option<Value>,
    max_trailing_logs: u64,
    min_quorum: u32,
    server_stabilization_time: Option<Value>,
    redundancy_zone_tag: String,
    disable_upgrade_migration: bool,
    upgrade_version_tag: String,
}

/// A `ReadableDuration`: a Go duration string, or a number of nanoseconds.
fn readable_duration(value: Option<&Value>, field: &str) -> Result<Duration, ApiError> {
    let invalid = |reason: String| {
        ApiError::bad_request(format!("Error parsing autopilot config: {field}: {reason}"))
    };
    match value {
        None | Some(Value::Null) => Ok(Duration::ZERO),
        Some(Value::String(text)) => {
            parse_duration(text).map_err(|error| invalid(error.to_string()))
        }
        Some(Value::Number(number)) => number
            .as_f64()
            .filter(|nanos| nanos.is_finite() && *nanos >= 0.0)
            .map(|nanos| Duration::from_nanos(nanos as u64))
            .ok_or_else(|| invalid(format!("invalid duration {number}"))),
        Some(other) => Err(invalid(format!("invalid duration {other}"))),
    }
}

/// `PUT /v1/operator/autopilot/configuration[?cas=N]`: replaces the configuration;
/// with `?cas`, answers `true` or `false` by whether N was the current ModifyIndex.
pub async fn set_configuration(ctx: Ctx, body: Bytes) -> Result<Response, ApiError> {
    ctx.authz.require(Permission::operator(Access::Write))?;
    let request: ConfigurationRequest = decode_body(&body)?;
    let cas = match ctx.params.get("cas") {
        None => None,
        Some(text) => Some(
            text.parse::<u64>()
                .map_err(|_| ApiError::bad_request(format!("Error parsing cas value: {text:?}")))?,
        ),
    };
    let config = AutopilotConfiguration {
        cleanup_dead_servers: request.cleanup_dead_servers,
        last_contact_threshold: readable_duration(
            request.last_contact_threshold.as_ref(),
            "LastContactThreshold",
        )?,
        max_trailing_logs: request.max_trailing_logs,
        min_quorum: request.min_quorum,
        server_stabilization_time: readable_duration(
            request.server_stabilization_time.as_ref(),
            "ServerStabilizationTime",
        )?,
        redundancy_zone_tag: request.redundancy_zone_tag,
        disable_upgrade_migration: request.disable_upgrade_migration,
        upgrade_version_tag: request.upgrade_version_tag,
        create_index: 0,
        modify_index: 0,
    };
    let command = Command::AutopilotConfigSet {
        config: Box::new(config),
        cas,
    };
    let applied = match ctx.agent.consensus()?.write(command).await?.outcome {
        CommandOutcome::Applied(applied) => applied,
        CommandOutcome::Rejected(reason) => return Err(ApiError::internal(reason)),
        _ => true,
    };
    // Consul answers the check-and-set's outcome, and `true` for a plain write.
    Ok(json(&(applied || cas.is_none()), ctx.options.pretty))
}

/// A server's figures common to the health and state answers.
fn server_fields(server: &ServerHealth) -> serde_json::Map<String, Value> {
    let fields = json!({
        "ID": server.id,
        "Name": server.name,
        "Address": server.address,
        "Version": CONSUL_COMPAT_VERSION,
        "LastContact": format_duration(server.last_contact.unwrap_or_default()),
        "LastTerm": server.last_term,
        "LastIndex": server.last_index,
        "Healthy": server.healthy,
        "StableSince": GoTime::from(server.stable_since),
    });
    match fields {
        Value::Object(map) => map,
        _ => unreachable!("a JSON object literal"),
    }
}

/// Without gossip a server the leader has heard from is `alive`, one it never heard
/// from `failed`.
/// The server's gossip status (`alive`, `failed`, `left`...); a server gossip does not
/// know yet is alive if the leader hears from it.
fn node_status(gossip: &proconsul_gossip::Gossip, server: &ServerHealth) -> &'static str {
    match gossip.member(&server.name) {
        Some(member) => member.status.as_str(),
        None if server.last_contact.is_some() => "alive",
        None => "failed",
    }
}

/// `GET /v1/operator/autopilot/health`: 200 when every server is healthy, else 429
/// with the same body.
pub async fn health(ctx: Ctx) -> Result<Response, ApiError> {
    ctx.authz.require(Permission::operator(Access::Read))?;
    let health = ctx.agent.consensus()?.server_health().await?;
    let servers: Vec<Value> = health
        .servers
        .iter()
        .map(|server| {
            let mut fields = server_fields(server);
            fields.insert(
                "SerfStatus".into(),
                node_status(&ctx.agent.gossip, server).into(),
            );
            fields.insert("Leader".into(), server.leader.into());
            fields.insert("Voter".into(), server.voter.into());
            Value::Object(fields)
        })
        .collect();
    let body = json!({
        "Healthy": health.healthy,
        "FailureTolerance": health.failure_tolerance,
        "Servers": servers,
    });
    let mut response = json(&body, ctx.options.pretty);
    if !health.healthy {
        *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
    }
    Ok(response)
}

/// `GET /v1/operator/autopilot/state`.
pub async fn state(ctx: Ctx) -> Result<Response, ApiError> {
    ctx.authz.require(Permission::operator(Access::Read))?;
    let health = ctx.agent.consensus()?.server_health().await?;
    Ok(json(
        &render_state(&health, &ctx.agent.gossip),
        ctx.options.pretty,
    ))
}

fn render_state(health: &ClusterHealth, gossip: &proconsul_gossip::Gossip) -> Value {
    let servers: BTreeMap<&str, Value> = health
        .servers
        .iter()
        .map(|server| {
            let mut fields = server_fields(server);
            let status = match (server.leader, server.voter) {
                (true, _) => "leader",
                (false, true) => "voter",
                (false, false) => "non-voter",
            };
            fields.insert("NodeStatus".into(), node_status(gossip, server).into());
            fields.insert("ReadReplica".into(), false.into());
            fields.insert("Status".into(), status.into());
            fields.insert("Meta".into(), json!({}));
            fields.insert("NodeType".into(), "voter".into());
            (server.id.as_str(), Value::Object(fields))
        })
        .collect();
    let leader = health
        .servers
        .iter()
        .find(|server| server.leader)
        .map_or("", |server| server.id.as_str());
    let voters: Vec<&str> = health
        .servers
        .iter()
        .filter(|server| server.voter)
        .map(|server| server.id.as_str())
        .collect();
    json!({
        "Healthy": health.healthy,
        "FailureTolerance": health.failure_tolerance,
        "OptimisticFailureTolerance": health.failure_tolerance,
        "Servers": servers,
        "Leader": leader,
        "Voters": voters,
    })
}
