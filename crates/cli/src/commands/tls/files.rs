//! Files of the `tls` commands: Consul's names, the next free number for a certificate,
//! writes that never replace an existing file, and Go-like texts for I/O errors so
//! that messages read as `consul tls`'s do.

use std::io::Write;
use std::path::Path;

/// How far `tls cert create` looks for a free number before giving up, as Consul does.
const MAX_NUMBER: u32 = 10_000;

/// `<domain>-agent-ca.pem` and `<domain>-agent-ca-key.pem`: the CA files `tls ca create`
/// writes and `tls cert create` reads by default.
pub fn ca_file_names(domain: &str) -> (String, String) {
    (
        format!("{domain}-agent-ca.pem"),
        format!("{domain}-agent-ca-key.pem"),
    )
}

/// The first `<prefix>-<N>.pem` / `<prefix>-<N>-key.pem` pair (N from 0) of which
/// neither file exists in `dir`, so that repeated runs never replace a certificate.
pub fn next_free_pair(dir: &Path, prefix: &str) -> Option<(String, String)> {
    (0..=MAX_NUMBER)
        .map(|number| {
            (
                format!("{prefix}-{number}.pem"),
                format!("{prefix}-{number}-key.pem"),
            )
        })
        .find(|(cert, key)| !dir.join(cert).exists() && !dir.join(key).exists())
}

/// Who may read a written file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Secrecy {
    /// A certificate: readable by all (0644 before the umask).
    Public,
    /// A private key: readable by its owner only (0600).
    Secret,
}

/// Writes `contents` to a new file `path`; fails if the file exists (checked by the
/// open itself, so that a file created meanwhile is not replaced either).
pub fn write_new(path: &Path, contents: &str, secrecy: Secrecy) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(match secrecy {
            Secrecy::Public => 0o644,
            Secrecy::Secret => 0o600,
        });
    }
    #[cfg(not(unix))]
    let _ = secrecy;
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()
}

/// Go's text for an error opening `path` (`open x.pem: no such file or directory`), the
/// form Consul's messages embed.
pub fn go_open_error(path: &str, error: &std::io::Error) -> String {
    let reason = match error.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".to_owned(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        std::io::ErrorKind::IsADirectory => "is a directory".to_owned(),
        _ => error.to_string(),
    };
    format!("open {path}: {reason}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ca_files_are_named_after_the_domain() {
        assert_eq!(
            ca_file_names("consul"),
            (
                "consul-agent-ca.pem".to_owned(),
                "consul-agent-ca-key.pem".to_owned()
            )
        );
    }

    #[test]
    fn numbers_skip_pairs_with_either_file_present() {
        let dir = std::env::temp_dir().join(format!("proconsul-tls-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let next = || next_free_pair(&dir, "dc1-server-consul").unwrap();
        assert_eq!(next().0, "dc1-server-consul-0.pem");
        std::fs::write(dir.join("dc1-server-consul-0.pem"), "").unwrap();
        std::fs::write(dir.join("dc1-server-consul-1-key.pem"), "").unwrap();
        assert_eq!(
            next(),
            (
                "dc1-server-consul-2.pem".to_owned(),
                "dc1-server-consul-2-key.pem".to_owned()
            )
        );
        let path = dir.join("dc1-server-consul-0.pem");
        assert!(write_new(&path, "x", Secrecy::Public).is_err());
        let key = dir.join("k.pem");
        write_new(&key, "secret", Secrecy::Secret).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&key).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "{mode:o}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn open_errors_read_like_go() {
        let error = std::io::Error::from(std::io::ErrorKind::NotFound);
        assert_eq!(
            go_open_error("consul-agent-ca.pem", &error),
            "open consul-agent-ca.pem: no such file or directory"
        );
    }
}
