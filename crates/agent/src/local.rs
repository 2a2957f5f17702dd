//! The agent's own services and checks.
//!
//! Like Consul's agent, this node is the authority for what is registered through it:
//! `/v1/agent/*` reads come from here. Every change is made here first and then
//! written to the catalog; anti-entropy repairs the catalog when the two drift apart
//! (a failed write, or a change made behind the agent's back).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use proconsul_api::duration::{format_duration, parse_duration};
use proconsul_api::{
    AgentService, CheckDefinitionSummary, CheckRegistration, HealthCheck, HealthStatus,
    ServiceConnect, ServiceRegistration, Weights,
};

use crate::check_definition::StoredDefinition;

/// Why a script check was refused: the agent does not run scripts unless told to.
pub const SCRIPTS_DISABLED: &str = "Scripts are disabled on this agent; to enable, configure 'enable_script_checks' or 'enable_local_script_checks' to true";

/// The shortest interval a check may run at.
const MIN_CHECK_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

/// A check owned by this agent: what the catalog shows and how it was defined.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalCheck {
    pub check: HealthCheck,
    pub definition: StoredDefinition,
    /// When the check last turned critical, for `DeregisterCriticalServiceAfter`.
    pub critical_since: Option<Instant>,
}

impl LocalCheck {
    /// A check as registered; a check registered critical is critical from now.
    pub fn new(check: HealthCheck, definition: &CheckRegistration) -> LocalCheck {
        let critical_since = (check.status == HealthStatus::Critical).then(Instant::now);
        LocalCheck {
            check,
            definition: StoredDefinition::new(definition),
            critical_since,
        }
    }
}

/// Why a registration was refused. The text is Consul's and becomes a 400 body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidRegistration(pub String);

/// The services and checks registered through this agent.
#[derive(Debug)]
pub struct LocalState {
    tables: Mutex<LocalTables>,
    /// Bumped on every change, for hash-based blocking on agent endpoints.
    version: watch::Sender<u64>,
}

impl Default for LocalState {
    fn default() -> Self {
        LocalState {
            tables: Mutex::default(),
            version: watch::Sender::new(0),
        }
    }
}

/// Values are behind `Arc`s so the maps' nodes stay small (a registration is hundreds of
/// bytes; half-empty B-tree nodes holding them inline cost ~1.5 KB per service), and a
/// per-service index of check IDs spares scanning every check of the agent.
///
/// Once the catalog holds a service or check exactly as the agent registered it, the
/// agent keeps the catalog's copy instead of its own ([`LocalState::adopt_catalog_copies`]):
/// both are immutable, so sharing one costs nothing and halves what an instance takes.
/// Such a copy carries the catalog's indexes; what the accessors hand out never does.
#[derive(Debug, Default, Clone)]
struct LocalTables {
    services: BTreeMap<String, Arc<AgentService>>,
    checks: BTreeMap<String, Arc<StoredCheck>>,
    /// A service has one check or a few: a short list costs one small allocation where a
    /// set would cost a whole B-tree node per service.
    checks_by_service: BTreeMap<String, Vec<String>>,
    /// The tokens entries were registered with, which their catalog writes use. Only
    /// non-empty ones are kept: an entry without one is written with the default token.
    tokens: BTreeMap<Entry, String>,
}

/// One of the agent's services or checks, by ID.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Entry {
    Service(String),
    Check(String),
}

/// A [`LocalCheck`] as the tables keep it: the catalog-shaped part is shareable.
#[derive(Debug, Clone, PartialEq)]
struct StoredCheck {
    check: Arc<HealthCheck>,
    definition: StoredDefinition,
    critical_since: Option<Instant>,
}

impl StoredCheck {
    fn new(local: LocalCheck) -> StoredCheck {
        StoredCheck {
            check: Arc::new(local.check),
            definition: local.definition,
            critical_since: local.critical_since,
        }
    }

    /// The check as the agent shows it: without catalog indexes.
    fn to_local(&self) -> LocalCheck {
        LocalCheck {
            check: without_indexes(&self.check),
            definition: self.definition.clone(),
            critical_since: self.critical_since,
        }
    }
}

/// What the catalog adds to a service or check the agent registered: its indexes.
pub(crate) trait CatalogIndexes: Clone {
    fn clear_indexes(&mut self);
    /// Equal in everything but the indexes. Every field is named, so a field added to
    /// the type cannot be forgotten here.
    fn same_but_indexes(&self, other: &Self) -> bool;
}

impl CatalogIndexes for AgentService {
    fn clear_indexes(&mut self) {
        self.create_index = 0;
        self.modify_index = 0;
    }

    fn same_but_indexes(&self, other: &Self) -> bool {
        let AgentService {
            kind,
            id,
            service,
            tags,
            meta,
            port,
            address,
            tagged_addresses,
            weights,
            enable_tag_override,
            proxy,
            connect,
            locality,
            datacenter,
            create_index: _,
            modify_index: _,
        } = self;
        *kind == other.kind
            && *id == other.id
            && *service == other.service
            && *tags == other.tags
            && *meta == other.meta
            && *port == other.port
            && *address == other.address
            && *tagged_addresses == other.tagged_addresses
            && *weights == other.weights
            && *enable_tag_override == other.enable_tag_override
            && *proxy == other.proxy
            && *connect == other.connect
            && *locality == other.locality
            && *datacenter == other.datacenter
    }
}

impl CatalogIndexes for HealthCheck {
    fn clear_indexes(&mut self) {
        self.create_index = 0;
        self.modify_index = 0;
    }

    fn same_but_indexes(&self, other: &Self) -> bool {
        let HealthCheck {
            node,
            check_id,
            name,
            status,
            notes,
            output,
            service_id,
            service_name,
            service_tags,
            check_type,
            interval,
            timeout,
            exposed_port,
            definition,
            create_index: _,
            modify_index: _,
        } = self;
        *node == other.node
            && *check_id == other.check_id
            && *name == other.name
            && *status == other.status
            && *notes == other.notes
            && *output == other.output
            && *service_id == other.service_id
            && *service_name == other.service_name
            && *service_tags == other.service_tags
            && *check_type == other.check_type
            && *interval == other.interval
            && *timeout == other.timeout
            && *exposed_port == other.exposed_port
            && *definition == other.definition
    }
}

/// A copy as agent views show it: without the catalog's indexes.
fn without_indexes<T: CatalogIndexes>(value: &T) -> T {
    let mut copy = value.clone();
    copy.clear_indexes();
    copy
}

impl LocalTables {
    fn insert_check(&mut self, check: LocalCheck) {
        let (id, service_id) = (check.check.check_id.clone(), check.check.service_id.clone());
        if let Some(previous) = self
            .checks
            .insert(id.clone(), Arc::new(StoredCheck::new(check)))
        {
            self.unindex(&previous.check.service_id, &id);
        }
        if !service_id.is_empty() {
            let ids = self.checks_by_service.entry(service_id).or_default();
            if !ids.contains(&id) {
                // Grown one at a time: `push` would reserve room for four.
                ids.reserve_exact(1);
                ids.push(id);
            }
        }
    }

    fn remove_check(&mut self, id: &str) -> Option<Arc<StoredCheck>> {
        let removed = self.checks.remove(id)?;
        self.unindex(&removed.check.service_id, id);
        self.tokens.remove(&Entry::Check(id.to_string()));
        Some(removed)
    }

    fn unindex(&mut self, service_id: &str, check_id: &str) {
        if let Some(ids) = self.checks_by_service.get_mut(service_id) {
            ids.retain(|id| id != check_id);
            if ids.is_empty() {
                self.checks_by_service.remove(service_id);
            }
        }
    }

    /// The IDs of the checks bound to one service.
    fn service_check_ids(&self, service_id: &str) -> Vec<String> {
        let mut ids = self
            .checks_by_service
            .get(service_id)
            .cloned()
            .unwrap_or_default();
        ids.sort();
        ids
    }
}

impl LocalState {
    /// The registered services by ID.
    pub fn services(&self) -> BTreeMap<String, AgentService> {
        let tables = self.lock();
        tables
            .services
            .iter()
            .map(|(id, service)| (id.clone(), without_indexes(&**service)))
            .collect()
    }

    /// One service by ID.
    pub fn service(&self, id: &str) -> Option<AgentService> {
        self.lock()
            .services
            .get(id)
            .map(|service| without_indexes(&**service))
    }

    /// The registered checks by ID.
    pub fn checks(&self) -> BTreeMap<String, LocalCheck> {
        let tables = self.lock();
        tables
            .checks
            .iter()
            .map(|(id, check)| (id.clone(), check.to_local()))
            .collect()
    }

    /// One check by ID.
    pub fn check(&self, id: &str) -> Option<LocalCheck> {
        self.lock().checks.get(id).map(|check| check.to_local())
    }

    /// Services with a check that has been critical for longer than its
    /// `DeregisterCriticalServiceAfter` (raised to at least `minimum`), with that limit.
    pub fn overdue_services(&self, minimum: Duration) -> Vec<(String, Duration)> {
        let tables = self.lock();
        let mut overdue: Vec<(String, Duration)> = tables
            .checks
            .values()
            .filter(|local| !local.check.service_id.is_empty())
            .filter_map(|local| {
                let after = local.definition.deregister_after?.max(minimum);
                let since = local.critical_since?;
                (since.elapsed() > after).then(|| (local.check.service_id.clone(), after))
            })
            .collect();
        overdue.sort();
        overdue.dedup_by(|a, b| a.0 == b.0);
        overdue
    }

    /// How many checks are registered.
    pub fn checks_len(&self) -> usize {
        self.lock().checks.len()
    }

    /// The checks bound to one service.
    pub fn service_checks(&self, service_id: &str) -> Vec<LocalCheck> {
        let tables = self.lock();
        tables
            .service_check_ids(service_id)
            .iter()
            .filter_map(|id| tables.checks.get(id))
            .map(|check| check.to_local())
            .collect()
    }

    /// Adds or replaces a service with its checks. Returns the IDs of the service's
    /// previous checks that are no longer registered (only with `replace_checks`).
    pub fn put_service(
        &self,
        service: AgentService,
        checks: Vec<LocalCheck>,
        replace_checks: bool,
    ) -> Vec<String> {
        let mut tables = self.lock();
        let mut dropped = Vec::new();
        if replace_checks {
            let keep: Vec<&str> = checks.iter().map(|c| c.check.check_id.as_str()).collect();
            dropped = tables
                .service_check_ids(&service.id)
                .into_iter()
                .filter(|id| !keep.contains(&id.as_str()))
                .collect();
            for id in &dropped {
                tables.remove_check(id);
            }
        }
        for check in checks {
            tables.insert_check(check);
        }
        tables
            .services
            .insert(service.id.clone(), Arc::new(service));
        drop(tables);
        self.changed();
        dropped
    }

    /// Replaces a service's tags (anti-entropy adopting tags set through the catalog).
    pub fn set_service_tags(&self, id: &str, tags: Vec<String>) {
        let mut tables = self.lock();
        if let Some(service) = tables.services.get_mut(id) {
            Arc::make_mut(service).tags = tags;
            drop(tables);
            self.changed();
        }
    }

    /// Removes a service and its checks; returns the service if it was registered.
    pub fn remove_service(&self, id: &str) -> Option<AgentService> {
        let mut tables = self.lock();
        let service = tables.services.remove(id)?;
        for check_id in tables.service_check_ids(id) {
            tables.remove_check(&check_id);
        }
        tables.tokens.remove(&Entry::Service(id.to_string()));
        Some(without_indexes(&*service))
    }

    /// The token `entry` was registered with (empty: none, so the default token).
    pub fn token(&self, entry: &Entry) -> String {
        self.lock().tokens.get(entry).cloned().unwrap_or_default()
    }

    /// Remembers the token `entry` was registered with; an empty one forgets it.
    pub fn set_token(&self, entry: Entry, token: &str) {
        let mut tables = self.lock();
        if token.is_empty() {
            tables.tokens.remove(&entry);
        } else {
            tables.tokens.insert(entry, token.to_string());
        }
    }

    /// Every remembered token, for keeping them across restarts.
    pub fn tokens(&self) -> BTreeMap<Entry, String> {
        self.lock().tokens.clone()
    }

    /// Adds or replaces one check.
    pub fn put_check(&self, check: LocalCheck) {
        self.lock().insert_check(check);
        self.changed();
    }

    /// Removes one check; returns it if it was registered.
    pub fn remove_check(&self, id: &str) -> Option<LocalCheck> {
        let removed = self.lock().remove_check(id);
        self.changed();
        removed.map(|check| check.to_local())
    }

    /// Sets a check's status and output; returns the updated check, or `None` if unknown.
    pub fn update_check(
        &self,
        id: &str,
        status: HealthStatus,
        output: String,
    ) -> Option<LocalCheck> {
        let mut tables = self.lock();
        let check = Arc::make_mut(tables.checks.get_mut(id)?);
        if status != HealthStatus::Critical {
            check.critical_since = None;
        } else if check.check.status != HealthStatus::Critical || check.critical_since.is_none() {
            check.critical_since = Some(Instant::now());
        }
        let health = Arc::make_mut(&mut check.check);
        health.status = status;
        health.output = output;
        let updated = check.to_local();
        drop(tables);
        self.changed();
        Some(updated)
    }

    /// Keeps the catalog's copies of a service and checks where they are exactly what the
    /// agent registered, so that one copy serves both. Changes nothing the agent shows.
    pub fn adopt_catalog_copies(
        &self,
        service: Option<&Arc<AgentService>>,
        checks: &[&Arc<HealthCheck>],
    ) {
        let mut tables = self.lock();
        if let Some(catalog) = service
            && let Some(local) = tables.services.get_mut(catalog.id.as_str())
            && !Arc::ptr_eq(local, catalog)
            && catalog.same_but_indexes(local)
        {
            *local = Arc::clone(catalog);
        }
        for catalog in checks {
            if let Some(stored) = tables.checks.get_mut(catalog.check_id.as_str())
                && !Arc::ptr_eq(&stored.check, catalog)
                && catalog.same_but_indexes(&stored.check)
            {
                Arc::make_mut(stored).check = Arc::clone(catalog);
            }
        }
    }

    /// A receiver that changes whenever a local service or check does.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.version.subscribe()
    }

    fn changed(&self) {
        self.version.send_modify(|version| *version += 1);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LocalTables> {
        // A panic while holding this lock cannot leave the maps half-updated (each
        // method's writes are single inserts/removes), so a poisoned lock is still usable.
        self.tables
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Turns an agent service registration into the service as stored, with Consul's
/// defaults: ID from the name, weights 1/1.
pub fn service_from_registration(
    registration: &ServiceRegistration,
    datacenter: &str,
) -> Result<AgentService, InvalidRegistration> {
    if registration.name.is_empty() {
        return Err(InvalidRegistration("Missing service name".to_string()));
    }
    if registration
        .connect
        .as_ref()
        .is_some_and(|connect| connect.sidecar_service.is_some())
    {
        return Err(InvalidRegistration(
            "Connect.SidecarService is not supported by Proconsul yet; register the proxy as its own service".to_string(),
        ));
    }
    if registration.kind == "connect-proxy" {
        let destination = registration
            .proxy
            .as_ref()
            .map(|proxy| proxy.destination_service_name.as_str())
            .unwrap_or_default();
        if destination.is_empty() {
            return Err(InvalidRegistration(
                "Proxy.DestinationServiceName must be non-empty for Connect proxy services"
                    .to_string(),
            ));
        }
        if registration.port == 0 {
            return Err(InvalidRegistration(
                "Port must be set for a Connect proxy".to_string(),
            ));
        }
    }
    let weights = registration.weights.unwrap_or_default();
    if weights.passing == 0 {
        return Err(InvalidRegistration(
            "Passing must be greater than 0".to_string(),
        ));
    }
    Ok(AgentService {
        kind: registration.kind.clone(),
        id: if registration.id.is_empty() {
            registration.name.clone()
        } else {
            registration.id.clone()
        },
        service: registration.name.clone(),
        tags: registration.tags.clone(),
        meta: registration.meta.clone(),
        port: registration.port,
        address: registration.address.clone(),
        tagged_addresses: registration.tagged_addresses.clone(),
        weights: Weights { ..weights },
        enable_tag_override: registration.enable_tag_override,
        proxy: registration.proxy.clone().map(Box::new),
        connect: registration.connect.as_ref().map(|connect| ServiceConnect {
            native: connect.native,
        }),
        locality: registration.locality.clone().map(Box::new),
        datacenter: datacenter.to_string(),
        create_index: 0,
        modify_index: 0,
    })
}

/// Validates a check definition and builds the check the catalog will show.
/// `default_id` is used when the definition has none (`service:<id>` for service checks).
pub fn check_from_registration(
    definition: &CheckRegistration,
    node: &str,
    service: Option<&AgentService>,
    default_id: &str,
) -> Result<LocalCheck, InvalidRegistration> {
    let invalid = |message: &str| Err(InvalidRegistration(format!("Invalid check: {message}")));
    let check_type = definition.check_type();
    match check_type {
        "" => {
            return invalid(
                "must provide TTL, HTTP, TCP, UDP, GRPC, H2PING, Args, AliasNode or AliasService",
            );
        }
        "docker" => return invalid("Docker checks are not supported by Proconsul"),
        "os_service" => return invalid("OSService checks are not supported by Proconsul"),
        _ => {}
    }
    let duration = |field: &str, text: &Option<String>| match text {
        Some(text) if !text.is_empty() => parse_duration(text)
            .map(Some)
            .map_err(|error| InvalidRegistration(format!("Invalid check: {field}: {error}"))),
        _ => Ok(None),
    };
    let ttl = duration("TTL", &definition.ttl)?;
    let interval = duration("Interval", &definition.interval)?;
    let timeout = duration("Timeout", &definition.timeout)?;
    let deregister_after = duration(
        "DeregisterCriticalServiceAfter",
        &definition.deregister_critical_service_after,
    )?;
    if check_type == "ttl" && ttl.is_none_or(|ttl| ttl.is_zero()) {
        return invalid("TTL must be > 0 for TTL checks");
    }
    if matches!(
        check_type,
        "http" | "tcp" | "udp" | "grpc" | "h2ping" | "script"
    ) && interval.is_none_or(|interval| interval.is_zero())
    {
        return invalid("Interval must be > 0 for Script, HTTP, H2PING, TCP or UDP checks");
    }
    // Consul raises intervals under a second to one second rather than refusing them.
    let interval = interval.map(|interval| interval.max(MIN_CHECK_INTERVAL));
    let id = if definition.id.is_empty() {
        default_id.to_string()
    } else {
        definition.id.clone()
    };
    if id.is_empty() {
        return Err(InvalidRegistration("Missing check name".to_string()));
    }
    let name = if !definition.name.is_empty() {
        definition.name.clone()
    } else if let Some(service) = service {
        format!("Service '{}' check", service.service)
    } else {
        return Err(InvalidRegistration("Missing check name".to_string()));
    };
    let shown = |d: Option<std::time::Duration>| d.map(format_duration).unwrap_or_default();
    let check = HealthCheck {
        node: node.to_string(),
        check_id: id,
        name,
        status: definition.status.unwrap_or(HealthStatus::Critical),
        notes: definition.notes.clone(),
        output: definition.output.clone().unwrap_or_default(),
        service_id: service.map(|s| s.id.clone()).unwrap_or_default(),
        service_name: service.map(|s| s.service.clone()).unwrap_or_default(),
        service_tags: service.map(|s| s.tags.clone()).unwrap_or_default(),
        check_type: check_type.to_string(),
        interval: shown(interval),
        timeout: shown(timeout),
        exposed_port: 0,
        definition: CheckDefinitionSummary {
            http: definition.http.clone().unwrap_or_default(),
            tcp: definition.tcp.clone().unwrap_or_default(),
            interval: shown(interval),
            timeout: shown(timeout),
            deregister_critical_service_after: shown(deregister_after),
        },
        create_index: 0,
        modify_index: 0,
    };
    Ok(LocalCheck::new(check, definition))
}

/// Validates a service registration with its checks and builds what the agent stores:
/// the service, and its checks with Consul's default IDs. Script checks are refused
/// unless `allow_scripts`.
pub fn prepare_service(
    registration: &ServiceRegistration,
    node: &str,
    datacenter: &str,
    allow_scripts: bool,
) -> Result<(AgentService, Vec<LocalCheck>), InvalidRegistration> {
    let service = service_from_registration(registration, datacenter)?;
    let definitions: Vec<&CheckRegistration> = registration
        .check
        .iter()
        .chain(&registration.checks)
        .collect();
    let checks = definitions
        .iter()
        .enumerate()
        .map(|(position, definition)| {
            allow_check_type(definition, allow_scripts)?;
            let default_id = default_service_check_id(&service.id, position, definitions.len());
            check_from_registration(definition, node, Some(&service), &default_id)
        })
        .collect::<Result<Vec<LocalCheck>, _>>()?;
    Ok((service, checks))
}

/// Refuses script checks unless the agent was told to run them.
pub fn allow_check_type(
    definition: &CheckRegistration,
    allow_scripts: bool,
) -> Result<(), InvalidRegistration> {
    if definition.check_type() == "script" && !allow_scripts {
        return Err(InvalidRegistration(SCRIPTS_DISABLED.to_string()));
    }
    Ok(())
}

/// Check IDs as Consul assigns them to a service's unnamed checks: `service:<id>` for a
/// single check, `service:<id>:<n>` (from 1) when there are several.
pub fn default_service_check_id(service_id: &str, position: usize, count: usize) -> String {
    if count == 1 {
        format!("service:{service_id}")
    } else {
        format!("service:{service_id}:{}", position + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ttl_check(ttl: &str) -> CheckRegistration {
        CheckRegistration {
            ttl: Some(ttl.to_string()),
            ..CheckRegistration::default()
        }
    }

    fn service() -> AgentService {
        AgentService {
            id: "web1".into(),
            service: "web".into(),
            ..AgentService::default()
        }
    }

    fn bound_check(id: &str, service_id: &str) -> LocalCheck {
        LocalCheck::new(
            HealthCheck {
                check_id: id.to_string(),
                service_id: service_id.to_string(),
                ..HealthCheck::default()
            },
            &ttl_check("10s"),
        )
    }

    fn ids(checks: Vec<LocalCheck>) -> Vec<String> {
        let mut ids: Vec<String> = checks.into_iter().map(|c| c.check.check_id).collect();
        ids.sort();
        ids
    }

    #[test]
    fn the_catalogs_copies_are_shared_only_when_identical_and_never_shown_with_indexes() {
        let local = LocalState::default();
        local.put_service(service(), vec![bound_check("a", "web1")], false);
        let indexed = |mut service: AgentService| {
            service.create_index = 7;
            service.modify_index = 9;
            Arc::new(service)
        };
        let same = indexed(service());
        let check = Arc::new(HealthCheck {
            create_index: 7,
            modify_index: 9,
            ..local.check("a").unwrap().check
        });
        local.adopt_catalog_copies(Some(&same), &[&check]);
        assert!(Arc::ptr_eq(&local.lock().services["web1"], &same));
        assert!(Arc::ptr_eq(&local.lock().checks["a"].check, &check));
        // What the agent shows carries no catalog indexes.
        assert_eq!(local.service("web1").unwrap(), service());
        assert_eq!(local.services()["web1"].modify_index, 0);
        assert_eq!(local.check("a").unwrap().check.create_index, 0);
        assert_eq!(local.checks()["a"].check.modify_index, 0);
        // A status change copies the shared check instead of changing the catalog's.
        let updated = local
            .update_check("a", HealthStatus::Passing, "ok".to_string())
            .unwrap();
        assert_eq!(updated.check.output, "ok");
        assert_eq!(check.output, "");
        // A catalog copy that differs (e.g. tags changed through the catalog) is not taken.
        let different = indexed(AgentService {
            tags: vec!["v2".to_string()],
            ..service()
        });
        local.adopt_catalog_copies(Some(&different), &[]);
        assert!(Arc::ptr_eq(&local.lock().services["web1"], &same));
        assert!(local.service("web1").unwrap().tags.is_empty());
    }

    #[test]
    fn checks_follow_their_service_through_every_change() {
        let local = LocalState::default();
        let web = service();
        let db = AgentService {
            id: "db1".into(),
            service: "db".into(),
            ..AgentService::default()
        };
        local.put_service(
            web.clone(),
            vec![bound_check("a", "web1"), bound_check("b", "web1")],
            false,
        );
        local.put_service(db, vec![bound_check("d", "db1")], false);
        local.put_check(bound_check("node", ""));
        assert_eq!(ids(local.service_checks("web1")), ["a", "b"]);
        // Replacing the service's checks drops the ones not given again.
        let dropped = local.put_service(
            web.clone(),
            vec![bound_check("b", "web1"), bound_check("c", "web1")],
            true,
        );
        assert_eq!(dropped, ["a"]);
        assert_eq!(ids(local.service_checks("web1")), ["b", "c"]);
        // A check re-registered under another service moves with it.
        local.put_check(bound_check("c", "db1"));
        assert_eq!(ids(local.service_checks("web1")), ["b"]);
        assert_eq!(ids(local.service_checks("db1")), ["c", "d"]);
        local.remove_check("b");
        assert!(local.service_checks("web1").is_empty());
        assert!(
            local
                .update_check("d", HealthStatus::Critical, "down".into())
                .is_some()
        );
        assert_eq!(local.check("d").unwrap().check.output, "down");
        // Removing a service removes its checks and no others.
        assert!(local.remove_service("db1").is_some());
        assert!(local.service_checks("db1").is_empty());
        assert_eq!(local.checks().keys().collect::<Vec<_>>(), ["node"]);
        local.set_service_tags("web1", vec!["t".into()]);
        assert_eq!(local.service("web1").unwrap().tags, ["t"]);
    }

    #[test]
    fn service_checks_get_consul_default_ids_and_names() {
        let check =
            check_from_registration(&ttl_check("10s"), "n1", Some(&service()), "service:web1")
                .unwrap();
        assert_eq!(check.check.check_id, "service:web1");
        assert_eq!(check.check.name, "Service 'web' check");
        assert_eq!(check.check.status, HealthStatus::Critical);
        assert_eq!(check.check.check_type, "ttl");
        assert_eq!(check.check.service_name, "web");
        assert_eq!(default_service_check_id("web1", 1, 2), "service:web1:2");
    }

    #[test]
    fn invalid_checks_are_refused_with_consul_messages() {
        let none = CheckRegistration {
            name: "x".into(),
            ..CheckRegistration::default()
        };
        assert!(check_from_registration(&none, "n", None, "").is_err());
        assert!(check_from_registration(&ttl_check("0s"), "n", None, "x").is_err());
        assert!(check_from_registration(&ttl_check("soon"), "n", None, "x").is_err());
        let http = CheckRegistration {
            name: "h".into(),
            http: Some("http://127.0.0.1/".into()),
            ..CheckRegistration::default()
        };
        let error = check_from_registration(&http, "n", None, "").unwrap_err();
        assert!(error.0.contains("Interval must be > 0"), "{error}");
        let docker = CheckRegistration {
            name: "d".into(),
            docker_container_id: Some("abc".into()),
            interval: Some("10s".into()),
            ..CheckRegistration::default()
        };
        assert!(check_from_registration(&docker, "n", None, "").is_err());
    }

    #[test]
    fn replacing_checks_drops_the_ones_not_resent() {
        let local = LocalState::default();
        let a = check_from_registration(&ttl_check("10s"), "n", Some(&service()), "a").unwrap();
        let b = check_from_registration(&ttl_check("10s"), "n", Some(&service()), "b").unwrap();
        local.put_service(service(), vec![a.clone(), b], false);
        assert_eq!(local.service_checks("web1").len(), 2);
        let dropped = local.put_service(service(), vec![a], true);
        assert_eq!(dropped, ["b"]);
        assert!(local.remove_service("web1").is_some());
        assert!(local.checks().is_empty());
    }
}
