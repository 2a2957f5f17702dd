//! Lifeguard on top of foca: the local awareness score that slows a struggling prober down
//! instead of letting it accuse others, and suspicion timeouts that start long and shrink as
//! independent accusers confirm (memberlist's formula, with Consul's timeout as the longest).

use std::time::Duration;

use crate::config::GossipTiming;

/// Local health: 0 is healthy; probe interval and timeout are multiplied by `score + 1`.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Awareness {
    score: u32,
}

impl Awareness {
    pub fn score(self) -> u32 {
        self.score
    }

    /// Applies a delta, bounded by `0..max`.
    pub fn apply(&mut self, delta: i64, max: u32) {
        let next = (self.score as i64 + delta).clamp(0, max.saturating_sub(1) as i64);
        self.score = next as u32;
    }

    /// Scales a probe delay by the score.
    pub fn scale(self, delay: Duration) -> Duration {
        delay * (self.score + 1)
    }
}

/// How long a suspicion of a member lasts given `accusers` distinct accusers (the first one
/// included) in a cluster of `n` members: Consul's timeout
/// (`suspicion_mult × max(1, log10 n) × probe_interval`) without confirmation, shrinking
/// logarithmically to `suspicion_min_intervals × probe_interval` once `suspicion_mult − 2`
/// independent confirmations arrived (Lifeguard). Clusters too small to expect that many
/// confirmations keep the long timeout.
pub(crate) fn suspicion_timeout(timing: &GossipTiming, n: usize, accusers: usize) -> Duration {
    let interval = timing.probe_interval.as_secs_f64();
    let scale = (n.max(1) as f64).log10().max(1.0);
    let max = timing.suspicion_mult as f64 * scale * interval;
    let min = (timing.suspicion_min_intervals as f64 * interval).min(max);
    let mut k = timing.suspicion_mult.saturating_sub(2) as usize;
    if n < k + 2 {
        k = 0;
    }
    if k == 0 {
        return Duration::from_secs_f64(max);
    }
    let confirmations = accusers.saturating_sub(1).min(k) as f64;
    let frac = (confirmations + 1.0).ln() / (k as f64 + 1.0).ln();
    Duration::from_secs_f64((max - (max - min) * frac).max(min))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confirmations_shrink_suspicion_to_the_floor() {
        let timing = GossipTiming::lan();
        let lone = suspicion_timeout(&timing, 1000, 1);
        let one = suspicion_timeout(&timing, 1000, 2);
        let two = suspicion_timeout(&timing, 1000, 3);
        assert_eq!(lone, Duration::from_secs(12));
        assert!(one < lone && one > two, "{one:?}");
        assert_eq!(two, Duration::from_secs(2));
        assert_eq!(suspicion_timeout(&timing, 1000, 50), two);
        assert_eq!(suspicion_timeout(&timing, 3, 5), Duration::from_secs(4));
    }

    #[test]
    fn awareness_is_bounded_and_scales() {
        let mut a = Awareness::default();
        a.apply(-1, 8);
        assert_eq!(a.score(), 0);
        a.apply(20, 8);
        assert_eq!(a.score(), 7);
        assert_eq!(a.scale(Duration::from_secs(1)), Duration::from_secs(8));
    }
}
