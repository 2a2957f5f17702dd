//! Network coordinates (`/v1/coordinate/*`, `?near=`): one per node and network
//! segment, written in batches by the servers that collect clients' updates, removed
//! with their node, and used to sort answers by the RTT they predict from one node.

use std::sync::Arc;
use std::time::Duration;

use proconsul_api::coordinate::Coordinate;
use serde::{Deserialize, Serialize};

use crate::command::CommandOutcome;
use crate::state::{Key, NodeScopedKey, State, Table, scoped_key};

/// One node's coordinate in one segment, as a batch carries it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoordinateUpdate {
    pub node: String,
    /// The network segment ("" for the default one, the only one in Consul CE).
    pub segment: String,
    pub coord: Coordinate,
}

impl State {
    /// Stores a batch of coordinates. Entries for nodes the catalog does not know are
    /// skipped, as Consul does: a coordinate lives and dies with its node. Validity was
    /// checked where the update came in.
    pub(crate) fn apply_coordinate_batch_update(
        &mut self,
        index: u64,
        updates: &[CoordinateUpdate],
    ) -> CommandOutcome {
        for update in updates {
            if !self.nodes.contains_key(update.node.as_str()) {
                continue;
            }
            let key = scoped_key(&update.node, &update.segment);
            if self
                .coordinates
                .get(&key)
                .is_some_and(|stored| **stored == update.coord)
            {
                continue;
            }
            self.coordinates.insert(key, Arc::new(update.coord.clone()));
            self.table_indexes.bump(Table::Coordinates, index);
        }
        CommandOutcome::Done
    }

    /// Removes every coordinate of a node that is being deleted.
    pub(crate) fn delete_node_coordinates(&mut self, index: u64, node: &str) {
        let keys: Vec<NodeScopedKey> = self
            .coordinates_of(node)
            .map(|(segment, _)| scoped_key(node, segment))
            .collect();
        for key in &keys {
            self.coordinates.remove(key);
        }
        if !keys.is_empty() {
            self.table_indexes.bump(Table::Coordinates, index);
        }
    }

    /// Every stored coordinate as `(node, segment, coordinate)`, by node then segment.
    pub fn coordinates(&self) -> impl Iterator<Item = (&str, &str, &Arc<Coordinate>)> + '_ {
        self.coordinates
            .iter()
            .map(|((node, segment), coord)| (node.as_str(), segment.as_str(), coord))
    }

    /// A node's coordinates as `(segment, coordinate)`, by segment.
    pub fn coordinates_of<'a>(
        &'a self,
        node: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a Arc<Coordinate>)> + 'a {
        self.coordinates
            .range(scoped_key(node, "")..)
            .take_while(move |((n, _), _)| n == node)
            .map(|((_, segment), coord)| (segment.as_str(), coord))
    }

    /// A node's coordinate in one segment.
    pub fn coordinate(&self, node: &str, segment: &str) -> Option<&Arc<Coordinate>> {
        self.coordinates.get(&(Key::new(node), Key::new(segment)))
    }

    /// Sorts `items` by the RTT predicted from node `source` to the node of each item
    /// (in the default segment), nearest first; items whose node has no coordinate go
    /// last in the order they had. Without a coordinate for `source` nothing moves, as
    /// Consul's `?near` leaves an answer when the source is unknown.
    pub fn sort_by_distance_from<T>(
        &self,
        source: &str,
        items: &mut [T],
        node_of: impl Fn(&T) -> &str,
    ) {
        let Some(from) = self.coordinate(source, "") else {
            return;
        };
        let distance = |item: &T| -> Duration {
            self.coordinate(node_of(item), "")
                .map_or(Duration::MAX, |to| from.distance_to(to))
        };
        // Stable (equal distances keep their order), each distance computed once.
        items.sort_by_cached_key(distance);
    }
}

#[cfg(test)]
mod tests {
    use proconsul_api::{CatalogDeregistration, CatalogRegistration};

    use super::*;
    use crate::command::Command;

    fn register(state: &mut State, index: u64, node: &str) {
        let registration = CatalogRegistration {
            node: node.into(),
            address: "10.0.0.1".into(),
            ..CatalogRegistration::default()
        };
        state.apply(index, &Command::Register(Box::new(registration)));
    }

    fn at(x: f64) -> Coordinate {
        Coordinate {
            vec: vec![x, 0.0],
            error: 1.5,
            adjustment: 0.0,
            height: 1.0e-5,
        }
    }

    fn update(node: &str, x: f64) -> CoordinateUpdate {
        CoordinateUpdate {
            node: node.into(),
            segment: String::new(),
            coord: at(x),
        }
    }

    #[test]
    fn batches_skip_unknown_nodes_and_unchanged_coordinates() {
        let mut state = State::default();
        register(&mut state, 1, "a");
        let batch = Command::CoordinateBatchUpdate(vec![update("a", 0.1), update("ghost", 0.2)]);
        state.apply(2, &batch);
        assert_eq!(state.coordinate("a", "").map(|c| c.vec[0]), Some(0.1));
        assert!(state.coordinate("ghost", "").is_none());
        assert_eq!(state.table_indexes().get(Table::Coordinates), 2);
        // The same coordinate again changes no index.
        state.apply(3, &batch);
        assert_eq!(state.table_indexes().get(Table::Coordinates), 2);
        state.apply(4, &Command::CoordinateBatchUpdate(vec![update("a", 0.3)]));
        assert_eq!(state.table_indexes().get(Table::Coordinates), 4);
        let listed: Vec<_> = state.coordinates().map(|(n, s, _)| (n, s)).collect();
        assert_eq!(listed, [("a", "")]);
    }

    #[test]
    fn a_deregistered_node_takes_its_coordinates_with_it() {
        let mut state = State::default();
        register(&mut state, 1, "a");
        register(&mut state, 2, "ab");
        state.apply(
            3,
            &Command::CoordinateBatchUpdate(vec![update("a", 0.1), update("ab", 0.2)]),
        );
        let deregistration = CatalogDeregistration {
            node: "a".into(),
            ..CatalogDeregistration::default()
        };
        state.apply(4, &Command::Deregister(deregistration));
        assert!(state.coordinate("a", "").is_none());
        assert!(state.coordinate("ab", "").is_some());
        assert_eq!(state.table_indexes().get(Table::Coordinates), 4);
        // Registered again, the node starts without one.
        register(&mut state, 5, "a");
        assert_eq!(state.coordinates_of("a").count(), 0);
    }

    #[test]
    fn sorting_puts_the_nearest_first_and_the_unknown_last_in_order() {
        let mut state = State::default();
        for (index, node) in ["src", "far", "near", "mid", "none1", "none2"]
            .into_iter()
            .enumerate()
        {
            register(&mut state, index as u64 + 1, node);
        }
        state.apply(
            10,
            &Command::CoordinateBatchUpdate(vec![
                update("src", 0.0),
                update("far", 0.3),
                update("near", 0.01),
                update("mid", 0.1),
            ]),
        );
        let mut items = vec!["none1", "far", "none2", "mid", "near", "src"];
        state.sort_by_distance_from("src", &mut items, |item| item);
        assert_eq!(items, ["src", "near", "mid", "far", "none1", "none2"]);
        // An unknown source, or one without a coordinate, leaves the order alone.
        let mut unchanged = vec!["far", "near"];
        state.sort_by_distance_from("none1", &mut unchanged, |item| item);
        state.sort_by_distance_from("nobody", &mut unchanged, |item| item);
        assert_eq!(unchanged, ["far", "near"]);
    }
}
