//! The agent's own TLS material for HTTP checks, as Consul's
//! `enable_agent_tls_for_checks`: HTTPS targets are verified against the agent's CA
//! (`tls.defaults.ca_file`/`ca_path`) as well as the system's roots, and with
//! `verify_outgoing` the agent presents its certificate to targets that ask for one.

use std::path::PathBuf;

/// What HTTP checks take from the agent's TLS settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChecksTls {
    pub ca_file: Option<PathBuf>,
    pub ca_path: Option<PathBuf>,
    /// (certificate, key), presented with `verify_outgoing`.
    pub client_cert: Option<(PathBuf, PathBuf)>,
}

impl ChecksTls {
    /// The extra roots and the identity, read from their files.
    pub fn load(&self) -> Result<(Vec<reqwest::Certificate>, Option<reqwest::Identity>), String> {
        let files =
            proconsul_tls::files::ca_files(self.ca_file.as_deref(), self.ca_path.as_deref())
                .map_err(|error| error.to_string())?;
        let read = |path: &PathBuf| {
            std::fs::read(path).map_err(|error| format!("cannot read {}: {error}", path.display()))
        };
        let mut roots = Vec::new();
        for file in &files {
            let bundle = reqwest::Certificate::from_pem_bundle(&read(file)?)
                .map_err(|error| format!("{}: {error}", file.display()))?;
            roots.extend(bundle);
        }
        let identity = match &self.client_cert {
            None => None,
            Some((cert, key)) => {
                let mut pem = read(cert)?;
                pem.push(b'\n');
                pem.extend(read(key)?);
                Some(
                    reqwest::Identity::from_pem(&pem)
                        .map_err(|error| format!("{}: {error}", cert.display()))?,
                )
            }
        };
        Ok((roots, identity))
    }
}
