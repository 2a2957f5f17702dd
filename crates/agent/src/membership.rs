//! Gossip membership in the agent: starting the LAN pool (`start`), the tags this agent
//! gossips (`tags`), joining (`join`), handing gossip's servers to consensus's discovery
//! (`servers`), and the leader's reconciliation of members into the catalog
//! (`reconcile`, the pure decision; `leader`, the loop) with autopilot's removal of dead
//! servers from Raft (`dead_servers`), and a server's WAN pool with the other
//! datacenters it reaches (`wan`). Each module takes what it needs (gossip, consensus,
//! settings), not the agent.

pub mod answer;
pub mod dead_servers;
pub mod join;
pub mod leader;
pub mod reconcile;
pub mod servers;
pub mod start;
pub mod tags;
pub mod wan;
