//! The options every command that talks to an agent shares (`-http-addr`, `-token`,
//! `-token-file`, `-datacenter`, `-stale`, and TLS: `-ca-file`, `-ca-path`,
//! `-client-cert`, `-client-key`, `-tls-server-name`), and the one place that turns them
//! and the environment into a client, so that every command finds its token and TLS
//! settings the same way.
//!
//! TLS follows Consul's CLI: an `https://` address or `CONSUL_HTTP_SSL=true` means TLS;
//! the CA, client certificate and server name come from the flags, else
//! `CONSUL_CACERT`, `CONSUL_CAPATH`, `CONSUL_CLIENT_CERT`, `CONSUL_CLIENT_KEY`,
//! `CONSUL_TLS_SERVER_NAME`; `CONSUL_HTTP_SSL_VERIFY=false` skips checking the server.
//!
//! The token follows Consul's Go client: a token file, from `-token-file` or else
//! `CONSUL_HTTP_TOKEN_FILE`, wins over a token, from `-token` or else
//! `CONSUL_HTTP_TOKEN` ("if the TokenFile is set, always use that"); a file that
//! cannot be read is an error, an empty one falls back to the token.

use anyhow::Context;
use clap::Args;
use std::path::PathBuf;

use proconsul_api::client::Client;
use proconsul_tls::ClientTls;

/// Options shared by every command that talks to an agent over HTTP.
#[derive(Debug, Clone, Default, Args)]
pub struct HttpArgs {
    /// The agent's HTTP address [default: $CONSUL_HTTP_ADDR or 127.0.0.1:8500].
    #[arg(long = "http-addr", value_name = "ADDR", allow_hyphen_values = true)]
    http_addr: Option<String>,
    /// The ACL token [default: $CONSUL_HTTP_TOKEN].
    #[arg(long, allow_hyphen_values = true)]
    token: Option<String>,
    /// A file holding the ACL token; wins over -token [default: $CONSUL_HTTP_TOKEN_FILE].
    #[arg(long = "token-file", value_name = "PATH")]
    token_file: Option<String>,
    /// The datacenter to query [default: the agent's].
    #[arg(long)]
    datacenter: Option<String>,
    /// Let any server answer reads, not only the leader.
    #[arg(long)]
    stale: bool,
    /// The CA file to check the agent's certificate with [default: $CONSUL_CACERT].
    #[arg(long = "ca-file", value_name = "PATH")]
    ca_file: Option<String>,
    /// A directory of CA files [default: $CONSUL_CAPATH].
    #[arg(long = "ca-path", value_name = "PATH")]
    ca_path: Option<String>,
    /// A client certificate for agents that verify incoming connections
    /// [default: $CONSUL_CLIENT_CERT].
    #[arg(long = "client-cert", value_name = "PATH")]
    client_cert: Option<String>,
    /// The client certificate's key [default: $CONSUL_CLIENT_KEY].
    #[arg(long = "client-key", value_name = "PATH")]
    client_key: Option<String>,
    /// The name the agent's certificate must carry [default: $CONSUL_TLS_SERVER_NAME].
    #[arg(long = "tls-server-name", value_name = "NAME")]
    tls_server_name: Option<String>,
}

/// Go's `strconv.ParseBool` false values, as Consul reads its boolean variables.
fn is_false(value: &str) -> bool {
    matches!(value, "0" | "f" | "F" | "false" | "FALSE" | "False")
}

/// Where a token may come from, flags and environment alike (empty counts as unset).
#[derive(Debug, Default)]
struct TokenSources {
    flag: Option<String>,
    flag_file: Option<String>,
    env: Option<String>,
    env_file: Option<String>,
}

impl TokenSources {
    /// The token to send; `read` reads a token file.
    fn resolve(
        self,
        read: impl FnOnce(&str) -> std::io::Result<String>,
    ) -> Result<Option<String>, String> {
        let set = |value: Option<String>| value.filter(|value| !value.is_empty());
        let token = set(self.flag).or(set(self.env));
        let Some(path) = set(self.flag_file).or(set(self.env_file)) else {
            return Ok(token);
        };
        let text =
            read(&path).map_err(|error| format!("Error loading token file {path}: {error}"))?;
        let from_file = text.trim();
        Ok(if from_file.is_empty() {
            token
        } else {
            Some(from_file.to_string())
        })
    }
}

impl HttpArgs {
    /// A client for the agent these options name; flags win over the environment.
    pub fn client(&self) -> anyhow::Result<Client> {
        self.build().context("Error connecting to Consul agent")
    }

    fn build(&self) -> anyhow::Result<Client> {
        let env = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
        let addr = self
            .http_addr
            .clone()
            .or_else(|| env("CONSUL_HTTP_ADDR"))
            .unwrap_or_else(|| proconsul_api::client::DEFAULT_HTTP_ADDR.to_string());
        let flag_or_env = |flag: &Option<String>, name: &str| {
            flag.clone()
                .filter(|value| !value.is_empty())
                .or_else(|| env(name))
                .map(PathBuf::from)
        };
        let tls = ClientTls {
            ca_file: flag_or_env(&self.ca_file, "CONSUL_CACERT"),
            ca_path: flag_or_env(&self.ca_path, "CONSUL_CAPATH"),
            client_cert: flag_or_env(&self.client_cert, "CONSUL_CLIENT_CERT"),
            client_key: flag_or_env(&self.client_key, "CONSUL_CLIENT_KEY"),
            server_name: self
                .tls_server_name
                .clone()
                .filter(|name| !name.is_empty())
                .or_else(|| env("CONSUL_TLS_SERVER_NAME")),
            skip_verify: env("CONSUL_HTTP_SSL_VERIFY").is_some_and(|value| is_false(&value)),
            ca_only: false,
            cipher_suites: None,
        };
        let wants_tls = addr.trim().starts_with("https://")
            || env("CONSUL_HTTP_SSL").is_some_and(|value| !is_false(&value));
        let client = if wants_tls {
            let config = proconsul_tls::client_config(&tls)?;
            Client::with_tls(&addr, (*config).clone())?
        } else {
            Client::new(&addr)?
        };
        let sources = TokenSources {
            flag: self.token.clone(),
            flag_file: self.token_file.clone(),
            env: std::env::var("CONSUL_HTTP_TOKEN").ok(),
            env_file: std::env::var("CONSUL_HTTP_TOKEN_FILE").ok(),
        };
        let token = sources
            .resolve(|path| std::fs::read_to_string(path))
            .map_err(anyhow::Error::msg)?;
        Ok(client
            .with_token(token)
            .with_datacenter(self.datacenter.clone())
            .with_stale(self.stale))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn some(text: &str) -> Option<String> {
        Some(text.to_string())
    }

    fn read_ok(text: &'static str) -> impl FnOnce(&str) -> std::io::Result<String> {
        move |_| Ok(text.to_string())
    }

    #[test]
    fn a_token_file_wins_over_any_token() {
        let sources = TokenSources {
            flag: some("flag"),
            env_file: some("/env/file"),
            ..TokenSources::default()
        };
        assert_eq!(
            sources.resolve(read_ok("from-file\n")).unwrap(),
            some("from-file")
        );
        let sources = TokenSources {
            flag_file: some("/flag/file"),
            env_file: some("/env/file"),
            ..TokenSources::default()
        };
        let mut read_path = String::new();
        let token = sources
            .resolve(|path| {
                read_path = path.to_string();
                Ok("x".into())
            })
            .unwrap();
        assert_eq!(token, some("x"));
        assert_eq!(read_path, "/flag/file");
    }

    #[test]
    fn the_flag_wins_over_the_environment_and_empty_means_unset() {
        let unread = |_: &str| -> std::io::Result<String> { panic!("no file to read") };
        let sources = TokenSources {
            flag: some("flag"),
            env: some("env"),
            ..TokenSources::default()
        };
        assert_eq!(sources.resolve(unread).unwrap(), some("flag"));
        let sources = TokenSources {
            flag: some(""),
            env: some("env"),
            flag_file: some(""),
            ..TokenSources::default()
        };
        assert_eq!(sources.resolve(unread).unwrap(), some("env"));
        assert_eq!(TokenSources::default().resolve(unread).unwrap(), None);
    }

    #[test]
    fn an_empty_file_falls_back_and_a_missing_one_is_an_error() {
        let sources = TokenSources {
            env: some("env"),
            flag_file: some("/empty"),
            ..TokenSources::default()
        };
        assert_eq!(sources.resolve(read_ok(" \n")).unwrap(), some("env"));
        let sources = TokenSources {
            flag_file: some("/missing"),
            ..TokenSources::default()
        };
        let error = sources
            .resolve(|_| Err(std::io::Error::other("gone")))
            .unwrap_err();
        assert_eq!(error, "Error loading token file /missing: gone");
    }

    #[test]
    fn flags_build_the_client() {
        let args = HttpArgs {
            http_addr: Some("10.1.2.3:8500".into()),
            token: Some("flag-token".into()),
            datacenter: Some("dc9".into()),
            ..HttpArgs::default()
        };
        let client = args.client().unwrap();
        assert_eq!(client.base_url(), "http://10.1.2.3:8500");
        assert_eq!(client.token(), Some("flag-token"));

        let path = std::env::temp_dir().join(format!("proconsul-token-{}", std::process::id()));
        std::fs::write(&path, "file-token\n").unwrap();
        let args = HttpArgs {
            http_addr: Some("h:1".into()),
            token: Some("flag-token".into()),
            token_file: Some(path.display().to_string()),
            ..HttpArgs::default()
        };
        assert_eq!(args.client().unwrap().token(), Some("file-token"));
        std::fs::remove_file(&path).unwrap();
        let error = format!("{:#}", args.client().unwrap_err());
        assert!(
            error.starts_with("Error connecting to Consul agent: Error loading token file"),
            "{error}"
        );

        // HTTPS with a CA file that cannot be read: the file is named.
        let args = HttpArgs {
            http_addr: Some("https://h:1".into()),
            ca_file: Some("/nonexistent/ca.pem".into()),
            ..HttpArgs::default()
        };
        assert_eq!(
            HttpArgs {
                ca_file: None,
                ..args.clone()
            }
            .client()
            .unwrap()
            .base_url(),
            "https://h:1"
        );
        let error = format!("{:#}", args.client().unwrap_err());
        assert!(
            error.starts_with("Error connecting to Consul agent: ")
                && error.contains("/nonexistent/ca.pem"),
            "{error}"
        );
    }
}
