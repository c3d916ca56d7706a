//! The world a plan runs against, as a fluid: each region's demand split
//! between its sites, each site an M/M/c pool of workers, and the failures
//! that change them. Between two events nothing changes, so each segment's
//! requests, failures and latency distribution follow in closed form.

use cutover_models::failure::{Damping, DampingParams};
use cutover_models::plan::{Mechanism, Networks};
use cutover_models::queueing::{ErlangC, LatencyMixture};
use cutover_models::traffic::Diurnal;
use cutover_models::{SimDuration, SimTime};

use crate::scenario::plan::{PlanScenario, SiteSpec};

/// The most of its capacity a site serves; requests beyond it time out.
/// Assumption: at 98 % utilisation M/M/c waits are already far above any
/// gate, so the exact cut-off moves no verdict.
pub const MAX_UTILISATION: f64 = 0.98;

/// A site: which region, old (0) or new (1).
pub type SiteId = (usize, usize);

/// One site's state.
#[derive(Debug, Clone)]
pub struct Site {
    /// Its capacity and distance.
    pub spec: SiteSpec,
    /// Servers out of the pool, known to be.
    pub down: u32,
    /// Servers crashed but still sent requests, which fail.
    pub undetected: u32,
    /// The whole site is dark.
    pub dead: bool,
    /// Routing knows it is dark and sends nothing.
    pub dead_known: bool,
    /// Its routes are withdrawn (a flapping session is down).
    pub withdrawn: bool,
    /// Route flap damping of its routes (Cisco's defaults).
    pub damping: Damping,
    /// Added network delay, seconds.
    pub extra_delay_s: f64,
    /// No longer in service (and no longer paid for).
    pub decommissioned: bool,
    /// Cold traffic: when each increase began and its fraction of the site's load.
    pub warmups: Vec<(SimTime, f64)>,
}

impl Site {
    fn new(spec: SiteSpec) -> Self {
        Site {
            spec,
            down: 0,
            undetected: 0,
            dead: false,
            dead_known: false,
            withdrawn: false,
            damping: Damping::new(DampingParams::CISCO),
            extra_delay_s: 0.0,
            decommissioned: false,
            warmups: Vec::new(),
        }
    }

    /// Whether routing sends it traffic at `now`.
    pub fn routable(&self, now: SimTime) -> bool {
        !self.decommissioned
            && !self.dead_known
            && !self.withdrawn
            && !self.damping.is_suppressed(now)
    }

    /// Servers still working.
    pub fn working(&self) -> u32 {
        self.spec
            .servers
            .saturating_sub(self.down)
            .saturating_sub(self.undetected)
    }

    /// Adds one flap's penalty at `now`; returns the end of suppression if
    /// the route is (still) suppressed.
    pub fn flap(&mut self, now: SimTime) -> Option<SimTime> {
        self.damping.flap(now)
    }
}

/// Where a share change is in its convergence.
#[derive(Debug, Clone, Copy)]
pub struct Ramp {
    from: f64,
    to: f64,
    start: SimTime,
    duration: SimDuration,
}

impl Ramp {
    /// The share at `t`.
    pub fn at(&self, t: SimTime) -> f64 {
        if self.duration == SimDuration::ZERO {
            return self.to;
        }
        let x = (t.saturating_since(self.start).as_secs_f64() / self.duration.as_secs_f64())
            .clamp(0.0, 1.0);
        self.from + (self.to - self.from) * x
    }
}

/// Requests, failures and latencies gathered over some span.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    /// Requests.
    pub requests: f64,
    /// Of which failed.
    pub failed: f64,
    /// Latency of those that succeeded.
    pub latency: LatencyMixture,
}

impl Tally {
    /// Adds another tally.
    pub fn merge(&mut self, other: &Tally) {
        self.requests += other.requests;
        self.failed += other.failed;
        self.latency.extend(&other.latency);
    }
}

/// One region's state.
#[derive(Debug, Clone)]
pub struct Region {
    /// Name.
    pub name: String,
    /// Demand shape.
    pub diurnal: Diurnal,
    /// Today's demand factor (lognormal noise).
    pub day_factor: f64,
    /// Product of the spikes under way.
    pub spike: f64,
    /// The new site's share, converging.
    pub share: Ramp,
    /// How the plan moves it.
    pub mechanism: Mechanism,
    /// The region's eyeball networks (for BGP shares).
    pub networks: Networks,
    /// Fallback region and latency to it.
    pub fallback: Option<(usize, f64)>,
    /// Old site, then the new one if any.
    pub sites: Vec<Site>,
    /// Since the last timeline row.
    pub interval: Tally,
    /// Time-weighted sums since the last row: share, demand, utilisation of each site.
    pub interval_sums: [f64; 4],
    /// Over the whole run.
    pub total: Tally,
    /// The open observation window, if the plan is watching this region.
    pub window: Option<Tally>,
}

/// The whole world.
#[derive(Debug, Clone)]
pub struct World {
    /// Regions.
    pub regions: Vec<Region>,
    /// Latency the L7 proxy adds, seconds.
    pub l7_hop_s: f64,
}

/// What one site carries during a segment.
#[derive(Debug, Clone, Copy, Default)]
struct Load {
    offered: f64,
    fail_fraction: f64,
    queue: Option<ErlangC>,
    utilisation: f64,
}

impl World {
    /// The world at time zero: every region on its old site.
    pub fn new(s: &PlanScenario) -> Self {
        let regions = s
            .regions
            .iter()
            .map(|r| {
                let mut sites = vec![Site::new(r.old)];
                sites.extend(r.new.map(Site::new));
                Region {
                    name: r.name.clone(),
                    diurnal: Diurnal {
                        mean_rate_per_s: r.demand_rps,
                        amplitude: r.diurnal,
                        peak_at: r.peak_at,
                    },
                    day_factor: 1.0,
                    spike: 1.0,
                    share: Ramp {
                        from: 0.0,
                        to: 0.0,
                        start: SimTime::ZERO,
                        duration: SimDuration::ZERO,
                    },
                    mechanism: r
                        .plan_index
                        .map_or(Mechanism::Bgp, |i| s.plan.regions[i].mechanism),
                    networks: Networks::zipf(s.networks.0, s.networks.1)
                        .expect("validated network count and exponent"),
                    fallback: r.fallback.map(|f| (f, r.fallback_rtt.as_secs_f64())),
                    sites,
                    interval: Tally::default(),
                    interval_sums: [0.0; 4],
                    total: Tally::default(),
                    window: None,
                }
            })
            .collect();
        World {
            regions,
            l7_hop_s: s.l7_extra_hop.as_secs_f64(),
        }
    }

    /// Demand of region `r` at `t`, requests per second.
    pub fn demand(&self, r: usize, t: SimTime) -> f64 {
        let g = &self.regions[r];
        g.diurnal.rate_at(t) * g.day_factor * g.spike
    }

    /// Moves region `r`'s new-site share toward `target` from `now`; BGP
    /// changes reach whole networks only and take `convergence`. Returns the
    /// share that will be reached.
    pub fn set_share(
        &mut self,
        r: usize,
        target: f64,
        mechanism: Mechanism,
        now: SimTime,
        convergence: SimDuration,
    ) -> f64 {
        let g = &mut self.regions[r];
        let (to, duration) = match mechanism {
            Mechanism::Bgp => (g.networks.reachable(target), convergence),
            Mechanism::L7Weight => (target, SimDuration::ZERO),
        };
        let from = g.share.at(now);
        g.share = Ramp {
            from,
            to,
            start: now,
            duration,
        };
        if to > from && to > 0.0 {
            if let Some(new) = g.sites.get_mut(1) {
                if new.spec.cold_start > SimDuration::ZERO {
                    new.warmups.push((now, (to - from) / to));
                }
            }
        }
        to
    }

    /// Where region `r`'s users go: (site, fraction, extra latency seconds).
    fn routes(&self, r: usize, t: SimTime) -> Vec<(SiteId, f64, f64)> {
        let split = |r: usize| -> Vec<(SiteId, f64)> {
            let g = &self.regions[r];
            let old = g.sites[0].routable(t);
            let new = g.sites.get(1).is_some_and(|s| s.routable(t));
            let s = if g.sites.len() > 1 {
                g.share.at(t)
            } else {
                0.0
            };
            match (old, new) {
                (true, true) if s <= 0.0 => vec![((r, 0), 1.0)],
                (true, true) if s >= 1.0 => vec![((r, 1), 1.0)],
                (true, true) => vec![((r, 0), 1.0 - s), ((r, 1), s)],
                (true, false) => vec![((r, 0), 1.0)],
                (false, true) => vec![((r, 1), 1.0)],
                (false, false) => Vec::new(),
            }
        };
        let g = &self.regions[r];
        let hop = if g.mechanism == Mechanism::L7Weight {
            self.l7_hop_s
        } else {
            0.0
        };
        let own = split(r);
        if !own.is_empty() {
            return own
                .into_iter()
                .map(|(site, f)| {
                    let s = &self.regions[site.0].sites[site.1];
                    (site, f, s.spec.rtt.as_secs_f64() + hop)
                })
                .collect();
        }
        match g.fallback {
            Some((fb, rtt)) => split(fb)
                .into_iter()
                .map(|(site, f)| (site, f, rtt + hop))
                .collect(),
            None => Vec::new(),
        }
    }

    /// Adds what happens from `t0` to `t1` with the state unchanged.
    pub fn advance(&mut self, t0: SimTime, t1: SimTime) {
        let dt = t1.saturating_since(t0).as_secs_f64();
        if dt <= 0.0 {
            return;
        }
        let mid = t0 + SimDuration::from_secs_f64(dt / 2.0);
        let n = self.regions.len();
        let demand: Vec<f64> = (0..n).map(|r| self.demand(r, t0)).collect();
        let routes: Vec<Vec<(SiteId, f64, f64)>> = (0..n).map(|r| self.routes(r, mid)).collect();
        let mut loads: Vec<[Load; 2]> = vec![[Load::default(); 2]; n];
        for (r, rs) in routes.iter().enumerate() {
            for &((g, i), f, _) in rs {
                loads[g][i].offered += demand[r] * f;
            }
        }
        for (g, region) in self.regions.iter().enumerate() {
            for (i, site) in region.sites.iter().enumerate() {
                loads[g][i] = site_load(site, loads[g][i].offered);
            }
        }
        for r in 0..n {
            let mut tally = Tally::default();
            // The gate judges the region's users served by its new site.
            let mut new_site = Tally::default();
            if routes[r].is_empty() {
                tally.requests = demand[r] * dt;
                tally.failed = tally.requests;
            }
            for &((g, i), f, delay) in &routes[r] {
                let site = &self.regions[g].sites[i];
                let part = flow(site, loads[g][i], demand[r] * f * dt, delay, mid);
                if (g, i) == (r, 1) {
                    new_site.merge(&part);
                }
                tally.merge(&part);
            }
            let g = &mut self.regions[r];
            g.interval_sums[0] += g.share.at(mid) * dt;
            g.interval_sums[1] += demand[r] * dt;
            g.interval_sums[2] += loads[r][0].utilisation * dt;
            g.interval_sums[3] += loads[r][1].utilisation * dt;
            if let Some(w) = &mut g.window {
                w.merge(&new_site);
            }
            g.interval.merge(&tally);
        }
        for g in &mut self.regions {
            for s in &mut g.sites {
                let warmup = s.spec.warmup;
                s.warmups.retain(|&(start, _)| start + warmup > t1);
            }
        }
    }

    /// Requests lost at once when `servers` of site `id` crash: those in
    /// service there (Little's law: their throughput times the service
    /// time), charged to the site's region.
    pub fn crash_loss(&mut self, id: SiteId, servers: u32, t: SimTime) {
        let n = self.regions.len();
        let offered: f64 = (0..n)
            .flat_map(|r| {
                let d = self.demand(r, t);
                self.routes(r, t)
                    .into_iter()
                    .filter(move |&(s, _, _)| s == id)
                    .map(move |(_, f, _)| d * f)
            })
            .sum();
        let site = &self.regions[id.0].sites[id.1];
        let share = f64::from(servers) / f64::from(site.spec.servers);
        let lost = offered * share * site.spec.service_time.as_secs_f64();
        let g = &mut self.regions[id.0];
        let window = if id.1 == 1 { g.window.as_mut() } else { None };
        for t in std::iter::once(&mut g.interval).chain(window) {
            t.requests += lost;
            t.failed += lost;
        }
    }
}

/// What `offered` requests sent to `site` at `delay` over one segment
/// give: failures, and latencies (cold ones first while warm-ups last).
fn flow(site: &Site, load: Load, offered: f64, delay: f64, mid: SimTime) -> Tally {
    let mut t = Tally {
        requests: offered,
        failed: offered * load.fail_fraction,
        ..Tally::default()
    };
    let ok = offered - t.failed;
    let delay = delay + site.extra_delay_s;
    let mut warm = 1.0;
    for &(start, fraction) in &site.warmups {
        let age = mid.saturating_since(start).as_secs_f64();
        let left = 1.0 - age / site.spec.warmup.as_secs_f64();
        if left > 0.0 {
            let part = fraction.min(warm);
            warm -= part;
            let extra = site.spec.cold_start.as_secs_f64() * left;
            t.latency.add(ok * part, delay + extra, load.queue);
        }
    }
    t.latency.add(ok * warm, delay, load.queue);
    t
}

/// How a site copes with `offered` requests per second.
fn site_load(site: &Site, offered: f64) -> Load {
    let mut load = Load {
        offered,
        ..Load::default()
    };
    if offered <= 0.0 {
        return load;
    }
    if site.dead || site.decommissioned {
        load.fail_fraction = 1.0;
        return load;
    }
    let lost = f64::from(site.undetected) / f64::from(site.spec.servers);
    let to_pool = offered * (1.0 - lost);
    let workers = site.working() * site.spec.workers;
    let mu = 1.0 / site.spec.service_time.as_secs_f64();
    if workers == 0 {
        load.fail_fraction = 1.0;
        return load;
    }
    let capacity = f64::from(workers) * mu;
    let served = to_pool.min(MAX_UTILISATION * capacity);
    load.utilisation = served / capacity;
    load.fail_fraction = 1.0 - served / offered;
    load.queue = ErlangC::new(workers, served, mu).ok();
    load
}
