//! Consul's JSON vocabulary, shared by the server, the CLI and the tests.
//!
//! Field names follow Consul's public API exactly (PascalCase, `ID` suffixes), because
//! compatibility with existing clients is the product. The types carry no logic beyond
//! serde; the optional `client` feature adds a small async HTTP client.

pub mod acl;
pub mod catalog;
pub mod connect;
pub mod coordinate;
pub mod decode;
pub mod duration;
pub mod event;
pub mod go_json;
pub mod go_time;
pub mod health;
pub mod keyring;
pub mod kv;
pub mod operator;
pub mod query;
pub mod session;

#[cfg(feature = "client")]
pub mod client;

pub use catalog::*;
pub use event::*;
pub use health::*;
pub use kv::*;
pub use session::*;
