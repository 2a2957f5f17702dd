//! The published read view: the latest `Arc<State>` plus one watch channel per table.
//!
//! Readers never lock: they load an `Arc` and keep that version for as long as they
//! need it. The state machine stores a new version *before* it bumps the channels, so a
//! reader that subscribed, then loaded, cannot miss a change.

use std::sync::Arc;

use arc_swap::ArcSwap;
use proconsul_state::{State, Table, TableIndexes};
use tokio::sync::watch;

/// Cheap to clone; all clones see the same versions.
#[derive(Clone)]
pub struct StateReader {
    current: Arc<ArcSwap<State>>,
    tables: Arc<[watch::Sender<u64>; Table::ALL.len()]>,
}

impl Default for StateReader {
    fn default() -> Self {
        StateReader {
            current: Arc::new(ArcSwap::from_pointee(State::default())),
            tables: Arc::new(std::array::from_fn(|_| watch::Sender::new(0))),
        }
    }
}

impl StateReader {
    /// The latest applied state.
    pub fn current(&self) -> Arc<State> {
        self.current.load_full()
    }

    /// A receiver whose value is `table`'s index; it changes when the table does.
    pub fn subscribe(&self, table: Table) -> watch::Receiver<u64> {
        self.tables[slot(table)].subscribe()
    }

    /// Publishes `state`, then wakes the watchers of every table whose index moved
    /// since `before` (of every table when `before` is `None`, as after a restore).
    pub(crate) fn publish(&self, state: Arc<State>, before: Option<TableIndexes>) {
        let after = state.table_indexes();
        self.current.store(state);
        for table in Table::ALL {
            let index = after.get(table);
            if before.is_none_or(|before| index != before.get(table)) {
                self.tables[slot(table)].send_replace(index);
            }
        }
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
    }
}
