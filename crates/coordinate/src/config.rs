//! The tunables of the Vivaldi model, with Consul's documented defaults.

/// How a [`crate::VivaldiClient`] moves its coordinate.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The number of Euclidean dimensions (the height is one more).
    pub dimensionality: usize,
    /// The largest error estimate, in relative terms; a new coordinate starts there.
    pub vivaldi_error_max: f64,
    /// How fast the error estimate follows a sample's relative error (the paper's `ce`).
    pub vivaldi_ce: f64,
    /// The largest fraction of a spring's force applied in one step (the paper's `cc`).
    pub vivaldi_cc: f64,
    /// How many recent residuals the adjustment term averages (0 turns it off).
    pub adjustment_window_size: usize,
    /// The smallest height, in seconds; heights never reach zero.
    pub height_min: f64,
    /// How many recent RTT samples of each peer the latency filter takes the median of.
    pub latency_filter_size: usize,
    /// Gravity's scale, in seconds: a node `d` seconds from the origin is pulled back
    /// by `(d / rho)^2`, so it only matters for coordinates that drift far away.
    pub gravity_rho: f64,
    /// Seeds the directions chosen for coincident nodes. Give each node its own (the
    /// agent derives it from its node ID), or nodes that start together move together.
    pub seed: u64,
}

impl Default for Config {
    /// Consul's defaults (`DefaultConfig` of its coordinate package, as documented).
    fn default() -> Config {
        Config {
            dimensionality: 8,
            vivaldi_error_max: 1.5,
            vivaldi_ce: 0.25,
            vivaldi_cc: 0.25,
            adjustment_window_size: 20,
            height_min: 10.0e-6,
            latency_filter_size: 3,
            gravity_rho: 150.0,
            seed: 0,
        }
    }
}
