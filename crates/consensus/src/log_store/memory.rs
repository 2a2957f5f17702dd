//! An in-memory Raft log and vote, for `-dev`: nothing touches the disk, as in Consul's
//! dev mode, and an append is "flushed" as soon as it is in the map.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::io;
use std::ops::RangeBounds;
use std::sync::Arc;
use std::time::Instant;

use openraft::alias::{EntryOf, LogIdOf, VoteOf};
use openraft::entry::RaftEntry;
use openraft::storage::{IOFlushed, LogState, RaftLogReader, RaftLogStorage};
use tokio::sync::Mutex;

use crate::metrics::replication::LogMetrics;
use crate::types::TypeConfig;

/// The log, the vote and the purge point, shared between the store and its readers.
#[derive(Debug, Clone)]
pub struct MemoryLogStore {
    inner: Arc<Mutex<Inner>>,
    /// `raft.leader.dispatchLog`: every append here is the lone leader's own.
    metrics: LogMetrics,
}

impl Default for MemoryLogStore {
    fn default() -> Self {
        MemoryLogStore {
            inner: Arc::default(),
            metrics: LogMetrics::new(),
        }
    }
}

#[derive(Debug, Default)]
struct Inner {
    last_purged: Option<LogIdOf<TypeConfig>>,
    log: BTreeMap<u64, EntryOf<TypeConfig>>,
    committed: Option<LogIdOf<TypeConfig>>,
    vote: Option<VoteOf<TypeConfig>>,
}

impl RaftLogReader<TypeConfig> for MemoryLogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug>(
        &mut self,
        range: RB,
    ) -> Result<Vec<EntryOf<TypeConfig>>, io::Error> {
        let inner = self.inner.lock().await;
        Ok(inner
            .log
            .range(range)
            .map(|(_, entry)| entry.clone())
            .collect())
    }

    async fn read_vote(&mut self) -> Result<Option<VoteOf<TypeConfig>>, io::Error> {
        Ok(self.inner.lock().await.vote)
    }
}

impl RaftLogStorage<TypeConfig> for MemoryLogStore {
    type LogReader = Self;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, io::Error> {
        let inner = self.inner.lock().await;
        let last = inner
            .log
            .values()
            .next_back()
            .map(|entry| entry.log_id())
            .or_else(|| inner.last_purged);
        Ok(LogState {
            last_purged_log_id: inner.last_purged,
            last_log_id: last,
        })
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &VoteOf<TypeConfig>) -> Result<(), io::Error> {
        self.inner.lock().await.vote = Some(*vote);
        Ok(())
    }

    async fn save_committed(
        &mut self,
        committed: Option<LogIdOf<TypeConfig>>,
    ) -> Result<(), io::Error> {
        self.inner.lock().await.committed = committed;
        Ok(())
    }

    async fn read_committed(&mut self) -> Result<Option<LogIdOf<TypeConfig>>, io::Error> {
        Ok(self.inner.lock().await.committed)
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
        let mut inner = self.inner.lock().await;
        for entry in entries {
            inner.log.insert(entry.index(), entry);
        }
        drop(inner);
        self.metrics.appended(true, started);
        callback.io_completed(Ok(()));
        Ok(())
    }

    async fn truncate_after(
        &mut self,
        last_kept: Option<LogIdOf<TypeConfig>>,
    ) -> Result<(), io::Error> {
        let first_removed = last_kept.map_or(0, |log_id| log_id.index() + 1);
        let mut inner = self.inner.lock().await;
        inner.log.split_off(&first_removed);
        Ok(())
    }

    async fn purge(&mut self, upto: LogIdOf<TypeConfig>) -> Result<(), io::Error> {
        let mut inner = self.inner.lock().await;
        let kept = inner.log.split_off(&(upto.index() + 1));
        inner.log = kept;
        inner.last_purged = Some(upto);
        Ok(())
    }
}
