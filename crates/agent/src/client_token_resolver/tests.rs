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
    resolver_with_ttls(down_policy, &[ttl])
}

/// A client resolver knowing no server, with the token, policy and role TTLs `ttls`.
fn resolver_with_ttls(down_policy: DownPolicy, ttls: &[Duration]) -> Arc<ClientTokenResolver> {
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
        TokenSource::Servers(Arc::new(ServerLink::new(&RpcTls::default()))),
        ttls,
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

#[tokio::test]
async fn the_shortest_of_the_token_policy_and_role_ttls_decides_freshness() {
    let hour = Duration::from_secs(3600);
    let fresh = resolver_with_ttls(DownPolicy::Deny, &[hour, hour, hour]);
    cache_web_writer(&fresh, "web-secret", None);
    assert!(writes_web(&fresh, "web-secret").await);
    // A zero policy TTL makes the same entry stale: the (unreachable) servers are asked
    // and the down policy denies.
    let short_policy = resolver_with_ttls(DownPolicy::Deny, &[hour, Duration::ZERO, hour]);
    cache_web_writer(&short_policy, "web-secret", None);
    assert!(!writes_web(&short_policy, "web-secret").await);
}

#[tokio::test]
async fn concurrent_requests_with_one_unknown_token_ask_the_servers_once() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    // A "server" that takes each connection, holds it a moment and hangs up: every
    // question to it costs one connection (server RPC is HTTP/1.1, one request each).
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let connections = Arc::new(AtomicUsize::new(0));
    let counted = connections.clone();
    let server = tokio::spawn(async move {
        loop {
            let (socket, _) = listener.accept().await.unwrap();
            counted.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(300)).await;
                drop(socket);
            });
        }
    });
    let resolver = unreachable(DownPolicy::Deny, Duration::from_secs(3600));
    let TokenSource::Servers(link) = &resolver.source else {
        unreachable!("a client's resolver asks its servers");
    };
    link.pool()
        .replace(vec![crate::server_pool::ServerEndpoint {
            name: "server-1".into(),
            rpc_addr: addr,
        }]);
    let requests: Vec<_> = (0..8)
        .map(|_| {
            let resolver = resolver.clone();
            tokio::spawn(async move { writes_web(&resolver, "unknown").await })
        })
        .collect();
    for request in requests {
        assert!(!request.await.unwrap(), "the down policy denies");
    }
    assert_eq!(connections.load(Ordering::SeqCst), 1);
    assert!(resolver.cache().in_flight.is_empty());
    server.abort();
}
