use std::sync::Arc;

use proconsul_acl::{Authorize, DefaultPolicy};
use proconsul_consensus::RpcTls;
use proconsul_consensus::agent_acl::TokenGrant;

use super::*;
use crate::acl_config::AclTokensConfig;
use crate::agent_tokens::AgentTokens;
use crate::token_resolver::AclSettings;

/// A client resolver whose servers are all gone (none known), with `ttl`.
fn unreachable(down_policy: DownPolicy, ttl: Duration) -> Arc<ClientTokenResolver> {
    let local = Arc::new(TokenResolver::new(AclSettings {
        datacenter: "dc1".into(),
        node_name: "client-1".into(),
        default_policy: DefaultPolicy::Deny,
        tokens: Arc::new(AgentTokens::from_config(&AclTokensConfig {
            agent_recovery: Some("recovery".into()),
            ..AclTokensConfig::default()
        })),
    }));
    Arc::new(ClientTokenResolver::new(
        local,
        Arc::new(ServerLink::new(&RpcTls::default())),
        ttl,
        down_policy,
        tokio_util::sync::CancellationToken::new(),
    ))
}

/// Caches `secret` as a token with write on service `web`.
fn cache_web_writer(resolver: &ClientTokenResolver, secret: &str, expires: Option<GoTime>) {
    let grant = TokenGrant {
        accessor_id: "aaaaaaaa-0000-0000-0000-00000000000a".into(),
        policies: vec![proconsul_consensus::agent_acl::GrantedPolicy {
            name: "web".into(),
            rules: r#"service "web" { policy = "write" }"#.into(),
            datacenters: vec![],
        }],
        ..TokenGrant::default()
    };
    resolver.remember(secret, Arc::new(resolver.local.compile(&grant)), expires);
}

/// Whether `secret`, resolved by `resolver`, may write service `web`.
async fn writes_web(resolver: &Arc<ClientTokenResolver>, secret: &str) -> bool {
    resolver
        .resolve(Some(secret))
        .await
        .unwrap()
        .service_write("web")
}

#[tokio::test]
async fn extend_cache_keeps_a_known_token_past_its_ttl_and_denies_strangers() {
    let resolver = unreachable(DownPolicy::ExtendCache, Duration::ZERO);
    cache_web_writer(&resolver, "web-secret", None);
    let web = resolver.resolve(Some("web-secret")).await.unwrap();
    assert!(web.service_write("web"));
    let stranger = resolver.resolve(Some("other")).await.unwrap();
    assert!(!stranger.service_read("web"));
    let anonymous = resolver.resolve(None).await.unwrap();
    assert!(!anonymous.service_read("web"));
}

#[tokio::test]
async fn async_cache_answers_stale_at_once_and_allow_and_deny_ignore_the_cache() {
    let resolver = unreachable(DownPolicy::AsyncCache, Duration::ZERO);
    cache_web_writer(&resolver, "web-secret", None);
    assert!(writes_web(&resolver, "web-secret").await);
    let allow = unreachable(DownPolicy::Allow, Duration::ZERO);
    assert!(allow.resolve(Some("other")).await.unwrap().key_write("k"));
    let deny = unreachable(DownPolicy::Deny, Duration::ZERO);
    cache_web_writer(&deny, "web-secret", None);
    assert!(!writes_web(&deny, "web-secret").await);
}

#[tokio::test]
async fn fresh_entries_recovery_reserved_and_expired_tokens_need_no_server() {
    let resolver = unreachable(DownPolicy::Deny, Duration::from_secs(3600));
    // Within its TTL a cached token is used as it is, servers or not.
    cache_web_writer(&resolver, "web-secret", None);
    assert!(writes_web(&resolver, "web-secret").await);
    let recovery = resolver.resolve(Some("recovery")).await.unwrap();
    assert!(recovery.agent_write("client-1") && !recovery.agent_write("other"));
    assert_eq!(
        resolver.resolve(Some("manage")).await.err(),
        Some(ResolveError::NotFound)
    );
    let past = GoTime::from_unix_millis(1_000);
    cache_web_writer(&resolver, "expired", Some(past));
    assert_eq!(
        resolver.resolve(Some("expired")).await.err(),
        Some(ResolveError::NotFound)
    );
}
