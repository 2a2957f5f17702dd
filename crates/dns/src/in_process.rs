//! Answering a raw query without sockets: the request goes through the same handler,
//! and the response is encoded with the same per-protocol size limit, as hickory's
//! listeners do. Fuzzing, tests and benchmarks use it to exercise everything but the
//! socket.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use hickory_proto::op::{Header, Message, MessageType, Metadata, ResponseCode};
use hickory_proto::rr::Record;
use hickory_proto::serialize::binary::{BinDecodable, BinDecoder, BinEncoder};
use hickory_server::net::NetError;
use hickory_server::net::runtime::TokioTime;
use hickory_server::net::xfer::Protocol;
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::zone_handler::MessageResponse;

use proconsul_acl::Authorizer;

use crate::response_cache::Cached;
use crate::server::{Decision, DnsHandler};

/// Answers `query` as if it came from `client` over `protocol`: from the response
/// cache when it can, else through the handler. FORMERR for a packet whose header can
/// be read but not the rest; `None` for one too short for a header, or a response sent
/// to the server.
pub async fn answer_raw(
    handler: &DnsHandler,
    query: &[u8],
    client: SocketAddr,
    protocol: Protocol,
) -> Option<Vec<u8>> {
    answer_raw_as(handler, query, client, protocol, None, None).await
}

/// [`answer_raw`] as `acl` may read when given (a client agent's DNS token), instead of
/// the handler's own DNS token. Such answers are neither taken from nor kept in the
/// response cache. `token`: that DNS token's secret, for a prepared query failing over
/// to other datacenters.
async fn answer_raw_as(
    handler: &DnsHandler,
    query: &[u8],
    client: SocketAddr,
    protocol: Protocol,
    acl: Option<Arc<Authorizer>>,
    token: Option<String>,
) -> Option<Vec<u8>> {
    let rotation = match handler.cached(query, protocol, acl.as_deref()) {
        Cached::Hit(answer) => return Some(answer),
        Cached::Compute(rotation) => rotation,
    };
    let Ok(request) = Request::from_bytes(query.to_vec(), client, protocol) else {
        return format_error(query);
    };
    match handler
        .ask_remote(&request, protocol == Protocol::Tcp)
        .await
    {
        Some(Some(answer)) => return Some(answer),
        Some(None) => return server_failure(query),
        None => {}
    }
    let capture = Capture {
        protocol,
        bytes: Arc::default(),
    };
    match handler
        .decide_failing_over(&request, Some(rotation), acl.as_deref(), token)
        .await
    {
        Decision::Reply(reply) => {
            let keepable = reply.keepable.clone();
            handler.respond(&request, capture.clone(), reply).await;
            let response = capture.bytes.lock().ok()?.take()?;
            if let Some(keepable) = keepable {
                handler.remember(query, protocol, keepable, &response, acl.as_deref());
            }
            Some(response)
        }
        Decision::Recurse => {
            handler
                .handle_request::<_, TokioTime>(&request, capture.clone())
                .await;
            capture.bytes.lock().ok()?.take()
        }
        // `decide_failing_over` has run it.
        Decision::Ignore | Decision::FailOver(_) => None,
    }
}

/// [`answer_raw`] for a query another agent received over TCP (`tcp`) or UDP and
/// forwarded here (client agents' DNS answers through a server), as `acl` (the
/// authorizer of its DNS token `token`) may read when given.
pub async fn answer_forwarded(
    handler: &DnsHandler,
    query: &[u8],
    client: SocketAddr,
    tcp: bool,
    acl: Option<Arc<Authorizer>>,
    token: Option<String>,
) -> Option<Vec<u8>> {
    let protocol = if tcp { Protocol::Tcp } else { Protocol::Udp };
    answer_raw_as(handler, query, client, protocol, acl, token).await
}

/// FORMERR with the query's ID, for a query whose header reads but whose body does not
/// (as hickory's listeners answer it).
fn format_error(query: &[u8]) -> Option<Vec<u8>> {
    error_response(query, ResponseCode::FormErr)
}

/// SERVFAIL with the query's ID: the query could not be answered (a client agent that
/// reached no server).
pub fn server_failure(query: &[u8]) -> Option<Vec<u8>> {
    error_response(query, ResponseCode::ServFail)
}

/// An answer with `code` and no records to the query whose header `query` starts with;
/// `None` when it has none, or is not a query.
fn error_response(query: &[u8], code: ResponseCode) -> Option<Vec<u8>> {
    let mut decoder = BinDecoder::new(query);
    let header = Header::read(&mut decoder).ok()?;
    if header.metadata.message_type != MessageType::Query {
        return None;
    }
    let mut metadata = Metadata::response_from_request(&header.metadata);
    metadata.response_code = code;
    let mut response = Message::new(metadata.id, MessageType::Response, metadata.op_code);
    response.metadata = metadata;
    response.to_vec().ok()
}

/// Keeps the encoded response instead of sending it.
#[derive(Clone)]
struct Capture {
    protocol: Protocol,
    bytes: Arc<Mutex<Option<Vec<u8>>>>,
}

#[async_trait::async_trait]
impl ResponseHandler for Capture {
    async fn send_response<'a>(
        &mut self,
        response: MessageResponse<
            '_,
            'a,
            impl Iterator<Item = &'a Record> + Send + 'a,
            impl Iterator<Item = &'a Record> + Send + 'a,
            impl Iterator<Item = &'a Record> + Send + 'a,
            impl Iterator<Item = &'a Record> + Send + 'a,
        >,
    ) -> Result<ResponseInfo, NetError> {
        let mut bytes = Vec::new();
        let mut encoder = BinEncoder::new(&mut bytes);
        encoder.set_max_size(match (self.protocol, response.edns()) {
            (Protocol::Udp, Some(edns)) => edns.max_payload(),
            (Protocol::Udp, None) => 512,
            _ => u16::MAX,
        });
        let info = response
            .destructive_emit(&mut encoder)
            .map_err(|error| NetError::from(error.to_string()))?;
        if let Ok(mut slot) = self.bytes.lock() {
            *slot = Some(bytes);
        }
        Ok(info)
    }
}
