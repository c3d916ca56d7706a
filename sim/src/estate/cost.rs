//! The estate's costs (`[costs]`): the price books it is priced from, the
//! report currency and exchange rates, and what each site's compute is
//! priced as (a cost profile). The world's cost meter and every cost
//! projection price the estate's sites from here, so no experiment types
//! its fleet again.
//!
//! ```toml
//! [costs]
//! currency = "USD"
//! pricebooks = ["../pricebooks/hyperscaler.toml"]
//! prices_on = "2027-01-01"      # prices of an undated run (an experiment); a
//!                               # plan is billed month by month from its start
//! # A site's profile unless it names one (`cost = "..."` in [[sites]]),
//! # by the kind of its node pool.
//! defaults = { cloud = "cloud", bare-metal = "bare metal" }
//! response_size = "9.6kB"       # bytes sent per request served, for egress
//!
//! [[costs.profiles]]
//! name = "cloud"                # also the estate's name in projections
//! book = "hyperscaler"
//! nodes = "m5.2xlarge"          # each node of the site's pool, as it runs
//! # Traffic to users: per GB served in a run (requests x response_size);
//! # a projection, which serves none, takes `monthly` per site.
//! egress = { sku = "internet-egress", monthly = "10TB" }
//! # Replication: per GB the data classes send to other sites in a run
//! # (each `[[data]]` class's writes x change_size x copies); a
//! # projection takes `monthly` per site.
//! replication = { sku = "inter-region", monthly = "60TB" }
//!
//! [[costs.profiles.lines]]      # the site's other items: count or volume a month
//! sku = "eks-cluster"
//! count = 1
//! grows = false
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;

use cutover_models::cost::{Currency, Date, ExchangeRate, PriceBook, UsageLine};
use cutover_models::data::DataClass;
use serde::Deserialize;

use crate::scenario::cost::{
    check_convertible, exchange_rate, read_price_books, usage_lines, Books, RawFx, RawLine,
};
use crate::scenario::limits;
use crate::scenario::units::parse_bytes;
use crate::scenario::{InputError, Source};

/// `[costs]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCosts {
    currency: String,
    pricebooks: Vec<String>,
    prices_on: String,
    #[serde(default)]
    defaults: BTreeMap<String, String>,
    response_size: Option<String>,
    #[serde(default)]
    fx: Vec<RawFx>,
    #[serde(default)]
    profiles: Vec<RawProfile>,
}

/// `[[costs.profiles]]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    name: String,
    book: String,
    nodes: Option<String>,
    egress: Option<RawTraffic>,
    replication: Option<RawTraffic>,
    #[serde(default)]
    lines: Vec<RawProfileLine>,
}

/// A profile's traffic item (`egress`, `replication`) as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTraffic {
    sku: String,
    monthly: String,
}

/// `[[costs.profiles.lines]]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfileLine {
    sku: String,
    book: Option<String>,
    count: Option<f64>,
    volume: Option<String>,
    grows: Option<bool>,
}

/// What a site's compute is priced as.
#[derive(Debug, Clone, PartialEq)]
pub struct CostProfile {
    /// Its name (`cloud`, `bare metal`): the estate's name in projections.
    pub name: String,
    /// The price book of its items unless a line names another.
    pub book: String,
    /// The item each node of the site's pool is priced as.
    pub nodes: Option<String>,
    /// The site's traffic to users: the item it is priced as, and a line
    /// of its monthly volume for projections.
    pub egress: Option<UsageLine>,
    /// The site's replication traffic to other sites (what its data
    /// classes send): the item it is priced as, and a line of its monthly
    /// volume for projections.
    pub replication: Option<UsageLine>,
    /// The site's other items, at no site yet (the site's tag is filled in
    /// where the profile is used).
    pub lines: Vec<UsageLine>,
}

/// The estate's price books and cost profiles.
#[derive(Debug, Clone, PartialEq)]
pub struct EstateCosts {
    /// The currency every cost is reported in.
    pub currency: Currency,
    /// The price books by name.
    pub books: BTreeMap<String, PriceBook>,
    /// Each book's name and its file as the estate names it.
    pub pricebook_files: Vec<(String, PathBuf)>,
    /// Stated exchange rates into `currency`.
    pub fx: Vec<ExchangeRate>,
    /// The day whose prices the world's meter uses for a run without a
    /// date (an experiment); a dated run (a plan) is priced month by month
    /// from `[plan] start`, as a projection prices those months.
    pub prices_on: Date,
    /// Bytes sent per request served, for egress.
    pub response_bytes: f64,
    /// The cost profiles.
    pub profiles: Vec<CostProfile>,
    /// The profile of a site that names none, for a cloud pool.
    pub default_cloud: Option<usize>,
    /// The same for bare-metal servers.
    pub default_bare_metal: Option<usize>,
}

impl EstateCosts {
    /// The profile named `name`.
    pub fn profile_index(&self, name: &str) -> Option<usize> {
        self.profiles.iter().position(|p| p.name == name)
    }

    /// The profile names, for "allowed:" messages.
    pub fn profile_names(&self) -> String {
        self.profiles
            .iter()
            .map(|p| format!("\"{}\"", p.name))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Validates `[costs]`; price book paths are relative to the estate file.
pub(crate) fn validate(source: &Source, raw: &RawCosts) -> Result<EstateCosts, InputError> {
    let currency =
        Currency::parse(&raw.currency).map_err(|m| source.field_error("costs.currency", m))?;
    let prices_on =
        Date::parse(&raw.prices_on).map_err(|m| source.field_error("costs.prices_on", m))?;
    let dir = source.path().parent().unwrap_or(std::path::Path::new(""));
    let (books, files) = read_price_books(source, "costs.pricebooks", dir, &raw.pricebooks)?;
    let fx = raw
        .fx
        .iter()
        .enumerate()
        .map(|(i, r)| exchange_rate(source, &format!("costs.fx[{i}]"), r))
        .collect::<Result<Vec<_>, _>>()?;
    check_convertible(source, "costs.pricebooks", currency, &fx, &files, &books)?;
    let listed = books.keys().cloned().collect::<Vec<_>>().join(", ");
    let catalogue = Books {
        by_name: &books,
        listed,
    };
    let mut profiles: Vec<CostProfile> = Vec::new();
    for (i, p) in raw.profiles.iter().enumerate() {
        let at = format!("costs.profiles[{i}]");
        if profiles.iter().any(|q| q.name == p.name) {
            return Err(source.field_error(
                &format!("{at}.name"),
                format!("two profiles are named `{}`", p.name),
            ));
        }
        profiles.push(profile(source, &at, p, &catalogue, prices_on)?);
    }
    let response_bytes = response_size(source, raw, &profiles)?;
    let mut costs = EstateCosts {
        currency,
        pricebook_files: files,
        books,
        fx,
        prices_on,
        response_bytes,
        profiles,
        default_cloud: None,
        default_bare_metal: None,
    };
    for (kind, name) in &raw.defaults {
        let field = format!("costs.defaults.{kind}");
        let k = costs.profile_index(name).ok_or_else(|| {
            source.field_error(
                &field,
                format!(
                    "no profile named `{name}`; allowed: {}",
                    costs.profile_names()
                ),
            )
        })?;
        match kind.as_str() {
            "cloud" => costs.default_cloud = Some(k),
            "bare-metal" => costs.default_bare_metal = Some(k),
            other => {
                return Err(source.field_error(
                    &field,
                    format!("`{other}` is not a kind of node pool; allowed: cloud, bare-metal"),
                ))
            }
        }
    }
    Ok(costs)
}

/// `response_size`, needed when a profile prices egress.
fn response_size(
    source: &Source,
    raw: &RawCosts,
    profiles: &[CostProfile],
) -> Result<f64, InputError> {
    match &raw.response_size {
        Some(t) => {
            let b = parse_bytes(t).map_err(|m| source.field_error("costs.response_size", m))?;
            if b > 1e12 {
                return Err(source.field_error(
                    "costs.response_size",
                    format!("`{t}`; allowed: at most 1TB per request"),
                ));
            }
            Ok(b)
        }
        None if profiles.iter().any(|p| p.egress.is_some()) => Err(source.field_error(
            "costs.response_size",
            "a profile prices egress; give the bytes sent per request served, e.g. \"10kB\"",
        )),
        None => Ok(0.0),
    }
}

/// The profile at `at`: its book, its node, egress and replication items
/// of the right kinds, and its lines.
fn profile(
    source: &Source,
    at: &str,
    p: &RawProfile,
    books: &Books,
    day: Date,
) -> Result<CostProfile, InputError> {
    limits::check_name(source, &format!("{at}.name"), &p.name)?;
    let book = books.by_name.get(&p.book).ok_or_else(|| {
        source.field_error(
            &format!("{at}.book"),
            format!(
                "no price book named `{}`; allowed: {}",
                p.book, books.listed
            ),
        )
    })?;
    if let Some(sku) = &p.nodes {
        let item = book.skus.get(sku).ok_or_else(|| {
            source.field_error(
                &format!("{at}.nodes"),
                format!(
                    "unknown item `{sku}` in price book `{}`; allowed: {}",
                    p.book,
                    book.skus.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            )
        })?;
        if !item.unit.is_time() {
            return Err(source.field_error(
                &format!("{at}.nodes"),
                format!(
                    "`{sku}` is priced per {}; allowed: an item priced by the hour or month",
                    item.unit.name()
                ),
            ));
        }
    }
    let traffic = |field: &str, t: &Option<RawTraffic>| match t {
        Some(e) => {
            let raw = RawLine::plain(&e.sku, None, None, Some(&e.monthly), None);
            let mut l = usage_lines(source, &format!("{at}.{field}"), &raw, &p.book, books, day)?;
            Ok(l.pop())
        }
        None => Ok(None),
    };
    let egress = traffic("egress", &p.egress)?;
    let replication = traffic("replication", &p.replication)?;
    let mut lines = Vec::new();
    for (j, l) in p.lines.iter().enumerate() {
        let raw = RawLine::plain(
            &l.sku,
            l.book.as_deref(),
            l.count,
            l.volume.as_deref(),
            l.grows,
        );
        lines.extend(usage_lines(
            source,
            &format!("{at}.lines[{j}]"),
            &raw,
            &p.book,
            books,
            day,
        )?);
    }
    Ok(CostProfile {
        name: p.name.clone(),
        book: p.book.clone(),
        nodes: p.nodes.clone(),
        egress,
        replication,
        lines,
    })
}

/// A profile that prices replication needs traffic to price: at least one
/// `[[data]]` class declaring its `change_size` and `copies`.
pub(crate) fn check_replication_measured(
    source: &Source,
    costs: Option<&EstateCosts>,
    classes: &[DataClass],
) -> Result<(), InputError> {
    let Some(costs) = costs else { return Ok(()) };
    if classes.iter().any(|c| c.traffic.is_some()) {
        return Ok(());
    }
    match costs.profiles.iter().position(|p| p.replication.is_some()) {
        Some(i) => Err(source.field_error(
            &format!("costs.profiles[{i}].replication"),
            "no [[data]] class declares its traffic; allowed: with a class giving `change_size` and `copies`, e.g. change_size = \"2kB\", copies = \"all\"",
        )),
        None => Ok(()),
    }
}

/// The profile of a site written at `at` whose pool is bare metal or not:
/// the one it names (`cost`), or the estate's default for its kind of
/// pool; none without `[costs]`.
pub(crate) fn site_profile(
    source: &Source,
    at: &str,
    named: Option<&str>,
    bare_metal: bool,
    costs: Option<&EstateCosts>,
) -> Result<Option<usize>, InputError> {
    match (named, costs) {
        (None, None) => Ok(None),
        (Some(_), None) => Err(source.field_error(
            &format!("{at}.cost"),
            "the estate has no [costs]; allowed: a profile of [[costs.profiles]]",
        )),
        (None, Some(c)) if bare_metal => Ok(c.default_bare_metal),
        (None, Some(c)) => Ok(c.default_cloud),
        (Some(name), Some(c)) => c.profile_index(name).map(Some).ok_or_else(|| {
            source.field_error(
                &format!("{at}.cost"),
                format!("no profile named `{name}`; allowed: {}", c.profile_names()),
            )
        }),
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use crate::estate::Estate;
    use crate::scenario::Source;

    /// A profile pricing replication with no class declaring its traffic
    /// is refused at the profile's `replication`, saying what is needed.
    #[test]
    fn replication_priced_without_measured_traffic_is_located() {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenarios/story/estate.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        let unmeasured: String = text
            .lines()
            .filter(|l| !l.starts_with("change_size") && !l.starts_with("copies"))
            .collect::<Vec<_>>()
            .join("\n");
        assert!(Estate::from_source(&Source::from_text(&path, text)).is_ok());
        let e = Estate::from_source(&Source::from_text(&path, unmeasured))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("costs.profiles[0].replication")
                && e.contains("no [[data]] class declares its traffic")
                && e.contains("change_size"),
            "{e}"
        );
    }
}
