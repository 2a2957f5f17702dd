//! `proconsul kv get|put|delete`, with `consul kv`'s flags, messages, output and exit
//! codes. Values are bytes: they go to stdout unchanged, never through `String`.

use std::io::{Read, Write};
use std::process::ExitCode;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use clap::{Args, Subcommand};
use proconsul_api::KvPair;

use crate::commands::{HttpArgs, fail};
use crate::output::{TABWRITER_GAP, columns};

#[derive(Debug, Subcommand)]
pub enum KvCommand {
    /// Reads a value, a prefix (-recurse) or keys (-keys).
    Get(GetArgs),
    /// Writes a value (`-` reads stdin, `@file` reads a file).
    Put(PutArgs),
    /// Deletes a key or a prefix (-recurse).
    Delete(DeleteArgs),
}

#[derive(Debug, Args)]
pub struct GetArgs {
    #[command(flatten)]
    http: HttpArgs,
    /// Print values base64-encoded.
    #[arg(long)]
    base64: bool,
    /// Show every field of the entry, not only its value.
    #[arg(long)]
    detailed: bool,
    /// List the keys under the prefix instead of values.
    #[arg(long)]
    keys: bool,
    /// Read every key under the prefix, as `key:value` lines.
    #[arg(long)]
    recurse: bool,
    /// With -keys, fold keys at this separator ("" lists every key).
    #[arg(long, default_value = "/", allow_hyphen_values = true)]
    separator: String,
    /// The key, or the prefix with -recurse and -keys [default: the root].
    key: Option<String>,
}

#[derive(Debug, Args)]
pub struct PutArgs {
    #[command(flatten)]
    http: HttpArgs,
    /// The value given is base64; write its decoded bytes.
    #[arg(long)]
    base64: bool,
    /// Check-and-set: write only if the key's ModifyIndex is -modify-index.
    #[arg(long)]
    pub(crate) cas: bool,
    /// Opaque flags stored with the value.
    #[arg(long, value_name = "N", default_value_t = 0)]
    flags: u64,
    /// The ModifyIndex -cas compares with.
    #[arg(long = "modify-index", value_name = "N", default_value_t = 0)]
    modify_index: u64,
    /// The key.
    key: Option<String>,
    /// The value: `-` reads stdin, `@path` reads a file; empty when omitted.
    #[arg(allow_hyphen_values = true)]
    pub(crate) value: Option<String>,
}

#[derive(Debug, Args)]
pub struct DeleteArgs {
    #[command(flatten)]
    http: HttpArgs,
    /// Check-and-set: delete only if the key's ModifyIndex is -modify-index.
    #[arg(long)]
    cas: bool,
    /// The ModifyIndex -cas compares with.
    #[arg(long = "modify-index", value_name = "N", default_value_t = 0)]
    modify_index: u64,
    /// Delete every key under the prefix.
    #[arg(long)]
    recurse: bool,
    /// The key, or the prefix with -recurse.
    key: Option<String>,
}

pub async fn run(command: KvCommand) -> anyhow::Result<ExitCode> {
    match command {
        KvCommand::Get(args) => get(args).await,
        KvCommand::Put(args) => put(args).await,
        KvCommand::Delete(args) => delete(args).await,
    }
}

/// The key argument without its leading `/`, which keys cannot start with.
fn key_argument(key: Option<&str>) -> String {
    let key = key.unwrap_or_default();
    key.strip_prefix('/').unwrap_or(key).to_string()
}

async fn get(args: GetArgs) -> anyhow::Result<ExitCode> {
    let key = key_argument(args.key.as_deref());
    if key.is_empty() && !(args.recurse || args.keys) {
        return Ok(fail("Error! Missing KEY argument"));
    }
    let client = args.http.client()?;
    let mut out = std::io::stdout().lock();
    if args.keys {
        let keys = match client.kv_keys(&key, Some(&args.separator)).await {
            Ok((keys, _)) => keys,
            Err(error) => return Ok(fail(format!("Error querying Consul agent: {error}"))),
        };
        for key in keys {
            writeln!(out, "{key}")?;
        }
    } else if args.recurse {
        let entries = match client.kv_list(&key).await {
            Ok((entries, _)) => entries,
            Err(error) => return Ok(fail(format!("Error querying Consul agent: {error}"))),
        };
        out.write_all(&render_list(&entries, args.detailed, args.base64))?;
    } else {
        let entry = match client.kv_get(&key).await {
            Ok((Some(entry), _)) => entry,
            Ok((None, _)) => return Ok(fail(format!("Error! No key exists at: {key}"))),
            Err(error) => return Ok(fail(format!("Error querying Consul agent: {error}"))),
        };
        if args.detailed {
            out.write_all(&detailed(&entry, args.base64))?;
        } else {
            out.write_all(&value_bytes(&entry, args.base64))?;
        }
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// A value as printed: raw bytes, or base64 with -base64.
fn value_bytes(entry: &KvPair, base64: bool) -> Vec<u8> {
    let value = entry.value.as_deref().unwrap_or_default();
    if base64 {
        BASE64.encode(value).into_bytes()
    } else {
        value.to_vec()
    }
}

/// `kv get -recurse`: `key:value` lines, or detailed blocks separated by blank lines.
fn render_list(entries: &[KvPair], detailed_view: bool, base64: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        if detailed_view {
            if i > 0 {
                out.push(b'\n');
            }
            out.extend(detailed(entry, base64));
        } else {
            out.extend(entry.key.as_bytes());
            out.push(b':');
            out.extend(value_bytes(entry, base64));
        }
        out.push(b'\n');
    }
    out
}

/// The -detailed view: Consul's tabwriter table, field names then values, without the
/// final newline (the caller adds it, as Consul's `UI.Info` does).
fn detailed(entry: &KvPair, base64: bool) -> Vec<u8> {
    let session = entry
        .session
        .clone()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "-".to_string());
    let rows: Vec<Vec<String>> = [
        ("CreateIndex", entry.create_index.to_string()),
        ("Flags", entry.flags.to_string()),
        ("Key", entry.key.clone()),
        ("LockIndex", entry.lock_index.to_string()),
        ("ModifyIndex", entry.modify_index.to_string()),
        ("Session", session),
        ("Value", String::new()),
    ]
    .into_iter()
    .map(|(field, value)| vec![field.to_string(), value])
    .collect();
    let mut table = columns(&rows, TABWRITER_GAP);
    // The value goes in as bytes, after the aligned `Value` label.
    table.truncate(table.trim_end().len());
    let mut out = table.into_bytes();
    let width = rows.iter().map(|row| row[0].len()).max().unwrap_or(0) + TABWRITER_GAP;
    out.extend(std::iter::repeat_n(b' ', width - "Value".len()));
    out.extend(value_bytes(entry, base64));
    out
}

/// The bytes a `kv put` value argument stands for, as Consul reads it: absent or empty
/// is empty, `-` is stdin, `@path` is a file's contents, anything else (including `-x`)
/// is itself.
pub(crate) fn read_value(value: Option<&str>, stdin: &mut dyn Read) -> Result<Vec<u8>, String> {
    match value {
        None | Some("") => Ok(Vec::new()),
        Some("-") => {
            let mut bytes = Vec::new();
            stdin
                .read_to_end(&mut bytes)
                .map_err(|error| format!("Failed to read stdin: {error}"))?;
            Ok(bytes)
        }
        Some(text) => match text.strip_prefix('@') {
            Some(path) => {
                std::fs::read(path).map_err(|error| format!("Failed to read file: {error}"))
            }
            None => Ok(text.as_bytes().to_vec()),
        },
    }
}

async fn put(args: PutArgs) -> anyhow::Result<ExitCode> {
    let Some(key) = args.key.clone().filter(|key| !key.is_empty()) else {
        return Ok(fail("Error! Missing KEY argument"));
    };
    let mut value = match read_value(args.value.as_deref(), &mut std::io::stdin()) {
        Ok(value) => value,
        Err(error) => return Ok(fail(format!("Error! {error}"))),
    };
    if args.base64 {
        value = match BASE64.decode(value.trim_ascii()) {
            Ok(value) => value,
            Err(error) => return Ok(fail(format!("Error! Cannot base 64 decode data: {error}"))),
        };
    }
    if args.cas && args.modify_index == 0 {
        return Ok(fail("Must specify -modify-index with -cas!"));
    }
    let client = args.http.client()?;
    let cas = args.cas.then_some(args.modify_index);
    let flags = (args.flags != 0).then_some(args.flags);
    match client.kv_put(&key, &value, flags, cas).await {
        Ok(true) => {
            println!("Success! Data written to: {key}");
            Ok(ExitCode::SUCCESS)
        }
        Ok(false) => Ok(fail(format!("Error! Did not write to {key}: CAS failed"))),
        Err(error) if args.cas => Ok(fail(format!("Error! Did not write to {key}: {error}"))),
        Err(error) => Ok(fail(format!("Error! Failed writing data: {error}"))),
    }
}

async fn delete(args: DeleteArgs) -> anyhow::Result<ExitCode> {
    let key = key_argument(args.key.as_deref());
    if key.is_empty() && !args.recurse {
        return Ok(fail("Error! Missing KEY argument"));
    }
    if args.cas && args.modify_index == 0 {
        return Ok(fail(
            "Cannot delete a key that does not exist. Provide a -modify-index greater than than 0.",
        ));
    }
    if args.modify_index != 0 && !args.cas {
        return Ok(fail("Cannot specify -modify-index without -cas!"));
    }
    if args.recurse && args.cas {
        return Ok(fail("Cannot specify both -cas and -recurse!"));
    }
    let client = args.http.client()?;
    let cas = args.cas.then_some(args.modify_index);
    match client.kv_delete(&key, args.recurse, cas).await {
        Ok(_) if args.recurse => {
            println!("Success! Deleted keys with prefix: {key}");
            Ok(ExitCode::SUCCESS)
        }
        Ok(true) => {
            println!("Success! Deleted key: {key}");
            Ok(ExitCode::SUCCESS)
        }
        Ok(false) => Ok(fail(format!("Error! Did not delete key {key}: CAS failed"))),
        Err(error) if args.recurse => {
            Ok(fail(format!("Error! Did not delete prefix {key}: {error}")))
        }
        Err(error) if args.cas => Ok(fail(format!("Error! Did not delete key {key}: {error}"))),
        Err(error) => Ok(fail(format!("Error deleting key {key}: {error}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_from_arguments_stdin_and_files() {
        let mut stdin: &[u8] = b"from stdin\n";
        assert_eq!(read_value(Some("-"), &mut stdin).unwrap(), b"from stdin\n");
        assert_eq!(read_value(Some("-x"), &mut &b"unread"[..]).unwrap(), b"-x");
        assert_eq!(read_value(Some("--"), &mut &b"unread"[..]).unwrap(), b"--");
        assert_eq!(read_value(Some("plain"), &mut &b""[..]).unwrap(), b"plain");
        assert_eq!(read_value(Some(""), &mut &b"unread"[..]).unwrap(), b"");
        assert_eq!(read_value(None, &mut &b"unread"[..]).unwrap(), b"");
        let path = std::env::temp_dir().join(format!("proconsul-kv-{}", std::process::id()));
        std::fs::write(&path, b"from\0file").unwrap();
        let arg = format!("@{}", path.display());
        assert_eq!(
            read_value(Some(&arg), &mut &b""[..]).unwrap(),
            b"from\0file"
        );
        std::fs::remove_file(&path).unwrap();
        let error = read_value(Some("@/no/such/file"), &mut &b""[..]).unwrap_err();
        assert!(error.starts_with("Failed to read file: "), "{error}");
    }

    #[test]
    fn key_arguments_lose_a_leading_slash() {
        assert_eq!(key_argument(Some("/a/b")), "a/b");
        assert_eq!(key_argument(Some("a/")), "a/");
        assert_eq!(key_argument(Some("/")), "");
        assert_eq!(key_argument(None), "");
    }

    fn entry(key: &str, value: Option<&[u8]>) -> KvPair {
        KvPair {
            key: key.into(),
            flags: 7,
            value: value.map(<[u8]>::to_vec),
            create_index: 3,
            modify_index: 4,
            ..KvPair::default()
        }
    }

    #[test]
    fn detailed_view_is_consuls_tabwriter_table() {
        let text = detailed(&entry("a/b", Some(b"v")), false);
        assert_eq!(
            String::from_utf8(text).unwrap(),
            "CreateIndex      3\n\
             Flags            7\n\
             Key              a/b\n\
             LockIndex        0\n\
             ModifyIndex      4\n\
             Session          -\n\
             Value            v"
        );
        let mut with_session = entry("k", None);
        with_session.session = Some("abc".into());
        let text = String::from_utf8(detailed(&with_session, false)).unwrap();
        assert!(text.contains("Session          abc\n"), "{text}");
        assert!(text.ends_with("Value            "), "{text:?}");
        let text = String::from_utf8(detailed(&entry("k", Some(b"hi")), true)).unwrap();
        assert!(text.ends_with("Value            aGk="), "{text}");
    }

    #[test]
    fn detailed_view_keeps_binary_values() {
        let text = detailed(&entry("k", Some(&[0xff, 0x00])), false);
        assert!(text.ends_with(&[b' ', 0xff, 0x00]));
    }

    #[test]
    fn recursive_listing() {
        let entries = [entry("a/1", Some(b"x")), entry("a/2", None)];
        assert_eq!(render_list(&entries, false, false), b"a/1:x\na/2:\n");
        assert_eq!(render_list(&entries, false, true), b"a/1:eA==\na/2:\n");
        let text = String::from_utf8(render_list(&entries, true, false)).unwrap();
        let blocks: Vec<&str> = text.split("\n\n").collect();
        assert_eq!(blocks.len(), 2, "{text}");
        assert!(blocks[0].starts_with("CreateIndex") && blocks[0].ends_with("Value            x"));
        assert!(
            blocks[1].contains("Key              a/2") && text.ends_with("Value            \n")
        );
        assert!(render_list(&[], true, false).is_empty());
    }
}
