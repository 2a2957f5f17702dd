//! What a transaction's token may do, per operation, as Consul vets transactions: an
//! operation the token may not perform fails the whole transaction with a per-operation
//! error (409), and results the token may not read are left out of the answer.

use proconsul_acl::{Access, Authorize, Permission};
use proconsul_state::{CatalogVerb, KvVerb, TxnError, TxnOp, TxnResult};

use crate::acl::{AclRefusal, Authorizer};

/// The operations `authz` may not perform, by position. KV denials say only
/// `Permission denied`, as Consul's do; catalog denials name the token and resource.
pub fn permission_errors(authz: &Authorizer, ops: &[TxnOp]) -> Vec<TxnError> {
    ops.iter()
        .enumerate()
        .filter_map(|(op_index, op)| {
            permission_error(authz, op).map(|what| TxnError { op_index, what })
        })
        .collect()
}

fn permission_error(authz: &Authorizer, op: &TxnOp) -> Option<String> {
    let denied = |result: Result<(), AclRefusal>| result.err().map(|refusal| refusal.0);
    match op {
        TxnOp::Kv { verb, key, .. } => {
            let allowed = if verb.is_read() {
                authz.key_read(key)
            } else if *verb == KvVerb::DeleteTree {
                authz.key_write_prefix(key)
            } else {
                authz.key_write(key)
            };
            (!allowed).then(|| "Permission denied".to_string())
        }
        TxnOp::Node { verb, node } => {
            denied(authz.require(Permission::node(access(*verb), &node.node)))
        }
        TxnOp::Service { verb, service, .. } if *verb == CatalogVerb::Get => {
            denied(authz.require(Permission::service(Access::Read, &service.service)))
        }
        TxnOp::Service { service, .. } => denied(authz.require_service_write(service)),
        TxnOp::Check { verb, check } => {
            if check.service_name.is_empty() && check.service_id.is_empty() {
                denied(authz.require(Permission::node(access(*verb), &check.node)))
            } else {
                denied(authz.require(Permission::service(access(*verb), &check.service_name)))
            }
        }
    }
}

fn access(verb: CatalogVerb) -> Access {
    if verb == CatalogVerb::Get {
        Access::Read
    } else {
        Access::Write
    }
}

/// Leaves out the results `authz` may not read (a `get-tree` over keys it cannot see).
pub fn filter_results(authz: &Authorizer, results: &mut Vec<TxnResult>) {
    results.retain(|result| {
        authz.keep(match result {
            TxnResult::Kv(entry) => authz.key_read(&entry.key),
            TxnResult::Node(node) => authz.node_read(&node.node),
            TxnResult::Service(service) => authz.service_read(&service.service),
            TxnResult::Check(check) => {
                authz.node_read(&check.node)
                    && (check.service_name.is_empty() || authz.service_read(&check.service_name))
            }
        })
    });
}
