//! The persisted keyring, as Consul keeps it (`data_dir/serf/local.keyring`): a JSON array
//! of base64 keys, primary first, mode 0600, rewritten on every change.

use std::io::Write;
use std::path::Path;

use crate::error::GossipError;
use crate::keyring::{Keyring, decode_key};

/// Reads the keyring file; `None` when it does not exist.
pub(crate) fn load(path: &Path) -> Result<Option<Keyring>, GossipError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let keys: Vec<String> = serde_json::from_str(&text).map_err(|e| {
        GossipError::Keyring(format!(
            "Failed to read keyring file {}: {e}",
            path.display()
        ))
    })?;
    let keys = keys
        .iter()
        .map(|k| decode_key(k))
        .collect::<Result<Vec<_>, _>>()?;
    Keyring::from_keys(keys).map(Some)
}

/// Writes the keys (base64, primary first) atomically with mode 0600.
pub(crate) fn save(path: &Path, keys: &[String]) -> Result<(), GossipError> {
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)?;
    }
    let json =
        serde_json::to_string_pretty(keys).map_err(|e| GossipError::Keyring(e.to_string()))?;
    let tmp = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&tmp)?;
    file.write_all(json.as_bytes())?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, path)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_private_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("serf/local.keyring");
        assert!(load(&path).unwrap().is_none());
        let a = crate::keyring::generate_key();
        let b = crate::keyring::generate_key();
        save(&path, &[a.clone(), b.clone()]).unwrap();
        let ring = load(&path).unwrap().unwrap();
        assert_eq!(ring.keys_base64(), vec![a, b]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&path, "not json").unwrap();
        assert!(load(&path).is_err());
    }
}
