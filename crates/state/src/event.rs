//! User events: the latest ones, in firing order. Consul keeps events in a ring buffer
//! on each agent; here they go through Raft, so every server keeps the same buffer.

use std::sync::Arc;

use proconsul_api::UserEvent;

use crate::command::CommandOutcome;
use crate::state::{State, Table};

/// How many events are kept (Consul's ring buffer holds 256).
pub const MAX_EVENTS: usize = 256;

impl State {
    pub(crate) fn apply_event(&mut self, index: u64, event: &UserEvent) -> CommandOutcome {
        let stored = UserEvent {
            ltime: index,
            ..event.clone()
        };
        self.events.push_back(Arc::new(stored));
        while self.events.len() > MAX_EVENTS {
            self.events.pop_front();
        }
        self.table_indexes.bump(Table::Events, index);
        CommandOutcome::Done
    }

    /// The kept events, oldest first.
    pub fn events(&self) -> impl Iterator<Item = &Arc<UserEvent>> {
        self.events.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::Command;

    #[test]
    fn the_latest_events_are_kept_in_order() {
        let mut state = State::default();
        for i in 0..300u64 {
            let event = UserEvent {
                id: format!("e{i}"),
                name: "deploy".into(),
                ..UserEvent::default()
            };
            state.apply(i + 1, &Command::EventFire(Box::new(event)));
        }
        let kept: Vec<u64> = state.events().map(|event| event.ltime).collect();
        assert_eq!(kept.len(), MAX_EVENTS);
        assert_eq!(kept.first(), Some(&45));
        assert_eq!(kept.last(), Some(&300));
        assert_eq!(state.table_indexes().events, 300);
    }
}
