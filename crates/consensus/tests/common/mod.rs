//! Helpers shared by the consensus integration tests.

use proconsul_state::{Command, KvCommand, KvOp};

/// A plain KV write.
pub fn set(key: &str, value: &str) -> Command {
    Command::Kv(KvCommand {
        op: KvOp::Set,
        key: key.to_string(),
        value: value.as_bytes().to_vec(),
        flags: 0,
        cas: None,
    })
}
