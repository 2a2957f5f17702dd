//! Starting and stopping the agent: consensus, the agent's own catalog entry, and the
//! HTTP server, in that order, each announced with one log line.

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use proconsul_api::{
    AgentService, CatalogDeregistration, CatalogRegistration, HealthCheck, HealthStatus,
};
use proconsul_consensus::{ClusterOptions, Consensus, ConsensusConfig, ServerOptions};
use proconsul_state::{Command, CommandOutcome};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::acl::AclRefusal;
use crate::acl_leader;
use crate::agent_tokens::AgentTokens;
use crate::catalog_backend::CatalogBackend;
use crate::checks::{self, CheckRunner};
use crate::client_token_resolver::ClientTokenResolver;
use crate::config::AgentConfig;
use crate::config_registrations::{self, ConfigOwned};
use crate::dns_listener::DnsListener;
use crate::error::NotAServer;
use crate::error::{AgentError, WriteError};
use crate::forwarded_requests::ServerForwarding;
use crate::http;
use crate::http::answer_cache::AnswerCache;
use crate::https::{self, HttpsTls};
use crate::local::{Entry, LocalCheck, LocalState};
use crate::membership::{self, reconcile};
use crate::node_id;
use crate::persist;
use crate::server_link::{LinkError, ServerLink};
use crate::sessions::{self, SessionTimers};
use crate::sync_acl::{self, SyncGate};
use crate::token_resolver::{AclSettings, TokenResolver};
use crate::ttl::{self, TtlTimers};
use crate::{anti_entropy, reaper};

/// The Consul version this agent reports; clients gate features on it.
pub const CONSUL_COMPAT_VERSION: &str = "1.22.0";

/// Who this agent is in the catalog.
#[derive(Debug, Clone)]
pub struct NodeIdentity {
    pub name: String,
    pub id: String,
    pub address: String,
}

/// What every request handler shares.
pub struct AgentInner {
    pub config: AgentConfig,
    pub node: NodeIdentity,
    /// Where the agent's catalog writes go: its own Raft, or the servers (a client).
    pub catalog: CatalogBackend,
    pub local: LocalState,
    /// The deadlines of TTL checks.
    pub ttl: TtlTimers,
    /// The deadlines of sessions with a TTL (this agent is the leader in `-dev`).
    pub sessions: SessionTimers,
    /// The next runs of the checks the agent runs itself (HTTP, TCP).
    pub checks: CheckRunner,
    /// Which local entries came from configuration files.
    pub config_owned: ConfigOwned,
    /// Cancelled on shutdown; blocking queries return early when it fires.
    pub shutdown: CancellationToken,
    /// Encoded answers to hot reads, reused while their index is unchanged.
    pub answers: AnswerCache,
    /// The Connect CA root, when Connect is enabled.
    pub connect_ca: Option<crate::connect_ca::CaRoots>,
    /// Resolves request tokens when ACLs are enabled (`None`: everything is allowed).
    /// On a client agent it reads no ACL tables: it holds the settings and compiles
    /// what [`AgentInner::client_acl`] learns from the servers.
    pub acl_resolver: Option<Arc<crate::token_resolver::TokenResolver>>,
    /// A client agent with ACLs: its tokens resolved through the servers.
    pub client_acl: Option<Arc<ClientTokenResolver>>,
    /// On a secondary datacenter's server without token replication: tokens it does
    /// not hold, resolved by the primary's servers.
    pub primary_acl: Option<Arc<ClientTokenResolver>>,
    /// Wakes anti-entropy for a full sync now (the `agent` or `default` token changed).
    pub sync_now: tokio::sync::Notify,
    /// The agent's own ACL tokens (`acl.tokens.*`, changed by `PUT /v1/agent/token`).
    pub acl_tokens: Arc<AgentTokens>,
    /// ACL replication from the primary datacenter, as `GET /v1/acl/replication` reports it.
    pub acl_replication: crate::acl_replication::ReplicationStatus,
    /// The HTTPS API's TLS configuration, reloaded by `reload`.
    pub https_tls: Option<Arc<HttpsTls>>,
    /// The process's metrics, shown by `/v1/agent/metrics`.
    pub telemetry: proconsul_telemetry::Telemetry,
    /// The HTTP handlers' metric handles.
    pub metrics: crate::telemetry::AgentMetrics,
    /// The LAN gossip pool: members, failure detection, the keyring.
    pub gossip: proconsul_gossip::Gossip,
    /// A server's WAN pool and the datacenters it reaches (`None` on client agents).
    pub wan: Option<Arc<crate::membership::wan::Wan>>,
    /// This agent's own network coordinate.
    pub coordinate: crate::agent_coordinate::AgentCoordinate,
    /// Coordinates waiting to be written to the catalog in the next batch.
    pub coordinate_batch: crate::coordinate_batch::CoordinateBatcher,
    /// Finished metric intervals for `/v1/agent/metrics/stream`.
    pub metrics_stream: crate::telemetry::stream::MetricsStream,
}

impl AgentInner {
    /// This server's consensus, for the API only servers serve (client agents forward
    /// those requests instead).
    pub fn consensus(&self) -> Result<&Consensus, NotAServer> {
        self.catalog.server().ok_or(NotAServer)
    }

    /// Starts the timers a newly registered check needs (TTL expiry, or its runs).
    pub fn schedule(&self, check: &LocalCheck) {
        self.ttl.watch(check);
        self.checks.watch(check);
    }

    /// Stops every timer of a deregistered check.
    pub fn unschedule(&self, check_id: &str) {
        self.ttl.remove(check_id);
        self.checks.remove(check_id);
    }

    /// Leaves the cluster: a server first takes itself out of the Raft configuration,
    /// then the leave is gossiped (in the LAN pool, and a server's WAN pool) and given
    /// time to spread.
    pub async fn leave(&self) -> Result<(), AgentError> {
        if let Some(consensus) = self.catalog.server().filter(|_| !self.config.dev) {
            consensus.leave().await?;
        }
        // A server leaves the WAN pool too (at the same time: each leave lets the news
        // spread for a while), so other datacenters see it left rather than failed.
        let wan_leave = async {
            if let Some(wan) = &self.wan
                && let Err(error) = wan.gossip.leave().await
            {
                tracing::warn!(%error, "serf: leaving the WAN pool failed");
            }
        };
        let (lan, ()) = tokio::join!(self.gossip.leave(), wan_leave);
        lan.map_err(|error| AgentError::Config(format!("serf: leave: {error}")))
    }

    /// Commits a command made with the agent token (`acl.tokens.agent`, else
    /// `default`), as Consul makes its agents' own writes; a refusal by the state
    /// machine becomes [`WriteError::Rejected`].
    pub async fn commit(&self, command: Command) -> Result<(), WriteError> {
        let token = self.acl_tokens.agent_token().unwrap_or_default();
        self.commit_as(command, &token).await
    }

    /// Commits a command made with the token whose secret is `token` (a client's
    /// servers check it; a server vetted its own writes before).
    pub async fn commit_as(&self, command: Command, token: &str) -> Result<(), WriteError> {
        match self.catalog.write(command, token).await?.outcome {
            CommandOutcome::Rejected(reason) => Err(WriteError::Rejected(reason)),
            _ => Ok(()),
        }
    }

    /// Writes this node's service and/or checks to the catalog, then lets the agent share
    /// the catalog's copies of them. With ACLs, what the entries' tokens do not allow is
    /// logged and left out ([`crate::sync_acl`]); the answer is how many entries were.
    pub async fn register_local(
        &self,
        service: Option<AgentService>,
        checks: Vec<HealthCheck>,
    ) -> Result<usize, WriteError> {
        if self.client_acl.is_some() {
            return self.register_through_servers(service, checks).await;
        }
        let wanted = usize::from(service.is_some()) + checks.len();
        let (service, checks) = self.allowed_writes(service, checks);
        let blocked = wanted - usize::from(service.is_some()) - checks.len();
        if service.is_none() && checks.is_empty() {
            return Ok(blocked);
        }
        let service_id = service.as_ref().map(|service| service.id.clone());
        let check_ids: Vec<String> = checks.iter().map(|c| c.check_id.clone()).collect();
        // The catalog write Consul's anti-entropy makes through Catalog.Register.
        let _timer = crate::telemetry::Timer::start(&self.metrics.catalog_register);
        self.commit(self.own_registration(service, checks)).await?;
        // Consul's messages for the same writes (at info there; debug here, so that
        // registrations print nothing at the default level).
        if let Some(service) = &service_id {
            tracing::debug!(service = %service, "Synced service");
        }
        for check in &check_ids {
            tracing::debug!(check = %check, "Synced check");
        }
        self.adopt_catalog_copies(service_id.as_deref(), &check_ids);
        Ok(blocked)
    }

    /// The registration of this node's `service` and/or `checks`, leaving the node's
    /// own entry as it is.
    pub(crate) fn own_registration(
        &self,
        service: Option<AgentService>,
        checks: Vec<HealthCheck>,
    ) -> Command {
        Command::Register(Box::new(CatalogRegistration {
            node: self.node.name.clone(),
            address: self.node.address.clone(),
            datacenter: self.config.datacenter.clone(),
            skip_node_update: true,
            service,
            checks,
            ..CatalogRegistration::default()
        }))
    }

    /// The secret an entry registered with `token` is written with: its own, else
    /// `acl.tokens.default` (else anonymous), as Consul's anti-entropy does.
    pub(crate) fn entry_token(&self, token: &str) -> String {
        if token.is_empty() {
            self.acl_tokens.default_token().unwrap_or_default()
        } else {
            token.to_string()
        }
    }

    /// The part of a registration the entries' own tokens allow. A blocked service takes
    /// its checks with it, as the catalog would refuse checks of a service it lacks.
    fn allowed_writes(
        &self,
        service: Option<AgentService>,
        mut checks: Vec<HealthCheck>,
    ) -> (Option<AgentService>, Vec<HealthCheck>) {
        let (Some(resolver), Some(consensus)) = (&self.acl_resolver, self.catalog.server()) else {
            return (service, checks);
        };
        let state = consensus.reader().current();
        let gate = SyncGate::new(resolver, &state, &self.node.name);
        let mut blocked_service = None;
        let service = service.filter(|service| {
            let token = self.local.token(&Entry::Service(service.id.clone()));
            let allowed = gate.service(&token, service);
            if let Err(refusal) = &allowed {
                sync_acl::log_blocked("Service registration", &service.id, refusal);
                blocked_service = Some(service.id.clone());
            }
            allowed.is_ok()
        });
        checks.retain(|check| {
            if blocked_service.as_ref() == Some(&check.service_id) {
                return false;
            }
            let token = self.local.token(&Entry::Check(check.check_id.clone()));
            let allowed = gate.check(&token, check);
            if let Err(refusal) = &allowed {
                sync_acl::log_blocked("Check registration", &check.check_id, refusal);
            }
            allowed.is_ok()
        });
        (service, checks)
    }

    /// Removes one of this node's services (with its checks) or checks from the catalog,
    /// with `token` (the one it was registered with; empty: the default token). The
    /// answer is whether the removal was written (else ACLs held it back, logged).
    pub async fn deregister_local(
        &self,
        service_id: &str,
        check_id: &str,
        token: &str,
    ) -> Result<bool, WriteError> {
        if !self.may_deregister(service_id, check_id, token) {
            return Ok(false);
        }
        let _timer = crate::telemetry::Timer::start(&self.metrics.catalog_deregister);
        let removal = Command::Deregister(CatalogDeregistration {
            node: self.node.name.clone(),
            datacenter: self.config.datacenter.clone(),
            service_id: service_id.to_string(),
            check_id: check_id.to_string(),
        });
        match self.commit_as(removal, &self.entry_token(token)).await {
            // A client's servers refused the token: logged as a server's gate does.
            Err(WriteError::Servers(LinkError::Denied(refusal))) => {
                let (what, id) = if service_id.is_empty() {
                    ("Check deregistration", check_id)
                } else {
                    ("Service deregistration", service_id)
                };
                sync_acl::log_blocked(what, id, &AclRefusal(refusal));
                return Ok(false);
            }
            written => written?,
        }
        if service_id.is_empty() {
            tracing::debug!(check = %check_id, "Deregistered check");
        } else {
            tracing::debug!(service = %service_id, "Deregistered service");
        }
        Ok(true)
    }

    /// Whether `token` may remove the catalog's entry; a refusal is logged.
    fn may_deregister(&self, service_id: &str, check_id: &str, token: &str) -> bool {
        let (Some(resolver), Some(consensus)) = (&self.acl_resolver, self.catalog.server()) else {
            return true;
        };
        let state = consensus.reader().current();
        let node = self.node.name.as_str();
        let gate = SyncGate::new(resolver, &state, node);
        let (what, id, allowed) = if service_id.is_empty() {
            let Some(check) = state.check(node, check_id) else {
                return true;
            };
            ("Check deregistration", check_id, gate.check(token, check))
        } else {
            let Some(service) = state.node_service(node, service_id) else {
                return true;
            };
            let allowed = gate.service_removal(token, &service.service);
            ("Service deregistration", service_id, allowed)
        };
        match allowed {
            Ok(()) => true,
            Err(refusal) => {
                sync_acl::log_blocked(what, id, &refusal);
                false
            }
        }
    }

    // The agent's own services and checks change locally first and are then written
    // to the catalog, as in Consul: local state is the truth, and a catalog write that
    // fails is retried by anti-entropy.

    /// Adds or replaces one of this agent's services with its checks, registered with
    /// `token` (empty: none; the catalog writes then use the default token). With
    /// `replace_checks`, the service's checks not in `checks` are removed.
    pub async fn add_service(
        &self,
        service: AgentService,
        checks: Vec<LocalCheck>,
        replace_checks: bool,
        token: &str,
    ) -> Result<(), WriteError> {
        let catalog_checks: Vec<HealthCheck> = checks.iter().map(|c| c.check.clone()).collect();
        for check in &checks {
            self.schedule(check);
        }
        let dropped = self
            .local
            .put_service(service.clone(), checks, replace_checks);
        for check_id in &dropped {
            self.unschedule(check_id);
        }
        self.local
            .set_token(Entry::Service(service.id.clone()), token);
        for check in &catalog_checks {
            self.local
                .set_token(Entry::Check(check.check_id.clone()), token);
        }
        let written = async {
            self.register_local(Some(service), catalog_checks).await?;
            for check_id in &dropped {
                self.deregister_local("", check_id, token).await?;
            }
            Ok(())
        };
        deferrable(written.await)
    }

    /// Removes one of this agent's services with its checks.
    pub async fn remove_service(&self, service_id: &str) -> Result<(), WriteError> {
        let token = self.local.token(&Entry::Service(service_id.to_string()));
        for check in self.local.service_checks(service_id) {
            self.unschedule(&check.check.check_id);
        }
        self.local.remove_service(service_id);
        deferrable(
            self.deregister_local(service_id, "", &token)
                .await
                .map(drop),
        )
    }

    /// Adds or replaces one of this agent's checks, registered with `token` (as for
    /// [`AgentInner::add_service`]).
    pub async fn add_check(&self, check: LocalCheck, token: &str) -> Result<(), WriteError> {
        let catalog_check = check.check.clone();
        self.schedule(&check);
        self.local.put_check(check);
        self.local
            .set_token(Entry::Check(catalog_check.check_id.clone()), token);
        deferrable(
            self.register_local(None, vec![catalog_check])
                .await
                .map(drop),
        )
    }

    /// Lets the agent's tables share the catalog's copies of what it just wrote.
    fn adopt_catalog_copies(&self, service_id: Option<&str>, check_ids: &[String]) {
        let Some(consensus) = self.catalog.server() else {
            return;
        };
        let state = consensus.reader().current();
        let node = self.node.name.as_str();
        let service = service_id.and_then(|id| state.node_service(node, id));
        let checks: Vec<&Arc<HealthCheck>> = check_ids
            .iter()
            .filter_map(|id| state.check(node, id))
            .collect();
        self.local.adopt_catalog_copies(service, &checks);
    }

    /// Removes one of this agent's checks.
    pub async fn remove_check(&self, check_id: &str) -> Result<(), WriteError> {
        let token = self.local.token(&Entry::Check(check_id.to_string()));
        self.unschedule(check_id);
        self.local.remove_check(check_id);
        deferrable(self.deregister_local("", check_id, &token).await.map(drop))
    }

    /// Sets a local check's status and output. An unchanged status and output writes
    /// nothing to Raft.
    pub async fn set_check_status(
        &self,
        local: &LocalCheck,
        status: HealthStatus,
        output: String,
    ) -> Result<(), WriteError> {
        if local.check.status == status && local.check.output == output {
            return Ok(());
        }
        let Some(updated) = self
            .local
            .update_check(&local.check.check_id, status, output)
        else {
            return Ok(());
        };
        deferrable(
            self.register_local(None, vec![updated.check])
                .await
                .map(drop),
        )
    }
}

/// A client agent's catalog write that no server took (none reached, none with a
/// leader) is left to anti-entropy, as Consul's client agents do: the local change
/// stands and the request succeeds. A refusal by the state machine is still an error.
fn deferrable(written: Result<(), WriteError>) -> Result<(), WriteError> {
    match written {
        Err(WriteError::Servers(error)) => {
            tracing::warn!(%error, "client: the servers did not take a catalog write; anti-entropy will write it");
            Ok(())
        }
        other => other,
    }
}

/// A running agent.
pub struct Agent {
    inner: Arc<AgentInner>,
    /// Where the HTTP API listens over TCP (none when it listens on a Unix socket).
    http_addr: Option<SocketAddr>,
    /// Where the HTTPS API listens, when it is on.
    https_addr: Option<SocketAddr>,
    dns_addr: Option<SocketAddr>,
    http_task: JoinHandle<std::io::Result<()>>,
    https_task: Option<JoinHandle<()>>,
    dns_task: Option<JoinHandle<()>>,
    ttl_task: JoinHandle<()>,
    checks_task: JoinHandle<()>,
    reaper_task: JoinHandle<()>,
    anti_entropy_task: JoinHandle<()>,
    hangup_task: JoinHandle<()>,
    /// Sets the periodic gauges and collects the metrics every second.
    telemetry_task: JoinHandle<()>,
    /// A server's session timers and ACL duties.
    role_tasks: Vec<(&'static str, JoinHandle<()>)>,
    /// Writes collected coordinates in batches (servers); reports this agent's own
    /// coordinate; feeds it gossip's round trips.
    coordinate_tasks: Vec<JoinHandle<()>>,
    persist_task: Option<JoinHandle<()>>,
    registration_task: Option<JoinHandle<()>>,
    /// Joining, finding servers and reconciling members (`membership`).
    membership_tasks: Vec<JoinHandle<()>>,
}

impl Agent {
    /// Starts consensus, registers this node and serves the HTTP API.
    pub async fn start(config: AgentConfig) -> Result<Agent, AgentError> {
        // First, so that every metric handle made from here on records.
        let telemetry = crate::telemetry::start(&config.telemetry, &host_name());
        // Bad TLS files stop the agent before anything starts.
        let https_tls = match &config.https {
            Some(settings) => Some(Arc::new(
                HttpsTls::load(settings.tls.clone())
                    .map_err(|error| AgentError::Config(format!("HTTPS: {error}")))?,
            )),
            None => None,
        };
        let rpc_tls = match &config.rpc_tls {
            Some(settings) if !config.dev => settings
                .load()
                .map_err(|error| AgentError::Config(format!("server RPC TLS: {error}")))?,
            _ => proconsul_consensus::RpcTls::default(),
        };
        let node_name = config.node_name.clone().unwrap_or_else(host_name);
        // Servers and client agents keep their node ID (and local state) here.
        let data_dir = config.data_dir.clone().filter(|_| !config.dev);
        let node_uuid = match (config.node_id, &data_dir) {
            (Some(configured), _) => configured,
            (None, Some(data_dir)) => {
                node_id::load_or_create(data_dir).map_err(AgentError::Config)?
            }
            (None, None) => uuid::Uuid::new_v4(),
        };
        let node = NodeIdentity {
            name: node_name.clone(),
            id: node_uuid.to_string(),
            address: config.bind_addr.to_string(),
        };
        let shutdown = CancellationToken::new();
        let me = membership::start::LocalMember {
            name: &node.name,
            id: &node.id,
            server: config.dev || config.server,
            version: CONSUL_COMPAT_VERSION,
        };
        let gossip = membership::start::start(&config, &me, shutdown.child_token()).await?;
        // Shared: the DNS handler's prepared-query failover reaches the WAN too.
        let wan =
            crate::membership::wan::pool::start(&config, &me, &rpc_tls, shutdown.child_token())
                .await?
                .map(Arc::new);
        tracing::info!(
            node = %node.name,
            node_id = %node.id,
            datacenter = %config.datacenter,
            mode = if config.dev {
                "dev"
            } else if config.server {
                "server"
            } else {
                "client"
            },
            "starting Proconsul agent"
        );
        let catalog = if config.dev || config.server {
            let consensus =
                start_consensus(&config, &node, node_uuid, &rpc_tls, data_dir.as_deref()).await?;
            CatalogBackend::Server(consensus)
        } else {
            // Gossip's LAN members that are servers fill its server list.
            CatalogBackend::Client(Arc::new(ServerLink::new(&rpc_tls)))
        };

        let listener = HttpListener::bind(&config).await?;
        let https_listener = match &config.https {
            Some(settings) => Some(TcpListener::bind(settings.addr).await.map_err(|source| {
                AgentError::Listen {
                    addr: settings.addr,
                    source,
                }
            })?),
            None => None,
        };
        let https_addr = https_listener
            .as_ref()
            .map(TcpListener::local_addr)
            .transpose()
            .map_err(AgentError::Http)?;
        let http_addr = match &listener {
            HttpListener::Tcp(listener) => Some(listener.local_addr().map_err(AgentError::Http)?),
            HttpListener::Unix(..) | HttpListener::Off => None,
        };
        let connect_ca = if config.connect_enabled && (config.dev || config.server) {
            let cluster_id = config
                .connect_cluster_id
                .clone()
                .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
            let roots = crate::connect_ca::generate(&cluster_id, 1).map_err(AgentError::Config)?;
            tracing::info!(trust_domain = %roots.trust_domain, "connect: CA root generated (roots only: Proconsul has no service mesh)");
            Some(roots)
        } else {
            None
        };

        let acl_tokens = Arc::new(agent_tokens(&config, data_dir.as_deref())?);
        let acl_resolver = config.acl.enabled.then(|| {
            Arc::new(TokenResolver::new(AclSettings {
                datacenter: config.datacenter.clone(),
                node_name: node.name.clone(),
                default_policy: config.acl.default_policy,
                tokens: acl_tokens.clone(),
            }))
        });

        // Resolves through servers elsewhere the tokens this agent does not hold, with
        // the agent's ACL cache settings.
        let remote_resolver = |resolver: &Arc<TokenResolver>, source| {
            Arc::new(ClientTokenResolver::new(
                resolver.clone(),
                source,
                &[
                    config.acl.token_ttl,
                    config.acl.policy_ttl,
                    config.acl.role_ttl,
                ],
                config.acl.down_policy,
                shutdown.clone(),
            ))
        };
        let client_acl = match (&acl_resolver, catalog.client()) {
            (Some(resolver), Some(link)) => Some(remote_resolver(
                resolver,
                crate::client_token_resolver::TokenSource::Servers(link.clone()),
            )),
            _ => None,
        };

        // A secondary datacenter's server that does not replicate tokens asks the
        // primary's servers for those it does not hold, as Consul does.
        let primary_acl = match (&acl_resolver, &wan) {
            (Some(resolver), Some(wan))
                if config.is_acl_secondary() && !config.acl.enable_token_replication =>
            {
                Some(remote_resolver(
                    resolver,
                    crate::client_token_resolver::TokenSource::Datacenter {
                        datacenters: wan.datacenters.clone(),
                        name: config.primary_datacenter().to_string(),
                    },
                ))
            }
            _ => None,
        };

        let dns_handler = match catalog.server() {
            Some(consensus) => Some(crate::dns_listener::server_handler(
                &config,
                consensus,
                &node.name,
                acl_resolver.as_ref(),
                wan.as_ref()
                    .map(|wan| membership::wan::dns_forward::remote_query(wan.datacenters.clone())),
                wan.as_ref().map(|wan| {
                    http::query_failover::dns_failover(
                        wan.clone(),
                        node.name.clone(),
                        acl_resolver.clone(),
                    )
                }),
            )?),
            None => None,
        };
        let dns_server =
            DnsListener::bind(&config, &catalog, dns_handler.as_ref(), &acl_tokens).await?;
        let coordinate = crate::agent_coordinate::AgentCoordinate::new(&node.id, "lan");
        let inner = Arc::new(AgentInner {
            config,
            node,
            catalog,
            local: LocalState::default(),
            ttl: TtlTimers::default(),
            sessions: SessionTimers::default(),
            checks: CheckRunner::default(),
            config_owned: ConfigOwned::default(),
            shutdown,
            answers: AnswerCache::default(),
            acl_resolver,
            client_acl,
            primary_acl,
            sync_now: tokio::sync::Notify::new(),
            acl_tokens,
            acl_replication: crate::acl_replication::ReplicationStatus::default(),
            connect_ca,
            https_tls: https_tls.clone(),
            telemetry,
            metrics: crate::telemetry::AgentMetrics::new(),
            gossip,
            wan,
            coordinate,
            coordinate_batch: Default::default(),
            metrics_stream: crate::telemetry::stream::MetricsStream::new(),
        });
        let membership_tasks = spawn_membership(&inner);
        let from_files =
            config_registrations::prepare(&inner, &inner.config.services, &inner.config.checks)
                .map_err(AgentError::Config)?;
        let mut persist_task = None;
        let leads_at_start = inner.catalog.server().is_some_and(Consensus::is_leader);
        // The built-in ACL objects exist before the API serves its first request.
        let acl_initialized = leads_at_start
            && inner.config.acl.enabled
            && match acl_leader::initialize(&inner).await {
                Ok(()) => true,
                Err(error) => {
                    tracing::warn!(%error, "acl: could not initialize at start; will retry");
                    false
                }
            };
        let ready_to_register = match inner.catalog.server() {
            Some(consensus) => consensus.leader().is_some(),
            // A client registers at once: a write no server takes is left to
            // anti-entropy, which also registers the node once a server answers.
            None => true,
        };
        let registration_task = if ready_to_register {
            register_everything(&inner, from_files).await?;
            persist_task = data_dir
                .clone()
                .map(|data_dir| tokio::spawn(persist::keep(inner.clone(), data_dir)));
            None
        } else {
            // A server waiting for its cluster: the API serves meanwhile, and the
            // catalog learns about this node once there is a leader to write to.
            tracing::info!(
                "catalog: no cluster leader yet; registering this node once there is one"
            );
            let agent = inner.clone();
            let data_dir = data_dir.clone();
            Some(tokio::spawn(async move {
                if !wait_for_leader(&agent).await {
                    return;
                }
                if let Err(error) = register_everything(&agent, from_files).await {
                    tracing::warn!(%error, "catalog: registering this node failed; anti-entropy will retry");
                }
                // Saved only once restored, so an empty start never overwrites the file.
                if let Some(data_dir) = data_dir {
                    persist::keep(agent, data_dir).await;
                }
            }))
        };

        let router = http::router(inner.clone());
        let router_for_clients = router.clone();
        let https_task = match (https_listener, https_tls) {
            (Some(listener), Some(tls)) => {
                tracing::info!(https_addr = ?https_addr, verify_incoming = inner.config.https.as_ref().is_some_and(|s| s.tls.verify_incoming), "HTTPS API listening");
                Some(tokio::spawn(https::serve(
                    listener,
                    router.clone(),
                    tls,
                    inner.shutdown.clone(),
                )))
            }
            _ => None,
        };
        let shutdown = inner.shutdown.clone();
        let http_task = tokio::spawn(async move {
            // `into_make_service*` hands each connection a pointer to the one router;
            // serving the router directly clones its whole route table per connection
            // (~35 KiB and a deep copy of every route on each new connection). The peer
            // address rides along for prepared queries' `Near: "_ip"`.
            match listener {
                HttpListener::Tcp(listener) => {
                    let service = router.into_make_service_with_connect_info::<SocketAddr>();
                    axum::serve(listener, service)
                        .with_graceful_shutdown(async move { shutdown.cancelled().await })
                        .await
                }
                HttpListener::Unix(listener, path) => {
                    // No peer IP over a Unix socket (prepared queries' `_ip` has none).
                    let served = axum::serve(listener, router.into_make_service())
                        .with_graceful_shutdown(async move { shutdown.cancelled().await })
                        .await;
                    let _ = std::fs::remove_file(&path);
                    served
                }
                HttpListener::Off => {
                    shutdown.cancelled().await;
                    Ok(())
                }
            }
        });
        let dns_addr = dns_server.as_ref().map(DnsListener::local_addr);
        let dns_task = dns_server.map(|server| {
            let shutdown = inner.shutdown.clone();
            tokio::spawn(server.serve_until(async move { shutdown.cancelled().await }))
        });
        let ttl_task = tokio::spawn(ttl::expire_checks(inner.clone()));
        let checks_task = tokio::spawn(checks::run_checks(inner.clone()));
        let reaper_task = tokio::spawn(reaper::reap_critical_services(inner.clone()));
        let anti_entropy_task = tokio::spawn(anti_entropy::run(inner.clone()));
        let hangup_task = tokio::spawn(crate::reload::on_hangup(inner.clone()));
        let telemetry_task = tokio::spawn(crate::metrics_sampler::run(inner.clone()));
        let role_tasks = match (inner.catalog.clone(), dns_handler) {
            (CatalogBackend::Server(consensus), Some(dns)) => {
                consensus.serve_forwarded(Arc::new(ServerForwarding {
                    router: router_for_clients,
                    dns,
                    reader: consensus.reader().clone(),
                    acl: inner.acl_resolver.clone(),
                }));
                server_tasks(&inner, consensus, acl_initialized)
            }
            (CatalogBackend::Server(consensus), None) => {
                server_tasks(&inner, consensus, acl_initialized)
            }
            // A client's server list is gossip's (`spawn_membership`).
            (CatalogBackend::Client(_), _) => Vec::new(),
        };
        let mut coordinate_tasks = vec![
            tokio::spawn(crate::agent_coordinate::report_periodically(inner.clone())),
            tokio::spawn(crate::agent_coordinate::follow_gossip(inner.clone())),
        ];
        if inner.wan.is_some() {
            coordinate_tasks.push(tokio::spawn(crate::agent_coordinate::follow_wan_gossip(
                inner.clone(),
            )));
        }
        if inner.catalog.server().is_some() {
            coordinate_tasks.push(tokio::spawn(crate::coordinate_batch::flush_periodically(
                inner.clone(),
            )));
        }
        match (&http_addr, &inner.config.http_unix_socket) {
            (Some(http_addr), _) => tracing::info!(%http_addr, "HTTP API listening"),
            (None, Some(path)) => {
                tracing::info!(socket = %path.display(), "HTTP API listening on a Unix socket");
            }
            (None, None) => tracing::info!("plain HTTP API off (ports.http = -1)"),
        }
        if let Some(dns_addr) = dns_addr {
            tracing::info!(%dns_addr, domain = %inner.config.dns.domain, "DNS listening (UDP and TCP)");
        }
        Ok(Agent {
            inner,
            http_addr,
            https_addr,
            dns_addr,
            http_task,
            https_task,
            dns_task,
            ttl_task,
            checks_task,
            reaper_task,
            anti_entropy_task,
            hangup_task,
            telemetry_task,
            role_tasks,
            coordinate_tasks,
            persist_task,
            registration_task,
            membership_tasks,
        })
    }

    /// Where the HTTP API listens over TCP (useful with `-http-port 0`); none when it
    /// listens on a Unix socket.
    pub fn http_addr(&self) -> Option<SocketAddr> {
        self.http_addr
    }

    /// Where the HTTPS API listens, when it is on.
    pub fn https_addr(&self) -> Option<SocketAddr> {
        self.https_addr
    }

    /// Where DNS listens, when it is on.
    pub fn dns_addr(&self) -> Option<SocketAddr> {
        self.dns_addr
    }

    /// Stops accepting requests, ends blocking queries, and shuts consensus down.
    pub async fn stop(self) -> Result<(), AgentError> {
        tracing::info!("shutting down: closing the HTTP API");
        self.inner.shutdown.cancel();
        match self.http_task.await {
            Ok(result) => result.map_err(AgentError::Http)?,
            Err(join_error) => tracing::error!(%join_error, "HTTP server task failed"),
        }
        if let Some(https_task) = self.https_task
            && let Err(join_error) = https_task.await
        {
            tracing::error!(%join_error, "HTTPS server task failed");
        }
        if let Some(dns_task) = self.dns_task
            && let Err(join_error) = dns_task.await
        {
            tracing::error!(%join_error, "DNS server task failed");
        }
        if let Err(join_error) = self.ttl_task.await {
            tracing::error!(%join_error, "TTL check task failed");
        }
        if let Err(join_error) = self.checks_task.await {
            tracing::error!(%join_error, "check runner task failed");
        }
        if let Err(join_error) = self.reaper_task.await {
            tracing::error!(%join_error, "critical service reaper failed");
        }
        if let Err(join_error) = self.anti_entropy_task.await {
            tracing::error!(%join_error, "anti-entropy task failed");
        }
        if let Err(join_error) = self.hangup_task.await {
            tracing::error!(%join_error, "SIGHUP listener failed");
        }
        if let Err(join_error) = self.telemetry_task.await {
            tracing::error!(%join_error, "telemetry task failed");
        }
        if let Some(task) = self.persist_task
            && let Err(join_error) = task.await
        {
            tracing::error!(%join_error, "local state persistence task failed");
        }
        if let Some(task) = self.registration_task
            && let Err(join_error) = task.await
        {
            tracing::error!(%join_error, "catalog registration task failed");
        }
        for (name, task) in self.role_tasks {
            if let Err(join_error) = task.await {
                tracing::error!(%join_error, task = name, "background task failed");
            }
        }
        for task in self.membership_tasks {
            if let Err(join_error) = task.await {
                tracing::error!(%join_error, "membership task failed");
            }
        }
        self.inner.gossip.shutdown().await;
        if let Some(wan) = &self.inner.wan {
            wan.gossip.shutdown().await;
        }
        for task in self.coordinate_tasks {
            if let Err(join_error) = task.await {
                tracing::error!(%join_error, "coordinate task failed");
            }
        }
        if self.inner.catalog.server().is_some() {
            tracing::info!("shutting down: stopping raft");
        }
        self.inner.catalog.shutdown().await?;
        tracing::info!("shutdown complete");
        Ok(())
    }
}

/// Starts Raft: a durable server with its data dir, or `-dev`'s in-memory cluster of one;
/// then joins the `start_join` servers.
async fn start_consensus(
    config: &AgentConfig,
    node: &NodeIdentity,
    node_uuid: uuid::Uuid,
    rpc_tls: &proconsul_consensus::RpcTls,
    data_dir: Option<&std::path::Path>,
) -> Result<Consensus, AgentError> {
    let rpc_addr = SocketAddr::new(config.bind_addr, config.server_port);
    let consensus = match data_dir {
        Some(data_dir) => {
            let consensus_config = ConsensusConfig {
                node_id: node_id::raft_id(&node_uuid),
                server_id: node.id.clone(),
                node_name: node.name.clone(),
                rpc_addr,
                autopilot: config.autopilot.clone(),
            };
            let cluster = ClusterOptions {
                bootstrap: config.bootstrap,
                bootstrap_expect: config.bootstrap_expect,
                join: config
                    .retry_join
                    .iter()
                    .chain(&config.start_join)
                    .cloned()
                    .collect(),
                retry_interval: config.retry_interval,
                raft_multiplier: config.raft_multiplier,
                datacenter: config.datacenter.clone(),
                gossip_addr: membership::start::advertised_addr(config).to_string(),
            };
            let consensus = Consensus::start_server(
                consensus_config,
                ServerOptions {
                    data_dir: data_dir.to_path_buf(),
                    snapshot_threshold: config.raft_snapshot_threshold,
                    trailing_logs: config.raft_trailing_logs,
                    cluster,
                    tls: rpc_tls.clone(),
                    test_faults: proconsul_consensus::fault::FaultLayer::requested_by_env(),
                },
            )
            .await?;
            tracing::info!(%rpc_addr, data_dir = %data_dir.display(), tls = ?rpc_tls, "raft: durable server started; server RPC listening");
            consensus
        }
        None => {
            let consensus_config = ConsensusConfig {
                node_id: 1,
                server_id: node.id.clone(),
                node_name: node.name.clone(),
                rpc_addr,
                autopilot: config.autopilot.clone(),
            };
            let consensus = Consensus::start_dev(consensus_config).await?;
            tracing::info!(%rpc_addr, "raft: single-voter in-memory cluster elected this node leader");
            consensus
        }
    };
    for addr in &config.start_join {
        if let Err(error) = consensus.join(addr).await {
            tracing::warn!(%addr, %error, "join: could not join");
        }
    }
    Ok(consensus)
}

/// A server's own background work: session TTLs and bindings, and with ACLs the
/// leader's ACL duties.
fn server_tasks(
    inner: &Arc<AgentInner>,
    consensus: Consensus,
    acl_initialized: bool,
) -> Vec<(&'static str, JoinHandle<()>)> {
    let mut tasks = vec![
        (
            "session TTLs",
            tokio::spawn({
                let inner = inner.clone();
                let consensus = consensus.clone();
                async move { sessions::expire(&inner.sessions, &consensus, &inner.shutdown).await }
            }),
        ),
        (
            "session bindings",
            tokio::spawn({
                let inner = inner.clone();
                async move {
                    sessions::watch_bindings(&inner.sessions, &consensus, &inner.shutdown).await
                }
            }),
        ),
    ];
    if inner.config.acl.enabled {
        tasks.push((
            "ACL leader",
            tokio::spawn(acl_leader::run(inner.clone(), acl_initialized)),
        ));
    }
    if inner.config.is_acl_secondary() {
        tasks.push((
            "ACL replication",
            tokio::spawn(crate::acl_replication::run(inner.clone())),
        ));
    }
    tasks
}

/// The agent's tokens from the configuration; with ACLs and
/// `acl.enable_token_persistence`, those saved in the data dir win.
fn agent_tokens(
    config: &AgentConfig,
    data_dir: Option<&std::path::Path>,
) -> Result<AgentTokens, AgentError> {
    let acl = &config.acl;
    match data_dir {
        Some(dir) if acl.enabled && acl.enable_token_persistence => {
            AgentTokens::persisted(&acl.tokens, dir)
                .map_err(|error| AgentError::Config(error.to_string()))
        }
        _ => {
            if acl.enabled && acl.enable_token_persistence {
                tracing::warn!(
                    "acl.enable_token_persistence: no data dir (-dev), tokens set through the API are kept in memory only"
                );
            }
            Ok(AgentTokens::from_config(&acl.tokens))
        }
    }
}

/// Gossip's background work: joining (`start_join`, `retry_join`, and servers found
/// through server RPC), feeding discovery (a server) or the server pool (a client agent)
/// with gossip's servers, and the leader's reconciliation of members into the catalog.
fn spawn_membership(inner: &AgentInner) -> Vec<JoinHandle<()>> {
    let config = &inner.config;
    let durable_server = inner.catalog.server().filter(|_| !config.dev);
    let mut tasks = vec![membership::join::spawn(
        membership::join::LAN,
        inner.gossip.clone(),
        durable_server.cloned(),
        config.start_join.clone(),
        config.retry_join.clone(),
        config.retry_interval,
        inner.shutdown.clone(),
    )];
    if let Some(consensus) = durable_server {
        tasks.push(membership::servers::spawn(
            inner.gossip.clone(),
            consensus.clone(),
            config.datacenter.clone(),
            inner.shutdown.clone(),
        ));
    }
    if let Some(link) = inner.catalog.client() {
        tasks.push(membership::servers::spawn_for_client(
            inner.gossip.clone(),
            link.pool().clone(),
            config.datacenter.clone(),
            inner.shutdown.clone(),
        ));
    }
    if let Some(wan) = &inner.wan {
        tasks.push(membership::join::spawn(
            membership::join::WAN,
            wan.gossip.clone(),
            None,
            config.gossip.start_join_wan.clone(),
            config.gossip.retry_join_wan.clone(),
            config.retry_interval,
            inner.shutdown.clone(),
        ));
        tasks.push(crate::membership::wan::flood::spawn(
            inner.gossip.clone(),
            wan.gossip.clone(),
            config.datacenter.clone(),
            inner.shutdown.clone(),
        ));
        tasks.push(
            wan.datacenters
                .clone()
                .follow(wan.gossip.clone(), inner.shutdown.clone()),
        );
    }
    if let Some(consensus) = inner.catalog.server() {
        let reconcile = membership::leader::ReconcileLoop {
            gossip: inner.gossip.clone(),
            consensus: consensus.clone(),
            reconciler: reconcile::Reconciler {
                datacenter: config.datacenter.clone(),
                local_node: inner.node.name.clone(),
            },
            interval: config.gossip.reconcile_interval,
            failure_hold_down: config.gossip.failure_hold_down,
        };
        tasks.push(reconcile.spawn(inner.shutdown.clone()));
    }
    tasks
}

/// Waits until the cluster has a leader; false if the agent stops first.
async fn wait_for_leader(agent: &AgentInner) -> bool {
    let Some(consensus) = agent.catalog.server() else {
        return true;
    };
    loop {
        if consensus.leader().is_some() {
            return true;
        }
        tokio::select! {
            _ = agent.shutdown.cancelled() => return false,
            _ = tokio::time::sleep(std::time::Duration::from_millis(100)) => {}
        }
    }
}

/// Writes this node, the services and checks it kept in its data dir, and those of its
/// configuration files to the catalog.
async fn register_everything(
    inner: &AgentInner,
    from_files: config_registrations::Prepared,
) -> Result<(), AgentError> {
    match register_self(inner).await {
        Ok(()) => {
            tracing::info!(node = %inner.node.name, "catalog: registered this node and serfHealth");
        }
        // A client's servers may not answer yet: anti-entropy registers the node later.
        Err(error) if inner.catalog.client().is_some() => {
            tracing::warn!(%error, "catalog: cannot register this node yet; anti-entropy will");
        }
        Err(error) => return Err(AgentError::SelfRegistration(error.to_string())),
    }
    if let Some(data_dir) = inner.config.data_dir.as_ref().filter(|_| !inner.config.dev) {
        let restored = persist::restore(inner, data_dir)
            .await
            .map_err(AgentError::Config)?;
        if restored > 0 {
            tracing::info!(
                restored,
                "restored this agent's services and checks from the data dir"
            );
        }
    }
    config_registrations::apply(inner, from_files)
        .await
        .map_err(|error| AgentError::Config(error.to_string()))?;
    if !inner.config.services.is_empty() || !inner.config.checks.is_empty() {
        tracing::info!(
            services = inner.config.services.len(),
            checks = inner.config.checks.len(),
            "registered services and checks from configuration files"
        );
    }
    Ok(())
}

/// What stopped the agent: SIGINT leaves the cluster unless `skip_leave_on_interrupt`,
/// SIGTERM only with `leave_on_terminate` (Consul's defaults differ for servers and
/// client agents).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopSignal {
    Interrupt,
    Terminate,
}

/// Runs an agent until `shutdown` resolves (or a client asks it to leave), then stops
/// it cleanly.
pub async fn run(
    config: AgentConfig,
    shutdown: impl Future<Output = StopSignal> + Send + 'static,
) -> Result<(), AgentError> {
    let agent = Agent::start(config).await?;
    let left = agent.inner.shutdown.clone();
    tokio::select! {
        signal = shutdown => {
            let config = &agent.inner.config;
            let leave = match signal {
                StopSignal::Interrupt => !config.gossip.skip_leave_on_interrupt,
                StopSignal::Terminate => config.leave_on_terminate,
            };
            if leave {
                tracing::info!(?signal, "leaving the cluster before stopping");
                if let Err(error) = agent.inner.leave().await {
                    tracing::error!(%error, "leaving the cluster failed");
                }
            }
        }
        _ = left.cancelled() => {}
    }
    agent.stop().await
}

/// The HTTP API's listener: TCP on `addresses.http` (or the client address) and
/// `ports.http`, or the Unix socket of `addresses.http = "unix:///path"`.
enum HttpListener {
    Tcp(TcpListener),
    Unix(tokio::net::UnixListener, std::path::PathBuf),
    /// `ports.http = -1`.
    Off,
}

impl HttpListener {
    async fn bind(config: &AgentConfig) -> Result<HttpListener, AgentError> {
        if config.http_disabled {
            return Ok(HttpListener::Off);
        }
        if let Some(path) = &config.http_unix_socket {
            // A socket left by an earlier run is replaced, as Consul does; any other
            // file there is an error.
            use std::os::unix::fs::FileTypeExt;
            if std::fs::symlink_metadata(path).is_ok_and(|meta| meta.file_type().is_socket()) {
                tracing::warn!(socket = %path.display(), "replacing socket");
                let _ = std::fs::remove_file(path);
            }
            let listener = tokio::net::UnixListener::bind(path).map_err(|error| {
                AgentError::Config(format!(
                    "cannot listen on unix://{}: {error}",
                    path.display()
                ))
            })?;
            return Ok(HttpListener::Unix(listener, path.clone()));
        }
        let addr = SocketAddr::new(
            config.http_addr.unwrap_or(config.client_addr),
            config.http_port,
        );
        TcpListener::bind(addr)
            .await
            .map(HttpListener::Tcp)
            .map_err(|source| AgentError::Listen { addr, source })
    }
}

/// Registers this node as a pristine Consul dev agent shows it: the node, and on a
/// server the `consul` service and the passing `serfHealth` check.
pub(crate) async fn register_self(agent: &AgentInner) -> Result<(), WriteError> {
    let address = agent.node.address.clone();
    let registration = CatalogRegistration {
        id: agent.node.id.clone(),
        node: agent.node.name.clone(),
        tagged_addresses: reconcile::default_tagged_addresses(&address),
        address,
        datacenter: agent.config.datacenter.clone(),
        node_meta: own_node_meta(agent),
        // A client's `serfHealth` is the leader's to write, from gossip (Consul's
        // reconcile); a server writes its own at start, before there is a reconcile.
        service: agent.catalog.server().map(|_| {
            reconcile::server_service(
                agent.config.server_port,
                &agent.config.datacenter,
                CONSUL_COMPAT_VERSION,
            )
        }),
        checks: agent
            .catalog
            .server()
            .map(|_| reconcile::serf_health(&agent.node.name, HealthStatus::Passing))
            .into_iter()
            .collect(),
        ..CatalogRegistration::default()
    };
    agent
        .commit(Command::Register(Box::new(registration)))
        .await
}

/// The node metadata this agent registers: `node_meta` and Consul's own keys.
pub(crate) fn own_node_meta(agent: &AgentInner) -> BTreeMap<String, String> {
    agent
        .config
        .node_meta
        .iter()
        .map(|(key, value)| (key.clone(), value.clone()))
        .chain([
            ("consul-network-segment".to_string(), String::new()),
            (
                "consul-version".to_string(),
                CONSUL_COMPAT_VERSION.to_string(),
            ),
        ])
        .collect()
}

fn host_name() -> String {
    let name = gethostname::gethostname().to_string_lossy().into_owned();
    if name.is_empty() {
        "proconsul".to_string()
    } else {
        name
    }
}
