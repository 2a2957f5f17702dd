//! Backup files (`GET`/`PUT /v1/snapshot`, `proconsul snapshot save|restore|inspect`):
//! a state snapshot with a header that lets a file be checked before anything is
//! restored from it.
//!
//! Layout: `PCBACKUP` magic, format version (u32 BE), the Raft index the state was
//! taken at (u64 BE), the SHA-256 of the snapshot (32 bytes), the snapshot length (u64
//! BE), then the snapshot ([`State::to_snapshot`]). A truncated, altered or foreign
//! file is refused with the reason, and nothing is changed.

use sha2::{Digest, Sha256};

use crate::command::CommandOutcome;
use crate::snapshot::SnapshotError;
use crate::state::{State, Table};

const MAGIC: &[u8; 8] = b"PCBACKUP";
const VERSION: u32 = 1;
const HEADER: usize = 8 + 4 + 8 + 32 + 8;

/// What a backup file says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupMeta {
    pub version: u32,
    /// The last Raft index included.
    pub index: u64,
    /// The SHA-256 of the snapshot, hex.
    pub sha256: String,
    /// The snapshot's size in bytes.
    pub size: u64,
}

/// Why a backup file was refused.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("not a Proconsul snapshot file")]
    NotABackup,
    #[error("unsupported snapshot format version {0}")]
    Version(u32),
    #[error("the snapshot file is truncated ({have} of {want} bytes)")]
    Truncated { have: usize, want: usize },
    #[error("the snapshot file is corrupt: its checksum does not match")]
    Checksum,
    #[error("the snapshot file is corrupt: {0}")]
    Snapshot(#[from] SnapshotError),
    #[error("the snapshot archive is unreadable: {0}")]
    Archive(String),
}

impl State {
    /// The whole state as a backup file.
    pub fn to_backup(&self) -> Vec<u8> {
        let snapshot = self.to_snapshot();
        let mut bytes = Vec::with_capacity(HEADER + snapshot.len());
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&VERSION.to_be_bytes());
        bytes.extend_from_slice(&self.last_applied.to_be_bytes());
        bytes.extend_from_slice(&Sha256::digest(&snapshot));
        bytes.extend_from_slice(&(snapshot.len() as u64).to_be_bytes());
        bytes.extend_from_slice(&snapshot);
        bytes
    }

    /// Checks a backup file and decodes the state in it.
    pub fn from_backup(bytes: &[u8]) -> Result<(BackupMeta, State), BackupError> {
        let (meta, snapshot) = split(bytes)?;
        let state = State::from_snapshot(snapshot)?;
        Ok((meta, state))
    }

    /// `PUT /v1/snapshot` applied at `index`: the state becomes the backup's, and
    /// every index moves to `index` so that blocking queries see the change.
    pub(crate) fn apply_restore(&mut self, index: u64, backup: &[u8]) -> CommandOutcome {
        let mut restored = match State::from_backup(backup) {
            Ok((_, state)) => state,
            Err(error) => return CommandOutcome::Rejected(error.to_string()),
        };
        restored.last_applied = index;
        for table in Table::ALL {
            restored.table_indexes.bump(table, index);
        }
        let names: Vec<_> = restored.instances_by_name.keys().cloned().collect();
        for name in names {
            restored.service_indexes.insert(name, index);
        }
        *self = restored;
        CommandOutcome::Done
    }
}

fn split(bytes: &[u8]) -> Result<(BackupMeta, &[u8]), BackupError> {
    if bytes.len() < HEADER {
        return Err(
            if bytes.starts_with(&MAGIC[..bytes.len().min(8)]) && !bytes.is_empty() {
                BackupError::Truncated {
                    have: bytes.len(),
                    want: HEADER,
                }
            } else {
                BackupError::NotABackup
            },
        );
    }
    if &bytes[..8] != MAGIC {
        return Err(BackupError::NotABackup);
    }
    let number = |range: std::ops::Range<usize>| {
        bytes[range]
            .iter()
            .fold(0u64, |value, byte| (value << 8) | u64::from(*byte))
    };
    let version = number(8..12) as u32;
    if version != VERSION {
        return Err(BackupError::Version(version));
    }
    let index = number(12..20);
    let checksum = &bytes[20..52];
    let size = number(52..60);
    let snapshot = &bytes[HEADER..];
    let want = HEADER + usize::try_from(size).unwrap_or(usize::MAX);
    if bytes.len() != want {
        return Err(BackupError::Truncated {
            have: bytes.len(),
            want,
        });
    }
    if Sha256::digest(snapshot).as_slice() != checksum {
        return Err(BackupError::Checksum);
    }
    let sha256 = crate::archive::hex(checksum);
    Ok((
        BackupMeta {
            version,
            index,
            sha256,
            size,
        },
        snapshot,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::{Command, KvCommand, KvOp};

    fn state_with_keys() -> State {
        let mut state = State::default();
        for i in 0..5u64 {
            state.apply(
                i + 1,
                &Command::Kv(KvCommand {
                    op: KvOp::Set,
                    key: format!("k{i}"),
                    value: b"v".to_vec(),
                    flags: 0,
                    cas: None,
                }),
            );
        }
        state
    }

    #[test]
    fn backups_round_trip_and_damage_is_refused() {
        let state = state_with_keys();
        let backup = state.to_backup();
        let (meta, restored) = State::from_backup(&backup).unwrap();
        assert_eq!(meta.index, 5);
        assert_eq!(restored, state);
        assert!(matches!(
            State::from_backup(&backup[..backup.len() - 1]),
            Err(BackupError::Truncated { .. })
        ));
        assert!(matches!(
            State::from_backup(&backup[..30]),
            Err(BackupError::Truncated { .. })
        ));
        let mut flipped = backup.clone();
        let last = flipped.len() - 3;
        flipped[last] ^= 0x40;
        assert!(matches!(
            State::from_backup(&flipped),
            Err(BackupError::Checksum)
        ));
        assert!(matches!(
            State::from_backup(b"hello world"),
            Err(BackupError::NotABackup)
        ));
    }

    #[test]
    fn a_restore_replaces_the_state_and_moves_every_index() {
        let saved = state_with_keys();
        let backup = saved.to_backup();
        let mut state = saved.clone();
        state.apply(
            6,
            &Command::Kv(KvCommand {
                op: KvOp::Set,
                key: "new".into(),
                value: vec![],
                flags: 0,
                cas: None,
            }),
        );
        assert_eq!(
            state.apply(7, &Command::Restore(backup)),
            CommandOutcome::Done
        );
        assert!(state.kv_get("new").is_none());
        assert_eq!(state.kv_list(""), saved.kv_list(""));
        assert_eq!(state.table_indexes().kvs, 7);
        assert_eq!(state.last_applied(), 7);
        assert!(matches!(
            state.apply(8, &Command::Restore(b"junk".to_vec())),
            CommandOutcome::Rejected(_)
        ));
        assert_eq!(
            state.kv_list(""),
            saved.kv_list(""),
            "a bad restore changes nothing"
        );
    }
}
