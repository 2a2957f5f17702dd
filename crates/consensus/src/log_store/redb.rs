//! The durable Raft log and vote for server mode, in one redb file in `data_dir`.
//!
//! Tables: `log` (index → postcard entry) and `meta` (`vote`, `committed`,
//! `last_purged`). Every write is one redb transaction committed with fsync before it is
//! reported done: an append is acknowledged to openraft (and so to clients) only once it
//! is on disk. openraft hands over the entries it has accumulated in one `append`, so
//! concurrent client writes share one transaction and one fsync (group commit).
//! redb calls block, so they run on tokio's blocking pool.

use std::fmt::Debug;
use std::io;
use std::ops::{Bound, RangeBounds};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use openraft::alias::{EntryOf, LogIdOf, VoteOf};
use openraft::entry::RaftEntry;
use openraft::storage::{IOFlushed, LogState, RaftLogReader, RaftLogStorage};
use openraft::vote::RaftLeaderId;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::metrics::replication::LogMetrics;
use crate::types::TypeConfig;

const LOG: TableDefinition<u64, &[u8]> = TableDefinition::new("log");
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");

/// The store; clones share the database.
#[derive(Clone)]
pub struct RedbLogStore {
    db: Arc<Database>,
    /// This server's Raft node ID: entries proposed under it are the leader's own.
    node_id: u64,
    metrics: LogMetrics,
}

impl Debug for RedbLogStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RedbLogStore")
    }
}

fn io_error(error: impl std::fmt::Display) -> io::Error {
    io::Error::other(error.to_string())
}

fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, io::Error> {
    postcard::to_stdvec(value).map_err(io_error)
}

fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, io::Error> {
    postcard::from_bytes(bytes).map_err(|error| io::Error::new(io::ErrorKind::InvalidData, error))
}

impl RedbLogStore {
    /// Opens (or creates) the log at `path`, for the server with Raft node ID `node_id`.
    pub fn open(path: &Path, node_id: u64) -> Result<RedbLogStore, io::Error> {
        let db = Database::create(path).map_err(io_error)?;
        let write = db.begin_write().map_err(io_error)?;
        write.open_table(LOG).map_err(io_error)?;
        write.open_table(META).map_err(io_error)?;
        write.commit().map_err(io_error)?;
        Ok(RedbLogStore {
            db: Arc::new(db),
            node_id,
            metrics: LogMetrics::new(),
        })
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Database) -> Result<T, io::Error> + Send + 'static,
    ) -> Result<T, io::Error> {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || work(&db))
            .await
            .map_err(io_error)?
    }

    fn read_meta<T: DeserializeOwned>(db: &Database, key: &str) -> Result<Option<T>, io::Error> {
        let read = db.begin_read().map_err(io_error)?;
        let table = read.open_table(META).map_err(io_error)?;
        match table.get(key).map_err(io_error)? {
            Some(bytes) => Ok(Some(decode(bytes.value())?)),
            None => Ok(None),
        }
    }

    async fn write_meta<T: Serialize>(
        &self,
        key: &'static str,
        value: &T,
    ) -> Result<(), io::Error> {
        let bytes = encode(value)?;
        self.blocking(move |db| {
            let write = db.begin_write().map_err(io_error)?;
            write
                .open_table(META)
                .map_err(io_error)?
                .insert(key, bytes.as_slice())
                .map_err(io_error)?;
            write.commit().map_err(io_error)
        })
        .await
    }
}

impl RaftLogReader<TypeConfig> for RedbLogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug>(
        &mut self,
        range: RB,
    ) -> Result<Vec<EntryOf<TypeConfig>>, io::Error> {
        let start = range.start_bound().cloned();
        let end = range.end_bound().cloned();
        self.blocking(move |db| {
            let read = db.begin_read().map_err(io_error)?;
            let table = read.open_table(LOG).map_err(io_error)?;
            let mut entries = Vec::new();
            for item in table.range::<u64>((start, end)).map_err(io_error)? {
                let (_, bytes) = item.map_err(io_error)?;
                entries.push(decode(bytes.value())?);
            }
            Ok(entries)
        })
        .await
    }

    async fn read_vote(&mut self) -> Result<Option<VoteOf<TypeConfig>>, io::Error> {
        self.blocking(|db| Self::read_meta(db, "vote")).await
    }
}

impl RaftLogStorage<TypeConfig> for RedbLogStore {
    type LogReader = Self;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, io::Error> {
        self.blocking(|db| {
            let last_purged: Option<LogIdOf<TypeConfig>> = Self::read_meta(db, "last_purged")?;
            let read = db.begin_read().map_err(io_error)?;
            let table = read.open_table(LOG).map_err(io_error)?;
            let last = match table.last().map_err(io_error)? {
                Some((_, bytes)) => {
                    let entry: EntryOf<TypeConfig> = decode(bytes.value())?;
                    Some(entry.log_id())
                }
                None => last_purged,
            };
            Ok(LogState {
                last_purged_log_id: last_purged,
                last_log_id: last,
            })
        })
        .await
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &VoteOf<TypeConfig>) -> Result<(), io::Error> {
        self.write_meta("vote", vote).await
    }

    async fn save_committed(
        &mut self,
        committed: Option<LogIdOf<TypeConfig>>,
    ) -> Result<(), io::Error> {
        self.write_meta("committed", &committed).await
    }

    async fn read_committed(&mut self) -> Result<Option<LogIdOf<TypeConfig>>, io::Error> {
        self.blocking(|db| {
            Ok(Self::read_meta::<Option<LogIdOf<TypeConfig>>>(db, "committed")?.flatten())
        })
        .await
    }

    async fn append<I>(
        &mut self,
        entries: I,
        callback: IOFlushed<TypeConfig>,
    ) -> Result<(), io::Error>
    where
        I: IntoIterator<Item = EntryOf<TypeConfig>>,
    {
        let started = Instant::now();
        let mut leading = false;
        let encoded = entries
            .into_iter()
            .map(|entry| {
                leading = *entry.log_id().committed_leader_id().node_id() == self.node_id;
                Ok((entry.index(), encode(&entry)?))
            })
            .collect::<Result<Vec<(u64, Vec<u8>)>, io::Error>>()?;
        let result = self
            .blocking(move |db| {
                let write = db.begin_write().map_err(io_error)?;
                {
                    let mut table = write.open_table(LOG).map_err(io_error)?;
                    for (index, bytes) in &encoded {
                        table.insert(index, bytes.as_slice()).map_err(io_error)?;
                    }
                }
                write.commit().map_err(io_error)
            })
            .await;
        match result {
            Ok(()) => {
                self.metrics.appended(leading, started);
                callback.io_completed(Ok(()));
                Ok(())
            }
            Err(error) => {
                callback.io_completed(Err(io_error(&error)));
                Err(error)
            }
        }
    }

    async fn truncate_after(
        &mut self,
        last_kept: Option<LogIdOf<TypeConfig>>,
    ) -> Result<(), io::Error> {
        let first_removed = last_kept.map_or(0, |log_id| log_id.index() + 1);
        self.remove_range((Bound::Included(first_removed), Bound::Unbounded))
            .await
    }

    async fn purge(&mut self, upto: LogIdOf<TypeConfig>) -> Result<(), io::Error> {
        self.write_meta("last_purged", &upto).await?;
        self.remove_range((Bound::Unbounded, Bound::Included(upto.index())))
            .await
    }
}

impl RedbLogStore {
    async fn remove_range(&self, range: (Bound<u64>, Bound<u64>)) -> Result<(), io::Error> {
        self.blocking(move |db| {
            let write = db.begin_write().map_err(io_error)?;
            {
                let mut table = write.open_table(LOG).map_err(io_error)?;
                table
                    .retain_in::<u64, _>(range, |_, _| false)
                    .map_err(io_error)?;
            }
            write.commit().map_err(io_error)
        })
        .await
    }
}
