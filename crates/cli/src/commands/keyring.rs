//! `proconsul keyring`: lists, installs, makes primary and removes gossip encryption
//! keys on every member through `/v1/operator/keyring`, with `consul keyring`'s flags,
//! output and exit codes.

use std::process::ExitCode;

use clap::Args;
use proconsul_api::keyring::{KeyringRequest, KeyringResponse};

use crate::commands::{HttpArgs, fail};

#[derive(Debug, Args)]
pub struct KeyringArgs {
    #[command(flatten)]
    http: HttpArgs,
    /// List the keys installed on every member.
    #[arg(long)]
    list: bool,
    /// List the primary keys of every member.
    #[arg(long = "list-primary")]
    list_primary: bool,
    /// Install a new key on every member.
    #[arg(long, value_name = "KEY")]
    install: Option<String>,
    /// Make an installed key the primary one everywhere.
    #[arg(long = "use", value_name = "KEY")]
    use_key: Option<String>,
    /// Remove a key (not the primary) from every member.
    #[arg(long, value_name = "KEY")]
    remove: Option<String>,
    /// Relay answers through this many other members (0 to 5).
    #[arg(long = "relay-factor", value_name = "N", default_value_t = 0)]
    relay_factor: u8,
    /// Ask only this datacenter's servers (list only).
    #[arg(long = "local-only")]
    local_only: bool,
}

pub async fn run(args: KeyringArgs) -> anyhow::Result<ExitCode> {
    let chosen = usize::from(args.list)
        + usize::from(args.list_primary)
        + usize::from(args.install.is_some())
        + usize::from(args.use_key.is_some())
        + usize::from(args.remove.is_some());
    if chosen != 1 {
        return Ok(fail("Only a single action is allowed"));
    }
    if args.relay_factor > 5 {
        return Ok(fail(
            "Error parsing relay factor: relay-factor must be between 0 and 5",
        ));
    }
    let client = args.http.client()?;
    let mut params = vec![("relay-factor", args.relay_factor.to_string())];
    if args.list || args.list_primary {
        if args.local_only {
            params.push(("local-only", String::new()));
        }
        let primary = args.list_primary;
        println!(
            "==> Gathering installed {}encryption keys...",
            if primary { "primary " } else { "" }
        );
        let answers: Vec<KeyringResponse> = match client
            .get_json(
                "/v1/operator/keyring",
                &proconsul_api::client::QueryOptions::params(params),
            )
            .await
        {
            Ok((answers, _)) => answers,
            Err(error) => return Ok(fail(format!("error: {error}"))),
        };
        let mut failed = false;
        for answer in &answers {
            failed |= !answer.messages.is_empty();
            println!("{}", render(answer, primary));
        }
        return Ok(if failed {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        });
    }
    let (key, announce, done) = if let Some(key) = args.install {
        (
            key,
            "Installing new gossip encryption key...",
            "Successfully installed key!",
        )
    } else if let Some(key) = args.use_key {
        (
            key,
            "Changing primary gossip encryption key...",
            "Successfully changed primary key!",
        )
    } else {
        let key = args.remove.unwrap_or_default();
        (
            key,
            "Removing gossip encryption key...",
            "Successfully removed key!",
        )
    };
    println!("==> {announce}");
    let body = serde_json::to_vec(&KeyringRequest { key })?;
    let path = "/v1/operator/keyring";
    let result: Result<(), _> = if announce.starts_with("Installing") {
        client.post_raw(path, &params, body).await
    } else if announce.starts_with("Changing") {
        client.put_raw(path, &params, body).await
    } else {
        client.delete_raw(path, &params, body).await
    };
    Ok(match result {
        Ok(()) => {
            println!("==> {done}");
            ExitCode::SUCCESS
        }
        Err(error) => fail(format!("error: {error}")),
    })
}

/// One pool's answer as `consul keyring` prints it: the pool, members' errors, then each
/// key with how many of the pool's members hold it.
fn render(answer: &KeyringResponse, primary: bool) -> String {
    let pool = if answer.wan {
        "WAN".to_string()
    } else {
        format!("{} (LAN)", answer.datacenter)
    };
    let mut text = format!("\n{pool}:\n");
    for (node, message) in &answer.messages {
        text.push_str(&format!("  {node}: {message}\n"));
    }
    let keys = if primary {
        &answer.primary_keys
    } else {
        &answer.keys
    };
    for (key, count) in keys {
        text.push_str(&format!("  {key} [{count}/{}]\n", answer.num_nodes));
    }
    text.trim_end_matches('\n').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_a_pool_like_consul_keyring() {
        let answer = KeyringResponse {
            datacenter: "dc1".to_string(),
            keys: [("a".to_string(), 3), ("b".to_string(), 2)].into(),
            primary_keys: [("a".to_string(), 3)].into(),
            num_nodes: 3,
            ..KeyringResponse::default()
        };
        assert_eq!(render(&answer, false), "\ndc1 (LAN):\n  a [3/3]\n  b [2/3]");
        assert_eq!(render(&answer, true), "\ndc1 (LAN):\n  a [3/3]");
    }
}
