//! `/v1/event`: firing user events and listing the ones this agent accepts.
//!
//! Events go through Raft here (gossip will carry them later, as in Consul). An agent
//! lists the events aimed at it: the node filter matches its node name, and the
//! service (and tag) filter matches one of its own services.

use axum::body::Bytes;
use axum::extract::Path;
use axum::response::Response;
use proconsul_acl::{Access, Authorize, Permission};
use proconsul_api::{AgentService, UserEvent};
use proconsul_state::{Command, Table};
use regex::Regex;

use crate::http::context::Ctx;
use crate::http::error::ApiError;
use crate::http::respond::{json, query_json};

/// Consul's limit on an event's payload.
const MAX_PAYLOAD: usize = 512;

/// `PUT /v1/event/fire/:name`.
pub async fn fire(ctx: Ctx, Path(name): Path<String>, body: Bytes) -> Result<Response, ApiError> {
    if name.is_empty() {
        return Err(ApiError::bad_request("Missing name"));
    }
    if body.len() > MAX_PAYLOAD {
        return Err(ApiError::bad_request(format!(
            "User event payload exceeds the limit of {MAX_PAYLOAD} bytes"
        )));
    }
    let filter = |param: &str| ctx.params.get(param).unwrap_or_default().to_string();
    let event = UserEvent {
        id: uuid::Uuid::new_v4().to_string(),
        name,
        payload: (!body.is_empty()).then(|| body.to_vec()),
        node_filter: filter("node"),
        service_filter: filter("service"),
        tag_filter: filter("tag"),
        version: 1,
        ltime: 0,
    };
    if !event.tag_filter.is_empty() && event.service_filter.is_empty() {
        return Err(ApiError::bad_request(
            "Cannot provide tag filter without service filter",
        ));
    }
    for (what, pattern) in [
        ("node", &event.node_filter),
        ("service", &event.service_filter),
        ("tag", &event.tag_filter),
    ] {
        Regex::new(pattern)
            .map_err(|error| ApiError::bad_request(format!("Invalid {what} filter: {error}")))?;
    }
    ctx.authz
        .require(Permission::event(Access::Write, &event.name))?;
    let applied = ctx
        .agent
        .consensus()?
        .write(Command::EventFire(Box::new(event.clone())))
        .await?;
    let fired = UserEvent {
        ltime: applied.index,
        ..event
    };
    Ok(json(&fired, ctx.options.pretty))
}

/// `GET /v1/event/list` (`?name=`, blocking). As in Consul, the answer's index is derived
/// from the latest listed event's ID ([`event_index`], what Consul's clients compute with
/// `IDToIndex` to match an event they fired), and a blocking query waits until it differs.
pub async fn list(ctx: Ctx) -> Result<Response, ApiError> {
    let name = ctx.params.get("name").map(str::to_string);
    let node = ctx.agent_node().to_string();
    let services = ctx.agent_services();
    let (meta, events) = ctx
        .blocking(&[Table::Events], |state| {
            let events: Vec<UserEvent> = state
                .events()
                .filter(|event| name.as_deref().is_none_or(|name| event.name == name))
                .filter(|event| accepts(event, &node, services.iter()))
                .filter(|event| ctx.authz.keep(ctx.authz.event_read(&event.name)))
                .filter(|event| ctx.keep(event))
                .map(|event| (**event).clone())
                .collect();
            (
                events.last().map_or(0, |event| event_index(&event.id)),
                events,
            )
        })
        .await?;
    Ok(query_json(&meta, &events, ctx.options.pretty))
}

/// The index of an event list whose latest event has `id`: the first 64 bits of the UUID
/// (its first three groups) XOR the last 64 (its last two), as Consul derives it. An ID
/// that is not a UUID gives 0.
fn event_index(id: &str) -> u64 {
    let hex: String = id.chars().filter(|c| *c != '-').collect();
    if hex.len() != 32 || !hex.is_ascii() {
        return 0;
    }
    let half = |range: std::ops::Range<usize>| u64::from_str_radix(&hex[range], 16).unwrap_or(0);
    half(0..16) ^ half(16..32)
}

/// Whether an agent with `node` and `services` accepts `event`, as Consul's agents
/// decide on receipt. A filter that does not compile accepts nothing.
fn accepts<'a>(
    event: &UserEvent,
    node: &str,
    mut services: impl Iterator<Item = &'a AgentService>,
) -> bool {
    let matches = |pattern: &str, text: &str| {
        pattern.is_empty() || Regex::new(pattern).is_ok_and(|regex| regex.is_match(text))
    };
    if !matches(&event.node_filter, node) {
        return false;
    }
    if event.service_filter.is_empty() {
        return true;
    }
    services.any(|service| {
        matches(&event.service_filter, &service.service)
            && (event.tag_filter.is_empty()
                || service
                    .tags
                    .iter()
                    .any(|tag| matches(&event.tag_filter, tag)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_of_an_event_id() {
        assert_eq!(event_index("00000000-0000-0001-0000-000000000002"), 3);
        assert_eq!(
            event_index("ffffffff-ffff-ffff-0000-000000000000"),
            u64::MAX
        );
        assert_eq!(event_index("not-a-uuid"), 0);
    }

    #[test]
    fn filters_select_agents() {
        let web = AgentService {
            service: "web".into(),
            tags: vec!["v2".into()],
            ..AgentService::default()
        };
        let event = |node: &str, service: &str, tag: &str| UserEvent {
            node_filter: node.into(),
            service_filter: service.into(),
            tag_filter: tag.into(),
            ..UserEvent::default()
        };
        assert!(accepts(&event("", "", ""), "n1", [&web].into_iter()));
        assert!(accepts(&event("^n", "we", ""), "n1", [&web].into_iter()));
        assert!(!accepts(&event("^x", "", ""), "n1", [&web].into_iter()));
        assert!(accepts(&event("", "web", "v2"), "n1", [&web].into_iter()));
        assert!(!accepts(&event("", "web", "v1"), "n1", [&web].into_iter()));
        assert!(!accepts(&event("", "db", ""), "n1", [&web].into_iter()));
    }
}
