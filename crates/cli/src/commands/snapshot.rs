//! `proconsul snapshot save|restore|inspect`: backups of the whole state through
//! `/v1/snapshot`, with Consul's command names and messages. On a terminal, save and
//! restore show the bytes moved on a progress line (stderr); elsewhere they print
//! only Consul's lines.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex, PoisonError};

use clap::{Args, Subcommand};
use proconsul_api::client::QueryOptions;
use proconsul_state::State;

use crate::commands::{HttpArgs, fail};
use crate::progress::Progress;

#[derive(Debug, Subcommand)]
pub enum SnapshotCommand {
    /// Saves the state to a file.
    Save(FileArgs),
    /// Replaces the state with a saved file's.
    Restore(FileArgs),
    /// Shows what a saved file holds, without an agent.
    Inspect(InspectArgs),
}

#[derive(Debug, Args)]
pub struct FileArgs {
    #[command(flatten)]
    http: HttpArgs,
    /// The snapshot file.
    file: PathBuf,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The snapshot file.
    file: PathBuf,
}

pub async fn run(command: SnapshotCommand) -> anyhow::Result<ExitCode> {
    match command {
        SnapshotCommand::Save(args) => save(args).await,
        SnapshotCommand::Restore(args) => restore(args).await,
        SnapshotCommand::Inspect(args) => Ok(inspect(&args.file)),
    }
}

async fn save(args: FileArgs) -> anyhow::Result<ExitCode> {
    let client = args.http.client()?;
    let mut progress = Progress::start("Saving snapshot");
    let (bytes, _) = match client
        .get_bytes_with_progress("/v1/snapshot", &QueryOptions::default(), |piece| {
            progress.add(piece as u64)
        })
        .await
    {
        Ok(saved) => saved,
        Err(error) => {
            progress.abandon();
            return Ok(fail(format!("Error saving snapshot: {error}")));
        }
    };
    progress.finish();
    // Checked before it is kept, as `consul snapshot save` verifies.
    let meta = match State::from_saved(&bytes) {
        Ok((meta, _)) => meta,
        Err(error) => return Ok(fail(format!("Error verifying snapshot file: {error}"))),
    };
    let temporary = args.file.with_extension("part");
    if let Err(error) =
        std::fs::write(&temporary, &bytes).and_then(|()| std::fs::rename(&temporary, &args.file))
    {
        return Ok(fail(format!("Error writing snapshot file: {error}")));
    }
    println!("Saved and verified snapshot to index {}", meta.index);
    Ok(ExitCode::SUCCESS)
}

async fn restore(args: FileArgs) -> anyhow::Result<ExitCode> {
    let bytes = match std::fs::read(&args.file) {
        Ok(bytes) => bytes,
        Err(error) => return Ok(fail(format!("Error opening snapshot file: {error}"))),
    };
    if let Err(error) = State::from_saved(&bytes) {
        return Ok(fail(format!("Error verifying snapshot file: {error}")));
    }
    let client = args.http.client()?;
    let progress = Arc::new(Mutex::new(Progress::start("Restoring snapshot")));
    let counter = progress.clone();
    let sent = client
        .put_raw_with_progress::<()>("/v1/snapshot", &[], bytes, move |piece| {
            lock(&counter).add(piece as u64)
        })
        .await;
    let mut progress = lock(&progress);
    match sent {
        Ok(()) => {
            progress.finish();
            println!("Restored snapshot");
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            progress.abandon();
            Ok(fail(format!("Error restoring snapshot: {error}")))
        }
    }
}

/// The progress line shared with the upload's body.
fn lock(progress: &Mutex<Progress>) -> std::sync::MutexGuard<'_, Progress> {
    progress.lock().unwrap_or_else(PoisonError::into_inner)
}

fn inspect(file: &Path) -> ExitCode {
    let bytes = match std::fs::read(file) {
        Ok(bytes) => bytes,
        Err(error) => return fail(format!("Error opening snapshot file: {error}")),
    };
    let (meta, state) = match State::from_saved(&bytes) {
        Ok(decoded) => decoded,
        Err(error) => return fail(format!("Error verifying snapshot file: {error}")),
    };
    let rows = [
        ("Index", meta.index.to_string()),
        ("Size", meta.size.to_string()),
        ("Version", meta.version.to_string()),
        ("SHA256", meta.sha256.clone()),
        ("Nodes", state.nodes().count().to_string()),
        ("Services", state.all_instances().count().to_string()),
        ("Checks", state.checks_in_state(None).len().to_string()),
        ("KV entries", state.kv_list("").len().to_string()),
        ("Sessions", state.sessions().count().to_string()),
    ];
    for (name, value) in rows {
        println!(" {name:<11}{value}");
    }
    ExitCode::SUCCESS
}
