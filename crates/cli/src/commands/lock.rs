//! `proconsul lock [-n N] PREFIX COMMAND...`: runs a command while holding a lock (or,
//! with `-n`, one of N semaphore slots), as `consul lock` does, with Consul's key
//! layout so that both can contend for the same prefix:
//! - a lock is `PREFIX/.lock`, acquired with a session;
//! - a semaphore is a contender key `PREFIX/<session>` per holder plus `PREFIX/.lock`
//!   holding `{"Limit": N, "Holders": {"<session>": true}}`, updated with check-and-set.
//!
//! The session has a TTL and is renewed while the command runs; if it is lost (the lock
//! or slot is gone), the command is killed. The exit code is the command's.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use proconsul_api::KvPair;
use proconsul_api::client::{Client, QueryOptions, kv_path};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::commands::{HttpArgs, fail};

/// The session TTL; it is renewed at half of it.
const SESSION_TTL: Duration = Duration::from_secs(15);

#[derive(Debug, Args)]
pub struct LockArgs {
    #[command(flatten)]
    http: HttpArgs,
    /// How many may hold the lock at once (a semaphore when above 1).
    #[arg(short = 'n', long = "n", default_value_t = 1)]
    limit: u32,
    /// Give up after waiting this long for the lock (0: wait forever).
    #[arg(long, value_name = "DURATION", default_value = "0s", value_parser = super::go_duration)]
    timeout: Duration,
    /// The session's name.
    #[arg(long, default_value = "")]
    name: String,
    /// The KV prefix of the lock.
    prefix: String,
    /// The command to run while holding the lock (through `sh -c`).
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    command: Vec<String>,
}

/// `PREFIX/.lock`'s value for a semaphore.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Semaphore {
    limit: u32,
    holders: BTreeMap<String, bool>,
}

pub async fn run(args: LockArgs) -> anyhow::Result<ExitCode> {
    if args.limit == 0 {
        return Ok(fail("Lock limit must be at least 1"));
    }
    let client = args.http.client()?;
    let prefix = args.prefix.trim_end_matches('/').to_string();
    let name = if args.name.is_empty() {
        format!("Consul lock for '{prefix}'")
    } else {
        args.name.clone()
    };
    let created: serde_json::Value = client
        .put_json(
            "/v1/session/create",
            &[],
            &json!({"Name": name, "TTL": format!("{}s", SESSION_TTL.as_secs()), "Behavior": "release", "LockDelay": "1s"}),
        )
        .await
        .context("Error creating the lock session")?;
    let session = created["ID"].as_str().unwrap_or_default().to_string();
    let renewer = tokio::spawn(renew(client.clone(), session.clone()));
    let deadline = (!args.timeout.is_zero()).then(|| Instant::now() + args.timeout);
    let acquired = if args.limit == 1 {
        acquire_lock(&client, &prefix, &session, deadline).await
    } else {
        acquire_slot(&client, &prefix, &session, args.limit, deadline).await
    };
    let code = match acquired {
        Ok(true) => run_while_held(&client, &session, &args.command).await,
        Ok(false) => {
            eprintln!("Lock acquisition failed: timeout waiting for the lock");
            Ok(ExitCode::FAILURE)
        }
        Err(error) => Err(error),
    };
    // Release whatever is held, then end the session.
    if args.limit == 1 {
        let _ = client
            .put_raw::<bool>(
                &kv_path(&format!("{prefix}/.lock")),
                &[("release", session.clone())],
                Vec::new(),
            )
            .await;
    } else {
        let _ = leave_semaphore(&client, &prefix, &session).await;
    }
    renewer.abort();
    let _ = client
        .put_raw::<bool>(&format!("/v1/session/destroy/{session}"), &[], Vec::new())
        .await;
    code
}

async fn renew(client: Client, session: String) {
    loop {
        tokio::time::sleep(SESSION_TTL / 2).await;
        let path = format!("/v1/session/renew/{session}");
        if client
            .put_raw::<serde_json::Value>(&path, &[], Vec::new())
            .await
            .is_err()
        {
            return;
        }
    }
}

/// Waits on `key`'s index until it changes or the deadline passes; false on timeout.
async fn wait_for_change(
    client: &Client,
    key: &str,
    index: u64,
    deadline: Option<Instant>,
) -> bool {
    let wait = match deadline {
        Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
            Some(left) if !left.is_zero() => left,
            _ => return false,
        },
        None => Duration::from_secs(60),
    };
    let options = QueryOptions {
        params: vec![("recurse".to_string(), String::new())],
        ..QueryOptions::blocking(index, Some(wait))
    };
    let _ = client
        .get_json_optional::<Vec<KvPair>>(&kv_path(key), &options)
        .await;
    true
}

async fn acquire_lock(
    client: &Client,
    prefix: &str,
    session: &str,
    deadline: Option<Instant>,
) -> anyhow::Result<bool> {
    let key = format!("{prefix}/.lock");
    loop {
        let (_, meta) = client
            .get_json_optional::<Vec<KvPair>>(&kv_path(&key), &QueryOptions::default())
            .await?;
        let taken: bool = client
            .put_raw(
                &kv_path(&key),
                &[("acquire", session.to_string())],
                Vec::new(),
            )
            .await?;
        if taken {
            return Ok(true);
        }
        if !wait_for_change(client, &key, meta.index, deadline).await {
            return Ok(false);
        }
    }
}

async fn acquire_slot(
    client: &Client,
    prefix: &str,
    session: &str,
    limit: u32,
    deadline: Option<Instant>,
) -> anyhow::Result<bool> {
    let contender = format!("{prefix}/{session}");
    let taken: bool = client
        .put_raw(
            &kv_path(&contender),
            &[("acquire", session.to_string())],
            Vec::new(),
        )
        .await?;
    anyhow::ensure!(taken, "could not create the contender key {contender}");
    loop {
        let (entries, meta) = client
            .get_json_optional::<Vec<KvPair>>(
                &kv_path(&format!("{prefix}/")),
                &QueryOptions::params([("recurse", "")]),
            )
            .await?;
        let entries = entries.unwrap_or_default();
        let lock_key = format!("{prefix}/.lock");
        let lock = entries.iter().find(|entry| entry.key == lock_key);
        let mut semaphore: Semaphore = lock
            .and_then(|entry| entry.value.as_deref())
            .and_then(|value| serde_json::from_slice(value).ok())
            .unwrap_or_default();
        if semaphore.limit != 0 && semaphore.limit != limit {
            anyhow::bail!(
                "semaphore limit conflict: the lock says {}, -n says {limit}",
                semaphore.limit
            );
        }
        semaphore.limit = limit;
        // Holders whose contender key lost its session are gone.
        let live: Vec<&str> = entries
            .iter()
            .filter(|entry| entry.session.is_some() && entry.key != lock_key)
            .filter_map(|entry| entry.session.as_deref())
            .collect();
        semaphore
            .holders
            .retain(|holder, _| live.contains(&holder.as_str()));
        if semaphore.holders.len() < limit as usize {
            semaphore.holders.insert(session.to_string(), true);
            let cas = lock.map_or(0, |entry| entry.modify_index);
            let written: bool = client
                .put_raw(
                    &kv_path(&lock_key),
                    &[("cas", cas.to_string())],
                    serde_json::to_vec(&semaphore)?,
                )
                .await?;
            if written {
                return Ok(true);
            }
            continue;
        }
        if !wait_for_change(client, &format!("{prefix}/"), meta.index, deadline).await {
            return Ok(false);
        }
    }
}

async fn leave_semaphore(client: &Client, prefix: &str, session: &str) -> anyhow::Result<()> {
    let lock_key = format!("{prefix}/.lock");
    for _ in 0..10 {
        let (entries, _) = client
            .get_json_optional::<Vec<KvPair>>(&kv_path(&lock_key), &QueryOptions::default())
            .await?;
        let Some(entry) = entries.and_then(|entries| entries.into_iter().next()) else {
            break;
        };
        let mut semaphore: Semaphore = entry
            .value
            .as_deref()
            .and_then(|value| serde_json::from_slice(value).ok())
            .unwrap_or_default();
        semaphore.holders.remove(session);
        let written: bool = client
            .put_raw(
                &kv_path(&lock_key),
                &[("cas", entry.modify_index.to_string())],
                serde_json::to_vec(&semaphore)?,
            )
            .await?;
        if written {
            break;
        }
    }
    let _ = client
        .kv_delete(&format!("{prefix}/{session}"), false, None)
        .await;
    Ok(())
}

/// Runs the command; kills it if the session ends while it runs.
async fn run_while_held(
    client: &Client,
    session: &str,
    command: &[String],
) -> anyhow::Result<ExitCode> {
    let mut child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(command.join(" "))
        .kill_on_drop(true)
        .spawn()
        .context("cannot start the command")?;
    let info = format!("/v1/session/info/{session}");
    let mut index = 0;
    loop {
        let options = QueryOptions::blocking(index, Some(Duration::from_secs(30)));
        let watch = client.get_json::<Vec<serde_json::Value>>(&info, &options);
        tokio::select! {
            status = child.wait() => {
                let status = status.context("waiting for the command")?;
                let code = status.code().map_or(1, |code| u8::try_from(code).unwrap_or(1));
                return Ok(ExitCode::from(code));
            }
            answer = watch => {
                match answer {
                    Ok((sessions, _)) if sessions.is_empty() => {
                        eprintln!("Lock lost: the session was invalidated; stopping the command");
                        let _ = child.kill().await;
                        return Ok(ExitCode::FAILURE);
                    }
                    Ok((_, meta)) => index = meta.index,
                    Err(_) => tokio::time::sleep(Duration::from_secs(1)).await,
                }
            }
        }
    }
}
