//! The published read view: the latest `Arc<State>` plus one watch channel per table,
//! and one per service name that blocking queries are waiting on.
//!
//! Readers never lock: they load an `Arc` and keep that version for as long as they
//! need it (a blocking query takes a short lock once, to subscribe to its service's
//! channel). The state machine stores a new version *before* it bumps the channels, so a
//! reader that subscribed, then loaded, cannot miss a change.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use proconsul_state::{State, Table, TableIndexes};
use tokio::sync::watch;

use crate::node::lock;

/// Cheap to clone; all clones see the same versions.
#[derive(Clone)]
pub struct StateReader {
    current: Arc<ArcSwap<State>>,
    tables: Arc<[watch::Sender<u64>; Table::ALL.len()]>,
    /// Service name → its `State::service_index`, for the names somebody watches.
    /// Watching a table instead would wake every watcher of every service on each
    /// catalog write (10,000 watchers: ~40 ms of CPU per unrelated registration).
    services: Arc<Mutex<HashMap<String, watch::Sender<u64>>>>,
}

impl Default for StateReader {
    fn default() -> Self {
        StateReader {
            current: Arc::new(ArcSwap::from_pointee(State::default())),
            tables: Arc::new(std::array::from_fn(|_| watch::Sender::new(0))),
            services: Arc::default(),
        }
    }
}

impl StateReader {
    /// The latest applied state.
    pub fn current(&self) -> Arc<State> {
        self.current.load_full()
    }

    /// `read` of the latest applied state, without taking a reference to it (no shared
    /// counter touched: for per-request reads on every core).
    pub fn with_current<T>(&self, read: impl FnOnce(&State) -> T) -> T {
        read(&self.current.load())
    }

    /// A receiver whose value is `table`'s index; it changes when the table does.
    pub fn subscribe(&self, table: Table) -> watch::Receiver<u64> {
        self.tables[slot(table)].subscribe()
    }

    /// A receiver whose value is `State::service_index(name)`; it changes when that
    /// does, and only then.
    pub fn subscribe_service(&self, name: &str) -> watch::Receiver<u64> {
        let mut services = lock(&self.services);
        if let Some(sender) = services.get(name) {
            return sender.subscribe();
        }
        let sender = watch::Sender::new(self.current().service_index(name));
        let receiver = sender.subscribe();
        services.insert(name.to_string(), sender);
        receiver
    }

    /// Publishes `state`, then wakes the watchers of every table whose index moved
    /// since `before` (of every table when `before` is `None`, as after a restore), and
    /// of every watched service whose index moved.
    pub(crate) fn publish(&self, state: Arc<State>, before: Option<TableIndexes>) {
        let after = state.table_indexes();
        self.current.store(state.clone());
        let moved = |table| before.is_none_or(|before| after.get(table) != before.get(table));
        for table in Table::ALL {
            if moved(table) {
                self.tables[slot(table)].send_replace(after.get(table));
            }
        }
        if moved(Table::Nodes) || moved(Table::Services) || moved(Table::Checks) {
            let mut services = lock(&self.services);
            // Names nobody waits on any more are forgotten here.
            services.retain(|name, sender| {
                sender.send_if_modified(|index| {
                    let now = state.service_index(name);
                    std::mem::replace(index, now) != now
                });
                sender.receiver_count() > 0
            });
        }
    }

    /// How many service names have a channel (watched now, or until the next catalog
    /// write notices they are not).
    pub fn watched_services(&self) -> usize {
        lock(&self.services).len()
    }
}

fn slot(table: Table) -> usize {
    match table {
        Table::Nodes => 0,
        Table::Services => 1,
        Table::Checks => 2,
        Table::Kvs => 3,
        Table::Sessions => 4,
        Table::Events => 5,
        Table::PreparedQueries => 6,
        Table::AclTokens => 7,
        Table::AclPolicies => 8,
        Table::AclRoles => 9,
        Table::AclAuthMethods => 10,
        Table::AclBindingRules => 11,
        Table::Intentions => 12,
        Table::Coordinates => 13,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proconsul_api::{AgentService, CatalogRegistration};
    use proconsul_state::Command;

    fn register(node: &str, id: &str, name: &str) -> Command {
        Command::Register(Box::new(CatalogRegistration {
            node: node.to_string(),
            address: "10.0.0.1".to_string(),
            service: Some(AgentService {
                id: id.to_string(),
                service: name.to_string(),
                ..AgentService::default()
            }),
            ..CatalogRegistration::default()
        }))
    }

    /// Applies `command` at `index` to a copy of the published state and publishes it.
    fn write(reader: &StateReader, index: u64, command: &Command) {
        let mut state = (*reader.current()).clone();
        let before = state.table_indexes();
        state.apply(index, command);
        reader.publish(Arc::new(state), Some(before));
    }

    #[test]
    fn a_service_watch_wakes_only_for_its_own_service() {
        let reader = StateReader::default();
        write(&reader, 1, &register("n1", "web-1", "web"));
        let mut web = reader.subscribe_service("web");
        let mut db = reader.subscribe_service("db");
        assert_eq!(*web.borrow_and_update(), 1);

        write(&reader, 2, &register("n1", "db-1", "db"));
        assert!(!web.has_changed().unwrap(), "another service's write");
        assert!(db.has_changed().unwrap(), "a watched service that appeared");
        assert_eq!(*db.borrow_and_update(), 2);

        write(&reader, 3, &register("n2", "web-2", "web"));
        assert!(web.has_changed().unwrap());
        assert_eq!(*web.borrow_and_update(), 3);
        assert!(!db.has_changed().unwrap());

        // A node-level change reaches the services on that node.
        let mut node_update = register("n2", "", "");
        if let Command::Register(registration) = &mut node_update {
            registration.service = None;
            registration.address = "10.0.0.2".to_string();
        }
        write(&reader, 4, &node_update);
        assert!(web.has_changed().unwrap());
        assert!(!db.has_changed().unwrap());
    }

    #[test]
    fn unwatched_services_are_forgotten_on_the_next_catalog_write() {
        let reader = StateReader::default();
        let web = reader.subscribe_service("web");
        let again = reader.subscribe_service("web");
        assert_eq!(reader.watched_services(), 1);
        drop((web, again));
        write(&reader, 1, &register("n1", "db-1", "db"));
        assert_eq!(reader.watched_services(), 0);
    }
}
