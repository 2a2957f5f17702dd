//! `log_file` as Consul writes it (its `logging.LogFile`): the log goes to one file,
//! `consul.log` in the directory when the path ends in `/`, else the file named; it is
//! renamed to `<stem>-<unix nanoseconds><ext>` (`consul-1714557600123456789.log`) and a
//! new one begun when it holds `log_rotate_bytes` or is `log_rotate_duration` old, checked
//! before each line is written (so a file may pass the byte limit by one line). After a
//! rotation only the newest `log_rotate_max_files` rotated files are kept (0 keeps all,
//! a negative number none). The file is truncated when the agent starts, as Consul
//! truncates it.
//!
//! Neither `tracing-appender` (time-based only, `prefix.YYYY-MM-DD` names) nor
//! `file-rotate` (suffixes after the whole name: `consul.log.1`) can name files as Consul
//! does, which operators' log shippers match, so this writer is our own.
//!
//! Two deliberate differences: a path naming an existing directory without the trailing
//! `/` is taken as that directory (Consul would fail to open it), and pruning only
//! counts files whose middle part is all digits (Consul's `consul-*.log` glob would also
//! delete, say, `consul-template.log` in the same directory).

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

/// `log_rotate_duration`'s default, as Consul's.
pub const DEFAULT_ROTATE_DURATION: Duration = Duration::from_secs(24 * 60 * 60);

/// The name of the file in a directory given as `log_file`.
const DEFAULT_FILE_NAME: &str = "consul.log";

/// `log_file` and its rotation settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFileSettings {
    /// `log_file`: a file, or a directory when it ends in `/`.
    pub path: PathBuf,
    /// `log_rotate_bytes`: 0 rotates on time alone.
    pub rotate_bytes: u64,
    /// `log_rotate_duration`.
    pub rotate_duration: Duration,
    /// `log_rotate_max_files`: rotated files kept; 0 keeps all, negative none.
    pub max_files: i64,
}

impl LogFileSettings {
    /// Settings for `path` with Consul's defaults: rotated daily, every file kept.
    pub fn new(path: impl Into<PathBuf>) -> LogFileSettings {
        LogFileSettings {
            path: path.into(),
            rotate_bytes: 0,
            rotate_duration: DEFAULT_ROTATE_DURATION,
            max_files: 0,
        }
    }

    /// The directory and the name of the file being written.
    fn split(&self) -> (PathBuf, String) {
        let text = self.path.to_string_lossy();
        if text.ends_with('/') || self.path.is_dir() {
            return (self.path.clone(), DEFAULT_FILE_NAME.to_string());
        }
        let dir = self
            .path
            .parent()
            .filter(|dir| !dir.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        let name = self.path.file_name().map_or_else(
            || DEFAULT_FILE_NAME.to_string(),
            |name| name.to_string_lossy().into_owned(),
        );
        (dir, name)
    }
}

/// Why the log file could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("Failed to setup logging: {path}: {source}")]
pub struct LogFileError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// The log file being written, rotated as the module documentation says.
#[derive(Debug)]
pub struct RotatingFile {
    settings: LogFileSettings,
    dir: PathBuf,
    name: String,
    /// Rotated files are `<stem>-<nanos><extension>`; the extension is `.log` when the
    /// name has none.
    stem: String,
    extension: String,
    file: File,
    opened: Instant,
    written: u64,
}

impl RotatingFile {
    /// Opens (creating or truncating) the log file.
    pub fn open(settings: LogFileSettings) -> Result<RotatingFile, LogFileError> {
        let (dir, name) = settings.split();
        let (stem, extension) = match name.rfind('.').filter(|dot| *dot > 0) {
            Some(dot) => (name[..dot].to_string(), name[dot..].to_string()),
            None => (name.clone(), ".log".to_string()),
        };
        let path = dir.join(&name);
        let file = create(&path).map_err(|source| LogFileError {
            path: path.clone(),
            source,
        })?;
        Ok(RotatingFile {
            settings,
            dir,
            name,
            stem,
            extension,
            file,
            opened: Instant::now(),
            written: 0,
        })
    }

    /// The path of the file being written.
    pub fn path(&self) -> PathBuf {
        self.dir.join(&self.name)
    }

    /// Writes one line, rotating first if the file is full or old enough.
    pub fn write_line(&mut self, line: &[u8]) -> std::io::Result<()> {
        let full = self.settings.rotate_bytes > 0 && self.written >= self.settings.rotate_bytes;
        if full || self.opened.elapsed() >= self.settings.rotate_duration {
            self.rotate()?;
        }
        self.written += line.len() as u64;
        self.file.write_all(line)
    }

    /// Renames the current file after the time, prunes old ones, and starts a new one.
    fn rotate(&mut self) -> std::io::Result<()> {
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let rotated = self
            .dir
            .join(format!("{}-{nanos}{}", self.stem, self.extension));
        std::fs::rename(self.path(), rotated)?;
        self.prune()?;
        self.file = create(&self.path())?;
        self.opened = Instant::now();
        self.written = 0;
        Ok(())
    }

    /// Removes the oldest rotated files beyond `max_files`.
    fn prune(&self) -> std::io::Result<()> {
        if self.settings.max_files == 0 {
            return Ok(());
        }
        let mut rotated: Vec<String> = std::fs::read_dir(&self.dir)?
            .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
            .filter(|name| self.is_rotated(name))
            .collect();
        // The same number of digits until 2286, so the names sort in time order.
        rotated.sort();
        let keep = usize::try_from(self.settings.max_files.max(0)).unwrap_or(usize::MAX);
        let excess = rotated.len().saturating_sub(keep);
        for name in &rotated[..excess] {
            std::fs::remove_file(self.dir.join(name))?;
        }
        Ok(())
    }

    /// Whether `name` is one of this log's rotated files.
    fn is_rotated(&self, name: &str) -> bool {
        name.strip_prefix(&self.stem)
            .and_then(|rest| rest.strip_prefix('-'))
            .and_then(|rest| rest.strip_suffix(&self.extension))
            .is_some_and(|stamp| !stamp.is_empty() && stamp.bytes().all(|b| b.is_ascii_digit()))
    }
}

/// Creates or truncates `path`, readable by its owner and group (Consul's 0640).
fn create(path: &Path) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).truncate(true).write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o640);
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_directory_gets_consul_log_and_rotated_files_are_named_by_time() {
        let dir = tempfile::tempdir().unwrap();
        let settings = LogFileSettings {
            rotate_bytes: 10,
            ..LogFileSettings::new(format!("{}/", dir.path().display()))
        };
        let mut file = RotatingFile::open(settings).unwrap();
        assert_eq!(file.path(), dir.path().join("consul.log"));
        file.write_line(b"first line\n").unwrap();
        file.write_line(b"second\n").unwrap();
        let names = names(dir.path());
        assert_eq!(names.len(), 2, "{names:?}");
        assert_eq!(names[1], "consul.log");
        let stamp = names[0]
            .strip_prefix("consul-")
            .and_then(|rest| rest.strip_suffix(".log"))
            .unwrap();
        assert!(stamp.len() >= 19 && stamp.bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(
            std::fs::read_to_string(dir.path().join(&names[0])).unwrap(),
            "first line\n"
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("consul.log")).unwrap(),
            "second\n"
        );
    }

    #[test]
    fn max_files_keeps_the_newest_and_minus_one_keeps_none() {
        for (max_files, kept) in [(2, 2), (-1, 0), (0, 5)] {
            let dir = tempfile::tempdir().unwrap();
            // Not this log's: never pruned.
            std::fs::write(dir.path().join("agent-template.log"), "x").unwrap();
            let settings = LogFileSettings {
                rotate_bytes: 1,
                max_files,
                ..LogFileSettings::new(dir.path().join("agent"))
            };
            let mut file = RotatingFile::open(settings).unwrap();
            for n in 0..6 {
                file.write_line(format!("{n}\n").as_bytes()).unwrap();
            }
            let names = names(dir.path());
            let rotated: Vec<&String> = names
                .iter()
                .filter(|name| name.starts_with("agent-") && *name != "agent-template.log")
                .collect();
            assert_eq!(rotated.len(), kept, "{max_files}: {names:?}");
            assert!(names.contains(&"agent".to_string()), "{names:?}");
            assert!(names.contains(&"agent-template.log".to_string()));
            if kept == 2 {
                // The two newest: lines 3 and 4 (5 is in the current file).
                let texts: Vec<String> = rotated
                    .iter()
                    .map(|name| std::fs::read_to_string(dir.path().join(name)).unwrap())
                    .collect();
                assert_eq!(texts, ["3\n", "4\n"]);
            }
        }
    }

    #[test]
    fn old_files_rotate_on_the_next_line() {
        let dir = tempfile::tempdir().unwrap();
        let settings = LogFileSettings {
            rotate_duration: Duration::from_millis(20),
            ..LogFileSettings::new(dir.path().join("x.txt"))
        };
        let mut file = RotatingFile::open(settings).unwrap();
        file.write_line(b"a\n").unwrap();
        file.write_line(b"b\n").unwrap();
        assert_eq!(names(dir.path()), ["x.txt"]);
        std::thread::sleep(Duration::from_millis(30));
        file.write_line(b"c\n").unwrap();
        let names = names(dir.path());
        assert_eq!(names.len(), 2, "{names:?}");
        assert!(names[0].starts_with("x-") && names[0].ends_with(".txt"));
        assert_eq!(
            std::fs::read_to_string(dir.path().join("x.txt")).unwrap(),
            "c\n"
        );
    }

    #[test]
    fn opening_truncates_and_a_missing_directory_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("consul.log"), "old").unwrap();
        let file = RotatingFile::open(LogFileSettings::new(dir.path())).unwrap();
        assert_eq!(file.path(), dir.path().join("consul.log"));
        assert_eq!(
            std::fs::read_to_string(dir.path().join("consul.log")).unwrap(),
            ""
        );
        let error = RotatingFile::open(LogFileSettings::new(dir.path().join("no/such/file.log")))
            .unwrap_err();
        assert!(
            error.to_string().starts_with("Failed to setup logging: "),
            "{error}"
        );
    }
}
