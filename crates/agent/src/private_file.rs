//! Files in the data dir that hold secrets (the agent's tokens, the tokens local
//! services were registered with): written to a temporary file readable by the owner
//! only, synced, then renamed over the old one, so a crash leaves the old file or the
//! new one, never half of either.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Replaces `path` with `bytes` atomically, mode 0600.
pub fn replace(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let temporary = path.with_extension("json.tmp");
    {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
    }
    std::fs::rename(&temporary, path)
}
