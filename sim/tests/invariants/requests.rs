//! Conservation of requests, shared by the tests of every run kind that
//! drives the world (experiments, plans).

use cutover::world::summary::Summary;

/// Served + failed by cause + in flight at the end = arrived, for every
/// population, and the populations add up to the run's total. `what`
/// names the run in the message.
pub fn assert_conserved(s: &Summary, what: &str) {
    for p in &s.populations {
        let t = &p.tally;
        let accounted = t.served + t.failed() + p.in_flight_at_end;
        assert!(
            (accounted - t.requests).abs() <= 1e-6 * t.requests.max(1.0),
            "{what}, {}: {} requests, {accounted} accounted ({t:?}, in flight {})",
            p.population,
            t.requests,
            p.in_flight_at_end
        );
    }
    let sum: f64 = s.populations.iter().map(|p| p.tally.requests).sum();
    assert!(
        (sum - s.tally.requests).abs() <= 1e-9 * sum.max(1.0),
        "{what}: populations {sum}, total {}",
        s.tally.requests
    );
}
