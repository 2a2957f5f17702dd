//! The level of access a request asks for, as opposed to the level a rule grants.

use std::fmt;

/// What a request needs on a resource: Consul's `read`, `list` or `write`.
///
/// `list` only has a meaning for keys (recursive reads, `acl.enable_key_list_policy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Access {
    /// Reading one object (or discovering it, for services and nodes).
    Read,
    /// Listing keys under a prefix.
    List,
    /// Creating, changing or deleting.
    Write,
}

impl Access {
    /// The word Consul prints in denials (`'key:list'`).
    pub fn as_str(self) -> &'static str {
        match self {
            Access::Read => "read",
            Access::List => "list",
            Access::Write => "write",
        }
    }
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
