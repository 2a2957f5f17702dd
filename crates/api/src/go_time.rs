//! Go's `time.Time` on the wire: RFC 3339 with nanoseconds in JSON (as `encoding/json`
//! writes it, trailing zeros trimmed), seconds and nanoseconds in binary formats (the Raft
//! log and snapshots), so that a time survives every round trip exactly.
//!
//! The state machine never reads a clock: times enter it inside commands, stamped by the
//! proposer, and this type carries them. Times are written in UTC (`Z`).

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Seconds from Go's zero time (`0001-01-01T00:00:00Z`) to the Unix epoch, negated.
const GO_ZERO_UNIX_SECONDS: i64 = -62_135_596_800;

/// An instant with nanosecond precision. The default is Go's zero time, which Consul
/// writes for a `time.Time` that was never set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct GoTime {
    /// Seconds since the Unix epoch (negative before it).
    secs: i64,
    /// Nanoseconds within the second, `0..1_000_000_000`.
    nanos: u32,
}

/// Why a text is not an RFC 3339 time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("parsing time {text:?} as RFC 3339: {reason}")]
pub struct TimeError {
    text: String,
    reason: String,
}

impl Default for GoTime {
    fn default() -> GoTime {
        GoTime::ZERO
    }
}

impl GoTime {
    /// Go's zero `time.Time`.
    pub const ZERO: GoTime = GoTime {
        secs: GO_ZERO_UNIX_SECONDS,
        nanos: 0,
    };

    /// The instant `nanos` nanoseconds after the Unix epoch.
    pub fn from_unix_nanos(nanos: i128) -> GoTime {
        let secs = nanos.div_euclid(1_000_000_000);
        GoTime {
            secs: i64::try_from(secs).unwrap_or(if secs < 0 { i64::MIN } else { i64::MAX }),
            nanos: nanos.rem_euclid(1_000_000_000) as u32,
        }
    }

    /// The instant `millis` milliseconds after the Unix epoch.
    pub fn from_unix_millis(millis: u64) -> GoTime {
        GoTime::from_unix_nanos(i128::from(millis) * 1_000_000)
    }

    /// Nanoseconds since the Unix epoch.
    pub fn unix_nanos(self) -> i128 {
        i128::from(self.secs) * 1_000_000_000 + i128::from(self.nanos)
    }

    /// Whether this is Go's zero time (never set).
    pub fn is_zero(self) -> bool {
        self == GoTime::ZERO
    }

    /// This instant moved `duration` later, or `None` past the representable range.
    pub fn checked_add(self, duration: Duration) -> Option<GoTime> {
        let nanos = self
            .unix_nanos()
            .checked_add(i128::try_from(duration.as_nanos()).ok()?)?;
        let secs = nanos.div_euclid(1_000_000_000);
        i64::try_from(secs).ok()?;
        Some(GoTime::from_unix_nanos(nanos))
    }

    /// How long after `earlier` this instant is; `None` when it is before `earlier`.
    pub fn duration_since(self, earlier: GoTime) -> Option<Duration> {
        let nanos = self.unix_nanos() - earlier.unix_nanos();
        u64::try_from(nanos).ok().map(Duration::from_nanos)
    }

    /// Parses RFC 3339 text (any offset, optional fraction), as Go's JSON decoding of a
    /// `time.Time` does.
    pub fn parse_rfc3339(text: &str) -> Result<GoTime, TimeError> {
        let parsed = OffsetDateTime::parse(text, &Rfc3339).map_err(|error| TimeError {
            text: text.to_string(),
            reason: error.to_string(),
        })?;
        Ok(GoTime::from_unix_nanos(parsed.unix_timestamp_nanos()))
    }

    /// RFC 3339 with the nanoseconds Go writes (`time.RFC3339Nano`), in UTC.
    pub fn to_rfc3339(self) -> String {
        OffsetDateTime::from_unix_timestamp(self.secs)
            .ok()
            .and_then(|time| time.replace_nanosecond(self.nanos).ok())
            .and_then(|time| time.format(&Rfc3339).ok())
            .unwrap_or_else(|| "0001-01-01T00:00:00Z".to_string())
    }
}

impl From<SystemTime> for GoTime {
    /// The proposer's clock, to be carried in a command.
    fn from(time: SystemTime) -> GoTime {
        match time.duration_since(UNIX_EPOCH) {
            Ok(after) => GoTime::from_unix_nanos(after.as_nanos() as i128),
            Err(before) => GoTime::from_unix_nanos(-(before.duration().as_nanos() as i128)),
        }
    }
}

impl fmt::Display for GoTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl Serialize for GoTime {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            serializer.serialize_str(&self.to_rfc3339())
        } else {
            GoTime::serialize(self, serializer)
        }
    }
}

impl<'de> Deserialize<'de> for GoTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<GoTime, D::Error> {
        if deserializer.is_human_readable() {
            let text = String::deserialize(deserializer)?;
            GoTime::parse_rfc3339(&text).map_err(serde::de::Error::custom)
        } else {
            let time = GoTime::deserialize(deserializer)?;
            if time.nanos >= 1_000_000_000 {
                return Err(serde::de::Error::custom("nanoseconds out of range"));
            }
            Ok(time)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn writes_go_rfc3339_nano() {
        assert_eq!(GoTime::ZERO.to_rfc3339(), "0001-01-01T00:00:00Z");
        let t = GoTime::parse_rfc3339("2018-10-24T12:25:06.921933-04:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2018-10-24T16:25:06.921933Z");
        let whole = GoTime::from_unix_millis(1_700_000_000_000);
        assert_eq!(whole.to_rfc3339(), "2023-11-14T22:13:20Z");
        assert_eq!(
            serde_json::to_string(&GoTime::from_unix_nanos(1_500_000_000)).unwrap(),
            "\"1970-01-01T00:00:01.5Z\""
        );
        assert!(GoTime::parse_rfc3339("yesterday").is_err());
        assert!(GoTime::default().is_zero());
    }

    #[test]
    fn arithmetic() {
        let t = GoTime::from_unix_millis(1_000);
        let later = t.checked_add(Duration::from_secs(600)).unwrap();
        assert_eq!(later.duration_since(t), Some(Duration::from_secs(600)));
        assert_eq!(t.duration_since(later), None);
        assert!(t < later);
    }

    proptest! {
        #[test]
        fn json_and_postcard_round_trip(nanos in -62_135_596_800_000_000_000i128..253_402_300_799_999_999_999i128) {
            let time = GoTime::from_unix_nanos(nanos);
            let json = serde_json::to_string(&time).unwrap();
            prop_assert_eq!(serde_json::from_str::<GoTime>(&json).unwrap(), time);
            let binary = postcard::to_stdvec(&time).unwrap();
            prop_assert_eq!(postcard::from_bytes::<GoTime>(&binary).unwrap(), time);
        }
    }
}
