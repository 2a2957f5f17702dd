//! Blocking queries: run a read, and if its index has not moved past the client's
//! `?index`, sleep until a table it reads changes (or the wait runs out) and run it again.
//!
//! An idle blocking query is one parked future holding a `watch::Receiver` per table it
//! reads: no polling, no task of its own. A change to another table does not wake it.

use std::sync::Arc;

use futures::future::select_all;
use proconsul_state::{State, Table};
use tokio::time::Instant;

use crate::http::context::Ctx;
use crate::http::error::ApiError;
use crate::http::query::{Consistency, QueryMeta};

impl Ctx {
    /// Runs `read` against the latest state, blocking per the request's options.
    /// `read` returns the index that identifies its answer and the answer.
    pub async fn blocking<T>(
        &self,
        tables: &[Table],
        read: impl Fn(&State) -> (u64, T),
    ) -> Result<(QueryMeta, T), ApiError> {
        self.check_consistency().await?;
        let reader = self.agent.consensus.reader();
        let mut receivers: Vec<_> = tables
            .iter()
            .map(|table| reader.subscribe(*table))
            .collect();
        let deadline = Instant::now() + self.options.wait;
        // One timer for the whole wait: a change elsewhere that wakes this query but
        // leaves its answer as it was must not cost a new timer.
        let timeout = tokio::time::sleep_until(deadline);
        tokio::pin!(timeout);
        loop {
            for receiver in &mut receivers {
                receiver.borrow_and_update();
            }
            let state: Arc<State> = reader.current();
            let (index, answer) = read(&state);
            // Clients echo back X-Consul-Index, which is never 0; compare like for like.
            let index = index.max(1);
            let min_index = self.options.min_index;
            if min_index == 0 || index != min_index || Instant::now() >= deadline {
                return Ok((self.meta(index), answer));
            }
            let changed = select_all(receivers.iter_mut().map(|rx| Box::pin(rx.changed())));
            tokio::select! {
                (result, _, _) = changed => {
                    if result.is_err() {
                        return Ok((self.meta(index), answer));
                    }
                }
                _ = &mut timeout => {
                    return Ok((self.meta(index), answer));
                }
                _ = self.agent.shutdown.cancelled() => {
                    return Ok((self.meta(index), answer));
                }
            }
        }
    }

    /// Applies the consistency mode: the default reads what the leader has (a follower
    /// first applies up to the leader's commit index); `?consistent` also has the leader
    /// confirm its leadership with a quorum; `?stale` answers from whatever is here.
    async fn check_consistency(&self) -> Result<(), ApiError> {
        let consensus = &self.agent.consensus;
        match self.options.consistency {
            Consistency::Stale => Ok(()),
            Consistency::Leader => Ok(consensus.read_barrier(false).await?),
            Consistency::Consistent => Ok(consensus.read_barrier(true).await?),
        }
    }

    /// The response metadata for an answer at `index`.
    pub fn meta(&self, index: u64) -> QueryMeta {
        let consensus = &self.agent.consensus;
        QueryMeta {
            index,
            known_leader: consensus.leader().is_some(),
            last_contact: consensus.last_contact(),
            consistency: self.options.consistency,
        }
    }
}
