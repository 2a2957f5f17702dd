//! Configuration files as Consul reads them: `-config-file` (repeatable) and
//! `-config-dir` (its `*.json` and `*.hcl` in alphabetical order), in HCL or JSON,
//! merged in order (later scalars win, lists are appended, maps merge), then checked
//! against the keys Proconsul knows. Keys Consul knows but Proconsul does not implement
//! are accepted and listed in [`FileConfig::ignored`]; legacy names are read as their
//! modern ones ([`compat`] holds both tables). An unknown key or a bad value is reported with its
//! file and key path, and the agent refuses to start.
//!
//! Pure: it reads the files it is given and nothing else.

mod acl;
mod autopilot;
pub mod compat;
mod load;
mod merge;
mod model;
mod tls;

pub use acl::{AclDefaultPolicy, AclDownPolicy, AclFile, AclTokensFile};
pub use autopilot::AutopilotFile;
pub use load::{ConfigError, ConfigSource, load, load_texts};
pub use model::{
    Addresses, CaConfig, Connect, DnsConfigFile, FileConfig, GoDuration, HttpAddress, Limits,
    Ports, RecursorStrategyName, SoaFile, Telemetry,
};
pub use tls::{TlsFile, TlsInterfaceFile};
