//! The fleet a cost projection prices, derived from an estate: every site
//! priced by its cost profile (the estate's `[costs]`), its node pool as
//! the nodes line, the profile's other items beside it. Nothing is typed
//! again: a projection names an estate (or an experiment or plan file, for
//! the estate with its added sites and the plan's `[[moves]]`) and says how
//! to size the pools.

use std::collections::BTreeMap;
use std::path::PathBuf;

use cutover_models::cost::{Commitment, Date, Estate as CostEstate, UsageLine, Window};
use cutover_models::nodes::Provisioning;

use crate::estate::{Estate, EstateCosts, Site};
use crate::experiment::{Experiment, RawExperiment};
use crate::scenario::{InputError, Source};

/// An estate with the moves of a plan, if the file was one.
#[derive(Debug, Clone)]
pub struct Fleet {
    /// The estate, with an experiment's sites added and retired.
    pub estate: Estate,
    /// Each move's old and new site tags, in the plan's order.
    pub moves: Vec<(String, String)>,
}

impl Fleet {
    /// The fleet of the estate, experiment or plan file `file` (relative to
    /// the file of `source`), named at `field`.
    pub fn load(source: &Source, field: &str, file: &str) -> Result<Fleet, InputError> {
        let path: PathBuf = source
            .path()
            .parent()
            .unwrap_or(std::path::Path::new(""))
            .join(file);
        let named = Source::read(&path).map_err(|e| match e {
            InputError::Read { path, reason } => {
                source.field_error(field, format!("cannot read `{}`: {reason}", path.display()))
            }
            other => other,
        })?;
        if !named.has_field("experiment") {
            return Ok(Fleet {
                estate: Estate::from_source(&named)?,
                moves: Vec::new(),
            });
        }
        let raw: RawExperiment = named.parse()?;
        let exp = Experiment::from_raw(&named, &raw)?;
        let mut moves = Vec::new();
        for (i, m) in raw.moves.iter().enumerate() {
            for (what, tag) in [("from", &m.from), ("to", &m.to)] {
                if exp.estate.site_index(tag).is_none() {
                    return Err(named.field_error(
                        &format!("moves[{i}].{what}"),
                        format!("no site `{tag}`; allowed: {}", exp.estate.site_tags()),
                    ));
                }
            }
            moves.push((m.from.clone(), m.to.clone()));
        }
        Ok(Fleet {
            estate: exp.estate,
            moves,
        })
    }
}

/// How many nodes a site's pool is priced at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolSize {
    /// The nodes the HPA's `max_replicas` need (within the pool's maximum,
    /// never below its start): the headroom the estate is built for.
    Peak,
    /// The nodes it starts with.
    Start,
}

impl PoolSize {
    /// Parses `"peak"` or `"start"`.
    pub fn parse(text: &str) -> Result<PoolSize, String> {
        match text {
            "peak" => Ok(PoolSize::Peak),
            "start" => Ok(PoolSize::Start),
            other => Err(format!("`{other}`; allowed: \"peak\", \"start\"")),
        }
    }
}

/// What a projection asks of the fleet.
#[derive(Debug, Clone)]
pub struct FleetChoice {
    /// How the pools are sized.
    pub size: PoolSize,
    /// The profiles priced (after `reprice`); empty: every one.
    pub profiles: Vec<String>,
    /// Sites of a profile priced as another one instead.
    pub reprice: BTreeMap<String, String>,
    /// The day the fleet starts running (setup fees fall then); `None`:
    /// already running when the horizon starts.
    pub starts: Option<Date>,
}

/// The nodes site `site`'s pool is priced at.
pub fn pool_nodes(estate: &Estate, site: &Site, size: PoolSize) -> u32 {
    let pool = &site.nodes;
    let start = pool.ready_nodes().len() as u32;
    match (size, pool.provisioning) {
        (PoolSize::Peak, Provisioning::Cloud { max_nodes, .. }) => {
            let per_node = pool.pods_per_node(estate.deployment.cpu_request_millicores);
            let max_replicas = estate.deployment.hpa.max_replicas.max(0) as u32;
            let need = if per_node == 0 {
                max_nodes
            } else {
                max_replicas.div_ceil(per_node)
            };
            need.min(max_nodes).max(start)
        }
        _ => start,
    }
}

/// The profile name each site of `fleet` is priced as under `choice`, or
/// `None` for a site not priced.
fn site_profile<'c>(
    costs: &'c EstateCosts,
    site: &Site,
    choice: &'c FleetChoice,
) -> Option<&'c str> {
    let name = costs.profiles[site.cost?].name.as_str();
    let name = choice.reprice.get(name).map_or(name, String::as_str);
    (choice.profiles.is_empty() || choice.profiles.iter().any(|p| p == name)).then_some(name)
}

/// The fleet's sites as cost estates, one per profile (in the order of the
/// estate's profiles): each site's nodes line and its profile's lines,
/// at the site's tag, or at its old site's tag when it is a move's new
/// site (the region it takes over).
pub fn cost_estates(fleet: &Fleet, costs: &EstateCosts, choice: &FleetChoice) -> Vec<CostEstate> {
    let region: BTreeMap<&str, &str> = fleet
        .moves
        .iter()
        .map(|(from, to)| (to.as_str(), from.as_str()))
        .collect();
    let mut estates: Vec<CostEstate> = Vec::new();
    for site in &fleet.estate.sites {
        let Some(name) = site_profile(costs, site, choice) else {
            continue;
        };
        let Some(profile) = costs.profiles.iter().find(|p| p.name == name) else {
            continue;
        };
        let tag = site.network.tag.as_str();
        let at = region.get(tag).copied().unwrap_or(tag).to_string();
        let window = Window {
            from: choice.starts,
            until: None,
        };
        let placed = |l: &UsageLine| UsageLine {
            site: at.clone(),
            window,
            ..l.clone()
        };
        let mut lines = Vec::new();
        if let Some(sku) = &profile.nodes {
            lines.push(UsageLine {
                book: profile.book.clone(),
                sku: sku.clone(),
                site: at.clone(),
                quantity: f64::from(pool_nodes(&fleet.estate, site, choice.size)),
                commitment: Commitment::OnDemand,
                commitment_ends: None,
                window,
                grows: true,
                upfront: None,
            });
        }
        lines.extend(profile.lines.iter().map(placed));
        lines.extend(profile.egress.iter().map(placed));
        lines.extend(profile.replication.iter().map(placed));
        match estates.iter_mut().find(|e| e.name == name) {
            Some(e) => e.lines.extend(lines),
            None => estates.push(CostEstate {
                name: name.to_string(),
                lines,
                ..CostEstate::default()
            }),
        }
    }
    let order = |e: &CostEstate| costs.profile_index(&e.name).unwrap_or(usize::MAX);
    estates.sort_by_key(order);
    estates
}
