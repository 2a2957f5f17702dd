//! The level the agent prints at: Consul's level names, the filter built from one, and
//! [`LogLevelControl`], which changes it while the agent runs (`reload`).

use std::sync::{Arc, Mutex};

use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::LevelFilter;

/// The text of an invalid level, as Consul words it.
pub fn invalid_level(level: &str) -> String {
    format!("Invalid log level: {level}. Valid log levels are: [TRACE DEBUG INFO WARN ERR]")
}

/// Consul's level names in any case (`err` and `error` both mean error), plus `warning`,
/// `off` and an empty text (info).
pub fn parse_level(level: &str) -> Option<LevelFilter> {
    Some(match level.trim().to_ascii_lowercase().as_str() {
        "trace" => LevelFilter::TRACE,
        "debug" => LevelFilter::DEBUG,
        "info" | "" => LevelFilter::INFO,
        "warn" | "warning" => LevelFilter::WARN,
        "err" | "error" => LevelFilter::ERROR,
        "off" => LevelFilter::OFF,
        _ => return None,
    })
}

/// The printed log's filter at `level`: openraft's own lines are capped at `warn`, as
/// its `info` lines are about internals Consul users never see.
pub fn level_filter(level: LevelFilter) -> EnvFilter {
    let openraft = level.min(LevelFilter::WARN);
    EnvFilter::default()
        .add_directive(level.into())
        .add_directive(
            format!("openraft={openraft}")
                .parse()
                .expect("a valid directive"),
        )
}

type Apply = dyn Fn(LevelFilter) -> Result<(), String> + Send + Sync;

/// Changes the printed level at run time. `reload` reads `log_level` again: the
/// `-log-level` flag, when given, still wins over the files, as in Consul. A control
/// made by [`LogLevelControl::default`] (an agent whose process installed no output of
/// [`super::init`]) changes nothing.
#[derive(Clone, Default)]
pub struct LogLevelControl {
    /// `-log-level`, which configuration files cannot override.
    flag: Option<String>,
    apply: Option<Arc<Apply>>,
    current: Arc<Mutex<Option<LevelFilter>>>,
}

impl std::fmt::Debug for LogLevelControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogLevelControl")
            .field("flag", &self.flag)
            .field("current", &self.current())
            .finish_non_exhaustive()
    }
}

impl LogLevelControl {
    /// A control that calls `apply` with each new level; `initial` is the level printed now.
    pub(super) fn new(
        flag: Option<String>,
        initial: LevelFilter,
        apply: impl Fn(LevelFilter) -> Result<(), String> + Send + Sync + 'static,
    ) -> LogLevelControl {
        LogLevelControl {
            flag,
            apply: Some(Arc::new(apply)),
            current: Arc::new(Mutex::new(Some(initial))),
        }
    }

    /// The level printed now (`None` for a control that changes nothing).
    pub fn current(&self) -> Option<LevelFilter> {
        *self
            .current
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The level `reload` asks for, given the files' `log_level`: the flag, else the
    /// files', else info. An unknown name is Consul's error text.
    pub fn wanted(&self, files: Option<&str>) -> Result<LevelFilter, String> {
        let text = self.flag.as_deref().or(files).unwrap_or("info");
        parse_level(text).ok_or_else(|| invalid_level(text))
    }

    /// Prints at `level` from now on; `true` when that is a change.
    pub fn set(&self, level: LevelFilter) -> Result<bool, String> {
        let Some(apply) = &self.apply else {
            return Ok(false);
        };
        let mut current = self
            .current
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if *current == Some(level) {
            return Ok(false);
        }
        apply(level)?;
        *current = Some(level);
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_as_consul_names_them() {
        assert_eq!(parse_level("INFO"), Some(LevelFilter::INFO));
        assert_eq!(parse_level("err"), Some(LevelFilter::ERROR));
        assert_eq!(parse_level("Trace"), Some(LevelFilter::TRACE));
        assert_eq!(parse_level("warn"), Some(LevelFilter::WARN));
        assert_eq!(parse_level("loud"), None);
    }

    #[test]
    fn the_flag_wins_over_files_and_changes_are_applied_once() {
        let applied = Arc::new(Mutex::new(Vec::new()));
        let seen = applied.clone();
        let control = LogLevelControl::new(None, LevelFilter::INFO, move |level| {
            seen.lock().unwrap().push(level);
            Ok(())
        });
        assert_eq!(control.wanted(None), Ok(LevelFilter::INFO));
        assert_eq!(control.wanted(Some("debug")), Ok(LevelFilter::DEBUG));
        assert_eq!(
            control.wanted(Some("loud")),
            Err(
                "Invalid log level: loud. Valid log levels are: [TRACE DEBUG INFO WARN ERR]"
                    .to_string()
            )
        );
        assert_eq!(control.set(LevelFilter::INFO), Ok(false));
        assert_eq!(control.set(LevelFilter::DEBUG), Ok(true));
        assert_eq!(control.current(), Some(LevelFilter::DEBUG));
        assert_eq!(*applied.lock().unwrap(), [LevelFilter::DEBUG]);

        let flagged = LogLevelControl {
            flag: Some("warn".to_string()),
            ..control
        };
        assert_eq!(flagged.wanted(Some("debug")), Ok(LevelFilter::WARN));

        let inert = LogLevelControl::default();
        assert_eq!(inert.set(LevelFilter::TRACE), Ok(false));
        assert_eq!(inert.current(), None);
    }
}
