//! Reading PEM files: certificate chains, private keys, and CA bundles from a file or a
//! directory of files (`ca_file`, `ca_path`), with the checks a bad file deserves
//! before anything listens with it.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use rustls::RootCertStore;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::TlsError;

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// The certificates of a PEM file, leaf first; at least one.
pub fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let bytes = read(path)?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| TlsError::Pem {
            path: path.to_path_buf(),
            reason: error.to_string(),
        })?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate {
            path: path.to_path_buf(),
        });
    }
    Ok(certs)
}

/// The first private key of a PEM file.
pub fn private_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let bytes = read(path)?;
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|_| TlsError::NoKey {
        path: path.to_path_buf(),
    })
}

/// Refuses a certificate that is expired or not yet valid at `now`.
pub fn check_validity(
    path: &Path,
    cert: &CertificateDer<'_>,
    now: SystemTime,
) -> Result<(), TlsError> {
    let (_, parsed) =
        x509_parser::parse_x509_certificate(cert).map_err(|error| TlsError::Certificate {
            path: path.to_path_buf(),
            reason: error.to_string(),
        })?;
    let validity = parsed.validity();
    let now = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX)
        });
    if now > validity.not_after.timestamp() {
        return Err(TlsError::Expired {
            path: path.to_path_buf(),
            not_after: validity.not_after.to_string(),
        });
    }
    if now < validity.not_before.timestamp() {
        return Err(TlsError::NotYetValid {
            path: path.to_path_buf(),
            not_before: validity.not_before.to_string(),
        });
    }
    Ok(())
}

/// The CA certificates of `ca_file` and of every file in `ca_path`.
pub fn roots(ca_file: Option<&Path>, ca_path: Option<&Path>) -> Result<RootCertStore, TlsError> {
    let files = ca_files(ca_file, ca_path)?;
    let mut store = RootCertStore::empty();
    for file in &files {
        for cert in certificates(file)? {
            store.add(cert).map_err(|error| TlsError::Certificate {
                path: file.clone(),
                reason: error.to_string(),
            })?;
        }
    }
    Ok(store)
}

/// `ca_file`, then every file in `ca_path` by name (Consul's `ca_path`); an empty
/// directory is an error.
pub fn ca_files(ca_file: Option<&Path>, ca_path: Option<&Path>) -> Result<Vec<PathBuf>, TlsError> {
    let mut files: Vec<PathBuf> = ca_file.map(Path::to_path_buf).into_iter().collect();
    if let Some(dir) = ca_path {
        let entries = std::fs::read_dir(dir).map_err(|source| TlsError::Read {
            path: dir.to_path_buf(),
            source,
        })?;
        let mut found: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| path.is_file())
            .collect();
        found.sort();
        if found.is_empty() {
            return Err(TlsError::NoCa {
                path: dir.to_path_buf(),
            });
        }
        files.extend(found);
    }
    Ok(files)
}
