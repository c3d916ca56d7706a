//! Exact money, currencies, exchange rates and calendar dates.
//!
//! Amounts are integer micro-units (millionths of a currency unit), so a
//! price such as $0.045/GB is exact and sums never drift. Bill lines are
//! rounded to whole cents once, with [`Money::round_to_cents`], and totals
//! are sums of those rounded lines: the total equals the sum of the lines
//! to the cent.

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Neg, Sub};

use serde::Serialize;

/// Micro-units in one currency unit.
pub const MICROS_PER_UNIT: i64 = 1_000_000;
const MICROS_PER_CENT: i64 = 10_000;

/// An amount of money in micro-units of some currency. The currency is
/// carried beside it (by the price book or the report), not inside it.
/// Arithmetic saturates at about +-9.2 trillion units instead of wrapping.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money(i64);

impl Money {
    /// Zero.
    pub const ZERO: Money = Money(0);

    /// An amount of `micros` millionths of a unit.
    pub const fn from_micros(micros: i64) -> Money {
        Money(micros)
    }

    /// An amount of `cents` hundredths of a unit.
    pub const fn from_cents(cents: i64) -> Money {
        Money(cents * MICROS_PER_CENT)
    }

    /// The amount in micro-units.
    pub const fn micros(self) -> i64 {
        self.0
    }

    /// The amount in cents, rounded half away from zero.
    pub fn cents(self) -> i64 {
        self.round_to_cents().0 / MICROS_PER_CENT
    }

    /// The amount as a float of whole units, for plots and ratios only.
    pub fn as_f64(self) -> f64 {
        self.0 as f64 / MICROS_PER_UNIT as f64
    }

    /// Rounds to whole cents, half away from zero.
    pub fn round_to_cents(self) -> Money {
        let half = MICROS_PER_CENT / 2;
        let r = if self.0 >= 0 {
            (self.0 + half) / MICROS_PER_CENT
        } else {
            (self.0 - half) / MICROS_PER_CENT
        };
        Money(r * MICROS_PER_CENT)
    }

    /// This amount times a quantity (e.g. a unit price times 720 hours),
    /// rounded to the nearest micro-unit. Quantities above 2^53 lose
    /// precision, far beyond any bill.
    pub fn times(self, quantity: f64) -> Money {
        Money((self.0 as f64 * quantity).round() as i64)
    }

    /// This amount times `ppm` parts per million (e.g. an exchange rate or
    /// a price factor), rounded half away from zero, exactly.
    pub fn times_ppm(self, ppm: i64) -> Money {
        let p = i128::from(self.0) * i128::from(ppm);
        let m = i128::from(MICROS_PER_UNIT);
        let r = if p >= 0 {
            (p + m / 2) / m
        } else {
            (p - m / 2) / m
        };
        Money(r as i64)
    }

    /// Parses a decimal amount such as `"1234.56"` or `"-0.045"` exactly
    /// (at most six decimals; `_` and `,` as digit separators are ignored).
    pub fn parse_amount(text: &str) -> Result<Money, String> {
        let micros = parse_decimal_micros(text)
            .ok_or_else(|| format!("`{text}` is not an amount; write e.g. \"1234.56\""))?;
        Ok(Money(micros))
    }
}

/// Parses a decimal number into millionths, exactly; `None` if it is not
/// a number, has more than six decimals or overflows.
pub fn parse_decimal_micros(text: &str) -> Option<i64> {
    let t: String = text
        .trim()
        .chars()
        .filter(|&c| c != '_' && c != ',')
        .collect();
    let (neg, t) = match t.strip_prefix('-') {
        Some(rest) => (true, rest.to_string()),
        None => (false, t.strip_prefix('+').unwrap_or(&t).to_string()),
    };
    let (int, frac) = t.split_once('.').unwrap_or((&t, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    if !int.chars().all(|c| c.is_ascii_digit())
        || !frac.chars().all(|c| c.is_ascii_digit())
        || frac.len() > 6
    {
        return None;
    }
    let whole: i64 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let mut frac_micros: i64 = if frac.is_empty() {
        0
    } else {
        frac.parse().ok()?
    };
    for _ in frac.len()..6 {
        frac_micros *= 10;
    }
    let v = whole
        .checked_mul(MICROS_PER_UNIT)?
        .checked_add(frac_micros)?;
    Some(if neg { -v } else { v })
}

impl Add for Money {
    type Output = Money;
    fn add(self, o: Money) -> Money {
        Money(self.0.saturating_add(o.0))
    }
}
impl AddAssign for Money {
    fn add_assign(&mut self, o: Money) {
        self.0 = self.0.saturating_add(o.0);
    }
}
impl Sub for Money {
    type Output = Money;
    fn sub(self, o: Money) -> Money {
        Money(self.0.saturating_sub(o.0))
    }
}
impl Neg for Money {
    type Output = Money;
    fn neg(self) -> Money {
        Money(self.0.saturating_neg())
    }
}
impl Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        iter.fold(Money::ZERO, |a, b| a + b)
    }
}

impl fmt::Display for Money {
    /// Whole cents with thousands separators, e.g. `-12,345.67`; amounts
    /// that are not whole cents show all six decimals without trailing zeros.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let units = abs / MICROS_PER_UNIT as u64;
        let frac = abs % MICROS_PER_UNIT as u64;
        let digits = units.to_string();
        let mut grouped = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(c);
        }
        if frac.is_multiple_of(MICROS_PER_CENT as u64) {
            write!(f, "{sign}{grouped}.{:02}", frac / MICROS_PER_CENT as u64)
        } else {
            let s = format!("{frac:06}");
            write!(f, "{sign}{grouped}.{}", s.trim_end_matches('0'))
        }
    }
}

impl Serialize for Money {
    /// Serialised as a decimal string of whole units (`"1234.56"`), so JSON
    /// readers never see a binary float.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.plain())
    }
}

impl Money {
    /// The amount as a plain decimal without separators, e.g. `-1234.5` ->
    /// `"-1234.50"`; at least two decimals, more only when needed.
    pub fn plain(&self) -> String {
        self.to_string().replace(',', "")
    }
}

/// An ISO 4217 currency code such as `USD` or `EUR`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Currency([u8; 3]);

impl Currency {
    /// US dollar.
    pub const USD: Currency = Currency(*b"USD");
    /// Euro.
    pub const EUR: Currency = Currency(*b"EUR");

    /// Parses three upper-case letters.
    pub fn parse(text: &str) -> Result<Currency, String> {
        let b = text.trim().as_bytes();
        if b.len() == 3 && b.iter().all(u8::is_ascii_uppercase) {
            Ok(Currency([b[0], b[1], b[2]]))
        } else {
            Err(format!(
                "`{text}` is not a currency; write a three-letter ISO 4217 code such as \"USD\" or \"EUR\""
            ))
        }
    }

    /// The code as text.
    pub fn code(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("???")
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

/// Parses `"1234.56 USD"` into an amount and its currency.
pub fn parse_money(text: &str) -> Result<(Money, Currency), String> {
    let allowed = "an amount and a currency, e.g. \"1234.56 USD\"";
    let t = text.trim();
    let (num, cur) = t
        .rsplit_once(' ')
        .ok_or_else(|| format!("`{text}` has no currency; write {allowed}"))?;
    let currency = Currency::parse(cur).map_err(|e| format!("{e} (in `{text}`)"))?;
    let amount = Money::parse_amount(num)
        .map_err(|_| format!("`{text}` is not money; write {allowed} (at most 6 decimals)"))?;
    Ok((amount, currency))
}

/// A stated exchange rate: one unit of `from` buys `rate_ppm` millionths of `to`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExchangeRate {
    /// The currency converted from.
    pub from: Currency,
    /// The currency converted to.
    pub to: Currency,
    /// Units of `to` per unit of `from`, in millionths (1.08 -> 1_080_000).
    pub rate_ppm: i64,
    /// The day the rate was taken.
    pub taken_on: Date,
    /// Where the rate comes from.
    pub source: String,
}

impl ExchangeRate {
    /// The rate times `factor` (1.0: as stated), in millionths.
    pub fn scaled_ppm(&self, factor: f64) -> i64 {
        (self.rate_ppm as f64 * factor).round() as i64
    }

    /// Converts `amount` in `from` into `to` at the rate times `factor`
    /// (1.0: as stated), rounded to the micro-unit.
    pub fn convert(&self, amount: Money, factor: f64) -> Money {
        amount.times_ppm(self.scaled_ppm(factor))
    }
}

/// A calendar day (proleptic Gregorian).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    /// Year.
    pub year: i32,
    /// Month 1-12.
    pub month: u32,
    /// Day 1-31.
    pub day: u32,
}

/// Days in `month` of `year`.
pub fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

impl Date {
    /// A date, if the day exists.
    pub fn new(year: i32, month: u32, day: u32) -> Option<Date> {
        ((1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month))
            .then_some(Date { year, month, day })
    }

    /// Parses `"2026-11-01"`.
    pub fn parse(text: &str) -> Result<Date, String> {
        let bad = || format!("`{text}` is not a date; write YYYY-MM-DD, e.g. \"2026-11-01\"");
        let mut parts = text.trim().split('-');
        let (y, m, d) = (parts.next(), parts.next(), parts.next());
        if parts.next().is_some() {
            return Err(bad());
        }
        let y: i32 = y.and_then(|s| s.parse().ok()).ok_or_else(bad)?;
        let m: u32 = m.and_then(|s| s.parse().ok()).ok_or_else(bad)?;
        let d: u32 = d.and_then(|s| s.parse().ok()).ok_or_else(bad)?;
        Date::new(y, m, d).ok_or_else(|| format!("`{text}` is not a day of the calendar"))
    }

    /// Days since 1970-01-01 (negative before), by Howard Hinnant's
    /// `days_from_civil` algorithm.
    pub fn day_number(&self) -> i64 {
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let mp = (m + 9) % 12;
        let doy = (153 * mp + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The date `n` days after day number 0 (1970-01-01); inverse of
    /// [`Date::day_number`].
    pub fn from_day_number(n: i64) -> Date {
        let z = n + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Date { year, month, day }
    }

    /// The date `days` days later.
    pub fn plus_days(&self, days: i64) -> Date {
        Date::from_day_number(self.day_number() + days)
    }

    /// The month this day is in.
    pub fn month_of(&self) -> Month {
        Month {
            year: self.year,
            month: self.month,
        }
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl Serialize for Date {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A calendar month, the period of a bill.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    /// Year.
    pub year: i32,
    /// Month 1-12.
    pub month: u32,
}

impl Month {
    /// The month `n` months later.
    pub fn plus(&self, n: u32) -> Month {
        let idx = i64::from(self.year) * 12 + i64::from(self.month - 1) + i64::from(n);
        Month {
            year: idx.div_euclid(12) as i32,
            month: (idx.rem_euclid(12) + 1) as u32,
        }
    }

    /// The month before.
    pub fn prev(&self) -> Month {
        if self.month == 1 {
            Month {
                year: self.year - 1,
                month: 12,
            }
        } else {
            Month {
                year: self.year,
                month: self.month - 1,
            }
        }
    }

    /// Its first day.
    pub fn first_day(&self) -> Date {
        Date {
            year: self.year,
            month: self.month,
            day: 1,
        }
    }

    /// The first day of the next month.
    pub fn end(&self) -> Date {
        self.plus(1).first_day()
    }

    /// Days in the month.
    pub fn days(&self) -> u32 {
        days_in_month(self.year, self.month)
    }

    /// Hours in the month (calendar hours: 720 for 30 days, 744 for 31).
    pub fn hours(&self) -> f64 {
        f64::from(self.days()) * 24.0
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl Serialize for Month {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_parses_exactly_and_prints_cents() {
        let (m, c) = parse_money("1,234.56 USD").unwrap();
        assert_eq!(m, Money::from_cents(123_456));
        assert_eq!(c, Currency::USD);
        assert_eq!(m.to_string(), "1,234.56");
        assert_eq!(
            Money::parse_amount("0.045").unwrap(),
            Money::from_micros(45_000)
        );
        assert_eq!(Money::from_micros(45_000).to_string(), "0.045");
        assert_eq!(Money::from_cents(-5).to_string(), "-0.05");
        assert!(parse_money("12").unwrap_err().contains("no currency"));
        assert!(parse_money("12 usd")
            .unwrap_err()
            .contains("not a currency"));
        assert!(parse_money("0.1234567 USD").is_err());
        assert!(parse_money("abc USD").is_err());
    }

    #[test]
    fn rounding_is_half_away_from_zero() {
        assert_eq!(Money::from_micros(5_000).round_to_cents().cents(), 1);
        assert_eq!(Money::from_micros(4_999).round_to_cents().cents(), 0);
        assert_eq!(Money::from_micros(-5_000).round_to_cents().cents(), -1);
        // 0.1 + 0.2 is exact here.
        let sum = Money::parse_amount("0.1").unwrap() + Money::parse_amount("0.2").unwrap();
        assert_eq!(sum, Money::parse_amount("0.3").unwrap());
    }

    #[test]
    fn exchange_rates_convert_exactly() {
        let fx = ExchangeRate {
            from: Currency::EUR,
            to: Currency::USD,
            rate_ppm: 1_080_000,
            taken_on: Date::new(2026, 11, 2).unwrap(),
            source: "test".into(),
        };
        assert_eq!(
            fx.convert(Money::from_cents(10_000), 1.0),
            Money::from_cents(10_800)
        );
        // A rate 10 % dearer: 1.188; 0.045 EUR -> 0.05346 USD exactly.
        assert_eq!(fx.scaled_ppm(1.1), 1_188_000);
        assert_eq!(
            fx.convert(Money::parse_amount("0.045").unwrap(), 1.1),
            Money::from_micros(53_460)
        );
    }

    #[test]
    fn dates_round_trip_and_months_add() {
        let d = Date::parse("2026-11-01").unwrap();
        assert_eq!(Date::from_day_number(d.day_number()), d);
        assert_eq!(Date::new(1970, 1, 1).unwrap().day_number(), 0);
        assert_eq!(d.plus_days(30).to_string(), "2026-12-01");
        assert_eq!(d.plus_days(61).to_string(), "2027-01-01");
        assert_eq!(
            Date::parse("2028-02-29").unwrap().plus_days(1).to_string(),
            "2028-03-01"
        );
        assert!(Date::parse("2027-02-29").is_err());
        assert!(Date::parse("2027-13-01").is_err());
        assert!(Date::parse("Nov 1").is_err());
        let m = d.month_of();
        assert_eq!(m.plus(2).to_string(), "2027-01");
        assert_eq!(m.plus(2).prev().to_string(), "2026-12");
        assert_eq!(m.hours(), 720.0);
        assert_eq!(m.plus(1).hours(), 744.0);
    }
}
