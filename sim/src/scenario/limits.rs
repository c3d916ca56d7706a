//! How much work a scenario may ask for.
//!
//! A value that would exhaust memory or keep a run going for hours is
//! refused when the file is validated, with the estimate and the limit, so
//! that `cutover validate` catches it and a run never starts on it. The
//! checks here are shared by every loader: each names the field, the
//! estimate (rows, events, steps, items) and the limit.

use cutover_models::SimDuration;

use super::{InputError, Source};

/// Most rows a time series (`timeline.csv`) may hold: 10^7. A row is about
/// 100 bytes of CSV, so this is about 1 GB, already ten times what a
/// spreadsheet opens (1,048,576 rows).
pub const MAX_ROWS: f64 = 1e7;
/// Most engine events a run may be expected to process: 2 x 10^10, what the
/// largest M/M/c run accepted ([`super::MAX_CUSTOMERS`], two events per
/// customer) processes in about ten minutes.
pub const MAX_EVENTS: f64 = 2e10;
/// Most fixed steps (ticks, syncs, scrapes, checks, summed over sites) a run
/// may take: 10^8, six thousand times the bundled 30-minute nine-site spike
/// at a one-second tick (16,200 site-ticks).
pub const MAX_STEPS: f64 = 1e8;
/// Most characters in a name (of a site, a price-book item, a scenario):
/// names are repeated on every row of the CSVs and charts, so a long one
/// multiplies; 200 is more than any name needs.
pub const MAX_NAME_CHARS: usize = 200;
/// Most characters in any string of an input file: 64 KiB, enough for the
/// longest description or source note.
pub const MAX_TEXT_BYTES: usize = 64 * 1024;
/// Most replications `--replications` accepts: 10^6. Each is a full run
/// and keeps a row of figures for the quantiles; beyond 10^6 the
/// Monte Carlo error of a P10 or P90 (about 0.03 % of the range) is far
/// below the uncertainty of any input.
pub const MAX_REPLICATIONS: u64 = 1_000_000;
/// Most worker threads `--threads` accepts: 1024, above the cores of any
/// machine cutover runs on; each thread reserves its own stack.
pub const MAX_THREADS: usize = 1024;

/// How many intervals of `interval` fit in `span` (an estimate, in f64 so
/// that nothing overflows).
pub fn intervals(span: SimDuration, interval: SimDuration) -> f64 {
    span.as_nanos() as f64 / (interval.as_nanos().max(1)) as f64
}

/// A number in words a user reads quickly: `1.7e8` or `16200`.
fn shown(n: f64) -> String {
    if n < 1e6 {
        format!("{n:.0}")
    } else {
        format!("{n:.1e}")
    }
}

/// Refuses a time series of `span` at one row per `interval` above
/// [`MAX_ROWS`]; the error is about `field` (the field to change).
pub fn check_rows(
    source: &Source,
    field: &str,
    span: SimDuration,
    interval: SimDuration,
) -> Result<(), InputError> {
    let rows = intervals(span, interval);
    if rows <= MAX_ROWS {
        return Ok(());
    }
    Err(source.field_error(
        field,
        format!(
            "{span} at one row per {interval} is {} timeline rows; allowed: at most {} rows \
             (about 1 GB): lengthen the interval or shorten the run",
            shown(rows),
            shown(MAX_ROWS)
        ),
    ))
}

/// Refuses a run of `span` that takes a step every `step` (times `per_step`
/// parallel things, e.g. sites) above [`MAX_STEPS`].
pub fn check_steps(
    source: &Source,
    field: &str,
    span: SimDuration,
    step: SimDuration,
    per_step: usize,
) -> Result<(), InputError> {
    let steps = intervals(span, step) * per_step.max(1) as f64;
    if steps <= MAX_STEPS {
        return Ok(());
    }
    Err(source.field_error(
        field,
        format!(
            "{step} over {span}{} is {} steps, which would run for hours; allowed: at most {} steps: \
             lengthen the period or shorten the run",
            if per_step > 1 {
                format!(" at {per_step} sites")
            } else {
                String::new()
            },
            shown(steps),
            shown(MAX_STEPS)
        ),
    ))
}

/// Refuses an estimate of `events` engine events above [`MAX_EVENTS`];
/// `how` says how the estimate was made.
pub fn check_events(
    source: &Source,
    field: &str,
    events: f64,
    how: &str,
) -> Result<(), InputError> {
    if events <= MAX_EVENTS {
        return Ok(());
    }
    Err(source.field_error(
        field,
        format!(
            "about {} events ({how}), which would run for hours; allowed: at most {} events",
            shown(events),
            shown(MAX_EVENTS)
        ),
    ))
}

/// Refuses a count above `max`; `why` says what the limit protects.
pub fn check_count(
    source: &Source,
    field: &str,
    value: f64,
    max: f64,
    why: &str,
) -> Result<(), InputError> {
    if value <= max {
        return Ok(());
    }
    Err(source.field_error(
        field,
        format!("{}; allowed: at most {} ({why})", shown(value), shown(max)),
    ))
}

/// Refuses a name longer than [`MAX_NAME_CHARS`] characters.
pub fn check_name(source: &Source, field: &str, name: &str) -> Result<(), InputError> {
    let chars = name.chars().count();
    if chars <= MAX_NAME_CHARS {
        return Ok(());
    }
    Err(source.field_error(
        field,
        format!(
            "a name of {chars} characters; allowed: at most {MAX_NAME_CHARS} (names repeat on every row of the outputs)"
        ),
    ))
}

/// Parses `--replications`: a whole number from 1 to [`MAX_REPLICATIONS`].
pub fn parse_replications(text: &str) -> Result<u64, String> {
    let allowed = format!("allowed: a whole number from 1 to {MAX_REPLICATIONS}");
    match text.parse::<u64>() {
        Ok(n) if (1..=MAX_REPLICATIONS).contains(&n) => Ok(n),
        _ => Err(allowed),
    }
}

/// Parses `--threads`: a whole number from 1 to [`MAX_THREADS`].
pub fn parse_threads(text: &str) -> Result<usize, String> {
    let allowed = format!("allowed: a whole number from 1 to {MAX_THREADS}");
    match text.parse::<usize>() {
        Ok(n) if (1..=MAX_THREADS).contains(&n) => Ok(n),
        _ => Err(allowed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn source() -> Source {
        Source::from_text(Path::new("f.toml"), "[a]\nx = 1\n".to_string())
    }

    #[test]
    fn rows_are_counted_and_refused_above_the_limit() {
        let day = SimDuration::from_secs(86_400);
        assert!(check_rows(&source(), "a.x", day, SimDuration::from_secs(1)).is_ok());
        let err = check_rows(&source(), "a.x", day, SimDuration::from_nanos(1))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("f.toml:2:5: field `a.x`: "), "{err}");
        assert!(
            err.contains("is 8.6e13 timeline rows; allowed: at most 1.0e7 rows"),
            "{err}"
        );
    }

    #[test]
    fn steps_count_every_site() {
        let hour = SimDuration::from_secs(3_600);
        let ms = SimDuration::from_millis(1);
        assert!(check_steps(&source(), "a.x", hour, ms, 9).is_ok());
        let err = check_steps(&source(), "a.x", hour, ms, 100).unwrap_err();
        assert!(
            err.to_string().contains("at 100 sites is 3.6e8 steps"),
            "{err}"
        );
    }

    #[test]
    fn counts_names_and_flags_have_limits() {
        assert!(check_count(&source(), "a.x", 10.0, 10.0, "memory").is_ok());
        let err = check_count(&source(), "a.x", 1e9, 1e6, "memory").unwrap_err();
        assert!(err
            .to_string()
            .ends_with("1.0e9; allowed: at most 1.0e6 (memory)"));
        assert!(check_events(&source(), "a.x", 3e10, "x").is_err());
        assert!(check_name(&source(), "a.x", &"n".repeat(200)).is_ok());
        assert!(check_name(&source(), "a.x", &"n".repeat(201)).is_err());
        assert_eq!(parse_replications("1000"), Ok(1000));
        assert!(parse_replications("0").is_err());
        assert!(parse_replications("1000000000").is_err());
        assert_eq!(parse_threads("4"), Ok(4));
        assert!(parse_threads("0").is_err() && parse_threads("1000000").is_err());
    }
}
