//! The openraft state machine adapter: applies committed entries to the working
//! [`State`] at their log indexes, publishes one new version per batch, and only then
//! answers the writers, so a client that got its answer can read its own write.

use std::io::{self, Cursor, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures::{Stream, TryStreamExt};
use openraft::alias::{LogIdOf, SnapshotMetaOf, SnapshotOf, StoredMembershipOf};
use openraft::storage::{EntryResponder, RaftSnapshotBuilder, RaftStateMachine};
use openraft::{EntryPayload, StoredMembership};
use proconsul_state::{CommandOutcome, State};

use crate::metrics::millis_since;
use crate::metrics::snapshot::SnapshotMetrics;
use crate::node::lock;
use crate::reader::StateReader;
use crate::types::TypeConfig;

/// The snapshot most recently built or installed, kept to serve to followers.
#[derive(Debug, Clone)]
struct StoredSnapshot {
    meta: SnapshotMetaOf<TypeConfig>,
    content: SnapshotContent,
}

/// A snapshot's state, encoded or not yet.
#[derive(Debug, Clone)]
enum SnapshotContent {
    Encoded(Arc<Vec<u8>>),
    /// In memory (`-dev`) a snapshot only lets the log drop entries, and no follower
    /// ever asks for it: keeping the immutable version (which shares its nodes with
    /// the live state) costs nothing, where encoding the whole state every
    /// `DEV_SNAPSHOT_THRESHOLD` writes cost a tenth of a registration load's CPU and
    /// kept an encoded copy of the state in memory. Encoded if someone asks.
    Version(Arc<State>),
}

impl SnapshotContent {
    fn encoded(&self) -> Arc<Vec<u8>> {
        match self {
            SnapshotContent::Encoded(data) => data.clone(),
            SnapshotContent::Version(state) => Arc::new(state.to_snapshot()),
        }
    }
}

/// Owned by openraft's state machine task; nothing else mutates the working state.
pub struct StateMachine {
    state: State,
    last_applied: Option<LogIdOf<TypeConfig>>,
    last_membership: StoredMembershipOf<TypeConfig>,
    reader: StateReader,
    current_snapshot: Arc<Mutex<Option<StoredSnapshot>>>,
    /// Server mode: where the latest snapshot is kept on disk.
    snapshot_dir: Option<PathBuf>,
    /// `raft.fsm.apply` and Consul's `fsm.*` timers.
    metrics: crate::metrics::FsmMetrics,
    /// The snapshot and restore timers.
    snapshot_metrics: SnapshotMetrics,
}

/// The snapshot file in a server's data directory.
const SNAPSHOT_FILE: &str = "snapshot.bin";

impl StateMachine {
    /// A state machine that publishes into `reader`, in memory only (`-dev`).
    pub fn new(reader: StateReader) -> StateMachine {
        StateMachine {
            state: State::default(),
            last_applied: None,
            last_membership: StoredMembership::default(),
            reader,
            current_snapshot: Arc::new(Mutex::new(None)),
            snapshot_dir: None,
            metrics: crate::metrics::FsmMetrics::new(),
            snapshot_metrics: SnapshotMetrics::new(),
        }
    }

    /// A state machine whose snapshots are kept in `dir`, starting from the snapshot
    /// found there (openraft then replays the log entries after it).
    pub fn durable(reader: StateReader, dir: &Path) -> Result<StateMachine, io::Error> {
        let mut machine = StateMachine::new(reader);
        machine.snapshot_dir = Some(dir.to_path_buf());
        let path = dir.join(SNAPSHOT_FILE);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(machine),
            Err(error) => return Err(error),
        };
        let (meta, data) = split_snapshot_file(&bytes)?;
        let started = Instant::now();
        let state = State::from_snapshot(data)
            .map_err(|error| io::Error::new(io::ErrorKind::InvalidData, error))?;
        let restore = &machine.snapshot_metrics.fsm_restore;
        restore.record(millis_since(started));
        tracing::info!(last_log_id = ?meta.last_log_id, bytes = data.len(), "raft: restored the snapshot from disk");
        machine.state = state;
        machine.last_applied = meta.last_log_id;
        machine.last_membership = meta.last_membership.clone();
        *machine.snapshot_slot() = Some(StoredSnapshot {
            meta,
            content: SnapshotContent::Encoded(Arc::new(data.to_vec())),
        });
        machine
            .reader
            .publish(Arc::new(machine.state.clone()), None);
        Ok(machine)
    }

    fn snapshot_slot(&self) -> std::sync::MutexGuard<'_, Option<StoredSnapshot>> {
        lock(&self.current_snapshot)
    }
}

/// `[meta length: u32 BE][postcard meta][state snapshot]`.
fn split_snapshot_file(bytes: &[u8]) -> Result<(SnapshotMetaOf<TypeConfig>, &[u8]), io::Error> {
    let invalid =
        |what: &str| io::Error::new(io::ErrorKind::InvalidData, format!("snapshot file: {what}"));
    let length = bytes
        .get(..4)
        .map(|prefix| u32::from_be_bytes([prefix[0], prefix[1], prefix[2], prefix[3]]) as usize)
        .ok_or_else(|| invalid("truncated"))?;
    let meta = bytes
        .get(4..4 + length)
        .ok_or_else(|| invalid("truncated"))?;
    let meta = postcard::from_bytes(meta).map_err(|error| invalid(&error.to_string()))?;
    Ok((meta, &bytes[4 + length..]))
}

/// Writes the snapshot file atomically: a temporary file, fsync, rename, fsync of the
/// directory.
/// Returns how long opening the file took (`raft.snapshot.create`).
fn write_snapshot_file(
    dir: &Path,
    meta: &SnapshotMetaOf<TypeConfig>,
    data: &[u8],
) -> Result<f64, io::Error> {
    let meta = postcard::to_stdvec(meta).map_err(io::Error::other)?;
    let length = u32::try_from(meta.len()).map_err(io::Error::other)?;
    let temporary = dir.join(format!("{SNAPSHOT_FILE}.tmp"));
    let created;
    {
        let opened = Instant::now();
        let mut file = std::fs::File::create(&temporary)?;
        created = millis_since(opened);
        file.write_all(&length.to_be_bytes())?;
        file.write_all(&meta)?;
        file.write_all(data)?;
        file.sync_all()?;
    }
    std::fs::rename(&temporary, dir.join(SNAPSHOT_FILE))?;
    std::fs::File::open(dir)?.sync_all()?;
    Ok(created)
}

/// Serializes one immutable version of the state; runs beside `apply`.
pub struct SnapshotBuilder {
    state: Arc<State>,
    meta: SnapshotMetaOf<TypeConfig>,
    current_snapshot: Arc<Mutex<Option<StoredSnapshot>>>,
    snapshot_dir: Option<PathBuf>,
    metrics: SnapshotMetrics,
}

impl RaftSnapshotBuilder<TypeConfig> for SnapshotBuilder {
    type SnapshotData = Cursor<Vec<u8>>;

    /// In memory the answer carries no data: openraft keeps only the meta of a snapshot
    /// it had built, and `get_current_snapshot` encodes the kept version on demand.
    async fn build_snapshot(
        &mut self,
    ) -> Result<SnapshotOf<TypeConfig, Cursor<Vec<u8>>>, io::Error> {
        let started = Instant::now();
        let built = self.build().await;
        let metrics = &self.metrics;
        metrics.take_snapshot.record(millis_since(started));
        built
    }
}

impl SnapshotBuilder {
    async fn build(&mut self) -> Result<SnapshotOf<TypeConfig, Cursor<Vec<u8>>>, io::Error> {
        let persisting = Instant::now();
        let Some(dir) = &self.snapshot_dir else {
            self.metrics.create.record(0.0);
            *lock(&self.current_snapshot) = Some(StoredSnapshot {
                meta: self.meta.clone(),
                content: SnapshotContent::Version(self.state.clone()),
            });
            self.metrics.persist.record(millis_since(persisting));
            return Ok(SnapshotOf::<TypeConfig, Cursor<Vec<u8>>> {
                meta: self.meta.clone(),
                snapshot: Cursor::new(Vec::new()),
            });
        };
        let data = self.state.to_snapshot();
        tracing::debug!(bytes = data.len(), last_log_id = ?self.meta.last_log_id, "raft: built snapshot");
        let data = Arc::new(data);
        let (dir, meta, bytes) = (dir.clone(), self.meta.clone(), data.clone());
        let created = tokio::task::spawn_blocking(move || write_snapshot_file(&dir, &meta, &bytes))
            .await
            .map_err(io::Error::other)??;
        self.metrics.create.record(created);
        self.metrics
            .persist
            .record(millis_since(persisting) - created);
        *lock(&self.current_snapshot) = Some(StoredSnapshot {
            meta: self.meta.clone(),
            content: SnapshotContent::Encoded(data.clone()),
        });
        Ok(SnapshotOf::<TypeConfig, Cursor<Vec<u8>>> {
            meta: self.meta.clone(),
            snapshot: Cursor::new(data.as_ref().clone()),
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
                EntryPayload::Normal(proposal) => {
                    let started = Instant::now();
                    let outcome = self.state.apply(index, &proposal.0);
                    let millis = millis_since(started);
                    self.metrics.applied(&proposal.0, millis);
                    outcome
                }
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
            snapshot_dir: self.snapshot_dir.clone(),
            metrics: self.snapshot_metrics.clone(),
        }
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMetaOf<TypeConfig>,
        snapshot: Cursor<Vec<u8>>,
    ) -> Result<(), io::Error> {
        let data = snapshot.into_inner();
        let started = Instant::now();
        let restored = State::from_snapshot(&data)
            .map_err(|error| io::Error::new(io::ErrorKind::InvalidData, error))?;
        let restore = &self.snapshot_metrics.fsm_restore;
        restore.record(millis_since(started));
        tracing::info!(bytes = data.len(), last_log_id = ?meta.last_log_id, "raft: installed snapshot");
        if let Some(dir) = &self.snapshot_dir {
            write_snapshot_file(dir, meta, &data)?;
        }
        self.state = restored;
        self.last_applied = meta.last_log_id;
        self.last_membership = meta.last_membership.clone();
        *self.snapshot_slot() = Some(StoredSnapshot {
            meta: meta.clone(),
            content: SnapshotContent::Encoded(Arc::new(data)),
        });
        self.reader.publish(Arc::new(self.state.clone()), None);
        Ok(())
    }

    async fn get_current_snapshot(
        &mut self,
    ) -> Result<Option<SnapshotOf<TypeConfig, Cursor<Vec<u8>>>>, io::Error> {
        let Some(stored) = self.snapshot_slot().clone() else {
            return Ok(None);
        };
        Ok(Some(SnapshotOf::<TypeConfig, Cursor<Vec<u8>>> {
            snapshot: Cursor::new(stored.content.encoded().as_ref().clone()),
            meta: stored.meta,
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
        let built = builder.build_snapshot().await.unwrap();
        // Written after the build: the snapshot keeps the version it was built from.
        source.state.apply(
            11,
            &Command::Kv(KvCommand {
                op: KvOp::Delete,
                key: "k1".to_string(),
                value: Vec::new(),
                flags: 0,
                cas: None,
            }),
        );
        let snapshot = source.get_current_snapshot().await.unwrap().unwrap();
        assert_eq!(snapshot.meta, built.meta);

        let target_reader = StateReader::default();
        let mut kvs = target_reader.subscribe(Table::Kvs);
        let mut target = StateMachine::new(target_reader.clone());
        target
            .install_snapshot(&snapshot.meta, snapshot.snapshot)
            .await
            .unwrap();
        let restored = target_reader.current();
        assert_eq!(
            restored.kv_get("k1").map(|entry| entry.value.clone()),
            Some(Some(vec![1]))
        );
        assert_eq!(restored.kv_get("k10").map(|entry| entry.flags), Some(10));
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
            *restored,
            "a bad snapshot changes nothing"
        );
    }
}
