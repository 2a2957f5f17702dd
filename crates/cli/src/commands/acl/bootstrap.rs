//! `proconsul acl bootstrap [FILE|-]`: asks the cluster for its first management token
//! and prints it. A FILE (or `-` for stdin) supplies the SecretID to use, for operators
//! who generate the secret themselves.

use std::io::Read;
use std::process::ExitCode;

use clap::Args;

use super::{ShowArgs, json, output};
use crate::commands::{HttpArgs, fail};

#[derive(Debug, Args)]
pub struct BootstrapArgs {
    #[command(flatten)]
    http: HttpArgs,
    #[command(flatten)]
    show: ShowArgs,
    /// A file holding the SecretID to give the token (`-` reads stdin).
    #[arg(value_name = "FILE", allow_hyphen_values = true)]
    secret_file: Option<String>,
}

/// The SecretID the FILE argument holds, trimmed; `None` without one.
fn bootstrap_secret(file: Option<&str>, stdin: &mut dyn Read) -> Result<Option<String>, String> {
    let text = match file {
        None => return Ok(None),
        Some("-") => {
            let mut text = String::new();
            stdin
                .read_to_string(&mut text)
                .map_err(|error| format!("Failed to read stdin: {error}"))?;
            text
        }
        Some(path) => std::fs::read_to_string(path)
            .map_err(|error| format!("Failed to read file {path}: {error}"))?,
    };
    Ok(Some(text.trim().to_string()).filter(|secret| !secret.is_empty()))
}

pub async fn run(args: BootstrapArgs) -> anyhow::Result<ExitCode> {
    let secret = match bootstrap_secret(args.secret_file.as_deref(), &mut std::io::stdin()) {
        Ok(secret) => secret,
        Err(error) => return Ok(fail(format!("Failed ACL bootstrapping: {error}"))),
    };
    let client = args.http.client()?;
    let token = match client.acl_bootstrap(secret.as_deref()).await {
        Ok(token) => token,
        Err(error) => return Ok(fail(format!("Failed ACL bootstrapping: {error}"))),
    };
    args.show.print(
        |meta| output::token(&token, meta),
        json::TokenView::from(&token),
    );
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_comes_from_a_file_or_stdin() {
        let mut stdin: &[u8] = b"  3f0a6b4e-0000-4000-8000-000000000001\n";
        assert_eq!(
            bootstrap_secret(Some("-"), &mut stdin).unwrap().as_deref(),
            Some("3f0a6b4e-0000-4000-8000-000000000001")
        );
        assert_eq!(bootstrap_secret(None, &mut stdin).unwrap(), None);
        let path = std::env::temp_dir().join(format!("proconsul-boot-{}", std::process::id()));
        std::fs::write(&path, "secret\n").unwrap();
        let file = path.display().to_string();
        assert_eq!(
            bootstrap_secret(Some(&file), &mut stdin)
                .unwrap()
                .as_deref(),
            Some("secret")
        );
        std::fs::remove_file(&path).unwrap();
        assert!(bootstrap_secret(Some(&file), &mut stdin).is_err());
    }
}
