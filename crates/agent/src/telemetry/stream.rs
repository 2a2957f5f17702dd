//! `GET /v1/agent/metrics/stream`'s fan-out: each 10-second interval's summary, sent
//! once as it finishes to every client following the stream. The sampler publishes
//! after each collection (so within a second of an interval's end); a summary is
//! rendered only while somebody follows. Each client has a bounded buffer (a
//! `broadcast` receiver): one that does not read misses the oldest intervals, and
//! collection never waits for it.

use std::time::SystemTime;

use axum::body::Bytes;
use proconsul_telemetry::Telemetry;
use tokio::sync::broadcast;

/// How many finished intervals a client may fall behind by before it misses some
/// (40 s of metrics).
const BUFFERED_INTERVALS: usize = 4;

/// One finished interval: its start (seconds since the epoch) and its summary as the
/// stream writes it (indented JSON and a newline).
#[derive(Debug, Clone)]
pub struct FinishedInterval {
    pub start: u64,
    pub json: Bytes,
}

/// The agent's one publisher of finished intervals.
#[derive(Debug)]
pub struct MetricsStream {
    sender: broadcast::Sender<FinishedInterval>,
}

impl Default for MetricsStream {
    fn default() -> Self {
        MetricsStream::new()
    }
}

impl MetricsStream {
    pub fn new() -> MetricsStream {
        let (sender, _) = broadcast::channel(BUFFERED_INTERVALS);
        MetricsStream { sender }
    }

    /// Follows the stream from now: the intervals that finish from here on, starting
    /// with the current one, as go-metrics' `Stream` does.
    pub fn subscribe(&self) -> Subscription {
        Subscription {
            receiver: self.sender.subscribe(),
            from: Telemetry::interval_start(SystemTime::now()),
        }
    }

    /// Sends what finished in `telemetry` after the interval starting at `published`
    /// (the caller's record of what it sent, updated here; `None`: nothing yet, so
    /// every finished interval goes, and each client keeps only those from its start).
    pub fn publish(&self, telemetry: &Telemetry, published: &mut Option<u64>) {
        let Some(latest) = telemetry.latest_finished() else {
            return;
        };
        let after = *published;
        if after.is_some_and(|last| latest <= last) {
            return;
        }
        *published = Some(latest);
        if self.sender.receiver_count() == 0 {
            return;
        }
        for (start, json) in telemetry.finished_summaries(after) {
            // An error only means every client left meanwhile.
            let _ = self.sender.send(FinishedInterval {
                start,
                json: Bytes::from(json),
            });
        }
    }
}

/// One client's view of the stream.
#[derive(Debug)]
pub struct Subscription {
    receiver: broadcast::Receiver<FinishedInterval>,
    /// Intervals that started before the client came are not its.
    from: u64,
}

impl Subscription {
    /// The next finished interval; `None` once the stream ends. A client that fell
    /// behind skips what it missed (logged).
    pub async fn next(&mut self) -> Option<Bytes> {
        loop {
            match self.receiver.recv().await {
                Ok(interval) if interval.start >= self.from => return Some(interval.json),
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::debug!(missed, "metrics stream: a slow client missed intervals");
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use proconsul_telemetry::Settings;

    use super::*;

    fn at(seconds: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(seconds)
    }

    #[tokio::test]
    async fn each_finished_interval_goes_out_once_and_a_slow_client_skips() {
        let telemetry = Telemetry::detached(Settings::default());
        let stream = MetricsStream::new();
        let mut published = None;
        telemetry.collect(at(1_000_000_001));
        stream.publish(&telemetry, &mut published);
        assert_eq!(published, None, "nothing has finished");
        // A client that came during the second interval.
        let mut client = Subscription {
            receiver: stream.sender.subscribe(),
            from: 1_000_000_010,
        };
        telemetry.collect(at(1_000_000_011));
        telemetry.collect(at(1_000_000_021));
        stream.publish(&telemetry, &mut published);
        stream.publish(&telemetry, &mut published);
        assert_eq!(published, Some(1_000_000_010));
        let first = client.next().await.unwrap();
        assert!(first.starts_with(b"{\n    \"Timestamp\": \"2001-09-09 01:46:50 +0000 UTC\""));
        // Not read meanwhile: seven more finish, and the client keeps the last four.
        for seconds in (1_000_000_031..1_000_000_100).step_by(10) {
            telemetry.collect(at(seconds));
            stream.publish(&telemetry, &mut published);
        }
        let next = client.next().await.unwrap();
        assert!(
            next.starts_with(b"{\n    \"Timestamp\": \"2001-09-09 01:47:30 +0000 UTC\""),
            "{}",
            String::from_utf8_lossy(&next)
        );
        drop(stream);
        let mut rest = 0;
        while client.next().await.is_some() {
            rest += 1;
        }
        assert_eq!(rest, BUFFERED_INTERVALS - 1, "the stream ends once dropped");
    }
}
