//! `proconsul rtt [-wan] node1 [node2]`: the round-trip time between two nodes that
//! their network coordinates predict, printed as `consul rtt` prints it. The second
//! node defaults to the agent's own; with `-wan`, nodes are servers named
//! `<node>.<datacenter>` and the datacenters' coordinates are used.

use std::process::ExitCode;

use clap::Args;
use proconsul_api::client::{Client, QueryOptions};
use proconsul_api::coordinate::Coordinate;

use crate::commands::{HttpArgs, fail};

#[derive(Debug, Args)]
pub struct RttArgs {
    #[command(flatten)]
    http: HttpArgs,
    /// Use WAN coordinates; node names are then `<node>.<datacenter>`.
    #[arg(long)]
    wan: bool,
    /// One or two node names; the second defaults to the agent's node.
    #[arg(value_name = "NODE")]
    nodes: Vec<String>,
}

pub async fn run(args: RttArgs) -> anyhow::Result<ExitCode> {
    if args.nodes.is_empty() || args.nodes.len() > 2 {
        return Ok(fail(
            "One or two node names must be specified\n\nUsage: proconsul rtt [options] node1 [node2]",
        ));
    }
    let client = args.http.client()?;
    let mut nodes = args.nodes;
    if nodes.len() < 2 {
        let me = match client.agent_self().await {
            Ok(me) => me,
            Err(error) => return Ok(fail(format!("Unable to look up agent info: {error}"))),
        };
        let name = me["Config"]["NodeName"].as_str().unwrap_or_default();
        nodes.push(if args.wan {
            let datacenter = me["Config"]["Datacenter"].as_str().unwrap_or_default();
            format!("{name}.{datacenter}")
        } else {
            name.to_string()
        });
    }
    let found = if args.wan {
        wan_coordinates(&client, &nodes[0], &nodes[1]).await
    } else {
        lan_coordinates(&client, &nodes[0], &nodes[1]).await
    };
    let (first, second) = match found {
        Ok(pair) => pair,
        Err(message) => return Ok(fail(message)),
    };
    let Some(first) = first else {
        return Ok(fail(format!(
            "Could not find a coordinate for node {:?}",
            nodes[0]
        )));
    };
    let Some(second) = second else {
        return Ok(fail(format!(
            "Could not find a coordinate for node {:?}",
            nodes[1]
        )));
    };
    if !first.is_compatible_with(&second) {
        return Ok(fail(format!(
            "The coordinates of {:?} and {:?} have different dimensions",
            nodes[0], nodes[1]
        )));
    }
    println!(
        "{}",
        estimate_line(&nodes[0], &nodes[1], &first, &second, args.wan)
    );
    Ok(ExitCode::SUCCESS)
}

/// Consul's line: the distance in milliseconds with three decimals.
fn estimate_line(a: &str, b: &str, first: &Coordinate, second: &Coordinate, wan: bool) -> String {
    let millis = first.distance_to(second).as_secs_f64() * 1000.0;
    let source = if wan { "WAN" } else { "LAN" };
    format!("Estimated {a} <-> {b} rtt: {millis:.3} ms (using {source} coordinates)")
}

/// The default-segment LAN coordinates of two nodes (names match without case).
async fn lan_coordinates(
    client: &Client,
    a: &str,
    b: &str,
) -> Result<(Option<Coordinate>, Option<Coordinate>), String> {
    let (entries, _) = client
        .coordinate_nodes(&QueryOptions::default())
        .await
        .map_err(|error| format!("Error getting coordinates: {error}"))?;
    let find = |node: &str| {
        entries
            .iter()
            .find(|entry| entry.segment.is_empty() && entry.node.eq_ignore_ascii_case(node))
            .and_then(|entry| entry.coord.clone())
    };
    Ok((find(a), find(b)))
}

/// The WAN coordinates of two servers named `<node>.<datacenter>`, found only when both
/// are in the same network area.
async fn wan_coordinates(
    client: &Client,
    a: &str,
    b: &str,
) -> Result<(Option<Coordinate>, Option<Coordinate>), String> {
    let (Some((node_a, dc_a)), Some((node_b, dc_b))) = (split_wan_name(a), split_wan_name(b))
    else {
        return Err("Node names must be specified as <node name>.<datacenter> with -wan".into());
    };
    let datacenters = client
        .coordinate_datacenters()
        .await
        .map_err(|error| format!("Error getting coordinates: {error}"))?;
    let find = |node: &str, dc: &str| {
        datacenters
            .iter()
            .filter(|map| map.datacenter == dc)
            .find_map(|map| {
                map.coordinates
                    .iter()
                    .find(|entry| entry.node.eq_ignore_ascii_case(node))
                    .and_then(|entry| entry.coord.clone())
                    .map(|coord| (map.area_id.clone(), coord))
            })
    };
    match (find(node_a, dc_a), find(node_b, dc_b)) {
        (Some((area_a, first)), Some((area_b, second))) if area_a == area_b => {
            Ok((Some(first), Some(second)))
        }
        (Some(_), Some(_)) => Ok((None, None)),
        (first, second) => Ok((first.map(|(_, c)| c), second.map(|(_, c)| c))),
    }
}

/// `node.dc` as its two parts; names with more or fewer dots are refused, as Consul's.
fn split_wan_name(name: &str) -> Option<(&str, &str)> {
    let mut parts = name.split('.');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(node), Some(dc), None) => Some((node, dc)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_estimate_reads_like_consul_s() {
        let at = |x: f64| Coordinate {
            vec: vec![x, 0.0],
            error: 1.5,
            adjustment: 0.0,
            height: 1.0e-5,
        };
        assert_eq!(
            estimate_line("a", "b", &at(0.0), &at(0.00059), false),
            "Estimated a <-> b rtt: 0.610 ms (using LAN coordinates)"
        );
        assert_eq!(
            estimate_line("a.dc1", "b.dc1", &at(0.0), &at(0.5), true),
            "Estimated a.dc1 <-> b.dc1 rtt: 500.020 ms (using WAN coordinates)"
        );
    }

    #[test]
    fn wan_names_are_node_dot_datacenter() {
        assert_eq!(split_wan_name("s1.dc1"), Some(("s1", "dc1")));
        assert_eq!(split_wan_name("s1"), None);
        assert_eq!(split_wan_name("s1.dc1.x"), None);
    }
}
