//! Transactions (`PUT /v1/txn`): up to 128 KV, node, service and check operations that
//! apply all together or not at all. The operations run on a clone of the state (O(1)
//! with imbl); the clone replaces the state only when every operation succeeded, and
//! the errors of all failed operations are reported otherwise, as Consul does.

use std::sync::Arc;

use proconsul_api::{
    AgentService, CatalogDeregistration, CatalogRegistration, HealthCheck, KvPair, Node,
};
use serde::{Deserialize, Serialize};

use crate::command::{CommandOutcome, KvCommand, KvOp};
use crate::state::State;

/// One operation of a transaction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum TxnOp {
    Kv {
        verb: KvVerb,
        key: String,
        value: Vec<u8>,
        flags: u64,
        /// The index `cas`, `check-index` and `delete-cas` compare with.
        index: u64,
        /// The session `lock`, `unlock` and `check-session` use.
        session: String,
    },
    Node {
        verb: CatalogVerb,
        node: Node,
    },
    Service {
        verb: CatalogVerb,
        node: String,
        service: AgentService,
    },
    Check {
        verb: CatalogVerb,
        check: HealthCheck,
    },
}

/// Consul's KV verbs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KvVerb {
    Set,
    Cas,
    Lock,
    Unlock,
    Get,
    GetOrEmpty,
    GetTree,
    CheckIndex,
    CheckSession,
    CheckNotExists,
    Delete,
    DeleteTree,
    DeleteCas,
}

impl KvVerb {
    /// The verb named as in Consul's API (`get-tree`, `delete-cas`, ...).
    pub fn parse(name: &str) -> Option<KvVerb> {
        Some(match name {
            "set" => KvVerb::Set,
            "cas" => KvVerb::Cas,
            "lock" => KvVerb::Lock,
            "unlock" => KvVerb::Unlock,
            "get" => KvVerb::Get,
            "get-or-empty" => KvVerb::GetOrEmpty,
            "get-tree" => KvVerb::GetTree,
            "check-index" => KvVerb::CheckIndex,
            "check-session" => KvVerb::CheckSession,
            "check-not-exists" => KvVerb::CheckNotExists,
            "delete" => KvVerb::Delete,
            "delete-tree" => KvVerb::DeleteTree,
            "delete-cas" => KvVerb::DeleteCas,
            _ => return None,
        })
    }

    /// Whether the verb only reads.
    pub fn is_read(self) -> bool {
        matches!(
            self,
            KvVerb::Get
                | KvVerb::GetOrEmpty
                | KvVerb::GetTree
                | KvVerb::CheckIndex
                | KvVerb::CheckSession
                | KvVerb::CheckNotExists
        )
    }
}

/// The node, service and check verbs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CatalogVerb {
    Set,
    Cas,
    Get,
    Delete,
    DeleteCas,
}

impl CatalogVerb {
    /// The verb named as in Consul's API.
    pub fn parse(name: &str) -> Option<CatalogVerb> {
        Some(match name {
            "set" => CatalogVerb::Set,
            "cas" => CatalogVerb::Cas,
            "get" => CatalogVerb::Get,
            "delete" => CatalogVerb::Delete,
            "delete-cas" => CatalogVerb::DeleteCas,
            _ => return None,
        })
    }
}

impl TxnOp {
    /// Whether the operation only reads (a transaction of reads needs no Raft write).
    pub fn is_read(&self) -> bool {
        match self {
            TxnOp::Kv { verb, .. } => verb.is_read(),
            TxnOp::Node { verb, .. } | TxnOp::Service { verb, .. } | TxnOp::Check { verb, .. } => {
                *verb == CatalogVerb::Get
            }
        }
    }
}

/// One result of a transaction. Written KV entries come back without their value, as
/// in Consul.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TxnResult {
    Kv(KvPair),
    Node(Node),
    Service(AgentService),
    Check(HealthCheck),
}

/// Why an operation failed, by its position in the transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxnError {
    pub op_index: usize,
    pub what: String,
}

impl State {
    pub(crate) fn apply_txn(&mut self, index: u64, ops: &[TxnOp]) -> CommandOutcome {
        let mut work = self.clone();
        let mut results = Vec::new();
        let mut errors = Vec::new();
        for (op_index, op) in ops.iter().enumerate() {
            match work.txn_op(index, op) {
                Ok(mut produced) => results.append(&mut produced),
                Err(what) => errors.push(TxnError { op_index, what }),
            }
        }
        if !errors.is_empty() {
            return CommandOutcome::Txn(Err(errors));
        }
        *self = work;
        CommandOutcome::Txn(Ok(results))
    }

    /// Runs a transaction of reads against this state without changing it.
    pub fn read_txn(&self, ops: &[TxnOp]) -> CommandOutcome {
        let mut copy = self.clone();
        copy.apply_txn(self.last_applied, ops)
    }

    fn txn_op(&mut self, index: u64, op: &TxnOp) -> Result<Vec<TxnResult>, String> {
        match op {
            TxnOp::Kv {
                verb,
                key,
                value,
                flags,
                index: wanted,
                session,
            } => self.txn_kv(index, *verb, key, value, *flags, *wanted, session),
            TxnOp::Node { verb, node } => self.txn_node(index, *verb, node),
            TxnOp::Service {
                verb,
                node,
                service,
            } => self.txn_service(index, *verb, node, service),
            TxnOp::Check { verb, check } => self.txn_check(index, *verb, check),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn txn_kv(
        &mut self,
        index: u64,
        verb: KvVerb,
        key: &str,
        value: &[u8],
        flags: u64,
        wanted: u64,
        session: &str,
    ) -> Result<Vec<TxnResult>, String> {
        let current = self.kv_get(key).cloned();
        let missing = || format!("key {key:?} doesn't exist");
        let (op, cas, failure) = match verb {
            KvVerb::Get => {
                let entry = current.ok_or_else(missing)?;
                return Ok(vec![TxnResult::Kv((*entry).clone())]);
            }
            KvVerb::GetOrEmpty => {
                return Ok(current
                    .map(|entry| TxnResult::Kv((*entry).clone()))
                    .into_iter()
                    .collect());
            }
            KvVerb::GetTree => {
                return Ok(self
                    .kv_list(key)
                    .into_iter()
                    .map(|entry| TxnResult::Kv((*entry).clone()))
                    .collect());
            }
            KvVerb::CheckIndex => {
                let entry = current.ok_or_else(missing)?;
                if entry.modify_index != wanted {
                    return Err(format!(
                        "current modify index {} != {wanted}",
                        entry.modify_index
                    ));
                }
                return Ok(vec![TxnResult::Kv(without_value(&entry))]);
            }
            KvVerb::CheckSession => {
                let entry = current.ok_or_else(missing)?;
                let holder = entry.session.as_deref().unwrap_or("");
                if holder != session {
                    return Err(format!("current session {holder:?} != {session:?}"));
                }
                return Ok(vec![TxnResult::Kv(without_value(&entry))]);
            }
            KvVerb::CheckNotExists => {
                if current.is_some() {
                    return Err(format!("key {key:?} exists"));
                }
                return Ok(Vec::new());
            }
            KvVerb::Set => (KvOp::Set, None, String::new()),
            KvVerb::Cas => (
                KvOp::Set,
                Some(wanted),
                format!("failed to set key {key:?}, index is stale"),
            ),
            KvVerb::Lock => (
                KvOp::Acquire(session.to_string()),
                None,
                format!("failed to lock key {key:?}, lock is already held"),
            ),
            KvVerb::Unlock => (
                KvOp::Release(session.to_string()),
                None,
                format!(
                    "failed to unlock key {key:?}, lock isn't held, or is held by another session"
                ),
            ),
            KvVerb::Delete => (KvOp::Delete, None, String::new()),
            KvVerb::DeleteTree => (KvOp::DeleteTree, None, String::new()),
            KvVerb::DeleteCas => (
                KvOp::Delete,
                Some(wanted),
                format!("failed to delete key {key:?}, index is stale"),
            ),
        };
        let deletes = matches!(op, KvOp::Delete | KvOp::DeleteTree);
        let command = KvCommand {
            op,
            key: key.to_string(),
            value: value.to_vec(),
            flags,
            cas,
        };
        if verb == KvVerb::Lock && session.is_empty() {
            return Err(format!("failed to lock key {key:?}: missing session"));
        }
        match self.apply_kv(index, &command) {
            CommandOutcome::Applied(false) => Err(failure),
            CommandOutcome::Rejected(reason) if verb == KvVerb::Lock => {
                Err(format!("failed to lock key {key:?}: {reason}"))
            }
            CommandOutcome::Rejected(reason) => Err(reason),
            _ if deletes => Ok(Vec::new()),
            _ => Ok(self
                .kv_get(key)
                .map(|entry| TxnResult::Kv(without_value(entry)))
                .into_iter()
                .collect()),
        }
    }

    fn txn_node(
        &mut self,
        index: u64,
        verb: CatalogVerb,
        node: &Node,
    ) -> Result<Vec<TxnResult>, String> {
        let current = self.node(&node.node).cloned();
        let missing = || format!("node {:?} doesn't exist", node.node);
        check_cas(
            verb,
            current.as_ref().map(|n| n.modify_index),
            node.modify_index,
            "node",
            &node.node,
        )?;
        match verb {
            CatalogVerb::Get => Ok(vec![TxnResult::Node(
                (*current.ok_or_else(missing)?).clone(),
            )]),
            CatalogVerb::Set | CatalogVerb::Cas => {
                let registration = CatalogRegistration {
                    id: node.id.clone(),
                    node: node.node.clone(),
                    address: node.address.clone(),
                    datacenter: node.datacenter.clone(),
                    tagged_addresses: node.tagged_addresses.clone(),
                    node_meta: node.meta.clone(),
                    ..CatalogRegistration::default()
                };
                rejected(self.apply_register(index, &registration))?;
                Ok(self
                    .node(&node.node)
                    .map(|n| TxnResult::Node((**n).clone()))
                    .into_iter()
                    .collect())
            }
            CatalogVerb::Delete | CatalogVerb::DeleteCas => {
                let deregistration = CatalogDeregistration {
                    node: node.node.clone(),
                    ..CatalogDeregistration::default()
                };
                rejected(self.apply_deregister(index, &deregistration))?;
                Ok(Vec::new())
            }
        }
    }

    fn txn_service(
        &mut self,
        index: u64,
        verb: CatalogVerb,
        node: &str,
        service: &AgentService,
    ) -> Result<Vec<TxnResult>, String> {
        if self.node(node).is_none() {
            return Err(format!("node {node:?} doesn't exist"));
        }
        let current = self.node_service(node, &service.id).cloned();
        check_cas(
            verb,
            current.as_ref().map(|s| s.modify_index),
            service.modify_index,
            "service",
            &service.id,
        )?;
        match verb {
            CatalogVerb::Get => current
                .map(|s| vec![TxnResult::Service((*s).clone())])
                .ok_or_else(|| format!("service {:?} doesn't exist on node {node:?}", service.id)),
            CatalogVerb::Set | CatalogVerb::Cas => {
                let registration = CatalogRegistration {
                    node: node.to_string(),
                    skip_node_update: true,
                    service: Some(service.clone()),
                    ..CatalogRegistration::default()
                };
                rejected(self.apply_register(index, &registration))?;
                Ok(self
                    .node_service(node, &service.id)
                    .map(|s| TxnResult::Service((**s).clone()))
                    .into_iter()
                    .collect())
            }
            CatalogVerb::Delete | CatalogVerb::DeleteCas => {
                let deregistration = CatalogDeregistration {
                    node: node.to_string(),
                    service_id: service.id.clone(),
                    ..CatalogDeregistration::default()
                };
                rejected(self.apply_deregister(index, &deregistration))?;
                Ok(Vec::new())
            }
        }
    }

    fn txn_check(
        &mut self,
        index: u64,
        verb: CatalogVerb,
        check: &HealthCheck,
    ) -> Result<Vec<TxnResult>, String> {
        if self.node(&check.node).is_none() {
            return Err(format!("node {:?} doesn't exist", check.node));
        }
        let current = self.check(&check.node, &check.check_id).cloned();
        check_cas(
            verb,
            current.as_ref().map(|c| c.modify_index),
            check.modify_index,
            "check",
            &check.check_id,
        )?;
        match verb {
            CatalogVerb::Get => current
                .map(|c| vec![TxnResult::Check((*c).clone())])
                .ok_or_else(|| {
                    format!(
                        "check {:?} doesn't exist on node {:?}",
                        check.check_id, check.node
                    )
                }),
            CatalogVerb::Set | CatalogVerb::Cas => {
                let registration = CatalogRegistration {
                    node: check.node.clone(),
                    skip_node_update: true,
                    check: Some(check.clone()),
                    ..CatalogRegistration::default()
                };
                rejected(self.apply_register(index, &registration))?;
                Ok(self
                    .check(&check.node, &check.check_id)
                    .map(|c| TxnResult::Check((**c).clone()))
                    .into_iter()
                    .collect())
            }
            CatalogVerb::Delete | CatalogVerb::DeleteCas => {
                let deregistration = CatalogDeregistration {
                    node: check.node.clone(),
                    check_id: check.check_id.clone(),
                    ..CatalogDeregistration::default()
                };
                rejected(self.apply_deregister(index, &deregistration))?;
                Ok(Vec::new())
            }
        }
    }
}

/// `cas` and `delete-cas`: the entry's ModifyIndex must be the one given (0: absent).
fn check_cas(
    verb: CatalogVerb,
    current: Option<u64>,
    wanted: u64,
    kind: &str,
    name: &str,
) -> Result<(), String> {
    if !matches!(verb, CatalogVerb::Cas | CatalogVerb::DeleteCas) {
        return Ok(());
    }
    let holds = match current {
        None => wanted == 0 && verb == CatalogVerb::Cas,
        Some(index) => index == wanted,
    };
    if holds {
        Ok(())
    } else {
        Err(format!("failed to set {kind} {name:?}, index is stale"))
    }
}

fn rejected(outcome: CommandOutcome) -> Result<(), String> {
    match outcome {
        CommandOutcome::Rejected(reason) => Err(reason),
        _ => Ok(()),
    }
}

fn without_value(entry: &Arc<KvPair>) -> KvPair {
    KvPair {
        value: None,
        ..(**entry).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::Command;

    fn kv(verb: KvVerb, key: &str, value: &str, index: u64) -> TxnOp {
        TxnOp::Kv {
            verb,
            key: key.into(),
            value: value.as_bytes().to_vec(),
            flags: 0,
            index,
            session: String::new(),
        }
    }

    fn results(outcome: CommandOutcome) -> Vec<TxnResult> {
        match outcome {
            CommandOutcome::Txn(Ok(results)) => results,
            other => panic!("not a successful transaction: {other:?}"),
        }
    }

    #[test]
    fn all_or_nothing() {
        let mut state = State::default();
        let ok = state.apply(
            1,
            &Command::Txn(vec![
                kv(KvVerb::Set, "a", "1", 0),
                kv(KvVerb::Set, "b", "2", 0),
                kv(KvVerb::Get, "a", "", 0),
            ]),
        );
        let produced = results(ok);
        assert_eq!(produced.len(), 3);
        let TxnResult::Kv(written) = &produced[0] else {
            panic!()
        };
        assert_eq!(
            (written.value.clone(), written.modify_index),
            (None, 1),
            "writes come back without values"
        );
        let TxnResult::Kv(read) = &produced[2] else {
            panic!()
        };
        assert_eq!(read.value.as_deref(), Some(&b"1"[..]));

        let before = state.clone();
        let failed = state.apply(
            2,
            &Command::Txn(vec![
                kv(KvVerb::Set, "c", "3", 0),
                kv(KvVerb::Cas, "a", "x", 99),
                kv(KvVerb::Get, "missing", "", 0),
                kv(KvVerb::CheckNotExists, "b", "", 0),
            ]),
        );
        let CommandOutcome::Txn(Err(errors)) = failed else {
            panic!("{failed:?}")
        };
        let indexes: Vec<usize> = errors.iter().map(|e| e.op_index).collect();
        assert_eq!(indexes, [1, 2, 3]);
        assert_eq!(errors[0].what, "failed to set key \"a\", index is stale");
        assert!(state.kv_get("c").is_none(), "nothing applied");
        assert_eq!(state.kv_list(""), before.kv_list(""));
    }

    #[test]
    fn checks_trees_deletes_and_catalog_ops() {
        let mut state = State::default();
        results(state.apply(
            1,
            &Command::Txn(vec![
                kv(KvVerb::Set, "t/1", "a", 0),
                kv(KvVerb::Set, "t/2", "b", 0),
                TxnOp::Node {
                    verb: CatalogVerb::Set,
                    node: Node {
                        node: "n1".into(),
                        address: "10.0.0.1".into(),
                        ..Node::default()
                    },
                },
                TxnOp::Service {
                    verb: CatalogVerb::Set,
                    node: "n1".into(),
                    service: AgentService {
                        id: "web1".into(),
                        service: "web".into(),
                        ..AgentService::default()
                    },
                },
            ]),
        ));
        assert_eq!(state.catalog_service("web").len(), 1);
        let tree = results(state.read_txn(&[
            kv(KvVerb::GetTree, "t/", "", 0),
            kv(KvVerb::CheckIndex, "t/1", "", 1),
        ]));
        assert_eq!(tree.len(), 3);
        let stale = state.read_txn(&[kv(KvVerb::CheckIndex, "t/1", "", 7)]);
        assert!(matches!(stale, CommandOutcome::Txn(Err(_))));
        results(state.apply(
            2,
            &Command::Txn(vec![
                kv(KvVerb::DeleteCas, "t/1", "", 1),
                kv(KvVerb::DeleteTree, "t/", "", 0),
                TxnOp::Service {
                    verb: CatalogVerb::Delete,
                    node: "n1".into(),
                    service: AgentService {
                        id: "web1".into(),
                        ..AgentService::default()
                    },
                },
            ]),
        ));
        assert!(state.kv_list("t/").is_empty());
        assert!(state.catalog_service("web").is_empty());
        let missing = state.apply(
            3,
            &Command::Txn(vec![TxnOp::Node {
                verb: CatalogVerb::Get,
                node: Node {
                    node: "zz".into(),
                    ..Node::default()
                },
            }]),
        );
        let CommandOutcome::Txn(Err(errors)) = missing else {
            panic!()
        };
        assert_eq!(errors[0].what, "node \"zz\" doesn't exist");
    }

    /// Consul's texts for a lock without a session and with an unknown one (clients
    /// look for "missing session").
    #[test]
    fn lock_errors_name_the_key_and_the_session_problem() {
        let mut state = State::default();
        let CommandOutcome::Txn(Err(errors)) =
            state.apply(1, &Command::Txn(vec![kv(KvVerb::Lock, "k", "v", 0)]))
        else {
            panic!("a lock without a session must fail")
        };
        assert_eq!(errors[0].what, "failed to lock key \"k\": missing session");
        let mut op = kv(KvVerb::Lock, "k", "v", 0);
        if let TxnOp::Kv { session, .. } = &mut op {
            *session = "nope".into();
        }
        let CommandOutcome::Txn(Err(errors)) = state.apply(2, &Command::Txn(vec![op])) else {
            panic!("a lock with an unknown session must fail")
        };
        assert_eq!(
            errors[0].what,
            "failed to lock key \"k\": invalid session \"nope\""
        );
        assert!(state.kv_get("k").is_none());
    }
}
