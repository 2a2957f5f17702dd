//! Answers to Consul names, computed from one version of the state.
//!
//! Pure: a [`State`], the config and the question in; records out. Packet limits and
//! the wire are the server's business.

use std::collections::HashSet;
use std::net::IpAddr;
use std::time::Duration;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::rdata::{A, AAAA, CNAME, NS, PTR, SOA, SRV, TXT};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use std::sync::Arc;

use proconsul_acl::{Authorize, Authorizer};
use proconsul_api::duration::parse_duration;
use proconsul_api::query::PreparedQuery;
use proconsul_api::{HealthStatus, Node, ServiceEntry};
use proconsul_state::{ExecuteRequest, State};
use rand::Rng;

use crate::config::DnsConfig;
use crate::fit::record_bounds;
use crate::healthy::{Healthy, HealthyCache};
use crate::name::{Lookup, encode_hex_ip};
use crate::order::{rotated, weighted_order};
use crate::query_failover::{FailoverFound, has_failover};
use crate::response_cache::{Keepable, MAX_VARIANTS, Rotation};

/// What a question gets, before the packet limits are applied. Additional records are
/// kept in answer order, so that the ones that go with the first `k` answers are a
/// prefix: cutting answers from the end cuts their Additional records with them.
#[derive(Debug, Clone)]
pub struct Response {
    pub code: ResponseCode,
    pub answers: Vec<Record>,
    pub additional: Vec<Record>,
    /// `additional_end[i]`: how many Additional records go with answers `0..=i`.
    pub additional_end: Vec<usize>,
    pub authority: Vec<Record>,
    /// The fewest bytes the answers and their Additional records can take.
    pub least_bytes: usize,
    /// For a service lookup built in a rotation: what it can be kept under.
    pub keepable: Option<Keepable>,
    /// For a prepared query whose local execution left no instance and whose
    /// `Failover` names datacenters: the query as rendered here, to run there
    /// ([`crate::query_failover`]). The response itself is the answer when that finds
    /// nothing (NXDOMAIN).
    pub failover: Option<Box<PreparedQuery>>,
}

impl Response {
    /// A response with `code` and no records yet.
    pub fn empty(code: ResponseCode) -> Self {
        Response {
            code,
            answers: Vec::new(),
            additional: Vec::new(),
            additional_end: Vec::new(),
            authority: Vec::new(),
            least_bytes: 0,
            keepable: None,
            failover: None,
        }
    }

    /// Adds an answer and the Additional records that go with it.
    pub fn push(&mut self, answer: Record, additional: impl IntoIterator<Item = Record>) {
        self.least_bytes += record_bounds(&answer).0;
        self.answers.push(answer);
        let start = self.additional.len();
        self.additional.extend(additional);
        self.least_bytes += self.additional[start..]
            .iter()
            .map(|record| record_bounds(record).0)
            .sum::<usize>();
        self.additional_end.push(self.additional.len());
    }
}

/// The question, with the zone it fell in.
pub struct Question<'a> {
    /// The name as asked (its case is kept in the answers).
    pub name: &'a Name,
    pub query_type: RecordType,
    /// The domain the name is in: `domain` or `alt_domain`; names in answers use it.
    pub zone: &'a Name,
    pub lookup: Lookup,
    /// The most answers the response can carry: no more are built.
    pub max_answers: usize,
    /// The most bytes the response can take: once its answers surely take more, no
    /// more are built.
    pub max_bytes: usize,
    /// Build a service lookup in this rotation of a seeded order, so that it can be
    /// kept; `None`: a fresh random order.
    pub rotation: Option<Rotation>,
    /// The client's address (prepared queries with `Near: "_ip"`).
    pub source: Option<IpAddr>,
}

/// What answers are computed from.
pub struct Sources<'a> {
    pub state: &'a State,
    pub config: &'a DnsConfig,
    pub healthy: &'a HealthyCache,
    /// The agent's address, given for the zone's name server.
    pub self_address: IpAddr,
    /// With ACLs: what the DNS token may read (`None`: everything).
    pub acl: Option<&'a Authorizer>,
}

/// Answers a question about the zone.
pub fn answer(sources: &Sources<'_>, question: &Question<'_>, rng: &mut impl Rng) -> Response {
    let self_address = sources.self_address;
    let builder = Builder::new(sources, question);
    let mut response = match &question.lookup {
        Lookup::Apex => builder.apex(self_address),
        Lookup::NameServer => builder.address_answer(self_address, 0),
        Lookup::Service {
            name,
            tag,
            datacenter,
        } if builder.is_local(datacenter) => builder.service(name, tag.as_deref(), rng),
        Lookup::Node { name, datacenter } if builder.is_local(datacenter) => builder.node(name),
        Lookup::Query { name, datacenter } if builder.is_local(datacenter) => {
            builder.prepared_query(name, rng)
        }
        Lookup::Addr { ip, datacenter } if builder.is_local(datacenter) => {
            builder.address_answer(*ip, seconds(sources.config.node_ttl))
        }
        // Other datacenters' names are the server's to send there ([`crate::remote`]);
        // the unsupported and invalid forms name nothing.
        _ => Response::empty(ResponseCode::NXDomain),
    };
    builder.soa_when_negative(&mut response);
    response
}

/// Answers a `<query>.query` question with the instances another datacenter gave for
/// `query` (its local execution found none): the records a local answer would have,
/// with the query's `DNS.TTL` (else `service_ttl`), SRV targets named in the datacenter
/// that answered, and only what the DNS token may read, as locally. NXDOMAIN when
/// nothing is left.
pub fn failed_over(
    sources: &Sources<'_>,
    question: &Question<'_>,
    query: &PreparedQuery,
    found: FailoverFound,
) -> Response {
    let builder = Builder::new(sources, question);
    let service = &query.service.service;
    let mut response = if builder.may_read_service(service) {
        builder.query_instances(service, &query.dns.ttl, found.nodes, &found.datacenter)
    } else {
        Response::empty(ResponseCode::NXDomain)
    };
    builder.soa_when_negative(&mut response);
    response
}

/// Answers a PTR question for `ip`: the node with that address, else a service.
pub fn reverse(
    state: &State,
    config: &DnsConfig,
    acl: Option<&Authorizer>,
    name: &Name,
    ip: IpAddr,
) -> Option<Response> {
    let domain = Name::from_ascii(&config.domain).ok()?;
    let address = ip.to_string();
    let readable_node = |node: &str| acl.is_none_or(|acl| acl.node_read(node));
    let target = match state
        .nodes()
        .find(|node| node.address == address && readable_node(&node.node))
    {
        Some(node) => Name::from_utf8(&node.node)
            .ok()?
            .append_label("node")
            .ok()?
            .append_label(config.datacenter.as_str())
            .ok()?,
        None => {
            let (_, service) = state.all_instances().find(|(node, service)| {
                service.address == address
                    && readable_node(&node.node)
                    && acl.is_none_or(|acl| acl.service_read(&service.service))
            })?;
            Name::from_utf8(&service.service)
                .ok()?
                .append_label("service")
                .ok()?
        }
    };
    let target = target.append_domain(&domain).ok()?;
    let mut response = Response::empty(ResponseCode::NoError);
    response.push(
        Record::from_rdata(
            name.clone(),
            seconds(config.node_ttl),
            RData::PTR(PTR(target)),
        ),
        None,
    );
    Some(response)
}

struct Builder<'a> {
    state: &'a State,
    config: &'a DnsConfig,
    healthy: &'a HealthyCache,
    question: &'a Question<'a>,
    acl: Option<&'a Authorizer>,
}

impl<'a> Builder<'a> {
    fn new(sources: &Sources<'a>, question: &'a Question<'a>) -> Self {
        Builder {
            state: sources.state,
            config: sources.config,
            healthy: sources.healthy,
            question,
            acl: sources.acl,
        }
    }

    /// Negative answers carry the SOA, so resolvers can cache them.
    fn soa_when_negative(&self, response: &mut Response) {
        if response.answers.is_empty() && response.authority.is_empty() {
            response.authority.push(self.soa());
        }
    }

    fn may_read_node(&self, node: &str) -> bool {
        self.acl.is_none_or(|acl| acl.node_read(node))
    }

    fn may_read_service(&self, service: &str) -> bool {
        self.acl.is_none_or(|acl| acl.service_read(service))
    }

    fn is_local(&self, datacenter: &Option<String>) -> bool {
        datacenter
            .as_deref()
            .is_none_or(|dc| dc.eq_ignore_ascii_case(&self.config.datacenter))
    }

    fn wants(&self, record_type: RecordType) -> bool {
        self.question.query_type == record_type || self.question.query_type == RecordType::ANY
    }

    fn soa(&self) -> Record {
        let zone = self.question.zone;
        let soa = &self.config.soa;
        let name_server = zone.prepend_label("ns").unwrap_or_else(|_| zone.clone());
        let mailbox = zone
            .prepend_label("hostmaster")
            .unwrap_or_else(|_| zone.clone());
        Record::from_rdata(
            zone.clone(),
            soa.min_ttl,
            RData::SOA(SOA::new(
                name_server,
                mailbox,
                // The Raft index: it moves whenever the data does.
                self.state.last_applied() as u32,
                clamp(soa.refresh),
                clamp(soa.retry),
                clamp(soa.expire),
                soa.min_ttl,
            )),
        )
    }

    fn apex(&self, self_address: IpAddr) -> Response {
        let mut response = Response::empty(ResponseCode::NoError);
        let zone = self.question.zone;
        if self.wants(RecordType::SOA) {
            response.push(self.soa(), None);
        }
        if self.wants(RecordType::NS)
            && let Ok(name_server) = zone.prepend_label("ns")
        {
            let glue = address_records(&name_server, &self_address.to_string(), RecordType::ANY, 0);
            response.push(
                Record::from_rdata(zone.clone(), 0, RData::NS(NS(name_server))),
                glue,
            );
        }
        response
    }

    /// The asked name's records for one address: `ns.<domain>`, `<hex>.addr`.
    fn address_answer(&self, address: IpAddr, ttl: u32) -> Response {
        let mut response = Response::empty(ResponseCode::NoError);
        let address = address.to_string();
        for record in address_records(self.question.name, &address, self.question.query_type, ttl) {
            response.push(record, None);
        }
        response
    }

    fn node(&self, name: &str) -> Response {
        let Some(node) = self
            .state
            .node_ignoring_case(name)
            .filter(|node| self.may_read_node(&node.node))
        else {
            return Response::empty(ResponseCode::NXDomain);
        };
        let ttl = seconds(self.config.node_ttl);
        let owner = self.question.name;
        let mut response = Response::empty(ResponseCode::NoError);
        let mut records = address_records(owner, &node.address, self.question.query_type, ttl);
        if self.wants(RecordType::TXT) {
            records.extend(meta_records(owner, node, ttl));
        }
        // The metadata goes to Additional when it was not asked for itself.
        let mut meta_extras = (!self.wants(RecordType::TXT)
            && self.config.enable_additional_node_meta_txt)
            .then(|| meta_records(owner, node, ttl));
        for record in records {
            response.push(record, meta_extras.take().into_iter().flatten());
        }
        response
    }

    fn service(&self, name: &str, tag: Option<&str>, rng: &mut impl Rng) -> Response {
        let Some(name) = self
            .state
            .service_name_ignoring_case(name)
            .filter(|name| self.may_read_service(name))
        else {
            return Response::empty(ResponseCode::NXDomain);
        };
        let mut healthy = self
            .healthy
            .get(self.state, name, tag, self.config.only_passing);
        if let Some(acl) = self.acl {
            healthy = healthy
                .iter()
                .filter(|instance| acl.node_read(&instance.node.node))
                .cloned()
                .collect();
        }
        if healthy.is_empty() {
            return Response::empty(ResponseCode::NXDomain);
        }
        let ttl = seconds(self.config.service_ttl(name));
        let mut response = Response::empty(ResponseCode::NoError);
        let weight = healthy[0].weight;
        let equal_weights = weight > 0 && healthy.iter().all(|instance| instance.weight == weight);
        // An order: a rotation of a seeded one when the answer can be kept (equal
        // weights: rotations are as fair as shuffles), else a fresh weighted draw.
        let ordered = |keep: usize, rng: &mut _| -> Vec<(&Healthy, u32)> {
            let weighted: Vec<(&Healthy, u32)> = healthy
                .iter()
                .map(|instance| (instance, instance.weight))
                .collect();
            match self.question.rotation {
                Some(rotation) if equal_weights => rotated(
                    &weighted,
                    rotation.seed,
                    rotation.variant,
                    healthy.len().min(MAX_VARIANTS),
                    keep,
                ),
                _ => weighted_order(weighted, rng, keep),
            }
        };
        if let Some(rotation) = self.question.rotation
            && equal_weights
        {
            response.keepable = Some(Keepable {
                service: name.to_string(),
                index: self.state.service_index(name),
                variants: healthy.len().min(MAX_VARIANTS),
                rotation,
            });
        }
        // Addresses are given once; duplicates are drawn but not answered, so an
        // address answer draws all of them when any address repeats.
        self.push_instances(&mut response, ttl, &self.config.datacenter, |limit| {
            ordered(limit, rng)
                .into_iter()
                .map(|(instance, _)| instance)
        });
        response
    }

    /// `<query>.query`: the prepared query's results, in the order execution gives
    /// (shuffled, its `Near` node first), with the query's `DNS.TTL` when it has one.
    /// None here and a `Failover` policy: NXDOMAIN marked to fail over
    /// ([`Response::failover`]).
    fn prepared_query(&self, name: &str, rng: &mut impl Rng) -> Response {
        let query = match self.state.resolve_prepared_query(name) {
            Ok(Some(query)) => query,
            Ok(None) => return Response::empty(ResponseCode::NXDomain),
            Err(_) => return Response::empty(ResponseCode::ServFail),
        };
        let source = self.question.source.map(|ip| ip.to_string());
        let request = ExecuteRequest {
            agent_node: &self.config.node_name,
            source_ip: source.as_deref(),
            seed: rng.random(),
            ..ExecuteRequest::default()
        };
        let mut execution = self.state.execute_prepared_query(&query, &request);
        if !self.may_read_service(&execution.service) {
            return Response::empty(ResponseCode::NXDomain);
        }
        execution
            .nodes
            .retain(|entry| self.may_read_node(&entry.node.node));
        if execution.nodes.is_empty() && has_failover(&query) {
            // Consul fails over once the ACL filter has left nothing, too.
            let mut response = Response::empty(ResponseCode::NXDomain);
            response.failover = Some(Box::new(query));
            return response;
        }
        self.query_instances(
            &execution.service,
            &execution.dns.ttl,
            execution.nodes,
            &self.config.datacenter,
        )
    }

    /// A prepared query's answer from its instances in `datacenter` (this one's, or
    /// the one it failed over to), in the order given, without the nodes the DNS token
    /// may not read; TTL `dns_ttl` (the query's `DNS.TTL`) when set, else the
    /// service's. NXDOMAIN when none is left.
    fn query_instances(
        &self,
        service: &str,
        dns_ttl: &str,
        mut nodes: Vec<ServiceEntry>,
        datacenter: &str,
    ) -> Response {
        nodes.retain(|entry| self.may_read_node(&entry.node.node));
        if nodes.is_empty() {
            return Response::empty(ResponseCode::NXDomain);
        }
        let ttl = match parse_duration(dns_ttl) {
            Ok(ttl) if !dns_ttl.is_empty() => seconds(ttl),
            _ => seconds(self.config.service_ttl(service)),
        };
        let instances: Vec<Healthy> = nodes
            .into_iter()
            .map(|entry| {
                let warning = entry
                    .checks
                    .iter()
                    .any(|check| check.status != HealthStatus::Passing);
                let weights = entry.service.weights;
                Healthy {
                    weight: if warning {
                        weights.warning
                    } else {
                        weights.passing
                    },
                    node: Arc::new(entry.node),
                    service: Arc::new(entry.service),
                }
            })
            .collect();
        let mut response = Response::empty(ResponseCode::NoError);
        self.push_instances(&mut response, ttl, datacenter, |limit| {
            instances.iter().take(limit)
        });
        response
    }

    /// The answer records for instances of `datacenter`, in the order `order(limit)`
    /// gives at most `limit` of: SRV records (with their targets' addresses in
    /// Additional), or each distinct address once, within the question's answer and
    /// size limits.
    fn push_instances<'h, I>(
        &self,
        response: &mut Response,
        ttl: u32,
        datacenter: &str,
        order: impl FnOnce(usize) -> I,
    ) where
        I: IntoIterator<Item = &'h Healthy>,
    {
        if self.question.query_type == RecordType::SRV {
            // Several instances can share a target (services on one node): its
            // Additional records go with the first answer that names it.
            let mut targets_seen = HashSet::new();
            for instance in order(self.question.max_answers) {
                if response.least_bytes > self.question.max_bytes {
                    break;
                }
                self.srv(response, instance, ttl, datacenter, &mut targets_seen);
            }
        } else {
            let mut seen = HashSet::new();
            for instance in order(usize::MAX) {
                if response.answers.len() >= self.question.max_answers
                    || response.least_bytes > self.question.max_bytes
                {
                    break;
                }
                let address = instance_address(instance);
                if !seen.insert(address) {
                    continue;
                }
                for record in
                    address_records(self.question.name, address, self.question.query_type, ttl)
                {
                    response.push(record, None);
                }
            }
        }
    }

    /// An SRV answer for one instance of `datacenter` (its target is named there); the
    /// target's addresses go to Additional.
    fn srv<'h>(
        &self,
        response: &mut Response,
        instance: &'h Healthy,
        ttl: u32,
        datacenter: &str,
        targets_seen: &mut HashSet<(&'h str, &'h str)>,
    ) {
        let zone = self.question.zone;
        let node_ttl = seconds(self.config.node_ttl);
        let service = &instance.service;
        let node = &instance.node;
        let first_use = targets_seen.insert((node.node.as_str(), service.address.as_str()));
        let (target, extras) = if !service.address.is_empty() {
            match service.address.parse::<IpAddr>() {
                Ok(ip) => {
                    let Some(target) =
                        relative(&[encode_hex_ip(ip).as_str(), "addr", datacenter], zone)
                    else {
                        return;
                    };
                    let extras = if first_use {
                        address_records(&target, &service.address, RecordType::ANY, ttl)
                    } else {
                        Vec::new()
                    };
                    (target, extras)
                }
                Err(_) => match fqdn(&service.address) {
                    Some(host) => (host, Vec::new()),
                    None => return,
                },
            }
        } else {
            match node.address.parse::<IpAddr>() {
                Ok(_) => {
                    let Some(target) = relative(&[node.node.as_str(), "node", datacenter], zone)
                    else {
                        return;
                    };
                    let mut extras = Vec::new();
                    if first_use {
                        extras = address_records(&target, &node.address, RecordType::ANY, node_ttl);
                        if self.config.enable_additional_node_meta_txt {
                            extras.extend(meta_records(&target, node, node_ttl));
                        }
                    }
                    (target, extras)
                }
                Err(_) => match fqdn(&node.address) {
                    Some(host) => (host, Vec::new()),
                    None => return,
                },
            }
        };
        let record = Record::from_rdata(
            self.question.name.clone(),
            ttl,
            RData::SRV(SRV::new(
                1,
                u16::try_from(instance.weight).unwrap_or(u16::MAX),
                service.port,
                target,
            )),
        );
        response.push(record, extras);
    }
}

/// The address an instance is reached at: its own, else its node's.
fn instance_address(instance: &Healthy) -> &str {
    if instance.service.address.is_empty() {
        &instance.node.address
    } else {
        &instance.service.address
    }
}

/// A and AAAA records for an IP address of the asked family, or a CNAME for a host
/// name.
fn address_records(owner: &Name, address: &str, query_type: RecordType, ttl: u32) -> Vec<Record> {
    let any = query_type == RecordType::ANY;
    match address.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) if any || query_type == RecordType::A => {
            vec![Record::from_rdata(owner.clone(), ttl, RData::A(A(v4)))]
        }
        Ok(IpAddr::V6(v6)) if any || query_type == RecordType::AAAA => {
            vec![Record::from_rdata(
                owner.clone(),
                ttl,
                RData::AAAA(AAAA(v6)),
            )]
        }
        Ok(_) => Vec::new(),
        Err(_)
            if matches!(
                query_type,
                RecordType::A | RecordType::AAAA | RecordType::CNAME | RecordType::ANY
            ) =>
        {
            fqdn(address)
                .map(|host| Record::from_rdata(owner.clone(), ttl, RData::CNAME(CNAME(host))))
                .into_iter()
                .collect()
        }
        Err(_) => Vec::new(),
    }
}

/// Node metadata as RFC 1464 TXT records (`key=value`); keys starting `rfc1035-` give
/// the bare value, as Consul does.
fn meta_records(owner: &Name, node: &Node, ttl: u32) -> Vec<Record> {
    node.meta
        .iter()
        .map(|(key, value)| {
            let text = if key.starts_with("rfc1035-") {
                value.clone()
            } else {
                format!("{key}={value}")
            };
            Record::from_rdata(owner.clone(), ttl, RData::TXT(TXT::new(vec![text])))
        })
        .collect()
}

/// `labels` under `zone`, or `None` when a label cannot be a DNS label.
fn relative(labels: &[&str], zone: &Name) -> Option<Name> {
    Name::from_labels(labels.iter().map(|label| label.as_bytes()))
        .ok()?
        .append_domain(zone)
        .ok()
}

/// A host name as a fully qualified name.
fn fqdn(host: &str) -> Option<Name> {
    let mut name = Name::from_utf8(host).ok()?;
    name.set_fqdn(true);
    Some(name)
}

fn seconds(ttl: Duration) -> u32 {
    u32::try_from(ttl.as_secs()).unwrap_or(u32::MAX)
}

fn clamp(value: u32) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}
