//! Log streaming for `/v1/agent/monitor` (`consul monitor`): the agent's log as clients
//! follow it, each at its own level and in its own format, independent of the level the
//! agent prints at.
//!
//! - [`line`]: pure: Consul's level names and hclog's line formats (text and JSON);
//! - [`hub`]: bounded fan-out to the clients (a slow client misses lines, counted);
//! - [`layer`]: the `tracing` layer and filter that feed the hub, disabled while nobody
//!   follows.
//!
//! The process installs [`LogHub::layer`] in its subscriber (the CLI's `agent` command
//! does) and hands the same hub to the agent in [`crate::AgentConfig::log_hub`].

pub mod hub;
pub mod layer;
pub mod line;

pub use hub::{BUFFER_LINES, LogHub, Subscription};
pub use line::{LineFormat, LogLevel};
