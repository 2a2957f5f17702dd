//! `/v1/coordinate`: the network coordinates of nodes (read from the catalog's
//! coordinates table) and of this datacenter's servers, and updates, which are checked
//! here and written in batches ([`crate::coordinate_batch`]).

use axum::body::Bytes;
use axum::extract::Path;
use axum::response::{IntoResponse, Response};
use proconsul_acl::{Access, Authorize, Permission};
use proconsul_api::coordinate::{CoordinateDatacenterMap, CoordinateEntry};
use proconsul_state::{CoordinateUpdate, Table};

use crate::http::context::Ctx;
use crate::http::decode::decode_body;
use crate::http::error::ApiError;
use crate::http::respond::{json, query_json, query_not_found};

/// The entry of a stored coordinate.
fn entry(
    node: &str,
    segment: &str,
    coord: &proconsul_api::coordinate::Coordinate,
) -> CoordinateEntry {
    CoordinateEntry {
        node: node.to_string(),
        segment: segment.to_string(),
        partition: String::new(),
        coord: Some(coord.clone()),
    }
}

/// Whether `entry` is in the segment `?segment=` asks for (any without it).
fn in_segment(ctx: &Ctx, entry: &CoordinateEntry) -> bool {
    ctx.params
        .get("segment")
        .is_none_or(|segment| entry.segment == segment)
}

/// `GET /v1/coordinate/nodes`: every node's coordinates the token may read (`node:read`),
/// by node name; a blocking query on the coordinates table.
pub async fn nodes(ctx: Ctx) -> Result<Response, ApiError> {
    let (meta, entries) = ctx
        .blocking(&[Table::Coordinates], |state| {
            let entries: Vec<CoordinateEntry> = state
                .coordinates()
                .filter(|(node, _, _)| ctx.authz.keep(ctx.authz.node_read(node)))
                .map(|(node, segment, coord)| entry(node, segment, coord))
                .filter(|entry| in_segment(&ctx, entry))
                .filter(|entry| ctx.keep(entry))
                .collect();
            (state.table_indexes().get(Table::Coordinates), entries)
        })
        .await?;
    Ok(query_json(&meta, &entries, ctx.options.pretty))
}

/// `GET /v1/coordinate/node/:node`: one node's coordinates (a list: one per segment);
/// 404 when it has none. Needs `node:read` on it.
pub async fn node(ctx: Ctx, Path(name): Path<String>) -> Result<Response, ApiError> {
    ctx.authz.require(Permission::node(Access::Read, &name))?;
    let (meta, entries) = ctx
        .blocking(&[Table::Coordinates], |state| {
            let entries: Vec<CoordinateEntry> = state
                .coordinates_of(&name)
                .map(|(segment, coord)| entry(&name, segment, coord))
                .filter(|entry| in_segment(&ctx, entry))
                .collect();
            (state.table_indexes().get(Table::Coordinates), entries)
        })
        .await?;
    if entries.is_empty() {
        return Ok(query_not_found(&meta));
    }
    Ok(query_json(&meta, &entries, ctx.options.pretty))
}

/// `PUT /v1/coordinate/update`: a node's coordinate (`{Node, Segment, Coord}`), queued
/// for the next batch. Refused as Consul refuses it: an undecodable body with 400, a
/// coordinate that is not finite (or missing) as `invalid coordinate` and one of
/// another dimensionality as `incompatible coordinate` (500, the server's errors), and
/// without `node:write` on the node with 403. A node the catalog does not know is
/// accepted and skipped when the batch is written.
pub async fn update(ctx: Ctx, body: Bytes) -> Result<Response, ApiError> {
    let update: CoordinateEntry = decode_body(&body)?;
    let Some(coord) = update.coord.filter(|coord| coord.is_valid()) else {
        return Err(ApiError::internal("invalid coordinate"));
    };
    if !ctx.agent.coordinate.current().is_compatible_with(&coord) {
        return Err(ApiError::internal("incompatible coordinate"));
    }
    ctx.authz
        .require(Permission::node(Access::Write, &update.node))?;
    ctx.agent.queue_coordinate(CoordinateUpdate {
        node: update.node,
        segment: update.segment,
        coord,
    });
    Ok(().into_response())
}

/// `GET /v1/coordinate/datacenters`: every datacenter the WAN pool knows with the WAN
/// coordinates of its servers, node names as Consul shows them (without the `.dc`
/// suffix); a server without one is left out. Without a WAN pool: this datacenter, with
/// this server's own coordinate as it is now and the other servers' as the catalog last
/// stored them.
pub async fn datacenters(ctx: Ctx) -> Result<Response, ApiError> {
    if let Some(wan) = &ctx.agent.wan {
        let maps: Vec<CoordinateDatacenterMap> = wan
            .datacenter_coordinates()
            .into_iter()
            .map(|(datacenter, servers)| CoordinateDatacenterMap {
                datacenter,
                area_id: "wan".to_string(),
                coordinates: servers
                    .into_iter()
                    .filter_map(|(node, coord)| Some(entry(&node, "", &coord?)))
                    .collect(),
            })
            .collect();
        return Ok(json(&maps, ctx.options.pretty));
    }
    let state = ctx.agent.consensus()?.reader().current();
    let me = ctx.agent.node.name.as_str();
    let mut servers: Vec<&str> = state
        .service_instances("consul")
        .map(|(node, _)| node.node.as_str())
        .chain([me])
        .collect();
    servers.sort_unstable();
    servers.dedup();
    let coordinates = servers
        .into_iter()
        .filter_map(|node| {
            if node == me {
                Some(entry(node, "", &ctx.agent.coordinate.current()))
            } else {
                state
                    .coordinate(node, "")
                    .map(|coord| entry(node, "", coord))
            }
        })
        .collect();
    let map = CoordinateDatacenterMap {
        datacenter: ctx.agent.config.datacenter.clone(),
        area_id: "wan".to_string(),
        coordinates,
    };
    Ok(json(&[map], ctx.options.pretty))
}
