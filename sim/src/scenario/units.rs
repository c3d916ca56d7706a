//! Quantities as people write them: a number and a unit in one string.
//!
//! The convention, used in every scenario field:
//! - durations: `"250ms"`, `"15s"`, `"2m"`, `"1.5h"`, `"7d"`, `"2w"`
//!   (units `ns`, `us`, `ms`, `s`, `m`/`min`, `h`, `d`, `w`); a bare number is
//!   rejected, because `15` could be seconds or milliseconds;
//! - rates: `"14.4/s"`, `"300/min"`, `"50/h"`, `"1000/d"`;
//! - data sizes: `"512MB"`, `"10GB"`, `"1.5TiB"` (decimal `kB MB GB TB PB`,
//!   binary `KiB MiB GiB TiB PiB`, or `B`).

use std::fmt;

use cutover_models::SimDuration;
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

/// Splits `"14.4/s"`-like text at the end of its leading number, which may
/// have an exponent (`"1e3/s"`, `"2.5E-3s"`).
fn split_number(text: &str) -> Option<(f64, &str)> {
    let text = text.trim();
    let mantissa = text
        .char_indices()
        .find(|&(_, c)| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+' || c == '_'))
        .map(|(i, _)| i)
        .unwrap_or(text.len());
    let end = mantissa + exponent_len(&text[mantissa..]);
    let number: String = text[..end].chars().filter(|&c| c != '_').collect();
    let value: f64 = number.parse().ok()?;
    Some((value, text[end..].trim()))
}

/// The length of an exponent (`e3`, `E-12`) at the start of `rest`, or 0.
fn exponent_len(rest: &str) -> usize {
    let bytes = rest.as_bytes();
    if !matches!(bytes.first(), Some(b'e' | b'E')) {
        return 0;
    }
    let sign = usize::from(matches!(bytes.get(1), Some(b'+' | b'-')));
    let digits = bytes[1 + sign..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    if digits == 0 {
        0
    } else {
        1 + sign + digits
    }
}

const DURATION_UNITS: &str = "ns, us, ms, s, m or min, h, d, w";

/// Parses a duration such as `"15s"` or `"250ms"`.
pub fn parse_duration(text: &str) -> Result<SimDuration, String> {
    let allowed = format!("a number and a unit ({DURATION_UNITS}), e.g. \"15s\" or \"250ms\"");
    let (value, unit) =
        split_number(text).ok_or_else(|| format!("`{text}` is not a duration; write {allowed}"))?;
    let nanos_per_unit: f64 = match unit {
        "ns" => 1.0,
        "us" | "µs" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        "m" | "min" => 60e9,
        "h" => 3_600e9,
        "d" => 86_400e9,
        "w" => 604_800e9,
        "" => return Err(format!("`{text}` has no unit; write {allowed}")),
        other => {
            return Err(format!(
                "unknown duration unit `{other}` in `{text}`; write {allowed}"
            ))
        }
    };
    if !value.is_finite() || value < 0.0 {
        return Err(format!("`{text}` is negative; a duration is zero or more"));
    }
    let nanos = value * nanos_per_unit;
    if nanos > u64::MAX as f64 {
        return Err(format!("`{text}` is too long (at most about 584 years)"));
    }
    Ok(SimDuration::from_nanos(nanos.round() as u64))
}

/// Parses a rate such as `"14.4/s"`; the result is per second and above zero.
pub fn parse_rate(text: &str) -> Result<f64, String> {
    let allowed = "a number above zero and a unit (/s, /min, /h, /d), e.g. \"14.4/s\"";
    let (value, unit) =
        split_number(text).ok_or_else(|| format!("`{text}` is not a rate; write {allowed}"))?;
    let per_second = match unit {
        "/s" => 1.0,
        "/min" | "/m" => 1.0 / 60.0,
        "/h" => 1.0 / 3_600.0,
        "/d" => 1.0 / 86_400.0,
        "" => return Err(format!("`{text}` has no unit; write {allowed}")),
        other => {
            return Err(format!(
                "unknown rate unit `{other}` in `{text}`; write {allowed}"
            ))
        }
    };
    if !value.is_finite() {
        return Err(format!("`{text}` is too large; write {allowed}"));
    }
    if value <= 0.0 {
        return Err(format!("`{text}` is not above zero; write {allowed}"));
    }
    Ok(value * per_second)
}

/// Parses a data size such as `"10GB"` or `"1.5TiB"` into bytes.
pub fn parse_bytes(text: &str) -> Result<f64, String> {
    let allowed =
        "a number and a unit (B, kB, MB, GB, TB, PB, KiB, MiB, GiB, TiB, PiB), e.g. \"10GB\"";
    let (value, unit) =
        split_number(text).ok_or_else(|| format!("`{text}` is not a size; write {allowed}"))?;
    let bytes_per_unit = match unit {
        "B" => 1.0,
        "kB" | "KB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "TB" => 1e12,
        "PB" => 1e15,
        "KiB" => 1024.0,
        "MiB" => 1024f64.powi(2),
        "GiB" => 1024f64.powi(3),
        "TiB" => 1024f64.powi(4),
        "PiB" => 1024f64.powi(5),
        "" => return Err(format!("`{text}` has no unit; write {allowed}")),
        other => {
            return Err(format!(
                "unknown size unit `{other}` in `{text}`; write {allowed}"
            ))
        }
    };
    if !value.is_finite() || value < 0.0 {
        return Err(format!("`{text}` is negative; a size is zero or more"));
    }
    let bytes = value * bytes_per_unit;
    if !bytes.is_finite() {
        return Err(format!("`{text}` is too large; allowed: a finite size"));
    }
    Ok(bytes)
}

/// Implements `Deserialize` for a newtype from a string parser, with an
/// `expecting` text that tells the user the convention.
macro_rules! from_unit_string {
    ($ty:ident, $inner:ty, $parse:path, $expecting:literal) => {
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl Visitor<'_> for V {
                    type Value = $ty;
                    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                        f.write_str($expecting)
                    }
                    fn visit_str<E: de::Error>(self, s: &str) -> Result<$ty, E> {
                        $parse(s).map($ty).map_err(E::custom)
                    }
                }
                d.deserialize_str(V)
            }
        }
    };
}

/// A duration written with its unit, e.g. `"15s"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Duration(pub SimDuration);
from_unit_string!(
    Duration,
    SimDuration,
    parse_duration,
    "a duration string with a unit, e.g. \"15s\" or \"250ms\""
);

/// A rate per second written with its unit, e.g. `"14.4/s"`; always above zero.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rate(pub f64);
from_unit_string!(
    Rate,
    f64,
    parse_rate,
    "a rate string with a unit, e.g. \"14.4/s\" or \"300/min\""
);

/// A data size in bytes written with its unit, e.g. `"10GB"`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bytes(pub f64);
from_unit_string!(
    Bytes,
    f64,
    parse_bytes,
    "a size string with a unit, e.g. \"10GB\" or \"1.5TiB\""
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("15s"), Ok(SimDuration::from_secs(15)));
        assert_eq!(parse_duration("250ms"), Ok(SimDuration::from_millis(250)));
        assert_eq!(parse_duration("1.5 h"), Ok(SimDuration::from_secs(5400)));
        assert_eq!(parse_duration("2w"), Ok(SimDuration::from_secs(1_209_600)));
        assert_eq!(parse_duration("0s"), Ok(SimDuration::ZERO));
    }

    #[test]
    fn durations_without_a_unit_are_refused() {
        let err = parse_duration("15").unwrap_err();
        assert!(err.contains("has no unit"), "{err}");
        assert!(parse_duration("15 parsecs")
            .unwrap_err()
            .contains("unknown duration unit"));
        assert!(parse_duration("-1s").unwrap_err().contains("negative"));
        assert!(parse_duration("soon")
            .unwrap_err()
            .contains("not a duration"));
    }

    #[test]
    fn rates_are_per_second_and_positive() {
        assert_eq!(parse_rate("14.4/s"), Ok(14.4));
        assert_eq!(parse_rate("300/min"), Ok(5.0));
        assert_eq!(parse_rate("7200/h"), Ok(2.0));
        assert!(parse_rate("0/s").unwrap_err().contains("not above zero"));
        assert!(parse_rate("-2/s").unwrap_err().contains("not above zero"));
        assert!(parse_rate("2").unwrap_err().contains("no unit"));
    }

    #[test]
    fn numbers_may_have_an_exponent() {
        assert_eq!(parse_rate("1e3/s"), Ok(1000.0));
        assert_eq!(parse_rate("1e308/s"), Ok(1e308));
        assert_eq!(
            parse_duration("2.5E-3s"),
            Ok(SimDuration::from_nanos(2_500_000))
        );
        assert!(parse_rate("1e/s")
            .unwrap_err()
            .contains("unknown rate unit `e/s`"));
        assert!(parse_rate("1e999/s").unwrap_err().contains("too large"));
    }

    #[test]
    fn sizes_know_decimal_and_binary_units() {
        assert_eq!(parse_bytes("10GB"), Ok(1e10));
        assert_eq!(parse_bytes("1KiB"), Ok(1024.0));
        assert_eq!(parse_bytes("1_000 B"), Ok(1000.0));
        assert!(parse_bytes("10").unwrap_err().contains("no unit"));
    }
}
