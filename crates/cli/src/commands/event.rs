//! `proconsul event`: fires a user event, as `consul event` does.

use std::process::ExitCode;

use clap::Args;
use proconsul_api::UserEvent;
use proconsul_api::client::path_segment;

use crate::commands::{HttpArgs, fail};

#[derive(Debug, Args)]
pub struct EventArgs {
    #[command(flatten)]
    http: HttpArgs,
    /// The event's name.
    #[arg(long)]
    name: String,
    /// Only nodes whose name matches this regular expression.
    #[arg(long, value_name = "REGEX", default_value = "")]
    node: String,
    /// Only nodes running a service whose name matches this regular expression.
    #[arg(long, value_name = "REGEX", default_value = "")]
    service: String,
    /// With -service: only instances with a tag matching this regular expression.
    #[arg(long, value_name = "REGEX", default_value = "")]
    tag: String,
    /// The payload.
    payload: Option<String>,
}

pub async fn run(args: EventArgs) -> anyhow::Result<ExitCode> {
    if !args.tag.is_empty() && args.service.is_empty() {
        return Ok(fail("Cannot provide tag filter without service filter."));
    }
    let client = args.http.client()?;
    let mut params = Vec::new();
    for (name, value) in [
        ("node", &args.node),
        ("service", &args.service),
        ("tag", &args.tag),
    ] {
        if !value.is_empty() {
            params.push((name, value.clone()));
        }
    }
    let path = format!("/v1/event/fire/{}", path_segment(&args.name));
    let payload = args.payload.unwrap_or_default().into_bytes();
    match client.put_raw::<UserEvent>(&path, &params, payload).await {
        Ok(event) => {
            println!("Event ID: {}", event.id);
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => Ok(fail(format!("Error firing event: {error}"))),
    }
}
