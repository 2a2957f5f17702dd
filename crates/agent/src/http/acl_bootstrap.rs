//! `PUT /v1/acl/bootstrap` (the first management token, once) and
//! `GET /v1/acl/replication` (the status of `acl_replication.rs`).
//!
//! Bootstrap answers the token with a leading `"ID"` (the secret), as Consul's
//! `aclBootstrapResponse` does. Once done (by this endpoint or by the leader creating
//! `acl.tokens.initial_management`) it answers 403 `Permission denied: ACL bootstrap no
//! longer allowed (reset index: N)`; an operator who lost every management token writes
//! N into `<data_dir>/acl-bootstrap-reset` to allow one more, and the file is removed
//! once that bootstrap succeeded.

use std::path::PathBuf;

use axum::body::Bytes;
use axum::http::HeaderMap;
use axum::response::Response;
use proconsul_consensus::agent_rpc::ForwardedHttpRequest;
use proconsul_state::{AclBootstrap, AclOutcome, Command, CommandOutcome, looks_like_uuid};
use serde::{Deserialize, Serialize};

use crate::http::acl::{apply, new_id, now};
use crate::http::acl_decode::decode_strict;
use crate::http::acl_token_answer::TokenAnswer;
use crate::http::context::Ctx;
use crate::http::error::ApiError;
use crate::http::forward::into_response;
use crate::http::respond::json;

/// The file an operator writes the reset index into.
pub const RESET_FILE: &str = "acl-bootstrap-reset";

/// The optional body: `api.BootstrapRequest`.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct BootstrapRequest {
    bootstrap_secret: String,
}

/// `PUT /v1/acl/bootstrap`.
pub async fn bootstrap(ctx: Ctx, body: Bytes) -> Result<Response, ApiError> {
    let request: BootstrapRequest = if body.is_empty() {
        BootstrapRequest::default()
    } else {
        decode_strict(&body, "Request decoding failed")?
    };
    let secret = if request.bootstrap_secret.is_empty() {
        new_id()
    } else if looks_like_uuid(&request.bootstrap_secret) {
        request.bootstrap_secret
    } else {
        return Err(ApiError::internal(
            "Invalid bootstrap secret: not a valid UUID",
        ));
    };
    let reset_file = reset_file(&ctx);
    let reset_index = reset_file.as_deref().map_or(0, read_reset_index);
    let command = Command::AclBootstrap(Box::new(AclBootstrap {
        accessor_id: new_id(),
        secret_id: secret,
        now: now(),
        reset_index,
    }));
    let token = match apply(&ctx, command).await? {
        CommandOutcome::Acl(AclOutcome::Token(token)) => token,
        other => {
            return Err(ApiError::internal(format!(
                "unexpected outcome of a bootstrap: {other:?}"
            )));
        }
    };
    if reset_index != 0
        && let Some(path) = reset_file
        && let Err(error) = std::fs::remove_file(&path)
    {
        tracing::warn!(path = %path.display(), %error, "failed to remove bootstrap file");
    }
    tracing::info!("ACL bootstrap completed");
    Ok(json(
        &TokenAnswer::new(&token).with_id(),
        ctx.options.pretty,
    ))
}

/// `<data_dir>/acl-bootstrap-reset`, for a server with a data dir.
fn reset_file(ctx: &Ctx) -> Option<PathBuf> {
    let config = &ctx.agent.config;
    config
        .data_dir
        .as_ref()
        .filter(|_| !config.dev)
        .map(|dir| dir.join(RESET_FILE))
}

/// The index in the reset file: its leading decimal number (Go's `Sscanf("%d")`), 0 when
/// there is no file or no number.
fn read_reset_index(path: &std::path::Path) -> u64 {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) => {
            if error.kind() != std::io::ErrorKind::NotFound {
                tracing::error!(path = %path.display(), %error, "bootstrap: failed to read path");
            }
            return 0;
        }
    };
    let digits: String = text
        .trim_start()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().unwrap_or_else(|_| {
        tracing::error!(path = %path.display(), "failed to parse bootstrap reset index path");
        0
    })
}

/// Marks a status request a follower passed to its leader, which answers it itself.
const LEADER_HOP: &str = "x-proconsul-leader-hop";

/// `GET /v1/acl/replication`: the replication status of this datacenter's leader, which
/// alone replicates (`acl_replication.rs`; a follower asks it, as Consul forwards the
/// call); in the primary datacenter Consul's zero status (not enabled, not running, no
/// source).
pub async fn replication(ctx: Ctx, headers: HeaderMap) -> Response {
    if let Ok(consensus) = ctx.agent.consensus()
        && ctx.agent.config.is_acl_secondary()
        && !consensus.is_leader()
        && !headers.contains_key(LEADER_HOP)
    {
        let request = ForwardedHttpRequest {
            method: "GET".to_string(),
            uri: if ctx.options.pretty {
                "/v1/acl/replication?pretty".to_string()
            } else {
                "/v1/acl/replication".to_string()
            },
            headers: vec![(LEADER_HOP.to_string(), b"1".to_vec())],
            body: Vec::new(),
            peer: None,
            origin: Vec::new(),
        };
        match consensus
            .http_on_leader(&request, std::time::Duration::from_secs(10))
            .await
        {
            Some(Ok(answer)) => return into_response(answer),
            Some(Err(error)) => {
                tracing::debug!(%error, "acl: the leader's replication status is out of reach");
            }
            None => {}
        }
    }
    json(&ctx.agent.acl_replication.current(), ctx.options.pretty)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reset_index_is_the_leading_number() {
        let dir = std::env::temp_dir().join(format!("proconsul-reset-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(RESET_FILE);
        assert_eq!(read_reset_index(&path), 0, "no file");
        for (text, index) in [("13", 13), ("  42\n", 42), ("7 trailing", 7), ("x", 0)] {
            std::fs::write(&path, text).unwrap();
            assert_eq!(read_reset_index(&path), index, "{text:?}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
