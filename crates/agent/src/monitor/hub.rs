//! The fan-out of log lines to the clients of `/v1/agent/monitor`.
//!
//! One bounded `tokio::sync::broadcast` channel per format and level, made when its first
//! client arrives: an event is formatted once per format that anyone follows, and the
//! same bytes go to every channel whose level it passes. Sending never waits and the
//! channels keep at most [`BUFFER_LINES`] lines, so a slow client neither slows logging
//! nor grows memory: it misses the oldest lines and is told how many (a warning line in
//! its stream, and `Dropped logs during monitor request` in the agent's log when it
//! leaves, as Consul logs it).
//!
//! The hub also knows the most verbose level anyone follows, which the filter of
//! [`super::layer`] reads: with nobody following, every event is disabled for the
//! monitor before anything is built. Changing that level rebuilds `tracing`'s cached
//! per-callsite interest, so the change takes effect at once.

use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use bytes::Bytes;
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};

use super::line::{FieldValue, LineFormat, LogLevel, LogRecord};

/// Lines kept for each channel until its slowest client reads them (Consul's monitor
/// buffers 512).
pub const BUFFER_LINES: usize = 512;

/// `most_verbose` when nobody follows the log.
const NOBODY: u8 = u8::MAX;

/// The agent's log as clients follow it. Cloning shares it. A hub that no subscriber's
/// layer feeds (an agent started without [`super::LogHub::layer`]) streams nothing.
#[derive(Clone)]
pub struct LogHub {
    inner: Arc<Hub>,
}

pub(super) struct Hub {
    /// `[format][level]`: made on first use, kept for the process's life.
    channels: [[OnceLock<broadcast::Sender<Bytes>>; 5]; 2],
    /// How many clients follow each channel.
    followers: [[AtomicUsize; 5]; 2],
    /// The index of the most verbose level anyone follows, or [`NOBODY`].
    most_verbose: AtomicU8,
    /// Held while a client arrives or leaves, so that level changes apply in order.
    changes: Mutex<()>,
}

impl Default for LogHub {
    fn default() -> LogHub {
        LogHub {
            inner: Arc::new(Hub {
                channels: [const { [const { OnceLock::new() }; 5] }; 2],
                followers: [const { [const { AtomicUsize::new(0) }; 5] }; 2],
                most_verbose: AtomicU8::new(NOBODY),
                changes: Mutex::new(()),
            }),
        }
    }
}

impl std::fmt::Debug for LogHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogHub")
            .field("most_verbose", &self.inner.most_verbose())
            .finish_non_exhaustive()
    }
}

impl LogHub {
    /// A client's stream of the lines at `level` or above, in `format`, from now on.
    pub fn subscribe(&self, level: LogLevel, format: LineFormat) -> Subscription {
        let receiver = self.inner.channels[format.index()][level.index()]
            .get_or_init(|| broadcast::channel(BUFFER_LINES).0)
            .subscribe();
        // Subscribed before it counts, so no line sent once it counts is missed.
        self.inner.follow(format, level, true);
        tracing::debug!(level = ?level, format = ?format, "monitor client arrived");
        Subscription {
            hub: self.inner.clone(),
            level,
            format,
            receiver,
            dropped: 0,
        }
    }

    pub(super) fn hub(&self) -> Arc<Hub> {
        self.inner.clone()
    }
}

impl Hub {
    /// The most verbose level anyone follows.
    pub(super) fn most_verbose(&self) -> Option<LogLevel> {
        LogLevel::ALL
            .get(usize::from(self.most_verbose.load(Ordering::Relaxed)))
            .copied()
    }

    /// Whether anyone follows lines of `level`.
    pub(super) fn followed(&self, level: LogLevel) -> bool {
        self.most_verbose().is_some_and(|most| level >= most)
    }

    /// Sends `record` to every channel that follows its level, formatted once per format.
    pub(super) fn publish(&self, record: &LogRecord) {
        for format in LineFormat::ALL {
            let mut line: Option<Bytes> = None;
            for level in LogLevel::ALL
                .into_iter()
                .filter(|level| *level <= record.level)
            {
                if self.followers[format.index()][level.index()].load(Ordering::Relaxed) == 0 {
                    continue;
                }
                let Some(sender) = self.channels[format.index()][level.index()].get() else {
                    continue;
                };
                let line = line.get_or_insert_with(|| Bytes::from(record.line(format)));
                // An error only means the last client left meanwhile.
                let _ = sender.send(line.clone());
            }
        }
    }

    /// Counts a client in (`arrives`) or out, and moves the most verbose level followed.
    fn follow(&self, format: LineFormat, level: LogLevel, arrives: bool) {
        let _change = self
            .changes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let count = &self.followers[format.index()][level.index()];
        if arrives {
            count.fetch_add(1, Ordering::Relaxed);
        } else {
            count.fetch_sub(1, Ordering::Relaxed);
        }
        let most = LogLevel::ALL
            .into_iter()
            .find(|level| {
                self.followers
                    .iter()
                    .any(|by_level| by_level[level.index()].load(Ordering::Relaxed) > 0)
            })
            .map_or(NOBODY, |level| level.index() as u8);
        if self.most_verbose.swap(most, Ordering::Relaxed) != most {
            // Callsites cached their interest under the old level; ask them again (the
            // filter reads `most_verbose`, never this lock).
            tracing::callsite::rebuild_interest_cache();
        }
    }
}

/// One client's lines. Dropping it (the client left, or the agent stopped) counts it out.
pub struct Subscription {
    hub: Arc<Hub>,
    level: LogLevel,
    format: LineFormat,
    receiver: broadcast::Receiver<Bytes>,
    /// Lines this client missed because it read too slowly.
    dropped: u64,
}

impl Subscription {
    /// The next line; when lines were missed, first a warning saying how many.
    pub async fn next(&mut self) -> Option<Bytes> {
        match self.receiver.recv().await {
            Ok(line) => Some(line),
            Err(RecvError::Lagged(missed)) => {
                self.dropped += missed;
                Some(Bytes::from(dropped_notice(missed).line(self.format)))
            }
            // The hub keeps every sender; this only happens if it is gone.
            Err(RecvError::Closed) => None,
        }
    }

    /// The next line if one is waiting, without waiting for one.
    pub fn try_next(&mut self) -> Option<Bytes> {
        match self.receiver.try_recv() {
            Ok(line) => Some(line),
            Err(TryRecvError::Lagged(missed)) => {
                self.dropped += missed;
                Some(Bytes::from(dropped_notice(missed).line(self.format)))
            }
            Err(TryRecvError::Empty | TryRecvError::Closed) => None,
        }
    }

    /// How many lines this client has missed so far.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.hub.follow(self.format, self.level, false);
        tracing::debug!(level = ?self.level, format = ?self.format, "monitor client left");
        if self.dropped > 0 {
            tracing::warn!(
                dropped_count = self.dropped,
                "Dropped logs during monitor request"
            );
        }
    }
}

/// The line put in a slow client's stream where lines are missing.
fn dropped_notice(missed: u64) -> LogRecord {
    let unix_nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_nanos() as i128);
    LogRecord {
        unix_nanos,
        level: LogLevel::Warn,
        module: "agent.monitor".to_string(),
        message: "Dropped logs during monitor request".to_string(),
        fields: vec![("dropped_count".to_string(), FieldValue::U64(missed))],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(level: LogLevel, message: &str) -> LogRecord {
        LogRecord {
            unix_nanos: 0,
            level,
            module: "agent".to_string(),
            message: message.to_string(),
            fields: Vec::new(),
        }
    }

    fn text(line: &Bytes) -> &str {
        std::str::from_utf8(line).unwrap()
    }

    #[tokio::test]
    async fn each_client_gets_its_levels_in_its_format() {
        let hub = LogHub::default();
        assert_eq!(hub.inner.most_verbose(), None);
        let mut debug = hub.subscribe(LogLevel::Debug, LineFormat::Text);
        let mut warn_json = hub.subscribe(LogLevel::Warn, LineFormat::Json);
        assert_eq!(hub.inner.most_verbose(), Some(LogLevel::Debug));
        assert!(!hub.inner.followed(LogLevel::Trace));
        assert!(hub.inner.followed(LogLevel::Info));
        for (level, message) in [
            (LogLevel::Trace, "t"),
            (LogLevel::Debug, "d"),
            (LogLevel::Info, "i"),
            (LogLevel::Error, "e"),
        ] {
            hub.inner.publish(&record(level, message));
        }
        for expected in [
            "[DEBUG] agent: d\n",
            "[INFO]  agent: i\n",
            "[ERROR] agent: e\n",
        ] {
            let line = debug.next().await.unwrap();
            assert!(text(&line).ends_with(expected), "{}", text(&line));
        }
        let line = warn_json.next().await.unwrap();
        let json: serde_json::Value = serde_json::from_slice(&line).unwrap();
        assert_eq!(json["@message"], "e");
        drop(debug);
        assert_eq!(hub.inner.most_verbose(), Some(LogLevel::Warn));
        drop(warn_json);
        assert_eq!(hub.inner.most_verbose(), None);
    }

    #[tokio::test]
    async fn a_slow_client_misses_the_oldest_lines_and_is_told() {
        let hub = LogHub::default();
        let mut slow = hub.subscribe(LogLevel::Info, LineFormat::Text);
        let extra = 10;
        for n in 0..BUFFER_LINES + extra {
            hub.inner
                .publish(&record(LogLevel::Info, &format!("line {n}")));
        }
        let notice = slow.next().await.unwrap();
        assert!(
            text(&notice).contains(&format!(
                "[WARN]  agent.monitor: Dropped logs during monitor request: dropped_count={extra}"
            )),
            "{}",
            text(&notice)
        );
        assert_eq!(slow.dropped(), extra as u64);
        let first = slow.next().await.unwrap();
        assert!(text(&first).ends_with(&format!("line {extra}\n")));
    }
}
