//! Answers to Consul names, computed from one version of the state.
//!
//! Pure: a [`State`], the config and the question in; records out. Packet limits and
//! the wire are the server's business.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::rdata::{A, AAAA, CNAME, NS, PTR, SOA, SRV, TXT};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use proconsul_api::{AgentService, HealthStatus, Node};
use proconsul_state::State;
use rand::Rng;

use crate::config::DnsConfig;
use crate::name::{Lookup, encode_hex_ip};
use crate::order::weighted_order;

/// One answer record and the target whose Additional records go with it.
#[derive(Debug, Clone)]
pub struct Answer {
    pub record: Record,
    pub target: Option<Name>,
}

/// What a question gets, before the packet limits are applied.
#[derive(Debug, Clone)]
pub struct Response {
    pub code: ResponseCode,
    pub answers: Vec<Answer>,
    /// The Additional records of each target named by the answers.
    pub extras: HashMap<Name, Vec<Record>>,
    pub authority: Vec<Record>,
}

impl Response {
    fn empty(code: ResponseCode) -> Self {
        Response {
            code,
            answers: Vec::new(),
            extras: HashMap::new(),
            authority: Vec::new(),
        }
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
}

/// Answers a question about the zone from `state`. `self_address` is the agent's
/// address, given for the zone's name server.
pub fn answer(
    state: &State,
    config: &DnsConfig,
    self_address: IpAddr,
    question: &Question<'_>,
    rng: &mut impl Rng,
) -> Response {
    let builder = Builder {
        state,
        config,
        question,
    };
    let mut response = match &question.lookup {
        Lookup::Apex => builder.apex(self_address),
        Lookup::NameServer => builder.name_server(self_address),
        Lookup::Service {
            name,
            tag,
            datacenter,
        } if builder.is_local(datacenter) => builder.service(name, tag.as_deref(), rng),
        Lookup::Node { name, datacenter } if builder.is_local(datacenter) => builder.node(name),
        Lookup::Addr { ip, datacenter } if builder.is_local(datacenter) => builder.addr(*ip),
        // Other datacenters are not reachable (no WAN federation yet), and the
        // unsupported and invalid forms name nothing.
        _ => Response::empty(ResponseCode::NXDomain),
    };
    // Negative answers carry the SOA, so resolvers can cache them.
    if response.answers.is_empty() && response.authority.is_empty() {
        response.authority.push(builder.soa());
    }
    response
}

/// Answers a PTR question for `ip`: the node with that address, else a service.
pub fn reverse(state: &State, config: &DnsConfig, name: &Name, ip: IpAddr) -> Option<Response> {
    let domain = Name::from_ascii(&config.domain).ok()?;
    let address = ip.to_string();
    let target = match state.nodes().find(|node| node.address == address) {
        Some(node) => Name::from_utf8(&node.node)
            .ok()?
            .append_label("node")
            .ok()?
            .append_label(config.datacenter.as_str())
            .ok()?,
        None => {
            let (_, service) = state
                .all_instances()
                .find(|(_, service)| service.address == address)?;
            Name::from_utf8(&service.service)
                .ok()?
                .append_label("service")
                .ok()?
        }
    };
    let target = target.append_domain(&domain).ok()?;
    let mut response = Response::empty(ResponseCode::NoError);
    response.answers.push(Answer {
        record: Record::from_rdata(
            name.clone(),
            seconds(config.node_ttl),
            RData::PTR(PTR(target)),
        ),
        target: None,
    });
    Some(response)
}

struct Builder<'a> {
    state: &'a State,
    config: &'a DnsConfig,
    question: &'a Question<'a>,
}

/// One instance chosen for an answer.
struct Instance<'a> {
    node: &'a Node,
    service: &'a AgentService,
}

impl Builder<'_> {
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
            response.answers.push(Answer {
                record: self.soa(),
                target: None,
            });
        }
        if self.wants(RecordType::NS)
            && let Ok(name_server) = zone.prepend_label("ns")
        {
            let glue = address_records(&name_server, &self_address.to_string(), RecordType::ANY, 0);
            response.extras.insert(name_server.clone(), glue);
            response.answers.push(Answer {
                record: Record::from_rdata(zone.clone(), 0, RData::NS(NS(name_server.clone()))),
                target: Some(name_server),
            });
        }
        response
    }

    fn name_server(&self, self_address: IpAddr) -> Response {
        let mut response = Response::empty(ResponseCode::NoError);
        response.answers = address_records(
            self.question.name,
            &self_address.to_string(),
            self.question.query_type,
            0,
        )
        .into_iter()
        .map(|record| Answer {
            record,
            target: None,
        })
        .collect();
        response
    }

    fn node(&self, name: &str) -> Response {
        let Some(node) = self.state.node_ignoring_case(name) else {
            return Response::empty(ResponseCode::NXDomain);
        };
        let ttl = seconds(self.config.node_ttl);
        let owner = self.question.name;
        let mut response = Response::empty(ResponseCode::NoError);
        let mut records = address_records(owner, &node.address, self.question.query_type, ttl);
        if self.wants(RecordType::TXT) {
            records.extend(meta_records(owner, node, ttl));
        }
        response.answers = records
            .into_iter()
            .map(|record| Answer {
                record,
                target: None,
            })
            .collect();
        if self.question.query_type != RecordType::TXT
            && self.question.query_type != RecordType::ANY
            && self.config.enable_additional_node_meta_txt
            && !response.answers.is_empty()
        {
            let meta = meta_records(owner, node, ttl);
            if !meta.is_empty() {
                response.extras.insert(owner.clone(), meta);
                response.answers[0].target = Some(owner.clone());
            }
        }
        response
    }

    fn addr(&self, ip: IpAddr) -> Response {
        let mut response = Response::empty(ResponseCode::NoError);
        response.answers = address_records(
            self.question.name,
            &ip.to_string(),
            self.question.query_type,
            seconds(self.config.node_ttl),
        )
        .into_iter()
        .map(|record| Answer {
            record,
            target: None,
        })
        .collect();
        response
    }

    fn service(&self, name: &str, tag: Option<&str>, rng: &mut impl Rng) -> Response {
        let Some(name) = self.state.service_name_ignoring_case(name) else {
            return Response::empty(ResponseCode::NXDomain);
        };
        let healthy: Vec<(Instance<'_>, u32)> = self
            .state
            .service_instances(name)
            .filter(|(_, service)| {
                tag.is_none_or(|tag| service.tags.iter().any(|t| t.eq_ignore_ascii_case(tag)))
            })
            .filter_map(|(node, service)| {
                let weight = match self.health(node, service) {
                    HealthStatus::Passing => service.weights.passing,
                    HealthStatus::Warning if !self.config.only_passing => service.weights.warning,
                    _ => return None,
                };
                Some((Instance { node, service }, weight))
            })
            .collect();
        if healthy.is_empty() {
            return Response::empty(ResponseCode::NXDomain);
        }
        let ttl = seconds(self.config.service_ttl(name));
        let mut response = Response::empty(ResponseCode::NoError);
        let ordered = weighted_order(healthy, rng);
        if self.question.query_type == RecordType::SRV {
            for (instance, weight) in ordered {
                self.srv(&mut response, &instance, weight, ttl);
            }
        } else {
            let mut seen = std::collections::HashSet::new();
            for (instance, _) in ordered {
                let address = instance_address(&instance);
                if !seen.insert(address) {
                    continue;
                }
                for record in
                    address_records(self.question.name, address, self.question.query_type, ttl)
                {
                    response.answers.push(Answer {
                        record,
                        target: None,
                    });
                }
            }
        }
        response
    }

    /// The worst status among the checks that decide an instance's health.
    fn health(&self, node: &Node, service: &AgentService) -> HealthStatus {
        let mut worst = HealthStatus::Passing;
        for check in self.state.instance_checks(&node.node, service) {
            match check.status {
                HealthStatus::Critical => return HealthStatus::Critical,
                HealthStatus::Warning => worst = HealthStatus::Warning,
                HealthStatus::Passing => {}
            }
        }
        worst
    }

    /// An SRV answer for one instance; its target's addresses go to Additional.
    fn srv(&self, response: &mut Response, instance: &Instance<'_>, weight: u32, ttl: u32) {
        let zone = self.question.zone;
        let node_ttl = seconds(self.config.node_ttl);
        let (target, extras) = if !instance.service.address.is_empty() {
            let address = &instance.service.address;
            match address.parse::<IpAddr>() {
                Ok(ip) => {
                    let Some(target) = relative(
                        &[encode_hex_ip(ip).as_str(), "addr", &self.config.datacenter],
                        zone,
                    ) else {
                        return;
                    };
                    let extras = address_records(&target, address, RecordType::ANY, ttl);
                    (target, extras)
                }
                Err(_) => match fqdn(address) {
                    Some(host) => (host, Vec::new()),
                    None => return,
                },
            }
        } else {
            match instance.node.address.parse::<IpAddr>() {
                Ok(_) => {
                    let Some(target) = relative(
                        &[instance.node.node.as_str(), "node", &self.config.datacenter],
                        zone,
                    ) else {
                        return;
                    };
                    let mut extras =
                        address_records(&target, &instance.node.address, RecordType::ANY, node_ttl);
                    if self.config.enable_additional_node_meta_txt {
                        extras.extend(meta_records(&target, instance.node, node_ttl));
                    }
                    (target, extras)
                }
                Err(_) => match fqdn(&instance.node.address) {
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
                u16::try_from(weight).unwrap_or(u16::MAX),
                instance.service.port,
                target.clone(),
            )),
        );
        if !extras.is_empty() {
            response.extras.entry(target.clone()).or_insert(extras);
        }
        response.answers.push(Answer {
            record,
            target: Some(target),
        });
    }
}

/// The address an instance is reached at: its own, else its node's.
fn instance_address<'a>(instance: &Instance<'a>) -> &'a str {
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
