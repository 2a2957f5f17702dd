//! The `Hash` of tokens, policies and roles: a SHA-256 over the fields that decide what
//! they grant, each length-prefixed so that no two different contents collide by
//! concatenation. Clients treat it as opaque (Consul uses BLAKE2b over similar fields).

use proconsul_api::acl::{
    AclLink, AclNodeIdentity, AclPolicy, AclRole, AclServiceIdentity, AclTemplatedPolicy, AclToken,
};
use sha2::{Digest, Sha256};

struct Hasher(Sha256);

impl Hasher {
    fn new() -> Hasher {
        Hasher(Sha256::new())
    }

    fn field(&mut self, text: &str) -> &mut Hasher {
        self.0.update((text.len() as u64).to_be_bytes());
        self.0.update(text.as_bytes());
        self
    }

    fn list<T>(&mut self, items: &[T], mut each: impl FnMut(&mut Hasher, &T)) -> &mut Hasher {
        self.0.update((items.len() as u64).to_be_bytes());
        for item in items {
            each(self, item);
        }
        self
    }

    fn links(&mut self, links: &[AclLink]) -> &mut Hasher {
        self.list(links, |h, link| {
            h.field(&link.id);
        })
    }

    fn identities(
        &mut self,
        services: &[AclServiceIdentity],
        nodes: &[AclNodeIdentity],
        templated: &[AclTemplatedPolicy],
    ) -> &mut Hasher {
        self.list(services, |h, identity| {
            h.field(&identity.service_name)
                .list(&identity.datacenters, |h, dc| {
                    h.field(dc);
                });
        })
        .list(nodes, |h, identity| {
            h.field(&identity.node_name).field(&identity.datacenter);
        })
        .list(templated, |h, policy| {
            let name = policy.template_variables.as_ref().map(|v| v.name.as_str());
            h.field(&policy.template_name)
                .field(name.unwrap_or_default())
                .list(&policy.datacenters, |h, dc| {
                    h.field(dc);
                });
        })
    }

    fn finish(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.0).finalize().to_vec()
    }
}

/// A token's hash: description, locality, links and identities.
pub(super) fn token_hash(token: &AclToken) -> Vec<u8> {
    Hasher::new()
        .field(&token.description)
        .field(if token.local { "local" } else { "global" })
        .links(&token.policies)
        .links(&token.roles)
        .identities(
            &token.service_identities,
            &token.node_identities,
            &token.templated_policies,
        )
        .finish()
}

/// A policy's hash: name, description, rules and datacenters.
pub(super) fn policy_hash(policy: &AclPolicy) -> Vec<u8> {
    Hasher::new()
        .field(&policy.name)
        .field(&policy.description)
        .field(&policy.rules)
        .list(&policy.datacenters, |h, dc| {
            h.field(dc);
        })
        .finish()
}

/// A role's hash: name, description, policy links and identities.
pub(super) fn role_hash(role: &AclRole) -> Vec<u8> {
    Hasher::new()
        .field(&role.name)
        .field(&role.description)
        .links(&role.policies)
        .identities(
            &role.service_identities,
            &role.node_identities,
            &role.templated_policies,
        )
        .finish()
}
