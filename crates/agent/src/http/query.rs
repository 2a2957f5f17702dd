//! Query-string options shared by every endpoint: blocking (`?index`, `?wait`),
//! consistency modes, `?dc`, `?pretty`, tokens, and the response headers that go with them.

use std::time::Duration;

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use proconsul_api::duration::parse_duration;
use rand::Rng;

use crate::acl::Token;
use crate::config::AgentConfig;
use crate::http::error::ApiError;

/// The decoded query string, keeping repeated keys (`?tag=a&tag=b`) in order.
#[derive(Debug, Clone, Default)]
pub struct QueryParams {
    pairs: Vec<(String, String)>,
}

impl QueryParams {
    /// Parses a raw query string. Encoded newlines are refused as Consul refuses them,
    /// because they would let a client forge log lines.
    pub fn parse(raw: Option<&str>) -> Result<QueryParams, ApiError> {
        let raw = raw.unwrap_or("");
        let pairs: Vec<(String, String)> = form_urlencoded::parse(raw.as_bytes())
            .map(|(key, value)| (key.into_owned(), value.into_owned()))
            .collect();
        if pairs
            .iter()
            .any(|(key, value)| key.contains('\n') || value.contains('\n'))
        {
            return Err(ApiError::bad_request(
                "Invalid query: newlines are not allowed in the query string",
            ));
        }
        Ok(QueryParams { pairs })
    }

    /// The first value of `name`, if present (an empty string for `?name`).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// Every value of a repeated parameter.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.pairs
            .iter()
            .filter(move |(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// A boolean flag: present (`?recurse`, `?recurse=1`, `?recurse=true`) unless its
    /// value says false.
    pub fn flag(&self, name: &str) -> bool {
        match self.get(name) {
            None => false,
            Some(value) => !matches!(value.to_ascii_lowercase().as_str(), "false" | "0"),
        }
    }

    /// An unsigned integer parameter; `what` names it in the error.
    pub fn u64(&self, name: &str, what: &str) -> Result<Option<u64>, ApiError> {
        self.get(name)
            .map(|value| {
                value
                    .parse::<u64>()
                    .map_err(|_| ApiError::bad_request(format!("Invalid {what}: {value:?}")))
            })
            .transpose()
    }
}

/// Which server may answer a read, per Consul's consistency modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consistency {
    /// The leader answers, trusting its lease (Consul's default).
    Leader,
    /// Any server answers from its own state.
    Stale,
    /// The leader confirms it still leads with a quorum before answering.
    Consistent,
}

impl Consistency {
    fn header_value(self) -> &'static str {
        match self {
            Consistency::Leader => "leader",
            Consistency::Stale => "stale",
            Consistency::Consistent => "consistent",
        }
    }
}

/// The options every read endpoint understands.
#[derive(Debug, Clone)]
pub struct QueryOptions {
    /// `?index`: answer only once the result's index differs from this one.
    pub min_index: u64,
    /// How long to block, jitter included.
    pub wait: Duration,
    pub consistency: Consistency,
    pub pretty: bool,
    pub token: Token,
    /// `?node-meta=key:value` filters, all of which must match.
    pub node_meta: Vec<(String, String)>,
    /// `?peer=NAME`: read services imported from a cluster peer. No peerings exist yet,
    /// so a peer-scoped read finds nothing.
    pub peer: Option<String>,
}

impl QueryOptions {
    /// Reads the common options from the query string and headers.
    pub fn parse(
        params: &QueryParams,
        headers: &HeaderMap,
        config: &AgentConfig,
    ) -> Result<QueryOptions, ApiError> {
        let min_index = params.u64("index", "index")?.unwrap_or(0);
        let requested_wait = match params.get("wait") {
            None | Some("") => config.default_query_time,
            Some(text) => parse_duration(text)
                .map_err(|_| ApiError::bad_request(format!("Invalid wait time: {text:?}")))?,
        };
        let wait = requested_wait.min(config.max_query_time);
        let wait = wait + jitter(wait);
        let stale = params.flag("stale");
        let consistent = params.flag("consistent");
        let leader = params.flag("leader");
        let consistency = match (stale, consistent, leader) {
            (true, true, _) => {
                return Err(ApiError::bad_request(
                    "Cannot specify ?stale with ?consistent, conflicting semantics.",
                ));
            }
            (true, _, true) | (_, true, true) => {
                return Err(ApiError::bad_request(
                    "Cannot specify ?leader with ?stale or ?consistent, conflicting semantics.",
                ));
            }
            (true, false, false) => Consistency::Stale,
            (false, true, false) => Consistency::Consistent,
            _ => Consistency::Leader,
        };
        if let Some(dc) = params.get("dc")
            && !dc.is_empty()
            && dc != config.datacenter
        {
            return Err(ApiError::internal("No path to datacenter"));
        }
        let node_meta = params
            .all("node-meta")
            .map(|pair| match pair.split_once(':') {
                Some((key, value)) => (key.to_string(), value.to_string()),
                None => (pair.to_string(), String::new()),
            })
            .collect();
        Ok(QueryOptions {
            min_index,
            wait,
            consistency,
            pretty: params.flag("pretty"),
            token: token_of(params, headers),
            node_meta,
            peer: params
                .get("peer")
                .filter(|peer| !peer.is_empty())
                .map(str::to_string),
        })
    }
}

/// Up to wait/16 of random extra time, so that many watchers woken by one write do not
/// all come back at the same instant after a timeout.
fn jitter(wait: Duration) -> Duration {
    let max = wait.as_millis() as u64 / 16;
    if max == 0 {
        return Duration::ZERO;
    }
    Duration::from_millis(rand::rng().random_range(0..=max))
}

/// The request's ACL token: `X-Consul-Token`, then `Authorization: Bearer`, then the
/// deprecated `?token=`.
pub fn token_of(params: &QueryParams, headers: &HeaderMap) -> Token {
    let header_token = headers
        .get("x-consul-token")
        .and_then(|value| value.to_str().ok())
        .map(str::to_string);
    let bearer = || {
        headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(|token| token.trim().to_string())
    };
    let query = || params.get("token").map(str::to_string);
    Token(
        header_token
            .or_else(bearer)
            .or_else(query)
            .filter(|token| !token.is_empty()),
    )
}

/// What a read response says about the data it returns.
#[derive(Debug, Clone, Copy)]
pub struct QueryMeta {
    pub index: u64,
    pub known_leader: bool,
    pub last_contact: Duration,
    pub consistency: Consistency,
    /// ACLs left something out of the answer of a request that named a token (the
    /// header is written by [`crate::http::acl_headers`]; bodies that embed a
    /// `QueryMeta` carry it too).
    pub results_filtered_by_acls: bool,
}

// Parsed once: every read answers with these, and a woken blocking query is mostly
// answer headers and a socket write.
const X_CONSUL_INDEX: HeaderName = HeaderName::from_static("x-consul-index");
const X_CONSUL_KNOWN_LEADER: HeaderName = HeaderName::from_static("x-consul-knownleader");
const X_CONSUL_LAST_CONTACT: HeaderName = HeaderName::from_static("x-consul-lastcontact");
const X_CONSUL_EFFECTIVE_CONSISTENCY: HeaderName =
    HeaderName::from_static("x-consul-effective-consistency");

impl QueryMeta {
    /// Writes Consul's `X-Consul-*` headers. The index is never 0: a client that sends
    /// `?index=0` back would not block at all.
    pub fn write_headers(&self, headers: &mut HeaderMap) {
        headers.insert(X_CONSUL_INDEX, HeaderValue::from(self.index.max(1)));
        headers.insert(
            X_CONSUL_KNOWN_LEADER,
            HeaderValue::from_static(if self.known_leader { "true" } else { "false" }),
        );
        headers.insert(
            X_CONSUL_LAST_CONTACT,
            HeaderValue::from(self.last_contact.as_millis() as u64),
        );
        headers.insert(
            X_CONSUL_EFFECTIVE_CONSISTENCY,
            HeaderValue::from_static(self.consistency.header_value()),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(query: &str) -> Result<QueryOptions, ApiError> {
        let params = QueryParams::parse(Some(query)).unwrap();
        QueryOptions::parse(&params, &HeaderMap::new(), &AgentConfig::default())
    }

    #[test]
    fn waits_are_go_durations_capped_at_the_maximum() {
        let wait = options("index=5&wait=4.998s").unwrap().wait;
        assert!(wait >= Duration::from_millis(4998));
        assert!(wait <= Duration::from_millis(4998 + 4998 / 16));
        let wait = options("wait=15000ms").unwrap().wait;
        assert!(wait >= Duration::from_secs(15));
        let wait = options("wait=1h").unwrap().wait;
        assert!(wait <= Duration::from_millis(600_000 + 600_000 / 16));
        assert!(wait >= Duration::from_secs(600));
    }

    #[test]
    fn bad_values_are_refused_with_400() {
        for query in ["wait=soon", "index=-1", "index=abc", "stale&consistent"] {
            let error = options(query).unwrap_err();
            assert_eq!(error.status, 400, "{query}");
        }
        assert_eq!(
            options("dc=elsewhere").unwrap_err().message,
            "No path to datacenter"
        );
        assert!(options("dc=dc1").is_ok());
    }

    #[test]
    fn repeated_parameters_and_flags() {
        let params = QueryParams::parse(Some("tag=a&tag=b&recurse&raw=false&passing=1")).unwrap();
        assert_eq!(params.all("tag").collect::<Vec<_>>(), ["a", "b"]);
        assert!(params.flag("recurse"));
        assert!(!params.flag("raw"));
        assert!(params.flag("passing"));
        assert!(!params.flag("keys"));
        assert!(QueryParams::parse(Some("key=a%0Ab")).is_err());
    }

    #[test]
    fn tokens_come_from_header_bearer_or_query() {
        let mut headers = HeaderMap::new();
        let params = QueryParams::parse(Some("token=q")).unwrap();
        assert_eq!(token_of(&params, &headers), Token(Some("q".into())));
        headers.insert("authorization", HeaderValue::from_static("Bearer b"));
        assert_eq!(token_of(&params, &headers), Token(Some("b".into())));
        headers.insert("x-consul-token", HeaderValue::from_static("h"));
        assert_eq!(token_of(&params, &headers), Token(Some("h".into())));
    }
}
