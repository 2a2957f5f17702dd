//! The Proconsul agent: Consul's HTTP API in front of a Raft-replicated state machine.
//!
//! The agent owns the services and checks registered through it ([`local`]), turns every
//! write into a [`proconsul_state::Command`] committed through [`proconsul_consensus`],
//! and answers reads from the state machine's latest published version.

pub mod acl;
pub mod acl_config;
mod acl_leader;
pub mod acl_replication;
mod agent;
pub mod agent_coordinate;
pub mod agent_tokens;
mod anti_entropy;
pub mod build_info;
pub mod catalog_backend;
pub mod check_definition;
mod checks;
mod checks_tls;
mod client_catalog_writes;
pub mod client_token_resolver;
mod client_write_acl;
pub mod config;
mod config_registrations;
pub mod connect_ca;
pub mod coordinate_batch;
pub mod coordinate_client;
pub mod coordinate_settings;
mod deadlines;
mod dns_listener;
mod error;
mod forwarded_requests;
pub mod gossip_settings;
pub mod host_info;
pub mod http;
pub mod https;
pub mod local;
pub mod logging;
pub mod membership;
mod metrics_sampler;
pub mod monitor;
mod node_id;
mod persist;
mod private_file;
mod reaper;
mod reload;
pub mod rpc_tls;
pub mod server_link;
pub mod server_pool;
mod sessions;
mod sync_acl;
pub mod telemetry;
pub mod token_resolver;
mod ttl;

pub use acl_config::{AclConfig, AclTokensConfig, DownPolicy};
pub use agent::{Agent, CONSUL_COMPAT_VERSION, StopSignal, run};
pub use checks::ChecksTls;
pub use config::AgentConfig;
pub use coordinate_settings::CoordinateSettings;
pub use error::{AgentError, WriteError};
pub use proconsul_acl::DefaultPolicy;
