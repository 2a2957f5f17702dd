//! The DNS server: hickory's UDP and TCP listeners, and a request handler that answers
//! the domain from the latest state, forwards other names to recursors, and fits each
//! response to its packet.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hickory_proto::ProtoError;
use hickory_proto::op::{
    Edns, EmitAndCount, Header, HeaderCounts, MessageType, Metadata, OpCode, ResponseCode,
    emit_message_parts,
};
use hickory_proto::rr::{DNSClass, Name, Record, RecordType};
use hickory_proto::serialize::binary::BinEncoder;
use hickory_server::net::runtime::Time;
use hickory_server::net::xfer::Protocol;
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo, Server};
use hickory_server::zone_handler::MessageResponseBuilder;
use proconsul_state::State;
use tokio::net::{TcpListener, UdpSocket};

use crate::answer::{self, Question, Response};
use crate::config::DnsConfig;
use crate::fit::{self, Fitted, Limits};
use crate::name;
use crate::recursor::Recursor;

/// Where answers come from: the latest applied state, loaded without locking.
pub type StateSource = Arc<dyn Fn() -> Arc<State> + Send + Sync>;

/// Consul's cap on answers to a UDP client that sent no EDNS.
const MAX_UDP_ANSWERS_WITHOUT_EDNS: usize = 8;
/// The largest UDP payload honoured from a client's EDNS (Consul's 65535 - 68).
const MAX_UDP_PAYLOAD: u16 = 65535 - 68;
/// An idle TCP connection is closed after this long.
const TCP_IDLE_TIMEOUT: Duration = Duration::from_secs(5);

/// Answers DNS requests for the agent.
pub struct DnsHandler {
    config: DnsConfig,
    domain: Name,
    alt_domain: Option<Name>,
    state: StateSource,
    self_address: IpAddr,
    recursor: Option<Recursor>,
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
        Ok(DnsHandler {
            config,
            domain,
            alt_domain,
            state,
            self_address,
            recursor,
        })
    }

    /// The answer to a name in one of the zones, or to a reverse lookup; `None` for
    /// other names.
    fn local_answer(&self, name: &Name, query_type: RecordType) -> Option<Response> {
        let lower = name.to_lowercase();
        if query_type == RecordType::PTR
            && let Ok(network) = lower.parse_arpa_name()
            && network.prefix_len() == network.max_prefix_len()
        {
            let state = (self.state)();
            return Some(
                answer::reverse(&state, &self.config, name, network.addr())
                    .unwrap_or_else(|| self.nxdomain(&state, name)),
            );
        }
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
        let lookup = labels.map_or(name::Lookup::Invalid, |labels| name::parse(&labels));
        let question = Question {
            name,
            query_type,
            zone,
            lookup,
        };
        let state = (self.state)();
        Some(answer::answer(
            &state,
            &self.config,
            self.self_address,
            &question,
            &mut rand::rng(),
        ))
    }

    /// NXDOMAIN with the primary zone's SOA, for reverse lookups that found nothing.
    fn nxdomain(&self, state: &State, name: &Name) -> Response {
        let question = Question {
            name,
            query_type: RecordType::PTR,
            zone: &self.domain,
            lookup: name::Lookup::Invalid,
        };
        answer::answer(
            state,
            &self.config,
            self.self_address,
            &question,
            &mut rand::rng(),
        )
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

#[async_trait::async_trait]
impl RequestHandler for DnsHandler {
    async fn handle_request<R: ResponseHandler, T: Time>(
        &self,
        request: &Request,
        response_handle: R,
    ) -> ResponseInfo {
        if request.metadata.message_type != MessageType::Query {
            // A response sent to the server: never answer it (no reflection loops).
            return failed(Metadata::response_from_request(&request.metadata));
        }
        if request.metadata.op_code != OpCode::Query {
            return self
                .send(
                    request,
                    response_handle,
                    ResponseCode::NotImp,
                    false,
                    Fitted::default(),
                )
                .await;
        }
        let Ok(info) = request.request_info() else {
            return self
                .send(
                    request,
                    response_handle,
                    ResponseCode::FormErr,
                    false,
                    Fitted::default(),
                )
                .await;
        };
        let query = info.query.original();
        if !matches!(query.query_class(), DNSClass::IN | DNSClass::ANY) {
            return self
                .send(
                    request,
                    response_handle,
                    ResponseCode::NotImp,
                    false,
                    Fitted::default(),
                )
                .await;
        }
        let Some(response) = self.local_answer(query.name(), query.query_type()) else {
            return self.recurse(request, response_handle).await;
        };
        let code = response.code;
        let edns = response_edns(request);
        let limits = self.limits(
            request.protocol(),
            request.edns.as_ref(),
            query.query_type(),
        );
        let fitted = fit::fit(response, limits, |answers, authority, additional, max| {
            encodes_within(
                request,
                edns.as_ref(),
                [answers, authority, additional],
                max,
            )
        });
        self.send(request, response_handle, code, true, fitted)
            .await
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

/// A running DNS server on one address, UDP and TCP.
pub struct DnsServer {
    server: Server<DnsHandler>,
    local_addr: SocketAddr,
}

impl DnsServer {
    /// Binds UDP and TCP on `addr` (port 0: an ephemeral port, the same for both).
    pub async fn bind(addr: SocketAddr, handler: DnsHandler) -> Result<Self, DnsError> {
        let bind_error = |source| DnsError::Bind { addr, source };
        let udp = UdpSocket::bind(addr).await.map_err(bind_error)?;
        let local_addr = udp.local_addr().map_err(bind_error)?;
        let tcp = TcpListener::bind(local_addr)
            .await
            .map_err(|source| DnsError::Bind {
                addr: local_addr,
                source,
            })?;
        let mut server = Server::new(handler);
        server.register_socket(udp);
        server.register_listener(tcp, TCP_IDLE_TIMEOUT, 64 * 1024);
        Ok(DnsServer { server, local_addr })
    }

    /// The address both listeners are bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Serves until `shutdown` completes, then stops the listeners.
    pub async fn serve_until(mut self, shutdown: impl Future<Output = ()>) {
        shutdown.await;
        if let Err(error) = self.server.shutdown_gracefully().await {
            tracing::warn!(%error, "DNS server stopped with an error");
        }
    }
}
