//! A node's position in the latency space, and the RTT it predicts to another.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::Config;

/// A network coordinate, in seconds, with Consul's JSON names (`Vec`, `Error`,
/// `Adjustment`, `Height`: serf's `coordinate.Coordinate`, which has no tags).
///
/// Missing fields decode as zero, as Go's decoder leaves them; whether the result is
/// usable is [`Coordinate::is_valid`]'s question.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Coordinate {
    /// The Euclidean part.
    #[serde(rename = "Vec")]
    pub vec: Vec<f64>,
    /// The node's own estimate of its relative error (0 is perfect).
    #[serde(rename = "Error")]
    pub error: f64,
    /// Added to every distance from this node when that keeps the distance positive.
    #[serde(rename = "Adjustment")]
    pub adjustment: f64,
    /// The distance from the node to the Euclidean space, added to every distance.
    #[serde(rename = "Height")]
    pub height: f64,
}

impl Coordinate {
    /// A node that knows nothing yet: at the origin, with the largest error and the
    /// smallest height.
    pub fn new(config: &Config) -> Coordinate {
        Coordinate {
            vec: vec![0.0; config.dimensionality],
            error: config.vivaldi_error_max,
            adjustment: 0.0,
            height: config.height_min,
        }
    }

    /// Every number is finite and there is at least one dimension. Coordinates from
    /// elsewhere (an API client, a peer) are checked with this before use.
    pub fn is_valid(&self) -> bool {
        !self.vec.is_empty()
            && self.vec.iter().all(|component| component.is_finite())
            && self.error.is_finite()
            && self.adjustment.is_finite()
            && self.height.is_finite()
    }

    /// Both have the same number of dimensions, so a distance between them means
    /// something.
    pub fn is_compatible_with(&self, other: &Coordinate) -> bool {
        self.vec.len() == other.vec.len()
    }

    /// The predicted round-trip time to `other`: the Euclidean distance plus both
    /// heights, plus both adjustments when that sum stays positive (Consul's rule),
    /// truncated to whole nanoseconds as Go's `time.Duration` is. Incompatible
    /// coordinates are infinitely far apart ([`Duration::MAX`]), which sorts them last.
    pub fn distance_to(&self, other: &Coordinate) -> Duration {
        if !self.is_compatible_with(other) {
            return Duration::MAX;
        }
        let seconds = self.adjusted_distance(other);
        if seconds.is_nan() || seconds <= 0.0 {
            return Duration::ZERO;
        }
        // Saturates above about 584 years, and the cast truncates as Go's conversion.
        Duration::from_nanos((seconds * 1.0e9).min(u64::MAX as f64) as u64)
    }

    /// [`Coordinate::distance_to`] in seconds, before truncation.
    pub(crate) fn adjusted_distance(&self, other: &Coordinate) -> f64 {
        let raw = self.raw_distance(other);
        let adjusted = raw + self.adjustment + other.adjustment;
        if adjusted > 0.0 { adjusted } else { raw }
    }

    /// The distance in the height-vector space alone, in seconds: the Euclidean
    /// distance plus both heights.
    pub(crate) fn raw_distance(&self, other: &Coordinate) -> f64 {
        euclidean_distance(&self.vec, &other.vec) + self.height + other.height
    }
}

/// `|a - b|` over the dimensions both have.
pub(crate) fn euclidean_distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y) * (x - y))
        .sum::<f64>()
        .sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(vec: &[f64], height: f64, adjustment: f64) -> Coordinate {
        Coordinate {
            vec: vec.to_vec(),
            error: 1.5,
            adjustment,
            height,
        }
    }

    #[test]
    fn a_new_coordinate_is_consul_s_origin() {
        let origin = Coordinate::new(&Config::default());
        assert_eq!(origin.vec, vec![0.0; 8]);
        assert_eq!(origin.error, 1.5);
        assert_eq!(origin.adjustment, 0.0);
        assert_eq!(origin.height, 1.0e-5);
        assert!(origin.is_valid());
        // Two fresh nodes are both heights apart: 20 microseconds.
        assert_eq!(origin.distance_to(&origin), Duration::from_micros(20));
    }

    #[test]
    fn distance_is_euclidean_plus_heights_plus_adjustments_when_positive() {
        let a = at(&[0.0, 0.0], 0.001, 0.0);
        let b = at(&[0.003, 0.004], 0.002, 0.0);
        assert_eq!(a.distance_to(&b), Duration::from_micros(8000));
        let adjusted = at(&[0.003, 0.004], 0.002, 0.0005);
        assert_eq!(a.distance_to(&adjusted), Duration::from_micros(8500));
        // An adjustment that would make the distance negative is ignored.
        let negative = at(&[0.003, 0.004], 0.002, -0.009);
        assert_eq!(a.distance_to(&negative), Duration::from_micros(8000));
        // Symmetric.
        assert_eq!(adjusted.distance_to(&a), a.distance_to(&adjusted));
    }

    #[test]
    fn distances_truncate_to_nanoseconds_as_go_does() {
        let a = at(&[0.0], 0.0, 0.0);
        let b = at(&[1.9999e-9], 0.0, 0.0);
        assert_eq!(a.distance_to(&b), Duration::from_nanos(1));
    }

    #[test]
    fn incompatible_coordinates_are_infinitely_far() {
        let a = at(&[0.0, 0.0], 0.0, 0.0);
        let b = at(&[0.0], 0.0, 0.0);
        assert!(!a.is_compatible_with(&b));
        assert_eq!(a.distance_to(&b), Duration::MAX);
    }

    #[test]
    fn validity_needs_finite_numbers_and_a_dimension() {
        assert!(!Coordinate::default().is_valid());
        for broken in [
            at(&[f64::NAN], 0.0, 0.0),
            at(&[0.0], f64::INFINITY, 0.0),
            at(&[0.0], 0.0, f64::NEG_INFINITY),
            Coordinate {
                error: f64::NAN,
                ..at(&[0.0], 0.0, 0.0)
            },
        ] {
            assert!(!broken.is_valid(), "{broken:?}");
        }
    }

    #[test]
    fn json_uses_consul_s_names() {
        let coordinate = at(&[0.5, -0.25], 1.0e-5, 0.125);
        let json = serde_json::to_value(&coordinate).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"Vec": [0.5, -0.25], "Error": 1.5, "Adjustment": 0.125, "Height": 1.0e-5})
        );
        let back: Coordinate = serde_json::from_value(json).unwrap();
        assert_eq!(back, coordinate);
        let partial: Coordinate = serde_json::from_str(r#"{"Vec":[1]}"#).unwrap();
        assert_eq!(partial.error, 0.0);
    }
}
