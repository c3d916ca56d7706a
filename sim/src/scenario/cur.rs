//! An AWS Cost and Usage Report (CUR) month read from its CSV, with every
//! problem located at its file, line and column and named by its column.
//!
//! The columns read (names as the CUR's data dictionary writes them,
//! docs.aws.amazon.com/cur/latest/userguide/Lineitem-columns.html):
//! `bill/BillingPeriodStartDate`, `lineItem/LineItemType`,
//! `lineItem/UsageStartDate`, `lineItem/ProductCode`,
//! `lineItem/UsageType`, `lineItem/UsageAmount`, `lineItem/CurrencyCode`,
//! `lineItem/UnblendedCost` and `pricing/unit` (all required), the region
//! from `product/region` or else `lineItem/AvailabilityZone` (one of them
//! required), and if present `product/instanceType`,
//! `reservation/AmortizedUpfrontFeeForBillingPeriod` and
//! `savingsPlan/AmortizedUpfrontCommitmentForBillingPeriod`. Other columns
//! (`identity/...`, tags, `resourceTags/...`) are ignored.
//!
//! A file holds one billing period: every row's period and usage start lie
//! in the first row's month. Every row is in the cost scenario's currency.
//! Costs keep up to six decimals exactly; the CUR writes up to ten, and
//! digits beyond the millionth are rounded half away from zero.

use std::path::Path;

use cutover_models::cost::cur::{ActualBill, CurLine, LineItemType};
use cutover_models::cost::{Currency, Date, Money};

use super::source::{read_text, FieldError, InputError};

/// The columns every CUR file must have.
pub const REQUIRED: [&str; 9] = [
    "bill/BillingPeriodStartDate",
    "lineItem/LineItemType",
    "lineItem/UsageStartDate",
    "lineItem/ProductCode",
    "lineItem/UsageType",
    "lineItem/UsageAmount",
    "lineItem/CurrencyCode",
    "lineItem/UnblendedCost",
    "pricing/unit",
];

/// A check of each row beyond the file's own rules (e.g. that a usage
/// row's unit fits its price-book item): the column at fault and the
/// message, or nothing.
pub type RowCheck<'a> = &'a dyn Fn(&CurLine) -> Option<(&'static str, String)>;

/// Reads the CUR month at `path`, in `currency`, each row checked by `check`.
pub fn load(path: &Path, currency: Currency, check: RowCheck) -> Result<ActualBill, InputError> {
    parse(path, &read_text(path)?, currency, check)
}

/// Whether a CSV header line is a CUR's (it has `lineItem/LineItemType`).
pub fn is_cur_header(line: &str) -> bool {
    line.contains("lineItem/LineItemType")
}

/// Parses CUR text in the currency of its first row (what `cutover
/// validate` checks: a cost scenario reads a CUR in its own currency).
pub fn parse_own_currency(path: &Path, text: &str) -> Result<ActualBill, InputError> {
    let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    let code = reader
        .headers()
        .ok()
        .and_then(|h| h.iter().position(|c| c.trim() == "lineItem/CurrencyCode"))
        .and_then(|i| {
            let row = reader.records().next()?.ok()?;
            row.get(i).map(|c| c.trim().to_string())
        });
    let currency = code
        .and_then(|c| Currency::parse(&c).ok())
        .unwrap_or(Currency::USD);
    parse(path, text, currency, &|_| None)
}

/// Where the columns read are.
struct Columns {
    at: Vec<usize>,
    region: usize,
    from_zone: bool,
    instance_type: Option<usize>,
    ri_upfront: Option<usize>,
    sp_upfront: Option<usize>,
}

/// A CUR file's text, to locate errors.
struct Cur<'a> {
    path: &'a Path,
    text: &'a str,
    header: Vec<String>,
}

impl Cur<'_> {
    /// An error at `line`, in the cell of column `index` (1 when unknown).
    fn error(&self, line: usize, index: Option<usize>, message: String) -> InputError {
        let column = index.map_or(1, |i| {
            cell_column(self.text.lines().nth(line - 1).unwrap_or(""), i)
        });
        InputError::Field(Box::new(FieldError {
            file: self.path.to_path_buf(),
            line,
            column,
            field: index
                .and_then(|i| self.header.get(i).cloned())
                .unwrap_or_default(),
            message,
        }))
    }

    fn columns(&self) -> Result<Columns, InputError> {
        let col = |name: &str| self.header.iter().position(|h| h == name);
        let mut at = Vec::new();
        for name in REQUIRED {
            let Some(i) = col(name) else {
                return Err(self.error(
                    1,
                    None,
                    format!(
                        "the header has no `{name}` column; allowed: a CUR with the columns {}, and `product/region` or `lineItem/AvailabilityZone`",
                        REQUIRED.join(", ")
                    ),
                ));
            };
            at.push(i);
        }
        let (region, from_zone) = match (col("product/region"), col("lineItem/AvailabilityZone")) {
            (Some(i), _) => (i, false),
            (None, Some(i)) => (i, true),
            (None, None) => {
                return Err(self.error(
                    1,
                    None,
                    "the header has neither `product/region` nor `lineItem/AvailabilityZone`; allowed: a CUR with one of them".into(),
                ))
            }
        };
        Ok(Columns {
            at,
            region,
            from_zone,
            instance_type: col("product/instanceType"),
            ri_upfront: col("reservation/AmortizedUpfrontFeeForBillingPeriod"),
            sp_upfront: col("savingsPlan/AmortizedUpfrontCommitmentForBillingPeriod"),
        })
    }
}

/// The 1-based character column where cell `index` starts on `line`
/// (commas inside quotes do not count).
fn cell_column(line: &str, index: usize) -> usize {
    let (mut cell, mut quoted) = (0, false);
    for (col, c) in line.chars().enumerate() {
        if cell == index {
            return col + 1;
        }
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => cell += 1,
            _ => {}
        }
    }
    line.chars().count() + 1
}

/// A CUR amount: a decimal (digits beyond the millionth rounded half away
/// from zero) or a number in scientific notation.
pub fn parse_cost(text: &str) -> Option<Money> {
    let t = text.trim();
    if t.is_empty() {
        return Some(Money::ZERO);
    }
    if t.contains(['e', 'E']) {
        let v: f64 = t
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite() && v.abs() < 1e12)?;
        return Some(Money::from_micros((v * 1e6).round() as i64));
    }
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    if frac.len() <= 6 {
        return Money::parse_amount(t).ok();
    }
    if !frac.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let kept = Money::parse_amount(&format!("{int}.{}", &frac[..6])).ok()?;
    let up = frac.as_bytes()[6] >= b'5';
    let neg = int.starts_with('-');
    Some(match (up, neg) {
        (true, false) => kept + Money::from_micros(1),
        (true, true) => kept - Money::from_micros(1),
        _ => kept,
    })
}

/// The day of a CUR timestamp such as `2026-11-01T00:00:00Z`.
fn day_of(text: &str) -> Result<Date, String> {
    let head = text.trim().get(..10).unwrap_or(text.trim());
    Date::parse(head).map_err(|_| {
        format!("`{text}` is not a date; allowed: an ISO 8601 time such as 2026-11-01T00:00:00Z")
    })
}

/// Parses CUR text; `path` labels the errors.
pub fn parse(
    path: &Path,
    text: &str,
    currency: Currency,
    check: RowCheck,
) -> Result<ActualBill, InputError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| located(path, 1, format!("cannot read the header: {e}")))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let cur = Cur { path, text, header };
    let cols = cur.columns()?;
    let mut lines = Vec::new();
    let mut month = None;
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(1, |p| p.line() as usize);
            located(path, line, format!("not a CSV row: {e}"))
        })?;
        let line = record.position().map_or(1, |p| p.line() as usize);
        let row = read_row(&cur, &cols, &record, line, currency, &mut month)?;
        if let Some((column, message)) = check(&row) {
            let index = cur.header.iter().position(|h| h == column);
            return Err(cur.error(line, index, message));
        }
        lines.push(row);
    }
    let Some(month) = month else {
        return Err(located(
            path,
            text.lines().count().max(1),
            "no rows; allowed: a CUR month with a row per line item after the header".into(),
        ));
    };
    Ok(ActualBill {
        month,
        currency,
        lines,
    })
}

fn located(path: &Path, line: usize, message: String) -> InputError {
    InputError::Field(Box::new(FieldError {
        file: path.to_path_buf(),
        line,
        column: 1,
        field: String::new(),
        message,
    }))
}

/// A row's billing period: the first day of a month, and the month of
/// the file's first row (`month`, set by the first row).
fn billing_period(
    text: &str,
    month: &mut Option<cutover_models::cost::Month>,
) -> Result<cutover_models::cost::Month, String> {
    let period = day_of(text)?;
    if period.day != 1 {
        return Err(format!(
            "{period} does not open a month; allowed: the first day of the billing period"
        ));
    }
    let first = *month.get_or_insert(period.month_of());
    if period.month_of() != first {
        return Err(format!(
            "a row of the {} bill in the file of {first}; allowed: one billing period per file",
            period.month_of()
        ));
    }
    Ok(first)
}

/// One row, checked: its type known, its dates in the file's month, its
/// currency the scenario's, its numbers numbers.
fn read_row(
    cur: &Cur,
    cols: &Columns,
    record: &csv::StringRecord,
    line: usize,
    currency: Currency,
    month: &mut Option<cutover_models::cost::Month>,
) -> Result<CurLine, InputError> {
    let cell = |i: usize| record.get(i).unwrap_or("").trim();
    let req = |k: usize| cell(cols.at[k]);
    let err = |k: usize, m: String| cur.error(line, Some(cols.at[k]), m);
    let first = billing_period(req(0), month).map_err(|m| err(0, m))?;
    let kind = LineItemType::parse(req(1)).ok_or_else(|| {
        let names: Vec<&str> = LineItemType::ALL.iter().map(|(n, _)| *n).collect();
        err(
            1,
            format!(
                "unknown line item type `{}`; allowed: {}",
                req(1),
                names.join(", ")
            ),
        )
    })?;
    let start = day_of(req(2)).map_err(|m| err(2, m))?;
    if start.month_of() != first {
        return Err(err(
            2,
            format!(
                "usage of {} in the bill of {first}; allowed: usage within the billing period",
                start.month_of()
            ),
        ));
    }
    if req(6) != currency.code() {
        return Err(err(
            6,
            format!(
                "`{}`; allowed: {currency}, the currency of the cost scenario",
                req(6)
            ),
        ));
    }
    let usage: f64 = req(5)
        .parse()
        .ok()
        .filter(|v: &f64| v.is_finite())
        .ok_or_else(|| {
            err(
                5,
                format!(
                    "`{}` is not a number; allowed: a usage amount such as 720",
                    req(5)
                ),
            )
        })?;
    let cost = parse_cost(req(7)).ok_or_else(|| {
        err(
            7,
            format!(
                "`{}` is not an amount; allowed: a decimal such as 276.48",
                req(7)
            ),
        )
    })?;
    let upfront = |c: Option<usize>| -> Result<Money, InputError> {
        let Some(i) = c else { return Ok(Money::ZERO) };
        parse_cost(cell(i)).ok_or_else(|| {
            cur.error(
                line,
                Some(i),
                format!(
                    "`{}` is not an amount; allowed: a decimal such as 500.00",
                    cell(i)
                ),
            )
        })
    };
    let mut region = cell(cols.region).to_string();
    if cols.from_zone && region.ends_with(|c: char| c.is_ascii_lowercase()) {
        region.pop();
    }
    Ok(CurLine {
        row: line,
        kind,
        service: req(3).to_string(),
        usage_type: req(4).to_string(),
        region,
        instance_type: cols
            .instance_type
            .map(|i| cell(i).to_string())
            .unwrap_or_default(),
        usage,
        unit: req(8).to_string(),
        cost,
        amortised_upfront: upfront(cols.ri_upfront)? + upfront(cols.sp_upfront)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cur_costs_keep_six_decimals_and_round_the_rest() {
        assert_eq!(
            parse_cost("0.3840000000"),
            Some(Money::from_micros(384_000))
        );
        assert_eq!(
            parse_cost("1.23456750"),
            Some(Money::from_micros(1_234_568))
        );
        assert_eq!(
            parse_cost("-1.23456750"),
            Some(Money::from_micros(-1_234_568))
        );
        assert_eq!(parse_cost("1.0E-2"), Some(Money::from_micros(10_000)));
        assert_eq!(parse_cost(""), Some(Money::ZERO));
        assert_eq!(parse_cost("1.2.3"), None);
        assert_eq!(parse_cost("12,3x"), None);
    }

    #[test]
    fn cells_are_found_past_quoted_commas() {
        assert_eq!(cell_column("a,\"b,c\",d", 0), 1);
        assert_eq!(cell_column("a,\"b,c\",d", 2), 9);
        assert_eq!(cell_column("a,b", 5), 4);
    }
}
