//! How figures read in every report (terminal and HTML): money with its
//! currency and thousands separators, counts as whole numbers, durations
//! in one format ([`SimDuration`]'s `Display`), latencies that say when
//! there was nothing to measure, and signed differences in words. No NaN
//! or negative "extra" reaches a reader.

use cutover_models::cost::Money;
use cutover_models::SimDuration;

/// Digits of a non-negative whole number grouped by thousands: `1,234,567`.
fn grouped(digits: &str) -> String {
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// An amount of money from a float, rounded to the cent, with separators
/// and its currency: `55,515.61 USD`; `n/a` when it is not a number.
pub fn money_f64(amount: f64, currency: &str) -> String {
    if !amount.is_finite() {
        return "n/a".to_string();
    }
    let cents = (amount * 100.0).round();
    let sign = if cents < 0.0 { "-" } else { "" };
    let cents = cents.abs() as u64;
    format!(
        "{sign}{}.{:02} {currency}",
        grouped(&(cents / 100).to_string()),
        cents % 100
    )
    .trim_end()
    .to_string()
}

/// A count (requests, servers) as a whole number with separators:
/// `12,345`; `n/a` when it is not a number.
pub fn count(value: f64) -> String {
    if !value.is_finite() {
        return "n/a".to_string();
    }
    let v = value.round();
    let sign = if v < 0.0 { "-" } else { "" };
    format!("{sign}{}", grouped(&(v.abs() as u64).to_string()))
}

/// A latency in milliseconds with one decimal, or `n/a (no requests)`
/// when none was measured (NaN).
pub fn latency_ms(ms: f64) -> String {
    if ms.is_finite() {
        format!("{ms:.1} ms")
    } else {
        "n/a (no requests)".to_string()
    }
}

/// A span of seconds in the reports' one duration format, e.g.
/// `4 min 10 s`; `n/a` when it is not a number.
pub fn duration_s(secs: f64) -> String {
    if secs.is_finite() {
        SimDuration::from_secs_f64(secs).to_string()
    } else {
        "n/a".to_string()
    }
}

/// A figure named by a summary key, with the unit its name states:
/// `..._s` a duration, `..._ms` milliseconds, `..._per_s` a rate,
/// probabilities, utilisations, error rates and budget shares as
/// percentages, requests, customers and events as whole counts, anything
/// else as a plain number with at most four decimals.
pub fn metric(name: &str, value: f64) -> String {
    let key = name.rsplit('.').next().unwrap_or(name);
    if !value.is_finite() {
        return if key.ends_with("_ms") {
            latency_ms(value)
        } else {
            "n/a".to_string()
        };
    }
    let percent = [
        "prob",
        "utilisation",
        "error_rate",
        "availability",
        "consumed",
    ];
    let counts = ["customers", "events", "requests", "failed", "servers"];
    if key.ends_with("_per_s") {
        format!("{value:.3}/s")
    } else if key.ends_with("_ms") {
        latency_ms(value)
    } else if key.ends_with("_s") {
        duration_s(value)
    } else if percent.iter().any(|p| key.contains(p)) {
        format!("{:.3} %", 100.0 * value)
    } else if counts.iter().any(|c| key.contains(c)) {
        count(value)
    } else {
        let v = format!("{value:.4}");
        v.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// A saving in words: `904,067.16 USD`, or, when negative,
/// `none: 1,000.00 USD more than staying as is`, so that no reader sees a
/// negative saving.
pub fn saving(amount: Money, currency: &str) -> String {
    if amount < Money::ZERO {
        format!("none: {} {currency} more than staying as is", -amount)
    } else {
        format!("{amount} {currency}")
    }
}

/// A cost against its schedule in words: `2,344.46 USD more than the
/// 55,515.61 USD scheduled`, `2,583.40 USD less than the ... scheduled`
/// or `as scheduled`; `delta` is the cost less `scheduled`.
pub fn versus_schedule(delta: Money, scheduled: Money, currency: &str) -> String {
    let (amount, word) = if delta > Money::ZERO {
        (delta, "more")
    } else if delta < Money::ZERO {
        (-delta, "less")
    } else {
        return "as scheduled".to_string();
    };
    format!("{amount} {currency} {word} than the {scheduled} {currency} scheduled")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_read_with_units_and_no_nan() {
        assert_eq!(money_f64(55_515.61, "USD"), "55,515.61 USD");
        assert_eq!(money_f64(-1234.5, "USD"), "-1,234.50 USD");
        assert_eq!(money_f64(f64::NAN, "USD"), "n/a");
        assert_eq!(count(5_616.619_541), "5,617");
        assert_eq!(count(999.0), "999");
        assert_eq!(latency_ms(f64::NAN), "n/a (no requests)");
        assert_eq!(latency_ms(276.54), "276.5 ms");
        assert_eq!(duration_s(250.0), "4 min 10 s");
        assert_eq!(duration_s(f64::NAN), "n/a");
        assert_eq!(metric("erlang_c.mean_wait_s", 0.3695), "369.5 ms");
        assert_eq!(metric("wait_p99_s", 250.0), "4 min 10 s");
        assert_eq!(metric("prob_wait", 0.5913), "59.130 %");
        assert_eq!(metric("populations[5].failed_requests", 5616.62), "5,617");
        assert_eq!(metric("observed_arrival_rate_per_s", 14.39), "14.390/s");
        assert_eq!(metric("littles_law_ratio", 0.99999454), "1");
        assert_eq!(metric("p99_ms", f64::NAN), "n/a (no requests)");
    }

    #[test]
    fn a_negative_difference_is_less_not_a_negative_extra() {
        let m = |s: &str| Money::parse_amount(s).unwrap();
        let scheduled = m("55515.61");
        assert_eq!(
            versus_schedule(m("-2583.40"), scheduled, "USD"),
            "2,583.40 USD less than the 55,515.61 USD scheduled"
        );
        assert_eq!(
            versus_schedule(m("2344.46"), scheduled, "USD"),
            "2,344.46 USD more than the 55,515.61 USD scheduled"
        );
        assert_eq!(
            versus_schedule(Money::ZERO, scheduled, "USD"),
            "as scheduled"
        );
        assert_eq!(
            saving(m("-1000"), "USD"),
            "none: 1,000.00 USD more than staying as is"
        );
        assert_eq!(saving(m("904067.16"), "USD"), "904,067.16 USD");
    }
}
