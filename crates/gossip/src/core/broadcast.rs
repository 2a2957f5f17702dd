//! foca's custom-broadcast handler: decodes intents, tags, coordinates and suspicions, applies
//! them to the shared serf state, and tells foca which ones are news worth disseminating.
//! Keys invalidate older versions of the same item, so queues stay bounded by members.

use std::sync::{Arc, Mutex};

use foca::{BroadcastHandler, Invalidates};

use crate::identity::NodeId;
use crate::wire::Item;

use super::serf::SerfState;

/// Which item a broadcast is a version of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ItemKey {
    Intent(Arc<str>),
    Tags(Arc<str>),
    Coordinate(Arc<str>),
    Suspicion { node: Arc<str>, from: Arc<str> },
}

impl ItemKey {
    fn of(item: &Item) -> ItemKey {
        match item {
            Item::Intent(i) => ItemKey::Intent(i.node.clone()),
            Item::Tags(t) => ItemKey::Tags(t.node.clone()),
            Item::Coordinate(c) => ItemKey::Coordinate(c.node.clone()),
            Item::Suspicion(s) => ItemKey::Suspicion {
                node: s.node.clone(),
                from: s.from.clone(),
            },
        }
    }
}

impl Invalidates for ItemKey {
    // Only news is kept, so a newer item with the same key replaces the queued one.
    fn invalidates(&self, other: &Self) -> bool {
        self == other
    }
}

/// A broadcast that is not a valid item.
#[derive(Debug, thiserror::Error)]
#[error("undecodable gossip item: {0}")]
pub(crate) struct ItemError(#[from] postcard::Error);

/// The handler foca owns; the state is shared with the core.
pub(crate) struct ItemHandler {
    pub shared: Arc<Mutex<SerfState>>,
}

impl BroadcastHandler<NodeId> for ItemHandler {
    type Key = ItemKey;
    type Error = ItemError;

    fn receive_item(
        &mut self,
        data: &[u8],
        _sender: Option<&NodeId>,
    ) -> Result<Option<ItemKey>, ItemError> {
        let item: Item = postcard::from_bytes(data)?;
        let key = ItemKey::of(&item);
        let news = lock(&self.shared).apply_item(item);
        Ok(news.then_some(key))
    }
}

/// Locks the shared state; a panic elsewhere cannot leave it half-updated in a way that
/// matters more than stopping the member, so poisoning is ignored.
pub(crate) fn lock(shared: &Mutex<SerfState>) -> std::sync::MutexGuard<'_, SerfState> {
    shared.lock().unwrap_or_else(|e| e.into_inner())
}
