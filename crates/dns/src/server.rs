//! The DNS server: hickory's UDP and TCP listeners, and a request handler that answers
//! the domain from the latest state, forwards other names to recursors, and fits each
//! response to its packet.

use proconsul_acl::Authorizer;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hickory_proto::ProtoError;
use hickory_proto::op::{
    Edns, EmitAndCount, Header, HeaderCounts, Message, MessageType, Metadata, OpCode, ResponseCode,
    emit_message_parts,
};
use hickory_proto::rr::{DNSClass, Name, Record, RecordType};
use hickory_proto::serialize::binary::BinEncoder;
use hickory_server::net::runtime::Time;
use hickory_server::net::xfer::Protocol;
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo, Server};
use hickory_server::zone_handler::MessageResponseBuilder;
use proconsul_api::query::PreparedQuery;
use proconsul_state::State;
use tokio::net::{TcpListener, UdpSocket};
use tokio_util::sync::CancellationToken;

use crate::answer::{self, Question, Response, Sources};
use crate::config::DnsConfig;
use crate::fit::{self, Fitted, Limits};
use crate::healthy::HealthyCache;
use crate::name;
use crate::query_failover::{FailoverFound, FailoverRequest, QueryFailover};
use crate::recursor::Recursor;
use crate::remote::{RemoteAnswer, RemoteQuery};
use crate::response_cache::{Cached, Keepable, ResponseCache, Rotation};
use crate::udp;

/// Where answers come from: the latest applied state, loaded without locking.
pub type StateSource = Arc<dyn Fn() -> Arc<State> + Send + Sync>;

/// With ACLs enabled: the authorizer of the DNS token (`acl.tokens.dns`, else
/// `default`, else anonymous) in a state. Names it may not read are not answered.
pub type AclSource = Arc<dyn Fn(&State) -> Arc<Authorizer> + Send + Sync>;

/// Consul's cap on answers to a UDP client that sent no EDNS.
const MAX_UDP_ANSWERS_WITHOUT_EDNS: usize = 8;
/// The largest UDP payload honoured from a client's EDNS (Consul's 65535 - 68).
const MAX_UDP_PAYLOAD: u16 = 65535 - 68;
/// An idle TCP connection is closed after this long.
const TCP_IDLE_TIMEOUT: Duration = Duration::from_secs(5);

/// Who asks a question: the client's address (for answers that depend on it) and, for
/// a query a client agent forwarded with its DNS token, that token's authorizer.
#[derive(Clone, Copy)]
struct Asker<'a> {
    source: Option<IpAddr>,
    acl: Option<&'a Authorizer>,
}

/// Answers DNS requests for the agent.
pub struct DnsHandler {
    config: DnsConfig,
    domain: Name,
    alt_domain: Option<Name>,
    state: StateSource,
    self_address: IpAddr,
    recursor: Option<Recursor>,
    healthy: HealthyCache,
    responses: ResponseCache,
    acl: Option<AclSource>,
    /// Other datacenters' names go there (`None`: they name nothing).
    remote: Option<RemoteQuery>,
    /// Prepared queries with no instance here run there (`None`: NXDOMAIN).
    failover: Option<QueryFailover>,
    /// Consul's `dns.domain_query` and `dns.ptr_query` timers, labelled with the node.
    domain_query: metrics::Histogram,
    ptr_query: metrics::Histogram,
}

/// Why the DNS server could not start.
#[derive(Debug, thiserror::Error)]
pub enum DnsError {
    #[error("invalid domain {domain:?}: {reason}")]
    Domain { domain: String, reason: String },
    #[error("cannot listen for DNS on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

impl DnsHandler {
    /// A handler for `config`'s zones; `self_address` is given as the name server's
    /// address.
    pub fn new(
        config: DnsConfig,
        state: StateSource,
        self_address: IpAddr,
    ) -> Result<Self, DnsError> {
        let domain = zone_name(&config.domain)?;
        let alt_domain = config.alt_domain.as_deref().map(zone_name).transpose()?;
        let recursor = (!config.recursors.is_empty()).then(|| {
            Recursor::new(
                config.recursors.clone(),
                config.recursor_timeout,
                config.recursor_strategy,
            )
        });
        let node = config.node_name.clone();
        let domain_query = metrics::histogram!("dns.domain_query", "node" => node.clone());
        let ptr_query = metrics::histogram!("dns.ptr_query", "node" => node);
        Ok(DnsHandler {
            domain_query,
            ptr_query,
            config,
            domain,
            alt_domain,
            state,
            self_address,
            recursor,
            healthy: HealthyCache::default(),
            responses: ResponseCache::default(),
            acl: None,
            remote: None,
            failover: None,
        })
    }

    /// Answers only what the DNS token may read. Kept answers are then not reused: they
    /// would outlive a change to the token's rules.
    pub fn with_acl(mut self, acl: AclSource) -> Self {
        self.acl = Some(acl);
        self
    }

    /// Answers names of other datacenters through `remote`.
    pub fn with_remote(mut self, remote: RemoteQuery) -> Self {
        self.remote = Some(remote);
        self
    }

    /// Fails `<query>.query` lookups over through `failover` when the query's local
    /// execution leaves no instance and its `Failover` names datacenters.
    pub fn with_query_failover(mut self, failover: QueryFailover) -> Self {
        self.failover = Some(failover);
        self
    }

    /// Another datacenter's answer to `request`, when it names one this handler can
    /// ask (`None`: answer it here). `Some(None)`: that datacenter has no server
    /// reachable (SERVFAIL).
    pub async fn ask_remote(&self, request: &Request, tcp: bool) -> Option<Option<Vec<u8>>> {
        let remote = self.remote.as_ref()?;
        let info = request.request_info().ok()?;
        let (_, lookup) = self.lookup_of(info.query.original().name())?;
        let datacenter = crate::remote::remote_datacenter(&lookup, &self.config.datacenter)?;
        match remote(
            datacenter.to_string(),
            request.as_slice().to_vec(),
            request.src(),
            tcp,
        )
        .await
        {
            RemoteAnswer::Answer(answer) => Some(Some(answer)),
            RemoteAnswer::UnknownDatacenter => None,
            RemoteAnswer::Unreachable => Some(None),
        }
    }

    /// A kept answer to this exact query, or the rotation to build it in.
    /// `asker_acl`: the authorizer a forwarded query brought (a client agent's DNS
    /// token). With any ACL, this handler's or the asker's, nothing is reused.
    pub fn cached(
        &self,
        query: &[u8],
        protocol: Protocol,
        asker_acl: Option<&Authorizer>,
    ) -> Cached {
        if self.acl.is_some() || asker_acl.is_some() {
            return Cached::Compute(Rotation {
                seed: rand::random(),
                variant: 0,
            });
        }
        let started = std::time::Instant::now();
        let cached = self.responses.get(query, protocol, &(self.state)());
        if let Cached::Hit(_) = &cached {
            // Only lookups in the zones are kept: a domain query answered.
            self.domain_query.record(millis_since(started));
        }
        cached
    }

    /// Keeps an encoded answer to a service lookup for reuse (not with ACLs: this
    /// handler's, or `asker_acl`, the one a forwarded query brought).
    pub fn remember(
        &self,
        query: &[u8],
        protocol: Protocol,
        keepable: Keepable,
        response: &[u8],
        asker_acl: Option<&Authorizer>,
    ) {
        if self.acl.is_none() && asker_acl.is_none() {
            self.responses.put(query, protocol, keepable, response);
        }
    }

    /// The answer to a name in one of the zones, or to a reverse lookup, timed as
    /// Consul times them (`dns.ptr_query` for reverse lookups, `dns.domain_query` for
    /// the rest); `None` for other names (recursed, not timed).
    /// `failed_over`: what failing over brought, to answer from (timed from when the
    /// request came); an answer still to fail over is not timed yet.
    #[allow(clippy::too_many_arguments)]
    fn local_answer(
        &self,
        name: &Name,
        query_type: RecordType,
        max_answers: usize,
        max_bytes: usize,
        rotation: Option<Rotation>,
        asker: Asker<'_>,
        failed_over: Option<&FailedOver>,
    ) -> Option<Response> {
        let started = failed_over.map_or_else(std::time::Instant::now, |done| done.started);
        let response = self.zone_answer(
            name,
            query_type,
            max_answers,
            max_bytes,
            rotation,
            asker,
            failed_over,
        )?;
        if response.failover.is_some() && self.failover.is_some() {
            return Some(response);
        }
        let reverse = query_type == RecordType::PTR && name.to_ascii().ends_with(".arpa.");
        let timer = if reverse {
            &self.ptr_query
        } else {
            &self.domain_query
        };
        timer.record(millis_since(started));
        Some(response)
    }

    /// The authorizer of this handler's DNS token, unless the asker brought its own.
    fn own_authorizer(&self, state: &State, asker: Asker<'_>) -> Option<Arc<Authorizer>> {
        match asker.acl {
            Some(_) => None,
            None => self.acl.as_ref().map(|acl| acl(state)),
        }
    }

    /// [`DnsHandler::local_answer`] without the timing.
    #[allow(clippy::too_many_arguments)]
    fn zone_answer(
        &self,
        name: &Name,
        query_type: RecordType,
        max_answers: usize,
        max_bytes: usize,
        rotation: Option<Rotation>,
        asker: Asker<'_>,
        failed_over: Option<&FailedOver>,
    ) -> Option<Response> {
        let lower = name.to_lowercase();
        if query_type == RecordType::PTR
            && let Ok(network) = lower.parse_arpa_name()
            && network.prefix_len() == network.max_prefix_len()
        {
            let state = (self.state)();
            let own = self.own_authorizer(&state, asker);
            return Some(
                answer::reverse(
                    &state,
                    &self.config,
                    asker.acl.or(own.as_deref()),
                    name,
                    network.addr(),
                )
                .unwrap_or_else(|| self.nxdomain(&state, name)),
            );
        }
        let (zone, lookup) = self.lookup_of(name)?;
        let question = Question {
            name,
            query_type,
            zone,
            lookup,
            max_answers,
            max_bytes,
            rotation,
            source: asker.source,
        };
        let state = (self.state)();
        let own = self.own_authorizer(&state, asker);
        let sources = self.sources(&state, asker.acl.or(own.as_deref()));
        Some(match failed_over {
            Some(done) => answer::failed_over(&sources, &question, &done.query, done.found.clone()),
            None => answer::answer(&sources, &question, &mut rand::rng()),
        })
    }

    /// The zone `name` is in and what it looks up; `None` outside the zones.
    fn lookup_of(&self, name: &Name) -> Option<(&Name, name::Lookup)> {
        let lower = name.to_lowercase();
        let zone = [Some(&self.domain), self.alt_domain.as_ref()]
            .into_iter()
            .flatten()
            .find(|zone| zone.zone_of(&lower))?;
        let relative = usize::from(lower.num_labels() - zone.num_labels());
        let labels: Option<Vec<&str>> = lower
            .iter()
            .take(relative)
            .map(|label| std::str::from_utf8(label).ok())
            .collect();
        Some((
            zone,
            labels.map_or(name::Lookup::Invalid, |labels| name::parse(&labels)),
        ))
    }

    fn sources<'a>(&'a self, state: &'a State, acl: Option<&'a Authorizer>) -> Sources<'a> {
        Sources {
            state,
            config: &self.config,
            healthy: &self.healthy,
            self_address: self.self_address,
            acl,
        }
    }

    /// NXDOMAIN with the primary zone's SOA, for reverse lookups that found nothing.
    fn nxdomain(&self, state: &State, name: &Name) -> Response {
        let question = Question {
            name,
            query_type: RecordType::PTR,
            zone: &self.domain,
            lookup: name::Lookup::Invalid,
            max_answers: 0,
            max_bytes: 0,
            rotation: None,
            source: None,
        };
        answer::answer(&self.sources(state, None), &question, &mut rand::rng())
    }

    fn limits(&self, protocol: Protocol, edns: Option<&Edns>, query_type: RecordType) -> Limits {
        let address_query = matches!(
            query_type,
            RecordType::A | RecordType::AAAA | RecordType::ANY
        );
        let mut max_answers = (address_query && self.config.a_record_limit > 0)
            .then_some((self.config.a_record_limit, self.config.enable_truncate));
        let udp = protocol == Protocol::Udp;
        if udp && edns.is_none() {
            let cap = self
                .config
                .udp_answer_limit
                .clamp(1, MAX_UDP_ANSWERS_WITHOUT_EDNS);
            let cap = max_answers.map_or(cap, |(limit, _)| limit.min(cap));
            max_answers = Some((cap, self.config.enable_truncate));
        }
        let max_bytes = match (udp, edns) {
            (true, None) => 512,
            (true, Some(edns)) => usize::from(edns.max_payload().clamp(512, MAX_UDP_PAYLOAD)),
            (false, _) => usize::from(u16::MAX),
        };
        Limits {
            overhead: 0,
            max_answers,
            max_bytes,
            truncation_flag: udp,
        }
    }

    /// Sends `fitted` (or an error code with no records) as the response to `request`.
    async fn send<R: ResponseHandler>(
        &self,
        request: &Request,
        mut response_handle: R,
        code: ResponseCode,
        authoritative: bool,
        fitted: Fitted,
    ) -> ResponseInfo {
        let mut metadata = Metadata::response_from_request(&request.metadata);
        metadata.authoritative = authoritative;
        metadata.recursion_available = self.recursor.is_some();
        metadata.response_code = code;
        metadata.truncation = fitted.truncated;
        let edns = response_edns(request);
        let mut builder = MessageResponseBuilder::from_message_request(request);
        if let Some(edns) = &edns {
            builder.edns(edns);
        }
        let response = builder.build(
            metadata,
            fitted.answers.iter(),
            fitted.authority.iter(),
            std::iter::empty(),
            fitted.additional.iter(),
        );
        match response_handle.send_response(response).await {
            Ok(info) => info,
            Err(error) => {
                tracing::debug!(%error, src = %request.src(), "could not send a DNS response");
                failed(metadata)
            }
        }
    }

    /// Sends another datacenter's encoded answer through hickory's listener (SERVFAIL
    /// when there is none or it does not decode).
    async fn relay<R: ResponseHandler>(
        &self,
        request: &Request,
        response_handle: R,
        answer: Option<&[u8]>,
    ) -> ResponseInfo {
        let Some(Ok(message)) = answer.map(Message::from_vec) else {
            return self
                .send(
                    request,
                    response_handle,
                    ResponseCode::ServFail,
                    false,
                    Fitted::default(),
                )
                .await;
        };
        let fitted = Fitted {
            answers: message.answers.clone(),
            authority: message.authorities.clone(),
            additional: message.additionals.clone(),
            truncated: message.metadata.truncation,
        };
        self.send(
            request,
            response_handle,
            message.metadata.response_code,
            message.metadata.authoritative,
            fitted,
        )
        .await
    }

    async fn recurse<R: ResponseHandler>(
        &self,
        request: &Request,
        response_handle: R,
    ) -> ResponseInfo {
        let Some(recursor) = &self.recursor else {
            return self
                .send(
                    request,
                    response_handle,
                    ResponseCode::Refused,
                    false,
                    Fitted::default(),
                )
                .await;
        };
        let tcp = request.protocol() != Protocol::Udp;
        match recursor
            .forward(request.as_slice(), request.metadata.id, tcp)
            .await
        {
            Ok(mut upstream) => {
                let code = upstream.metadata.response_code;
                let fitted = Fitted {
                    answers: std::mem::take(&mut upstream.answers),
                    authority: std::mem::take(&mut upstream.authorities),
                    additional: std::mem::take(&mut upstream.additionals),
                    truncated: upstream.metadata.truncation,
                };
                self.send(request, response_handle, code, false, fitted)
                    .await
            }
            Err(error) => {
                tracing::warn!(%error, "DNS recursion failed");
                self.send(
                    request,
                    response_handle,
                    ResponseCode::ServFail,
                    false,
                    Fitted::default(),
                )
                .await
            }
        }
    }
}

/// What the handler makes of a request.
pub enum Decision {
    /// A reply, ready to encode.
    Reply(Reply),
    /// A name outside the zones: for the recursors (or REFUSED without them).
    Recurse,
    /// A response sent to the server: never answered (no reflection loops).
    Ignore,
    /// A prepared query with no instance here and a `Failover` policy: to run in other
    /// datacenters ([`DnsHandler::fail_over`]) before it is answered. Only given by a
    /// handler with a [`QueryFailover`].
    FailOver(PendingFailover),
}

/// A `<query>.query` lookup waiting for its failover: the query as rendered here and
/// when the request came.
pub struct PendingFailover {
    query: Box<PreparedQuery>,
    started: std::time::Instant,
}

/// What failing over brought, for the answer to be built from.
struct FailedOver {
    query: Box<PreparedQuery>,
    found: FailoverFound,
    started: std::time::Instant,
}

/// A reply to one request.
pub struct Reply {
    pub code: ResponseCode,
    pub authoritative: bool,
    pub fitted: Fitted,
    /// What a service lookup's answer can be kept under for reuse.
    pub keepable: Option<Keepable>,
}

impl Reply {
    fn error(code: ResponseCode) -> Decision {
        Decision::Reply(Reply {
            code,
            authoritative: false,
            fitted: Fitted::default(),
            keepable: None,
        })
    }
}

/// The client's address as Consul takes it for prepared queries' `Near: "_ip"`: the
/// EDNS Client Subnet address when the request carries one, else the sender's.
fn source_address(request: &Request) -> IpAddr {
    let subnet = request.edns.as_ref().and_then(|edns| {
        match edns.option(hickory_proto::rr::rdata::opt::EdnsCode::Subnet) {
            Some(hickory_proto::rr::rdata::opt::EdnsOption::Subnet(subnet)) => Some(subnet.addr()),
            _ => None,
        }
    });
    subnet.unwrap_or_else(|| request.src().ip())
}

impl DnsHandler {
    /// Decides the reply to `request` from the latest state, without I/O. A service
    /// lookup is built in `rotation` when one is given (so that it can be kept). A
    /// prepared query to fail over is [`Decision::FailOver`]
    /// ([`DnsHandler::decide_failing_over`] runs it).
    pub fn decide(&self, request: &Request, rotation: Option<Rotation>) -> Decision {
        self.decide_as(request, rotation, None)
    }

    /// [`DnsHandler::decide`] answering what `acl` may read when given (a client
    /// agent's DNS token, forwarded with its query) instead of this handler's DNS token.
    pub fn decide_as(
        &self,
        request: &Request,
        rotation: Option<Rotation>,
        acl: Option<&Authorizer>,
    ) -> Decision {
        self.decide_with(request, rotation, acl, None)
    }

    /// [`DnsHandler::decide_as`], then the failover it may call for: the reply, never
    /// [`Decision::FailOver`]. `token`: the DNS token a client agent forwarded the query
    /// with, for the other datacenters to filter with.
    pub async fn decide_failing_over(
        &self,
        request: &Request,
        rotation: Option<Rotation>,
        acl: Option<&Authorizer>,
        token: Option<String>,
    ) -> Decision {
        match self.decide_as(request, rotation, acl) {
            Decision::FailOver(pending) => {
                self.fail_over(request, rotation, acl, token, pending).await
            }
            decision => decision,
        }
    }

    /// Runs a pending query in the failover datacenters through the handler's
    /// [`QueryFailover`] and decides the reply from what it found (NXDOMAIN when
    /// nothing).
    pub async fn fail_over(
        &self,
        request: &Request,
        rotation: Option<Rotation>,
        acl: Option<&Authorizer>,
        token: Option<String>,
        pending: PendingFailover,
    ) -> Decision {
        let found = match &self.failover {
            Some(failover) => failover(FailoverRequest {
                query: (*pending.query).clone(),
                token,
            })
            .await
            .unwrap_or_default(),
            None => FailoverFound::default(),
        };
        let done = FailedOver {
            query: pending.query,
            found,
            started: pending.started,
        };
        self.decide_with(request, rotation, acl, Some(&done))
    }

    /// [`DnsHandler::decide_as`], answering a query that failed over from `failed_over`.
    fn decide_with(
        &self,
        request: &Request,
        rotation: Option<Rotation>,
        acl: Option<&Authorizer>,
        failed_over: Option<&FailedOver>,
    ) -> Decision {
        let started = std::time::Instant::now();
        if request.metadata.message_type != MessageType::Query {
            return Decision::Ignore;
        }
        if request.metadata.op_code != OpCode::Query {
            return Reply::error(ResponseCode::NotImp);
        }
        let Ok(info) = request.request_info() else {
            return Reply::error(ResponseCode::FormErr);
        };
        let query = info.query.original();
        if !matches!(query.query_class(), DNSClass::IN | DNSClass::ANY) {
            return Reply::error(ResponseCode::NotImp);
        }
        let limits = self.limits(
            request.protocol(),
            request.edns.as_ref(),
            query.query_type(),
        );
        // No record encodes in fewer than 16 bytes, so no more answers can fit.
        let max_answers = limits
            .max_answers
            .map_or(usize::MAX, |(count, _)| count)
            .min(limits.max_bytes / 16 + 1);
        let Some(mut response) = self.local_answer(
            query.name(),
            query.query_type(),
            max_answers,
            limits.max_bytes,
            rotation,
            Asker {
                source: Some(source_address(request)),
                acl,
            },
            failed_over,
        ) else {
            return Decision::Recurse;
        };
        if self.failover.is_some()
            && let Some(query) = response.failover.take()
        {
            return Decision::FailOver(PendingFailover { query, started });
        }
        let code = response.code;
        let keepable = response.keepable.take();
        let edns = response_edns(request);
        // Header, the question as sent, and the OPT record (11 bytes without options).
        let limits = Limits {
            overhead: 12 + request.queries.as_bytes().len() + if edns.is_some() { 11 } else { 0 },
            ..limits
        };
        let fitted = fit::fit(response, limits, |answers, authority, additional, max| {
            encodes_within(
                request,
                edns.as_ref(),
                [answers, authority, additional],
                max,
            )
        });
        Decision::Reply(Reply {
            code,
            authoritative: true,
            fitted,
            keepable,
        })
    }

    /// The response to `request` as hickory's `MessageResponse`, handed to `send`.
    pub async fn respond<R: ResponseHandler>(
        &self,
        request: &Request,
        response_handle: R,
        reply: Reply,
    ) -> ResponseInfo {
        self.send(
            request,
            response_handle,
            reply.code,
            reply.authoritative,
            reply.fitted,
        )
        .await
    }
}

#[async_trait::async_trait]
impl RequestHandler for DnsHandler {
    async fn handle_request<R: ResponseHandler, T: Time>(
        &self,
        request: &Request,
        response_handle: R,
    ) -> ResponseInfo {
        if let Some(answer) = self
            .ask_remote(request, request.protocol() == Protocol::Tcp)
            .await
        {
            return self
                .relay(request, response_handle, answer.as_deref())
                .await;
        }
        match self.decide_failing_over(request, None, None, None).await {
            Decision::Reply(reply) => self.respond(request, response_handle, reply).await,
            Decision::Recurse => self.recurse(request, response_handle).await,
            // `decide_failing_over` has run it.
            Decision::Ignore | Decision::FailOver(_) => {
                failed(Metadata::response_from_request(&request.metadata))
            }
        }
    }
}

/// The OPT record of the response: present when the request had one, advertising the
/// client's own payload size (at least 512) so that the encoder honours it.
fn response_edns(request: &Request) -> Option<Edns> {
    request.edns.as_ref().map(|asked| {
        let mut edns = Edns::new();
        edns.set_max_payload(asked.max_payload().clamp(512, MAX_UDP_PAYLOAD));
        edns
    })
}

/// Whether a candidate response encodes whole within `max` bytes, measured with the
/// encoder hickory sends with (its size check runs on intermediate writes too, so only
/// the same encoder gives the same verdict).
fn encodes_within(
    request: &Request,
    edns: Option<&Edns>,
    [answers, authority, additional]: [&[Record]; 3],
    max: usize,
) -> bool {
    let metadata = Metadata::response_from_request(&request.metadata);
    let mut bytes = Vec::with_capacity(max.min(4096));
    let mut encoder = BinEncoder::new(&mut bytes);
    encoder.set_max_size(u16::try_from(max).unwrap_or(u16::MAX));
    let mut queries = RawQueries {
        bytes: request.queries.as_bytes(),
        count: request.queries.len(),
    };
    let Ok(header) = emit_message_parts(
        &metadata,
        &mut queries,
        &mut answers.iter(),
        &mut authority.iter(),
        &mut additional.iter(),
        edns,
        None,
        &mut encoder,
    ) else {
        return false;
    };
    let counts = header.counts;
    usize::from(counts.answers) == answers.len()
        && usize::from(counts.authorities) == authority.len()
        && usize::from(counts.additionals) == additional.len() + usize::from(edns.is_some())
}

/// The question section as the client sent it: hickory's encoder copies these bytes
/// rather than re-encoding the names, so names in answers cannot point into them, and
/// the size measured here must not assume they can.
struct RawQueries<'a> {
    bytes: &'a [u8],
    count: usize,
}

impl EmitAndCount for RawQueries<'_> {
    fn emit(&mut self, encoder: &mut BinEncoder<'_>) -> Result<usize, ProtoError> {
        encoder.emit_vec(self.bytes)?;
        Ok(self.count)
    }
}

fn failed(metadata: Metadata) -> ResponseInfo {
    let mut metadata = metadata;
    metadata.response_code = ResponseCode::ServFail;
    ResponseInfo::from(Header {
        metadata,
        counts: HeaderCounts::default(),
    })
}

/// A configured domain as a lowercase, fully qualified name.
fn zone_name(domain: &str) -> Result<Name, DnsError> {
    let invalid = |reason: String| DnsError::Domain {
        domain: domain.to_string(),
        reason,
    };
    let mut name = Name::from_utf8(domain.trim_end_matches('.'))
        .map_err(|error| invalid(error.to_string()))?;
    if name.is_root() {
        return Err(invalid("the root cannot be the Consul domain".to_string()));
    }
    name.set_fqdn(true);
    Ok(name.to_lowercase())
}

/// A DNS server on one address: UDP through our workers, TCP through hickory's
/// listener, both with the same handler.
pub struct DnsServer {
    tcp: Server<SharedHandler>,
    udp: UdpSocket,
    handler: Arc<DnsHandler>,
    local_addr: SocketAddr,
}

/// One handler shared by the UDP workers and hickory's TCP listener.
struct SharedHandler(Arc<DnsHandler>);

#[async_trait::async_trait]
impl RequestHandler for SharedHandler {
    async fn handle_request<R: ResponseHandler, T: Time>(
        &self,
        request: &Request,
        response_handle: R,
    ) -> ResponseInfo {
        self.0
            .handle_request::<R, T>(request, response_handle)
            .await
    }
}

impl DnsServer {
    /// Binds UDP and TCP on `addr` (port 0: an ephemeral port, the same for both).
    pub async fn bind(
        addr: SocketAddr,
        handler: impl Into<Arc<DnsHandler>>,
    ) -> Result<Self, DnsError> {
        let (udp, tcp, local_addr) = bind_sockets(addr).await?;
        let handler = handler.into();
        let mut server = Server::new(SharedHandler(handler.clone()));
        server.register_listener(tcp, TCP_IDLE_TIMEOUT, 64 * 1024);
        Ok(DnsServer {
            tcp: server,
            udp,
            handler,
            local_addr,
        })
    }

    /// The address both listeners are bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Serves until `shutdown` completes, then stops the listeners.
    pub async fn serve_until(mut self, shutdown: impl Future<Output = ()>) {
        let stop_udp = CancellationToken::new();
        let udp = tokio::spawn(udp::serve(self.udp, self.handler, stop_udp.clone()));
        shutdown.await;
        stop_udp.cancel();
        if let Err(error) = udp.await {
            tracing::warn!(%error, "DNS UDP workers failed");
        }
        if let Err(error) = self.tcp.shutdown_gracefully().await {
            tracing::warn!(%error, "DNS TCP listener stopped with an error");
        }
    }
}

/// A UDP socket on `addr` and a TCP listener on the same address and port (port 0:
/// the one the kernel chose for UDP).
pub(crate) async fn bind_sockets(
    addr: SocketAddr,
) -> Result<(UdpSocket, TcpListener, SocketAddr), DnsError> {
    let bind_error = |source| DnsError::Bind { addr, source };
    let udp = UdpSocket::bind(addr).await.map_err(bind_error)?;
    let local_addr = udp.local_addr().map_err(bind_error)?;
    let tcp = TcpListener::bind(local_addr)
        .await
        .map_err(|source| DnsError::Bind {
            addr: local_addr,
            source,
        })?;
    Ok((udp, tcp, local_addr))
}

/// Milliseconds since `started`, as go-metrics' `MeasureSince` gives them.
fn millis_since(started: std::time::Instant) -> f64 {
    started.elapsed().as_secs_f64() * 1000.0
}
