//! The test-only fault layer of server RPC: per (sender, receiver, message kind), drop,
//! refuse, delay with seeded jitter, or hold messages until released, one direction at a
//! time, so partitions of every shape (leader in the minority, a bridge node, one-way
//! links) and slow links are made deterministically without privileges.
//!
//! Always compiled in, so the tests exercise the shipped binary; switched on only by
//! `PROCONSUL_TEST_FAULTS=1` ([`layer::ENV_SWITCH`]), which the agent turns into
//! `/v1/internal/test/faults`. Without it no layer exists: the RPC client checks an
//! `Option` and the router has no extra layer.

pub mod layer;
pub mod rules;

pub use layer::FaultLayer;
pub use rules::{FaultAction, FaultRule, FaultSet, InvalidFaults, Leg};
