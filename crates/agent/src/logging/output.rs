//! The agent's own log output: every event its filter lets through, written as one
//! hclog line (the monitor's formatting, [`crate::monitor::line`]), text or JSON
//! (`log_json`), to stdout and, with `log_file`, to the rotating file.

use std::io::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use tracing::{Event, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context;

use super::rotating_file::RotatingFile;
use crate::monitor::LineFormat;
use crate::monitor::layer::record_of;

/// Writes events to stdout and the log file.
pub struct OutputLayer {
    format: LineFormat,
    file: Option<Mutex<RotatingFile>>,
    /// Whether a failed write to the file was reported (once: the log cannot log it).
    file_failed: AtomicBool,
}

impl OutputLayer {
    /// Lines in `format`, to stdout and to `file` when given.
    pub fn new(format: LineFormat, file: Option<RotatingFile>) -> OutputLayer {
        OutputLayer {
            format,
            file: file.map(Mutex::new),
            file_failed: AtomicBool::new(false),
        }
    }

    fn write(&self, line: &[u8]) {
        // Nowhere to report a failed write to stdout (a closed pipe): the line is lost.
        let _ = std::io::stdout().lock().write_all(line);
        let Some(file) = &self.file else {
            return;
        };
        let mut file = file.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Err(error) = file.write_line(line)
            && !self.file_failed.swap(true, Ordering::Relaxed)
        {
            let _ = writeln!(
                std::io::stderr(),
                "log file {}: {error} (further failures are not reported)",
                file.path().display()
            );
        }
    }
}

impl<S: Subscriber> Layer<S> for OutputLayer {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let line = record_of(event).line(self.format);
        self.write(line.as_bytes());
    }
}
