//! Prepared queries: the table (by ID, with a name index and an index of template
//! prefixes), their validation, the rendering of templates for a name, and execution,
//! a pure function of one `State` and what the caller says about the request.
//!
//! Resolution follows Consul's documented order: an ID, then an exact name, then the
//! template whose name is the longest prefix of the name asked for. Names and prefixes
//! match without regard to case (DNS names are lowercased on the way in).

use std::collections::BTreeMap;
use std::sync::Arc;

use imbl::OrdMap;
use proconsul_api::query::{PreparedQuery, QueryDnsOptions, TEMPLATE_NAME_PREFIX_MATCH};
use proconsul_api::{HealthStatus, ServiceEntry};
use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::command::CommandOutcome;
use crate::state::{Key, State, Table};

/// Consul's text for a query that does not exist (HTTP 404).
pub const QUERY_NOT_FOUND: &str = "Query not found";

/// Consul's refusal to run or explain a template named by its ID.
const TEMPLATE_BY_ID: &str = "prepared query templates can only be resolved up by name, not by ID";

/// How a prepared-query command changes the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PreparedQueryOp {
    /// A new query; its ID (chosen by the proposer) must be free.
    Create,
    /// Replaces an existing query, keeping its `CreateIndex`.
    Update,
}

/// The derived lookups of the prepared-query table, rebuilt on restore.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct QueryIndexes {
    /// Lowercased name to ID, for every named query (templates included).
    names: OrdMap<Key, Key>,
    /// Lowercased template name (its prefix; empty for the catch-all) to ID.
    templates: OrdMap<Key, Key>,
}

impl QueryIndexes {
    pub(crate) fn insert(&mut self, query: &PreparedQuery) {
        let name = Key::new(query.name.to_lowercase());
        if query.is_template() {
            self.templates.insert(name.clone(), Key::new(&query.id));
        }
        if !query.name.is_empty() {
            self.names.insert(name, Key::new(&query.id));
        }
    }

    fn remove(&mut self, query: &PreparedQuery) {
        let name = query.name.to_lowercase();
        if query.is_template() {
            self.templates.remove(name.as_str());
        }
        if !query.name.is_empty() {
            self.names.remove(name.as_str());
        }
    }
}

/// Whether `text` has the shape of a UUID (8-4-4-4-12 hex digits), like a query ID.
pub fn looks_like_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(group, len)| group.len() == len && group.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Checks what can be checked without the state, with Consul's texts: a service name,
/// failover options, the DNS TTL, and a template's type, regexp and interpolations.
pub fn validate_query(query: &PreparedQuery) -> Result<(), String> {
    let invalid = |reason: String| format!("Invalid prepared query: {reason}");
    let service = &query.service;
    if service.service.is_empty() {
        return Err(invalid("Must provide a Service name to query".into()));
    }
    let failover = &service.failover;
    if failover.nearest_n < 0 {
        return Err(invalid(format!(
            "Bad NearestN '{}', must be >= 0",
            failover.nearest_n
        )));
    }
    let targets = failover.targets.as_deref().unwrap_or_default();
    if !targets.is_empty()
        && (failover.nearest_n != 0
            || !failover
                .datacenters
                .as_deref()
                .unwrap_or_default()
                .is_empty())
    {
        return Err(invalid(
            "Targets cannot be populated with NearestN or Datacenters".into(),
        ));
    }
    if targets
        .iter()
        .any(|target| !target.peer.is_empty() && !target.datacenter.is_empty())
    {
        return Err(invalid(
            "Targets cannot contain both PeerName and Datacenter".into(),
        ));
    }
    if !query.dns.ttl.is_empty() {
        match proconsul_api::duration::parse_duration(&query.dns.ttl) {
            Ok(_) => {}
            Err(error) => {
                let ttl = &query.dns.ttl;
                return Err(invalid(format!("Bad DNS TTL '{ttl}': {error}")));
            }
        }
    }
    if query.is_template() {
        CompiledTemplate::compile(query)?;
    }
    Ok(())
}

impl State {
    /// Creates or updates a query. Its ID comes from the proposer; names are unique
    /// (without regard to case), may not alias an ID, and only one catch-all template
    /// (empty name) may exist; a session, when given, must exist.
    pub(crate) fn apply_prepared_query_set(
        &mut self,
        index: u64,
        op: PreparedQueryOp,
        query: &PreparedQuery,
    ) -> CommandOutcome {
        if query.id.is_empty() {
            return CommandOutcome::Rejected("Missing Query ID".into());
        }
        if let Err(reason) = validate_query(query) {
            return CommandOutcome::Rejected(reason);
        }
        let existing = self.prepared_queries.get(query.id.as_str()).cloned();
        let create_index = match (op, &existing) {
            (PreparedQueryOp::Create, Some(_)) => {
                return CommandOutcome::Rejected(format!(
                    "Prepared query '{}' already exists",
                    query.id
                ));
            }
            (PreparedQueryOp::Update, None) => {
                return CommandOutcome::Rejected(format!(
                    "Cannot modify non-existent prepared query: '{}'",
                    query.id
                ));
            }
            (PreparedQueryOp::Create, None) => index,
            (PreparedQueryOp::Update, Some(existing)) => existing.create_index,
        };
        let lowered = query.name.to_lowercase();
        if !query.name.is_empty() {
            if let Some(owner) = self.query_indexes.names.get(lowered.as_str())
                && owner.as_str() != query.id
            {
                return CommandOutcome::Rejected(format!(
                    "name '{}' aliases an existing query name",
                    query.name
                ));
            }
            if looks_like_uuid(&query.name) && !query.name.eq_ignore_ascii_case(&query.id) {
                return CommandOutcome::Rejected(format!(
                    "name '{}' aliases an existing query ID",
                    query.name
                ));
            }
        } else if query.is_template()
            && let Some(owner) = self.query_indexes.templates.get("")
            && owner.as_str() != query.id
        {
            return CommandOutcome::Rejected(
                "a query template with an empty name already exists".into(),
            );
        }
        if !query.session.is_empty() && !self.sessions.contains_key(query.session.as_str()) {
            return CommandOutcome::Rejected(format!("invalid session \"{}\"", query.session));
        }
        if let Some(existing) = &existing {
            self.query_indexes.remove(existing);
        }
        let stored = PreparedQuery {
            create_index,
            modify_index: index,
            ..query.clone()
        };
        self.query_indexes.insert(&stored);
        self.prepared_queries
            .insert(Key::new(&query.id), Arc::new(stored));
        self.table_indexes.bump(Table::PreparedQueries, index);
        CommandOutcome::Done
    }

    /// Deletes a query; an unknown ID is refused with Consul's text.
    pub(crate) fn apply_prepared_query_delete(&mut self, index: u64, id: &str) -> CommandOutcome {
        match self.prepared_queries.remove(id) {
            Some(query) => {
                self.query_indexes.remove(&query);
                self.table_indexes.bump(Table::PreparedQueries, index);
                CommandOutcome::Done
            }
            None => CommandOutcome::Rejected(format!(
                "Cannot modify non-existent prepared query: '{id}'"
            )),
        }
    }

    /// Deletes the queries tied to a session that ended (as Consul does).
    pub(crate) fn delete_session_queries(&mut self, index: u64, session: &str) {
        let doomed: Vec<Arc<PreparedQuery>> = self
            .prepared_queries
            .values()
            .filter(|query| query.session == session)
            .cloned()
            .collect();
        for query in doomed {
            self.prepared_queries.remove(query.id.as_str());
            self.query_indexes.remove(&query);
            self.table_indexes.bump(Table::PreparedQueries, index);
        }
    }

    /// One query by ID.
    pub fn prepared_query(&self, id: &str) -> Option<&Arc<PreparedQuery>> {
        self.prepared_queries.get(id)
    }

    /// Every query, ordered by ID.
    pub fn prepared_queries(&self) -> impl Iterator<Item = &Arc<PreparedQuery>> {
        self.prepared_queries.values()
    }

    /// The query that `id_or_name` names (an ID, an exact name, or the template with the
    /// longest matching prefix), rendered for that name when it is a template.
    /// `Ok(None)` when nothing matches; `Err` for a template named by its ID (Consul
    /// renders templates for names only) or one that does not render.
    pub fn resolve_prepared_query(
        &self,
        id_or_name: &str,
    ) -> Result<Option<PreparedQuery>, String> {
        if id_or_name.is_empty() {
            return Ok(None);
        }
        if let Some(query) = self.prepared_queries.get(id_or_name) {
            if query.is_template() {
                return Err(TEMPLATE_BY_ID.to_string());
            }
            return Ok(Some((**query).clone()));
        }
        let lowered = id_or_name.to_lowercase();
        if let Some(query) = self
            .query_indexes
            .names
            .get(lowered.as_str())
            .and_then(|id| self.prepared_queries.get(id))
        {
            return render_if_template(query, id_or_name).map(Some);
        }
        let longest = (0..=lowered.len())
            .rev()
            .filter(|end| lowered.is_char_boundary(*end))
            .find_map(|end| self.query_indexes.templates.get(&lowered[..end]))
            .and_then(|id| self.prepared_queries.get(id));
        match longest {
            Some(query) => render_if_template(query, id_or_name).map(Some),
            None => Ok(None),
        }
    }

    /// Runs a (rendered) query against this state: the service's instances (or its
    /// Connect-capable ones) that pass the health, tag and metadata filters, shuffled by
    /// `request.seed`, sorted by the RTT from the `Near` node when it has a coordinate,
    /// with the `Near` node itself first, cut to `request.limit`.
    pub fn execute_prepared_query(
        &self,
        query: &PreparedQuery,
        request: &ExecuteRequest<'_>,
    ) -> Execution {
        let spec = &query.service;
        let entries = if spec.connect || request.connect {
            self.health_connect(&spec.service)
        } else {
            self.health_service(&spec.service)
        };
        let ignored = spec.ignore_check_ids.as_deref().unwrap_or_default();
        let tags = TagFilter::new(spec.tags.as_deref().unwrap_or_default());
        let empty = BTreeMap::new();
        let node_meta = spec.node_meta.as_ref().unwrap_or(&empty);
        let service_meta = spec.service_meta.as_ref().unwrap_or(&empty);
        let mut nodes: Vec<ServiceEntry> = entries
            .into_iter()
            .filter(|entry| healthy(entry, spec.only_passing, ignored))
            .filter(|entry| tags.matches(&entry.service.tags))
            .filter(|entry| meta_matches(node_meta, &entry.node.meta))
            .filter(|entry| meta_matches(service_meta, &entry.service.meta))
            .collect();
        shuffle(&mut nodes, request.seed);
        let near = match request.near.filter(|near| !near.is_empty()) {
            Some(near) => near,
            None => spec.near.as_str(),
        };
        let source = match near {
            "_agent" => Some(request.agent_node.to_string()),
            "_ip" => request.source_ip.and_then(|ip| {
                self.nodes
                    .values()
                    .find(|node| node.address == ip)
                    .map(|node| node.node.clone())
            }),
            "" => None,
            other => Some(other.to_string()),
        };
        // Nearest first by network coordinates (no change when the source has none),
        // then the node asked for (when it is among the first ten, as Consul looks)
        // goes first.
        if let Some(source) = &source {
            self.sort_by_distance_from(source, &mut nodes, |entry| &entry.node.node);
        }
        if let Some(source) = source
            && let Some(position) = nodes
                .iter()
                .take(10)
                .position(|entry| entry.node.node.eq_ignore_ascii_case(&source))
        {
            nodes.swap(0, position);
        }
        if request.limit > 0 {
            nodes.truncate(request.limit);
        }
        Execution {
            service: spec.service.clone(),
            nodes,
            dns: query.dns.clone(),
            // No other datacenter or peer exists to fail over to.
            failovers: 0,
        }
    }
}

/// What execution needs to know about the request and the agent serving it.
#[derive(Debug, Clone, Default)]
pub struct ExecuteRequest<'a> {
    /// The serving agent's node (`Near: "_agent"`).
    pub agent_node: &'a str,
    /// The request's source address (`Near: "_ip"`), as text.
    pub source_ip: Option<&'a str>,
    /// `?near=`: overrides the query's `Near`.
    pub near: Option<&'a str>,
    /// `?limit=`: at most this many results (0: all).
    pub limit: usize,
    /// `?connect`: only Connect-capable instances.
    pub connect: bool,
    /// Seeds the shuffle (the caller draws it; the state has no randomness).
    pub seed: u64,
}

/// The answer of executing a query in this datacenter.
#[derive(Debug, Clone, PartialEq)]
pub struct Execution {
    pub service: String,
    pub nodes: Vec<ServiceEntry>,
    pub dns: QueryDnsOptions,
    pub failovers: u64,
}

/// Consul's health filter for queries: a critical check (not ignored) excludes the
/// instance; with `OnlyPassing`, a warning one does too.
fn healthy(entry: &ServiceEntry, only_passing: bool, ignored: &[String]) -> bool {
    entry
        .checks
        .iter()
        .filter(|check| !ignored.contains(&check.check_id))
        .all(|check| match check.status {
            HealthStatus::Passing => true,
            HealthStatus::Warning => !only_passing,
            HealthStatus::Critical => false,
        })
}

fn meta_matches(wanted: &BTreeMap<String, String>, have: &BTreeMap<String, String>) -> bool {
    wanted
        .iter()
        .all(|(key, value)| have.get(key) == Some(value))
}

/// `Tags`: every listed tag must be present and every `!tag` absent, compared without
/// regard to case.
struct TagFilter {
    required: Vec<String>,
    forbidden: Vec<String>,
}

impl TagFilter {
    fn new(tags: &[String]) -> TagFilter {
        let mut filter = TagFilter {
            required: Vec::new(),
            forbidden: Vec::new(),
        };
        for tag in tags {
            let tag = tag.to_lowercase();
            match tag.strip_prefix('!') {
                Some(forbidden) => filter.forbidden.push(forbidden.to_string()),
                None => filter.required.push(tag),
            }
        }
        filter
    }

    fn matches(&self, tags: &[String]) -> bool {
        let has = |wanted: &String| tags.iter().any(|tag| tag.to_lowercase() == *wanted);
        self.required.iter().all(has) && !self.forbidden.iter().any(has)
    }
}

/// A deterministic Fisher–Yates shuffle driven by splitmix64.
fn shuffle<T>(items: &mut [T], seed: u64) {
    let mut state = seed;
    let mut next = || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    for i in (1..items.len()).rev() {
        let j = (next() % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
}

fn render_if_template(query: &PreparedQuery, name: &str) -> Result<PreparedQuery, String> {
    if query.is_template() {
        CompiledTemplate::compile(query)?.render(name)
    } else {
        Ok(query.clone())
    }
}

/// One piece of an interpolated string.
#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Text(String),
    NameFull,
    NamePrefix,
    NameSuffix,
    AgentSegment,
    Match(usize),
}

/// A template query, checked and ready to render for names.
pub struct CompiledTemplate<'a> {
    query: &'a PreparedQuery,
    regexp: Option<Regex>,
}

impl<'a> CompiledTemplate<'a> {
    /// Checks the template's type, regexp and every interpolation in its `Service`.
    pub fn compile(query: &'a PreparedQuery) -> Result<CompiledTemplate<'a>, String> {
        if query.template.kind != TEMPLATE_NAME_PREFIX_MATCH {
            return Err(format!("Bad Template.Type '{}'", query.template.kind));
        }
        let regexp = if query.template.regexp.is_empty() {
            None
        } else {
            Some(
                Regex::new(&query.template.regexp)
                    .map_err(|error| format!("Bad Regexp: {error}"))?,
            )
        };
        let mut problem = None;
        let mut service = query.service.clone();
        visit_strings(&mut service, &mut |text| {
            if problem.is_none()
                && let Err(error) = parse_interpolation(text)
            {
                problem = Some(error);
            }
        });
        if let Some(error) = problem {
            return Err(error);
        }
        Ok(CompiledTemplate { query, regexp })
    }

    /// The query as it runs for `name`: every string of its `Service` interpolated,
    /// and empty tags dropped when `RemoveEmptyTags` is set.
    pub fn render(&self, name: &str) -> Result<PreparedQuery, String> {
        let prefix = &self.query.name;
        let suffix = name.get(prefix.len()..).unwrap_or_default();
        let captures: Vec<String> = match self.regexp.as_ref().and_then(|re| re.captures(name)) {
            Some(captures) => captures
                .iter()
                .map(|group| group.map(|m| m.as_str().to_string()).unwrap_or_default())
                .collect(),
            None => Vec::new(),
        };
        let mut rendered = self.query.clone();
        let mut problem = None;
        visit_strings(
            &mut rendered.service,
            &mut |text| match parse_interpolation(text) {
                Ok(pieces) => {
                    let mut out = String::new();
                    for piece in pieces {
                        match piece {
                            Piece::Text(t) => out.push_str(&t),
                            Piece::NameFull => out.push_str(name),
                            Piece::NamePrefix => out.push_str(prefix),
                            Piece::NameSuffix => out.push_str(suffix),
                            Piece::AgentSegment => {}
                            Piece::Match(n) => {
                                out.push_str(captures.get(n).map(String::as_str).unwrap_or(""))
                            }
                        }
                    }
                    *text = out;
                }
                Err(error) => problem = Some(error),
            },
        );
        if let Some(error) = problem {
            return Err(error);
        }
        if self.query.template.remove_empty_tags
            && let Some(tags) = rendered.service.tags.as_mut()
        {
            tags.retain(|tag| !tag.is_empty());
        }
        Ok(rendered)
    }
}

/// Calls `visit` on every string of a service query (map values included).
fn visit_strings(
    service: &mut proconsul_api::query::ServiceQuery,
    visit: &mut impl FnMut(&mut String),
) {
    visit(&mut service.service);
    visit(&mut service.near);
    visit(&mut service.peer);
    let lists = [
        service.ignore_check_ids.as_mut(),
        service.tags.as_mut(),
        service.failover.datacenters.as_mut(),
    ];
    for list in lists.into_iter().flatten() {
        list.iter_mut().for_each(&mut *visit);
    }
    for target in service.failover.targets.iter_mut().flatten() {
        visit(&mut target.peer);
        visit(&mut target.datacenter);
    }
    for map in [service.node_meta.as_mut(), service.service_meta.as_mut()]
        .into_iter()
        .flatten()
    {
        map.values_mut().for_each(&mut *visit);
    }
}

/// Splits `text` into literal text and `${...}` interpolations. Consul's variables:
/// `name.full`, `name.prefix`, `name.suffix`, `agent.segment`, and `match(N)`.
fn parse_interpolation(text: &str) -> Result<Vec<Piece>, String> {
    let mut pieces = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        if start > 0 {
            pieces.push(Piece::Text(rest[..start].to_string()));
        }
        let after = &rest[start + 2..];
        let end = after.find('}').ok_or_else(|| {
            format!("Bad format '{text}' in template: unterminated interpolation")
        })?;
        let expression = after[..end].trim();
        pieces.push(match expression {
            "name.full" => Piece::NameFull,
            "name.prefix" => Piece::NamePrefix,
            "name.suffix" => Piece::NameSuffix,
            "agent.segment" => Piece::AgentSegment,
            other => {
                let argument = other
                    .strip_prefix("match(")
                    .and_then(|rest| rest.strip_suffix(')'))
                    .map(str::trim)
                    .ok_or_else(|| {
                        format!("Bad format '{text}' in template: unknown variable accessed: {other}")
                    })?;
                let n = argument.parse::<usize>().map_err(|_| {
                    format!("Bad format '{text}' in template: match() needs an integer, got '{argument}'")
                })?;
                Piece::Match(n)
            }
        });
        rest = &after[end + 1..];
    }
    if !rest.is_empty() {
        pieces.push(Piece::Text(rest.to_string()));
    }
    Ok(pieces)
}
