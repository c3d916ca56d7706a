//! What a world run measured: the summary per population and per site with
//! failures by cause, the route changes, and the timeline.

use cutover_models::SimTime;
use serde::Serialize;

use super::record::{population_of, Recorder, Stream, Tally};
use super::serve::TickTotals;
use super::site::{Site, SiteStats};
use super::World;
use crate::engine::stats::{Aggregation, TimeSeries};
use crate::experiment::{Experiment, Fidelity};

/// A population's route moving.
#[derive(Clone, Debug, Serialize)]
pub struct RouteChange {
    /// When, seconds.
    pub t_s: f64,
    /// Population label.
    pub population: String,
    /// Site before, empty while lost.
    pub from_site: String,
    /// Site after, empty while lost.
    pub to_site: String,
    /// TTFB after, ms (none while lost).
    pub ttfb_ms: Option<f64>,
}

/// How one population fared.
#[derive(Clone, Debug, Serialize)]
pub struct PopulationSummary {
    /// Label: the city, with the access ISP when a city has several.
    pub population: String,
    /// City code.
    pub city: String,
    /// Share of the users.
    pub share: f64,
    /// Site at the start (empty if none).
    pub site_before: String,
    /// TTFB at the start, ms.
    pub ttfb_before_ms: Option<f64>,
    /// Site at the end (empty if none).
    pub site_after: String,
    /// TTFB at the end, ms.
    pub ttfb_after_ms: Option<f64>,
    /// Seconds its route led nowhere.
    pub blackhole_s: f64,
    /// Requests by outcome.
    #[serde(flatten)]
    pub tally: Tally,
    /// Requests still in flight at the end.
    pub in_flight_at_end: f64,
    /// served / (requests - in flight at the end); none without requests.
    pub availability: Option<f64>,
    /// Failed requests over those the SLO allows to fail.
    pub error_budget_consumed: Option<f64>,
    /// Median latency (TTFB plus time at the site), ms.
    pub latency_p50_ms: Option<f64>,
    /// 99th percentile, ms.
    pub latency_p99_ms: Option<f64>,
    /// 99.9th percentile, ms.
    pub latency_p999_ms: Option<f64>,
}

/// How one site fared.
#[derive(Clone, Debug, Serialize)]
pub struct SiteSummary {
    /// Tag.
    pub site: String,
    /// Requests that reached it and their outcomes.
    #[serde(flatten)]
    pub tally: Tally,
    /// Overflow, load and HPA figures.
    #[serde(flatten)]
    pub stats: SiteStats,
    /// 99th percentile latency of its served requests at the site (the
    /// service's own, without the users' network), ms.
    pub latency_p99_ms: Option<f64>,
    /// Whether it was serving at the end.
    pub alive_at_end: bool,
}

/// What a run measured.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// "pass" when availability meets the SLO and the p99 at the sites is
    /// under the slow threshold, else "fail".
    pub verdict: &'static str,
    /// Why it failed (empty on a pass).
    pub reasons: Vec<String>,
    /// The estate's name.
    pub estate: String,
    /// "fluid" or "request".
    pub fidelity: &'static str,
    /// Simulated seconds.
    pub simulated_s: f64,
    /// Requests by outcome, all populations.
    #[serde(flatten)]
    pub tally: Tally,
    /// Requests still in flight at the end.
    pub in_flight_at_end: f64,
    /// served / (requests - in flight at the end).
    pub availability: Option<f64>,
    /// The SLO's availability target.
    pub availability_target: f64,
    /// Failed requests over those the SLO allows to fail.
    pub error_budget_consumed: Option<f64>,
    /// The slow threshold, ms.
    pub slow_threshold_ms: f64,
    /// Latency quantiles of all served requests as users saw them (TTFB
    /// included), ms.
    pub latency_p50_ms: Option<f64>,
    /// See `latency_p50_ms`.
    pub latency_p99_ms: Option<f64>,
    /// See `latency_p50_ms`.
    pub latency_p999_ms: Option<f64>,
    /// 99th percentile latency at the sites (the service's own, what its
    /// health gate watches), ms.
    pub service_p99_ms: Option<f64>,
    /// The failures, in words, with their start and end.
    pub failures: Vec<String>,
    /// The failures that struck, with their start and end.
    pub failure_log: Vec<super::failures::FailureRecord>,
    /// When the first failure struck, seconds.
    pub first_failure_s: Option<f64>,
    /// From the first failure to the last route change, seconds.
    pub convergence_s: Option<f64>,
    /// Longest time a population's route led nowhere, seconds.
    pub longest_blackhole_s: f64,
    /// BGP UPDATEs sent after the steady state.
    pub bgp_updates: u64,
    /// Events processed (ticks included; each site's metrics scrape and
    /// HPA sync counts as one, though one engine event runs every site's
    /// at an instant).
    pub events: u64,
    /// Most concurrent spike users.
    pub peak_users: f64,
    /// Highest demand, requests per second.
    pub peak_demand_rps: f64,
    /// When the first spike starts, seconds.
    pub spike_start_s: Option<f64>,
    /// Pods needed in all to serve the peak at the HPA target.
    pub pods_needed_at_target: u64,
    /// First time ready pods at the sites with traffic reached that
    /// (capped at the sites' maximum), seconds after the spike started.
    pub catch_up_after_spike_s: Option<f64>,
    /// Most ready pods at once, all sites.
    pub max_ready_pods: u64,
    /// Whole days the world skipped because each repeated the day before
    /// exactly (`[experiment] skip_repeated_days`); absent when the run
    /// does not look for them (request level, under two days, or ticks and
    /// timeline rows that do not divide a day).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub days_skipped: Option<u64>,
    /// Per population.
    pub populations: Vec<PopulationSummary>,
    /// Per site.
    pub sites: Vec<SiteSummary>,
    /// What each site cost, when the estate is priced (`[costs]`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost: Option<super::cost::CostSummary>,
    /// What each site failure cost in data and how long its users took to
    /// recover, when the estate declares `[[data]]` or `[[services]]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery: Option<super::recovery::RecoverySummary>,
    /// What was read from the traffic file replayed per population, its
    /// gaps and counter resets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub traffic_import: Option<crate::scenario::replay::ReplayReport>,
}

/// Everything a run produces.
pub struct Outcome {
    /// The figures for `summary.json`.
    pub summary: Summary,
    /// Fixed-interval series for `timeline.csv`.
    pub timeline: TimeSeries,
    /// Every route change after the start.
    pub routes: Vec<RouteChange>,
    /// Which route every router holds over time, as CSV (`routers.csv`:
    /// `time_s,router,asn,pop,site,as_path`).
    pub routers_csv: String,
}

const GLOBAL_COLUMNS: [(&str, Aggregation); 13] = [
    ("users", Aggregation::Mean),
    ("demand_rps", Aggregation::Mean),
    ("requests", Aggregation::Sum),
    ("served", Aggregation::Sum),
    ("blackholed", Aggregation::Sum),
    ("rejected", Aggregation::Sum),
    ("timed_out", Aggregation::Sum),
    ("reset", Aggregation::Sum),
    ("write_failed", Aggregation::Sum),
    ("ready_pods", Aggregation::TimeAverage),
    ("replicas", Aggregation::TimeAverage),
    ("nodes", Aggregation::TimeAverage),
    ("service_p99_ms", Aggregation::Max),
];
/// The timeline's column of the service's p99: the last of
/// [`GLOBAL_COLUMNS`] (checked by a test).
const P99_COLUMN: usize = GLOBAL_COLUMNS.len() - 1;
const SITE_COLUMNS: [(&str, Aggregation); 4] = [
    ("requests", Aggregation::Sum),
    ("ready_pods", Aggregation::TimeAverage),
    ("load", Aggregation::Max),
    ("overflow_share", Aggregation::TimeAverage),
];

/// Labels of the populations: the city, with the ISP when a city has
/// several.
pub fn population_labels(exp: &Experiment) -> Vec<String> {
    labels_of(&exp.estate.populations)
}

/// Labels of `pops`: the city, with the ISP when a city has several.
pub fn labels_of(pops: &[crate::estate::Population]) -> Vec<String> {
    pops.iter()
        .map(|p| {
            if pops.iter().filter(|q| q.city == p.city).count() > 1 {
                format!("{}@AS{}", p.city, p.isp.map_or(0, |a| a.0))
            } else {
                p.city.clone()
            }
        })
        .collect()
}

/// The timeline's columns: all users, then per site, then per population.
pub fn new_timeline(exp: &Experiment) -> TimeSeries {
    let mut columns: Vec<(String, Aggregation)> = GLOBAL_COLUMNS
        .iter()
        .map(|(n, a)| (n.to_string(), *a))
        .collect();
    for s in &exp.estate.sites {
        for (suffix, agg) in SITE_COLUMNS {
            columns.push((format!("{}_{suffix}", s.network.tag), agg));
        }
    }
    for label in population_labels(exp) {
        columns.push((format!("{label}_failed"), Aggregation::Sum));
    }
    let refs: Vec<(&str, Aggregation)> = columns.iter().map(|(n, a)| (n.as_str(), *a)).collect();
    TimeSeries::new(exp.timeline_interval, &refs)
}

/// Running figures of a run, fed each tick and at each route change.
pub struct Tracker {
    labels: Vec<String>,
    routes: Vec<RouteChange>,
    first_failure: Option<SimTime>,
    last_change: Option<SimTime>,
    blackhole_since: Vec<Option<SimTime>>,
    blackhole_s: Vec<f64>,
    previous: Tally,
    interval_row: u64,
    peak_users: f64,
    peak_demand: f64,
    needed_capped: u64,
    catch_up: Option<SimTime>,
    max_ready: u64,
}

impl Tracker {
    /// A tracker for `exp`.
    pub fn new(exp: &Experiment) -> Self {
        let pops = exp.estate.populations.len();
        Tracker {
            labels: population_labels(exp),
            routes: Vec::new(),
            first_failure: None,
            last_change: None,
            blackhole_since: vec![None; pops],
            blackhole_s: vec![0.0; pops],
            previous: Tally::default(),
            interval_row: 0,
            peak_users: 0.0,
            peak_demand: 0.0,
            needed_capped: pods_needed(exp).min(
                exp.estate.deployment.hpa.max_replicas.max(0) as u64
                    * exp.estate.sites.len() as u64,
            ),
            catch_up: None,
            max_ready: 0,
        }
    }

    /// A failure struck at `now`.
    pub fn failure(&mut self, now: SimTime) {
        self.first_failure.get_or_insert(now);
    }

    /// Population `p` moved from `from` to `to` at `now`.
    pub fn route_changed(
        &mut self,
        exp: &Experiment,
        p: usize,
        now: SimTime,
        from: Option<usize>,
        to: Option<usize>,
    ) {
        self.last_change = Some(now);
        match (to, self.blackhole_since[p]) {
            (None, None) => self.blackhole_since[p] = Some(now),
            (Some(_), Some(since)) => {
                self.blackhole_s[p] += now.saturating_since(since).as_secs_f64();
                self.blackhole_since[p] = None;
            }
            _ => {}
        }
        let tag =
            |k: Option<usize>| k.map_or(String::new(), |k| exp.estate.sites[k].network.tag.clone());
        let latency = &exp.estate.network.latency;
        let pop = &exp.estate.populations[p];
        self.routes.push(RouteChange {
            t_s: now.as_secs_f64(),
            population: self.labels[p].clone(),
            from_site: tag(from),
            to_site: tag(to),
            ttfb_ms: to.map(|k| {
                let ms =
                    latency.ttfb_between_ms(pop.location, exp.estate.sites[k].network.location);
                (ms * 10.0).round() / 10.0
            }),
        });
    }

    /// Records the tick `[start, start + tick)`, its shared demand
    /// multiplied by `scale` (the failures' spikes) plus `own_rate`, the
    /// populations' own recorded rates (requests/s, spikes applied).
    pub fn tick(
        &mut self,
        exp: &Experiment,
        (start, scale, own_rate): (SimTime, f64, f64),
        sites: &[Site],
        totals: &[TickTotals],
        rec: &mut Recorder,
        timeline: &mut TimeSeries,
    ) {
        let users = exp.demand.users_at(start) * scale;
        let rate = exp.demand.shared_rate_at(start) * scale + own_rate;
        self.peak_users = self.peak_users.max(users);
        self.peak_demand = self.peak_demand.max(rate);
        self.flush_interval(exp, start, rec, timeline);
        let total = rec.total();
        let d = |a: f64, b: f64| a - b;
        let prev = self.previous;
        timeline.add_all(
            start,
            &[
                (0, users),
                (1, rate),
                (2, d(total.requests, prev.requests)),
                (3, d(total.served, prev.served)),
                (4, d(total.blackholed, prev.blackholed)),
                (5, d(total.rejected, prev.rejected)),
                (6, d(total.timed_out, prev.timed_out)),
                (7, d(total.reset, prev.reset)),
                (8, d(total.write_failed, prev.write_failed)),
            ],
        );
        self.previous = total;
        let ready: usize = sites.iter().map(|s| s.ready.len()).sum();
        timeline.set(start, 9, ready as f64);
        timeline.set(
            start,
            10,
            sites.iter().map(|s| f64::from(s.replicas.max(0))).sum(),
        );
        timeline.set(
            start,
            11,
            sites.iter().map(|s| s.pods.nodes_up() as f64).sum(),
        );
        self.max_ready = self.max_ready.max(ready as u64);
        // Idle sites' pods do not serve the spike: count the sites with
        // traffic.
        let serving: usize = sites
            .iter()
            .zip(totals)
            .filter(|(_, t)| t.arrivals > 0.0)
            .map(|(s, _)| s.ready.len())
            .sum();
        if let Some(spike) = exp.demand.spikes.first() {
            let due = start >= spike.start && self.catch_up.is_none();
            if due && serving as u64 >= self.needed_capped {
                self.catch_up = Some(start);
            }
        }
        for (k, (site, t)) in sites.iter().zip(totals).enumerate() {
            let col = GLOBAL_COLUMNS.len() + SITE_COLUMNS.len() * k;
            timeline.add_all(start, &[(col, t.arrivals), (col + 2, site.load)]);
            timeline.set(start, col + 1, site.ready.len() as f64);
            timeline.set(start, col + 3, site.out_share);
        }
        let first_pop = GLOBAL_COLUMNS.len() + SITE_COLUMNS.len() * sites.len();
        for (p, failed) in rec.tick_failed.iter_mut().enumerate() {
            timeline.add(start, first_pop + p, *failed);
            *failed = 0.0;
        }
    }

    /// Writes the interval p99 when a timeline row closes.
    fn flush_interval(
        &mut self,
        exp: &Experiment,
        start: SimTime,
        rec: &mut Recorder,
        timeline: &mut TimeSeries,
    ) {
        let interval = exp.timeline_interval.as_nanos().max(1);
        let row = start.as_nanos() / interval;
        if row != self.interval_row {
            self.close_row(rec, timeline, exp);
            self.interval_row = row;
        }
    }

    fn close_row(&mut self, rec: &mut Recorder, timeline: &mut TimeSeries, exp: &Experiment) {
        if let Some(p99) = rec.interval_latency.quantile_opt(0.99) {
            let at = SimTime::from_nanos(self.interval_row * exp.timeline_interval.as_nanos());
            timeline.add(at, P99_COLUMN, p99 * 1e3);
        }
        rec.interval_latency.clear();
    }
}

impl super::repeat::DayState for Tracker {
    /// Its instants are history (when routes changed, when a blackhole
    /// began), read only for the summary: they are neither compared nor
    /// moved. Which populations are blackholed now, and whether the spike
    /// was caught up with, carry over.
    fn encode(&self, w: &mut super::repeat::Words) {
        let open: Vec<bool> = self.blackhole_since.iter().map(Option::is_some).collect();
        w.flags(&open);
        w.flags(&[self.catch_up.is_some()]);
    }

    fn shift(&mut self, _: &super::repeat::Shift) {}
}

impl Tracker {
    /// Writes the p99 of the timeline row still open, all of whose ticks
    /// have been served, before the world repeats its rows (the row's own
    /// close writes the same figure again, a maximum).
    pub(super) fn write_open_row(
        &self,
        rec: &Recorder,
        timeline: &mut TimeSeries,
        exp: &Experiment,
    ) {
        let mut open = rec.interval_latency.clone();
        if let Some(p99) = open.quantile_opt(0.99) {
            let at = SimTime::from_nanos(self.interval_row * exp.timeline_interval.as_nanos());
            timeline.add(at, P99_COLUMN, p99 * 1e3);
        }
    }

    /// The world jumped `rows` timeline rows ahead, its outcomes now
    /// `total`.
    pub(super) fn jumped(&mut self, rows: u64, total: Tally) {
        self.interval_row += rows;
        self.previous = total;
    }
}

/// Pods needed in all to serve the peak demand at the HPA's target.
fn pods_needed(exp: &Experiment) -> u64 {
    let dep = &exp.estate.deployment;
    let peak = crate::experiment::traffic::peak_rate(&exp.demand, exp.duration, exp.tick);
    let request = dep.cpu_request_millicores as f64 / 1000.0;
    // An HPA without a CPU utilisation target: pods at their full request.
    let target = f64::from(dep.hpa.cpu_target_percent().unwrap_or(100)) / 100.0;
    (peak * dep.service.cpu_per_request.as_secs_f64() / (request * target))
        .ceil()
        .max(0.0) as u64
}

fn ms(v: Option<f64>) -> Option<f64> {
    v.map(|s| s * 1e3)
}

impl World<'_> {
    /// Closes the run: the last timeline row, blackholes still open, and
    /// the summary.
    pub(super) fn finish(mut self) -> Outcome {
        let exp = self.exp;
        self.tracker
            .close_row(&mut self.rec, &mut self.timeline, exp);
        self.timeline.finish(self.end);
        for p in 0..self.tracker.blackhole_s.len() {
            if let Some(since) = self.tracker.blackhole_since[p] {
                self.tracker.blackhole_s[p] += self.end.saturating_since(since).as_secs_f64();
            }
        }
        let populations = self.population_summaries();
        let sites = self.site_summaries();
        let mut summary = self.summary(populations, sites);
        self.meter_summary(&mut summary);
        Outcome {
            summary,
            timeline: self.timeline,
            routes: self.tracker.routes,
            routers_csv: self.network.routers_csv(),
        }
    }

    /// In flight at the end, by population: what the fluid's pods hold,
    /// or at request level the requests neither served nor failed.
    fn in_flight_by_population(&self) -> Vec<f64> {
        if self.exp.fidelity == Fidelity::Request {
            return self
                .rec
                .populations
                .iter()
                .map(|t| (t.requests - t.served - t.failed()).max(0.0))
                .collect();
        }
        let mut out = vec![0.0; self.routes.len()];
        for site in &self.sites {
            for (s, n) in site.mix.iter().enumerate() {
                out[population_of(s as Stream)] += n;
            }
        }
        out
    }

    fn population_summaries(&mut self) -> Vec<PopulationSummary> {
        let in_flight = self.in_flight_by_population();
        let budget = 1.0 - self.exp.estate.slo.availability;
        let exp = self.exp;
        let latency = &exp.estate.network.latency;
        (0..self.routes.len())
            .map(|p| {
                let pop = &exp.estate.populations[p];
                let h = &self.routes[p].history;
                let site = |k: Option<usize>| {
                    k.map_or(String::new(), |k| exp.estate.sites[k].network.tag.clone())
                };
                let ttfb = |k: Option<usize>| {
                    k.map(|k| {
                        latency.ttfb_between_ms(pop.location, exp.estate.sites[k].network.location)
                    })
                };
                let (first, last) = (h[0].1, h[h.len() - 1].1);
                let t = self.rec.populations[p];
                let done = t.requests - in_flight[p];
                let hist = &mut self.rec.population_latency[p];
                PopulationSummary {
                    population: self.tracker.labels[p].clone(),
                    city: pop.city.clone(),
                    share: self.shares[p],
                    site_before: site(first),
                    ttfb_before_ms: ttfb(first),
                    site_after: site(last),
                    ttfb_after_ms: ttfb(last),
                    blackhole_s: self.tracker.blackhole_s[p],
                    tally: t,
                    in_flight_at_end: in_flight[p],
                    availability: (done > 0.0).then(|| t.served / done),
                    error_budget_consumed: (t.requests > 0.0)
                        .then(|| t.failed() / (budget * t.requests)),
                    latency_p50_ms: ms(hist.quantile_opt(0.5)),
                    latency_p99_ms: ms(hist.quantile_opt(0.99)),
                    latency_p999_ms: ms(hist.quantile_opt(0.999)),
                }
            })
            .collect()
    }

    fn site_summaries(&mut self) -> Vec<SiteSummary> {
        (0..self.sites.len())
            .map(|k| SiteSummary {
                site: self.sites[k].tag.clone(),
                tally: self.rec.sites[k],
                stats: self.sites[k].stats.clone(),
                latency_p99_ms: ms(self.rec.site_latency[k].quantile_opt(0.99)),
                alive_at_end: self.sites[k].alive,
            })
            .collect()
    }

    fn summary(&mut self, populations: Vec<PopulationSummary>, sites: Vec<SiteSummary>) -> Summary {
        let exp = self.exp;
        let tally = self.rec.total();
        let in_flight: f64 = populations.iter().map(|p| p.in_flight_at_end).sum();
        let done = tally.requests - in_flight;
        let availability = (done > 0.0).then(|| tally.served / done);
        let slo = exp.estate.slo;
        let mut all = self.rec.user_latency();
        let service_p99 = ms(self.rec.service_latency().quantile_opt(0.99));
        let mut reasons = Vec::new();
        if let Some(a) = availability.filter(|&a| a < slo.availability) {
            reasons.push(format!(
                "availability {:.4} % below the SLO's {:.4} %",
                100.0 * a,
                100.0 * slo.availability
            ));
        }
        let slow_ms = slo.slow_threshold.as_secs_f64() * 1e3;
        if let Some(p) = service_p99.filter(|&p| p >= slow_ms) {
            reasons.push(format!(
                "p99 at the sites {p:.1} ms, at or above the {slow_ms:.0} ms threshold"
            ));
        }
        let tags: Vec<&str> = self.sites.iter().map(|s| s.tag.as_str()).collect();
        let recovery = self.recovery.summary(&exp.estate, &tags);
        reasons.extend(recovery.iter().flat_map(|r| r.misses()));
        let spike_start = exp.demand.spikes.first().map(|s| s.start);
        Summary {
            verdict: if reasons.is_empty() { "pass" } else { "fail" },
            reasons,
            estate: exp.estate.name.clone(),
            fidelity: match exp.fidelity {
                Fidelity::Fluid => "fluid",
                Fidelity::Request => "request",
            },
            simulated_s: self.end.as_secs_f64(),
            tally,
            in_flight_at_end: in_flight,
            availability,
            availability_target: slo.availability,
            error_budget_consumed: (tally.requests > 0.0)
                .then(|| tally.failed() / ((1.0 - slo.availability) * tally.requests)),
            slow_threshold_ms: slow_ms,
            latency_p50_ms: ms(all.quantile_opt(0.5)),
            latency_p99_ms: ms(all.quantile_opt(0.99)),
            latency_p999_ms: ms(all.quantile_opt(0.999)),
            service_p99_ms: service_p99,
            failures: self.failure_records().iter().map(|r| r.line()).collect(),
            failure_log: self.failure_records(),
            first_failure_s: self.tracker.first_failure.map(SimTime::as_secs_f64),
            convergence_s: match (self.tracker.first_failure, self.tracker.last_change) {
                (Some(f), Some(l)) if l >= f => Some(l.saturating_since(f).as_secs_f64()),
                _ => None,
            },
            longest_blackhole_s: self.tracker.blackhole_s.iter().copied().fold(0.0, f64::max),
            bgp_updates: self.network.updates(),
            events: self.queue.processed() + self.folded_events + self.days.events + self.ticks,
            peak_users: self.tracker.peak_users,
            peak_demand_rps: self.tracker.peak_demand,
            spike_start_s: spike_start.map(SimTime::as_secs_f64),
            pods_needed_at_target: pods_needed(exp),
            catch_up_after_spike_s: match (self.tracker.catch_up, spike_start) {
                (Some(c), Some(s)) => Some(c.saturating_since(s).as_secs_f64()),
                _ => None,
            },
            max_ready_pods: self.tracker.max_ready,
            days_skipped: self.days.marking().then_some(self.days.skipped),
            populations,
            sites,
            cost: None,
            recovery,
            traffic_import: exp.traffic_import.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_p99_column_is_the_service_p99() {
        assert_eq!(GLOBAL_COLUMNS[P99_COLUMN].0, "service_p99_ms");
    }
}
