//! Where the world's outcomes go: per population, per site and in all,
//! requests by outcome (served, failed by cause), slow requests and
//! latency distributions.

use serde::Serialize;

use super::latency::{LatencyHistogram, WaitTail};

/// Why a request failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// Its route led to a site that could not serve (dead, withdrawn but
    /// still routed during convergence, no route, a transient loop).
    Blackholed,
    /// The site had no room for it (queue full, no ready pod).
    Rejected,
    /// It waited past the timeout.
    TimedOut,
    /// It was in flight at a site that died.
    Reset,
    /// It carried a synchronous write the site could not make: the second
    /// copy was across a partition.
    WriteFailed,
}

/// Requests by outcome.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Tally {
    /// Requests that arrived.
    pub requests: f64,
    /// Requests served.
    pub served: f64,
    /// Lost on the way (see [`Cause::Blackholed`]).
    pub blackholed: f64,
    /// Turned away (see [`Cause::Rejected`]).
    pub rejected: f64,
    /// Timed out (see [`Cause::TimedOut`]).
    pub timed_out: f64,
    /// Reset (see [`Cause::Reset`]).
    pub reset: f64,
    /// Failed by their synchronous write (see [`Cause::WriteFailed`]).
    pub write_failed: f64,
    /// Served slower than the slow threshold at the site.
    pub slow: f64,
}

impl Tally {
    /// Requests failed, every cause.
    pub fn failed(&self) -> f64 {
        self.blackholed + self.rejected + self.timed_out + self.reset + self.write_failed
    }

    /// Adds `n` failed requests of `cause`.
    pub fn fail(&mut self, cause: Cause, n: f64) {
        match cause {
            Cause::Blackholed => self.blackholed += n,
            Cause::Rejected => self.rejected += n,
            Cause::TimedOut => self.timed_out += n,
            Cause::Reset => self.reset += n,
            Cause::WriteFailed => self.write_failed += n,
        }
    }

    /// Adds `other` to this tally.
    pub fn add(&mut self, other: &Tally) {
        self.requests += other.requests;
        self.served += other.served;
        self.blackholed += other.blackholed;
        self.rejected += other.rejected;
        self.timed_out += other.timed_out;
        self.reset += other.reset;
        self.write_failed += other.write_failed;
        self.slow += other.slow;
    }
}

/// What an observation window watches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Watched {
    /// A site: the requests that reach it, their latency at the site.
    Site(usize),
    /// A population: its requests wherever they go, their latency as its
    /// users see it (network included).
    Population(usize),
}

/// A stream: the requests of one population reaching one site directly
/// (even index) or by overflow from another site (odd index).
pub type Stream = u32;

/// The population of a stream.
pub fn population_of(stream: Stream) -> usize {
    (stream / 2) as usize
}

/// The stream of population `p`, direct or overflowed.
pub fn stream_of(p: usize, moved: bool) -> Stream {
    (2 * p + usize::from(moved)) as Stream
}

/// Outcomes by population and site, and latency distributions.
pub struct Recorder {
    /// Per population.
    pub populations: Vec<Tally>,
    /// Per site (requests = arrivals at the site, own and overflowed in).
    pub sites: Vec<Tally>,
    /// Latency of each population's served requests.
    pub population_latency: Vec<LatencyHistogram>,
    /// Latency of each site's served requests at the site (the service's
    /// own, without the users' network).
    pub site_latency: Vec<LatencyHistogram>,
    /// Served requests of the current timeline row, latency at the site.
    pub interval_latency: LatencyHistogram,
    /// Failures of the current tick, by population (for the timeline).
    pub tick_failed: Vec<f64>,
    /// Open observation windows: each one's handle, what it watches and
    /// the latency of the requests served there since it opened.
    pub watch: Vec<(usize, Watched, LatencyHistogram)>,
    /// Latency added to every request served at each site (a `delay`
    /// failure), seconds.
    pub site_extra_s: Vec<f64>,
    /// Share of the requests each site serves whose synchronous write
    /// cannot be made (the site is cut off by a partition), 0 to 1: they
    /// fail instead of being served.
    pub site_write_failing: Vec<f64>,
    slow_s: f64,
}

impl Recorder {
    /// A recorder for `populations` and `sites`; requests slower than
    /// `slow_s` count as slow.
    pub fn new(populations: usize, sites: usize, slow_s: f64) -> Self {
        Recorder {
            populations: vec![Tally::default(); populations],
            sites: vec![Tally::default(); sites],
            population_latency: (0..populations).map(|_| LatencyHistogram::new()).collect(),
            site_latency: (0..sites).map(|_| LatencyHistogram::new()).collect(),
            interval_latency: LatencyHistogram::new(),
            tick_failed: vec![0.0; populations],
            watch: Vec::new(),
            site_extra_s: vec![0.0; sites],
            site_write_failing: vec![0.0; sites],
            slow_s,
        }
    }

    /// `n` requests of population `p` arrive (before their route is known).
    pub fn arrive(&mut self, p: usize, n: f64) {
        self.populations[p].requests += n;
    }

    /// `n` requests of population `p` are lost on the way.
    pub fn blackhole(&mut self, p: usize, n: f64) {
        self.populations[p].blackholed += n;
        self.tick_failed[p] += n;
    }

    /// `n` requests of `stream` arrive at `site`.
    pub fn site_arrival(&mut self, site: usize, n: f64) {
        self.sites[site].requests += n;
    }

    /// `n` requests of `stream` failed at `site` by `cause`.
    pub fn fail(&mut self, site: usize, stream: Stream, cause: Cause, n: f64) {
        let p = population_of(stream);
        self.populations[p].fail(cause, n);
        self.sites[site].fail(cause, n);
        self.tick_failed[p] += n;
    }

    /// `n` requests of `stream` served at `site`: `at_site_s` seconds at
    /// the site (plus the site's extra delay) plus an optional exponential
    /// tail (the service's own latency, which the slow threshold judges),
    /// and `network_s` more before the user has the first byte.
    pub fn served(
        &mut self,
        site: usize,
        stream: Stream,
        network_s: f64,
        at_site_s: f64,
        n: f64,
        tail: Option<WaitTail>,
    ) {
        let n = self.write_failures(site, stream, n);
        if n <= 0.0 {
            return;
        }
        let p = population_of(stream);
        let at_site_s = at_site_s + self.site_extra_s[site];
        let slow = n * slow_share(at_site_s, tail, self.slow_s);
        for t in [&mut self.populations[p], &mut self.sites[site]] {
            t.served += n;
            t.slow += slow;
        }
        self.population_latency[p].add_with_tail(network_s + at_site_s, n, tail);
        self.site_latency[site].add_with_tail(at_site_s, n, tail);
        self.interval_latency.add_with_tail(at_site_s, n, tail);
        for (_, watched, h) in &mut self.watch {
            match *watched {
                Watched::Site(k) if k == site => h.add_with_tail(at_site_s, n, tail),
                Watched::Population(q) if q == p => h.add_with_tail(network_s + at_site_s, n, tail),
                _ => {}
            }
        }
    }

    /// `n` requests of `stream` finished at `site` by a pod being removed
    /// (counted as served; their latency is not sampled).
    pub fn drained(&mut self, site: usize, stream: Stream, n: f64) {
        let n = self.write_failures(site, stream, n);
        let p = population_of(stream);
        self.populations[p].served += n;
        self.sites[site].served += n;
    }

    /// Of `n` requests of `stream` done at `site`, fails those whose
    /// synchronous write the site cannot make; the rest, served.
    fn write_failures(&mut self, site: usize, stream: Stream, n: f64) -> f64 {
        let failing = n * self.site_write_failing[site];
        if failing > 0.0 {
            self.fail(site, stream, Cause::WriteFailed, failing);
        }
        n - failing
    }

    /// The latency users saw of every served request (network included):
    /// the populations' merged.
    pub fn user_latency(&mut self) -> LatencyHistogram {
        merged(&mut self.population_latency)
    }

    /// The latency at the sites of every served request: the sites' merged.
    pub fn service_latency(&mut self) -> LatencyHistogram {
        merged(&mut self.site_latency)
    }

    /// Every population's tally summed.
    pub fn total(&self) -> Tally {
        let mut t = Tally::default();
        for p in &self.populations {
            t.add(p);
        }
        t
    }
}

/// One histogram of all of `hists`.
fn merged(hists: &mut [LatencyHistogram]) -> LatencyHistogram {
    let mut all = LatencyHistogram::new();
    for h in hists {
        all.merge(h);
    }
    all
}

/// Share of requests at `base` plus the tail slower than `slow_s`.
fn slow_share(base: f64, tail: Option<WaitTail>, slow_s: f64) -> f64 {
    match tail {
        _ if base > slow_s => 1.0,
        Some((p, rate)) => p * (-rate * (slow_s - base)).exp(),
        None => 0.0,
    }
}
