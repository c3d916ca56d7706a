//! The network layer at scale: a static catchment of 10,000 populations
//! over 20 sites, a withdrawal converging over a 1,000-AS topology with
//! MRAI timers on the event engine, and the textbook path exploration of a
//! withdrawal in a policy-free full mesh.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use cutover::engine::EventQueue;
use cutover_models::bgp::catchment::{compute, Announcement};
use cutover_models::bgp::decision::DecisionConfig;
use cutover_models::bgp::generate::{generate, GeneratorParams};
use cutover_models::bgp::network::{BgpNetwork, Input, NetworkConfig, Output};
use cutover_models::bgp::policy::{ExportPolicy, TopologyOptions};
use cutover_models::bgp::topology::{
    AsSpec, LinkKind, LinkSpec, PopSpec, PopulationSpec, SiteSpec, Topology, TopologySpec,
    UpstreamSpec,
};
use cutover_models::bgp::{Asn, Relationship};
use cutover_models::geo::catalog::CITIES;
use cutover_models::geo::{LatLon, LatencyModel};
use cutover_models::{SimDuration, SimTime};

/// SplitMix64 draws in [0, 1): the benches need only reproducible numbers.
fn draws(seed: u64) -> impl FnMut() -> f64 {
    let mut s = seed;
    move || {
        s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// About 1,000 ASes (10 tier-1, 30 tier-2 per region, 25 access ISPs in
/// each of the catalog's cities), 20 sites and `populations` populations
/// spread over the access ISPs.
fn topology(populations: usize) -> Topology {
    let cities: Vec<(String, LatLon)> = CITIES
        .iter()
        .map(|c| (c.code.to_string(), c.location()))
        .collect();
    let params = GeneratorParams {
        tier1: 10,
        tier2_per_region: 30,
        access_per_city: 25,
        ..GeneratorParams::default()
    };
    let mut draw = draws(1);
    let g = generate(&params, &cities, &mut draw);
    let sites: Vec<SiteSpec> = CITIES
        .iter()
        .step_by(CITIES.len() / 20)
        .take(20)
        .map(|c| SiteSpec {
            name: format!("{}1", c.code),
            location: c.location(),
            upstreams: g.site_upstreams(c.location()),
        })
        .collect();
    let isps: Vec<(Asn, LatLon)> = g
        .access
        .iter()
        .flat_map(|(city, asns)| {
            let loc = cities.iter().find(|c| &c.0 == city).map(|c| c.1);
            asns.iter().filter_map(move |&a| Some((a, loc?)))
        })
        .collect();
    let populations = (0..populations)
        .map(|i| {
            let (isp, location) = isps[i % isps.len()];
            PopulationSpec {
                name: format!("p{i}"),
                location,
                weight: 1.0,
                isp: Some(isp),
            }
        })
        .collect();
    Topology::build(&TopologySpec {
        ases: g.ases,
        links: g.links,
        origin: Asn(64500),
        sites,
        populations,
    })
    .expect("generated topology is valid")
}

fn catchment(c: &mut Criterion) {
    let topo = topology(10_000);
    let anns: Vec<Announcement> = (0..topo.sites().len()).map(Announcement::plain).collect();
    let latency = LatencyModel::default();
    let mut group = c.benchmark_group("network");
    group.sample_size(10);
    group.bench_function("catchment_10k_populations_20_sites_1k_ases", |b| {
        b.iter(|| compute(&topo, &anns, &latency, DecisionConfig::default()).expect("settles"))
    });
    group.finish();
}

/// Withdraws site 0 and runs the engine until no event is left; returns
/// the simulated instant of the last event, the UPDATEs sent and the best
/// routes that changed.
fn withdraw(mut net: BgpNetwork<'_>) -> (SimTime, u64, u64) {
    let before = net.updates_sent();
    let mut changed = 0;
    let mut jitter = draws(2);
    let mut events: EventQueue<Input> = EventQueue::new();
    events.schedule_in(SimDuration::ZERO, Input::StopAnnouncing { site: 0 });
    let delay = SimDuration::from_millis(10);
    let mut last = SimTime::ZERO;
    while let Some((now, input)) = events.pop() {
        for out in net.handle(input, &mut jitter) {
            match out {
                Output::Send { from, to, advert } => {
                    events.schedule_in(delay, Input::Update { to, from, advert })
                }
                Output::SetMraiTimer {
                    router,
                    neighbour,
                    after,
                } => {
                    events.set_timer_in(after, Input::MraiExpired { router, neighbour });
                }
                Output::BestChanged { .. } => {
                    changed += 1;
                    last = now;
                }
            }
        }
    }
    (last, net.updates_sent() - before, changed)
}

fn withdrawal(c: &mut Criterion) {
    let topo = topology(0);
    let config = NetworkConfig::default();
    let mut steady = BgpNetwork::new(&topo, config);
    steady.converge_static((0..topo.sites().len()).map(|s| Announcement::plain(s).input()));
    let (last, updates, changed) = withdraw(steady.clone());
    println!(
        "withdrawal of {} over {} ASes ({} routers): {updates} UPDATEs, {changed} best-route changes, last at {last}",
        topo.sites()[0].name,
        topo.as_count(),
        topo.routers().len()
    );
    let mut group = c.benchmark_group("network");
    group.sample_size(10);
    group.bench_function("withdrawal_1k_ases_mrai_30s", |b| {
        b.iter_batched(|| steady.clone(), withdraw, BatchSize::LargeInput)
    });
    group.finish();
}

/// A clique of `n` ASes exporting everything, the origin's one site
/// peering with all of them (Labovitz et al., SIGCOMM 2000).
fn clique(n: u32) -> Topology {
    let others: Vec<u32> = (10..10 + n - 1).collect();
    let location = CITIES[0].location();
    let ases = others
        .iter()
        .map(|&a| AsSpec {
            asn: Asn(a),
            name: format!("as{a}"),
            pops: vec![PopSpec {
                name: "x".into(),
                location,
            }],
        })
        .collect();
    let mut links = Vec::new();
    for (i, &a) in others.iter().enumerate() {
        for &b in &others[i + 1..] {
            links.push(LinkSpec {
                a: Asn(a),
                b: Asn(b),
                kind: LinkKind::Peer,
                at: Vec::new(),
            });
        }
    }
    let site = SiteSpec {
        name: "s".into(),
        location,
        upstreams: others
            .iter()
            .map(|&a| UpstreamSpec {
                asn: Asn(a),
                rel: Relationship::Peer,
            })
            .collect(),
    };
    let options = TopologyOptions {
        export: others
            .iter()
            .map(|&a| (Asn(a), ExportPolicy::All))
            .collect(),
        ..TopologyOptions::default()
    };
    Topology::build(&TopologySpec {
        ases,
        links,
        origin: Asn(64500),
        sites: vec![site],
        populations: Vec::new(),
    })
    .expect("valid clique")
    .with_options(&options)
    .expect("valid options")
}

fn path_exploration(c: &mut Criterion) {
    let topo = clique(20);
    let mut steady = BgpNetwork::new(&topo, NetworkConfig::default());
    steady.converge_static([Announcement::plain(0).input()]);
    let (last, updates, changed) = withdraw(steady.clone());
    println!(
        "withdrawal in a clique of 20 ASes exporting everything: {updates} UPDATEs, {changed} best-route changes, last at {last}"
    );
    let mut group = c.benchmark_group("network");
    group.sample_size(10);
    group.bench_function("withdrawal_clique_20_export_all_mrai_30s", |b| {
        b.iter_batched(|| steady.clone(), withdraw, BatchSize::LargeInput)
    });
    group.finish();
}

criterion_group!(benches, catchment, withdrawal, path_exploration);
criterion_main!(benches);
