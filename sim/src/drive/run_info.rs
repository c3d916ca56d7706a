//! `run-info.json`: wall-clock facts about a run, kept out of the result
//! files so that those stay byte-identical between runs.

use std::path::Path;

use serde::Serialize;

use crate::report::OutputDir;

/// What the clock saw of one run.
#[derive(Serialize)]
pub struct RunInfo {
    cutover_version: &'static str,
    scenario_file: String,
    seed: u64,
    wall_s: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    events: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    events_per_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ticks: Option<u64>,
}

impl RunInfo {
    /// A run of `file` with `seed` that took `wall_s` seconds.
    pub fn new(file: &Path, seed: u64, wall_s: f64) -> Self {
        RunInfo {
            cutover_version: env!("CARGO_PKG_VERSION"),
            scenario_file: file.display().to_string(),
            seed,
            wall_s,
            events: None,
            events_per_s: None,
            ticks: None,
        }
    }

    /// The run processed `events` engine events.
    pub fn with_events(mut self, events: u64) -> Self {
        self.events = Some(events);
        self.events_per_s = Some(events as f64 / self.wall_s.max(1e-9));
        self
    }

    /// The run advanced in `ticks` fluid ticks.
    pub fn with_ticks(mut self, ticks: u64) -> Self {
        self.ticks = Some(ticks);
        self
    }

    /// Engine events per wall-clock second, if counted.
    pub fn events_per_s(&self) -> Option<f64> {
        self.events_per_s
    }

    /// Writes `run-info.json` into `out`.
    pub fn write(&self, out: &OutputDir) -> anyhow::Result<()> {
        out.write(
            "run-info.json",
            serde_json::to_string_pretty(self)?.as_bytes(),
        )?;
        Ok(())
    }
}
