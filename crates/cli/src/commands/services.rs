//! `proconsul services register|deregister`: register services with the local agent
//! from definition files (HCL or JSON, as in config files) or from flags.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use proconsul_api::ServiceRegistration;
use proconsul_config::ConfigSource;

use crate::commands::{HttpArgs, fail};

#[derive(Debug, Subcommand)]
pub enum ServicesCommand {
    /// Registers services from files, or one service from flags.
    Register(RegisterArgs),
    /// Deregisters a service by -id, or the services a file defines.
    Deregister(DeregisterArgs),
}

#[derive(Debug, Args)]
pub struct RegisterArgs {
    #[command(flatten)]
    http: HttpArgs,
    /// The service's name (when not registering from files).
    #[arg(long)]
    name: Option<String>,
    /// The service's ID [default: the name].
    #[arg(long)]
    id: Option<String>,
    /// The service's address.
    #[arg(long)]
    address: Option<String>,
    /// The service's port.
    #[arg(long)]
    port: Option<u16>,
    /// A tag; repeatable.
    #[arg(long = "tag")]
    tags: Vec<String>,
    /// Metadata as key=value; repeatable.
    #[arg(long = "meta", value_name = "KEY=VALUE")]
    meta: Vec<String>,
    /// Service definition files (HCL or JSON).
    files: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DeregisterArgs {
    #[command(flatten)]
    http: HttpArgs,
    /// The ID of the service to deregister.
    #[arg(long)]
    id: Option<String>,
    /// Service definition files whose services to deregister.
    files: Vec<PathBuf>,
}

pub async fn run(command: ServicesCommand) -> anyhow::Result<ExitCode> {
    match command {
        ServicesCommand::Register(args) => register(args).await,
        ServicesCommand::Deregister(args) => deregister(args).await,
    }
}

/// The services that files define.
fn from_files(files: &[PathBuf]) -> Result<Vec<ServiceRegistration>, String> {
    let sources: Vec<ConfigSource> = files.iter().cloned().map(ConfigSource::File).collect();
    let config = proconsul_config::load(&sources).map_err(|error| error.to_string())?;
    config.service_registrations()
}

fn from_flags(args: &RegisterArgs) -> Result<ServiceRegistration, String> {
    let name = args
        .name
        .clone()
        .ok_or("Service name must be specified with the -name flag")?;
    let meta = args
        .meta
        .iter()
        .map(|pair| {
            pair.split_once('=')
                .map(|(key, value)| (key.to_string(), value.to_string()))
                .ok_or_else(|| format!("Invalid -meta {pair:?}: expected key=value"))
        })
        .collect::<Result<BTreeMap<_, _>, _>>()?;
    Ok(ServiceRegistration {
        id: args.id.clone().unwrap_or_default(),
        name,
        address: args.address.clone().unwrap_or_default(),
        port: args.port.unwrap_or(0),
        tags: args.tags.clone(),
        meta,
        ..ServiceRegistration::default()
    })
}

async fn register(args: RegisterArgs) -> anyhow::Result<ExitCode> {
    let services = if args.files.is_empty() {
        from_flags(&args).map(|service| vec![service])
    } else if args.name.is_some() {
        Err("Flags and files cannot both be given".to_string())
    } else {
        from_files(&args.files)
    };
    let services = match services {
        Ok(services) => services,
        Err(error) => return Ok(fail(format!("Error: {error}"))),
    };
    let client = args.http.client()?;
    for service in services {
        let result: Result<(), _> = client
            .put_json("/v1/agent/service/register", &[], &service)
            .await;
        if let Err(error) = result {
            return Ok(fail(format!(
                "Error registering service {:?}: {error}",
                service.name
            )));
        }
        println!("Registered service: {}", service.name);
    }
    Ok(ExitCode::SUCCESS)
}

async fn deregister(args: DeregisterArgs) -> anyhow::Result<ExitCode> {
    let ids = match (&args.id, args.files.is_empty()) {
        (Some(id), true) => vec![id.clone()],
        (None, false) => match from_files(&args.files) {
            Ok(services) => services
                .into_iter()
                .map(|service| {
                    if service.id.is_empty() {
                        service.name
                    } else {
                        service.id
                    }
                })
                .collect(),
            Err(error) => return Ok(fail(format!("Error: {error}"))),
        },
        _ => return Ok(fail("Error: give either -id or service definition files")),
    };
    let client = args.http.client()?;
    for id in ids {
        let path = format!("/v1/agent/service/deregister/{id}");
        let result: Result<(), _> = client.put_raw(&path, &[], Vec::new()).await;
        if let Err(error) = result {
            return Ok(fail(format!("Error deregistering service {id:?}: {error}")));
        }
        println!("Deregistered service: {id}");
    }
    Ok(ExitCode::SUCCESS)
}
