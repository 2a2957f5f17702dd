//! The fault-run harness: seeded workloads of bounded clients recording histories
//! against a [`crate::cluster::TestCluster`], nemeses injecting faults on a seeded
//! timeline, and each run's end: heal, recover, check (with [`crate::check`]), and on a
//! violation the evidence kept with the command that replays the seed.

pub mod http;
pub mod kill;
pub mod kv_wire;
pub mod lock_client;
pub mod lock_workload;
pub mod membership;
pub mod nemesis;
pub mod partition;
pub mod pause;
pub mod recorder;
pub mod register_client;
pub mod register_workload;
pub mod rng;
pub mod run;
pub mod watch_workload;
