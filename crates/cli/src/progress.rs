//! A progress line on stderr for long transfers (`snapshot save` and `restore`,
//! `debug`): the bytes moved so far and the time taken, rewritten in place with `\r`
//! at most ten times a second, then a summary line. Only when stderr is a terminal:
//! otherwise nothing is printed, so scripts and tests see what Consul prints.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// How often the line is redrawn at most.
const REDRAW_EVERY: Duration = Duration::from_millis(100);

/// One transfer's progress line.
#[derive(Debug)]
pub struct Progress {
    /// What is being done (`Saving snapshot`).
    label: &'static str,
    /// False when stderr is not a terminal: nothing is drawn.
    shown: bool,
    started: Instant,
    bytes: u64,
    drawn_at: Option<Instant>,
}

impl Progress {
    /// A progress line for `label`, shown if stderr is a terminal.
    pub fn start(label: &'static str) -> Progress {
        Progress {
            label,
            shown: std::io::stderr().is_terminal(),
            started: Instant::now(),
            bytes: 0,
            drawn_at: None,
        }
    }

    /// Counts `bytes` more, redrawing the line if it is due.
    pub fn add(&mut self, bytes: u64) {
        self.bytes += bytes;
        if !self.shown || self.drawn_at.is_some_and(|at| at.elapsed() < REDRAW_EVERY) {
            return;
        }
        self.drawn_at = Some(Instant::now());
        eprint!(
            "\r\x1b[K{}",
            line(self.label, self.bytes, self.started.elapsed())
        );
    }

    /// Replaces the line with its summary (the total, the time, the rate).
    pub fn finish(&mut self) {
        if self.shown {
            eprintln!(
                "\r\x1b[K{}",
                summary(self.label, self.bytes, self.started.elapsed())
            );
            self.shown = false;
        }
    }

    /// Clears the line without a summary (the transfer failed; its error follows).
    pub fn abandon(&mut self) {
        if self.shown {
            eprint!("\r\x1b[K");
            self.shown = false;
        }
    }
}

impl Drop for Progress {
    /// A line left drawn (an early return) is cleared, so later output starts clean.
    fn drop(&mut self) {
        self.abandon();
    }
}

/// `Saving snapshot: 12.5 MiB, 3.2s`.
pub fn line(label: &str, bytes: u64, elapsed: Duration) -> String {
    format!("{label}: {}, {:.1}s", size(bytes), elapsed.as_secs_f64())
}

/// `Saving snapshot: 12.5 MiB in 3.2s (3.9 MiB/s)`.
pub fn summary(label: &str, bytes: u64, elapsed: Duration) -> String {
    let seconds = elapsed.as_secs_f64();
    let rate = if seconds > 0.0 {
        bytes as f64 / seconds
    } else {
        0.0
    };
    format!(
        "{label}: {} in {seconds:.1}s ({}/s)",
        size(bytes),
        size(rate as u64)
    )
}

/// A byte count in binary units, one decimal from KiB on.
pub fn size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_say_how_much_and_how_long() {
        assert_eq!(size(0), "0 B");
        assert_eq!(size(1023), "1023 B");
        assert_eq!(size(1536), "1.5 KiB");
        assert_eq!(size(13_107_200), "12.5 MiB");
        assert_eq!(size(3 << 30), "3.0 GiB");
        let elapsed = Duration::from_millis(3200);
        assert_eq!(
            line("Saving snapshot", 13_107_200, elapsed),
            "Saving snapshot: 12.5 MiB, 3.2s"
        );
        assert_eq!(
            summary("Saving snapshot", 13_107_200, elapsed),
            "Saving snapshot: 12.5 MiB in 3.2s (3.9 MiB/s)"
        );
        assert_eq!(
            summary("Restoring snapshot", 10, Duration::ZERO),
            "Restoring snapshot: 10 B in 0.0s (0 B/s)"
        );
    }
}
