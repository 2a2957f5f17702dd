//! Raft log storage: in memory for `-dev`, in redb for server mode, behind the same
//! openraft traits.

pub mod memory;
pub mod redb;
