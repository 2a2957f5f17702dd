//! A small async client for the HTTP API, used by the CLI, the tests and benchmarks.
//! It reads `CONSUL_HTTP_ADDR` and `CONSUL_HTTP_TOKEN` like Consul's own tools.

use std::collections::BTreeMap;

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde::de::DeserializeOwned;

use crate::catalog::{AgentMember, Node};
use crate::kv::KvPair;

/// Characters escaped in a KV key; `/` stays, because it separates key segments.
const KEY_ESCAPES: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'?')
    .add(b'<')
    .add(b'>')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'+')
    .add(b'&')
    .add(b'=')
    .add(b';')
    .add(b'\\')
    .add(b'^')
    .add(b'|')
    .add(b'[')
    .add(b']');

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The agent answered with an error status; Consul's bodies are plain text.
    #[error("Unexpected response code: {status} ({body})")]
    Http { status: u16, body: String },
    #[error("{0}")]
    Transport(#[from] reqwest::Error),
    #[error("invalid HTTP address {0:?}")]
    Address(String),
}

/// What a read's response headers say about it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueryMeta {
    pub index: u64,
    pub known_leader: bool,
    pub last_contact_ms: u64,
}

/// An HTTP API client for one agent.
#[derive(Debug, Clone)]
pub struct Client {
    base: String,
    token: Option<String>,
    http: reqwest::Client,
}

impl Client {
    /// A client for `addr`: `127.0.0.1:8500` or `http://127.0.0.1:8500`.
    pub fn new(addr: &str) -> Result<Client, ClientError> {
        let addr = addr.trim().trim_end_matches('/');
        if addr.is_empty() {
            return Err(ClientError::Address(addr.to_string()));
        }
        let base = if addr.contains("://") {
            if !addr.starts_with("http://") {
                return Err(ClientError::Address(addr.to_string()));
            }
            addr.to_string()
        } else {
            format!("http://{addr}")
        };
        Ok(Client {
            base,
            token: None,
            http: reqwest::Client::new(),
        })
    }

    /// A client configured from `CONSUL_HTTP_ADDR` and `CONSUL_HTTP_TOKEN`.
    pub fn from_env() -> Result<Client, ClientError> {
        let addr = std::env::var("CONSUL_HTTP_ADDR").unwrap_or_else(|_| "127.0.0.1:8500".into());
        let token = std::env::var("CONSUL_HTTP_TOKEN").ok();
        Ok(Client::new(&addr)?.with_token(token))
    }

    /// Sends `token` as `X-Consul-Token` on every request.
    pub fn with_token(mut self, token: Option<String>) -> Client {
        self.token = token.filter(|token| !token.is_empty());
        self
    }

    /// The base URL, e.g. `http://127.0.0.1:8500`.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        query: &[(&str, String)],
    ) -> reqwest::RequestBuilder {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .query(query);
        if let Some(token) = &self.token {
            request = request.header("X-Consul-Token", token);
        }
        request
    }

    async fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, ClientError> {
        let response = request.send().await?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let body = response.text().await.unwrap_or_default();
        Err(ClientError::Http {
            status: status.as_u16(),
            body: body.trim().to_string(),
        })
    }

    /// `GET path` decoded as JSON, with its query metadata; `None` on a 404.
    pub async fn get_json<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Option<(T, QueryMeta)>, ClientError> {
        let request = self.request(reqwest::Method::GET, path, query);
        match self.send(request).await {
            Ok(response) => {
                let meta = query_meta(&response);
                Ok(Some((response.json().await?, meta)))
            }
            Err(ClientError::Http { status: 404, .. }) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// `PUT path` with a raw body, answered with JSON (`true`/`false` for KV).
    pub async fn put_raw<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
        body: Vec<u8>,
    ) -> Result<T, ClientError> {
        let request = self.request(reqwest::Method::PUT, path, query).body(body);
        Ok(self.send(request).await?.json().await?)
    }

    /// One KV entry.
    pub async fn kv_get(&self, key: &str) -> Result<Option<KvPair>, ClientError> {
        let entries: Option<(Vec<KvPair>, _)> = self.get_json(&kv_path(key), &[]).await?;
        Ok(entries.and_then(|(entries, _)| entries.into_iter().next()))
    }

    /// Every entry under a prefix.
    pub async fn kv_list(&self, prefix: &str) -> Result<Vec<KvPair>, ClientError> {
        let query = [("recurse", String::new())];
        let entries: Option<(Vec<KvPair>, _)> = self.get_json(&kv_path(prefix), &query).await?;
        Ok(entries.map(|(entries, _)| entries).unwrap_or_default())
    }

    /// The keys under a prefix, folded at `separator` when given.
    pub async fn kv_keys(
        &self,
        prefix: &str,
        separator: Option<&str>,
    ) -> Result<Vec<String>, ClientError> {
        let mut query = vec![("keys", String::new())];
        if let Some(separator) = separator {
            query.push(("separator", separator.to_string()));
        }
        let keys: Option<(Vec<String>, _)> = self.get_json(&kv_path(prefix), &query).await?;
        Ok(keys.map(|(keys, _)| keys).unwrap_or_default())
    }

    /// Writes a value; `false` when a `cas` condition did not hold.
    pub async fn kv_put(
        &self,
        key: &str,
        value: &[u8],
        flags: Option<u64>,
        cas: Option<u64>,
    ) -> Result<bool, ClientError> {
        let mut query = Vec::new();
        if let Some(flags) = flags {
            query.push(("flags", flags.to_string()));
        }
        if let Some(cas) = cas {
            query.push(("cas", cas.to_string()));
        }
        self.put_raw(&kv_path(key), &query, value.to_vec()).await
    }

    /// Deletes a key, or a whole prefix with `recurse`.
    pub async fn kv_delete(
        &self,
        key: &str,
        recurse: bool,
        cas: Option<u64>,
    ) -> Result<bool, ClientError> {
        let mut query = Vec::new();
        if recurse {
            query.push(("recurse", String::new()));
        }
        if let Some(cas) = cas {
            query.push(("cas", cas.to_string()));
        }
        let request = self.request(reqwest::Method::DELETE, &kv_path(key), &query);
        Ok(self.send(request).await?.json().await?)
    }

    /// `GET /v1/catalog/datacenters`.
    pub async fn catalog_datacenters(&self) -> Result<Vec<String>, ClientError> {
        self.get_required("/v1/catalog/datacenters").await
    }

    /// `GET /v1/catalog/nodes`.
    pub async fn catalog_nodes(&self) -> Result<Vec<Node>, ClientError> {
        self.get_required("/v1/catalog/nodes").await
    }

    /// `GET /v1/catalog/services`: service names and their tags.
    pub async fn catalog_services(&self) -> Result<BTreeMap<String, Vec<String>>, ClientError> {
        self.get_required("/v1/catalog/services").await
    }

    /// `GET /v1/agent/members`.
    pub async fn agent_members(&self) -> Result<Vec<AgentMember>, ClientError> {
        self.get_required("/v1/agent/members").await
    }

    /// `GET /v1/agent/self`.
    pub async fn agent_self(&self) -> Result<serde_json::Value, ClientError> {
        self.get_required("/v1/agent/self").await
    }

    /// `GET /v1/status/leader`.
    pub async fn status_leader(&self) -> Result<String, ClientError> {
        self.get_required("/v1/status/leader").await
    }

    async fn get_required<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        match self.get_json(path, &[]).await? {
            Some((value, _)) => Ok(value),
            None => Err(ClientError::Http {
                status: 404,
                body: format!("{path} not found"),
            }),
        }
    }
}

/// `/v1/kv/<key>` with the key escaped segment by segment.
pub fn kv_path(key: &str) -> String {
    format!(
        "/v1/kv/{}",
        utf8_percent_encode(key.trim_start_matches('/'), KEY_ESCAPES)
    )
}

fn query_meta(response: &reqwest::Response) -> QueryMeta {
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_string)
    };
    QueryMeta {
        index: header("x-consul-index")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
        known_leader: header("x-consul-knownleader").as_deref() == Some("true"),
        last_contact_ms: header("x-consul-lastcontact")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_with_and_without_scheme() {
        assert_eq!(
            Client::new("127.0.0.1:8500").unwrap().base_url(),
            "http://127.0.0.1:8500"
        );
        assert_eq!(
            Client::new("http://localhost:1/").unwrap().base_url(),
            "http://localhost:1"
        );
        assert!(Client::new("").is_err());
        assert!(Client::new("ftp://x").is_err());
    }

    #[test]
    fn keys_are_escaped_but_keep_slashes() {
        assert_eq!(kv_path("a/b c"), "/v1/kv/a/b%20c");
        assert_eq!(kv_path("/lead"), "/v1/kv/lead");
        assert_eq!(kv_path("q?x=1&y#z%"), "/v1/kv/q%3Fx%3D1%26y%23z%25");
        assert_eq!(kv_path("ключ"), "/v1/kv/%D0%BA%D0%BB%D1%8E%D1%87");
    }
}
