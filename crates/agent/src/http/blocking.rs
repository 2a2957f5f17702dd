//! Blocking queries: run a read, and if its index has not moved past the client's
//! `?index`, sleep until a table it reads changes (or the wait runs out) and run it again.
//!
//! An idle blocking query is one parked future holding a `watch::Receiver` per table it
//! reads (or one for the service it reads): no polling, no task of its own. A change to
//! another table, or to another service, does not wake it.

use std::sync::Arc;

use futures::future::select_all;
use proconsul_state::{State, Table};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::http::context::Ctx;
use crate::http::error::ApiError;
use crate::http::query::{Consistency, QueryMeta};

/// What a query about one service waits on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceScope {
    /// The service's own index (`State::service_index`): only changes to its instances,
    /// their checks and their nodes wake the query.
    Service,
    /// The catalog tables' latest change (Connect views, which also read proxies
    /// registered under other names).
    Catalog,
}

/// The tables a service's answer is read from.
const CATALOG_TABLES: [Table; 3] = [Table::Nodes, Table::Services, Table::Checks];

impl Ctx {
    /// Runs `read` against the latest state, blocking per the request's options.
    /// `read` returns the index that identifies its answer and the answer.
    pub async fn blocking<T>(
        &self,
        tables: &[Table],
        read: impl Fn(&State) -> (u64, T),
    ) -> Result<(QueryMeta, T), ApiError> {
        let reader = self.agent.consensus()?.reader();
        let subscribe = || {
            tables
                .iter()
                .map(|table| reader.subscribe(*table))
                .collect()
        };
        self.block_on(subscribe, read).await
    }

    /// Runs `read` (given the state and the answer's index) on service `name`,
    /// blocking per the request's options until `scope`'s index moves.
    pub async fn blocking_service<T>(
        &self,
        name: &str,
        scope: ServiceScope,
        read: impl Fn(&State, u64) -> T,
    ) -> Result<(QueryMeta, T), ApiError> {
        let reader = self.agent.consensus()?.reader();
        match scope {
            ServiceScope::Service => {
                let subscribe = || vec![reader.subscribe_service(name)];
                self.block_on(subscribe, |state| {
                    let index = state.service_index(name);
                    (index, read(state, index))
                })
                .await
            }
            ServiceScope::Catalog => {
                let subscribe = || {
                    let tables = CATALOG_TABLES.iter();
                    tables.map(|table| reader.subscribe(*table)).collect()
                };
                self.block_on(subscribe, |state| {
                    let index = state.catalog_index();
                    (index, read(state, index))
                })
                .await
            }
        }
    }

    /// The blocking loop: the receivers `subscribe` gives change when the answer may
    /// have. A read without `?index` answers at once and subscribes to nothing.
    async fn block_on<T>(
        &self,
        subscribe: impl FnOnce() -> Vec<watch::Receiver<u64>>,
        read: impl Fn(&State) -> (u64, T),
    ) -> Result<(QueryMeta, T), ApiError> {
        self.agent.metrics.query.increment(1);
        self.check_consistency().await?;
        let reader = self.agent.consensus()?.reader();
        let min_index = self.options.min_index;
        if min_index == 0 {
            let (index, answer) = read(&reader.current());
            // Clients echo back X-Consul-Index, which is never 0.
            return Ok((self.meta(index.max(1)), answer));
        }
        // Counted in `rpc.queries_blocking` until it answers.
        let _parked = crate::telemetry::Parked::new(&self.agent.metrics.queries_blocking);
        // Subscribed before the first read, so no change after it can be missed.
        let mut receivers = subscribe();
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
            // The token may have changed since the last wake-up: check it again.
            self.authz.refresh(&state);
            let (index, answer) = read(&state);
            // Clients echo back X-Consul-Index, which is never 0; compare like for like.
            let index = index.max(1);
            if index != min_index || Instant::now() >= deadline {
                return Ok((self.meta(index), answer));
            }
            let changed = async {
                match receivers.as_mut_slice() {
                    // The usual case (one service, or one table) needs no selection.
                    [receiver] => receiver.changed().await,
                    all => {
                        select_all(all.iter_mut().map(|rx| Box::pin(rx.changed())))
                            .await
                            .0
                    }
                }
            };
            tokio::select! {
                result = changed => {
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
        let consensus = self.agent.consensus()?;
        match self.options.consistency {
            Consistency::Stale => Ok(()),
            Consistency::Leader => Ok(consensus.read_barrier(false).await?),
            Consistency::Consistent => Ok(consensus.read_barrier(true).await?),
        }
    }

    /// The response metadata for an answer at `index`.
    pub fn meta(&self, index: u64) -> QueryMeta {
        let consensus = self.agent.catalog.server();
        QueryMeta {
            index,
            known_leader: consensus.is_some_and(|consensus| consensus.leader().is_some()),
            last_contact: consensus.map_or(std::time::Duration::ZERO, |c| c.last_contact()),
            consistency: self.options.consistency,
            results_filtered_by_acls: self.authz.results_filtered(),
        }
    }
}
