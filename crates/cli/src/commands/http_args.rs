//! The options every command that talks to an agent shares (`-http-addr`, `-token`,
//! `-token-file`, `-datacenter`, `-stale`), and the one place that turns them and the
//! environment into a client, so that every command finds its token the same way.
//!
//! The token follows Consul's Go client: a token file, from `-token-file` or else
//! `CONSUL_HTTP_TOKEN_FILE`, wins over a token, from `-token` or else
//! `CONSUL_HTTP_TOKEN` ("if the TokenFile is set, always use that"); a file that
//! cannot be read is an error, an empty one falls back to the token.

use anyhow::Context;
use clap::Args;
use proconsul_api::client::Client;

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
        let client = match &self.http_addr {
            Some(addr) => Client::new(addr)?,
            None => Client::from_env()?,
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

        let args = HttpArgs {
            http_addr: Some("https://h:1".into()),
            ..HttpArgs::default()
        };
        let error = format!("{:#}", args.client().unwrap_err());
        assert!(
            error.starts_with("Error connecting to Consul agent: "),
            "{error}"
        );
    }
}
