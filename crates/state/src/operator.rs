//! Operator settings the cluster keeps: autopilot's configuration, written by
//! `PUT /v1/operator/autopilot/configuration` (optionally check-and-set on its
//! ModifyIndex) and by the first leader from its agent's `autopilot` block.

use std::sync::Arc;

use proconsul_api::operator::AutopilotConfiguration;
use serde::{Deserialize, Serialize};

use crate::command::CommandOutcome;
use crate::state::State;

/// The operator tables (and what snapshots keep of them: the same).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct OperatorTables {
    autopilot: Option<Arc<AutopilotConfiguration>>,
}

impl State {
    /// The stored autopilot configuration; `None` before anyone wrote one.
    pub fn autopilot_configuration(&self) -> Option<&Arc<AutopilotConfiguration>> {
        self.operator.autopilot.as_ref()
    }

    /// Stores `config` at `index`; with `cas`, only if it equals the stored
    /// configuration's ModifyIndex (0 when there is none, so `Some(0)` writes only a
    /// first configuration: the first leader's defaults).
    pub(crate) fn apply_autopilot_config_set(
        &mut self,
        index: u64,
        config: &AutopilotConfiguration,
        cas: Option<u64>,
    ) -> CommandOutcome {
        let current = self.operator.autopilot.as_ref();
        if let Some(expected) = cas
            && current.map_or(0, |stored| stored.modify_index) != expected
        {
            return CommandOutcome::Applied(false);
        }
        let mut stored = config.clone();
        stored.create_index = current.map_or(index, |previous| previous.create_index);
        stored.modify_index = index;
        self.operator.autopilot = Some(Arc::new(stored));
        CommandOutcome::Applied(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::Command;

    fn set(cas: Option<u64>, cleanup: bool) -> Command {
        Command::AutopilotConfigSet {
            config: Box::new(AutopilotConfiguration {
                cleanup_dead_servers: cleanup,
                ..AutopilotConfiguration::default()
            }),
            cas,
        }
    }

    #[test]
    fn check_and_set_follows_the_modify_index() {
        let mut state = State::default();
        assert!(state.autopilot_configuration().is_none());
        // Nothing stored: only cas=0 (or none) applies.
        assert_eq!(
            state.apply(5, &set(Some(4), false)),
            CommandOutcome::Applied(false)
        );
        assert_eq!(
            state.apply(6, &set(Some(0), false)),
            CommandOutcome::Applied(true)
        );
        let stored = state.autopilot_configuration().unwrap();
        assert_eq!((stored.create_index, stored.modify_index), (6, 6));
        assert!(!stored.cleanup_dead_servers);
        assert_eq!(
            state.apply(7, &set(Some(5), true)),
            CommandOutcome::Applied(false)
        );
        assert_eq!(
            state.apply(8, &set(Some(6), true)),
            CommandOutcome::Applied(true)
        );
        assert_eq!(
            state.apply(9, &set(None, false)),
            CommandOutcome::Applied(true)
        );
        let stored = state.autopilot_configuration().unwrap();
        assert_eq!((stored.create_index, stored.modify_index), (6, 9));
        // and it survives a snapshot.
        let restored = State::from_snapshot(&state.to_snapshot()).unwrap();
        assert_eq!(
            restored.autopilot_configuration(),
            state.autopilot_configuration()
        );
    }
}
