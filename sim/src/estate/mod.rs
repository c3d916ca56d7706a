//! The estate: what exists, described once. An estate file holds the AS
//! graph and how BGP and latency behave (`[network]`), the anycast sites
//! with their upstreams and node pools (`[[sites]]`), the users
//! (`[[populations]]`; `[estate] population_weights = "weights.csv"`
//! weighs them by a CSV of users per population, see
//! `scenario::weights`), the service every site runs (`[deployment]`,
//! `[hpa]`, `[startup]`, `[nodes]`), overflow between sites (`[overflow]`),
//! how failures are detected (`[detection]`), the service level
//! (`[slo]`), the price books and cost profiles its sites are priced
//! from (`[costs]`), and the data its sites write and the services they
//! run, with their recovery objectives (`[[data]]`, `[[services]]`). Experiments name an estate and state only what they change.
//!
//! Validation runs section by section; every error names the file, line,
//! column and field, and says what is allowed.

pub mod compute;
pub mod cost;
pub mod data;
pub mod detection;
mod k8s;
pub mod network;
pub mod policy;
mod yaml;

use std::path::Path;

use cutover_models::bgp::policy::{OptionsError, TopologyOptions};
use cutover_models::bgp::topology::{Topology, TopologySpec};
use cutover_models::data::{DataClass, Service};
use cutover_models::nodes::NodePool;
use serde::Deserialize;

use crate::scenario::{InputError, Source};
pub use compute::{Balancing, Deployment, OverflowSpec, Slo};
pub use cost::{CostProfile, EstateCosts};
pub use detection::{CrashDetection, DetectionSettings};
pub use k8s::describe as describe_manifests;
pub use network::{Graph, NetworkSettings, Population, SiteNetwork};
pub use policy::BgpPolicy;

/// The estate file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawEstate {
    estate: RawMeta,
    network: network::RawNetwork,
    sites: Vec<network::RawSite>,
    populations: Vec<network::RawPopulation>,
    deployment: compute::RawDeployment,
    hpa: Option<compute::RawHpa>,
    startup: Option<compute::RawStartup>,
    nodes: Option<compute::RawNodes>,
    overflow: Option<compute::RawOverflow>,
    detection: Option<detection::RawDetection>,
    slo: Option<compute::RawSlo>,
    costs: Option<cost::RawCosts>,
    #[serde(default)]
    data: Vec<data::RawDataClass>,
    #[serde(default)]
    services: Vec<data::RawService>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMeta {
    name: String,
    description: Option<String>,
    seed: Option<u64>,
    population_weights: Option<String>,
}

/// Sections of the estate an experiment replaces, as written in the
/// experiment's file (`source`).
pub(crate) struct Changes<'a> {
    pub(crate) source: &'a Source,
    pub(crate) deployment: Option<&'a compute::RawDeployment>,
    pub(crate) hpa: Option<&'a compute::RawHpa>,
    pub(crate) startup: Option<&'a compute::RawStartup>,
    pub(crate) nodes: Option<&'a compute::RawNodes>,
    pub(crate) overflow: Option<&'a compute::RawOverflow>,
    pub(crate) detection: Option<&'a detection::RawDetection>,
    pub(crate) slo: Option<&'a compute::RawSlo>,
}

impl<'a> Changes<'a> {
    /// No section replaced.
    pub(crate) fn none(source: &'a Source) -> Self {
        Changes {
            source,
            deployment: None,
            hpa: None,
            startup: None,
            nodes: None,
            overflow: None,
            detection: None,
            slo: None,
        }
    }
}

/// One site: where it is, how it announces, its nodes and what they are
/// priced as.
#[derive(Debug, Clone, PartialEq)]
pub struct Site {
    /// Location and announcement.
    pub network: SiteNetwork,
    /// Nodes at the start and how they grow.
    pub nodes: NodePool,
    /// Its cost profile (an index into the estate's `costs.profiles`).
    pub cost: Option<usize>,
}

/// A validated estate.
#[derive(Debug, Clone, PartialEq)]
pub struct Estate {
    /// A short name for reports.
    pub name: String,
    /// What the estate is.
    pub description: Option<String>,
    /// Latency and BGP behaviour.
    pub network: NetworkSettings,
    /// The AS graph.
    pub graph: Graph,
    /// Export policies and the rest of what operators configure in BGP.
    pub bgp_policy: BgpPolicy,
    /// The anycast sites.
    pub sites: Vec<Site>,
    /// The users.
    pub populations: Vec<Population>,
    /// The service every site runs.
    pub deployment: Deployment,
    /// Overflow between sites, if on.
    pub overflow: Option<OverflowSpec>,
    /// How failures are detected.
    pub detection: DetectionSettings,
    /// The service level.
    pub slo: Slo,
    /// Price books and cost profiles, if the estate is priced.
    pub costs: Option<EstateCosts>,
    /// The classes of data the sites write, with their replication and
    /// RPO (`[[data]]`).
    pub data: Vec<DataClass>,
    /// The services, with their tiers and RTOs (`[[services]]`).
    pub services: Vec<Service>,
    /// The node pool of a site that gives none.
    default_nodes: Option<NodePool>,
}

/// The seed of a generated AS graph when the estate gives none.
pub const DEFAULT_GRAPH_SEED: u64 = 1;

/// Most sites an estate (with an experiment's additions) may hold.
pub const MAX_SITES: usize = 1_000;

impl Estate {
    /// Reads and validates the estate file at `path`.
    pub fn load(path: &Path) -> Result<Estate, InputError> {
        Self::from_source(&Source::read(path)?)
    }

    /// Validates an estate already read into `source`.
    pub fn from_source(source: &Source) -> Result<Estate, InputError> {
        Self::with_changes(source, &Changes::none(source))
    }

    /// Validates the estate in `source` with the sections `changes`
    /// replaces (an experiment's what-if); errors in a replaced section
    /// point into the experiment's file.
    pub(crate) fn with_changes(source: &Source, changes: &Changes) -> Result<Estate, InputError> {
        let raw: RawEstate = source.parse()?;
        if raw.estate.name.trim().is_empty() {
            return Err(source.field_error("estate.name", "must not be empty"));
        }
        let network = network::settings(source, &raw.network)?;
        let graph = network::graph(
            source,
            &raw.network,
            &cities_of(source, &raw)?,
            raw.estate.seed.unwrap_or(DEFAULT_GRAPH_SEED),
        )?;
        let bgp_policy = policy::validate(source, &raw.network.bgp_policy(), &graph)?;
        let mut populations = network::populations(source, &raw.populations, &graph)?;
        if let Some(file) = &raw.estate.population_weights {
            network::read_weights(source, "estate.population_weights", file, &mut populations)?;
        }
        let deployment = compute::deployment(
            match changes.deployment {
                Some(d) => (changes.source, d),
                None => (source, &raw.deployment),
            },
            match changes.hpa {
                Some(h) => (changes.source, Some(h)),
                // An experiment's manifests bring their own HPA.
                None if changes.deployment.is_some_and(|d| d.has_manifests()) => {
                    (changes.source, None)
                }
                None => (source, raw.hpa.as_ref()),
            },
            match changes.startup {
                Some(s) => (changes.source, Some(s)),
                None => (source, raw.startup.as_ref()),
            },
        )?;
        let (nodes_source, nodes) = match changes.nodes {
            Some(n) => (changes.source, Some(n)),
            None => (source, raw.nodes.as_ref()),
        };
        let default_nodes = nodes
            .map(|n| compute::nodes(nodes_source, "nodes", n, deployment.cpu_request_millicores))
            .transpose()?;
        let (overflow_source, overflow) = match changes.overflow {
            Some(o) => (changes.source, Some(o)),
            None => (source, raw.overflow.as_ref()),
        };
        let (detection_source, detection) = match changes.detection {
            Some(d) => (changes.source, Some(d)),
            None => (source, raw.detection.as_ref()),
        };
        let (slo_source, slo) = match changes.slo {
            Some(d) => (changes.source, Some(d)),
            None => (source, raw.slo.as_ref()),
        };
        let mut estate = Estate {
            name: raw.estate.name,
            description: raw.estate.description,
            network,
            graph,
            bgp_policy,
            sites: Vec::new(),
            populations,
            deployment,
            overflow: overflow
                .map(|o| compute::overflow(overflow_source, o))
                .transpose()?
                .flatten(),
            detection: detection::validate(detection_source, detection)?,
            slo: compute::slo(slo_source, slo)?,
            costs: raw
                .costs
                .as_ref()
                .map(|c| cost::validate(source, c))
                .transpose()?,
            data: data::classes(source, &raw.data)?,
            services: data::services(source, &raw.services)?,
            default_nodes,
        };
        cost::check_replication_measured(source, estate.costs.as_ref(), &estate.data)?;
        if raw.sites.is_empty() {
            return Err(source.field_error("sites", "at least one [[sites]] entry"));
        }
        for (i, s) in raw.sites.iter().enumerate() {
            let site = estate.site(source, &format!("sites[{i}]"), s)?;
            estate.add_site(source, &format!("sites[{i}].tag"), site)?;
        }
        policy::add_sessions(source, raw.network.sessions(), &mut estate)?;
        estate.check_topology(source, &|i| format!("sites[{i}]"))?;
        Ok(estate)
    }

    /// Validates a site written at `at` in `source` (the estate's or an
    /// experiment's) against this estate's graph and deployment.
    pub(crate) fn site(
        &self,
        source: &Source,
        at: &str,
        raw: &network::RawSite,
    ) -> Result<Site, InputError> {
        let network = network::site(source, at, raw, &self.graph)?;
        let nodes =
            match (&raw.nodes, &self.default_nodes) {
                (Some(n), _) => compute::nodes(
                    source,
                    &format!("{at}.nodes"),
                    n,
                    self.deployment.cpu_request_millicores,
                )?,
                (None, Some(d)) => d.clone(),
                (None, None) => return Err(source.field_error(
                    &format!("{at}.nodes"),
                    "no node pool; allowed: [sites.nodes] here or a default [nodes] in the estate",
                )),
            };
        let bare_metal = nodes.provisioning == cutover_models::nodes::Provisioning::BareMetal;
        let cost = cost::site_profile(
            source,
            at,
            raw.cost.as_deref(),
            bare_metal,
            self.costs.as_ref(),
        )?;
        Ok(Site {
            network,
            nodes,
            cost,
        })
    }

    /// Adds a site, refusing a second site with the same tag (`field` locates
    /// the tag in `source`).
    pub(crate) fn add_site(
        &mut self,
        source: &Source,
        field: &str,
        site: Site,
    ) -> Result<(), InputError> {
        if self.site_index(&site.network.tag).is_some() {
            return Err(source.field_error(
                field,
                format!("site `{}` is already in the estate", site.network.tag),
            ));
        }
        if self.sites.len() >= MAX_SITES {
            return Err(source.field_error(field, format!("allowed: at most {MAX_SITES} sites")));
        }
        self.sites.push(site);
        Ok(())
    }

    /// The index of the site tagged `tag`.
    pub fn site_index(&self, tag: &str) -> Option<usize> {
        self.sites.iter().position(|s| s.network.tag == tag)
    }

    /// The site tags, for "allowed:" messages.
    pub fn site_tags(&self) -> String {
        self.sites
            .iter()
            .map(|s| s.network.tag.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The AS graph with every site and population.
    pub fn topology_spec(&self) -> TopologySpec {
        let sites: Vec<&SiteNetwork> = self.sites.iter().map(|s| &s.network).collect();
        network::topology_spec(&self.network, &self.graph, &sites, &self.populations)
    }

    /// What the estate configures beyond the AS graph: its BGP policy and
    /// the sites' own origin ASes (by site index, after an experiment's
    /// changes).
    pub fn topology_options(&self) -> TopologyOptions {
        let mut options = self.bgp_policy.options.clone();
        for (i, s) in self.sites.iter().enumerate() {
            if let Some(asn) = s.network.origin {
                options.site_origins.insert(i, asn);
            }
        }
        // A retired site's sessions went with it.
        for (tag, upstream, session) in &self.bgp_policy.site_sessions {
            if let Some(k) = self.site_index(tag) {
                options
                    .site_sessions
                    .insert((k, *upstream), session.clone());
            }
        }
        options
    }

    /// Builds the topology with [`Self::topology_options`]; an error is
    /// located at the site it concerns (`site_field(i)` in `source`) or the
    /// populations of this estate.
    pub fn build_topology(
        &self,
        source: &Source,
        site_field: &dyn Fn(usize) -> String,
    ) -> Result<Topology, InputError> {
        let topo = Topology::build(&self.topology_spec()).map_err(|e| {
            let field =
                network::topology_error_field(&e, site_field, &|i| format!("populations[{i}]"));
            source.field_error(&field, network::topology_error_message(&e))
        })?;
        topo.with_options(&self.topology_options()).map_err(|e| {
            let field = match &e {
                OptionsError::OriginIsTransit { site, .. }
                | OptionsError::OriginIsUpstream { site, .. }
                | OptionsError::UnknownSite { site, .. } => {
                    format!("{}.origin_asn", site_field(*site))
                }
                _ => "network".to_string(),
            };
            source.field_error(&field, e.to_string())
        })
    }

    fn check_topology(
        &self,
        source: &Source,
        site_field: &dyn Fn(usize) -> String,
    ) -> Result<(), InputError> {
        self.build_topology(source, site_field).map(|_| ())
    }

    /// The announcements of every site, indexed by site.
    pub fn announcements(&self) -> Vec<cutover_models::bgp::catchment::Announcement> {
        self.sites
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let mut a = s.network.announcement;
                a.site = i;
                a
            })
            .collect()
    }
}

/// Every city the estate names (sites and users), for a generated graph.
fn cities_of(
    source: &Source,
    raw: &RawEstate,
) -> Result<Vec<(String, cutover_models::geo::LatLon)>, InputError> {
    let mut out = Vec::new();
    for (i, s) in raw.sites.iter().enumerate() {
        out.push(network::site_place(source, &format!("sites[{i}]"), s)?);
    }
    for (i, p) in raw.populations.iter().enumerate() {
        out.push(p.place(source, &format!("populations[{i}]"))?);
    }
    Ok(out)
}
