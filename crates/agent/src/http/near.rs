//! `?near=<node>` on catalog and health reads: answers sorted by the RTT the network
//! coordinates predict from that node (`_agent`: this agent's node), as Consul's
//! `parseSource` and `sortNodesByDistanceFrom` do. An unknown node, or one without a
//! coordinate, leaves the answer as it was.

use proconsul_state::State;

use crate::http::context::Ctx;

impl Ctx {
    /// The node answers are sorted from, if the request names one.
    pub fn near(&self) -> Option<&str> {
        match self.params.get("near") {
            None | Some("") => None,
            Some("_agent") => Some(&self.agent.node.name),
            Some(node) => Some(node),
        }
    }

    /// Sorts `items` (each on the node `node_of` names) nearest first from `?near`'s
    /// node; a no-op without `?near`.
    pub fn sort_near<T>(&self, state: &State, items: &mut [T], node_of: impl Fn(&T) -> &str) {
        if let Some(source) = self.near() {
            state.sort_by_distance_from(source, items, node_of);
        }
    }
}
