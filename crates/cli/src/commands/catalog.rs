//! `proconsul catalog datacenters|nodes|services`, printed as `consul catalog` does.

use std::collections::BTreeMap;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use proconsul_api::Node;
use proconsul_api::client::QueryOptions;

use crate::commands::{HttpArgs, fail};
use crate::output::{COLUMNIZE_GAP, TABWRITER_GAP, columns, row};

#[derive(Debug, Subcommand)]
pub enum CatalogCommand {
    /// Lists the known datacenters.
    Datacenters(DatacentersArgs),
    /// Lists the nodes.
    Nodes(NodesArgs),
    /// Lists the services.
    Services(ServicesArgs),
}

#[derive(Debug, Args)]
pub struct DatacentersArgs {
    #[command(flatten)]
    http: HttpArgs,
}

#[derive(Debug, Args)]
pub struct NodesArgs {
    #[command(flatten)]
    http: HttpArgs,
    /// Show full node IDs, tagged addresses and metadata.
    #[arg(long)]
    detailed: bool,
    /// Only nodes providing this service.
    #[arg(long, value_name = "NAME")]
    service: Option<String>,
    /// A filter expression over the nodes.
    #[arg(long, value_name = "EXPR", allow_hyphen_values = true)]
    filter: Option<String>,
}

#[derive(Debug, Args)]
pub struct ServicesArgs {
    #[command(flatten)]
    http: HttpArgs,
    /// Show each service's tags beside it.
    #[arg(long)]
    tags: bool,
    /// Only the services of this node.
    #[arg(long, value_name = "NAME")]
    node: Option<String>,
}

pub async fn run(command: CatalogCommand) -> anyhow::Result<ExitCode> {
    match command {
        CatalogCommand::Datacenters(args) => datacenters(args).await,
        CatalogCommand::Nodes(args) => nodes(args).await,
        CatalogCommand::Services(args) => services(args).await,
    }
}

async fn datacenters(args: DatacentersArgs) -> anyhow::Result<ExitCode> {
    match args.http.client()?.catalog_datacenters().await {
        Ok(datacenters) => {
            for datacenter in datacenters {
                println!("{datacenter}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => Ok(fail(format!("Error listing datacenters: {error}"))),
    }
}

async fn nodes(args: NodesArgs) -> anyhow::Result<ExitCode> {
    let client = args.http.client()?;
    let options = QueryOptions {
        filter: args.filter.clone(),
        ..QueryOptions::default()
    };
    let nodes = match &args.service {
        Some(service) => match client.catalog_service(service, &options).await {
            Ok((instances, _)) => instances
                .into_iter()
                .map(|instance| Node {
                    id: instance.id,
                    node: instance.node,
                    address: instance.address,
                    datacenter: instance.datacenter,
                    tagged_addresses: instance.tagged_addresses,
                    meta: instance.node_meta,
                    create_index: instance.create_index,
                    modify_index: instance.modify_index,
                })
                .collect(),
            Err(error) => return Ok(fail(format!("Error listing nodes for service: {error}"))),
        },
        None => match client.catalog_nodes(&options).await {
            Ok((nodes, _)) => nodes,
            Err(error) => return Ok(fail(format!("Error listing nodes: {error}"))),
        },
    };
    if nodes.is_empty() {
        eprintln!("No nodes match the given query - try expanding your search.");
        return Ok(ExitCode::SUCCESS);
    }
    print!("{}", render_nodes(&nodes, args.detailed));
    Ok(ExitCode::SUCCESS)
}

/// `key=value` pairs sorted by key, as Consul's `mapToKV`.
fn map_to_kv(map: &BTreeMap<String, String>) -> String {
    map.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The `catalog nodes` table: the ID shortened to its first group unless detailed.
fn render_nodes(nodes: &[Node], detailed: bool) -> String {
    let mut rows = vec![if detailed {
        row(["Node", "ID", "Address", "DC", "TaggedAddresses", "Meta"])
    } else {
        row(["Node", "ID", "Address", "DC"])
    }];
    for node in nodes {
        let mut cells = vec![node.node.clone()];
        if detailed {
            cells.extend([
                node.id.clone(),
                node.address.clone(),
                node.datacenter.clone(),
                map_to_kv(&node.tagged_addresses),
                map_to_kv(&node.meta),
            ]);
        } else {
            let short_id = match node.id.find('-') {
                Some(dash) if dash > 0 => &node.id[..dash],
                _ => &node.id,
            };
            cells.extend([
                short_id.to_string(),
                node.address.clone(),
                node.datacenter.clone(),
            ]);
        }
        rows.push(cells);
    }
    columns(&rows, COLUMNIZE_GAP)
}

async fn services(args: ServicesArgs) -> anyhow::Result<ExitCode> {
    let client = args.http.client()?;
    let services: BTreeMap<String, Vec<String>> = match &args.node {
        Some(node) => match client.catalog_node(node, &QueryOptions::default()).await {
            Ok((found, _)) => {
                let mut services: BTreeMap<String, Vec<String>> = BTreeMap::new();
                for service in found.map(|n| n.services).unwrap_or_default().into_values() {
                    services
                        .entry(service.service)
                        .or_default()
                        .extend(service.tags);
                }
                services
            }
            Err(error) => return Ok(fail(format!("Error listing services for node: {error}"))),
        },
        None => match client.catalog_services(&QueryOptions::default()).await {
            Ok((services, _)) => services,
            Err(error) => return Ok(fail(format!("Error listing services: {error}"))),
        },
    };
    if services.is_empty() {
        eprintln!("No services match the given query - try expanding your search.");
        return Ok(ExitCode::SUCCESS);
    }
    print!("{}", render_services(services, args.tags));
    Ok(ExitCode::SUCCESS)
}

/// Service names one per line, or with `-tags` a table of names and sorted tags.
fn render_services(services: BTreeMap<String, Vec<String>>, tags: bool) -> String {
    if !tags {
        return services.into_keys().map(|name| name + "\n").collect();
    }
    let rows: Vec<Vec<String>> = services
        .into_iter()
        .map(|(name, mut tags)| {
            tags.sort();
            vec![name, tags.join(",")]
        })
        .collect();
    columns(&rows, TABWRITER_GAP)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, id: &str) -> Node {
        Node {
            id: id.into(),
            node: name.into(),
            address: "10.0.0.1".into(),
            datacenter: "dc1".into(),
            tagged_addresses: [("lan".to_string(), "10.0.0.1".to_string())].into(),
            meta: [
                ("b".to_string(), "2".to_string()),
                ("a".to_string(), "1".to_string()),
            ]
            .into(),
            ..Node::default()
        }
    }

    #[test]
    fn nodes_table_like_consul() {
        let nodes = [
            node("web-1", "3f1a2b3c-0000-4000-8000-000000000001"),
            node("x", ""),
        ];
        assert_eq!(
            render_nodes(&nodes, false),
            "Node   ID        Address   DC\n\
             web-1  3f1a2b3c  10.0.0.1  dc1\n\
             x                10.0.0.1  dc1\n"
        );
        let detailed = render_nodes(&nodes[..1], true);
        assert_eq!(
            detailed.lines().nth(1).unwrap(),
            "web-1  3f1a2b3c-0000-4000-8000-000000000001  10.0.0.1  dc1  lan=10.0.0.1     a=1, b=2"
        );
    }

    #[test]
    fn services_with_and_without_tags() {
        let services: BTreeMap<String, Vec<String>> = [
            (
                "redis".to_string(),
                vec!["v2".to_string(), "primary".to_string()],
            ),
            ("consul".to_string(), vec![]),
        ]
        .into();
        assert_eq!(render_services(services.clone(), false), "consul\nredis\n");
        assert_eq!(
            render_services(services, true),
            "consul\nredis       primary,v2\n"
        );
    }
}
