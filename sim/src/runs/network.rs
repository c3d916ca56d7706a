//! The network run: BGP convergence over time on the event engine, with a
//! site failure injected and detected, and the requests each population
//! sends counted as served (at the site it reaches, with that site's TTFB)
//! or failed (while its route still leads to a dead site).
//!
//! Traffic is fluid: each population sends `request_rate x weight share`
//! requests per second, and a population's requests fail exactly while its
//! forwarding path ends at a site that cannot serve.

use cutover_models::bgp::catchment::{compute, Catchment};
use cutover_models::bgp::network::{
    BgpNetwork, Delivery, Input, NetworkConfig, NotSettled, Output,
};
use cutover_models::bgp::RouterId;
use cutover_models::geo::FIBER_KM_PER_S;
use cutover_models::{SimDuration, SimTime};
use rand::Rng;
use serde::Serialize;

use crate::engine::{EventQueue, RngStreams};
use crate::scenario::network::{Detection, FailureKind, NetworkSpec};

#[derive(Debug, Clone)]
enum Event {
    Bgp(Input),
    Failure,
    /// The site's router goes dark after a clean shutdown's drain.
    PowerOff,
    /// The health check gives up on the site and withdraws it.
    HealthWithdraw,
}

/// Where a population's requests go at some instant.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum PopState {
    /// Served by this site.
    Served(usize),
    /// Lost (dead site, no route, or a transient loop).
    Failing,
}

/// A population's route moving.
#[derive(Debug, Clone, Serialize)]
pub struct RouteChange {
    /// When, seconds.
    pub t_s: f64,
    /// Population (city code).
    pub city: String,
    /// Access ISP.
    pub isp: String,
    /// Site before, empty when failing.
    pub from_site: String,
    /// Site after, empty when failing.
    pub to_site: String,
    /// TTFB after, ms (empty when failing).
    pub ttfb_ms: Option<f64>,
}

/// How one population fared.
#[derive(Debug, Clone, Serialize)]
pub struct PopulationSummary {
    /// City code.
    pub city: String,
    /// Access ISP.
    pub isp: String,
    /// Site at the start.
    pub site_before: String,
    /// TTFB at the start, ms.
    pub ttfb_before_ms: Option<f64>,
    /// Site at the end.
    pub site_after: String,
    /// TTFB at the end, ms.
    pub ttfb_after_ms: Option<f64>,
    /// Seconds its requests failed.
    pub failing_s: f64,
    /// Requests that failed.
    pub failed_requests: f64,
}

/// What a network run measured.
#[derive(Debug, Clone, Serialize)]
pub struct NetworkSummary {
    /// Simulated seconds.
    pub simulated_s: f64,
    /// Requests sent by all populations.
    pub requests: f64,
    /// Requests that failed.
    pub failed_requests: f64,
    /// failed / requests.
    pub error_rate: f64,
    /// The failure injected, if any, in words.
    pub failure: Option<String>,
    /// When the failure happened, seconds.
    pub failure_at_s: Option<f64>,
    /// Seconds from the failure until the last population's route settled.
    pub convergence_s: Option<f64>,
    /// Seconds from the failure until the last router's best route changed
    /// (control-plane convergence; traffic may have settled earlier).
    pub control_plane_settled_s: Option<f64>,
    /// Longest time any population's requests failed, seconds.
    pub longest_blackhole_s: f64,
    /// BGP UPDATE messages sent during the run.
    pub updates: u64,
    /// Engine events processed.
    pub events: u64,
    /// Every population.
    pub populations: Vec<PopulationSummary>,
}

/// Everything a network run produces.
pub struct NetworkOutcome {
    /// The steady-state catchment at the start.
    pub initial: Catchment,
    /// The summary.
    pub summary: NetworkSummary,
    /// Every route change after the start.
    pub changes: Vec<RouteChange>,
    /// Per population, its states over time: (from, state), in time order.
    pub history: Vec<Vec<(SimTime, PopState)>>,
    /// Site names, in site order.
    pub site_names: Vec<String>,
}

fn failure_text(kind: &FailureKind) -> String {
    match kind {
        FailureKind::Shutdown { drain } => {
            format!("clean shutdown (node stops {drain} after withdrawing)")
        }
        FailureKind::Crash(Detection::HoldTimer { hold, keepalive }) => {
            format!("crash detected by hold timer ({hold} hold, {keepalive} keepalive)")
        }
        FailureKind::Crash(Detection::Bfd {
            interval,
            multiplier,
        }) => {
            format!("crash detected by BFD ({interval} x {multiplier})")
        }
        FailureKind::ServiceDown { interval, failures } => {
            format!(
                "service down, withdrawn after {failures} failed health checks every {interval}"
            )
        }
    }
}

/// Runs the network scenario with run seed `seed`; fails if BGP has no
/// steady state to start from.
pub fn run(spec: &NetworkSpec, seed: u64) -> Result<NetworkOutcome, NotSettled> {
    let topo = &spec.built;
    let streams = RngStreams::new(seed);
    let mut mrai_rng = streams.stream("network.mrai");
    let mut detect_rng = streams.stream("network.detection");
    let mut jitter = move || mrai_rng.random::<f64>();

    let initial = compute(topo, &spec.announcements, &spec.latency, spec.decision)?;
    let config = NetworkConfig {
        decision: spec.decision,
        ebgp_mrai: spec.ebgp_mrai,
        ibgp_mrai: spec.ibgp_mrai,
        mrai_busy: spec.mrai_busy,
    };
    let mut net = BgpNetwork::new(topo, config);
    // Start from the steady state. A run models one prefix (the command
    // line refuses sites announcing prefixes of different lengths).
    let processed = net.converge_static(
        spec.announcements
            .iter()
            .filter(|a| a.announce)
            .map(|a| a.input()),
    );
    if !net.settled() {
        return Err(NotSettled { processed });
    }
    let updates_at_start = net.updates_sent();
    let mut events: EventQueue<Event> = EventQueue::new();
    if spec.mrai_busy {
        let mut phase_rng = streams.stream("network.mrai-phase");
        for out in net.start_mrai_timers(&mut || phase_rng.random::<f64>()) {
            if let Output::SetMraiTimer {
                router,
                neighbour,
                after,
            } = out
            {
                events.set_timer_in(after, Event::Bgp(Input::MraiExpired { router, neighbour }));
            }
        }
    }

    let mut serving = vec![true; topo.sites().len()];
    let pops = topo.populations();
    let total_weight: f64 = pops.iter().map(|p| p.weight).sum();
    let rate = |i: usize| {
        if total_weight > 0.0 {
            spec.request_rate_per_s * pops[i].weight / total_weight
        } else {
            0.0
        }
    };
    let state_of =
        |net: &BgpNetwork<'_>, serving: &[bool], router: RouterId| match net.forward(router) {
            Delivery::Site { site, .. } if serving[site] => PopState::Served(site),
            _ => PopState::Failing,
        };
    let mut history: Vec<Vec<(SimTime, PopState)>> = pops
        .iter()
        .map(|p| vec![(SimTime::ZERO, state_of(&net, &serving, p.router))])
        .collect();
    let site_names: Vec<String> = topo.sites().iter().map(|s| s.name.clone()).collect();
    let name_of = |s: PopState| match s {
        PopState::Served(i) => site_names[i].clone(),
        PopState::Failing => String::new(),
    };
    let ttfb_of = |i: usize, s: PopState| match s {
        PopState::Served(site) => Some(
            spec.latency
                .ttfb_between_ms(pops[i].location, topo.sites()[site].location),
        ),
        PopState::Failing => None,
    };

    let end = SimTime::ZERO + spec.duration;
    if let Some(f) = &spec.failure {
        events.schedule_at(SimTime::ZERO + f.at, Event::Failure);
    }
    let link_delay = |a: RouterId, b: RouterId| {
        let km = topo.router(a).location.distance_km(topo.router(b).location);
        spec.processing_delay
            + SimDuration::from_secs_f64(km * spec.latency.path_inflation() / FIBER_KM_PER_S)
    };
    let mut changes = Vec::new();
    let mut last_change: Option<SimTime> = None;
    let mut last_best_change: Option<SimTime> = None;

    while let Some(at) = events.peek_time() {
        if at > end {
            break;
        }
        let Some((now, ev)) = events.pop() else { break };
        let mut inputs: Vec<Input> = Vec::new();
        let mut dirty = false;
        match ev {
            Event::Bgp(input) => inputs.push(input),
            Event::Failure => {
                let Some(f) = &spec.failure else { continue };
                let router = topo.sites()[f.site].router;
                let neighbours: Vec<RouterId> = topo
                    .ebgp_neighbours(router)
                    .iter()
                    .map(|n| n.router)
                    .collect();
                match f.kind {
                    FailureKind::Shutdown { drain } => {
                        inputs.push(Input::StopAnnouncing { site: f.site });
                        events.schedule_in(drain, Event::PowerOff);
                    }
                    FailureKind::Crash(detection) => {
                        serving[f.site] = false;
                        dirty = true;
                        inputs.push(Input::RouterDown { router });
                        for n in neighbours {
                            let delay = match detection {
                                // The last keepalive arrived at a uniformly
                                // random point of the last interval.
                                Detection::HoldTimer { hold, keepalive } => {
                                    let since =
                                        keepalive.as_secs_f64() * detect_rng.random::<f64>();
                                    SimDuration::from_secs_f64(hold.as_secs_f64() - since)
                                }
                                Detection::Bfd {
                                    interval,
                                    multiplier,
                                } => interval.saturating_mul(u64::from(multiplier)),
                            };
                            events.schedule_in(
                                delay,
                                Event::Bgp(Input::SessionDown {
                                    router: n,
                                    neighbour: router,
                                }),
                            );
                        }
                    }
                    FailureKind::ServiceDown { interval, failures } => {
                        serving[f.site] = false;
                        dirty = true;
                        let first = interval.as_secs_f64() * detect_rng.random::<f64>();
                        let wait = SimDuration::from_secs_f64(
                            first + interval.as_secs_f64() * f64::from(failures.saturating_sub(1)),
                        );
                        events.schedule_in(wait, Event::HealthWithdraw);
                    }
                }
            }
            Event::PowerOff => {
                if let Some(f) = &spec.failure {
                    let router = topo.sites()[f.site].router;
                    serving[f.site] = false;
                    dirty = true;
                    inputs.push(Input::RouterDown { router });
                    // The closing sessions send a Cease notification.
                    for n in topo.ebgp_neighbours(router) {
                        events.schedule_in(
                            link_delay(router, n.router),
                            Event::Bgp(Input::SessionDown {
                                router: n.router,
                                neighbour: router,
                            }),
                        );
                    }
                }
            }
            Event::HealthWithdraw => {
                if let Some(f) = &spec.failure {
                    inputs.push(Input::StopAnnouncing { site: f.site });
                }
            }
        }
        for input in inputs {
            for out in net.handle(input, &mut jitter) {
                match out {
                    Output::Send { from, to, advert } => events.schedule_in(
                        link_delay(from, to),
                        Event::Bgp(Input::Update { to, from, advert }),
                    ),
                    Output::SetMraiTimer {
                        router,
                        neighbour,
                        after,
                    } => {
                        events.set_timer_in(
                            after,
                            Event::Bgp(Input::MraiExpired { router, neighbour }),
                        );
                    }
                    Output::BestChanged { .. } => {
                        dirty = true;
                        last_best_change = Some(now);
                    }
                }
            }
        }
        if dirty {
            for (i, p) in pops.iter().enumerate() {
                let s = state_of(&net, &serving, p.router);
                let prev = history[i].last().map_or(PopState::Failing, |h| h.1);
                if s != prev {
                    history[i].push((now, s));
                    last_change = Some(now);
                    changes.push(RouteChange {
                        t_s: now.as_secs_f64(),
                        city: p.name.clone(),
                        isp: p.isp.to_string(),
                        from_site: name_of(prev),
                        to_site: name_of(s),
                        ttfb_ms: ttfb_of(i, s).map(|v| (v * 10.0).round() / 10.0),
                    });
                }
            }
        }
    }

    let mut requests = 0.0;
    let mut failed = 0.0;
    let mut longest = 0.0f64;
    let mut populations = Vec::new();
    for (i, p) in pops.iter().enumerate() {
        let h = &history[i];
        let mut failing_s = 0.0;
        for (k, &(t, s)) in h.iter().enumerate() {
            let until = h.get(k + 1).map_or(end, |n| n.0);
            if s == PopState::Failing {
                failing_s += until.saturating_since(t).as_secs_f64();
            }
        }
        longest = longest.max(failing_s);
        let r = rate(i);
        requests += r * spec.duration.as_secs_f64();
        failed += r * failing_s;
        let first = h[0].1;
        let last = h[h.len() - 1].1;
        populations.push(PopulationSummary {
            city: p.name.clone(),
            isp: p.isp.to_string(),
            site_before: name_of(first),
            ttfb_before_ms: ttfb_of(i, first),
            site_after: name_of(last),
            ttfb_after_ms: ttfb_of(i, last),
            failing_s,
            failed_requests: r * failing_s,
        });
    }
    let failure_at = spec.failure.as_ref().map(|f| SimTime::ZERO + f.at);
    let summary = NetworkSummary {
        simulated_s: spec.duration.as_secs_f64(),
        requests,
        failed_requests: failed,
        error_rate: if requests > 0.0 {
            failed / requests
        } else {
            0.0
        },
        failure: spec
            .failure
            .as_ref()
            .map(|f| format!("{}: {}", site_names[f.site], failure_text(&f.kind))),
        failure_at_s: failure_at.map(SimTime::as_secs_f64),
        convergence_s: match (failure_at, last_change) {
            (Some(f), Some(l)) => Some(l.saturating_since(f).as_secs_f64()),
            _ => None,
        },
        control_plane_settled_s: match (failure_at, last_best_change) {
            (Some(f), Some(l)) if l >= f => Some(l.saturating_since(f).as_secs_f64()),
            _ => None,
        },
        longest_blackhole_s: longest,
        updates: net.updates_sent() - updates_at_start,
        events: events.processed(),
        populations,
    };
    Ok(NetworkOutcome {
        initial,
        summary,
        changes,
        history,
        site_names,
    })
}
