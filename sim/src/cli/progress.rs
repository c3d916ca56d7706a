//! A progress bar, with the rate and the time left, that appears only when
//! stderr (where it is drawn) is a terminal, never in logs or pipes, and
//! by default only once a run has lasted a second. `CUTOVER_PROGRESS`
//! chooses: `auto` (the default), `always` (from the first unit done) or
//! `never`.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Shows progress towards `total` units.
pub struct Progress {
    bar: ProgressBar,
    started: Instant,
    shown: bool,
    /// How long before the bar appears; `None` while it never will (stderr
    /// not a terminal, or `CUTOVER_PROGRESS=never`).
    after: Option<Duration>,
}

/// How long a run goes before its bar appears, by default.
const SHOW_AFTER: Duration = Duration::from_secs(1);

/// How long a run goes before its bar appears, as `CUTOVER_PROGRESS`
/// says; `None`: never. An unknown value is named on stderr and the
/// default used.
fn show_after() -> Option<Duration> {
    match std::env::var("CUTOVER_PROGRESS").as_deref() {
        Err(_) | Ok("auto") => Some(SHOW_AFTER),
        Ok("always") => Some(Duration::ZERO),
        Ok("never") => None,
        Ok(other) => {
            eprintln!(
                "CUTOVER_PROGRESS: unknown value {other:?} (auto, always or never): auto used"
            );
            Some(SHOW_AFTER)
        }
    }
}

impl Progress {
    /// A hidden bar for `total` units of `unit` (e.g. "customers").
    pub fn new(total: u64, unit: &str) -> Self {
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden());
        bar.set_style(
            ProgressStyle::with_template(&format!(
                "{{bar:40}} {{pos}}/{{len}} {unit}, {{per_sec}}, {{eta}} left"
            ))
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        Progress {
            bar,
            started: Instant::now(),
            shown: false,
            after: show_after().filter(|_| std::io::stderr().is_terminal()),
        }
    }

    /// Records that `done` units are complete.
    pub fn update(&mut self, done: u64) {
        let due = self
            .after
            .is_some_and(|after| self.started.elapsed() >= after);
        if due && !self.shown {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
            self.shown = true;
        }
        self.bar.set_position(done);
    }

    /// Removes the bar.
    pub fn finish(self) {
        self.bar.finish_and_clear();
    }
}

/// A [`Progress`] that worker threads advance one unit at a time (e.g. one
/// replication each).
pub struct SharedProgress {
    progress: Mutex<Progress>,
    done: AtomicU64,
}

impl SharedProgress {
    /// A hidden bar for `total` units of `unit`.
    pub fn new(total: u64, unit: &str) -> Self {
        SharedProgress {
            progress: Mutex::new(Progress::new(total, unit)),
            done: AtomicU64::new(0),
        }
    }

    /// Records that one more unit is complete.
    pub fn tick(&self) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        if let Ok(mut p) = self.progress.lock() {
            p.update(done);
        }
    }

    /// Removes the bar.
    pub fn finish(self) {
        if let Ok(p) = self.progress.into_inner() {
            p.finish();
        }
    }
}
