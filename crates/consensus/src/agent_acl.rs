//! Server RPC for client agents with ACLs: a client asks a server what a token grants
//! (it holds no ACL tables of its own), and its own catalog writes carry the token
//! they are made with, which the server checks before proposing them.
//!
//! Consensus carries both without knowing ACLs: the agent's installed
//! [`ForwardedRequests`](crate::agent_rpc::ForwardedRequests) resolves tokens and vets
//! writes against the server's replica.

use std::net::SocketAddr;
use std::time::Duration;

use proconsul_api::acl::{AclNodeIdentity, AclServiceIdentity, AclTemplatedPolicy};
use proconsul_api::go_time::GoTime;
use proconsul_state::Command;
use serde::{Deserialize, Serialize};

use crate::agent_rpc::{AgentCallError, ServerRpcClient};
use crate::rpc::messages::{self, Answer};

/// What a client agent sends on `/agent/write`: one of its own catalog writes and the
/// secret it is made with (empty: the anonymous token).
#[derive(Debug, Serialize, Deserialize)]
pub struct AgentWrite {
    pub command: Command,
    pub token: String,
}

/// A client agent asks what the token with this secret grants.
#[derive(Debug, Serialize, Deserialize)]
pub struct TokenGrantRequest {
    pub secret: String,
}

/// One policy a token carries: its rules text, compiled by the client, and where it
/// applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantedPolicy {
    pub name: String,
    pub rules: String,
    pub datacenters: Vec<String>,
}

/// Everything a token grants, gathered through its roles, as a server resolved it:
/// the client compiles it with its own default policy and datacenter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenGrant {
    /// Empty for the anonymous token before the leader created it.
    pub accessor_id: String,
    pub expiration_time: Option<GoTime>,
    pub policies: Vec<GrantedPolicy>,
    pub service_identities: Vec<AclServiceIdentity>,
    pub node_identities: Vec<AclNodeIdentity>,
    pub templated_policies: Vec<AclTemplatedPolicy>,
}

/// A server's answer about a token: what it grants, or why it does not resolve.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TokenLookup {
    Found(TokenGrant),
    /// No such token, or it has expired.
    NotFound,
    /// No token can exist yet: the cluster was never bootstrapped.
    NotBootstrapped,
}

/// The longest a token lookup may take (it reads the server's replica, no round trip).
const TOKEN_TIMEOUT: Duration = Duration::from_secs(10);

impl ServerRpcClient {
    /// What the token with `secret` grants, as the server at `addr` knows it.
    pub async fn token_grant(
        &self,
        addr: SocketAddr,
        secret: &str,
    ) -> Result<TokenLookup, AgentCallError> {
        let request = TokenGrantRequest {
            secret: secret.to_string(),
        };
        let answer: Answer<TokenLookup> = self
            .rpc
            .call(
                &addr.to_string(),
                messages::AGENT_ACL_TOKEN,
                &request,
                TOKEN_TIMEOUT,
            )
            .await?;
        Ok(answer?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grant_survives_postcard() {
        let grant = TokenLookup::Found(TokenGrant {
            accessor_id: "a-b".to_string(),
            expiration_time: Some(GoTime::from(std::time::SystemTime::UNIX_EPOCH)),
            policies: vec![GrantedPolicy {
                name: "p".to_string(),
                rules: "node_prefix \"\" { policy = \"read\" }".to_string(),
                datacenters: vec!["dc1".to_string()],
            }],
            service_identities: vec![AclServiceIdentity {
                service_name: "web".to_string(),
                datacenters: Vec::new(),
            }],
            node_identities: Vec::new(),
            templated_policies: Vec::new(),
        });
        let bytes = postcard::to_allocvec(&grant).unwrap();
        let back: TokenLookup = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(back, grant);
    }
}
