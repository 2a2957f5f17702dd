//! `Permission`: one thing a request needs (`service:write` on `web`), used both to ask
//! the authorizer and to word the denial, so the two cannot disagree.

use crate::access::Access;
use crate::resource::Resource;

/// What a permission is about, beyond its resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Target<'a> {
    /// A resource without names (`acl`, `operator`, `keyring`, `mesh`, `peering`).
    Global,
    /// One name (a key, a service, a node...).
    Name(&'a str),
    /// Everything under a key prefix (recursive KV delete).
    Subtree(&'a str),
    /// Every name of the resource (`service:read` on all services).
    EveryName,
    /// At least one name of the resource (`service:write` on some service).
    SomeName,
}

/// One permission a request needs.
///
/// Build it with the constructor for the resource, ask [`crate::Authorizer::allows`] (to
/// filter) or [`crate::Authorizer::require`] (to refuse with Consul's text).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Permission<'a> {
    pub(crate) resource: Resource,
    pub(crate) access: Access,
    pub(crate) target: Target<'a>,
}

impl<'a> Permission<'a> {
    const fn global(resource: Resource, access: Access) -> Permission<'a> {
        Permission {
            resource,
            access,
            target: Target::Global,
        }
    }

    const fn named(resource: Resource, access: Access, name: &'a str) -> Permission<'a> {
        Permission {
            resource,
            access,
            target: Target::Name(name),
        }
    }

    /// `acl:read` / `acl:write`: the ACL endpoints.
    pub const fn acl(access: Access) -> Permission<'a> {
        Permission::global(Resource::Acl, access)
    }

    /// Taking or restoring a snapshot, which Consul checks as `acl:write` because a
    /// snapshot holds every token secret.
    pub const fn snapshot() -> Permission<'a> {
        Permission::global(Resource::Acl, Access::Write)
    }

    /// `operator:read` / `operator:write`.
    pub const fn operator(access: Access) -> Permission<'a> {
        Permission::global(Resource::Operator, access)
    }

    /// `keyring:read` / `keyring:write`.
    pub const fn keyring(access: Access) -> Permission<'a> {
        Permission::global(Resource::Keyring, access)
    }

    /// `mesh:read` / `mesh:write` (decided by the `operator` rule when there is no
    /// `mesh` rule).
    pub const fn mesh(access: Access) -> Permission<'a> {
        Permission::global(Resource::Mesh, access)
    }

    /// `peering:read` / `peering:write` (decided by the `operator` rule when there is no
    /// `peering` rule).
    pub const fn peering(access: Access) -> Permission<'a> {
        Permission::global(Resource::Peering, access)
    }

    /// `agent:<access>` on the agent of node `node`.
    pub const fn agent(access: Access, node: &'a str) -> Permission<'a> {
        Permission::named(Resource::Agent, access, node)
    }

    /// `event:<access>` on user event `name`.
    pub const fn event(access: Access, name: &'a str) -> Permission<'a> {
        Permission::named(Resource::Event, access, name)
    }

    /// `identity:<access>` on workload identity `name`.
    pub const fn identity(access: Access, name: &'a str) -> Permission<'a> {
        Permission::named(Resource::Identity, access, name)
    }

    /// `intention:<access>` on intentions whose destination is `service`. The name `*`
    /// means all intentions: reading needs some grant, writing needs grants on all.
    pub const fn intention(access: Access, service: &'a str) -> Permission<'a> {
        Permission::named(Resource::Intention, access, service)
    }

    /// `key:<access>` on one key (`list` for recursive reads and `?keys`).
    pub const fn key(access: Access, key: &'a str) -> Permission<'a> {
        Permission::named(Resource::Key, access, key)
    }

    /// `key:write` on every key under `prefix` (recursive delete): Consul's
    /// `KeyWritePrefix`, which also fails if any rule under the prefix is not `write`.
    pub const fn key_write_prefix(prefix: &'a str) -> Permission<'a> {
        Permission {
            resource: Resource::Key,
            access: Access::Write,
            target: Target::Subtree(prefix),
        }
    }

    /// `node:<access>` on node `name`.
    pub const fn node(access: Access, name: &'a str) -> Permission<'a> {
        Permission::named(Resource::Node, access, name)
    }

    /// `node:read` on every node (reading imported nodes).
    pub const fn node_read_all() -> Permission<'a> {
        Permission {
            resource: Resource::Node,
            access: Access::Read,
            target: Target::EveryName,
        }
    }

    /// `query:<access>` on prepared query `name`.
    pub const fn query(access: Access, name: &'a str) -> Permission<'a> {
        Permission::named(Resource::Query, access, name)
    }

    /// `service:<access>` on service `name`.
    pub const fn service(access: Access, name: &'a str) -> Permission<'a> {
        Permission::named(Resource::Service, access, name)
    }

    /// `service:read` on every service (reading imported services).
    pub const fn service_read_all() -> Permission<'a> {
        Permission {
            resource: Resource::Service,
            access: Access::Read,
            target: Target::EveryName,
        }
    }

    /// `service:write` on at least one service (a token that is some service's).
    pub const fn service_write_any() -> Permission<'a> {
        Permission {
            resource: Resource::Service,
            access: Access::Write,
            target: Target::SomeName,
        }
    }

    /// `session:<access>` on sessions of node `node`.
    pub const fn session(access: Access, node: &'a str) -> Permission<'a> {
        Permission::named(Resource::Session, access, node)
    }

    /// The resource, as printed in denials.
    pub fn resource(&self) -> Resource {
        self.resource
    }

    /// The access asked for.
    pub fn access(&self) -> Access {
        self.access
    }

    /// The name the permission is about, as printed after `on` in denials (none for
    /// global resources and for "every"/"some" permissions).
    pub fn name(&self) -> Option<&'a str> {
        match self.target {
            Target::Name(name) | Target::Subtree(name) => Some(name),
            Target::Global | Target::EveryName | Target::SomeName => None,
        }
    }
}
