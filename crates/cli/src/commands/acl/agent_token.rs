//! `proconsul acl set-agent-token TYPE TOKEN`: sets one of the tokens the agent uses
//! for its own requests (`PUT /v1/agent/token/:type`). TOKEN may be `@file` or `-`
//! (stdin), so that a secret need not appear in the process list.

use std::process::ExitCode;

use clap::Args;

use crate::commands::kv::read_value;
use crate::commands::{HttpArgs, fail};

#[derive(Debug, Args)]
pub struct SetAgentTokenArgs {
    #[command(flatten)]
    http: HttpArgs,
    /// default, agent, recovery, replication, config_file_service_registration or dns.
    #[arg(value_name = "TYPE")]
    kind: Option<String>,
    /// The token's SecretID, `@file` or `-` (stdin).
    #[arg(value_name = "TOKEN", allow_hyphen_values = true)]
    secret: Option<String>,
}

/// The `/v1/agent/token/:type` segment for a CLI token type (`master` is the pre-1.11
/// name of `recovery`).
fn endpoint_kind(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "default" => "default",
        "agent" => "agent",
        "recovery" | "master" => "agent_recovery",
        "replication" => "replication",
        "config_file_service_registration" => "config_file_service_registration",
        "dns" => "dns",
        _ => return None,
    })
}

pub async fn run(args: SetAgentTokenArgs) -> anyhow::Result<ExitCode> {
    let (Some(kind), Some(secret)) = (args.kind.as_deref(), args.secret.as_deref()) else {
        return Ok(fail("Missing TYPE and TOKEN arguments"));
    };
    let Some(endpoint) = endpoint_kind(kind) else {
        return Ok(fail(format!("Unknown token type {kind:?}")));
    };
    let secret = match read_value(Some(secret), &mut std::io::stdin()) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).trim().to_string(),
        Err(error) => return Ok(fail(format!("Failed to set ACL token {kind:?}: {error}"))),
    };
    let client = args.http.client()?;
    match client.agent_token_set(endpoint, &secret).await {
        Ok(()) => {
            println!("ACL token {kind:?} set successfully");
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => Ok(fail(format!("Failed to set ACL token {kind:?}: {error}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_types_map_to_endpoint_types() {
        assert_eq!(endpoint_kind("default"), Some("default"));
        assert_eq!(endpoint_kind("recovery"), Some("agent_recovery"));
        assert_eq!(endpoint_kind("master"), Some("agent_recovery"));
        assert_eq!(
            endpoint_kind("config_file_service_registration"),
            Some("config_file_service_registration")
        );
        assert_eq!(endpoint_kind("dns"), Some("dns"));
        assert_eq!(endpoint_kind("agent_recovery"), None);
        assert_eq!(endpoint_kind("bogus"), None);
    }
}
