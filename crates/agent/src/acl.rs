//! The ACL seam: every handler resolves the request's token to an [`Authorizer`] and asks
//! it before reading or writing. Until ACLs land the authorizer allows everything, so that
//! enforcing them later changes this file, not every handler.

/// Where a request's token came from does not matter past this point; only its secret.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Token(pub Option<String>);

/// What a token may do. Resource names are Consul's (`service`, `node`, `key`, ...).
#[derive(Debug, Clone)]
pub struct Authorizer {
    _token: Token,
}

impl Authorizer {
    /// Resolves a token. With ACLs disabled every token, or none, may do everything.
    pub fn resolve(token: Token) -> Authorizer {
        Authorizer { _token: token }
    }

    /// `service:read` on one service name.
    pub fn service_read(&self, _name: &str) -> bool {
        true
    }

    /// `service:write` on one service name.
    pub fn service_write(&self, _name: &str) -> bool {
        true
    }

    /// `node:read` on one node name.
    pub fn node_read(&self, _name: &str) -> bool {
        true
    }

    /// `node:write` on one node name.
    pub fn node_write(&self, _name: &str) -> bool {
        true
    }

    /// `key:read` on one key.
    pub fn key_read(&self, _key: &str) -> bool {
        true
    }

    /// `key:write` on one key (or, for recursive deletes, a prefix).
    pub fn key_write(&self, _key: &str) -> bool {
        true
    }

    /// `event:read` on an event name.
    pub fn event_read(&self, _name: &str) -> bool {
        true
    }

    /// `event:write` on an event name.
    pub fn event_write(&self, _name: &str) -> bool {
        true
    }

    /// `session:read` on a node's sessions.
    pub fn session_read(&self, _node: &str) -> bool {
        true
    }

    /// `session:write` on a node's sessions.
    pub fn session_write(&self, _node: &str) -> bool {
        true
    }

    /// `agent:read` on this agent's node.
    pub fn agent_read(&self, _node: &str) -> bool {
        true
    }

    /// `agent:write` on this agent's node.
    pub fn agent_write(&self, _node: &str) -> bool {
        true
    }

    /// `operator:write`.
    pub fn operator_write(&self) -> bool {
        true
    }

    /// `operator:read`.
    pub fn operator_read(&self) -> bool {
        true
    }
}
