//! Services and checks defined in configuration files: registered at start-up, and on
//! `reload` brought in line with the files again (new ones added, changed ones
//! replaced, ones no longer in any file removed). Entries registered through the HTTP
//! API are never touched by a reload.

use std::collections::BTreeSet;
use std::sync::Mutex;

use proconsul_api::{AgentService, CheckRegistration, ServiceRegistration};

use crate::agent::AgentInner;
use crate::error::WriteError;
use crate::local::{LocalCheck, allow_check_type, check_from_registration, prepare_service};

/// Which of the agent's services and checks came from configuration files.
#[derive(Debug, Default)]
pub struct ConfigOwned {
    ids: Mutex<OwnedIds>,
}

#[derive(Debug, Default, Clone)]
struct OwnedIds {
    services: BTreeSet<String>,
    checks: BTreeSet<String>,
}

/// Validated registrations, ready to apply.
#[derive(Debug)]
pub struct Prepared {
    services: Vec<(AgentService, Vec<LocalCheck>)>,
    checks: Vec<LocalCheck>,
}

/// Validates every registration before any is applied, so a bad file changes nothing.
/// Script checks from files run with `enable_local_script_checks` too.
pub fn prepare(
    agent: &AgentInner,
    services: &[ServiceRegistration],
    checks: &[CheckRegistration],
) -> Result<Prepared, String> {
    let config = &agent.config;
    let allow_scripts = config.enable_script_checks || config.enable_local_script_checks;
    let services = services
        .iter()
        .map(|registration| {
            prepare_service(
                registration,
                &agent.node.name,
                &config.datacenter,
                allow_scripts,
            )
            .map_err(|error| format!("service {:?}: {error}", registration.name))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let checks = checks
        .iter()
        .map(|definition| {
            let named =
                |error: &dyn std::fmt::Display| format!("check {:?}: {error}", definition.name);
            allow_check_type(definition, allow_scripts).map_err(|e| named(&e))?;
            let service = if definition.service_id.is_empty() {
                None
            } else {
                let found = services
                    .iter()
                    .map(|(service, _)| service.clone())
                    .find(|service| service.id == definition.service_id)
                    .or_else(|| agent.local.service(&definition.service_id));
                Some(found.ok_or_else(|| {
                    named(&format!(
                        "ServiceID {:?} does not exist",
                        definition.service_id
                    ))
                })?)
            };
            check_from_registration(
                definition,
                &agent.node.name,
                service.as_ref(),
                &definition.name,
            )
            .map_err(|e| named(&e))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Prepared { services, checks })
}

/// Makes the agent's config-file entries exactly `prepared`.
pub async fn apply(agent: &AgentInner, prepared: Prepared) -> Result<(), WriteError> {
    let previous = agent.config_owned.snapshot();
    let mut now = OwnedIds::default();
    for (service, checks) in &prepared.services {
        now.services.insert(service.id.clone());
        now.checks
            .extend(checks.iter().map(|check| check.check.check_id.clone()));
    }
    now.checks.extend(
        prepared
            .checks
            .iter()
            .map(|check| check.check.check_id.clone()),
    );
    for gone in previous.services.difference(&now.services) {
        agent.remove_service(gone).await?;
    }
    for gone in previous.checks.difference(&now.checks) {
        if agent.local.check(gone).is_some() {
            agent.remove_check(gone).await?;
        }
    }
    // Written with `acl.tokens.config_file_service_registration` as it is now, as in
    // Consul; without one, the default token.
    let token = agent
        .acl_tokens
        .config_file_registration_token()
        .unwrap_or_default();
    for (service, checks) in prepared.services {
        agent.add_service(service, checks, true, &token).await?;
    }
    for check in prepared.checks {
        agent.add_check(check, &token).await?;
    }
    agent.config_owned.replace(now);
    Ok(())
}

impl ConfigOwned {
    fn snapshot(&self) -> OwnedIds {
        self.lock().clone()
    }

    fn replace(&self, ids: OwnedIds) {
        *self.lock() = ids;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, OwnedIds> {
        // Whole values are stored under this lock; a poisoned one is still consistent.
        self.ids
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
