//! `Authorize`: the one list of Consul's permission checks by name (`service_read`,
//! `key_write_prefix`, ...), written once over `allows` for every authorizer: the
//! compiled one here and the agent's per-request one, which adds ACLs-off and
//! re-resolution around it.

use crate::access::Access;
use crate::permission::Permission;

/// Something that decides permissions; the named checks follow from [`Authorize::allows`].
pub trait Authorize {
    /// Whether the token has `permission`. Use it to filter results.
    fn allows(&self, permission: Permission<'_>) -> bool;

    /// `acl:read`: read tokens, policies, roles.
    fn acl_read(&self) -> bool {
        self.allows(Permission::acl(Access::Read))
    }

    /// `acl:write`: change tokens, policies, roles.
    fn acl_write(&self) -> bool {
        self.allows(Permission::acl(Access::Write))
    }

    /// Save or restore a snapshot (`acl:write`).
    fn snapshot(&self) -> bool {
        self.allows(Permission::snapshot())
    }

    /// `agent:read` on the agent of `node`.
    fn agent_read(&self, node: &str) -> bool {
        self.allows(Permission::agent(Access::Read, node))
    }

    /// `agent:write` on the agent of `node`.
    fn agent_write(&self, node: &str) -> bool {
        self.allows(Permission::agent(Access::Write, node))
    }

    /// `event:read` on event `name`.
    fn event_read(&self, name: &str) -> bool {
        self.allows(Permission::event(Access::Read, name))
    }

    /// `event:write` (fire) on event `name`.
    fn event_write(&self, name: &str) -> bool {
        self.allows(Permission::event(Access::Write, name))
    }

    /// `identity:read` on workload identity `name`.
    fn identity_read(&self, name: &str) -> bool {
        self.allows(Permission::identity(Access::Read, name))
    }

    /// `identity:write` on workload identity `name`.
    fn identity_write(&self, name: &str) -> bool {
        self.allows(Permission::identity(Access::Write, name))
    }

    /// `intention:read` on intentions to `service` (`*`: any intention).
    fn intention_read(&self, service: &str) -> bool {
        self.allows(Permission::intention(Access::Read, service))
    }

    /// `intention:write` on intentions to `service` (`*`: every intention).
    fn intention_write(&self, service: &str) -> bool {
        self.allows(Permission::intention(Access::Write, service))
    }

    /// `key:read` on `key`.
    fn key_read(&self, key: &str) -> bool {
        self.allows(Permission::key(Access::Read, key))
    }

    /// `key:list` on `prefix` (`?keys`, `?recurse` with `enable_key_list_policy`).
    fn key_list(&self, prefix: &str) -> bool {
        self.allows(Permission::key(Access::List, prefix))
    }

    /// `key:write` on `key`.
    fn key_write(&self, key: &str) -> bool {
        self.allows(Permission::key(Access::Write, key))
    }

    /// `key:write` on everything under `prefix` (recursive delete).
    fn key_write_prefix(&self, prefix: &str) -> bool {
        self.allows(Permission::key_write_prefix(prefix))
    }

    /// `keyring:read`.
    fn keyring_read(&self) -> bool {
        self.allows(Permission::keyring(Access::Read))
    }

    /// `keyring:write`.
    fn keyring_write(&self) -> bool {
        self.allows(Permission::keyring(Access::Write))
    }

    /// `mesh:read` (or `operator:read` without a mesh rule).
    fn mesh_read(&self) -> bool {
        self.allows(Permission::mesh(Access::Read))
    }

    /// `mesh:write` (or `operator:write` without a mesh rule).
    fn mesh_write(&self) -> bool {
        self.allows(Permission::mesh(Access::Write))
    }

    /// `node:read` on node `name`.
    fn node_read(&self, name: &str) -> bool {
        self.allows(Permission::node(Access::Read, name))
    }

    /// `node:read` on every node.
    fn node_read_all(&self) -> bool {
        self.allows(Permission::node_read_all())
    }

    /// `node:write` on node `name`.
    fn node_write(&self, name: &str) -> bool {
        self.allows(Permission::node(Access::Write, name))
    }

    /// `operator:read`.
    fn operator_read(&self) -> bool {
        self.allows(Permission::operator(Access::Read))
    }

    /// `operator:write`.
    fn operator_write(&self) -> bool {
        self.allows(Permission::operator(Access::Write))
    }

    /// `peering:read` (or `operator:read` without a peering rule).
    fn peering_read(&self) -> bool {
        self.allows(Permission::peering(Access::Read))
    }

    /// `peering:write` (or `operator:write` without a peering rule).
    fn peering_write(&self) -> bool {
        self.allows(Permission::peering(Access::Write))
    }

    /// `query:read` on prepared query `name`.
    fn query_read(&self, name: &str) -> bool {
        self.allows(Permission::query(Access::Read, name))
    }

    /// `query:write` on prepared query `name`.
    fn query_write(&self, name: &str) -> bool {
        self.allows(Permission::query(Access::Write, name))
    }

    /// `service:read` on service `name`.
    fn service_read(&self, name: &str) -> bool {
        self.allows(Permission::service(Access::Read, name))
    }

    /// `service:read` on every service.
    fn service_read_all(&self) -> bool {
        self.allows(Permission::service_read_all())
    }

    /// `service:write` on service `name`.
    fn service_write(&self, name: &str) -> bool {
        self.allows(Permission::service(Access::Write, name))
    }

    /// `service:write` on at least one service.
    fn service_write_any(&self) -> bool {
        self.allows(Permission::service_write_any())
    }

    /// `session:read` on sessions of node `node`.
    fn session_read(&self, node: &str) -> bool {
        self.allows(Permission::session(Access::Read, node))
    }

    /// `session:write` on sessions of node `node`.
    fn session_write(&self, node: &str) -> bool {
        self.allows(Permission::session(Access::Write, node))
    }
}
