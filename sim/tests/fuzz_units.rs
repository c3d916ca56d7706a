//! The parsers of quantities written with their unit, on arbitrary text
//! and on text shaped like quantities (signs, separators, hundreds of
//! digits, every unit): none panics, and what they accept is a value a
//! scenario can use.

use cutover::estate::compute::parse_cpu;
use cutover::scenario::cost::parse_percent;
use cutover::scenario::units::{parse_bytes, parse_duration, parse_rate};
use cutover_models::cost::money::{parse_decimal_micros, parse_money};
use cutover_models::cost::{Currency, Date};
use proptest::prelude::*;

/// Found by `accepted_quantities_are_usable`: a finite number times the
/// unit overflowed to an infinite size, which was accepted.
#[test]
fn a_size_too_large_for_a_float_is_refused() {
    let text = format!("1{}PB", "0".repeat(308));
    let err = parse_bytes(&text).expect_err("1e308 PB is not a finite number of bytes");
    assert!(
        err.ends_with("is too large; allowed: a finite size"),
        "{err}"
    );
}

/// Text shaped like a quantity: a sign, digits with separators (sometimes
/// hundreds of them), spaces, and a unit of any kind.
fn quantity() -> impl Strategy<Value = String> {
    let number = prop_oneof![
        "[-+]?[0-9_.]{0,24}",
        "[1-9][0-9]{290,330}",
        "[0-9]{0,3}\\.[0-9]{300,330}",
    ];
    let unit = prop_oneof![
        Just(""),
        Just("ns"),
        Just("us"),
        Just("µs"),
        Just("ms"),
        Just("s"),
        Just("m"),
        Just("min"),
        Just("h"),
        Just("d"),
        Just("w"),
        Just("/s"),
        Just("/min"),
        Just("/h"),
        Just("/d"),
        Just("B"),
        Just("kB"),
        Just("PB"),
        Just("PiB"),
        Just("%"),
        Just(" USD"),
        Just(" EUR"),
    ];
    (number, " {0,2}", unit).prop_map(|(n, space, u)| format!("{n}{space}{u}"))
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => quantity(),
        1 => any::<String>(),
        1 => "[-+]?[0-9]{1,6}-[0-9]{1,3}-[0-9]{1,3}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 20_000,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn accepted_quantities_are_usable(text in text()) {
        if let Ok(d) = parse_duration(&text) {
            let again = parse_duration(&format!("{}ns", d.as_nanos()));
            prop_assert!(again.is_ok(), "{text} -> {d:?} -> {again:?}");
        }
        if let Ok(r) = parse_rate(&text) {
            prop_assert!(r.is_finite() && r > 0.0, "{text} -> {r}");
        }
        if let Ok(b) = parse_bytes(&text) {
            prop_assert!(b.is_finite() && b >= 0.0, "{text} -> {b}");
        }
        if let Ok(m) = parse_cpu(&text) {
            prop_assert!((1..=1_000_000_000).contains(&m), "{text} -> {m}");
        }
        if let Ok(p) = parse_percent(&text) {
            prop_assert!(p.is_finite(), "{text} -> {p}");
        }
        if let Some(micros) = parse_decimal_micros(&text) {
            prop_assert!(micros != i64::MIN, "{text}");
        }
        if let Ok((amount, currency)) = parse_money(&text) {
            let again = parse_money(&format!("{} {}", amount.to_string().replace(',', ""), currency.code()));
            prop_assert!(again.is_ok(), "{text} -> {amount} {currency:?} -> {again:?}");
        }
        let _ = Currency::parse(&text);
        if let Ok(day) = Date::parse(&text) {
            prop_assert_eq!(Date::parse(&day.to_string()), Ok(day), "{}", text);
        }
    }
}
