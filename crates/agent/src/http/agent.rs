//! `/v1/agent`: this agent's view of itself and the services and checks it owns.
//!
//! Reads come from the agent's local state; writes commit to the catalog first and change
//! the local state only once committed.

use proconsul_acl::{Access, Authorize, Permission};
use std::collections::BTreeMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use axum::body::Bytes;
use axum::extract::Path;
use axum::http::HeaderValue;
use axum::response::Response;
use proconsul_api::go_json::{self, Shape};
use proconsul_api::{
    AgentMember, CheckRegistration, CheckUpdate, HealthCheck, HealthStatus, ServiceRegistration,
};
use serde_json::{Value, json as json_value};

use crate::acl::AclRefusal;
use crate::agent::{AgentInner, CONSUL_COMPAT_VERSION};
use crate::checks::{OUTPUT_MAX_SIZE, truncate_output};
use crate::http::context::Ctx;
use crate::http::decode::decode_body;
use crate::http::error::ApiError;
use crate::http::respond::{json, json_shaped};
use crate::local::{LocalCheck, allow_check_type, check_from_registration, prepare_service};
use crate::membership::answer::agent_member;

/// `GET /v1/agent/self`: configuration and runtime facts, in Consul's shape (clients
/// read `Config.Datacenter`, `Stats.consul.leader_addr`, `DebugConfig.SessionTTLMin`).
pub async fn self_info(ctx: Ctx) -> Result<Response, ApiError> {
    let agent = &ctx.agent;
    ctx.authz
        .require(Permission::agent(Access::Read, &agent.node.name))?;
    let config = &agent.config;
    let server = agent.catalog.server().is_some();
    let body = json_value!({
        "Config": {
            "Datacenter": config.datacenter,
            "PrimaryDatacenter": config.datacenter,
            "NodeName": agent.node.name,
            "NodeID": agent.node.id,
            "Revision": "proconsul",
            "Server": server,
            "Version": CONSUL_COMPAT_VERSION,
            "BuildDate": "",
            "SessionTTLMin": "10s",
        },
        "DebugConfig": {
            "Datacenter": config.datacenter,
            "NodeName": agent.node.name,
            "NodeID": agent.node.id,
            "DevMode": config.dev,
            "ServerMode": server,
            "DataDir": config.data_dir.as_ref().map(|dir| dir.display().to_string()).unwrap_or_default(),
            "SessionTTLMin": "10s",
            "KVMaxValueSize": config.kv_max_value_size,
            "ClientAddrs": [config.client_addr.to_string()],
            "HTTPPort": if config.http_disabled { -1 } else { i32::from(config.http_port) },
            "HTTPSPort": config.https.as_ref().map_or(-1, |https| i32::from(https.addr.port())),
            "ServerPort": config.server_port,
            "BindAddr": config.bind_addr.to_string(),
            "SerfPortLAN": config.gossip.serf_lan_port,
            // Consul's DebugConfig shows addresses as `tcp://ip:port`.
            "SerfBindAddrLAN": format!("tcp://{}", std::net::SocketAddr::new(config.bind_addr, config.gossip.serf_lan_port)),
            "SerfAdvertiseAddrLAN": format!("tcp://{}", crate::membership::start::advertised_addr(config)),
            "SerfPortWAN": agent.wan.as_ref().and(config.gossip.serf_wan_port).map_or(-1, i32::from),
            "SerfBindAddrWAN": agent.wan.as_ref().and(config.gossip.serf_wan_port).map(|port| format!("tcp://{}", std::net::SocketAddr::new(config.bind_addr, port))),
            "SerfAdvertiseAddrWAN": agent.wan.as_ref().and(config.gossip.serf_wan_port).map(|port| format!("tcp://{}", std::net::SocketAddr::new(config.gossip.advertise_ip(config.bind_addr), port))),
        },
        "Coord": agent.coordinate.current(),
        "Member": member(agent),
        "Stats": super::agent_stats::stats(agent),
        "Meta": { "consul-network-segment": "" },
        "xDS": {
            "SupportedProxies": { "envoy": [] },
            "Port": -1,
            "Ports": { "Plaintext": -1, "TLS": -1 },
        },
    });
    Ok(json(&body, ctx.options.pretty))
}

/// This agent as a gossip member. Until gossip lands the agent is the only member.
fn member(agent: &AgentInner) -> AgentMember {
    let me = agent
        .gossip
        .member(&agent.node.name)
        .expect("gossip always knows its own member");
    agent_member(&me)
}

/// `GET /v1/agent/members`: the LAN pool as gossip knows it (`?wan`: a server's WAN
/// pool, servers of every datacenter named `node.dc`; a client agent has none, so
/// none; `?segment` accepted), ACL-filtered by `node:read`, then `?filter`.
pub async fn members(ctx: Ctx) -> Result<Response, ApiError> {
    let wan = ctx.params.flag("wan");
    if wan
        && ctx
            .params
            .get("segment")
            .is_some_and(|segment| !segment.is_empty())
    {
        return Err(ApiError::bad_request(
            "Cannot provide a segment with wan=true",
        ));
    }
    let pool = match (wan, &ctx.agent.wan) {
        (false, _) => ctx.agent.gossip.members(),
        (true, Some(wan)) => wan.gossip.members(),
        (true, None) => Vec::new(),
    };
    let mut members: Vec<AgentMember> = pool
        .iter()
        .filter(|member| ctx.authz.keep(ctx.authz.node_read(&member.name)))
        .map(agent_member)
        .collect();
    members.retain(|member| ctx.keep(member));
    Ok(json(&members, ctx.options.pretty))
}

/// `GET /v1/agent/services`: the services registered through this agent, by ID.
pub async fn services(ctx: Ctx) -> Result<Response, ApiError> {
    let mut services = ctx.agent.local.services();
    services.retain(|_, service| {
        ctx.authz.keep(ctx.authz.service_read(&service.service)) && ctx.keep(service)
    });
    Ok(json_shaped(Shape::Agent, &services, ctx.options.pretty))
}

/// `GET /v1/agent/service/:id`: one service, with the `ContentHash` Consul adds.
/// `?hash=H` blocks (up to `?wait`) while the service's hash is still `H`.
pub async fn service(ctx: Ctx, Path(id): Path<String>) -> Result<Response, ApiError> {
    let wanted = ctx.params.get("hash").filter(|hash| !hash.is_empty());
    let mut changes = ctx.agent.local.subscribe();
    let deadline = tokio::time::Instant::now() + ctx.options.wait;
    let mut answer_now = false;
    loop {
        changes.borrow_and_update();
        let (body, hash) = service_with_hash(&ctx, &id)?;
        if answer_now || wanted != Some(hash.as_str()) {
            let mut response = json_shaped(Shape::Agent, &body, ctx.options.pretty);
            if let Ok(value) = HeaderValue::from_str(&hash) {
                response.headers_mut().insert("x-consul-contenthash", value);
            }
            return Ok(response);
        }
        answer_now = tokio::select! {
            changed = changes.changed() => changed.is_err(),
            _ = tokio::time::sleep_until(deadline) => true,
            _ = ctx.agent.shutdown.cancelled() => true,
        };
    }
}

fn service_with_hash(ctx: &Ctx, id: &str) -> Result<(Value, String), ApiError> {
    let service = ctx
        .agent
        .local
        .service(id)
        .filter(|service| ctx.authz.keep(ctx.authz.service_read(&service.service)))
        .ok_or_else(|| ApiError::not_found(format!("unknown service ID: {id}")))?;
    let mut body = go_json::to_value(&service, Shape::Agent)
        .map_err(|error| ApiError::internal(error.to_string()))?;
    let mut hasher = DefaultHasher::new();
    body.to_string().hash(&mut hasher);
    let hash = format!("{:016x}", hasher.finish());
    if let Value::Object(map) = &mut body {
        map.insert("ContentHash".to_string(), Value::String(hash.clone()));
    }
    Ok((body, hash))
}

/// `PUT /v1/agent/service/register` (`?replace-existing-checks`).
pub async fn register_service(ctx: Ctx, body: Bytes) -> Result<Response, ApiError> {
    let registration: ServiceRegistration = decode_body(&body)?;
    let agent = &ctx.agent;
    let (service, checks) = prepare_service(
        &registration,
        &agent.node.name,
        &agent.config.datacenter,
        agent.config.enable_script_checks,
    )
    .map_err(|error| ApiError::bad_request(error.0))?;
    ctx.authz.require_service_write(&service)?;
    let replace_checks = ctx.params.flag("replace-existing-checks");
    agent
        .add_service(service, checks, replace_checks, ctx.options.token.secret())
        .await?;
    Ok(Response::default())
}

/// `PUT /v1/agent/service/deregister/:id`. `GET` is accepted too, because Patroni sends it.
pub async fn deregister_service(ctx: Ctx, Path(id): Path<String>) -> Result<Response, ApiError> {
    let agent = &ctx.agent;
    let service = agent.local.service(&id).ok_or_else(|| {
        ApiError::not_found(format!(
            "Unknown service ID {id:?}. Ensure that the service ID is passed, not the service name."
        ))
    })?;
    ctx.authz
        .require(Permission::service(Access::Write, &service.service))?;
    agent.remove_service(&id).await?;
    Ok(Response::default())
}

/// `GET /v1/agent/checks`: the checks registered through this agent, by ID.
pub async fn checks(ctx: Ctx) -> Result<Response, ApiError> {
    let checks: BTreeMap<String, HealthCheck> = ctx
        .agent
        .local
        .checks()
        .into_iter()
        .filter(|(_, local)| {
            local.check.service_name.is_empty()
                || ctx
                    .authz
                    .keep(ctx.authz.service_read(&local.check.service_name))
        })
        .map(|(id, local)| (id, local.check))
        .filter(|(_, check)| ctx.keep(check))
        .collect();
    Ok(json(&checks, ctx.options.pretty))
}

/// `PUT /v1/agent/check/register`.
pub async fn register_check(ctx: Ctx, body: Bytes) -> Result<Response, ApiError> {
    let definition: CheckRegistration = decode_body(&body)?;
    let agent = &ctx.agent;
    let service = if definition.service_id.is_empty() {
        None
    } else {
        Some(agent.local.service(&definition.service_id).ok_or_else(|| {
            ApiError::not_found(format!(
                "ServiceID {:?} does not exist",
                definition.service_id
            ))
        })?)
    };
    if definition.name.is_empty() {
        return Err(ApiError::bad_request("Missing check name"));
    }
    allow_check_type(&definition, agent.config.enable_script_checks)
        .map_err(|error| ApiError::bad_request(error.0))?;
    match &service {
        Some(service) => ctx
            .authz
            .require(Permission::service(Access::Write, &service.service))?,
        None => ctx
            .authz
            .require(Permission::node(Access::Write, &agent.node.name))?,
    }
    let check = check_from_registration(
        &definition,
        &agent.node.name,
        service.as_ref(),
        &definition.name,
    )
    .map_err(|error| ApiError::bad_request(error.0))?;
    agent.add_check(check, ctx.options.token.secret()).await?;
    Ok(Response::default())
}

/// `PUT /v1/agent/check/deregister/:id`.
pub async fn deregister_check(ctx: Ctx, Path(id): Path<String>) -> Result<Response, ApiError> {
    let agent = &ctx.agent;
    let local = known_check(agent, &id)?;
    authorize_check_write(&ctx, &local)?;
    agent.remove_check(&id).await?;
    Ok(Response::default())
}

/// `PUT /v1/agent/check/pass/:id?note=`.
pub async fn pass_check(ctx: Ctx, Path(id): Path<String>) -> Result<Response, ApiError> {
    set_ttl_status(ctx, id, HealthStatus::Passing).await
}

/// `PUT /v1/agent/check/warn/:id?note=`.
pub async fn warn_check(ctx: Ctx, Path(id): Path<String>) -> Result<Response, ApiError> {
    set_ttl_status(ctx, id, HealthStatus::Warning).await
}

/// `PUT /v1/agent/check/fail/:id?note=`.
pub async fn fail_check(ctx: Ctx, Path(id): Path<String>) -> Result<Response, ApiError> {
    set_ttl_status(ctx, id, HealthStatus::Critical).await
}

async fn set_ttl_status(ctx: Ctx, id: String, status: HealthStatus) -> Result<Response, ApiError> {
    let note = ctx.params.get("note").unwrap_or("").to_string();
    update_ttl_check(&ctx, &id, status, note).await
}

/// `PUT /v1/agent/check/update/:id` with `{"Status": ..., "Output": ...}`.
pub async fn update_check(
    ctx: Ctx,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let update: CheckUpdate = decode_body(&body)?;
    let status = update
        .status
        .parse::<HealthStatus>()
        .map_err(ApiError::bad_request)?;
    update_ttl_check(&ctx, &id, status, update.output).await
}

/// Sets a TTL check's status. An unchanged status and output writes nothing to Raft.
async fn update_ttl_check(
    ctx: &Ctx,
    id: &str,
    status: HealthStatus,
    mut output: String,
) -> Result<Response, ApiError> {
    let agent = &ctx.agent;
    let local = known_check(agent, id)?;
    authorize_check_write(ctx, &local)?;
    if local.check.check_type != "ttl" {
        return Err(ApiError::internal(format!(
            "CheckID {id:?} does not have associated TTL"
        )));
    }
    truncate_output(&mut output, OUTPUT_MAX_SIZE);
    agent.ttl.watch(&local);
    agent.set_check_status(&local, status, output).await?;
    Ok(Response::default())
}

fn known_check(agent: &AgentInner, id: &str) -> Result<LocalCheck, ApiError> {
    agent.local.check(id).ok_or_else(|| {
        ApiError::not_found(format!(
            "Unknown check ID {id:?}. Ensure that the check ID is passed, not the check name."
        ))
    })
}

fn authorize_check_write(ctx: &Ctx, local: &LocalCheck) -> Result<(), AclRefusal> {
    if local.check.service_name.is_empty() {
        ctx.authz
            .require(Permission::node(Access::Write, &ctx.agent.node.name))
    } else {
        ctx.authz.require(Permission::service(
            Access::Write,
            &local.check.service_name,
        ))
    }
}

/// `PUT /v1/agent/leave`: a server leaves the Raft configuration, the agent gossips its
/// leave and waits for it to spread, then shuts down.
pub async fn leave(ctx: Ctx) -> Result<Response, ApiError> {
    ctx.authz
        .require(Permission::agent(Access::Write, &ctx.agent.node.name))?;
    tracing::info!("leave requested through the HTTP API");
    ctx.agent
        .leave()
        .await
        .map_err(|error| ApiError::internal(error.to_string()))?;
    let shutdown = ctx.agent.shutdown.clone();
    tokio::spawn(async move {
        // Let the response reach the client before the listener closes.
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        shutdown.cancel();
    });
    Ok(Response::default())
}

/// `PUT /v1/agent/join/:address`: joins the LAN pool through the agent at `address`
/// (its gossip address, port 8301 unless given). A server also accepts another server's
/// RPC address (port 8300), as earlier Proconsul builds did, when gossip finds nobody
/// there.
pub async fn join(ctx: Ctx, Path(address): Path<String>) -> Result<Response, ApiError> {
    ctx.authz
        .require(Permission::agent(Access::Write, &ctx.agent.node.name))?;
    let address = address.trim_start_matches('/');
    if ctx.params.flag("wan") {
        let Some(wan) = &ctx.agent.wan else {
            return Err(ApiError::internal("Must be a server to join WAN cluster"));
        };
        let joined = crate::membership::join::join_pool(
            &wan.gossip,
            &[address.to_string()],
            crate::membership::join::WAN,
        )
        .await
        .map_err(|error| ApiError::internal(format!("Error joining address: {error}")))?;
        tracing::info!(%address, joined, "serf: joined the WAN pool through the HTTP API");
        return Ok(Response::default());
    }
    match crate::membership::join::join(&ctx.agent.gossip, &[address.to_string()]).await {
        Ok(joined) => {
            tracing::info!(%address, joined, "serf: joined through the HTTP API");
            Ok(Response::default())
        }
        Err(gossip_error) if !ctx.agent.config.dev && ctx.agent.catalog.server().is_some() => {
            ctx.agent.consensus()?.join(address).await.map_err(|rpc_error| {
                ApiError::internal(format!(
                    "Error joining address: {gossip_error} (as a server RPC address: {rpc_error})"
                ))
            })?;
            tracing::info!(%address, "joined a server through its server RPC address");
            Ok(Response::default())
        }
        Err(error) => Err(ApiError::internal(format!(
            "Error joining address: {error}"
        ))),
    }
}

/// `PUT /v1/agent/force-leave/:node` (`?prune`; `?wan`: in a server's WAN pool, where
/// members are `node.dc`): a failed member is moved to left (its node then
/// deregistered), or erased with `prune`. A live member refutes it, as in Consul.
pub async fn force_leave(ctx: Ctx, Path(node): Path<String>) -> Result<Response, ApiError> {
    ctx.authz.require(Permission::operator(Access::Write))?;
    let prune = ctx.params.flag("prune");
    let gossip = match (ctx.params.flag("wan"), &ctx.agent.wan) {
        (false, _) => &ctx.agent.gossip,
        (true, Some(wan)) => &wan.gossip,
        (true, None) => {
            return Err(ApiError::internal(
                "Must be a server to force-leave a WAN member",
            ));
        }
    };
    if node == gossip.local_name() {
        tracing::info!(%node, "force-leave of this agent's own live node: nothing to do");
        return Ok(Response::default());
    }
    match gossip.force_leave(&node, prune).await {
        Ok(()) => {
            tracing::info!(%node, prune, "serf: force-leave");
            Ok(Response::default())
        }
        Err(proconsul_gossip::GossipError::NoSuchMember(_)) => Err(ApiError::internal(format!(
            "No node found with name '{node}'"
        ))),
        Err(error) => Err(ApiError::internal(error.to_string())),
    }
}
