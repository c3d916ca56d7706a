//! Fuzz target: the parsers of quantities written with their unit
//! (durations, rates, sizes, CPU, money, percentages, decimals, dates).

use cutover::estate::compute::parse_cpu;
use cutover::scenario::cost::parse_percent;
use cutover::scenario::units::{parse_bytes, parse_duration, parse_rate};
use cutover_models::cost::money::{parse_decimal_micros, parse_money};
use cutover_models::cost::{Currency, Date, Money};

fn main() {
    afl::fuzz!(|data: &[u8]| {
        let Ok(text) = std::str::from_utf8(data) else {
            return;
        };
        let _ = parse_duration(text);
        let _ = parse_rate(text);
        let _ = parse_bytes(text);
        let _ = parse_cpu(text);
        let _ = parse_percent(text);
        let _ = parse_money(text);
        let _ = parse_decimal_micros(text);
        let _ = Date::parse(text);
        let _ = Currency::parse(text);
        let _ = Money::parse_amount(text);
    });
}
