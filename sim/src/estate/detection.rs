//! The estate's `[detection]` section: how the rest of the network notices
//! that a site has failed, by each method, and which method a crash meets
//! unless an experiment says otherwise.
//!
//! ```toml
//! [detection]
//! crash = "hold-timer"          # "hold-timer" | "bfd" | "link-down"
//! hold_time = "90s"
//! keepalive = "30s"
//! bfd_interval = "300ms"
//! bfd_multiplier = 3
//! link_down_delay = "10ms"
//! health_interval = "5s"        # the health check behind "service-down"
//! health_fast_interval = "1s"
//! health_timeout = "5s"         # a probe of a hanging service fails after this...
//! health_refused = false        # ...or at once: its process is gone, connections refused
//! health_fall = 3
//! health_rise = 3
//! ```

use cutover_models::failure::Detection;
use cutover_models::SimDuration;
use serde::Deserialize;

use crate::scenario::units::Duration;
use crate::scenario::{InputError, Source};

/// `[detection]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDetection {
    crash: Option<String>,
    hold_time: Option<Duration>,
    keepalive: Option<Duration>,
    bfd_interval: Option<Duration>,
    bfd_multiplier: Option<i64>,
    link_down_delay: Option<Duration>,
    health_interval: Option<Duration>,
    health_fast_interval: Option<Duration>,
    health_timeout: Option<Duration>,
    health_refused: Option<bool>,
    health_fall: Option<i64>,
    health_rise: Option<i64>,
}

/// A way of noticing a crash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrashDetection {
    /// BGP hold timer.
    HoldTimer,
    /// BFD.
    Bfd,
    /// The interface going down.
    LinkDown,
}

impl CrashDetection {
    /// The names a file may use, for "allowed:" messages.
    pub const NAMES: &'static str = "\"hold-timer\", \"bfd\", \"link-down\"";

    /// Reads a method's name.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "hold-timer" => Some(CrashDetection::HoldTimer),
            "bfd" => Some(CrashDetection::Bfd),
            "link-down" => Some(CrashDetection::LinkDown),
            _ => None,
        }
    }
}

/// Every detection method's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DetectionSettings {
    /// How a crash is noticed unless an experiment says otherwise.
    pub crash: CrashDetection,
    /// The hold timer.
    pub hold_timer: Detection,
    /// BFD.
    pub bfd: Detection,
    /// Link down.
    pub link_down: Detection,
    /// The health check that withdraws a site whose service died.
    pub health_check: Detection,
}

impl DetectionSettings {
    /// The detection of a crash noticed by `method`.
    pub fn crash(&self, method: CrashDetection) -> Detection {
        match method {
            CrashDetection::HoldTimer => self.hold_timer,
            CrashDetection::Bfd => self.bfd,
            CrashDetection::LinkDown => self.link_down,
        }
    }
}

fn above_zero(
    source: &Source,
    field: &str,
    d: Option<Duration>,
    default: SimDuration,
) -> Result<SimDuration, InputError> {
    let v = d.map_or(default, |d| d.0);
    if v < SimDuration::from_millis(1) {
        Err(source.field_error(
            &format!("detection.{field}"),
            format!("{v}; allowed: at least \"1ms\""),
        ))
    } else {
        Ok(v)
    }
}

fn times(source: &Source, field: &str, v: Option<i64>, default: u32) -> Result<u32, InputError> {
    let v = v.unwrap_or(i64::from(default));
    if (1..=255).contains(&v) {
        Ok(v as u32)
    } else {
        Err(source.field_error(
            &format!("detection.{field}"),
            format!("{v}; allowed: a whole number from 1 to 255"),
        ))
    }
}

/// Validates `[detection]`.
pub(crate) fn validate(
    source: &Source,
    raw: Option<&RawDetection>,
) -> Result<DetectionSettings, InputError> {
    let empty = RawDetection::default();
    let r = raw.unwrap_or(&empty);
    let crash = match r.crash.as_deref() {
        None => CrashDetection::HoldTimer,
        Some(name) => CrashDetection::parse(name).ok_or_else(|| {
            source.field_error(
                "detection.crash",
                format!("`{name}`; allowed: {}", CrashDetection::NAMES),
            )
        })?,
    };
    let hold = above_zero(source, "hold_time", r.hold_time, Detection::DEFAULT_HOLD)?;
    let keepalive = above_zero(
        source,
        "keepalive",
        r.keepalive,
        Detection::DEFAULT_KEEPALIVE,
    )?;
    if keepalive > hold {
        return Err(source.field_error(
            "detection.keepalive",
            "must be no longer than hold_time (RFC 4271 suggests a third of it)",
        ));
    }
    let health_interval = above_zero(
        source,
        "health_interval",
        r.health_interval,
        Detection::DEFAULT_HEALTH_INTERVAL,
    )?;
    let fast = above_zero(
        source,
        "health_fast_interval",
        r.health_fast_interval,
        Detection::DEFAULT_HEALTH_FAST_INTERVAL,
    )?;
    Ok(DetectionSettings {
        crash,
        hold_timer: Detection::HoldTimer { hold, keepalive },
        bfd: Detection::Bfd {
            interval: above_zero(
                source,
                "bfd_interval",
                r.bfd_interval,
                Detection::DEFAULT_BFD_INTERVAL,
            )?,
            multiplier: times(
                source,
                "bfd_multiplier",
                r.bfd_multiplier,
                Detection::DEFAULT_BFD_MULTIPLIER,
            )?,
        },
        link_down: Detection::LinkDown {
            delay: above_zero(
                source,
                "link_down_delay",
                r.link_down_delay,
                Detection::DEFAULT_LINK_DOWN_DELAY,
            )?,
        },
        health_check: Detection::HealthCheck {
            interval: health_interval,
            timeout: above_zero(
                source,
                "health_timeout",
                r.health_timeout,
                Detection::DEFAULT_HEALTH_TIMEOUT,
            )?,
            refused: r.health_refused.unwrap_or(false),
            fall: times(
                source,
                "health_fall",
                r.health_fall,
                Detection::DEFAULT_HEALTH_FALL,
            )?,
            rise: times(
                source,
                "health_rise",
                r.health_rise,
                Detection::DEFAULT_HEALTH_RISE,
            )?,
            fast_interval: Some(fast),
        },
    })
}
