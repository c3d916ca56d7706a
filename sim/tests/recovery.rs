//! Data lost and time to recover when a site of the story's estate fails,
//! held against the closed forms: writes lost = the site's write rate x
//! the span not replicated; recovery = the users' blackhole, to the tick.

use std::path::PathBuf;

use cutover::experiment::Experiment;
use cutover::scenario::Source;
use cutover::world::partition::PartitionRow;
use cutover::world::recovery::{DataLossRow, RecoverySummary, ServiceRecoveryRow};
use cutover::world::replication::ReplicationRow;
use cutover::world::summary::Summary;
use cutover::world::World;

/// A drill on the story's estate at 1,000 requests/s (each of its 15
/// cities 1/15 of it) over `duration`, with `failures` (TOML).
fn drill(duration: &str, failures: &str) -> Summary {
    run(&format!(
        "[experiment]\nname = \"drill\"\nestate = \"estate.toml\"\nduration = \"{duration}\"\n\n\
         [traffic]\nbase_rate = \"1000/s\"\n\n{failures}\n"
    ))
}

/// The summary of the experiment `text`, as if a file in scenarios/story.
fn run(text: &str) -> Summary {
    let text = text.to_string();
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenarios/story/test.toml");
    let exp =
        Experiment::from_source(&Source::from_text(&path, text)).unwrap_or_else(|e| panic!("{e}"));
    World::new(&exp, 1).expect("BGP settles").run().summary
}

fn crash(site: &str, at: &str, detection: &str) -> String {
    format!("[[failures]]\nsite = \"{site}\"\nat = \"{at}\"\nkind = \"crash\"\ndetection = \"{detection}\"\n\n")
}

fn recovery(s: &Summary) -> &RecoverySummary {
    s.recovery
        .as_ref()
        .expect("the story's estate declares data and services")
}

fn class<'a>(r: &'a RecoverySummary, start_s: f64, name: &str) -> &'a DataLossRow {
    r.data
        .iter()
        .find(|d| d.class == name && d.start_s == start_s)
        .unwrap_or_else(|| panic!("no {name} row at {start_s} s"))
}

fn service<'a>(r: &'a RecoverySummary, name: &str) -> &'a ServiceRecoveryRow {
    r.services.iter().find(|d| d.service == name).unwrap()
}

/// One city's requests per second.
const CITY: f64 = 1000.0 / 15.0;

#[test]
fn a_crash_loses_each_class_by_its_replication_and_recovers_with_the_route() {
    // ny1 serves New York alone: one city's 66.7 requests/s.
    let s = drill("300s", &crash("ny1", "60s", "hold-timer"));
    let r = recovery(&s);
    let orders = class(r, 60.0, "orders");
    assert_eq!((orders.lost_writes, orders.window_s), (0.0, 0.0));
    assert!(orders.met);
    let users = class(r, 60.0, "users");
    assert!(
        (users.write_rate_per_s - 0.005 * CITY).abs() < 1e-9,
        "{users:?}"
    );
    assert!(
        (1.0..=2.0).contains(&users.window_s),
        "the lag is drawn from 1-2 s"
    );
    assert!((users.lost_writes - users.write_rate_per_s * users.window_s).abs() < 1e-12);
    // The catalogue's copies run every 15 minutes from the start: 60 s
    // of writes since the last one.
    let catalogue = class(r, 60.0, "catalogue");
    assert_eq!(catalogue.window_s, 60.0);
    assert!((catalogue.lost_writes - 0.0005 * CITY * 60.0).abs() < 1e-9);
    // New York's users are blackholed until the hold timer drops the
    // session and BGP moves them: recovered at the end of that tick.
    let core = service(r, "core transactions");
    let took = core.recovered_s.expect("recovered within the run");
    assert!(
        took >= s.longest_blackhole_s && took <= s.longest_blackhole_s + 1.0,
        "{took} against a blackhole of {}",
        s.longest_blackhole_s
    );
    assert!(
        core.met && took > 60.0,
        "the hold timer takes over a minute"
    );
}

#[test]
fn an_archive_loses_the_writes_since_its_last_copy_whenever_the_site_dies() {
    // Two crashes, 17 min 30 s and 35 min into the run: 150 s and 300 s
    // after the catalogue's last copy; the logs' hourly copy has not run.
    let failures = crash("ny1", "1050s", "bfd") + &crash("la1", "2100s", "bfd");
    let s = drill("2200s", &failures);
    let r = recovery(&s);
    assert_eq!(class(r, 1050.0, "catalogue").window_s, 150.0);
    assert_eq!(class(r, 2100.0, "catalogue").window_s, 300.0);
    assert_eq!(class(r, 2100.0, "logs").window_s, 2100.0);
    for row in &r.data {
        assert!((row.lost_writes - row.write_rate_per_s * row.window_s).abs() < 1e-9);
    }
}

#[test]
fn a_clean_shutdown_drains_the_stream_before_the_node_goes_dark() {
    let s = drill(
        "120s",
        "[[failures]]\nsite = \"ny1\"\nat = \"60s\"\nkind = \"shutdown\"\ndrain = \"5s\"\n",
    );
    let r = recovery(&s);
    assert_eq!(
        class(r, 60.0, "users").lost_writes,
        0.0,
        "5 s of drain covers a 1-2 s lag"
    );
    assert_eq!(class(r, 60.0, "catalogue").window_s, 60.0);
    assert_eq!(
        service(r, "browsing").recovered_s,
        Some(0.0),
        "no request failed"
    );
}

#[test]
fn users_with_nowhere_to_go_have_not_recovered_and_the_drill_fails() {
    let sites = [
        "ny1", "la1", "ams1", "hkg1", "szx1", "hgh1", "ctu1", "wuh1", "syd1",
    ];
    let failures: String = sites.iter().map(|k| crash(k, "30s", "bfd")).collect();
    let s = drill("120s", &failures);
    let r = recovery(&s);
    assert!(r
        .services
        .iter()
        .all(|row| row.recovered_s.is_none() && !row.met));
    assert_eq!(s.verdict, "fail");
    assert!(
        s.reasons.iter().any(|m| m.contains(
            "core transactions (P0) after ny1 crash at 30 s did not recover within the run"
        )),
        "{:?}",
        s.reasons
    );
}

fn partition<'a>(r: &'a RecoverySummary, class: &str) -> &'a PartitionRow {
    r.partitions.iter().find(|p| p.class == class).unwrap()
}

/// Asia-Pacific cut off for ten minutes: the side's synchronous writes
/// fail, its stream queues and drains at the spare rate after the heal,
/// its reads go stale by the time since the cut.
#[test]
fn a_partition_fails_or_queues_each_class_and_the_backlog_drains_at_the_spare_rate() {
    let side = ["hkg1", "szx1", "hgh1", "ctu1", "wuh1", "syd1"];
    let s = drill(
        "20m",
        "[[failures]]\nsite = \"hkg1\"\nwith = [\"szx1\", \"hgh1\", \"ctu1\", \"wuh1\", \"syd1\"]\n\
         at = \"2m\"\nkind = \"partition\"\nduration = \"10m\"\n",
    );
    // The side serves the cities routed to its sites: their requests
    // over the 600 s cut.
    let cities = s
        .populations
        .iter()
        .filter(|p| side.contains(&p.site_before.as_str()))
        .count() as f64;
    let side_rate = CITY * cities;
    let r = recovery(&s);
    let orders = partition(r, "orders");
    assert!(
        (orders.writes_failed - 0.01 * side_rate * 600.0).abs() < 1e-6,
        "{orders:?}"
    );
    assert_eq!(orders.writes_queued, 0.0);
    let users = partition(r, "users");
    let backlog = 0.005 * side_rate * 600.0;
    assert!((users.writes_queued - backlog).abs() < 1e-6, "{users:?}");
    // Replayed at 100/s while 0.5 % of the side's requests keep writing.
    let drain = backlog / (100.0 - 0.005 * side_rate);
    assert!(
        (users.consistent_after_s.unwrap() - drain).abs() < 1e-6,
        "{users:?} {drain}"
    );
    // The stalest read: the cut's 600 s plus the mean lag of 1.5 s, to
    // the half tick.
    let most = users.staleness_max_s.unwrap();
    assert!((600.0..=601.5).contains(&most), "{most}");
    // The catalogue's next copy after the heal at 12 min is at 15 min.
    assert_eq!(partition(r, "catalogue").consistent_after_s, Some(180.0));
    assert_eq!(s.failures.len(), 1);
}

/// Asia-Pacific cut off for ten minutes at 2 min, as the bundled
/// partition-apac scenario.
const APAC_CUT: &str =
    "[[failures]]\nsite = \"hkg1\"\nwith = [\"szx1\", \"hgh1\", \"ctu1\", \"wuh1\", \"syd1\"]\n\
    at = \"2m\"\nkind = \"partition\"\nduration = \"10m\"\n";

/// The requests that carried an order on the cut side fail: the added
/// errors are the order share times the side's requests over the cut (1 %
/// of its cities' 66.7/s each for 600 s), every one a write failure, and
/// availability falls by them over the run's requests. Streamed writes
/// queue but their requests are served.
#[test]
fn requests_whose_synchronous_write_fails_in_a_partition_are_errors() {
    let side = ["hkg1", "szx1", "hgh1", "ctu1", "wuh1", "syd1"];
    let cut = drill("20m", APAC_CUT);
    let whole = drill("20m", "");
    let cities = cut
        .populations
        .iter()
        .filter(|p| side.contains(&p.site_before.as_str()))
        .count() as f64;
    let expected = 0.01 * CITY * cities * 600.0;
    let added = cut.tally.failed() - whole.tally.failed();
    assert!(
        (added - expected).abs() < 1e-6 * expected,
        "{added} errors added, {expected} expected"
    );
    assert_eq!(whole.tally.write_failed, 0.0);
    assert!((cut.tally.write_failed - added).abs() < 1e-6 * expected);
    // The same requests arrive; availability loses the added errors.
    assert!((cut.tally.requests - whole.tally.requests).abs() < 1e-6);
    let done = cut.tally.requests - cut.in_flight_at_end;
    let fell = whole.availability.unwrap() - cut.availability.unwrap();
    assert!(
        (fell - added / done).abs() < 1e-9,
        "{fell} vs {}",
        added / done
    );
    // Only the side's sites fail writes.
    for site in &cut.sites {
        assert_eq!(
            site.tally.write_failed > 0.0,
            side.contains(&site.site.as_str()),
            "{}",
            site.site
        );
    }
    let orders = partition(recovery(&cut), "orders");
    assert!((orders.writes_failed - added).abs() < 1e-6 * expected);
}

fn sent<'a>(r: &'a RecoverySummary, site: &str, class: &str) -> &'a ReplicationRow {
    r.replication
        .iter()
        .find(|x| x.site == site && x.class == class)
        .unwrap_or_else(|| panic!("no {class} traffic at {site}"))
}

/// The world meters each site's replication as writes x size x copies:
/// ny1 serves New York's 66.7 requests/s, 0.5 % of them user writes of
/// 1 kB to the eight other sites, 1 % orders of 2 kB to one; the logs'
/// hourly archive has not copied yet in 20 minutes (all held). Cut off,
/// hkg1's orders send nothing for the 600 s; its users' backlog replays
/// after the heal, so by the end it has sent what it wrote.
#[test]
fn the_world_meters_replication_as_writes_times_size_times_copies() {
    let s = drill("20m", "");
    let r = recovery(&s);
    let users = sent(r, "ny1", "users");
    let expected = 0.005 * CITY * 1200.0 * 1000.0 * 8.0;
    assert!(
        (users.bytes_sent - expected).abs() < 1e-6 * expected,
        "{users:?}"
    );
    let orders = sent(r, "ny1", "orders");
    let expected = 0.01 * CITY * 1200.0 * 2000.0;
    assert!(
        (orders.bytes_sent - expected).abs() < 1e-6 * expected,
        "{orders:?}"
    );
    let logs = sent(r, "ny1", "logs");
    assert_eq!(logs.bytes_sent, 0.0);
    let written = CITY * 1200.0 * 7125.0 * 8.0;
    assert!((logs.bytes_held_at_end - written).abs() < 1e-6 * written);
    let cut = drill("20m", APAC_CUT);
    let r = recovery(&cut);
    let whole = recovery(&s);
    for site in ["hkg1", "syd1"] {
        let (a, b) = (sent(r, site, "orders"), sent(whole, site, "orders"));
        assert!(b.bytes_sent > 0.0);
        assert!(
            (a.bytes_sent - b.bytes_sent / 2.0).abs() < 1e-6 * b.bytes_sent,
            "{a:?} {b:?}"
        );
        let (a, b) = (sent(r, site, "users"), sent(whole, site, "users"));
        assert_eq!(a.bytes_held_at_end, 0.0, "{a:?}");
        assert!(
            (a.bytes_sent - b.bytes_sent).abs() < 1e-6 * b.bytes_sent,
            "{a:?} {b:?}"
        );
    }
}

/// A full site cut off sheds nothing across the cut: hkg1 overflows to
/// its neighbours in the spike, but not while it is partitioned.
#[test]
fn overflow_never_crosses_a_partition() {
    let spike = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenarios/story/spike.toml"),
    )
    .unwrap();
    let shed = |s: &Summary| {
        s.sites
            .iter()
            .find(|x| x.site == "hkg1")
            .unwrap()
            .stats
            .overflowed_out
    };
    assert!(shed(&run(&spike)) > 0.0, "hkg1 sheds in the spike");
    let cut =
        format!("{spike}\n[[failures]]\nsite = \"hkg1\"\nat = \"0s\"\nkind = \"partition\"\n");
    assert_eq!(shed(&run(&cut)), 0.0);
}
