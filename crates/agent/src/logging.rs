//! The agent's own log, as Consul's agent writes it: hclog lines (text, or JSON with
//! `log_json`) on stdout and, with `log_file`, in a file rotated by size and age
//! (`log_rotate_bytes`, `log_rotate_duration`, `log_rotate_max_files`), at `log_level`,
//! which `reload` can change.
//!
//! - [`rotating_file`]: Consul's log file: names, rotation and pruning;
//! - [`output`]: the `tracing` layer that writes each event once per destination, in the
//!   line formats of [`crate::monitor::line`];
//! - [`level`]: level names, the printed filter, and [`LogLevelControl`] for `reload`.
//!
//! [`init`] installs the process's subscriber: this output behind a reloadable filter,
//! beside the monitor's layer, whose clients choose their own levels.

pub mod level;
pub mod output;
pub mod rotating_file;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::prelude::*;
use tracing_subscriber::reload;

pub use level::{LogLevelControl, invalid_level, level_filter, parse_level};
pub use rotating_file::{DEFAULT_ROTATE_DURATION, LogFileError, LogFileSettings, RotatingFile};

use crate::monitor::{LineFormat, LogHub};
use output::OutputLayer;

/// How the agent logs (`log_level`, `log_json`, `log_file` and its rotation).
#[derive(Debug, Clone)]
pub struct LogSettings {
    /// The level printed at start.
    pub level: LevelFilter,
    /// `-log-level`, when given: `reload` keeps it whatever the files say.
    pub level_flag: Option<String>,
    /// `log_json`.
    pub json: bool,
    /// `log_file`, with its rotation.
    pub file: Option<LogFileSettings>,
}

/// Installs the process's `tracing` subscriber: the agent's output at `settings.level`
/// (`RUST_LOG`, when set, chooses the filter instead, and then `reload` leaves it) and
/// `hub`'s monitor layer. Fails only when the log file cannot be opened. If the process
/// already has a subscriber, that one stays.
pub fn init(settings: LogSettings, hub: &LogHub) -> Result<LogLevelControl, LogFileError> {
    let file = settings.file.map(RotatingFile::open).transpose()?;
    let format = if settings.json {
        LineFormat::Json
    } else {
        LineFormat::Text
    };
    let from_env = EnvFilter::try_from_default_env().ok();
    let env_chosen = from_env.is_some();
    let filter = from_env.unwrap_or_else(|| level_filter(settings.level));
    let (filter, handle) = reload::Layer::new(filter);
    let _ = tracing_subscriber::registry()
        .with(OutputLayer::new(format, file).with_filter(filter))
        .with(hub.layer())
        .try_init();
    Ok(LogLevelControl::new(
        settings.level_flag,
        settings.level,
        move |level| {
            if env_chosen {
                tracing::warn!("RUST_LOG is set: its filter stays, log_level is not applied");
                return Ok(());
            }
            handle
                .reload(level_filter(level))
                .map_err(|error| error.to_string())
        },
    ))
}
