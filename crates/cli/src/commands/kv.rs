//! `proconsul kv get|put|delete`, with `consul kv`'s flags, output and exit codes.

use std::io::{Read, Write};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use proconsul_api::KvPair;

use crate::commands::{HttpArgs, query_error};
use crate::table::columns;

#[derive(Debug, Subcommand)]
pub enum KvCommand {
    /// Reads a value, a prefix (`-recurse`) or keys (`-keys`).
    Get(GetArgs),
    /// Writes a value (`-` reads stdin, `@file` reads a file).
    Put(PutArgs),
    /// Deletes a key or a prefix (`-recurse`).
    Delete(DeleteArgs),
}

#[derive(Debug, Args)]
pub struct GetArgs {
    #[command(flatten)]
    http: HttpArgs,
    /// Read every key under the prefix, as `key:value` lines.
    #[arg(long)]
    recurse: bool,
    /// List keys under the prefix instead of values.
    #[arg(long)]
    keys: bool,
    /// With -keys, fold keys at this separator.
    #[arg(long, default_value = "/")]
    separator: String,
    /// Show every field of the entry.
    #[arg(long)]
    detailed: bool,
    /// The key (or prefix).
    #[arg(default_value = "")]
    key: String,
}

#[derive(Debug, Args)]
pub struct PutArgs {
    #[command(flatten)]
    http: HttpArgs,
    /// Write only if the key's ModifyIndex is -modify-index (0: only if absent).
    #[arg(long)]
    cas: bool,
    /// The ModifyIndex -cas compares with.
    #[arg(long = "modify-index", default_value_t = 0)]
    modify_index: u64,
    /// Opaque flags stored with the value.
    #[arg(long)]
    flags: Option<u64>,
    /// The key.
    key: String,
    /// The value; `-` reads stdin, `@path` reads a file; empty when omitted.
    #[arg(allow_hyphen_values = true)]
    value: Option<String>,
}

#[derive(Debug, Args)]
pub struct DeleteArgs {
    #[command(flatten)]
    http: HttpArgs,
    /// Delete every key under the prefix.
    #[arg(long)]
    recurse: bool,
    /// Delete only if the key's ModifyIndex is -modify-index.
    #[arg(long)]
    cas: bool,
    /// The ModifyIndex -cas compares with.
    #[arg(long = "modify-index", default_value_t = 0)]
    modify_index: u64,
    /// The key (or prefix).
    key: String,
}

pub async fn run(command: KvCommand) -> anyhow::Result<ExitCode> {
    match command {
        KvCommand::Get(args) => get(args).await,
        KvCommand::Put(args) => put(args).await,
        KvCommand::Delete(args) => delete(args).await,
    }
}

async fn get(args: GetArgs) -> anyhow::Result<ExitCode> {
    let client = args.http.client()?;
    let mut out = std::io::stdout().lock();
    if args.keys {
        let keys = match client.kv_keys(&args.key, Some(&args.separator)).await {
            Ok(keys) => keys,
            Err(error) => return Ok(query_error(error)),
        };
        for key in keys {
            writeln!(out, "{key}")?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    if args.recurse {
        let entries = match client.kv_list(&args.key).await {
            Ok(entries) => entries,
            Err(error) => return Ok(query_error(error)),
        };
        for entry in entries {
            if args.detailed {
                writeln!(out, "{}", detailed(&entry))?;
            } else {
                out.write_all(entry.key.as_bytes())?;
                out.write_all(b":")?;
                out.write_all(entry.value.as_deref().unwrap_or_default())?;
                out.write_all(b"\n")?;
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    if args.key.is_empty() {
        eprintln!("Error! Missing KEY argument");
        return Ok(ExitCode::FAILURE);
    }
    match client.kv_get(&args.key).await {
        Ok(Some(entry)) if args.detailed => {
            write!(out, "{}", detailed(&entry))?;
            Ok(ExitCode::SUCCESS)
        }
        Ok(Some(entry)) => {
            out.write_all(entry.value.as_deref().unwrap_or_default())?;
            out.write_all(b"\n")?;
            Ok(ExitCode::SUCCESS)
        }
        Ok(None) => {
            eprintln!("Error! No key exists at: {}", args.key);
            Ok(ExitCode::FAILURE)
        }
        Err(error) => Ok(query_error(error)),
    }
}

/// The `-detailed` view: one aligned `Field  value` line per field.
fn detailed(entry: &KvPair) -> String {
    let value = String::from_utf8_lossy(entry.value.as_deref().unwrap_or_default()).into_owned();
    let rows: Vec<Vec<String>> = [
        ("CreateIndex", entry.create_index.to_string()),
        ("Flags", entry.flags.to_string()),
        ("Key", entry.key.clone()),
        ("LockIndex", entry.lock_index.to_string()),
        ("ModifyIndex", entry.modify_index.to_string()),
        (
            "Session",
            entry.session.clone().unwrap_or_else(|| "-".to_string()),
        ),
        ("Value", value),
    ]
    .into_iter()
    .map(|(field, value)| vec![field.to_string(), value])
    .collect();
    columns(&rows)
}

/// The bytes a `kv put` value argument stands for.
fn read_value(value: Option<&str>, stdin: &mut dyn Read) -> anyhow::Result<Vec<u8>> {
    match value {
        None => Ok(Vec::new()),
        Some("-") => {
            let mut bytes = Vec::new();
            stdin.read_to_end(&mut bytes)?;
            Ok(bytes)
        }
        Some(text) => match text.strip_prefix('@') {
            Some(path) => std::fs::read(path)
                .map_err(|error| anyhow::anyhow!("Error! Failed to read file {path}: {error}")),
            None => Ok(text.as_bytes().to_vec()),
        },
    }
}

async fn put(args: PutArgs) -> anyhow::Result<ExitCode> {
    let value = read_value(args.value.as_deref(), &mut std::io::stdin())?;
    let client = args.http.client()?;
    let cas = args.cas.then_some(args.modify_index);
    match client.kv_put(&args.key, &value, args.flags, cas).await {
        Ok(true) => {
            println!("Success! Data written to: {}", args.key);
            Ok(ExitCode::SUCCESS)
        }
        Ok(false) => {
            eprintln!("Error! Did not write to {}: CAS failed", args.key);
            Ok(ExitCode::FAILURE)
        }
        Err(error) => {
            eprintln!("Error! Failed writing data: {error}");
            Ok(ExitCode::FAILURE)
        }
    }
}

async fn delete(args: DeleteArgs) -> anyhow::Result<ExitCode> {
    if args.recurse && args.cas {
        eprintln!("Cannot specify both -cas and -recurse!");
        return Ok(ExitCode::FAILURE);
    }
    let client = args.http.client()?;
    let cas = args.cas.then_some(args.modify_index);
    match client.kv_delete(&args.key, args.recurse, cas).await {
        Ok(true) if args.recurse => {
            println!("Success! Deleted keys with prefix: {}", args.key);
            Ok(ExitCode::SUCCESS)
        }
        Ok(true) => {
            println!("Success! Deleted key: {}", args.key);
            Ok(ExitCode::SUCCESS)
        }
        Ok(false) => {
            eprintln!("Error! Did not delete key {}: CAS failed", args.key);
            Ok(ExitCode::FAILURE)
        }
        Err(error) => {
            eprintln!("Error! Failed deleting data: {error}");
            Ok(ExitCode::FAILURE)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_from_arguments_stdin_and_files() {
        let mut stdin: &[u8] = b"from stdin";
        assert_eq!(read_value(Some("-"), &mut stdin).unwrap(), b"from stdin");
        assert_eq!(read_value(Some("-x"), &mut &b""[..]).unwrap(), b"-x");
        assert_eq!(read_value(None, &mut &b""[..]).unwrap(), b"");
        let path = std::env::temp_dir().join(format!("proconsul-kv-{}", std::process::id()));
        std::fs::write(&path, b"from file").unwrap();
        let arg = format!("@{}", path.display());
        assert_eq!(read_value(Some(&arg), &mut &b""[..]).unwrap(), b"from file");
        std::fs::remove_file(&path).unwrap();
        assert!(read_value(Some("@/no/such/file"), &mut &b""[..]).is_err());
    }

    #[test]
    fn detailed_view_lists_every_field() {
        let entry = KvPair {
            key: "a/b".into(),
            flags: 7,
            value: Some(b"v".to_vec()),
            create_index: 3,
            modify_index: 4,
            ..KvPair::default()
        };
        assert_eq!(
            detailed(&entry),
            "CreateIndex  3\nFlags        7\nKey          a/b\nLockIndex    0\nModifyIndex  4\nSession      -\nValue        v\n"
        );
    }
}
