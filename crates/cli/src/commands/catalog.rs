//! `proconsul catalog datacenters|nodes|services`.

use std::process::ExitCode;

use clap::{Args, Subcommand};

use crate::commands::{HttpArgs, query_error};
use crate::table::columns;

#[derive(Debug, Subcommand)]
pub enum CatalogCommand {
    /// Lists the known datacenters.
    Datacenters(Plain),
    /// Lists the nodes.
    Nodes(Plain),
    /// Lists the services.
    Services(ServicesArgs),
}

#[derive(Debug, Args)]
pub struct Plain {
    #[command(flatten)]
    http: HttpArgs,
}

#[derive(Debug, Args)]
pub struct ServicesArgs {
    #[command(flatten)]
    http: HttpArgs,
    /// Show each service's tags.
    #[arg(long)]
    tags: bool,
}

pub async fn run(command: CatalogCommand) -> anyhow::Result<ExitCode> {
    match command {
        CatalogCommand::Datacenters(args) => {
            match args.http.client()?.catalog_datacenters().await {
                Ok(datacenters) => {
                    for datacenter in datacenters {
                        println!("{datacenter}");
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(error) => Ok(query_error(error)),
            }
        }
        CatalogCommand::Nodes(args) => match args.http.client()?.catalog_nodes().await {
            Ok(nodes) => {
                let mut rows = vec![["Node", "ID", "Address", "DC"].map(String::from).to_vec()];
                for node in nodes {
                    let short_id: String = node.id.chars().take(8).collect();
                    rows.push(vec![node.node, short_id, node.address, node.datacenter]);
                }
                print!("{}", columns(&rows));
                Ok(ExitCode::SUCCESS)
            }
            Err(error) => Ok(query_error(error)),
        },
        CatalogCommand::Services(args) => match args.http.client()?.catalog_services().await {
            Ok(services) => {
                if args.tags {
                    let rows: Vec<Vec<String>> = services
                        .into_iter()
                        .map(|(name, tags)| vec![name, tags.join(",")])
                        .collect();
                    print!("{}", columns(&rows));
                } else {
                    for name in services.keys() {
                        println!("{name}");
                    }
                }
                Ok(ExitCode::SUCCESS)
            }
            Err(error) => Ok(query_error(error)),
        },
    }
}
