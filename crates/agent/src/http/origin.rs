//! The agent a forwarded request came through. A client agent forwards what it does not
//! serve itself to a server, and the few answers that depend on "this agent" (a
//! session's default node, the user events this agent would receive, prepared queries'
//! `Near: "_agent"`) must speak of the client, not the server answering. The server
//! puts the decoded [`Origin`] in the request's extensions, where external requests
//! cannot put anything, and [`crate::http::context::Ctx`] reads it.

use proconsul_api::AgentService;
use serde::{Deserialize, Serialize};

/// The forwarding agent's facts that answers about "this agent" need.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Origin {
    /// Its node name.
    pub node: String,
    /// Its services, sent only with `/v1/event/list` (events are filtered by them).
    pub services: Vec<AgentService>,
}

impl Origin {
    /// The encoding [`proconsul_consensus::agent_rpc::ForwardedHttpRequest::origin`]
    /// carries.
    pub fn encode(&self) -> Vec<u8> {
        postcard::to_allocvec(self).unwrap_or_default()
    }

    /// The origin of a forwarded request; `None` for one that carries none.
    pub fn decode(bytes: &[u8]) -> Option<Origin> {
        (!bytes.is_empty())
            .then(|| postcard::from_bytes(bytes).ok())
            .flatten()
    }

    /// Whether a request to `path` needs the agent's services.
    pub fn needs_services(path: &str) -> bool {
        path == "/v1/event/list"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_origin_survives_its_encoding() {
        let origin = Origin {
            node: "client-1".to_string(),
            services: vec![AgentService {
                id: "web".to_string(),
                service: "web".to_string(),
                tags: vec!["v1".to_string()],
                ..AgentService::default()
            }],
        };
        let back = Origin::decode(&origin.encode()).unwrap();
        assert_eq!(back.node, "client-1");
        assert_eq!(back.services, origin.services);
        assert!(Origin::decode(&[]).is_none());
    }
}
