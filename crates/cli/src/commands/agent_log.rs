//! The agent's logging flags, as Consul names them (`-log-json`, `-log-file`,
//! `-log-rotate-bytes`, `-log-rotate-duration`, `-log-rotate-max-files`), over the same
//! keys of the configuration files. `-log-level` stays with the other agent flags.

use std::time::Duration;

use clap::Args;
use proconsul_agent::logging::{DEFAULT_ROTATE_DURATION, LogFileSettings, LogSettings};
use proconsul_config::FileConfig;
use tracing_subscriber::filter::LevelFilter;

/// Flags override the files' `log_*` keys.
#[derive(Debug, Args)]
pub struct LogArgs {
    /// Write the log as JSON lines (hclog's @level, @message, @module, @timestamp).
    #[arg(long = "log-json")]
    log_json: bool,
    /// Also write the log to this file, or to consul.log in this directory (ending in /).
    #[arg(long = "log-file", value_name = "PATH")]
    log_file: Option<String>,
    /// Rotate the log file once it holds this many bytes [default: no limit].
    #[arg(long = "log-rotate-bytes", value_name = "BYTES")]
    log_rotate_bytes: Option<u64>,
    /// Rotate the log file this long after it was opened [default: 24h].
    #[arg(long = "log-rotate-duration", value_name = "DURATION", value_parser = super::go_duration)]
    log_rotate_duration: Option<Duration>,
    /// Rotated log files kept: 0 keeps all, -1 none [default: 0].
    #[arg(
        long = "log-rotate-max-files",
        value_name = "N",
        allow_hyphen_values = true
    )]
    log_rotate_max_files: Option<i64>,
}

impl LogArgs {
    /// The agent's logging: flags over files over Consul's defaults, at `level` (already
    /// chosen from `-log-level` and the files).
    pub fn settings(
        &self,
        files: &FileConfig,
        level: LevelFilter,
        level_flag: Option<String>,
    ) -> LogSettings {
        let path = self
            .log_file
            .clone()
            .or_else(|| files.log_file.clone())
            .filter(|path| !path.is_empty());
        let file = path.map(|path| LogFileSettings {
            rotate_bytes: self
                .log_rotate_bytes
                .or(files.log_rotate_bytes)
                .unwrap_or(0),
            // Consul: zero means the default.
            rotate_duration: self
                .log_rotate_duration
                .or(files.log_rotate_duration.map(|d| d.0))
                .filter(|duration| !duration.is_zero())
                .unwrap_or(DEFAULT_ROTATE_DURATION),
            max_files: self
                .log_rotate_max_files
                .or(files.log_rotate_max_files)
                .unwrap_or(0),
            ..LogFileSettings::new(path)
        });
        LogSettings {
            level,
            level_flag,
            json: self.log_json || files.log_json == Some(true),
            file,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Wrapper {
        #[command(flatten)]
        log: LogArgs,
    }

    fn settings(args: &[&str], files: serde_json::Value) -> LogSettings {
        let files: FileConfig = serde_json::from_value(files).unwrap();
        Wrapper::try_parse_from(std::iter::once("agent").chain(args.iter().copied()))
            .unwrap()
            .log
            .settings(&files, LevelFilter::INFO, None)
    }

    #[test]
    fn flags_over_files_over_consuls_defaults() {
        let none = settings(&[], serde_json::json!({}));
        assert!(!none.json);
        assert_eq!(none.file, None);

        let files = serde_json::json!({
            "log_json": true, "log_file": "/var/log/consul/", "log_rotate_bytes": 100,
            "log_rotate_max_files": 3,
        });
        let from_files = settings(&[], files.clone());
        assert!(from_files.json);
        let file = from_files.file.unwrap();
        assert_eq!(file.path.to_str(), Some("/var/log/consul/"));
        assert_eq!(file.rotate_bytes, 100);
        assert_eq!(file.rotate_duration, DEFAULT_ROTATE_DURATION);
        assert_eq!(file.max_files, 3);

        let flags = settings(
            &[
                "--log-file=/tmp/a.log",
                "--log-rotate-bytes=5",
                "--log-rotate-duration=1h",
                "--log-rotate-max-files=-1",
            ],
            files,
        )
        .file
        .unwrap();
        assert_eq!(flags.path.to_str(), Some("/tmp/a.log"));
        assert_eq!(flags.rotate_bytes, 5);
        assert_eq!(flags.rotate_duration, Duration::from_secs(3600));
        assert_eq!(flags.max_files, -1);
    }
}
