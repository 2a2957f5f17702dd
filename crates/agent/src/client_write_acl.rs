//! A server's check of a client agent's own catalog writes (server RPC `/agent/write`)
//! under ACLs, as Consul's `Catalog.Register`, `Catalog.Deregister` and
//! `Coordinate.Update` vet them: node-level changes need `node:write` on the node, a
//! service `service:write` on its name (and on the name it replaces, and on the service
//! a proxy fronts), a check `service:write` on its service or, for a node check,
//! `node:write`. Anything else a client has no business writing is refused.
//!
//! A leaf: it takes a token's authorizer and the server's state, not `AgentInner`.

use proconsul_acl::{Access, Authorizer, Permission};
use proconsul_api::{CatalogDeregistration, CatalogRegistration, HealthCheck};
use proconsul_state::{Command, State};

use crate::acl::service_write_permissions;

/// `Ok` if `authorizer` may make `command` in `state`, else Consul's refusal text.
pub fn vet(authorizer: &Authorizer, state: &State, command: &Command) -> Result<(), String> {
    let require = |permission: Permission<'_>| {
        authorizer
            .require(permission)
            .map_err(|denied| denied.to_string())
    };
    match command {
        Command::Register(registration) => vet_register(registration, state, &require),
        Command::Deregister(deregistration) => vet_deregister(deregistration, state, &require),
        Command::CoordinateBatchUpdate(updates) => updates
            .iter()
            .try_for_each(|update| require(Permission::node(Access::Write, &update.node))),
        _ => Err("Permission denied: not a client agent's catalog write".to_string()),
    }
}

fn vet_register(
    registration: &CatalogRegistration,
    state: &State,
    require: &dyn Fn(Permission<'_>) -> Result<(), String>,
) -> Result<(), String> {
    let node = registration.node.as_str();
    if !registration.skip_node_update {
        require(Permission::node(Access::Write, node))?;
    }
    if let Some(service) = &registration.service {
        service_write_permissions(service).try_for_each(require)?;
        // Re-registering an ID under another name changes the old service too.
        if let Some(existing) = state.node_service(node, &service.id)
            && existing.service != service.service
        {
            require(Permission::service(Access::Write, &existing.service))?;
        }
    }
    for check in registration.check.iter().chain(&registration.checks) {
        vet_check(registration, check, state, require)?;
    }
    Ok(())
}

/// A check of a service needs `service:write` on that service as the registration or
/// the catalog names it (not as the check claims); a node check `node:write`.
fn vet_check(
    registration: &CatalogRegistration,
    check: &HealthCheck,
    state: &State,
    require: &dyn Fn(Permission<'_>) -> Result<(), String>,
) -> Result<(), String> {
    let node = registration.node.as_str();
    if check.service_id.is_empty() {
        return require(Permission::node(Access::Write, node));
    }
    let service_name = registration
        .service
        .as_ref()
        .filter(|service| service.id == check.service_id)
        .map(|service| service.service.as_str())
        .or_else(|| {
            state
                .node_service(node, &check.service_id)
                .map(|service| service.service.as_str())
        })
        .unwrap_or(check.service_name.as_str());
    require(Permission::service(Access::Write, service_name))
}

fn vet_deregister(
    deregistration: &CatalogDeregistration,
    state: &State,
    require: &dyn Fn(Permission<'_>) -> Result<(), String>,
) -> Result<(), String> {
    let node = deregistration.node.as_str();
    if !deregistration.service_id.is_empty() {
        return match state.node_service(node, &deregistration.service_id) {
            Some(service) => require(Permission::service(Access::Write, &service.service)),
            // Nothing to remove: the write changes nothing.
            None => Ok(()),
        };
    }
    if !deregistration.check_id.is_empty() {
        return match state.check(node, &deregistration.check_id) {
            Some(check) if !check.service_id.is_empty() => {
                let name = state
                    .node_service(node, &check.service_id)
                    .map_or(check.service_name.as_str(), |service| {
                        service.service.as_str()
                    });
                require(Permission::service(Access::Write, name))
            }
            Some(_) => require(Permission::node(Access::Write, node)),
            None => Ok(()),
        };
    }
    require(Permission::node(Access::Write, node))
}

#[cfg(test)]
mod tests;
