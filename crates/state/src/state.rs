//! The tables, their indexes, and the dispatch of commands to the code that applies them.

use std::sync::Arc;

use imbl::{OrdMap, OrdSet};
use proconsul_api::coordinate::Coordinate;
use proconsul_api::query::PreparedQuery;
use proconsul_api::{AgentService, HealthCheck, KvPair, Node, Session, UserEvent};
use serde::{Deserialize, Serialize};
use smol_str::SmolStr;

use crate::acl::AclTables;
use crate::command::{Command, CommandOutcome};
use crate::connect::ConnectTables;
use crate::prepared_query::QueryIndexes;

/// A table whose highest modification index blocking queries wait on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Table {
    Nodes,
    Services,
    Checks,
    Kvs,
    Sessions,
    Events,
    PreparedQueries,
    AclTokens,
    AclPolicies,
    AclRoles,
    AclAuthMethods,
    AclBindingRules,
    /// Connect intentions and the CA configuration.
    Intentions,
    /// Network coordinates.
    Coordinates,
}

impl Table {
    /// Every table, in a fixed order (the order of [`TableIndexes`]' fields).
    pub const ALL: [Table; 14] = [
        Table::Nodes,
        Table::Services,
        Table::Checks,
        Table::Kvs,
        Table::Sessions,
        Table::Events,
        Table::PreparedQueries,
        Table::AclTokens,
        Table::AclPolicies,
        Table::AclRoles,
        Table::AclAuthMethods,
        Table::AclBindingRules,
        Table::Intentions,
        Table::Coordinates,
    ];
}

/// The log index of the latest change to each table, deletions included.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableIndexes {
    pub nodes: u64,
    pub services: u64,
    pub checks: u64,
    pub kvs: u64,
    pub sessions: u64,
    pub events: u64,
    pub prepared_queries: u64,
    pub acl_tokens: u64,
    pub acl_policies: u64,
    pub acl_roles: u64,
    pub acl_auth_methods: u64,
    pub acl_binding_rules: u64,
    pub intentions: u64,
    pub coordinates: u64,
}

impl TableIndexes {
    /// The index of one table.
    pub fn get(&self, table: Table) -> u64 {
        match table {
            Table::Nodes => self.nodes,
            Table::Services => self.services,
            Table::Checks => self.checks,
            Table::Kvs => self.kvs,
            Table::Sessions => self.sessions,
            Table::Events => self.events,
            Table::PreparedQueries => self.prepared_queries,
            Table::AclTokens => self.acl_tokens,
            Table::AclPolicies => self.acl_policies,
            Table::AclRoles => self.acl_roles,
            Table::AclAuthMethods => self.acl_auth_methods,
            Table::AclBindingRules => self.acl_binding_rules,
            Table::Intentions => self.intentions,
            Table::Coordinates => self.coordinates,
        }
    }

    pub(crate) fn bump(&mut self, table: Table, index: u64) {
        let slot = match table {
            Table::Nodes => &mut self.nodes,
            Table::Services => &mut self.services,
            Table::Checks => &mut self.checks,
            Table::Kvs => &mut self.kvs,
            Table::Sessions => &mut self.sessions,
            Table::Events => &mut self.events,
            Table::PreparedQueries => &mut self.prepared_queries,
            Table::AclTokens => &mut self.acl_tokens,
            Table::AclPolicies => &mut self.acl_policies,
            Table::AclRoles => &mut self.acl_roles,
            Table::AclAuthMethods => &mut self.acl_auth_methods,
            Table::AclBindingRules => &mut self.acl_binding_rules,
            Table::Intentions => &mut self.intentions,
            Table::Coordinates => &mut self.coordinates,
        };
        *slot = (*slot).max(index);
    }
}

/// The keys of the tables. Applying a batch of writes copies the B-tree nodes on the path
/// to each change (earlier versions still share them with readers), and a copied node
/// clones its 64 keys: a `String` key would cost an allocation each, a `SmolStr` copies
/// short keys inline and shares long ones.
pub(crate) type Key = SmolStr;

/// `(node name, service or check ID)`: the primary key of services and checks.
pub(crate) type NodeScopedKey = (Key, Key);

/// The key of `id` on `node` (short names are copied inline, without allocating).
pub(crate) fn scoped_key(node: &str, id: &str) -> NodeScopedKey {
    (Key::new(node), Key::new(id))
}

/// The whole replicated state. Cheap to clone; see the crate documentation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct State {
    pub(crate) nodes: OrdMap<Key, Arc<Node>>,
    pub(crate) services: OrdMap<NodeScopedKey, Arc<AgentService>>,
    pub(crate) checks: OrdMap<NodeScopedKey, Arc<HealthCheck>>,
    pub(crate) kvs: OrdMap<Key, Arc<KvPair>>,
    pub(crate) sessions: OrdMap<Key, Arc<Session>>,
    /// Keys whose lock was lost when a session ended, with the time (ms since the
    /// epoch, from the log) before which they may not be acquired again.
    pub(crate) lock_delays: OrdMap<Key, u64>,
    /// The latest user events, oldest first.
    pub(crate) events: imbl::Vector<Arc<UserEvent>>,
    /// Prepared queries by ID.
    pub(crate) prepared_queries: OrdMap<Key, Arc<PreparedQuery>>,
    /// Derived: prepared query names and template prefixes. Rebuilt on restore.
    pub(crate) query_indexes: QueryIndexes,
    /// ACL tokens, policies, roles, auth methods and binding rules.
    pub(crate) acl: AclTables,
    /// Connect intentions and the CA configuration.
    pub(crate) connect: ConnectTables,
    /// Operator settings (autopilot's configuration).
    pub(crate) operator: crate::operator::OperatorTables,
    /// Network coordinates by `(node, segment)`.
    pub(crate) coordinates: OrdMap<NodeScopedKey, Arc<Coordinate>>,
    /// Derived: service name to the instances that carry it. Rebuilt on restore.
    pub(crate) instances_by_name: OrdMap<Key, OrdSet<NodeScopedKey>>,
    /// The latest change touching each service name (its instances, their checks and
    /// the checks and entries of the nodes they run on), so that a blocking query on one
    /// service is not woken by churn elsewhere.
    pub(crate) service_indexes: OrdMap<Key, u64>,
    pub(crate) table_indexes: TableIndexes,
    pub(crate) last_applied: u64,
    /// The outcomes of the latest writes proposed under a request ID.
    pub(crate) recent_requests: crate::recent_requests::RecentRequests,
}

impl State {
    /// Applies `command` at Raft log `index`. Indexes must increase from call to call;
    /// an index at or below the last applied one is ignored, so replays are harmless.
    pub fn apply(&mut self, index: u64, command: &Command) -> CommandOutcome {
        if index <= self.last_applied {
            return CommandOutcome::Rejected(format!(
                "index {index} already applied (last applied {})",
                self.last_applied
            ));
        }
        self.last_applied = index;
        self.apply_command(index, command)
    }

    /// What `command` does at `index` (already recorded as applied).
    pub(crate) fn apply_command(&mut self, index: u64, command: &Command) -> CommandOutcome {
        match command {
            Command::Register(registration) => self.apply_register(index, registration),
            Command::Deregister(deregistration) => self.apply_deregister(index, deregistration),
            Command::Kv(kv) => self.apply_kv(index, kv),
            Command::SessionCreate(session) => self.apply_session_create(index, session),
            Command::SessionDestroy { id, now_ms } => {
                self.apply_session_destroy(index, id, *now_ms)
            }
            Command::Txn(ops) => self.apply_txn(index, ops),
            Command::EventFire(event) => self.apply_event(index, event),
            Command::Restore(backup) => self.apply_restore(index, backup),
            Command::PreparedQuerySet { op, query } => {
                self.apply_prepared_query_set(index, *op, query)
            }
            Command::PreparedQueryDelete { id } => self.apply_prepared_query_delete(index, id),
            Command::AclInit(init) => self.apply_acl_init(index, init),
            Command::AclBootstrap(bootstrap) => self.apply_acl_bootstrap(index, bootstrap),
            Command::AclTokenSet(write) => self.apply_acl_token_set(index, write),
            Command::AclTokenDelete { accessor_id } => {
                self.apply_acl_token_delete(index, accessor_id)
            }
            Command::AclTokensExpire { now } => self.apply_acl_tokens_expire(index, *now),
            Command::AclPolicySet { op, policy } => self.apply_acl_policy_set(index, *op, policy),
            Command::AclPolicyDelete { id } => self.apply_acl_policy_delete(index, id),
            Command::AclRoleSet { op, role } => self.apply_acl_role_set(index, *op, role),
            Command::AclRoleDelete { id } => self.apply_acl_role_delete(index, id),
            Command::AclAuthMethodSet(method) => self.apply_acl_auth_method_set(index, method),
            Command::AclAuthMethodDelete { name } => self.apply_acl_auth_method_delete(index, name),
            Command::AclBindingRuleSet { op, rule } => {
                self.apply_acl_binding_rule_set(index, *op, rule)
            }
            Command::AclBindingRuleDelete { id } => self.apply_acl_binding_rule_delete(index, id),
            Command::AclReplicate(replicate) => self.apply_acl_replicate(index, replicate),
            Command::IntentionSet(intention) => self.apply_intention_set(index, intention),
            Command::IntentionDelete {
                source,
                destination,
            } => self.apply_intention_delete(index, source, destination),
            Command::CaConfigSet(config) => self.apply_ca_config_set(index, config),
            Command::AutopilotConfigSet { config, cas } => {
                self.apply_autopilot_config_set(index, config, *cas)
            }
            Command::CoordinateBatchUpdate(updates) => {
                self.apply_coordinate_batch_update(index, updates)
            }
            Command::Identified { id, command } => self.apply_identified(index, *id, command),
        }
    }

    /// Records that a log entry with no command of ours (a membership change or a blank
    /// leader entry) was applied, so that `last_applied` tracks the log.
    pub fn apply_noop(&mut self, index: u64) {
        self.last_applied = self.last_applied.max(index);
    }

    /// The log index of the last applied entry.
    pub fn last_applied(&self) -> u64 {
        self.last_applied
    }

    /// The latest change to each table.
    pub fn table_indexes(&self) -> TableIndexes {
        self.table_indexes
    }

    /// The index a blocking query on service `name` waits on. When the service has no
    /// instances the catalog tables' maximum stands in, which is never lower than the
    /// index at which its last instance went away.
    pub fn service_index(&self, name: &str) -> u64 {
        self.service_indexes
            .get(name)
            .copied()
            .unwrap_or_else(|| self.catalog_index())
    }

    /// The latest change to the catalog tables (nodes, services, checks).
    pub fn catalog_index(&self) -> u64 {
        let t = self.table_indexes;
        t.nodes.max(t.services).max(t.checks)
    }

    pub(crate) fn bump_service(&mut self, name: &str, index: u64) {
        if self.instances_by_name.contains_key(name) {
            self.service_indexes.insert(Key::new(name), index);
        } else {
            self.service_indexes.remove(name);
        }
    }

    /// Bumps the index of every service with an instance on `node`: a node-level change
    /// (its address, a node check) changes the health of all of them.
    pub(crate) fn bump_services_on_node(&mut self, node: &str, index: u64) {
        let names: Vec<String> = self
            .services_on_node(node)
            .map(|service| service.service.clone())
            .collect();
        for name in names {
            self.bump_service(&name, index);
        }
    }

    /// The services registered on `node`, in ID order.
    pub(crate) fn services_on_node<'a>(
        &'a self,
        node: &'a str,
    ) -> impl Iterator<Item = &'a Arc<AgentService>> + 'a {
        self.services
            .range(scoped_key(node, "")..)
            .take_while(move |((n, _), _)| n == node)
            .map(|(_, service)| service)
    }

    /// The checks registered on `node`, in check ID order.
    pub(crate) fn checks_on_node<'a>(
        &'a self,
        node: &'a str,
    ) -> impl Iterator<Item = &'a Arc<HealthCheck>> + 'a {
        self.checks
            .range(scoped_key(node, "")..)
            .take_while(move |((n, _), _)| n == node)
            .map(|(_, check)| check)
    }
}
