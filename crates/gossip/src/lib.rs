//! Proconsul's gossip membership: SWIM failure detection from `foca` (sans-I/O), with serf's
//! semantics on top (Consul's statuses alive/leaving/left/failed, Lamport-ordered leave
//! intents, tags, reaping), Lifeguard's local health and confirmation-shortened suspicions,
//! AES-GCM encryption with a rotating keyring, push-pull state exchange over TCP, and RTT
//! samples with the peer's coordinate for Vivaldi.
//!
//! `core` is pure (explicit time, no I/O) and is driven either by `runtime` (tokio, UDP and
//! TCP on one port) or by `sim` (hundreds of members in one process, virtual time).

mod config;
mod core;
mod error;
mod identity;
mod keyring;
mod member;
mod runtime;
pub mod sim;
mod wire;

pub use config::{GossipConfig, GossipTiming};
pub use error::GossipError;
pub use identity::{NameKey, NodeId};
pub use keyring::{Keyring, decode_key, generate_key};
pub use member::{
    GossipStats, KeyringOp, KeyringReport, Member, MemberEvent, MemberStatus, NodeKeyring,
    RttSample,
};
pub use runtime::Gossip;
pub use wire::{MAX_COORDINATE, MAX_DATAGRAM, MAX_TAGS};
