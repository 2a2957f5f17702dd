//! `proconsul watch`: Consul's watches. A blocking query on one view (a key, a key
//! prefix, the services, the nodes, one service's health, checks, events) runs in a
//! loop; each time the answer's index moves, the JSON answer goes to the handler's
//! stdin (with `CONSUL_INDEX` set), or without a handler is printed once.

use std::process::{ExitCode, Stdio};
use std::time::Duration;

use clap::Args;
use proconsul_api::client::{Client, QueryOptions, kv_path, path_segment};
use serde_json::Value;
use tokio::io::AsyncWriteExt;

use crate::commands::{HttpArgs, fail};

#[derive(Debug, Args)]
pub struct WatchArgs {
    #[command(flatten)]
    http: HttpArgs,
    /// key, keyprefix, services, nodes, service, checks or event.
    #[arg(long = "type", value_name = "TYPE")]
    kind: String,
    /// For -type=key.
    #[arg(long)]
    key: Option<String>,
    /// For -type=keyprefix.
    #[arg(long)]
    prefix: Option<String>,
    /// For -type=service (required) and -type=checks.
    #[arg(long)]
    service: Option<String>,
    /// For -type=service: only instances with this tag.
    #[arg(long)]
    tag: Option<String>,
    /// For -type=service: only passing instances.
    #[arg(long = "passingonly")]
    passing_only: bool,
    /// For -type=checks: only checks in this state.
    #[arg(long)]
    state: Option<String>,
    /// For -type=event: only events with this name.
    #[arg(long)]
    name: Option<String>,
    /// The handler command, run through `sh -c` with the JSON answer on stdin.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    handler: Vec<String>,
}

/// The view a watch reads: a path and its parameters; a missing KV key reads as null.
fn view(args: &WatchArgs) -> Result<(String, Vec<(String, String)>), String> {
    let required = |value: &Option<String>, flag: &str| {
        value
            .clone()
            .filter(|value| !value.is_empty())
            .ok_or_else(|| format!("Must specify a single {flag} to watch"))
    };
    let mut params = Vec::new();
    let path = match args.kind.as_str() {
        "key" => kv_path(&required(&args.key, "key")?),
        "keyprefix" => {
            params.push(("recurse".to_string(), String::new()));
            kv_path(&required(&args.prefix, "prefix")?)
        }
        "services" => "/v1/catalog/services".to_string(),
        "nodes" => "/v1/catalog/nodes".to_string(),
        "service" => {
            if let Some(tag) = &args.tag {
                params.push(("tag".to_string(), tag.clone()));
            }
            if args.passing_only {
                params.push(("passing".to_string(), String::new()));
            }
            format!(
                "/v1/health/service/{}",
                path_segment(&required(&args.service, "service")?)
            )
        }
        "checks" => match (&args.service, &args.state) {
            (Some(service), _) => format!("/v1/health/checks/{}", path_segment(service)),
            (None, state) => format!(
                "/v1/health/state/{}",
                path_segment(state.as_deref().unwrap_or("any"))
            ),
        },
        "event" => {
            if let Some(name) = &args.name {
                params.push(("name".to_string(), name.clone()));
            }
            "/v1/event/list".to_string()
        }
        other => return Err(format!("Unsupported watch type: {other:?}")),
    };
    Ok((path, params))
}

pub async fn run(args: WatchArgs) -> anyhow::Result<ExitCode> {
    let (path, params) = match view(&args) {
        Ok(view) => view,
        Err(message) => return Ok(fail(message)),
    };
    let client = args.http.client()?;
    let mut index = 0;
    loop {
        let options = QueryOptions {
            index: (index > 0).then_some(index),
            wait: Some(Duration::from_secs(300)),
            params: params.clone(),
            ..QueryOptions::default()
        };
        let (mut answer, meta) = match read(&client, &path, &options).await {
            Ok(read) => read,
            Err(error) => {
                if args.handler.is_empty() {
                    return Ok(fail(format!("Error querying Consul agent: {error}")));
                }
                eprintln!("watch: {error}; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if meta.index == index {
            continue;
        }
        index = meta.index;
        if args.kind == "key" {
            // A key watch hands over the entry itself, not the one-element list.
            answer = answer.get(0).cloned().unwrap_or(Value::Null);
        }
        let text = serde_json::to_string_pretty(&answer)?;
        if args.handler.is_empty() {
            println!("{text}");
            return Ok(ExitCode::SUCCESS);
        }
        if let Err(error) = handle(&args.handler, &text, index).await {
            eprintln!("watch: handler failed: {error}");
        }
    }
}

async fn read(
    client: &Client,
    path: &str,
    options: &QueryOptions,
) -> Result<(Value, proconsul_api::client::QueryMeta), proconsul_api::client::ClientError> {
    let (answer, meta) = client.get_json_optional::<Value>(path, options).await?;
    Ok((answer.unwrap_or(Value::Null), meta))
}

async fn handle(handler: &[String], json: &str, index: u64) -> std::io::Result<()> {
    let mut child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(handler.join(" "))
        .env("CONSUL_INDEX", index.to_string())
        .stdin(Stdio::piped())
        .spawn()?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(json.as_bytes()).await?;
    }
    child.wait().await?;
    Ok(())
}
