//! Snapshot archives in Consul's container: a gzipped tar holding `meta.json`, `state.bin`
//! and `SHA256SUMS` (the SHA-256 of the other two), which is what `GET /v1/snapshot`
//! answers and `consul snapshot save` writes. Clients check the gzip magic, and
//! tooling that lists or verifies archives reads the meta and the sums; `state.bin`
//! holds a Proconsul backup file ([`crate::BackupMeta`]), not Consul's encoding, so an
//! archive moves between Proconsul agents only.
//!
//! Built and read in memory, deterministically (every timestamp in the archive is
//! zero). Reading is bounded: a member larger than the limit the caller sets is refused
//! before it is inflated further, so a small archive cannot expand into memory.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::Read;

use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::backup::{BackupError, BackupMeta};
use crate::state::State;

/// The largest backup accepted, archived or bare (and the largest archive member).
pub const MAX_BACKUP_SIZE: usize = 512 * 1024 * 1024;

/// The first two bytes of every gzip stream.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const META: &str = "meta.json";
const STATE: &str = "state.bin";
const SUMS: &str = "SHA256SUMS";

/// `meta.json`: Raft's snapshot metadata as Consul's archives carry it.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ArchiveMeta {
    version: u32,
    #[serde(rename = "ID")]
    id: String,
    index: u64,
    term: u64,
    configuration_index: u64,
    size: u64,
}

impl State {
    /// The whole state as a snapshot archive.
    pub fn to_archive(&self) -> Vec<u8> {
        let backup = self.to_backup();
        let meta = ArchiveMeta {
            version: 1,
            id: format!("proconsul-{}", self.last_applied),
            index: self.last_applied,
            term: 0,
            configuration_index: 0,
            size: backup.len() as u64,
        };
        let meta = serde_json::to_vec(&meta).unwrap_or_default();
        let sums = format!(
            "{}  {META}\n{}  {STATE}\n",
            hex(&Sha256::digest(&meta)),
            hex(&Sha256::digest(&backup))
        );
        let mut tar = tar::Builder::new(GzEncoder::new(Vec::new(), Compression::fast()));
        let members = [
            (META, meta.as_slice()),
            (STATE, backup.as_slice()),
            (SUMS, sums.as_bytes()),
        ];
        for (name, contents) in members {
            let mut header = tar::Header::new_gnu();
            header.set_size(contents.len() as u64);
            header.set_mode(0o600);
            header.set_mtime(0);
            // Writing into memory cannot fail.
            let _ = tar.append_data(&mut header, name, contents);
        }
        tar.into_inner()
            .and_then(GzEncoder::finish)
            .unwrap_or_default()
    }

    /// The backup file in `bytes`: taken out of a snapshot archive after checking its
    /// sums, or `bytes` themselves when they are a bare backup file (as older Proconsul
    /// versions wrote). No member may exceed `limit` bytes.
    pub fn backup_in(bytes: &[u8], limit: usize) -> Result<Cow<'_, [u8]>, BackupError> {
        if !bytes.starts_with(&GZIP_MAGIC) {
            return Ok(Cow::Borrowed(bytes));
        }
        let mut archive = tar::Archive::new(GzDecoder::new(bytes));
        let (mut meta, mut state, mut sums) = (None, None, None);
        let entries = archive.entries().map_err(archive_error)?;
        for entry in entries {
            let entry = entry.map_err(archive_error)?;
            let name = entry
                .path()
                .map_err(archive_error)?
                .to_string_lossy()
                .into_owned();
            let slot = match name.as_str() {
                META => &mut meta,
                STATE => &mut state,
                SUMS => &mut sums,
                _ => continue,
            };
            let mut contents = Vec::new();
            let taken = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
            entry
                .take(taken)
                .read_to_end(&mut contents)
                .map_err(archive_error)?;
            if contents.len() > limit {
                return Err(BackupError::Archive(format!(
                    "{name} is larger than {limit} bytes"
                )));
            }
            *slot = Some(contents);
        }
        // The gzip trailer (its CRC) comes after the tar's end; read to it so that a
        // damaged archive is refused.
        let mut rest = archive.into_inner();
        std::io::copy(&mut rest, &mut std::io::sink()).map_err(archive_error)?;
        let missing = |name: &str| BackupError::Archive(format!("no {name} in the archive"));
        let meta = meta.ok_or_else(|| missing(META))?;
        let state = state.ok_or_else(|| missing(STATE))?;
        let sums = sums.ok_or_else(|| missing(SUMS))?;
        let sums = String::from_utf8_lossy(&sums);
        for (name, contents) in [(META, &meta), (STATE, &state)] {
            let listed = sums.lines().find_map(|line| {
                let (sum, file) = line.split_once("  ")?;
                (file == name).then_some(sum)
            });
            if listed != Some(hex(&Sha256::digest(contents)).as_str()) {
                return Err(BackupError::Archive(format!(
                    "{name} does not match its SHA256SUMS line"
                )));
            }
        }
        Ok(Cow::Owned(state))
    }
}

impl State {
    /// Checks a saved snapshot (an archive, or a bare backup file) and decodes the state
    /// in it, with the backup's metadata.
    pub fn from_saved(bytes: &[u8]) -> Result<(BackupMeta, State), BackupError> {
        State::from_backup(&State::backup_in(bytes, MAX_BACKUP_SIZE)?)
    }
}

fn archive_error(error: std::io::Error) -> BackupError {
    if error.kind() == std::io::ErrorKind::UnexpectedEof {
        BackupError::Archive("the archive is truncated".to_string())
    } else {
        BackupError::Archive(format!(
            "corrupt data or a checksum that does not match ({error})"
        ))
    }
}

/// Lower-case hexadecimal, as `SHA256SUMS` lines and backup metadata write digests.
pub(crate) fn hex(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = write!(text, "{byte:02x}");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::{Command, KvCommand, KvOp};

    fn state_with_a_key() -> State {
        let mut state = State::default();
        state.apply(
            3,
            &Command::Kv(KvCommand {
                op: KvOp::Set,
                key: "k".to_string(),
                value: b"v".to_vec(),
                flags: 0,
                cas: None,
            }),
        );
        state
    }

    #[test]
    fn an_archive_is_gzip_and_gives_back_the_backup() {
        let state = state_with_a_key();
        let archive = state.to_archive();
        assert_eq!(archive[..2], GZIP_MAGIC);
        assert_eq!(archive, state.to_archive(), "deterministic");
        let backup = State::backup_in(&archive, 1 << 20).unwrap();
        assert_eq!(&*backup, state.to_backup().as_slice());
        let (meta, restored) = State::from_backup(&backup).unwrap();
        assert_eq!(meta.index, 3);
        assert_eq!(restored.to_backup(), state.to_backup());
        // A bare backup file passes through.
        let bare = state.to_backup();
        assert!(matches!(
            State::backup_in(&bare, 1 << 20).unwrap(),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn damaged_or_oversized_archives_are_refused() {
        let archive = state_with_a_key().to_archive();
        assert!(
            State::backup_in(&archive, 8).is_err(),
            "member over the limit"
        );
        let mut cut = archive.clone();
        cut.truncate(archive.len() / 2);
        assert!(State::backup_in(&cut, 1 << 20).is_err(), "truncated");
        // A state.bin that is not the one summed.
        let mut tar = tar::Builder::new(GzEncoder::new(Vec::new(), Compression::fast()));
        for (name, contents) in [
            (META, &b"{}"[..]),
            (STATE, &b"other"[..]),
            (SUMS, &b"00  meta.json\n00  state.bin\n"[..]),
        ] {
            let mut header = tar::Header::new_gnu();
            header.set_size(contents.len() as u64);
            tar.append_data(&mut header, name, contents).unwrap();
        }
        let forged = tar.into_inner().unwrap().finish().unwrap();
        let error = State::backup_in(&forged, 1 << 20).unwrap_err();
        assert!(error.to_string().contains("SHA256SUMS"), "{error}");
    }

    proptest::proptest! {
        /// Whatever arrives as an archive, reading it never panics, and a damaged archive
        /// never yields anything but the backup that was summed.
        #[test]
        fn damaged_archives_never_panic_or_lie(
            position in 0usize..4096,
            flip in 1u8..=255,
            noise in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512),
        ) {
            let state = state_with_a_key();
            let original = state.to_backup();
            let mut archive = state.to_archive();
            let at = position % archive.len();
            archive[at] ^= flip;
            if let Ok((_, restored)) = State::from_saved(&archive) {
                proptest::prop_assert_eq!(restored.to_backup(), original);
            }
            let mut junk = GZIP_MAGIC.to_vec();
            junk.extend(noise);
            let _ = State::backup_in(&junk, 1 << 20);
        }
    }
}
