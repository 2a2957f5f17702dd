//! Figures kept for the plots: `section,label,x,value` lines appended to a CSV file that
//! `bench/plot.py` turns into PNGs.

use std::io::Write;
use std::path::PathBuf;

pub struct PlotData {
    path: Option<PathBuf>,
    rows: Vec<String>,
}

impl PlotData {
    pub fn new(path: Option<PathBuf>) -> PlotData {
        PlotData {
            path,
            rows: Vec::new(),
        }
    }

    pub fn add(&mut self, section: &str, label: &str, x: usize, value: f64) {
        self.rows.push(format!(
            "{section},{},{x},{value:.1}",
            label.replace(',', "")
        ));
    }

    /// Appends the figures to the CSV file, if one was given.
    pub fn flush(&mut self) -> anyhow::Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        for row in self.rows.drain(..) {
            writeln!(file, "{row}")?;
        }
        Ok(())
    }
}
