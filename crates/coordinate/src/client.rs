//! One node's Vivaldi state: its coordinate, the recent RTT samples of each peer, and
//! the residuals its adjustment term averages. Fed one RTT sample at a time.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use crate::coordinate::euclidean_distance;
use crate::direction::Directions;
use crate::{Config, Coordinate};

/// The longest RTT sample accepted; anything longer is a stalled probe, not a latency.
pub const MAX_RTT: Duration = Duration::from_secs(10);

/// Below this many seconds, a distance or an error counts as zero (guards divisions).
const ZERO_THRESHOLD: f64 = 1.0e-6;

/// Why a sample was refused; the coordinate is unchanged.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CoordinateError {
    /// The peer's coordinate has a number that is not finite, or no dimension.
    #[error("invalid coordinate")]
    Invalid,
    /// The peer's coordinate has another number of dimensions.
    #[error("dimensions aren't compatible: ours has {ours}, the peer's {theirs}")]
    Incompatible { ours: usize, theirs: usize },
    /// The RTT is zero or longer than [`MAX_RTT`].
    #[error(
        "round trip time not in valid range, duration {rtt:?} is not a positive value less than {MAX_RTT:?}"
    )]
    RttOutOfRange { rtt: Duration },
}

/// What happened to a client over its life.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// How many times the coordinate stopped being finite and was started over.
    pub resets: u64,
}

/// A node's coordinate and what it needs to move it.
#[derive(Debug, Clone)]
pub struct VivaldiClient {
    coordinate: Coordinate,
    /// Where gravity pulls: a fresh coordinate.
    origin: Coordinate,
    config: Config,
    /// The latest `rtt - raw distance` residuals, a ring of `adjustment_window_size`.
    residuals: Vec<f64>,
    next_residual: usize,
    /// The latest RTT samples (seconds) of each peer, oldest first.
    latencies: BTreeMap<String, VecDeque<f64>>,
    directions: Directions,
    stats: ClientStats,
}

impl VivaldiClient {
    /// A client at the origin.
    pub fn new(config: Config) -> VivaldiClient {
        VivaldiClient {
            coordinate: Coordinate::new(&config),
            origin: Coordinate::new(&config),
            residuals: vec![0.0; config.adjustment_window_size],
            next_residual: 0,
            latencies: BTreeMap::new(),
            directions: Directions::new(config.seed),
            stats: ClientStats::default(),
            config,
        }
    }

    /// The current coordinate.
    pub fn coordinate(&self) -> Coordinate {
        self.coordinate.clone()
    }

    /// What happened so far.
    pub fn stats(&self) -> ClientStats {
        self.stats
    }

    /// Drops what is kept about `node` (its latency samples), once it has left.
    pub fn forget_node(&mut self, node: &str) {
        self.latencies.remove(node);
    }

    /// Takes one RTT sample to `node`, whose coordinate is `other`, and returns the
    /// coordinate it moved this node to. Invalid or incompatible coordinates and RTTs
    /// that are zero or over [`MAX_RTT`] are refused and change nothing.
    pub fn update(
        &mut self,
        node: &str,
        other: &Coordinate,
        rtt: Duration,
    ) -> Result<Coordinate, CoordinateError> {
        if !other.is_valid() {
            return Err(CoordinateError::Invalid);
        }
        if !self.coordinate.is_compatible_with(other) {
            return Err(CoordinateError::Incompatible {
                ours: self.coordinate.vec.len(),
                theirs: other.vec.len(),
            });
        }
        if rtt.is_zero() || rtt > MAX_RTT {
            return Err(CoordinateError::RttOutOfRange { rtt });
        }
        let rtt = self.filtered_latency(node, rtt.as_secs_f64());
        self.spring_step(other, rtt);
        self.update_adjustment(other, rtt);
        self.apply_gravity();
        if !self.coordinate.is_valid() {
            self.stats.resets += 1;
            self.coordinate = Coordinate::new(&self.config);
            self.residuals
                .iter_mut()
                .for_each(|residual| *residual = 0.0);
        }
        Ok(self.coordinate.clone())
    }

    /// The median of `node`'s latest samples, this one included: one slow probe does
    /// not throw the coordinate off.
    fn filtered_latency(&mut self, node: &str, rtt: f64) -> f64 {
        let size = self.config.latency_filter_size;
        if size == 0 {
            return rtt;
        }
        let samples = self.latencies.entry(node.to_string()).or_default();
        samples.push_back(rtt);
        while samples.len() > size {
            samples.pop_front();
        }
        let mut sorted: Vec<f64> = samples.iter().copied().collect();
        sorted.sort_by(f64::total_cmp);
        sorted[sorted.len() / 2]
    }

    /// Vivaldi's adaptive step (the paper's figure 3): the relative error of the
    /// prediction updates the error estimate, weighted by how sure this node is
    /// compared with the peer, and the spring moves the node by a fraction of its
    /// force that is larger the less sure this node is.
    fn spring_step(&mut self, other: &Coordinate, rtt: f64) {
        let rtt = rtt.max(ZERO_THRESHOLD);
        let predicted = self.coordinate.raw_distance(other);
        let relative_error = (predicted - rtt).abs() / rtt;
        let total_error = (self.coordinate.error + other.error).max(ZERO_THRESHOLD);
        let weight = self.coordinate.error / total_error;
        let ce = self.config.vivaldi_ce * weight;
        self.coordinate.error = (relative_error * ce + self.coordinate.error * (1.0 - ce))
            .min(self.config.vivaldi_error_max);
        let step = self.config.vivaldi_cc * weight;
        self.push(step * (rtt - predicted), other);
    }

    /// Records this sample's residual against the raw distance and sets the
    /// adjustment to half the window's mean ("Network Coordinates in the Wild", Ledlie
    /// et al.): what the embedding cannot express is split between the two ends.
    fn update_adjustment(&mut self, other: &Coordinate, rtt: f64) {
        let window = self.residuals.len();
        if window == 0 {
            return;
        }
        self.residuals[self.next_residual] = rtt - self.coordinate.raw_distance(other);
        self.next_residual = (self.next_residual + 1) % window;
        self.coordinate.adjustment = self.residuals.iter().sum::<f64>() / (2.0 * window as f64);
    }

    /// A pull toward the origin growing with the square of the distance to it, so that
    /// the coordinates of a whole cluster do not drift away together.
    fn apply_gravity(&mut self) {
        if euclidean_distance(&self.coordinate.vec, &self.origin.vec) <= ZERO_THRESHOLD {
            return;
        }
        let distance = self.coordinate.raw_distance(&self.origin);
        let force = -(distance / self.config.gravity_rho).powi(2);
        let origin = self.origin.clone();
        self.push(force, &origin);
    }

    /// Moves this node by `force` seconds along the unit height vector from `other` to
    /// it (the paper's height-vector model: the difference of `[x, h]` and `[y, g]` is
    /// `[x - y, h + g]` and its length `|x - y| + h + g`), so a positive force moves it
    /// away and raises its height, a negative one brings it closer and lowers it. Two
    /// nodes at the same point get a drawn direction, as if one unit of distance apart.
    fn push(&mut self, force: f64, other: &Coordinate) {
        let heights = self.coordinate.height + other.height;
        let mut direction: Vec<f64> = self
            .coordinate
            .vec
            .iter()
            .zip(&other.vec)
            .map(|(mine, theirs)| mine - theirs)
            .collect();
        let mut length = direction.iter().map(|x| x * x).sum::<f64>().sqrt();
        if length <= ZERO_THRESHOLD {
            direction = self.directions.unit_vector(direction.len());
            length = 1.0;
        }
        let norm = length + heights;
        for (component, delta) in self.coordinate.vec.iter_mut().zip(&direction) {
            *component += force * delta / norm;
        }
        self.coordinate.height =
            (self.coordinate.height + force * heights / norm).max(self.config.height_min);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(seed: u64) -> VivaldiClient {
        VivaldiClient::new(Config {
            seed,
            ..Config::default()
        })
    }

    #[test]
    fn refuses_bad_samples_and_changes_nothing() {
        let mut client = client(1);
        let before = client.coordinate();
        let peer = Coordinate::new(&Config::default());
        let mut nan = peer.clone();
        nan.vec[3] = f64::NAN;
        assert_eq!(
            client.update("p", &nan, Duration::from_millis(1)),
            Err(CoordinateError::Invalid)
        );
        let short = Coordinate {
            vec: vec![0.0; 3],
            ..peer.clone()
        };
        assert_eq!(
            client.update("p", &short, Duration::from_millis(1)),
            Err(CoordinateError::Incompatible { ours: 8, theirs: 3 })
        );
        for rtt in [Duration::ZERO, MAX_RTT + Duration::from_nanos(1)] {
            let refused = client.update("p", &peer, rtt).unwrap_err();
            assert!(
                refused
                    .to_string()
                    .starts_with("round trip time not in valid range")
            );
        }
        assert_eq!(client.coordinate(), before);
        assert!(client.update("p", &peer, MAX_RTT).is_ok());
    }

    #[test]
    fn two_nodes_move_apart_to_their_rtt() {
        let (mut a, mut b) = (client(1), client(2));
        let rtt = Duration::from_millis(10);
        for _ in 0..200 {
            let b_now = b.coordinate();
            a.update("b", &b_now, rtt).unwrap();
            let a_now = a.coordinate();
            b.update("a", &a_now, rtt).unwrap();
        }
        let predicted = a.coordinate().distance_to(&b.coordinate());
        let error = (predicted.as_secs_f64() - 0.010).abs() / 0.010;
        assert!(error < 0.05, "predicted {predicted:?}");
        assert!(a.coordinate().error < 0.5, "{:?}", a.coordinate());
    }

    #[test]
    fn the_latency_filter_takes_the_median() {
        let mut client = client(1);
        assert_eq!(client.filtered_latency("p", 0.010), 0.010);
        assert_eq!(client.filtered_latency("p", 0.500), 0.500);
        assert_eq!(client.filtered_latency("p", 0.011), 0.011);
        // The outlier never wins once neighbours surround it; the oldest sample leaves.
        assert_eq!(client.filtered_latency("p", 0.012), 0.012);
        assert_eq!(client.filtered_latency("p", 0.013), 0.012);
        client.forget_node("p");
        assert_eq!(client.filtered_latency("p", 0.400), 0.400);
    }

    #[test]
    fn heights_stay_above_the_minimum() {
        let mut client = client(3);
        let far = Coordinate {
            vec: vec![0.5; 8],
            ..Coordinate::new(&Config::default())
        };
        for _ in 0..50 {
            let moved = client
                .update("far", &far, Duration::from_micros(1))
                .unwrap();
            assert!(moved.height >= 1.0e-5, "{moved:?}");
        }
    }

    #[test]
    fn same_seed_same_samples_same_coordinate() {
        let run = |seed| {
            let mut client = client(seed);
            let peer = Coordinate::new(&Config::default());
            for ms in [3, 5, 4, 6] {
                client
                    .update("p", &peer, Duration::from_millis(ms))
                    .unwrap();
            }
            client.coordinate()
        };
        assert_eq!(run(9), run(9));
        assert_ne!(run(9), run(10));
    }

    #[test]
    fn an_overflowing_coordinate_starts_over_and_is_counted() {
        let mut client = client(4);
        let huge = Coordinate {
            vec: vec![f64::MAX / 2.0; 8],
            error: 1.5,
            adjustment: 0.0,
            height: 1.0e-5,
        };
        let moved = client
            .update("huge", &huge, Duration::from_secs(1))
            .unwrap();
        assert!(moved.is_valid());
        assert_eq!(client.stats().resets, 1);
        assert_eq!(moved, Coordinate::new(&Config::default()));
    }
}
