//! Raft log storage. `-dev` keeps the log in memory; a durable store for server mode
//! will sit beside [`memory::MemoryLogStore`] behind the same openraft traits.

pub mod memory;
