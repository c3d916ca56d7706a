//! Cost files: price books and cost projections, read with located errors
//! and validated into a [`CostModel`].
//!
//! A projection names an estate (`[cost] estate`: an estate file, or an
//! experiment or plan file for the estate with its added sites and the
//! plan's `[[moves]]`) and derives its fleet from it (see [`fleet`]): the
//! price books, currency and exchange rates are the estate's `[costs]`,
//! and every priced site is a line per item of its cost profile, the
//! site's pool sized as `cost.fleet` says. The projection states only
//! what it changes or adds: horizon, growth, `[[estate]]` additions to a
//! derived estate by name (reserved instances, staff, capex, one-off
//! costs), the `[migration]`'s pace, `[budget]`, `[[case]]`s.
//!
//! Money is written as an amount and its currency in one string
//! (`"0.045 USD"`, `"1234.56 EUR"`), dates as `"2026-11-01"`, shares as
//! `"8%"`, data volumes with their unit (`"50TB"`), durations as `"1w"`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use cutover_models::cost::bill::{Capex, OneOff, OneOffUsage, Staff};
use cutover_models::cost::book::{PriceChange, Tier};
use cutover_models::cost::commit::{term_months, Payment, PlanScope, SavingsPlan, Upfront};
use cutover_models::cost::cur::{
    as_bill_lines, declared_commitments, reconcile, unit_fits, units_for, usage_type_key,
    ActualBill, CurLine, Matching, Reconciled,
};
use cutover_models::cost::money::{parse_decimal_micros, parse_money};
use cutover_models::cost::project::{Budget, Case, CostModel, Migration, Stated};
use cutover_models::cost::Pricer;
use cutover_models::cost::{
    Adjustments, Commitment, Currency, Date, Estate, ExchangeRate, Granularity, Money, PriceBook,
    Sku, Unit, UsageLine, Window,
};
use serde::Deserialize;

use super::fleet::{self, Fleet, FleetChoice, PoolSize};
use super::limits;
use super::units::{parse_bytes, parse_duration};
use super::{InputError, Source};
use crate::estate::EstateCosts;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBookFile {
    book: RawBook,
    #[serde(default)]
    sku: Vec<RawSku>,
    #[serde(default)]
    change: Vec<RawChange>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBook {
    name: String,
    provider: String,
    currency: String,
    taken_on: String,
    source: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSku {
    id: String,
    line: String,
    unit: String,
    billing: Option<String>,
    minimum: Option<String>,
    on_demand: Option<String>,
    #[serde(default)]
    tier: Vec<RawTier>,
    reserved_1y: Option<String>,
    reserved_3y: Option<String>,
    spot: Option<String>,
    setup_fee: Option<String>,
    included_traffic: Option<String>,
    #[serde(default)]
    draws_included_traffic: bool,
    #[serde(default)]
    server: bool,
    source: String,
    taken_on: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTier {
    up_to: Option<u64>,
    price: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChange {
    from: String,
    change: String,
    #[serde(default)]
    skus: Vec<String>,
    source: String,
}

/// Reads and validates the price book at `path`.
pub fn load_price_book(path: &Path) -> Result<PriceBook, InputError> {
    let source = Source::read(path)?;
    price_book_from_source(&source)
}

fn money_in(
    source: &Source,
    field: &str,
    text: &str,
    currency: Currency,
) -> Result<Money, InputError> {
    let (amount, cur) = parse_money(text).map_err(|m| source.field_error(field, m))?;
    if cur != currency {
        return Err(source.field_error(
            field,
            format!("`{text}` is in {cur}, but the book's currency is {currency}; allowed: amounts in {currency}"),
        ));
    }
    if amount < Money::ZERO {
        return Err(source.field_error(
            field,
            format!("`{text}` is negative; allowed: a price of zero or more"),
        ));
    }
    Ok(amount)
}

fn date(source: &Source, field: &str, text: &str) -> Result<Date, InputError> {
    Date::parse(text).map_err(|m| source.field_error(field, m))
}

/// Parses `"8%"`, `"-10%"` or `"+2.5%"` into a fraction (0.08).
pub fn parse_percent(text: &str) -> Result<f64, String> {
    let bad = || format!("`{text}` is not a percentage; write e.g. \"8%\" or \"-10%\"");
    let t = text.trim().strip_suffix('%').ok_or_else(bad)?;
    let micros = parse_decimal_micros(t).ok_or_else(bad)?;
    Ok(micros as f64 / 1e8)
}

fn percent(source: &Source, field: &str, text: &str) -> Result<f64, InputError> {
    parse_percent(text).map_err(|m| source.field_error(field, m))
}

/// Validates a price book read into `source`.
pub fn price_book_from_source(source: &Source) -> Result<PriceBook, InputError> {
    let raw: RawBookFile = source.parse()?;
    let (currency, taken_on) = book_header(source, &raw.book)?;
    if raw.sku.is_empty() {
        return Err(source.field_error("", "the book has no [[sku]]; add at least one priced item"));
    }
    let mut skus = BTreeMap::new();
    limits::check_name(source, "book.name", &raw.book.name)?;
    for (i, s) in raw.sku.iter().enumerate() {
        let sku = priced_item(source, i, s, currency, &skus)?;
        skus.insert(s.id.clone(), sku);
    }
    let mut changes: Vec<PriceChange> = Vec::new();
    for (i, c) in raw.change.iter().enumerate() {
        let previous = changes.last().map(|p| p.from);
        changes.push(price_change(source, i, c, taken_on, previous, &skus)?);
    }
    Ok(PriceBook {
        name: raw.book.name,
        provider: raw.book.provider,
        currency,
        taken_on,
        source: raw.book.source,
        skus,
        changes,
    })
}

/// The `[book]` header: its currency and the day its prices were taken;
/// its name must not be empty.
fn book_header(source: &Source, book: &RawBook) -> Result<(Currency, Date), InputError> {
    let currency =
        Currency::parse(&book.currency).map_err(|m| source.field_error("book.currency", m))?;
    let taken_on = date(source, "book.taken_on", &book.taken_on)?;
    if book.name.trim().is_empty() {
        return Err(source.field_error("book.name", "must not be empty"));
    }
    Ok((currency, taken_on))
}

/// One `[[sku]]`, the `i`th, priced in `currency`; `known` holds the items
/// before it, so an id listed twice is refused.
fn priced_item(
    source: &Source,
    i: usize,
    s: &RawSku,
    currency: Currency,
    known: &BTreeMap<String, Sku>,
) -> Result<Sku, InputError> {
    let f = |name: &str| format!("sku[{i}].{name}");
    limits::check_name(source, &f("id"), &s.id)?;
    limits::check_name(source, &f("line"), &s.line)?;
    let unit = sku_unit(source, &f("unit"), &s.unit)?;
    let granularity = sku_granularity(source, i, s, unit)?;
    let on_demand = on_demand_price(source, i, s, currency)?;
    let opt = |name: &str, v: &Option<String>| -> Result<Option<Money>, InputError> {
        v.as_ref()
            .map(|p| money_in(source, &f(name), p, currency))
            .transpose()
    };
    let included_traffic_gb = match &s.included_traffic {
        Some(t) => (parse_bytes(t).map_err(|e| source.field_error(&f("included_traffic"), e))?
            / 1e9)
            .round() as u64,
        None => 0,
    };
    if known.contains_key(&s.id) {
        return Err(source.field_error(&f("id"), format!("item `{}` is listed twice", s.id)));
    }
    let sku_taken = date(source, &f("taken_on"), &s.taken_on)?;
    if s.source.trim().is_empty() {
        return Err(source.field_error(&f("source"), "every price needs its source"));
    }
    Ok(Sku {
        id: s.id.clone(),
        line: s.line.clone(),
        unit,
        granularity,
        on_demand,
        reserved_1y: opt("reserved_1y", &s.reserved_1y)?,
        reserved_3y: opt("reserved_3y", &s.reserved_3y)?,
        spot: opt("spot", &s.spot)?,
        setup_fee: opt("setup_fee", &s.setup_fee)?.unwrap_or(Money::ZERO),
        included_traffic_gb,
        draws_included_traffic: s.draws_included_traffic,
        is_server: s.server,
        source: s.source.clone(),
        taken_on: sku_taken,
    })
}

/// An item's `unit`: hour, month, GB or TB.
fn sku_unit(source: &Source, field: &str, text: &str) -> Result<Unit, InputError> {
    match text {
        "hour" => Ok(Unit::Hour),
        "month" => Ok(Unit::Month),
        "GB" => Ok(Unit::Gb),
        "TB" => Ok(Unit::Tb),
        other => Err(source.field_error(
            field,
            format!("unknown unit `{other}`; allowed: hour, month, GB, TB"),
        )),
    }
}

/// How the `i`th item is billed over time: `billing` (and `minimum`) must
/// fit its unit; volume items have none.
fn sku_granularity(
    source: &Source,
    i: usize,
    s: &RawSku,
    unit: Unit,
) -> Result<Granularity, InputError> {
    let f = |name: &str| format!("sku[{i}].{name}");
    match (s.billing.as_deref(), unit) {
        (None, Unit::Gb | Unit::Tb) => Ok(Granularity::Hourly),
        (None, _) => Err(source.field_error(
            &f("billing"),
            "time-priced items need `billing`; allowed: per-second, hourly, monthly",
        )),
        (Some("per-second"), Unit::Hour) => {
            let minimum = match &s.minimum {
                Some(m) => parse_duration(m).map_err(|e| source.field_error(&f("minimum"), e))?,
                None => cutover_models::SimDuration::ZERO,
            };
            Ok(Granularity::PerSecond {
                minimum_s: (minimum.as_nanos() / 1_000_000_000) as u32,
            })
        }
        (Some("hourly"), Unit::Hour) => Ok(Granularity::Hourly),
        (Some("monthly"), Unit::Month) => Ok(Granularity::Monthly),
        (Some(other), _) => Err(source.field_error(
            &f("billing"),
            format!(
                "billing `{other}` does not fit unit `{}`; allowed: per-second or hourly for unit hour, monthly for unit month, none for GB and TB",
                s.unit
            ),
        )),
    }
}

/// The `i`th item's on-demand price: a flat `on_demand` price or
/// `[[sku.tier]]` bands, exactly one of the two.
fn on_demand_price(
    source: &Source,
    i: usize,
    s: &RawSku,
    currency: Currency,
) -> Result<Vec<Tier>, InputError> {
    let f = |name: &str| format!("sku[{i}].{name}");
    match (&s.on_demand, s.tier.is_empty()) {
        (Some(p), true) => Ok(vec![Tier {
            up_to: None,
            price: money_in(source, &f("on_demand"), p, currency)?,
        }]),
        (None, false) => price_bands(source, i, &s.tier, currency),
        (Some(_), false) => Err(source.field_error(
            &f("tier"),
            "give either `on_demand` (a flat price) or `[[sku.tier]]` bands, not both",
        )),
        (None, true) => Err(source.field_error(
            &f("on_demand"),
            format!("item `{}` has no price; allowed: `on_demand = \"0.10 {currency}\"` or `[[sku.tier]]` bands", s.id),
        )),
    }
}

/// The `i`th item's `[[sku.tier]]` bands: increasing upper bounds, only the
/// last one open; a closed last band is extended by an open one at its price.
fn price_bands(
    source: &Source,
    i: usize,
    bands: &[RawTier],
    currency: Currency,
) -> Result<Vec<Tier>, InputError> {
    let mut tiers = Vec::new();
    let mut last = 0u64;
    for (j, t) in bands.iter().enumerate() {
        let tf = format!("sku[{i}].tier[{j}]");
        let price = money_in(source, &format!("{tf}.price"), &t.price, currency)?;
        let is_last = j + 1 == bands.len();
        match (t.up_to, is_last) {
            (Some(u), _) if u <= last => {
                return Err(source.field_error(
                    &format!("{tf}.up_to"),
                    format!("bands out of order: {u} is not above the previous band's {last}; allowed: increasing upper bounds"),
                ))
            }
            (None, false) => {
                return Err(
                    source.field_error(&tf, "only the last band may be open (no `up_to`)")
                )
            }
            (Some(u), _) => last = u,
            (None, true) => {}
        }
        tiers.push(Tier {
            up_to: t.up_to,
            price,
        });
    }
    if tiers.last().is_some_and(|t| t.up_to.is_some()) {
        tiers.push(Tier {
            up_to: None,
            price: tiers[tiers.len() - 1].price,
        });
    }
    Ok(tiers)
}

/// The `i`th `[[change]]`: dated after the book's `taken_on` and not before
/// the `previous` change, a fall of less than 100 %, on items of the book.
fn price_change(
    source: &Source,
    i: usize,
    c: &RawChange,
    taken_on: Date,
    previous: Option<Date>,
    skus: &BTreeMap<String, Sku>,
) -> Result<PriceChange, InputError> {
    let f = |name: &str| format!("change[{i}].{name}");
    let from = date(source, &f("from"), &c.from)?;
    if from <= taken_on {
        return Err(source.field_error(
            &f("from"),
            format!("{from} is not after the day the prices were taken ({taken_on}); a change before then is already in the prices"),
        ));
    }
    if let Some(p) = previous {
        if from < p {
            return Err(source.field_error(
                &f("from"),
                format!("dates out of order: {from} comes after a change dated {p}; allowed: changes in date order"),
            ));
        }
    }
    let pct = percent(source, &f("change"), &c.change)?;
    if pct <= -1.0 {
        return Err(source.field_error(&f("change"), "a price cannot fall by 100 % or more"));
    }
    for (j, s) in c.skus.iter().enumerate() {
        if !skus.contains_key(s) {
            return Err(source.field_error(
                &format!("change[{i}].skus[{j}]"),
                format!(
                    "unknown item `{s}`; allowed: {}",
                    skus.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            ));
        }
    }
    Ok(PriceChange {
        from,
        change_ppm: (pct * 1e6).round() as i64,
        skus: c.skus.clone(),
        source: c.source.clone(),
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCostFile {
    scenario: RawMeta,
    cost: RawCost,
    #[serde(default)]
    estate: Vec<RawEstate>,
    #[serde(default)]
    stated: Vec<RawStated>,
    migration: Option<RawMigration>,
    budget: Option<RawBudget>,
    #[serde(default)]
    case: Vec<RawCase>,
    #[serde(default)]
    risks: Vec<super::risk::RawRisk>,
    actuals: Option<RawActuals>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawActuals {
    cur: String,
    estate: Option<String>,
    tolerance: Option<String>,
    #[serde(default)]
    items: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMeta {
    name: String,
    description: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCost {
    estate: String,
    fleet: Option<String>,
    #[serde(default)]
    profiles: Vec<String>,
    #[serde(default)]
    reprice: BTreeMap<String, String>,
    fleet_starts: Option<String>,
    start: String,
    months: i64,
    discount_rate: String,
    growth_per_year: Option<String>,
    stated_tolerance: Option<String>,
    sensitivity: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFx {
    from: String,
    to: String,
    rate: String,
    taken_on: String,
    source: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEstate {
    name: String,
    book: Option<String>,
    #[serde(default)]
    line: Vec<RawLine>,
    #[serde(default)]
    staff: Vec<RawStaff>,
    #[serde(default)]
    capex: Vec<RawCapex>,
    #[serde(default)]
    one_off: Vec<RawOneOff>,
    #[serde(default)]
    one_off_usage: Vec<RawOneOffUsage>,
    #[serde(default)]
    savings_plan: Vec<RawSavingsPlan>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSavingsPlan {
    name: String,
    #[serde(rename = "type")]
    kind: String,
    family: Option<String>,
    book: Option<String>,
    hourly: String,
    term: String,
    upfront: Option<String>,
    upfront_fee: Option<String>,
    starts: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLine {
    sku: String,
    book: Option<String>,
    #[serde(default)]
    sites: Vec<String>,
    count: Option<f64>,
    volume: Option<String>,
    commitment: Option<String>,
    reserved_until: Option<String>,
    upfront: Option<String>,
    upfront_fee: Option<String>,
    hourly: Option<String>,
    term_starts: Option<String>,
    grows: Option<bool>,
    starts: Option<String>,
    stops: Option<String>,
}

impl RawLine {
    /// A line of `count` instances or `volume` a month of `sku` (from
    /// `book`, or the estate's), on demand, at no site yet.
    pub(crate) fn plain(
        sku: &str,
        book: Option<&str>,
        count: Option<f64>,
        volume: Option<&str>,
        grows: Option<bool>,
    ) -> RawLine {
        RawLine {
            sku: sku.to_string(),
            book: book.map(str::to_string),
            sites: Vec::new(),
            count,
            volume: volume.map(str::to_string),
            commitment: None,
            reserved_until: None,
            upfront: None,
            upfront_fee: None,
            hourly: None,
            term_starts: None,
            grows,
            starts: None,
            stops: None,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStaff {
    line: String,
    servers_per_engineer: i64,
    minimum: Option<i64>,
    loaded_cost: String,
    source: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCapex {
    name: String,
    site: Option<String>,
    amount: String,
    purchased: String,
    depreciation_months: i64,
    salvage: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOneOff {
    name: String,
    site: Option<String>,
    amount: String,
    date: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOneOffUsage {
    name: String,
    sku: String,
    book: Option<String>,
    volume: String,
    date: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStated {
    estate: String,
    line: String,
    monthly: String,
    source: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMigration {
    from: String,
    to: String,
    start: String,
    per_region: String,
    lead: Option<String>,
    labour_per_region: Option<String>,
    data_per_region: Option<String>,
    data_sku: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBudget {
    monthly: Option<String>,
    total: Option<String>,
    #[serde(default)]
    lines: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCase {
    name: String,
    growth_per_year: Option<String>,
    volume: Option<String>,
    fx: Option<String>,
    #[serde(default)]
    estate_prices: BTreeMap<String, String>,
    per_region: Option<String>,
}

/// A validated cost scenario.
#[derive(Debug, Clone)]
pub struct CostScenario {
    /// A short name for reports.
    pub name: String,
    /// What it shows.
    pub description: Option<String>,
    /// The price books read: each one's name and its file as the estate
    /// names it.
    pub pricebook_files: Vec<(String, PathBuf)>,
    /// The model to project.
    pub model: CostModel,
    /// What is uncertain (`[[risks]]`, see [`super::risk`]): drawn in the
    /// replications of a plan this scenario prices.
    pub risks: Vec<super::risk::Risk>,
    /// What the estate really paid (`[actuals]`), reconciled with its book.
    pub actuals: Option<Actuals>,
}

/// A CUR month of one of the scenario's estates, held against its book.
#[derive(Debug, Clone)]
pub struct Actuals {
    /// The CUR file as the scenario names it.
    pub file: PathBuf,
    /// The estate it describes.
    pub estate: String,
    /// The price book it is reconciled with (the estate's profile's).
    pub book: String,
    /// Relative gap above which a usage group is flagged.
    pub tolerance: f64,
    /// The month as billed.
    pub bill: ActualBill,
    /// Its usage groups against the book.
    pub reconciled: Vec<Reconciled>,
    /// What the commitments the scenario declares for the estate cost in
    /// the CUR's month, amortised (`None` when it declares none).
    pub declared_commitments: Option<Money>,
}

/// Default relative gap above which a CUR usage group is flagged: 1 %.
/// List prices reproduce a CUR's unblended cost to its rounding, so a gap
/// above that is another price (a region's own, a negotiated discount).
pub const DEFAULT_ACTUALS_TOLERANCE: f64 = 0.01;

/// Default relative gap above which a stated line is flagged: 25 %, wide
/// enough for taxes, credits and rounding on a real invoice.
pub const DEFAULT_STATED_TOLERANCE: f64 = 0.25;
/// Default swing of each input in the tornado table: +-20 %.
pub const DEFAULT_SENSITIVITY: f64 = 0.20;
/// Longest horizon accepted: 10 years.
pub const MAX_MONTHS: i64 = 120;
/// Most instances one usage line may hold (a sanity bound, not a provider limit).
pub const MAX_COUNT: f64 = 1e6;
/// Most data one usage line may move in a month: 1 EB.
pub const MAX_VOLUME_BYTES: f64 = 1e18;

/// `1 + p` for a change `p` written as a percentage, above -100 % and at
/// most +1000 %.
fn share(source: &Source, field: String, text: &str) -> Result<f64, InputError> {
    let p = percent(source, &field, text)?;
    if p <= -1.0 || p > 10.0 {
        return Err(source.field_error(
            &field,
            format!("`{text}`; allowed: above -100% and at most +1000%"),
        ));
    }
    Ok(1.0 + p)
}

fn days_of(source: &Source, field: &str, text: &str) -> Result<u32, InputError> {
    let d = parse_duration(text).map_err(|m| source.field_error(field, m))?;
    let days = d.as_nanos() / 86_400_000_000_000;
    if days == 0 || d.as_nanos() % 86_400_000_000_000 != 0 || days > 3650 {
        return Err(source.field_error(
            field,
            format!("`{text}`; allowed: whole days from 1d to 3650d, e.g. \"1w\" or \"10d\""),
        ));
    }
    Ok(days as u32)
}

fn any_money(
    source: &Source,
    field: &str,
    text: &str,
    allow_negative: bool,
) -> Result<(Money, Currency), InputError> {
    let (m, c) = parse_money(text).map_err(|e| source.field_error(field, e))?;
    if m < Money::ZERO && !allow_negative {
        return Err(source.field_error(
            field,
            format!("`{text}` is negative; allowed: zero or more"),
        ));
    }
    Ok((m, c))
}

impl CostScenario {
    /// Reads and validates the cost scenario at `path`; price book paths are
    /// relative to the scenario's directory.
    pub fn load(path: &Path) -> Result<CostScenario, InputError> {
        Self::from_source(&Source::read(path)?)
    }

    /// Validates a cost scenario already read into `source`, pricing the
    /// fleet of the file its `cost.estate` names.
    pub fn from_source(source: &Source) -> Result<CostScenario, InputError> {
        Self::with_fleet(source, None)
    }

    /// Validates a cost scenario read into `source` that prices `fleet`
    /// instead of the one its `cost.estate` names (a plan prices its own
    /// estate and moves with the projection's settings).
    pub fn with_fleet(source: &Source, fleet: Option<&Fleet>) -> Result<CostScenario, InputError> {
        let raw: RawCostFile = source.parse()?;
        limits::check_name(source, "scenario.name", &raw.scenario.name)?;
        let start_day = cost_settings(source, &raw.cost)?;
        let loaded;
        let fleet = match fleet {
            Some(f) => f,
            None => {
                loaded = Fleet::load(source, "cost.estate", &raw.cost.estate)?;
                &loaded
            }
        };
        let costs = fleet.estate.costs.as_ref().ok_or_else(|| {
            source.field_error(
                "cost.estate",
                format!(
                    "estate `{}` has no [costs]; allowed: an estate whose sites are priced",
                    fleet.estate.name
                ),
            )
        })?;
        let choice = fleet_choice(source, &raw.cost, costs)?;
        let (currency, books, fx) = (costs.currency, costs.books.clone(), costs.fx.clone());
        let pricebook_files = costs.pricebook_files.clone();
        let catalogue = Books {
            by_name: &books,
            listed: books.keys().cloned().collect::<Vec<_>>().join(", "),
        };
        let derived = fleet::cost_estates(fleet, costs, &choice);
        let estates = read_estates(source, &raw.estate, derived, costs, &catalogue, start_day)?;
        let estate_names = EstateNames::of(&estates);
        let stated = raw
            .stated
            .iter()
            .enumerate()
            .map(|(i, s)| stated_line(source, i, s, &estate_names, currency))
            .collect::<Result<Vec<_>, _>>()?;
        let migration = raw
            .migration
            .as_ref()
            .map(|m| read_migration(source, m, costs, fleet, &estate_names, &books))
            .transpose()?;
        let budget = read_budget(source, currency, raw.budget.as_ref())?;
        let base = base_adjustments(source, &raw.cost)?;
        let cases = raw
            .case
            .iter()
            .enumerate()
            .map(|(i, c)| case(source, i, c, &base, &estate_names, migration.is_some()))
            .collect::<Result<Vec<_>, _>>()?;
        let discount_rate = yearly_discount_rate(source, &raw.cost.discount_rate)?;
        if raw.scenario.name.trim().is_empty() {
            return Err(source.field_error("scenario.name", "must not be empty"));
        }
        let stated_tolerance = fraction(
            source,
            "cost.stated_tolerance",
            &raw.cost.stated_tolerance,
            DEFAULT_STATED_TOLERANCE,
        )?;
        let sensitivity = fraction(
            source,
            "cost.sensitivity",
            &raw.cost.sensitivity,
            DEFAULT_SENSITIVITY,
        )?;
        let mut scenario = CostScenario {
            name: raw.scenario.name,
            description: raw.scenario.description,
            pricebook_files,
            model: CostModel {
                books,
                currency,
                fx,
                start: start_day.month_of(),
                months: raw.cost.months as u32,
                estates,
                migration,
                discount_rate,
                base,
                budget,
                stated,
                stated_tolerance,
                actual_baseline: None,
                cases,
                sensitivity,
            },
            risks: Vec::new(),
            actuals: None,
        };
        if let Some(a) = &raw.actuals {
            attach_actuals(source, a, &mut scenario, costs)?;
        }
        scenario.risks = super::risk::validate(source, "risks", &raw.risks, Some(&scenario))?;
        Ok(scenario)
    }
}

/// Reads `[actuals]` into `scenario`; when the CUR is of the estate a
/// migration leaves, its recurring month becomes the migration's baseline.
fn attach_actuals(
    source: &Source,
    a: &RawActuals,
    scenario: &mut CostScenario,
    costs: &EstateCosts,
) -> Result<(), InputError> {
    let actuals = read_actuals(source, a, &scenario.model, costs)?;
    let model = &mut scenario.model;
    if model
        .migration
        .as_ref()
        .is_some_and(|m| m.from == actuals.estate)
    {
        model.actual_baseline = Some(as_bill_lines(
            &actuals.bill,
            &actuals.estate,
            &actuals.reconciled,
            model.books.get(&actuals.book),
            model.start,
        ));
    }
    scenario.actuals = Some(actuals);
    Ok(())
}

/// Why a usage row of a CUR cannot be billed as the item of `book` it
/// matches (by `items`, or by its instance type): its `pricing/unit` does
/// not fit the item's unit; `None` when it fits or matches nothing.
fn unit_misfit(
    row: &CurLine,
    items: &BTreeMap<String, String>,
    book: &PriceBook,
) -> Option<(&'static str, String)> {
    if !row.kind.is_usage() {
        return None;
    }
    let id = items
        .get(usage_type_key(&row.usage_type))
        .or_else(|| book.skus.get(&row.instance_type).map(|s| &s.id))?;
    let unit = book.skus.get(id)?.unit;
    (!unit_fits(&row.unit, unit)).then(|| {
        (
            "pricing/unit",
            format!(
                "`{}` for usage type `{}`, billed as item `{id}` priced per {}; allowed: {}",
                row.unit,
                row.usage_type,
                unit.name(),
                units_for(unit)
            ),
        )
    })
}

/// The `[actuals]` table: the CUR file (relative to the scenario's
/// directory) of one of the model's estates (`estate`, else the
/// migration's old one, else the first), read in the model's currency,
/// its usage rows' units checked against the items they match, and
/// reconciled with the book of the estate's cost profile.
fn read_actuals(
    source: &Source,
    a: &RawActuals,
    model: &CostModel,
    costs: &EstateCosts,
) -> Result<Actuals, InputError> {
    let names = || {
        model
            .estates
            .iter()
            .map(|e| e.name.clone())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let estate = match &a.estate {
        Some(n) if model.estates.iter().any(|e| &e.name == n) => n.clone(),
        Some(n) => {
            return Err(source.field_error(
                "actuals.estate",
                format!("no estate `{n}` in the fleet; allowed: {}", names()),
            ))
        }
        None => match &model.migration {
            Some(m) => m.from.clone(),
            None => model.estates[0].name.clone(),
        },
    };
    let book = costs
        .profile_index(&estate)
        .map(|p| costs.profiles[p].book.clone())
        .ok_or_else(|| {
            source.field_error(
                "actuals.estate",
                format!("estate `{estate}` has no cost profile naming its book"),
            )
        })?;
    let tolerance = fraction(
        source,
        "actuals.tolerance",
        &a.tolerance,
        DEFAULT_ACTUALS_TOLERANCE,
    )?;
    let the_book = &model.books[&book];
    for (key, id) in &a.items {
        if !the_book.skus.contains_key(id) {
            return Err(source.field_error(
                &format!("actuals.items.{key}"),
                format!(
                    "unknown item `{id}` in price book `{book}`; allowed: {}",
                    the_book.skus.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            ));
        }
    }
    let check = |row: &CurLine| unit_misfit(row, &a.items, the_book);
    let dir = source.path().parent().unwrap_or(Path::new("."));
    let file = dir.join(&a.cur);
    let bill = match super::cur::load(&file, model.currency, &check) {
        Err(InputError::Read { reason, .. }) => {
            return Err(source.field_error(
                "actuals.cur",
                format!("cannot read the CUR {}: {reason}", file.display()),
            ))
        }
        other => other?,
    };
    let pricer = Pricer {
        books: &model.books,
        currency: model.currency,
        fx: &model.fx,
        adjust: &model.base,
        start: model.start,
    };
    let matching = Matching {
        book: &book,
        items: &a.items,
        tolerance,
    };
    let reconciled = reconcile(&bill, &pricer, &matching)
        .map_err(|e| source.field_error("actuals.cur", e.to_string()))?;
    let held = model.estates.iter().find(|e| e.name == estate).filter(|e| {
        !e.savings_plans.is_empty() || e.lines.iter().any(|l| l.commitment.is_reserved())
    });
    let declared_commitments = held
        .map(|e| declared_commitments(&pricer, e, bill.month))
        .transpose()
        .map_err(|e| source.field_error("actuals.cur", e.to_string()))?;
    Ok(Actuals {
        file: PathBuf::from(&a.cur),
        estate,
        book,
        tolerance,
        bill,
        reconciled,
        declared_commitments,
    })
}

/// The price books a scenario reads, by name, and their names listed for
/// errors.
pub(crate) struct Books<'a> {
    pub(crate) by_name: &'a BTreeMap<String, PriceBook>,
    pub(crate) listed: String,
}

/// The scenario's estates, and their names listed for errors.
struct EstateNames<'a> {
    estates: &'a [Estate],
    listed: String,
}

impl<'a> EstateNames<'a> {
    /// The names of `estates`.
    fn of(estates: &'a [Estate]) -> Self {
        let listed = estates
            .iter()
            .map(|e| e.name.clone())
            .collect::<Vec<_>>()
            .join(", ");
        EstateNames { estates, listed }
    }

    /// Whether an estate is named `name`.
    fn contains(&self, name: &str) -> bool {
        self.estates.iter().any(|e| e.name == name)
    }
}

/// The `[cost]` settings' first day, which must open a month, with
/// `months` checked against the longest horizon.
fn cost_settings(source: &Source, cost: &RawCost) -> Result<Date, InputError> {
    let start_day = date(source, "cost.start", &cost.start)?;
    if start_day.day != 1 {
        return Err(source.field_error(
            "cost.start",
            format!(
                "{start_day} is not the first day of a month; bills are monthly, e.g. \"{}\"",
                start_day.month_of().first_day()
            ),
        ));
    }
    if !(1..=MAX_MONTHS).contains(&cost.months) {
        return Err(source.field_error(
            "cost.months",
            format!("{} months; allowed: 1 to {MAX_MONTHS}", cost.months),
        ));
    }
    Ok(start_day)
}

/// What the projection asks of the fleet: `fleet` (pool size), the
/// `profiles` it prices, `reprice` and `fleet_starts`, every profile named
/// one of the estate's.
fn fleet_choice(
    source: &Source,
    cost: &RawCost,
    costs: &EstateCosts,
) -> Result<FleetChoice, InputError> {
    let known = |field: &str, name: &str| {
        if costs.profile_index(name).is_some() {
            Ok(())
        } else {
            Err(source.field_error(
                field,
                format!(
                    "no cost profile `{name}` in the estate; allowed: {}",
                    costs.profile_names()
                ),
            ))
        }
    };
    for (i, p) in cost.profiles.iter().enumerate() {
        known(&format!("cost.profiles[{i}]"), p)?;
    }
    for (from, to) in &cost.reprice {
        known(&format!("cost.reprice.{from}"), from)?;
        known(&format!("cost.reprice.{from}"), to)?;
    }
    Ok(FleetChoice {
        size: match &cost.fleet {
            Some(t) => PoolSize::parse(t).map_err(|m| source.field_error("cost.fleet", m))?,
            None => PoolSize::Peak,
        },
        profiles: cost.profiles.clone(),
        reprice: cost.reprice.clone(),
        starts: cost
            .fleet_starts
            .as_deref()
            .map(|t| date(source, "cost.fleet_starts", t))
            .transpose()?,
    })
}

/// Each price book's name and its file as written in the scenario, in the
/// scenario's order.
pub(crate) type PricebookFiles = Vec<(String, PathBuf)>;

/// Reads the price books listed in `cost.pricebooks` (relative to `dir`):
/// at least one, each named once; returns them by name and, in the
/// scenario's order, each one's name and file as written.
pub(crate) fn read_price_books(
    source: &Source,
    field: &str,
    dir: &Path,
    files: &[String],
) -> Result<(BTreeMap<String, PriceBook>, PricebookFiles), InputError> {
    let mut books = BTreeMap::new();
    let mut pricebook_files = Vec::new();
    if files.is_empty() {
        return Err(source.field_error(field, "no price book; list at least one file"));
    }
    for (i, p) in files.iter().enumerate() {
        let file = dir.join(p);
        let book = match load_price_book(&file) {
            Ok(b) => b,
            Err(InputError::Read { reason: err, .. }) => {
                return Err(source.field_error(
                    &format!("{field}[{i}]"),
                    format!("cannot read price book {}: {err}", file.display()),
                ))
            }
            Err(e) => return Err(e),
        };
        if books.contains_key(&book.name) {
            return Err(source.field_error(
                &format!("{field}[{i}]"),
                format!("two price books are named `{}`", book.name),
            ));
        }
        pricebook_files.push((book.name.clone(), PathBuf::from(p)));
        books.insert(book.name.clone(), book);
    }
    Ok((books, pricebook_files))
}

/// The `[[fx]]` rate at field path `at`: two currencies and a rate above zero.
pub(crate) fn exchange_rate(
    source: &Source,
    at: &str,
    r: &RawFx,
) -> Result<ExchangeRate, InputError> {
    let f = |n: &str| format!("{at}.{n}");
    let from = Currency::parse(&r.from).map_err(|m| source.field_error(&f("from"), m))?;
    let to = Currency::parse(&r.to).map_err(|m| source.field_error(&f("to"), m))?;
    let rate_ppm = parse_decimal_micros(&r.rate)
        .filter(|&v| v > 0)
        .ok_or_else(|| source.field_error(&f("rate"), format!("`{}`; allowed: a number above zero, units of `to` per unit of `from`, e.g. \"1.08\"", r.rate)))?;
    Ok(ExchangeRate {
        from,
        to,
        rate_ppm,
        taken_on: date(source, &f("taken_on"), &r.taken_on)?,
        source: r.source.clone(),
    })
}

/// Every price book's currency must convert into the report currency,
/// directly or by an `[[fx]]` rate.
pub(crate) fn check_convertible(
    source: &Source,
    field: &str,
    currency: Currency,
    fx: &[ExchangeRate],
    pricebook_files: &[(String, PathBuf)],
    books: &BTreeMap<String, PriceBook>,
) -> Result<(), InputError> {
    let convertible =
        |c: Currency| c == currency || fx.iter().any(|r| r.from == c && r.to == currency);
    for (i, (name, _)) in pricebook_files.iter().enumerate() {
        let b = books.get(name).filter(|b| !convertible(b.currency));
        if let Some(b) = b {
            return Err(source.field_error(
                &format!("{field}[{i}]"),
                format!(
                    "price book `{}` is in {}, and no [[fx]] rate converts {} to {currency}",
                    b.name, b.currency, b.currency
                ),
            ));
        }
    }
    Ok(())
}

/// The fleet's estates (`derived`, at least one) with the `[[estate]]`
/// tables' additions: each names a derived estate (a cost profile) and adds
/// lines, staff, capex or one-off costs to it; a reserved or spot line
/// buys instances the fleet already runs that way (see
/// [`convert_derived`]).
fn read_estates(
    source: &Source,
    raw: &[RawEstate],
    mut derived: Vec<Estate>,
    costs: &EstateCosts,
    books: &Books,
    start_day: Date,
) -> Result<Vec<Estate>, InputError> {
    if derived.is_empty() {
        return Err(source.field_error(
            "cost.estate",
            "no site of the fleet is priced; allowed: an estate whose sites have cost profiles (and `cost.profiles` naming theirs)",
        ));
    }
    let fleet_lines: Vec<usize> = derived.iter().map(|e| e.lines.len()).collect();
    for (i, e) in raw.iter().enumerate() {
        let names = EstateNames::of(&derived).listed;
        let Some(k) = derived.iter().position(|d| d.name == e.name) else {
            return Err(source.field_error(
                &format!("estate[{i}].name"),
                format!("no estate `{}` in the fleet; allowed: {names}", e.name),
            ));
        };
        let profile_book = costs
            .profile_index(&e.name)
            .map(|p| costs.profiles[p].book.clone())
            .unwrap_or_default();
        let before = derived[k].lines.len();
        add_to_estate(
            source,
            i,
            e,
            &profile_book,
            books,
            start_day,
            &mut derived[k],
        )?;
        let (fleet, added) = derived[k].lines.split_at_mut(before);
        for line in added.iter() {
            convert_derived(&mut fleet[..fleet_lines[k]], line);
        }
    }
    Ok(derived)
}

/// The `i`th `[[estate]]`'s additions to `estate`: usage lines priced from
/// its book (the profile's `profile_book` unless it names one), staff,
/// capex and one-off costs.
fn add_to_estate(
    source: &Source,
    i: usize,
    e: &RawEstate,
    profile_book: &str,
    books: &Books,
    start_day: Date,
    estate: &mut Estate,
) -> Result<(), InputError> {
    let ef = |n: &str| format!("estate[{i}].{n}");
    let book = e.book.clone().unwrap_or_else(|| profile_book.to_string());
    if !books.by_name.contains_key(&book) {
        return Err(source.field_error(
            &ef("book"),
            format!("no price book named `{book}`; allowed: {}", books.listed),
        ));
    }
    for (j, l) in e.line.iter().enumerate() {
        let at = format!("estate[{i}].line[{j}]");
        estate
            .lines
            .extend(usage_lines(source, &at, l, &book, books, start_day)?);
    }
    for (j, s) in e.staff.iter().enumerate() {
        estate
            .staff
            .push(staff_line(source, &format!("estate[{i}].staff[{j}]"), s)?);
    }
    for (j, c) in e.capex.iter().enumerate() {
        estate
            .capex
            .push(capex_item(source, &format!("estate[{i}].capex[{j}]"), c)?);
    }
    for (j, o) in e.one_off.iter().enumerate() {
        estate
            .one_offs
            .push(one_off(source, &format!("estate[{i}].one_off[{j}]"), o)?);
    }
    for (j, u) in e.one_off_usage.iter().enumerate() {
        let at = format!("estate[{i}].one_off_usage[{j}]");
        estate
            .one_off_usage
            .push(one_off_volume(source, &at, u, &book, books.by_name)?);
    }
    for (j, p) in e.savings_plan.iter().enumerate() {
        let at = format!("estate[{i}].savings_plan[{j}]");
        estate
            .savings_plans
            .push(savings_plan(source, &at, p, &book, books)?);
    }
    Ok(())
}

/// An added line bought otherwise than on demand (reserved, spot) takes
/// its instances from the fleet's on-demand line of the same item at the
/// same site: reserving 5 of a site's 15 nodes leaves 10 on demand (more
/// than the fleet runs are added).
fn convert_derived(fleet: &mut [UsageLine], added: &UsageLine) {
    if added.commitment == Commitment::OnDemand {
        return;
    }
    let mut left = added.quantity;
    for d in fleet.iter_mut().filter(|d| {
        d.commitment == Commitment::OnDemand
            && d.book == added.book
            && d.sku == added.sku
            && d.site == added.site
    }) {
        let take = left.min(d.quantity);
        d.quantity -= take;
        left -= take;
    }
}

/// The `[[estate.line]]` at field path `at`: an item of its book (the
/// estate's `estate_book` unless it names one) priced for its commitment on
/// `start_day`, with a quantity and window; one usage line per site.
pub(crate) fn usage_lines(
    source: &Source,
    at: &str,
    l: &RawLine,
    estate_book: &str,
    books: &Books,
    start_day: Date,
) -> Result<Vec<UsageLine>, InputError> {
    let lf = |n: &str| format!("{at}.{n}");
    for (k, site) in l.sites.iter().enumerate() {
        limits::check_name(source, &lf(&format!("sites[{k}]")), site)?;
    }
    let book_name = l.book.clone().unwrap_or_else(|| estate_book.to_string());
    let book = books.by_name.get(&book_name).ok_or_else(|| {
        source.field_error(
            &lf("book"),
            format!(
                "no price book named `{book_name}`; allowed: {}",
                books.listed
            ),
        )
    })?;
    let item = book.skus.get(&l.sku).ok_or_else(|| {
        source.field_error(
            &lf("sku"),
            format!(
                "unknown item `{}` in price book `{book_name}`; allowed: {}",
                l.sku,
                book.skus.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        )
    })?;
    let quantity = line_quantity(source, at, l, item)?;
    let commitment = line_commitment(source, at, l)?;
    if book.price_on(&l.sku, commitment, start_day).is_err() {
        return Err(source.field_error(
            &lf("commitment"),
            format!(
                "price book `{book_name}` has no {} price for `{}`",
                commitment.name(),
                l.sku
            ),
        ));
    }
    let upfront = line_upfront(source, at, l, commitment, book.currency)?;
    let commitment_ends = match &l.reserved_until {
        Some(t) if commitment.is_reserved() => Some(date(source, &lf("reserved_until"), t)?),
        Some(_) => {
            return Err(
                source.field_error(&lf("reserved_until"), "only reserved lines have a term end")
            )
        }
        // A term that starts ends with it.
        None => upfront.as_ref().map(|u| {
            let months = term_months(commitment).unwrap_or(12);
            let end = u.term_starts.month_of().plus(months);
            Date::new(end.year, end.month, u.term_starts.day.min(end.days()))
                .unwrap_or(end.first_day())
        }),
    };
    let window = line_window(source, at, l)?;
    let sites = if l.sites.is_empty() {
        vec![String::new()]
    } else {
        l.sites.clone()
    };
    Ok(sites
        .into_iter()
        .map(|site| UsageLine {
            book: book_name.clone(),
            sku: l.sku.clone(),
            site,
            quantity,
            commitment,
            commitment_ends,
            window,
            grows: l.grows.unwrap_or(true),
            upfront: upfront.clone(),
        })
        .collect())
}

/// A usage line's quantity in its item's unit: `count` instances for items
/// priced by time, `volume` a month for items priced by data.
fn line_quantity(source: &Source, at: &str, l: &RawLine, item: &Sku) -> Result<f64, InputError> {
    let lf = |n: &str| format!("{at}.{n}");
    if item.unit.is_time() {
        match (l.count, &l.volume) {
            (Some(c), None) if (0.0..=MAX_COUNT).contains(&c) => Ok(c),
            (Some(c), None) => {
                Err(source.field_error(&lf("count"), format!("{c}; allowed: 0 to {MAX_COUNT}")))
            }
            _ => Err(source.field_error(
                &lf("count"),
                format!(
                    "`{}` is priced per {}: give `count` (instances), not `volume`",
                    l.sku,
                    item.unit.name()
                ),
            )),
        }
    } else {
        match (&l.volume, l.count) {
            (Some(v), None) => {
                let bytes = parse_bytes(v).map_err(|m| source.field_error(&lf("volume"), m))?;
                if bytes > MAX_VOLUME_BYTES {
                    return Err(source.field_error(&lf("volume"), format!("`{v}`; allowed: at most 1 EB a month")));
                }
                Ok(bytes / if item.unit == Unit::Tb { 1e12 } else { 1e9 })
            }
            _ => Err(source.field_error(
                &lf("volume"),
                format!("`{}` is priced per {}: give `volume` per month and site, e.g. \"50TB\", not `count`", l.sku, item.unit.name()),
            )),
        }
    }
}

/// A payment option: `none`, `partial` or `all` (upfront).
fn payment(source: &Source, field: &str, text: Option<&str>) -> Result<Payment, InputError> {
    match text.unwrap_or("none") {
        "none" => Ok(Payment::NoUpfront),
        "partial" => Ok(Payment::PartialUpfront),
        "all" => Ok(Payment::AllUpfront),
        other => Err(source.field_error(
            field,
            format!("unknown payment `{other}`; allowed: none, partial, all (upfront)"),
        )),
    }
}

/// A reserved line's `upfront` payment: `none` (the book's no-upfront
/// rate, the default), `partial` (`upfront_fee` per instance and a
/// recurring `hourly` rate) or `all` (`upfront_fee` only), from
/// `term_starts`.
fn line_upfront(
    source: &Source,
    at: &str,
    l: &RawLine,
    commitment: Commitment,
    currency: Currency,
) -> Result<Option<Upfront>, InputError> {
    let lf = |n: &str| format!("{at}.{n}");
    let pay = payment(source, &lf("upfront"), l.upfront.as_deref())?;
    let fields = [&l.upfront_fee, &l.hourly, &l.term_starts];
    let given = fields
        .iter()
        .zip(["upfront_fee", "hourly", "term_starts"])
        .find(|(v, _)| v.is_some());
    if pay == Payment::NoUpfront {
        if let Some((_, name)) = given {
            return Err(source.field_error(
                &lf(name),
                "only a reservation bought with `upfront = \"partial\"` or `\"all\"` takes this",
            ));
        }
        return Ok(None);
    }
    if !commitment.is_reserved() {
        return Err(source.field_error(
            &lf("upfront"),
            "only reserved lines are paid upfront; allowed: commitment = \"reserved-1y\" or \"reserved-3y\"",
        ));
    }
    let need = |name: &str, v: &Option<String>| {
        v.clone().ok_or_else(|| {
            source.field_error(
                &lf(name),
                format!("a {} reservation needs `{name}`", pay.name()),
            )
        })
    };
    let fee = money_in(
        source,
        &lf("upfront_fee"),
        &need("upfront_fee", &l.upfront_fee)?,
        currency,
    )?;
    let hourly = match (pay, &l.hourly) {
        (Payment::AllUpfront, None) => Money::ZERO,
        (Payment::AllUpfront, Some(_)) => {
            return Err(source.field_error(
                &lf("hourly"),
                "an all-upfront reservation has no recurring rate; allowed: no `hourly`",
            ))
        }
        (_, h) => money_in(source, &lf("hourly"), &need("hourly", h)?, currency)?,
    };
    Ok(Some(Upfront {
        payment: pay,
        fee,
        hourly,
        currency,
        term_starts: date(
            source,
            &lf("term_starts"),
            &need("term_starts", &l.term_starts)?,
        )?,
    }))
}

/// The `[[estate.savings_plan]]` at field path `at`, covering items of
/// `book`: `type` compute or ec2-instance (with its `family`), the hourly
/// commitment, a 1- or 3-year term, the payment and the first day.
fn savings_plan(
    source: &Source,
    at: &str,
    p: &RawSavingsPlan,
    book: &str,
    books: &Books,
) -> Result<SavingsPlan, InputError> {
    let f = |n: &str| format!("{at}.{n}");
    limits::check_name(source, &f("name"), &p.name)?;
    let book_name = p.book.clone().unwrap_or_else(|| book.to_string());
    let Some(b) = books.by_name.get(&book_name) else {
        return Err(source.field_error(
            &f("book"),
            format!(
                "no price book named `{book_name}`; allowed: {}",
                books.listed
            ),
        ));
    };
    let scope = match (p.kind.as_str(), &p.family) {
        ("compute", None) => PlanScope::Compute,
        ("ec2-instance", Some(fam)) if !fam.trim().is_empty() => PlanScope::Family(fam.clone()),
        ("ec2-instance", _) => {
            return Err(source.field_error(
                &f("family"),
                "an ec2-instance plan names its instance family, e.g. \"m5\"",
            ))
        }
        ("compute", Some(_)) => {
            return Err(source.field_error(
                &f("family"),
                "a compute plan covers every family; allowed: no `family`",
            ))
        }
        (other, _) => {
            return Err(source.field_error(
                &f("type"),
                format!("unknown plan type `{other}`; allowed: compute, ec2-instance"),
            ))
        }
    };
    let hourly = money_in(source, &f("hourly"), &p.hourly, b.currency)?;
    if hourly <= Money::ZERO {
        return Err(source.field_error(&f("hourly"), "allowed: a commitment above zero"));
    }
    let term = match p.term.as_str() {
        "1y" => Commitment::Reserved1y,
        "3y" => Commitment::Reserved3y,
        other => {
            return Err(source.field_error(
                &f("term"),
                format!("unknown term `{other}`; allowed: 1y, 3y"),
            ))
        }
    };
    let pay = payment(source, &f("upfront"), p.upfront.as_deref())?;
    let mut plan = SavingsPlan {
        name: p.name.clone(),
        book: book_name,
        scope,
        hourly,
        currency: b.currency,
        term,
        payment: pay,
        upfront: Money::ZERO,
        starts: date(source, &f("starts"), &p.starts)?,
    };
    let whole = hourly.times(f64::from(plan.term_hours()));
    plan.upfront = match (pay, &p.upfront_fee) {
        (Payment::NoUpfront, None) => Money::ZERO,
        (Payment::AllUpfront, None) => whole,
        (Payment::PartialUpfront, Some(t)) => {
            let fee = money_in(source, &f("upfront_fee"), t, b.currency)?;
            if fee <= Money::ZERO || fee >= whole {
                return Err(source.field_error(
                    &f("upfront_fee"),
                    format!("`{t}`; allowed: above zero and below the term's commitment, {whole} {}", b.currency),
                ));
            }
            fee
        }
        (Payment::PartialUpfront, None) => {
            return Err(source.field_error(&f("upfront_fee"), "a partial upfront plan needs `upfront_fee`, the amount paid at its start"))
        }
        (_, Some(_)) => {
            return Err(source.field_error(
                &f("upfront_fee"),
                "only a partial upfront plan states its fee (all upfront pays the whole term's commitment)",
            ))
        }
    };
    Ok(plan)
}

/// A usage line's `commitment`, on-demand unless it says otherwise.
fn line_commitment(source: &Source, at: &str, l: &RawLine) -> Result<Commitment, InputError> {
    match l.commitment.as_deref().unwrap_or("on-demand") {
        "on-demand" => Ok(Commitment::OnDemand),
        "reserved-1y" => Ok(Commitment::Reserved1y),
        "reserved-3y" => Ok(Commitment::Reserved3y),
        "spot" => Ok(Commitment::Spot),
        other => Err(source.field_error(
            &format!("{at}.commitment"),
            format!(
                "unknown commitment `{other}`; allowed: on-demand, reserved-1y, reserved-3y, spot"
            ),
        )),
    }
}

/// A usage line's `starts` and `stops` days, the second after the first.
fn line_window(source: &Source, at: &str, l: &RawLine) -> Result<Window, InputError> {
    let lf = |n: &str| format!("{at}.{n}");
    let starts = l
        .starts
        .as_deref()
        .map(|t| date(source, &lf("starts"), t))
        .transpose()?;
    let stops = l
        .stops
        .as_deref()
        .map(|t| date(source, &lf("stops"), t))
        .transpose()?;
    if let (Some(a), Some(b)) = (starts, stops) {
        if b <= a {
            return Err(source.field_error(
                &lf("stops"),
                format!("{b} is not after `starts` ({a}); allowed: a later day"),
            ));
        }
    }
    Ok(Window {
        from: starts,
        until: stops,
    })
}

/// An `[[estate.staff]]` line at field path `at`: engineers per servers and
/// their loaded cost.
fn staff_line(source: &Source, at: &str, s: &RawStaff) -> Result<Staff, InputError> {
    let sf = |n: &str| format!("{at}.{n}");
    let per = u32::try_from(s.servers_per_engineer)
        .ok()
        .filter(|&v| v >= 1)
        .ok_or_else(|| {
            source.field_error(
                &sf("servers_per_engineer"),
                "allowed: a whole number of 1 or more",
            )
        })?;
    let (cost, cur) = any_money(source, &sf("loaded_cost"), &s.loaded_cost, false)?;
    Ok(Staff {
        line: s.line.clone(),
        servers_per_engineer: per,
        minimum: s.minimum.unwrap_or(0).clamp(0, 10_000) as u32,
        loaded_cost_per_month: cost,
        currency: cur,
        source: s.source.clone(),
    })
}

/// An `[[estate.capex]]` purchase at field path `at`: its amount, salvage
/// (no more than the amount, in its currency) and depreciation.
fn capex_item(source: &Source, at: &str, c: &RawCapex) -> Result<Capex, InputError> {
    let cf = |n: &str| format!("{at}.{n}");
    limits::check_name(source, &cf("name"), &c.name)?;
    let (amount, cur) = any_money(source, &cf("amount"), &c.amount, false)?;
    let salvage = match &c.salvage {
        Some(s) => {
            let (m, sc) = any_money(source, &cf("salvage"), s, false)?;
            if sc != cur || m > amount {
                return Err(source.field_error(
                    &cf("salvage"),
                    "allowed: no more than the amount, in its currency",
                ));
            }
            m
        }
        None => Money::ZERO,
    };
    let months = u32::try_from(c.depreciation_months)
        .ok()
        .filter(|&m| (1..=240).contains(&m))
        .ok_or_else(|| {
            source.field_error(&cf("depreciation_months"), "allowed: 1 to 240 months")
        })?;
    Ok(Capex {
        name: c.name.clone(),
        site: c.site.clone().unwrap_or_default(),
        amount,
        currency: cur,
        purchased: date(source, &cf("purchased"), &c.purchased)?,
        depreciation_months: months,
        salvage,
    })
}

/// An `[[estate.one_off]]` amount at field path `at` (negative for a
/// credit) on a day.
fn one_off(source: &Source, at: &str, o: &RawOneOff) -> Result<OneOff, InputError> {
    let of = |n: &str| format!("{at}.{n}");
    limits::check_name(source, &of("name"), &o.name)?;
    let (amount, cur) = any_money(source, &of("amount"), &o.amount, true)?;
    Ok(OneOff {
        name: o.name.clone(),
        site: o.site.clone().unwrap_or_default(),
        amount,
        currency: cur,
        date: date(source, &of("date"), &o.date)?,
    })
}

/// An `[[estate.one_off_usage]]` at field path `at`: a volume of a data
/// item of its book (the estate's `estate_book` unless it names one) on a
/// day.
fn one_off_volume(
    source: &Source,
    at: &str,
    u: &RawOneOffUsage,
    estate_book: &str,
    books: &BTreeMap<String, PriceBook>,
) -> Result<OneOffUsage, InputError> {
    let uf = |n: &str| format!("{at}.{n}");
    let book_name = u.book.clone().unwrap_or_else(|| estate_book.to_string());
    let item = books
        .get(&book_name)
        .and_then(|b| b.skus.get(&u.sku))
        .ok_or_else(|| {
            source.field_error(
                &uf("sku"),
                format!("unknown item `{}` in price book `{book_name}`", u.sku),
            )
        })?;
    if item.unit.is_time() {
        return Err(
            source.field_error(&uf("sku"), "one-off usage must be a volume item (GB or TB)")
        );
    }
    let bytes = parse_bytes(&u.volume).map_err(|m| source.field_error(&uf("volume"), m))?;
    Ok(OneOffUsage {
        name: u.name.clone(),
        book: book_name,
        sku: u.sku.clone(),
        quantity: bytes / if item.unit == Unit::Tb { 1e12 } else { 1e9 },
        date: date(source, &uf("date"), &u.date)?,
    })
}

/// The `i`th `[[stated]]` line: a monthly amount in the report currency,
/// stated for a known estate.
fn stated_line(
    source: &Source,
    i: usize,
    s: &RawStated,
    estates: &EstateNames,
    currency: Currency,
) -> Result<Stated, InputError> {
    let f = |n: &str| format!("stated[{i}].{n}");
    if !estates.contains(&s.estate) {
        return Err(source.field_error(
            &f("estate"),
            format!("no estate `{}`; allowed: {}", s.estate, estates.listed),
        ));
    }
    let monthly = report_money(source, currency, &f("monthly"), &s.monthly)?;
    Ok(Stated {
        estate: s.estate.clone(),
        line: s.line.clone(),
        monthly,
        source: s.source.clone(),
    })
}

/// An amount of zero or more in the report currency.
fn report_money(
    source: &Source,
    currency: Currency,
    field: &str,
    text: &str,
) -> Result<Money, InputError> {
    let (m, c) = any_money(source, field, text, false)?;
    if c != currency {
        return Err(source.field_error(
            field,
            format!("allowed: an amount in the report currency {currency}"),
        ));
    }
    Ok(m)
}

/// The `[migration]` between two distinct estates: the data it copies,
/// its labour, its regions and its pace.
fn read_migration(
    source: &Source,
    m: &RawMigration,
    costs: &EstateCosts,
    fleet: &Fleet,
    estates: &EstateNames,
    books: &BTreeMap<String, PriceBook>,
) -> Result<Migration, InputError> {
    for (field, name) in [("migration.from", &m.from), ("migration.to", &m.to)] {
        if !estates.contains(name) {
            return Err(source.field_error(
                field,
                format!("no estate `{name}`; allowed: {}", estates.listed),
            ));
        }
    }
    if m.from == m.to {
        return Err(source.field_error("migration.to", "must differ from `from`"));
    }
    let old_book = costs
        .profile_index(&m.from)
        .map(|p| costs.profiles[p].book.clone())
        .unwrap_or_default();
    let data_moved_per_region = migration_data(source, m, old_book, books)?;
    let labour_per_region = m
        .labour_per_region
        .as_deref()
        .map(|t| any_money(source, "migration.labour_per_region", t, false))
        .transpose()?;
    let regions: Vec<String> = fleet.moves.iter().map(|(from, _)| from.clone()).collect();
    check_regions(source, m, &regions, estates.estates)?;
    Ok(Migration {
        from: m.from.clone(),
        to: m.to.clone(),
        start: date(source, "migration.start", &m.start)?,
        regions,
        days_per_region: days_of(source, "migration.per_region", &m.per_region)?,
        lead_days: match &m.lead {
            Some(l) => days_of(source, "migration.lead", l)?,
            None => 0,
        },
        labour_per_region,
        data_moved_per_region,
    })
}

/// The data a migration copies per region, priced by a volume item of the
/// old estate's book `old_book`: both `data_per_region` and `data_sku`, or
/// neither.
fn migration_data(
    source: &Source,
    m: &RawMigration,
    old_book: String,
    books: &BTreeMap<String, PriceBook>,
) -> Result<Option<(f64, String, String)>, InputError> {
    match (&m.data_per_region, &m.data_sku) {
        (None, None) => Ok(None),
        (Some(v), Some(sku)) => {
            let item = books.get(&old_book).and_then(|b| b.skus.get(sku)).ok_or_else(|| {
                source.field_error("migration.data_sku", format!("unknown item `{sku}` in price book `{old_book}` of estate `{}`", m.from))
            })?;
            if item.unit.is_time() {
                return Err(source.field_error("migration.data_sku", "allowed: a volume item (GB or TB), e.g. internet egress"));
            }
            let bytes = parse_bytes(v).map_err(|e| source.field_error("migration.data_per_region", e))?;
            if bytes > MAX_VOLUME_BYTES {
                return Err(source.field_error("migration.data_per_region", format!("`{v}`; allowed: at most 1 EB")));
            }
            Ok(Some((bytes / if item.unit == Unit::Tb { 1e12 } else { 1e9 }, old_book, sku.clone())))
        }
        _ => Err(source.field_error(
            "migration",
            "give both `data_per_region` and `data_sku` (the item that prices the copy), or neither",
        )),
    }
}

/// A migration's `regions` (the old sites of the fleet's moves): at least
/// one, each moving once and a site of a line of one of its two estates.
fn check_regions(
    source: &Source,
    m: &RawMigration,
    regions: &[String],
    estates: &[Estate],
) -> Result<(), InputError> {
    if regions.is_empty() {
        return Err(source.field_error(
            "migration",
            "the fleet has no moves; allowed: `cost.estate` naming a plan file, whose [[moves]] pair each old site with its new one",
        ));
    }
    let sites: std::collections::BTreeSet<&str> = estates
        .iter()
        .filter(|e| e.name == m.from || e.name == m.to)
        .flat_map(|e| e.lines.iter().map(|l| l.site.as_str()))
        .filter(|s| !s.is_empty())
        .collect();
    for (i, r) in regions.iter().enumerate() {
        if regions[..i].contains(r) {
            return Err(source.field_error(
                "migration",
                format!("site `{r}` moves twice in the fleet's plan; each region moves once"),
            ));
        }
        if !sites.contains(r.as_str()) {
            return Err(source.field_error(
                "migration",
                format!(
                    "the move of `{r}` has no line of `{}` or `{}`; allowed: moves between sites of these profiles ({})",
                    m.from,
                    m.to,
                    sites.iter().copied().collect::<Vec<_>>().join(", ")
                ),
            ));
        }
    }
    Ok(())
}

/// The `[budget]`, in the report currency; none when the table is absent.
fn read_budget(
    source: &Source,
    currency: Currency,
    raw: Option<&RawBudget>,
) -> Result<Budget, InputError> {
    let Some(b) = raw else {
        return Ok(Budget::default());
    };
    let money = |field: &str, text: &str| report_money(source, currency, field, text);
    Ok(Budget {
        monthly_total: b
            .monthly
            .as_deref()
            .map(|t| money("budget.monthly", t))
            .transpose()?,
        horizon_total: b
            .total
            .as_deref()
            .map(|t| money("budget.total", t))
            .transpose()?,
        lines: b
            .lines
            .iter()
            .map(|(k, v)| Ok((k.clone(), money(&format!("budget.lines.{k}"), v)?)))
            .collect::<Result<_, InputError>>()?,
    })
}

/// The base case's adjustments: the `[cost]` growth a year, nothing else.
fn base_adjustments(source: &Source, cost: &RawCost) -> Result<Adjustments, InputError> {
    let growth = match &cost.growth_per_year {
        Some(g) => share(source, "cost.growth_per_year".to_string(), g)? - 1.0,
        None => 0.0,
    };
    Ok(Adjustments {
        growth_per_year: growth,
        ..Adjustments::default()
    })
}

/// The `i`th `[[case]]`: the `base` adjustments with its own growth,
/// volume, exchange rates, prices of known estates and, with a migration,
/// pace.
fn case(
    source: &Source,
    i: usize,
    c: &RawCase,
    base: &Adjustments,
    estates: &EstateNames,
    has_migration: bool,
) -> Result<Case, InputError> {
    let f = |n: &str| format!("case[{i}].{n}");
    let mut a = base.clone();
    if let Some(g) = &c.growth_per_year {
        a.growth_per_year = share(source, f("growth_per_year"), g)? - 1.0;
    }
    if let Some(v) = &c.volume {
        a.volume_factor = share(source, f("volume"), v)?;
    }
    if let Some(v) = &c.fx {
        a.fx_factor = share(source, f("fx"), v)?;
    }
    for (k, v) in &c.estate_prices {
        if !estates.contains(k) {
            return Err(source.field_error(
                &f("estate_prices"),
                format!("no estate `{k}`; allowed: {}", estates.listed),
            ));
        }
        let factor = share(source, format!("case[{i}].estate_prices.{k}"), v)?;
        a.estate_price_factor.insert(k.clone(), factor);
    }
    let days_per_region = c
        .per_region
        .as_deref()
        .map(|t| days_of(source, &f("per_region"), t))
        .transpose()?;
    if days_per_region.is_some() && !has_migration {
        return Err(source.field_error(
            &f("per_region"),
            "only a scenario with a [migration] has a pace",
        ));
    }
    Ok(Case {
        name: c.name.clone(),
        adjust: a,
        days_per_region,
    })
}

/// The `[cost]` discount rate, 0 % to 100 % a year.
fn yearly_discount_rate(source: &Source, text: &str) -> Result<f64, InputError> {
    let rate = percent(source, "cost.discount_rate", text)?;
    if !(0.0..=1.0).contains(&rate) {
        return Err(source.field_error("cost.discount_rate", "allowed: 0% to 100% a year"));
    }
    Ok(rate)
}

/// A share written as a percentage, above 0 % and below 100 %; `default`
/// when absent.
fn fraction(
    source: &Source,
    field: &str,
    v: &Option<String>,
    default: f64,
) -> Result<f64, InputError> {
    match v {
        Some(t) => {
            let p = percent(source, field, t)?;
            if p <= 0.0 || p >= 1.0 {
                return Err(source.field_error(field, "allowed: above 0% and below 100%"));
            }
            Ok(p)
        }
        None => Ok(default),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOOK: &str = r#"
[book]
name = "b"
provider = "P"
currency = "USD"
taken_on = "2026-11-01"
source = "test"

[[sku]]
id = "vm"
line = "compute"
unit = "hour"
billing = "per-second"
minimum = "60s"
on_demand = "0.10 USD"
source = "test"
taken_on = "2026-11-01"
"#;

    fn book_err(text: &str) -> String {
        let src = Source::from_text(Path::new("book.toml"), text.to_string());
        price_book_from_source(&src).unwrap_err().to_string()
    }

    #[test]
    fn a_valid_book_loads() {
        let src = Source::from_text(Path::new("book.toml"), BOOK.to_string());
        let b = price_book_from_source(&src).unwrap();
        assert_eq!(
            b.skus["vm"].granularity,
            Granularity::PerSecond { minimum_s: 60 }
        );
    }

    #[test]
    fn a_missing_currency_is_located() {
        let err = book_err(&BOOK.replace("currency = \"USD\"\n", ""));
        assert!(err.starts_with("book.toml:2:1:"), "{err}");
        assert!(err.contains("currency"), "{err}");
    }

    #[test]
    fn a_negative_price_is_located() {
        let err = book_err(&BOOK.replace("\"0.10 USD\"", "\"-0.10 USD\""));
        assert!(
            err.starts_with("book.toml:15:13: field `sku[0].on_demand`"),
            "{err}"
        );
        assert!(err.contains("negative"), "{err}");
    }

    #[test]
    fn a_price_in_another_currency_is_refused() {
        let err = book_err(&BOOK.replace("\"0.10 USD\"", "\"0.10 EUR\""));
        assert!(err.contains("book's currency is USD"), "{err}");
    }

    #[test]
    fn changes_out_of_order_and_unknown_items_are_located() {
        let text = format!(
            "{BOOK}\n[[change]]\nfrom = \"2027-06-01\"\nchange = \"+5%\"\nsource = \"t\"\n\n[[change]]\nfrom = \"2027-01-01\"\nchange = \"+5%\"\nsource = \"t\"\n"
        );
        let err = book_err(&text);
        assert!(
            err.contains("field `change[1].from`") && err.contains("out of order"),
            "{err}"
        );
        let text = format!("{BOOK}\n[[change]]\nfrom = \"2027-06-01\"\nchange = \"+5%\"\nskus = [\"vm\", \"gpu\"]\nsource = \"t\"\n");
        let err = book_err(&text);
        assert!(
            err.contains("change[0].skus[1]") && err.contains("unknown item `gpu`; allowed: vm"),
            "{err}"
        );
        let text = format!(
            "{BOOK}\n[[change]]\nfrom = \"2026-10-01\"\nchange = \"+5%\"\nsource = \"t\"\n"
        );
        assert!(book_err(&text).contains("not after the day the prices were taken"));
    }

    #[test]
    fn tiers_must_increase() {
        let text = BOOK.replace(
            "on_demand = \"0.10 USD\"",
            "tier = [{ up_to = 100, price = \"0.09 USD\" }, { up_to = 50, price = \"0.08 USD\" }]",
        );
        let err = book_err(&text);
        assert!(
            err.contains("sku[0].tier[1].up_to") && err.contains("out of order"),
            "{err}"
        );
    }

    #[test]
    fn percentages_parse() {
        assert_eq!(parse_percent("8%"), Ok(0.08));
        assert_eq!(parse_percent("-10%"), Ok(-0.10));
        assert!(parse_percent("8").is_err());
    }
}
