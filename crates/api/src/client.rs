//! A small async client for the HTTP API, used by the CLI, the tests and benchmarks.
//!
//! It reads `CONSUL_HTTP_ADDR` and `CONSUL_HTTP_TOKEN` like Consul's own tools, returns
//! the wire types of this crate, and surfaces the `X-Consul-*` headers of reads as
//! [`QueryMeta`] so callers can run blocking queries. Plain HTTP only for now.

use std::collections::BTreeMap;
use std::time::Duration;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::catalog::{AgentMember, CatalogService, Node, NodeServices};
use crate::coordinate::{CoordinateDatacenterMap, CoordinateEntry};
use crate::kv::KvPair;

mod acl;
mod progress_body;

pub use acl::AclTokenExpanded;

/// The address used when neither the caller nor `CONSUL_HTTP_ADDR` names one.
pub const DEFAULT_HTTP_ADDR: &str = "127.0.0.1:8500";

/// Bytes escaped inside one key segment: everything but RFC 3986's unreserved
/// characters. `/` never reaches this set, because keys are escaped segment by segment.
const SEGMENT_ESCAPES: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The agent answered with an error status. Consul's error bodies are plain text,
    /// kept as they are; the display matches Consul's Go client and CLI.
    #[error("Unexpected response code: {status} ({body})")]
    Http { status: u16, body: String },
    /// The request never got an answer: connection refused, reset, timed out.
    #[error("{}", chain(.0))]
    Transport(#[source] reqwest::Error),
    /// The answer was not the JSON the endpoint documents.
    #[error("cannot decode the response of {path}: {source}")]
    Decode {
        path: String,
        #[source]
        source: serde_json::Error,
    },
    /// The request body could not be serialized.
    #[error("cannot encode the request body for {path}: {source}")]
    Encode {
        path: String,
        #[source]
        source: serde_json::Error,
    },
    /// The address given for the agent is not usable.
    #[error("invalid HTTP address {addr:?}: {reason}")]
    Address { addr: String, reason: String },
}

impl From<reqwest::Error> for ClientError {
    fn from(error: reqwest::Error) -> Self {
        ClientError::Transport(error)
    }
}

impl ClientError {
    /// The HTTP status of an [`ClientError::Http`] error.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Http { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// An error with its causes, `outer: inner: innermost`, so that "connection refused"
/// is not hidden behind reqwest's "error sending request".
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// What a read's response headers say about it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueryMeta {
    /// `X-Consul-Index`: pass it back as [`QueryOptions::index`] to block for changes.
    pub index: u64,
    /// `X-Consul-KnownLeader`.
    pub known_leader: bool,
    /// `X-Consul-LastContact`, in milliseconds.
    pub last_contact_ms: u64,
}

impl QueryMeta {
    /// Reads the `X-Consul-*` headers; absent or malformed ones read as zero/false.
    pub fn from_headers(headers: &reqwest::header::HeaderMap) -> QueryMeta {
        let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
        QueryMeta {
            index: header("x-consul-index")
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0),
            known_leader: header("x-consul-knownleader").map(str::trim) == Some("true"),
            last_contact_ms: header("x-consul-lastcontact")
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0),
        }
    }
}

/// Options of one read, as query parameters. Unset fields fall back to the client's
/// defaults ([`Client::with_datacenter`], [`Client::with_stale`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryOptions {
    /// `?dc=`.
    pub datacenter: Option<String>,
    /// `?stale`: any server may answer.
    pub stale: bool,
    /// `?consistent`: the leader confirms its leadership first.
    pub consistent: bool,
    /// `?index=`: block until the index moves past this one.
    pub index: Option<u64>,
    /// `?wait=`: the longest a blocking query waits (sent in whole milliseconds).
    pub wait: Option<Duration>,
    /// `?filter=`.
    pub filter: Option<String>,
    /// Any other parameters, in order; an empty value is sent as a bare `?name`.
    pub params: Vec<(String, String)>,
}

impl QueryOptions {
    /// Options with just these extra parameters.
    pub fn params<K: Into<String>, V: Into<String>>(
        params: impl IntoIterator<Item = (K, V)>,
    ) -> QueryOptions {
        QueryOptions {
            params: params
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            ..QueryOptions::default()
        }
    }

    /// A blocking query from `index`, waiting at most `wait`.
    pub fn blocking(index: u64, wait: Option<Duration>) -> QueryOptions {
        QueryOptions {
            index: Some(index),
            wait,
            ..QueryOptions::default()
        }
    }
}

/// An HTTP API client for one agent. Cloning is cheap (the connection pool is shared).
#[derive(Debug, Clone)]
pub struct Client {
    base: String,
    token: Option<String>,
    datacenter: Option<String>,
    stale: bool,
    http: reqwest::Client,
}

impl Client {
    /// A client for `addr`: `127.0.0.1:8500`, `localhost:8500` or `http://127.0.0.1:8500`,
    /// as `CONSUL_HTTP_ADDR` accepts them. `https://` needs [`Client::with_tls`].
    pub fn new(addr: &str) -> Result<Client, ClientError> {
        Ok(Client {
            base: base_url(addr, None)?,
            token: None,
            datacenter: None,
            stale: false,
            http: http_client(),
        })
    }

    /// A client for `addr` over TLS with `tls` (an address without a scheme is
    /// `https://`, as with `CONSUL_HTTP_SSL=true`; `http://` stays plain).
    pub fn with_tls(addr: &str, tls: rustls::ClientConfig) -> Result<Client, ClientError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .build()?;
        Ok(Client {
            base: base_url(addr, Some("https"))?,
            token: None,
            datacenter: None,
            stale: false,
            http,
        })
    }

    /// A client configured from `CONSUL_HTTP_ADDR` (default `127.0.0.1:8500`) and
    /// `CONSUL_HTTP_TOKEN`.
    pub fn from_env() -> Result<Client, ClientError> {
        let addr = std::env::var("CONSUL_HTTP_ADDR")
            .ok()
            .filter(|addr| !addr.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_HTTP_ADDR.to_string());
        Ok(Client::new(&addr)?.with_token(std::env::var("CONSUL_HTTP_TOKEN").ok()))
    }

    /// Sends `token` as `X-Consul-Token` on every request (`None` or empty: no token).
    pub fn with_token(mut self, token: Option<String>) -> Client {
        self.token = token.filter(|token| !token.is_empty());
        self
    }

    /// Sends `?dc=` on every request that does not set its own datacenter.
    pub fn with_datacenter(mut self, datacenter: Option<String>) -> Client {
        self.datacenter = datacenter.filter(|dc| !dc.is_empty());
        self
    }

    /// Sends `?stale` on every read.
    pub fn with_stale(mut self, stale: bool) -> Client {
        self.stale = stale;
        self
    }

    /// The base URL, e.g. `http://127.0.0.1:8500`.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// The token sent as `X-Consul-Token`, if any.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// The query string of `options` merged with this client's defaults.
    fn query(&self, options: &QueryOptions, read: bool) -> Vec<(String, String)> {
        let mut query = Vec::new();
        if let Some(dc) = options.datacenter.as_ref().or(self.datacenter.as_ref()) {
            query.push(("dc".to_string(), dc.clone()));
        }
        if read && (options.stale || self.stale) && !options.consistent {
            query.push(("stale".to_string(), String::new()));
        }
        if read && options.consistent {
            query.push(("consistent".to_string(), String::new()));
        }
        if let Some(index) = options.index {
            query.push(("index".to_string(), index.to_string()));
        }
        if let Some(wait) = options.wait {
            query.push(("wait".to_string(), format!("{}ms", wait.as_millis())));
        }
        if let Some(filter) = &options.filter {
            query.push(("filter".to_string(), filter.clone()));
        }
        query.extend(options.params.iter().cloned());
        query
    }

    fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        query: &[(String, String)],
    ) -> reqwest::RequestBuilder {
        let mut url = format!("{}{path}", self.base);
        // Built by hand so that flags such as `?recurse` go out bare, as Consul's
        // clients send them, rather than as `?recurse=`.
        let mut separator = if path.contains('?') { '&' } else { '?' };
        for (name, value) in query {
            url.push(separator);
            separator = '&';
            url.extend(form_encode(name));
            if !value.is_empty() {
                url.push('=');
                url.extend(form_encode(value));
            }
        }
        let mut request = self.http.request(method, url);
        if let Some(token) = &self.token {
            request = request.header("X-Consul-Token", token);
        }
        request
    }

    /// Sends a request; any status but 2xx becomes [`ClientError::Http`].
    async fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, ClientError> {
        let response = request.send().await?;
        if response.status().is_success() {
            Ok(response)
        } else {
            Err(http_error(response).await)
        }
    }

    async fn decode<T: DeserializeOwned>(
        path: &str,
        response: reqwest::Response,
    ) -> Result<T, ClientError> {
        let bytes = response.bytes().await?;
        serde_json::from_slice(&bytes).map_err(|source| ClientError::Decode {
            path: path.to_string(),
            source,
        })
    }

    /// `GET path` decoded as JSON, with its query metadata. A 404 is an error.
    pub async fn get_json<T: DeserializeOwned>(
        &self,
        path: &str,
        options: &QueryOptions,
    ) -> Result<(T, QueryMeta), ClientError> {
        let request = self.request(reqwest::Method::GET, path, &self.query(options, true));
        let response = self.send(request).await?;
        let meta = QueryMeta::from_headers(response.headers());
        Ok((Self::decode(path, response).await?, meta))
    }

    /// `GET path` as raw bytes (a backup file), with its query metadata.
    pub async fn get_bytes(
        &self,
        path: &str,
        options: &QueryOptions,
    ) -> Result<(Vec<u8>, QueryMeta), ClientError> {
        self.get_bytes_with_progress(path, options, |_| {}).await
    }

    /// [`Client::get_bytes`], calling `progress` with the size of each piece of the
    /// body as it arrives (a long download's progress line).
    pub async fn get_bytes_with_progress(
        &self,
        path: &str,
        options: &QueryOptions,
        mut progress: impl FnMut(usize),
    ) -> Result<(Vec<u8>, QueryMeta), ClientError> {
        let request = self.request(reqwest::Method::GET, path, &self.query(options, true));
        let mut response = self.send(request).await?;
        let meta = QueryMeta::from_headers(response.headers());
        let expected = response.content_length().unwrap_or(0);
        let mut bytes = Vec::with_capacity(usize::try_from(expected).unwrap_or(0));
        while let Some(piece) = response.chunk().await? {
            progress(piece.len());
            bytes.extend_from_slice(&piece);
        }
        Ok((bytes, meta))
    }

    /// `GET path` with extra query `params` (an empty value is sent bare), answered
    /// with a body that is read as it arrives (`/v1/agent/monitor`): the response is
    /// returned once its headers are in, for the caller to read with
    /// [`reqwest::Response::chunk`].
    pub async fn get_streaming(
        &self,
        path: &str,
        params: &[(&str, String)],
    ) -> Result<reqwest::Response, ClientError> {
        let options = QueryOptions::params(params.iter().map(|(k, v)| (*k, v.clone())));
        let request = self.request(reqwest::Method::GET, path, &self.query(&options, false));
        self.send(request).await
    }

    /// `GET path` decoded as JSON; `None` on a 404 (a missing KV key), whose query
    /// metadata is still returned so that a blocking query can wait for the key.
    pub async fn get_json_optional<T: DeserializeOwned>(
        &self,
        path: &str,
        options: &QueryOptions,
    ) -> Result<(Option<T>, QueryMeta), ClientError> {
        let request = self.request(reqwest::Method::GET, path, &self.query(options, true));
        let response = request.send().await?;
        let meta = QueryMeta::from_headers(response.headers());
        match response.status() {
            status if status.is_success() => Ok((Some(Self::decode(path, response).await?), meta)),
            reqwest::StatusCode::NOT_FOUND => Ok((None, meta)),
            _ => Err(http_error(response).await),
        }
    }

    /// `PUT path` with `body` as JSON, answered with JSON. `params` are extra query
    /// parameters (an empty value is sent bare).
    pub async fn put_json<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        path: &str,
        params: &[(&str, String)],
        body: &B,
    ) -> Result<T, ClientError> {
        let bytes = serde_json::to_vec(body).map_err(|source| ClientError::Encode {
            path: path.to_string(),
            source,
        })?;
        self.put_raw(path, params, bytes).await
    }

    /// `PUT path` with a raw body, answered with JSON (`true`/`false` for KV). An empty
    /// answer (Consul's agent endpoints) decodes as JSON `null`, so `T = ()` works.
    pub async fn put_raw<T: DeserializeOwned>(
        &self,
        path: &str,
        params: &[(&str, String)],
        body: Vec<u8>,
    ) -> Result<T, ClientError> {
        self.write(reqwest::Method::PUT, path, params, Some(body.into()))
            .await
    }

    /// [`Client::put_raw`], calling `progress` with the size of each piece of `body`
    /// as it goes out (a long upload's progress line).
    pub async fn put_raw_with_progress<T: DeserializeOwned>(
        &self,
        path: &str,
        params: &[(&str, String)],
        body: Vec<u8>,
        progress: impl FnMut(usize) + Send + Sync + Unpin + 'static,
    ) -> Result<T, ClientError> {
        let body = reqwest::Body::wrap(progress_body::ProgressBody::new(body, progress));
        self.write(reqwest::Method::PUT, path, params, Some(body))
            .await
    }

    /// `POST path` with a raw body, answered with JSON.
    pub async fn post_raw<T: DeserializeOwned>(
        &self,
        path: &str,
        params: &[(&str, String)],
        body: Vec<u8>,
    ) -> Result<T, ClientError> {
        self.write(reqwest::Method::POST, path, params, Some(body.into()))
            .await
    }

    /// `DELETE path`, answered with JSON.
    pub async fn delete_json<T: DeserializeOwned>(
        &self,
        path: &str,
        params: &[(&str, String)],
    ) -> Result<T, ClientError> {
        self.write(reqwest::Method::DELETE, path, params, None)
            .await
    }

    /// `DELETE path` with a raw body (the keyring's `{"Key": ...}`), answered with JSON.
    pub async fn delete_raw<T: DeserializeOwned>(
        &self,
        path: &str,
        params: &[(&str, String)],
        body: Vec<u8>,
    ) -> Result<T, ClientError> {
        self.write(reqwest::Method::DELETE, path, params, Some(body.into()))
            .await
    }

    async fn write<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        params: &[(&str, String)],
        body: Option<reqwest::Body>,
    ) -> Result<T, ClientError> {
        let options = QueryOptions::params(params.iter().map(|(k, v)| (*k, v.clone())));
        let mut request = self.request(method, path, &self.query(&options, false));
        if let Some(body) = body {
            request = request.body(body);
        }
        let response = self.send(request).await?;
        let bytes = response.bytes().await?;
        let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
            b"null"
        } else {
            &bytes
        };
        serde_json::from_slice(bytes).map_err(|source| ClientError::Decode {
            path: path.to_string(),
            source,
        })
    }

    /// One KV entry; `None` when the key does not exist.
    pub async fn kv_get(&self, key: &str) -> Result<(Option<KvPair>, QueryMeta), ClientError> {
        let (entries, meta) = self
            .get_json_optional::<Vec<KvPair>>(&kv_path(key), &QueryOptions::default())
            .await?;
        Ok((entries.and_then(|entries| entries.into_iter().next()), meta))
    }

    /// Every entry under a prefix (empty when there is none).
    pub async fn kv_list(&self, prefix: &str) -> Result<(Vec<KvPair>, QueryMeta), ClientError> {
        let options = QueryOptions::params([("recurse", "")]);
        let (entries, meta) = self.get_json_optional(&kv_path(prefix), &options).await?;
        Ok((entries.unwrap_or_default(), meta))
    }

    /// The keys under a prefix, folded at `separator` when given.
    pub async fn kv_keys(
        &self,
        prefix: &str,
        separator: Option<&str>,
    ) -> Result<(Vec<String>, QueryMeta), ClientError> {
        let mut options = QueryOptions::params([("keys", "")]);
        if let Some(separator) = separator.filter(|s| !s.is_empty()) {
            options
                .params
                .push(("separator".to_string(), separator.to_string()));
        }
        let (keys, meta) = self.get_json_optional(&kv_path(prefix), &options).await?;
        Ok((keys.unwrap_or_default(), meta))
    }

    /// Writes a value; `false` when a `cas` condition did not hold.
    pub async fn kv_put(
        &self,
        key: &str,
        value: &[u8],
        flags: Option<u64>,
        cas: Option<u64>,
    ) -> Result<bool, ClientError> {
        let mut params = Vec::new();
        if let Some(flags) = flags {
            params.push(("flags", flags.to_string()));
        }
        if let Some(cas) = cas {
            params.push(("cas", cas.to_string()));
        }
        self.put_raw(&kv_path(key), &params, value.to_vec()).await
    }

    /// Deletes a key, or a whole prefix with `recurse`; `false` when a `cas` condition
    /// did not hold.
    pub async fn kv_delete(
        &self,
        key: &str,
        recurse: bool,
        cas: Option<u64>,
    ) -> Result<bool, ClientError> {
        let mut params = Vec::new();
        if recurse {
            params.push(("recurse", String::new()));
        }
        if let Some(cas) = cas {
            params.push(("cas", cas.to_string()));
        }
        self.delete_json(&kv_path(key), &params).await
    }

    /// `GET /v1/catalog/datacenters`.
    pub async fn catalog_datacenters(&self) -> Result<Vec<String>, ClientError> {
        self.get_plain("/v1/catalog/datacenters").await
    }

    /// `GET /v1/catalog/nodes`.
    pub async fn catalog_nodes(
        &self,
        options: &QueryOptions,
    ) -> Result<(Vec<Node>, QueryMeta), ClientError> {
        self.get_json("/v1/catalog/nodes", options).await
    }

    /// `GET /v1/catalog/services`: service names and their tags.
    pub async fn catalog_services(
        &self,
        options: &QueryOptions,
    ) -> Result<(BTreeMap<String, Vec<String>>, QueryMeta), ClientError> {
        self.get_json("/v1/catalog/services", options).await
    }

    /// `GET /v1/catalog/service/:name`: the instances of one service.
    pub async fn catalog_service(
        &self,
        name: &str,
        options: &QueryOptions,
    ) -> Result<(Vec<CatalogService>, QueryMeta), ClientError> {
        let path = format!("/v1/catalog/service/{}", path_segment(name));
        self.get_json(&path, options).await
    }

    /// `GET /v1/catalog/node/:node`: a node and its services; `None` for an unknown node.
    pub async fn catalog_node(
        &self,
        node: &str,
        options: &QueryOptions,
    ) -> Result<(Option<NodeServices>, QueryMeta), ClientError> {
        let path = format!("/v1/catalog/node/{}", path_segment(node));
        let (found, meta) = self
            .get_json_optional::<Option<NodeServices>>(&path, options)
            .await?;
        Ok((found.flatten(), meta))
    }

    /// `GET /v1/agent/members` (`wan`: the WAN pool).
    pub async fn agent_members(&self, wan: bool) -> Result<Vec<AgentMember>, ClientError> {
        let mut options = QueryOptions::default();
        if wan {
            options.params.push(("wan".to_string(), "1".to_string()));
        }
        Ok(self.get_json("/v1/agent/members", &options).await?.0)
    }

    /// `GET /v1/agent/self`.
    pub async fn agent_self(&self) -> Result<serde_json::Value, ClientError> {
        self.get_plain("/v1/agent/self").await
    }

    /// `GET /v1/coordinate/nodes`: every node's LAN coordinates.
    pub async fn coordinate_nodes(
        &self,
        options: &QueryOptions,
    ) -> Result<(Vec<CoordinateEntry>, QueryMeta), ClientError> {
        self.get_json("/v1/coordinate/nodes", options).await
    }

    /// `GET /v1/coordinate/datacenters`: the servers' coordinates by datacenter.
    pub async fn coordinate_datacenters(
        &self,
    ) -> Result<Vec<CoordinateDatacenterMap>, ClientError> {
        self.get_plain("/v1/coordinate/datacenters").await
    }

    /// `GET /v1/status/leader`: the leader's `ip:port`, empty when there is none.
    pub async fn status_leader(&self) -> Result<String, ClientError> {
        self.get_plain("/v1/status/leader").await
    }

    async fn get_plain<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        Ok(self.get_json(path, &QueryOptions::default()).await?.0)
    }
}

/// A non-2xx answer as an error, keeping Consul's plain-text body.
async fn http_error(response: reqwest::Response) -> ClientError {
    let status = response.status().as_u16();
    let body = response.text().await.unwrap_or_default();
    ClientError::Http {
        status,
        body: body.trim_end().to_string(),
    }
}

/// The base URL for an address as `CONSUL_HTTP_ADDR` spells it.
/// The base URL of `addr`; `tls_scheme` is the scheme of an address without one when
/// TLS is configured (`None`: plain HTTP only).
fn base_url(addr: &str, tls_scheme: Option<&str>) -> Result<String, ClientError> {
    let invalid = |reason: &str| ClientError::Address {
        addr: addr.to_string(),
        reason: reason.to_string(),
    };
    let trimmed = addr.trim();
    let (scheme, rest) = trimmed
        .split_once("://")
        .unwrap_or((tls_scheme.unwrap_or("http"), trimmed));
    let rest = rest.trim_end_matches('/');
    match scheme {
        _ if rest.is_empty() => return Err(invalid("empty")),
        "http" => {}
        "https" if tls_scheme.is_some() => {}
        "https" => return Err(invalid("https needs TLS settings")),
        _ => return Err(invalid(&format!("unsupported scheme {scheme:?}"))),
    }
    let base = format!("{scheme}://{rest}");
    let url = reqwest::Url::parse(&base).map_err(|error| invalid(&error.to_string()))?;
    if url.host_str().is_none_or(str::is_empty) || url.path() != "/" || url.query().is_some() {
        return Err(invalid("expected host[:port]"));
    }
    Ok(base)
}

/// `/v1/kv/<key>`, each `/`-separated segment percent-encoded. A leading `/` is dropped,
/// as Consul's CLI does, since keys cannot start with one.
pub fn kv_path(key: &str) -> String {
    let key = key.strip_prefix('/').unwrap_or(key);
    let mut path = String::from("/v1/kv/");
    for (i, segment) in key.split('/').enumerate() {
        if i > 0 {
            path.push('/');
        }
        path.extend(utf8_percent_encode(segment, SEGMENT_ESCAPES));
    }
    path
}

/// One path segment (a service or node name), percent-encoded, `/` included.
pub fn path_segment(name: &str) -> percent_encoding::PercentEncode<'_> {
    utf8_percent_encode(name, SEGMENT_ESCAPES)
}

/// A query-string component, percent-encoded (spaces as `%20`, never `+`).
fn form_encode(text: &str) -> percent_encoding::PercentEncode<'_> {
    utf8_percent_encode(text, SEGMENT_ESCAPES)
}

/// A reqwest client. The workspace builds reqwest with rustls and no default crypto
/// provider (ring keeps the build small), so the provider is installed first; a second
/// installation by another component is harmless.
pub fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(addr: &str) -> String {
        Client::new(addr).unwrap().base_url().to_string()
    }

    #[test]
    fn addresses_with_and_without_scheme() {
        assert_eq!(base("127.0.0.1:8500"), "http://127.0.0.1:8500");
        assert_eq!(base("http://127.0.0.1:8500"), "http://127.0.0.1:8500");
        assert_eq!(base(" http://localhost:1/ "), "http://localhost:1");
        assert_eq!(base("localhost"), "http://localhost");
        assert_eq!(base("[::1]:8500"), "http://[::1]:8500");
    }

    #[test]
    fn unusable_addresses_are_refused() {
        for addr in [
            "",
            "  ",
            "http://",
            "https://127.0.0.1:8501",
            "unix:///tmp/consul.sock",
            "ftp://x",
            "127.0.0.1:notaport",
            "127.0.0.1:8500/v1",
        ] {
            assert!(
                matches!(Client::new(addr), Err(ClientError::Address { .. })),
                "{addr:?}"
            );
        }
        let error = Client::new("https://x").unwrap_err().to_string();
        assert!(error.contains("TLS"), "{error}");
    }

    #[test]
    fn tokens_datacenter_and_stale() {
        let client = Client::new("x:1").unwrap();
        assert_eq!(client.token(), None);
        let client = client.with_token(Some(String::new()));
        assert_eq!(client.token(), None);
        let client = client
            .with_token(Some("secret".into()))
            .with_datacenter(Some("dc2".into()))
            .with_stale(true);
        assert_eq!(client.token(), Some("secret"));
        let options = QueryOptions {
            index: Some(42),
            wait: Some(Duration::from_secs(5)),
            params: vec![("recurse".into(), String::new())],
            ..QueryOptions::default()
        };
        let query = client.query(&options, true);
        let query: Vec<(&str, &str)> = query
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            query,
            [
                ("dc", "dc2"),
                ("stale", ""),
                ("index", "42"),
                ("wait", "5000ms"),
                ("recurse", "")
            ]
        );
        // Writes never carry `?stale`; a per-request datacenter wins.
        let options = QueryOptions {
            datacenter: Some("dc3".into()),
            ..QueryOptions::default()
        };
        assert_eq!(
            client.query(&options, false),
            [("dc".to_string(), "dc3".to_string())]
        );
    }

    #[test]
    fn request_urls_send_flags_bare_and_escape_values() {
        let client = Client::new("127.0.0.1:8500").unwrap();
        let query = vec![
            ("recurse".to_string(), String::new()),
            ("filter".to_string(), "Service == \"a b\"&x".to_string()),
        ];
        let request = client
            .request(reqwest::Method::GET, &kv_path("a b"), &query)
            .build()
            .unwrap();
        assert_eq!(
            request.url().as_str(),
            "http://127.0.0.1:8500/v1/kv/a%20b?recurse&filter=Service%20%3D%3D%20%22a%20b%22%26x"
        );
        assert!(request.headers().get("x-consul-token").is_none());
        let request = client
            .with_token(Some("t".into()))
            .request(reqwest::Method::PUT, "/v1/kv/k", &[])
            .build()
            .unwrap();
        assert_eq!(request.headers()["x-consul-token"], "t");
    }

    #[test]
    fn keys_are_escaped_per_segment_keeping_slashes() {
        assert_eq!(kv_path(""), "/v1/kv/");
        assert_eq!(kv_path("a/b c"), "/v1/kv/a/b%20c");
        assert_eq!(kv_path("/lead"), "/v1/kv/lead");
        assert_eq!(kv_path("dir/"), "/v1/kv/dir/");
        assert_eq!(kv_path("a//b"), "/v1/kv/a//b");
        assert_eq!(kv_path("q?x=1&y#z%"), "/v1/kv/q%3Fx%3D1%26y%23z%25");
        assert_eq!(kv_path("plus+semi;"), "/v1/kv/plus%2Bsemi%3B");
        assert_eq!(kv_path("v1.2_x-y~z"), "/v1/kv/v1.2_x-y~z");
        assert_eq!(kv_path("ключ"), "/v1/kv/%D0%BA%D0%BB%D1%8E%D1%87");
        assert_eq!(path_segment("a/b c").to_string(), "a%2Fb%20c");
    }

    #[test]
    fn escaped_keys_survive_url_parsing() {
        // What reaches the server must decode back to the key, whatever it contains.
        for key in [
            "a b/c?d#e",
            "100%/x",
            "tab\there",
            "emoji/🦀",
            "back\\slash",
        ] {
            let url = reqwest::Url::parse(&format!("http://h{}", kv_path(key))).unwrap();
            let decoded = percent_encoding::percent_decode_str(url.path())
                .decode_utf8()
                .unwrap();
            assert_eq!(decoded, format!("/v1/kv/{key}"));
        }
    }

    #[test]
    fn query_meta_from_headers() {
        let mut headers = reqwest::header::HeaderMap::new();
        assert_eq!(QueryMeta::from_headers(&headers), QueryMeta::default());
        headers.insert("X-Consul-Index", "17".parse().unwrap());
        headers.insert("X-Consul-KnownLeader", "true".parse().unwrap());
        headers.insert("X-Consul-LastContact", "3".parse().unwrap());
        assert_eq!(
            QueryMeta::from_headers(&headers),
            QueryMeta {
                index: 17,
                known_leader: true,
                last_contact_ms: 3
            }
        );
        headers.insert("X-Consul-Index", "junk".parse().unwrap());
        assert_eq!(QueryMeta::from_headers(&headers).index, 0);
    }

    #[test]
    fn errors_display_like_consul() {
        let error = ClientError::Http {
            status: 400,
            body: "Invalid wait time".into(),
        };
        assert_eq!(
            error.to_string(),
            "Unexpected response code: 400 (Invalid wait time)"
        );
        assert_eq!(error.status(), Some(400));
    }

    #[tokio::test]
    async fn transport_errors_name_the_cause() {
        // A loopback port that was just free: nothing listens there.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let client = Client::new(&addr.to_string()).unwrap();
        let error = client.status_leader().await.unwrap_err();
        assert!(matches!(error, ClientError::Transport(_)), "{error:?}");
        let text = error.to_string().to_lowercase();
        assert!(text.contains("refused"), "{text}");
    }
}
