//! An experiment's `[[failures]]`: what breaks, where and when, and how the
//! network notices.
//!
//! ```toml
//! [[failures]]
//! site = "ams1"
//! at = "2m50s"
//! kind = "crash"           # "crash" | "shutdown" | "service-down"
//! detection = "bfd"        # crash: "hold-timer" | "bfd" | "link-down"
//!                          # (default: the estate's [detection].crash)
//! drain = "5s"             # shutdown: from the withdrawal to power-off
//! ```
//!
//! The detectors' settings (hold time, BFD interval, health check) are the
//! estate's `[detection]`.

use cutover_models::failure::Detection;
use cutover_models::SimDuration;
use serde::Deserialize;

use crate::estate::{CrashDetection, Estate};
use crate::scenario::units::Duration;
use crate::scenario::{InputError, Source};

/// Default time between a clean shutdown's withdrawal and the node going
/// dark: 5 s, the story's "withdrawn within 5 s" before the node stops.
pub const DEFAULT_DRAIN: SimDuration = SimDuration::from_secs(5);

/// `[[failures]]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFailure {
    site: String,
    at: Duration,
    kind: String,
    detection: Option<String>,
    drain: Option<Duration>,
}

/// How a site fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The operator shuts the node down: the site withdraws at once and the
    /// node stops after `drain`; requests in flight at power-off are reset.
    Shutdown {
        /// Time between the withdrawal and the node stopping.
        drain: SimDuration,
    },
    /// The node loses power; its neighbours notice by `detection` and drop
    /// the session; requests in flight are reset.
    Crash(Detection),
    /// The service dies but the router keeps announcing until `detection`
    /// (a health check) withdraws the route.
    ServiceDown(Detection),
}

/// A failure to inject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failure {
    /// Index of the site that fails.
    pub site: usize,
    /// When.
    pub at: SimDuration,
    /// How.
    pub kind: FailureKind,
}

impl std::fmt::Display for FailureKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FailureKind::Shutdown { drain } => {
                write!(f, "clean shutdown (node stops {drain} after withdrawing)")
            }
            FailureKind::Crash(d) => write!(f, "crash detected by {d}"),
            FailureKind::ServiceDown(d) => write!(f, "service down, withdrawn by {d}"),
        }
    }
}

/// Validates failure `i` against the estate (after the experiment's site
/// changes).
pub(crate) fn validate(
    source: &Source,
    i: usize,
    raw: &RawFailure,
    estate: &Estate,
    duration: SimDuration,
) -> Result<Failure, InputError> {
    let at = format!("failures[{i}]");
    let site = estate.site_index(&raw.site).ok_or_else(|| {
        source.field_error(
            &format!("{at}.site"),
            format!(
                "unknown site `{}`; allowed: {}",
                raw.site,
                estate.site_tags()
            ),
        )
    })?;
    if raw.at.0 >= duration {
        return Err(source.field_error(
            &format!("{at}.at"),
            format!(
                "{} is not before the end of the run ({duration}); allowed: a time within experiment.duration",
                raw.at.0
            ),
        ));
    }
    let misplaced = |field: &str, kinds: &str| {
        source.field_error(
            &format!("{at}.{field}"),
            format!(
                "applies to kind {kinds} only; remove it for kind `{}`",
                raw.kind
            ),
        )
    };
    let kind = match raw.kind.as_str() {
        "shutdown" => {
            if raw.detection.is_some() {
                return Err(misplaced("detection", "\"crash\""));
            }
            FailureKind::Shutdown {
                drain: raw.drain.map_or(DEFAULT_DRAIN, |d| d.0),
            }
        }
        "crash" => {
            if raw.drain.is_some() {
                return Err(misplaced("drain", "\"shutdown\""));
            }
            let method = match raw.detection.as_deref() {
                None => estate.detection.crash,
                Some(name) => CrashDetection::parse(name).ok_or_else(|| {
                    source.field_error(
                        &format!("{at}.detection"),
                        format!("`{name}`; allowed: {}", CrashDetection::NAMES),
                    )
                })?,
            };
            FailureKind::Crash(estate.detection.crash(method))
        }
        "service-down" => {
            if raw.drain.is_some() {
                return Err(misplaced("drain", "\"shutdown\""));
            }
            if raw.detection.is_some() {
                return Err(misplaced(
                    "detection",
                    "\"crash\" (a dead service is found by the estate's health check)",
                ));
            }
            FailureKind::ServiceDown(estate.detection.health_check)
        }
        other => {
            return Err(source.field_error(
                &format!("{at}.kind"),
                format!("`{other}`; allowed: \"crash\", \"shutdown\", \"service-down\""),
            ))
        }
    };
    Ok(Failure {
        site,
        at: raw.at.0,
        kind,
    })
}
