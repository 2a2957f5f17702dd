//! Network coordinates: each node's estimated position in a latency space, from which
//! the round-trip time between any two nodes is predicted without measuring it.
//!
//! The model is Vivaldi (Dabek, Cox, Kaashoek and Morris, "Vivaldi: A Decentralized
//! Network Coordinate System", SIGCOMM 2004): nodes are masses joined by springs whose
//! rest length is the measured RTT, each sample moves a node a step along the spring
//! force, and the step shrinks as the node's error estimate falls. Positions are
//! Euclidean vectors plus a height (the paper's height-vector model: the time from a
//! node to the network's core), as Consul's coordinates are: 8 dimensions, an error
//! estimate, an adjustment term (half the mean residual over a window of recent
//! samples, which absorbs what the embedding cannot) and a height, with the latency of
//! each peer filtered through the median of its last few samples and a weak gravity
//! toward the origin so that the whole system does not drift.
//!
//! **Invariant:** pure. No I/O, no clock, no global randomness: the direction chosen for
//! two coincident nodes comes from a generator seeded through [`Config::seed`], so the
//! same samples always give the same coordinates.

mod client;
mod config;
mod coordinate;
mod direction;

pub use client::{ClientStats, CoordinateError, MAX_RTT, VivaldiClient};
pub use config::Config;
pub use coordinate::Coordinate;
