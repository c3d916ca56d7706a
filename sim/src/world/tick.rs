//! The traffic tick: each population's demand split by its route over the
//! tick, overflow moved, every site served, outcomes recorded.

use cutover_models::SimTime;

use super::record::{population_of, stream_of, Cause, Stream};
use super::serve::{serve_fluid, FluidScratch, Group, StreamArrivals, TickTotals};
use super::World;
use crate::experiment::Fidelity;

/// What a tick keeps for the next so that it allocates nothing: each
/// site's arrivals and totals, and the fluid's buffers.
#[derive(Default)]
pub(super) struct TickScratch {
    arrivals: Vec<SiteArrivals>,
    own: Vec<f64>,
    totals: Vec<TickTotals>,
    fluid: FluidScratch,
}

/// One site's arrivals in a tick, by stream, with each stream's network
/// latency (TTFB, and the overflow hop for a moved stream).
struct SiteArrivals {
    requests: Vec<f64>,
    network_s: Vec<f64>,
}

impl SiteArrivals {
    fn new(streams: usize) -> Self {
        SiteArrivals {
            requests: vec![0.0; streams],
            network_s: vec![0.0; streams],
        }
    }

    /// Adds `n` requests to `stream` at `network_s`, keeping the stream's
    /// latency as the request-weighted mean.
    fn add(&mut self, stream: Stream, n: f64, network_s: f64) {
        let s = stream as usize;
        let total = self.requests[s] + n;
        if total > 0.0 {
            self.network_s[s] = (self.network_s[s] * self.requests[s] + network_s * n) / total;
        }
        self.requests[s] = total;
    }

    fn total(&self) -> f64 {
        self.requests.iter().sum()
    }

    /// No arrivals.
    fn clear(&mut self) {
        self.requests.fill(0.0);
        self.network_s.fill(0.0);
    }
}

impl World<'_> {
    /// Serves the tick that ends now.
    pub(super) fn tick(&mut self) {
        self.ticks += 1;
        let end = self.now;
        let start = SimTime::from_nanos(end.as_nanos() - self.exp.tick.as_nanos());
        let mut scratch = std::mem::take(&mut self.scratch);
        let arrivals = &mut scratch.arrivals;
        self.route_demand(start, end, arrivals);
        self.forward_l7(arrivals);
        let scale: f64 = (0..self.routes.len())
            .map(|p| self.shares[p] * self.demand_factor(p, start, end))
            .sum();
        let own_rate: f64 = (0..self.exp.demand.by_population.len())
            .map(|p| {
                self.exp.demand.population_rate_at(p, start) * self.demand_factor(p, start, end)
            })
            .sum();
        self.forget_spikes(end);
        scratch.own.clear();
        scratch.own.extend(arrivals.iter().map(SiteArrivals::total));
        self.move_overflow(arrivals);
        scratch.totals.clear();
        for (k, a) in arrivals.iter().enumerate() {
            let t = self.serve_site(k, a, start, &mut scratch.fluid);
            self.update_load(k, scratch.own[k], &t);
            scratch.totals.push(t);
        }
        self.recovery
            .tick(&self.exp.estate, (end, self.exp.tick), &mut self.rec);
        self.tracker.tick(
            self.exp,
            (start, scale, own_rate),
            &self.sites,
            &scratch.totals,
            &mut self.rec,
            &mut self.timeline,
        );
        self.scratch = scratch;
    }

    /// Each population's demand in `[start, end)`, split by the share of the
    /// tick its route spent at each site; the rest is lost on the way.
    fn route_demand(&mut self, start: SimTime, end: SimTime, out: &mut Vec<SiteArrivals>) {
        let streams = 2 * self.routes.len();
        out.resize_with(self.sites.len(), || SiteArrivals::new(streams));
        out.iter_mut().for_each(SiteArrivals::clear);
        let demand_model = &self.exp.demand;
        let total = demand_model.shared_requests_in(start, self.exp.tick);
        let dt = self.exp.tick.as_nanos() as f64;
        // At request level a request arrives when it is drawn at its site;
        // the expected requests of a lost route are counted here.
        let request_level = self.exp.fidelity == Fidelity::Request;
        for p in 0..self.routes.len() {
            let own = demand_model.population_requests_in(p, start, self.exp.tick);
            let demand = (total * self.shares[p] + own) * self.demand_factor(p, start, end);
            if !request_level {
                self.rec.arrive(p, demand);
            }
            let route = &mut self.routes[p];
            while route.cursor + 1 < route.history.len()
                && route.history[route.cursor + 1].0 <= start
            {
                route.cursor += 1;
            }
            let h = &route.history;
            for i in route.cursor..h.len() {
                let from = h[i].0.max(start);
                if from >= end {
                    break;
                }
                let until = h.get(i + 1).map_or(end, |n| n.0.min(end));
                let n = demand * (until.as_nanos() - from.as_nanos()) as f64 / dt;
                match h[i].1 {
                    Some(k) => out[k].add(stream_of(p, false), n, self.ttfb_s[p][k]),
                    None => {
                        if request_level {
                            self.rec.arrive(p, n);
                        }
                        self.rec.blackhole(p, n);
                    }
                }
            }
        }
    }

    /// Round trip between sites `a` and `b`, seconds.
    fn site_rtt_s(&self, a: usize, b: usize) -> f64 {
        let sites = &self.exp.estate.sites;
        let km = sites[a]
            .network
            .location
            .distance_km(sites[b].network.location);
        self.exp.estate.network.latency.rtt_ms(km) / 1e3
    }

    /// L7 proxies forward their weight of each population's requests to
    /// their target, adding the RTT between the sites and the proxy's own
    /// hop. The proxy's health check keeps requests off a dead target
    /// (assumption: at once). The forwarded requests become the target's
    /// own: its overflow may move them again.
    fn forward_l7(&mut self, arrivals: &mut [SiteArrivals]) {
        for i in 0..self.l7.len() {
            let split = self.l7[i];
            if !self.sites[split.to].alive {
                continue;
            }
            let hop_s = self.site_rtt_s(split.from, split.to) + split.extra_hop_s;
            for p in 0..self.routes.len() {
                let s = stream_of(p, false);
                let moved = arrivals[split.from].requests[s as usize] * split.weight;
                if moved > 0.0 {
                    arrivals[split.from].requests[s as usize] -= moved;
                    let network_s = self.ttfb_s[p][split.from] + hop_s;
                    arrivals[split.to].add(s, moved, network_s);
                }
            }
        }
    }

    /// Sites that shed move that share of each direct stream to their
    /// target, through an L7 hop that adds the RTT between the two sites.
    fn move_overflow(&mut self, arrivals: &mut [SiteArrivals]) {
        for k in 0..self.sites.len() {
            let (share, Some(t)) = (self.sites[k].out_share, self.sites[k].target) else {
                continue;
            };
            if share <= 0.0 || !self.sites[t].alive {
                continue;
            }
            let hop_s = self.site_rtt_s(k, t);
            let mut moved_total = 0.0;
            for p in 0..self.routes.len() {
                let s = stream_of(p, false) as usize;
                let moved = arrivals[k].requests[s] * share;
                if moved > 0.0 {
                    arrivals[k].requests[s] -= moved;
                    let added = self.ttfb_s[p][k] + hop_s;
                    arrivals[t].add(stream_of(p, true), moved, added);
                    moved_total += moved;
                }
            }
            self.sites[k].stats.overflowed_out += moved_total;
            self.sites[t].stats.overflowed_in += moved_total;
        }
    }

    /// Site `k`'s load in the tick just served: CPU used, needed by its
    /// arrivals and needed by its own demand, each over the CPU its ready
    /// pods offer.
    fn update_load(&mut self, k: usize, own: f64, t: &TickTotals) {
        let dt_s = self.exp.tick.as_secs_f64();
        let cpu_per_request = self
            .exp
            .estate
            .deployment
            .service
            .cpu_per_request
            .as_secs_f64();
        let request_cores = self.exp.estate.deployment.cpu_request_millicores as f64 / 1000.0;
        let site = &mut self.sites[k];
        site.capacity_cores = site.ready.iter().map(|&p| site.pods.cores(p)).sum::<f64>();
        let capacity = site.capacity_cores * dt_s;
        let ratio = |x: f64| {
            if capacity > 0.0 {
                x / capacity
            } else if x > 0.0 {
                f64::INFINITY
            } else {
                0.0
            }
        };
        site.load = ratio(t.cpu_used).min(1.0);
        site.offered_load = ratio(t.arrivals * cpu_per_request);
        site.own_load = ratio(own * cpu_per_request);
        let requested = site.ready.len() as f64 * request_cores * dt_s;
        let st = &mut site.stats;
        st.peak_load = st.peak_load.max(site.load);
        if site.offered_load.is_finite() {
            st.peak_offered_load = st.peak_offered_load.max(site.offered_load);
        }
        if requested > 0.0 {
            st.peak_utilisation = st.peak_utilisation.max(t.cpu_used / requested);
        }
        st.max_ready_pods = st.max_ready_pods.max(site.ready.len() as u64);
    }

    /// Serves site `k`'s arrivals of the tick starting at `start`.
    fn serve_site(
        &mut self,
        k: usize,
        a: &SiteArrivals,
        start: SimTime,
        fluid: &mut FluidScratch,
    ) -> TickTotals {
        let total = a.total();
        self.rec.site_arrival(k, total);
        let site = &mut self.sites[k];
        if !site.alive {
            // Arrived before the site died within this tick.
            for (s, &n) in a.requests.iter().enumerate() {
                if n > 0.0 {
                    if site.request.is_some() {
                        self.rec.arrive(population_of(s as Stream), n);
                    }
                    self.rec.fail(k, s as Stream, Cause::Reset, n);
                }
            }
            return TickTotals {
                arrivals: total,
                ..TickTotals::default()
            };
        }
        let up = site.pods.nodes_up();
        site.pods.grow_nodes(start);
        if site.pods.nodes_up() != up {
            self.schedule_node_fault(k);
        }
        let site = &mut self.sites[k];
        let mut ready = std::mem::take(&mut site.ready);
        ready.clear();
        ready.extend((0..site.pods.pods.len()).filter(|&p| site.pods.ready(p, start)));
        let totals = match site.request.as_mut() {
            Some(rl) => {
                let streams: Vec<StreamArrivals> = (0..a.requests.len())
                    .filter(|&s| a.requests[s] > 0.0)
                    .map(|s| StreamArrivals {
                        stream: s as Stream,
                        expected: a.requests[s],
                        network_s: a.network_s[s],
                    })
                    .collect();
                rl.serve(
                    &mut site.pods,
                    &ready,
                    (start, self.exp.tick),
                    &streams,
                    k,
                    &mut self.rec,
                )
            }
            None => {
                let t = serve_fluid(
                    &mut site.pods,
                    &ready,
                    start,
                    total,
                    self.exp.tick.as_secs_f64(),
                    &mut site.memo,
                    fluid,
                );
                self.attribute_fluid(k, a, &t, &fluid.groups);
                // The streams' shares of what the pods hold: when they hold
                // nothing, what the shares kept is rounding (the sum of the
                // pods' served against the sum of the streams'), which would
                // otherwise stay and grow from day to day.
                let site = &mut self.sites[k];
                if site.pods.pods.iter().all(|p| p.fluid.in_flight() == 0.0) {
                    site.mix.fill(0.0);
                }
                t
            }
        };
        self.sites[k].ready = ready;
        totals
    }

    /// Splits a fluid tick's outcomes over the streams: rejections in
    /// proportion to arrivals; served and timed-out requests in proportion
    /// to each stream's requests in flight after admission (the pods mix
    /// what they hold).
    fn attribute_fluid(&mut self, k: usize, a: &SiteArrivals, t: &TickTotals, groups: &[Group]) {
        let reject_share = if t.arrivals > 0.0 {
            t.rejected / t.arrivals
        } else {
            0.0
        };
        let mix = &mut self.sites[k].mix;
        for (s, &n) in a.requests.iter().enumerate() {
            if n > 0.0 {
                self.rec
                    .fail(k, s as Stream, Cause::Rejected, n * reject_share);
                mix[s] += n * (1.0 - reject_share);
            }
        }
        let pool: f64 = mix.iter().sum();
        let out = t.served + t.timed_out;
        if pool <= 0.0 || out <= 0.0 {
            return;
        }
        let take = (out / pool).min(1.0);
        for (s, held) in mix.iter_mut().enumerate() {
            if *held <= 0.0 {
                continue;
            }
            let leaving = *held * take;
            *held -= leaving;
            let served = leaving * t.served / out;
            self.rec
                .fail(k, s as Stream, Cause::TimedOut, leaving * t.timed_out / out);
            // A stream with no arrivals this tick (its requests are left
            // from earlier ticks) pays at least its TTFB here.
            let added = a.network_s[s].max(self.ttfb_s[population_of(s as Stream)][k]);
            for g in groups {
                self.rec.served(
                    k,
                    s as Stream,
                    added,
                    g.base,
                    served * g.served / t.served,
                    g.tail,
                );
            }
        }
    }
}
