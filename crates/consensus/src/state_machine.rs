//! The openraft state machine adapter: applies committed entries to the working
//! [`State`] at their log indexes, publishes one new version per batch, and only then
//! answers the writers, so a client that got its answer can read its own write.

use std::io::{self, Cursor};
use std::sync::{Arc, Mutex};

use futures::{Stream, TryStreamExt};
use openraft::alias::{LogIdOf, SnapshotMetaOf, SnapshotOf, StoredMembershipOf};
use openraft::storage::{EntryResponder, RaftSnapshotBuilder, RaftStateMachine};
use openraft::{EntryPayload, StoredMembership};
use proconsul_state::{CommandOutcome, State};

use crate::reader::StateReader;
use crate::types::TypeConfig;

/// The snapshot most recently built or installed, kept to serve to followers.
#[derive(Debug, Clone)]
struct StoredSnapshot {
    meta: SnapshotMetaOf<TypeConfig>,
    data: Arc<Vec<u8>>,
}

/// Owned by openraft's state machine task; nothing else mutates the working state.
pub struct StateMachine {
    state: State,
    last_applied: Option<LogIdOf<TypeConfig>>,
    last_membership: StoredMembershipOf<TypeConfig>,
    reader: StateReader,
    current_snapshot: Arc<Mutex<Option<StoredSnapshot>>>,
}

impl StateMachine {
    /// A state machine that publishes into `reader`.
    pub fn new(reader: StateReader) -> StateMachine {
        StateMachine {
            state: State::default(),
            last_applied: None,
            last_membership: StoredMembership::default(),
            reader,
            current_snapshot: Arc::new(Mutex::new(None)),
        }
    }

    fn snapshot_slot(&self) -> std::sync::MutexGuard<'_, Option<StoredSnapshot>> {
        lock(&self.current_snapshot)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Only whole values are ever stored under this lock, so a poisoned one is consistent.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Serializes one immutable version of the state; runs beside `apply`.
pub struct SnapshotBuilder {
    state: Arc<State>,
    meta: SnapshotMetaOf<TypeConfig>,
    current_snapshot: Arc<Mutex<Option<StoredSnapshot>>>,
}

impl RaftSnapshotBuilder<TypeConfig> for SnapshotBuilder {
    type SnapshotData = Cursor<Vec<u8>>;

    async fn build_snapshot(
        &mut self,
    ) -> Result<SnapshotOf<TypeConfig, Cursor<Vec<u8>>>, io::Error> {
        let data = self.state.to_snapshot();
        tracing::debug!(bytes = data.len(), last_log_id = ?self.meta.last_log_id, "raft: built snapshot");
        *lock(&self.current_snapshot) = Some(StoredSnapshot {
            meta: self.meta.clone(),
            data: Arc::new(data.clone()),
        });
        Ok(SnapshotOf::<TypeConfig, Cursor<Vec<u8>>> {
            meta: self.meta.clone(),
            snapshot: Cursor::new(data),
        })
    }
}

impl RaftStateMachine<TypeConfig> for StateMachine {
    type SnapshotData = Cursor<Vec<u8>>;
    type SnapshotBuilder = SnapshotBuilder;

    async fn applied_state(
        &mut self,
    ) -> Result<(Option<LogIdOf<TypeConfig>>, StoredMembershipOf<TypeConfig>), io::Error> {
        Ok((self.last_applied, self.last_membership.clone()))
    }

    async fn apply<S>(&mut self, mut entries: S) -> Result<(), io::Error>
    where
        S: Stream<Item = Result<EntryResponder<TypeConfig>, io::Error>> + Unpin + Send,
    {
        let before = self.state.table_indexes();
        let mut answers = Vec::new();
        while let Some((entry, responder)) = entries.try_next().await? {
            let index = entry.log_id.index();
            let outcome = match &entry.payload {
                EntryPayload::Normal(proposal) => self.state.apply(index, &proposal.0),
                EntryPayload::Blank => {
                    self.state.apply_noop(index);
                    CommandOutcome::Done
                }
                EntryPayload::Membership(membership) => {
                    self.last_membership =
                        StoredMembership::new(Some(entry.log_id), membership.clone());
                    self.state.apply_noop(index);
                    CommandOutcome::Done
                }
            };
            self.last_applied = Some(entry.log_id);
            if let Some(responder) = responder {
                answers.push((responder, outcome));
            }
        }
        self.reader
            .publish(Arc::new(self.state.clone()), Some(before));
        for (responder, outcome) in answers {
            responder.send(outcome);
        }
        Ok(())
    }

    async fn get_snapshot_builder(&mut self) -> SnapshotBuilder {
        SnapshotBuilder {
            state: Arc::new(self.state.clone()),
            meta: SnapshotMetaOf::<TypeConfig> {
                last_log_id: self.last_applied,
                last_membership: self.last_membership.clone(),
            },
            current_snapshot: self.current_snapshot.clone(),
        }
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMetaOf<TypeConfig>,
        snapshot: Cursor<Vec<u8>>,
    ) -> Result<(), io::Error> {
        let data = snapshot.into_inner();
        let restored = State::from_snapshot(&data)
            .map_err(|error| io::Error::new(io::ErrorKind::InvalidData, error))?;
        tracing::info!(bytes = data.len(), last_log_id = ?meta.last_log_id, "raft: installed snapshot");
        self.state = restored;
        self.last_applied = meta.last_log_id;
        self.last_membership = meta.last_membership.clone();
        *self.snapshot_slot() = Some(StoredSnapshot {
            meta: meta.clone(),
            data: Arc::new(data),
        });
        self.reader.publish(Arc::new(self.state.clone()), None);
        Ok(())
    }

    async fn get_current_snapshot(
        &mut self,
    ) -> Result<Option<SnapshotOf<TypeConfig, Cursor<Vec<u8>>>>, io::Error> {
        Ok(self
            .snapshot_slot()
            .as_ref()
            .map(|stored| SnapshotOf::<TypeConfig, Cursor<Vec<u8>>> {
                meta: stored.meta.clone(),
                snapshot: Cursor::new(stored.data.as_ref().clone()),
            }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use openraft::storage::RaftSnapshotBuilder;
    use proconsul_state::{Command, KvCommand, KvOp, Table};

    #[tokio::test]
    async fn a_built_snapshot_installs_into_a_fresh_state_machine() {
        let source_reader = StateReader::default();
        let mut source = StateMachine::new(source_reader.clone());
        for i in 1..=10u64 {
            source.state.apply(
                i,
                &Command::Kv(KvCommand {
                    op: KvOp::Set,
                    key: format!("k{i}"),
                    value: vec![i as u8],
                    flags: i,
                    cas: None,
                }),
            );
        }
        let mut builder = source.get_snapshot_builder().await;
        let snapshot = builder.build_snapshot().await.unwrap();
        assert!(source.get_current_snapshot().await.unwrap().is_some());

        let target_reader = StateReader::default();
        let mut kvs = target_reader.subscribe(Table::Kvs);
        let mut target = StateMachine::new(target_reader.clone());
        target
            .install_snapshot(&snapshot.meta, snapshot.snapshot)
            .await
            .unwrap();
        assert_eq!(*target_reader.current(), source.state);
        assert!(kvs.has_changed().unwrap());
        assert_eq!(*kvs.borrow_and_update(), 10);

        let garbage = Cursor::new(b"not a snapshot".to_vec());
        assert!(
            target
                .install_snapshot(&snapshot.meta, garbage)
                .await
                .is_err()
        );
        assert_eq!(
            *target_reader.current(),
            source.state,
            "a bad snapshot changes nothing"
        );
    }
}
