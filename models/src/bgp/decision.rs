//! The BGP best-path decision process.
//!
//! Candidates are eliminated step by step in the order of RFC 4271 section
//! 9.1.2.2, as common implementations extend it (Cisco, "BGP Best Path
//! Selection Algorithm", document 13753):
//!
//! 1. highest LOCAL_PREF;
//! 2. shortest AS_PATH, prepends counted;
//! 3. lowest ORIGIN (IGP < EGP < incomplete);
//! 4. lowest MED, compared only between routes from the same neighbour AS
//!    unless `always_compare_med` is set;
//! 5. routes learned over eBGP over those learned over iBGP;
//! 6. lowest IGP cost to the exit point;
//! 7. lowest router id of the advertising router (deterministic tie-break).
//!
//! Elimination rather than a pairwise comparison keeps the result well
//! defined when MED makes pairwise preference non-transitive.

use std::fmt;

use super::{Route, RouterId};

/// A step of the decision process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Step {
    /// Highest LOCAL_PREF.
    LocalPref,
    /// Shortest AS_PATH.
    AsPathLength,
    /// Lowest ORIGIN.
    Origin,
    /// Lowest MED (same neighbour AS unless always-compare).
    Med,
    /// eBGP over iBGP.
    EbgpOverIbgp,
    /// Lowest IGP cost to the exit.
    IgpCost,
    /// Lowest advertising router id.
    RouterId,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Step::LocalPref => "local-pref",
            Step::AsPathLength => "as-path length",
            Step::Origin => "origin",
            Step::Med => "MED",
            Step::EbgpOverIbgp => "eBGP over iBGP",
            Step::IgpCost => "IGP cost",
            Step::RouterId => "router id",
        })
    }
}

/// A route competing at one router.
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    /// The route.
    pub route: &'a Route,
    /// IGP cost from the deciding router to the route's exit point (0 for a
    /// route learned over eBGP or originated here).
    pub igp_cost: u64,
    /// The router that advertised it (the deciding router itself for a route
    /// it originated).
    pub advertiser: RouterId,
}

/// The outcome of a decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// Index of the best candidate.
    pub best: usize,
    /// The step that left only the best; `None` when it was the only one.
    pub decided_by: Option<Step>,
    /// For each candidate, the step that eliminated it (`None` for the best).
    pub dropped_at: Vec<Option<Step>>,
}

/// Options of the decision process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecisionConfig {
    /// Compare MED between routes from different neighbour ASes too
    /// (`bgp always-compare-med`); off by default, as in RFC 4271.
    pub always_compare_med: bool,
    /// Group routes by neighbour AS before comparing MEDs, as RFC 4271's
    /// elimination does (`bgp deterministic-med`; on by default). Off,
    /// a [`BgpNetwork`](super::network::BgpNetwork) compares its routes
    /// two at a time in order of arrival, newest first ([`select_in_order`],
    /// Cisco IOS's default); [`select`] itself always groups.
    pub deterministic_med: bool,
}

impl Default for DecisionConfig {
    fn default() -> Self {
        DecisionConfig {
            always_compare_med: false,
            deterministic_med: true,
        }
    }
}

/// Runs the decision process over `candidates`; `None` if there are none.
pub fn select(candidates: &[Candidate<'_>], config: DecisionConfig) -> Option<Selection> {
    if candidates.is_empty() {
        return None;
    }
    let mut dropped: Vec<Option<Step>> = vec![None; candidates.len()];
    let mut decided_by = None;

    // Keeps, among live candidates, those minimising `key`; records `step`
    // for the others.
    fn keep_min<K: Ord + Copy>(
        candidates: &[Candidate<'_>],
        dropped: &mut [Option<Step>],
        step: Step,
        key: impl Fn(&Candidate<'_>) -> K,
    ) {
        let best = candidates
            .iter()
            .zip(dropped.iter())
            .filter(|(_, d)| d.is_none())
            .map(|(c, _)| key(c))
            .min();
        if let Some(best) = best {
            for (c, d) in candidates.iter().zip(dropped.iter_mut()) {
                if d.is_none() && key(c) != best {
                    *d = Some(step);
                }
            }
        }
    }
    let live = |dropped: &[Option<Step>]| dropped.iter().filter(|d| d.is_none()).count();

    let steps = [
        Step::LocalPref,
        Step::AsPathLength,
        Step::Origin,
        Step::Med,
        Step::EbgpOverIbgp,
        Step::IgpCost,
        Step::RouterId,
    ];
    for step in steps {
        if live(&dropped) <= 1 {
            break;
        }
        match step {
            Step::LocalPref => keep_min(candidates, &mut dropped, step, |c| {
                std::cmp::Reverse(c.route.local_pref)
            }),
            Step::AsPathLength => {
                keep_min(candidates, &mut dropped, step, |c| c.route.as_path.len())
            }
            Step::Origin => keep_min(candidates, &mut dropped, step, |c| c.route.origin),
            Step::Med => {
                if config.always_compare_med {
                    keep_min(candidates, &mut dropped, step, |c| c.route.med);
                } else {
                    // Lowest MED within each group of the same neighbour AS.
                    let snapshot = dropped.clone();
                    for (i, c) in candidates.iter().enumerate() {
                        if snapshot[i].is_some() {
                            continue;
                        }
                        let beaten = candidates.iter().enumerate().any(|(j, o)| {
                            snapshot[j].is_none()
                                && o.route.neighbour_as() == c.route.neighbour_as()
                                && o.route.med < c.route.med
                        });
                        if beaten {
                            dropped[i] = Some(step);
                        }
                    }
                }
            }
            Step::EbgpOverIbgp => {
                keep_min(candidates, &mut dropped, step, |c| !c.route.is_external())
            }
            Step::IgpCost => keep_min(candidates, &mut dropped, step, |c| c.igp_cost),
            Step::RouterId => keep_min(candidates, &mut dropped, step, |c| c.advertiser),
        }
        if live(&dropped) == 1 {
            decided_by = Some(step);
        }
    }
    // Advertisers are distinct, so the router-id step always leaves one.
    let best = dropped.iter().position(|d| d.is_none())?;
    Some(Selection {
        best,
        decided_by,
        dropped_at: dropped,
    })
}

/// Runs the decision process as implementations without
/// `bgp deterministic-med` do (Cisco's default, "How the bgp
/// deterministic-med Command Differs from the bgp always-compare-med
/// Command", document 16046): candidates are compared two at a time in the
/// order given (newest first), the winner of each comparison going on to
/// the next. MED counts only when the two come from the same neighbour AS,
/// so the result can depend on the order (RFC 3345). `decided_by` is the
/// step of the last comparison; `dropped_at` the step of each loser's.
pub fn select_in_order(candidates: &[Candidate<'_>], config: DecisionConfig) -> Option<Selection> {
    let mut best = 0;
    let mut dropped: Vec<Option<Step>> = vec![None; candidates.len()];
    let mut decided_by = None;
    for i in 1..candidates.len() {
        let (best_wins, step) = compare(&candidates[best], &candidates[i], config);
        decided_by = Some(step);
        if best_wins {
            dropped[i] = Some(step);
        } else {
            dropped[best] = Some(step);
            best = i;
        }
    }
    (!candidates.is_empty()).then_some(Selection {
        best,
        decided_by,
        dropped_at: dropped,
    })
}

/// Compares `a` with `b` step by step: whether `a` wins, and the step that
/// decided.
fn compare(a: &Candidate<'_>, b: &Candidate<'_>, config: DecisionConfig) -> (bool, Step) {
    let (ra, rb) = (a.route, b.route);
    let med_counts = config.always_compare_med || ra.neighbour_as() == rb.neighbour_as();
    let checks = [
        (Step::LocalPref, rb.local_pref.cmp(&ra.local_pref)),
        (Step::AsPathLength, ra.as_path.len().cmp(&rb.as_path.len())),
        (Step::Origin, ra.origin.cmp(&rb.origin)),
        (
            Step::Med,
            if med_counts {
                ra.med.cmp(&rb.med)
            } else {
                std::cmp::Ordering::Equal
            },
        ),
        (
            Step::EbgpOverIbgp,
            (!ra.is_external()).cmp(&!rb.is_external()),
        ),
        (Step::IgpCost, a.igp_cost.cmp(&b.igp_cost)),
        (Step::RouterId, a.advertiser.cmp(&b.advertiser)),
    ];
    checks
        .into_iter()
        .find(|(_, o)| o.is_ne())
        .map_or((true, Step::RouterId), |(step, o)| (o.is_lt(), step))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bgp::{Asn, Learned, Origin, Relationship};

    fn route(path: &[u32], lp: u32, med: u32, ibgp: bool) -> Route {
        let learned = if ibgp {
            Learned::Ibgp {
                from: RouterId(99),
                rel: Relationship::Customer,
            }
        } else {
            Learned::Ebgp {
                from: RouterId(98),
                rel: Relationship::Customer,
            }
        };
        Route {
            as_path: path.iter().map(|&a| Asn(a)).collect(),
            origin: Origin::Igp,
            med,
            local_pref: lp,
            requested_local_pref: None,
            site: 0,
            learned,
            prepends: 0,
            no_export: false,
        }
    }

    fn cand(route: &Route, igp: u64, adv: u32) -> Candidate<'_> {
        Candidate {
            route,
            igp_cost: igp,
            advertiser: RouterId(adv),
        }
    }

    fn pick(cands: &[Candidate<'_>]) -> (usize, Option<Step>) {
        let s = select(cands, DecisionConfig::default()).unwrap();
        (s.best, s.decided_by)
    }

    #[test]
    fn no_candidates_no_route_and_one_candidate_wins_alone() {
        assert_eq!(select(&[], DecisionConfig::default()), None);
        let a = route(&[1], 100, 0, false);
        assert_eq!(pick(&[cand(&a, 0, 1)]), (0, None));
    }

    #[test]
    fn local_pref_beats_a_shorter_path() {
        // A community that sets LOCAL_PREF 70 at the upstream loses to a
        // longer path at the default 100.
        let low = route(&[1], 70, 0, false);
        let high = route(&[2, 3, 4], 100, 0, false);
        assert_eq!(
            pick(&[cand(&low, 0, 1), cand(&high, 0, 2)]),
            (1, Some(Step::LocalPref))
        );
    }

    #[test]
    fn prepends_lengthen_the_path() {
        let prepended = route(&[1, 1, 1], 100, 0, false);
        let plain = route(&[2, 3], 100, 0, false);
        assert_eq!(
            pick(&[cand(&prepended, 0, 1), cand(&plain, 0, 2)]),
            (1, Some(Step::AsPathLength))
        );
    }

    #[test]
    fn origin_igp_beats_incomplete() {
        let mut inc = route(&[1], 100, 0, false);
        inc.origin = Origin::Incomplete;
        let igp = route(&[2], 100, 0, false);
        assert_eq!(
            pick(&[cand(&inc, 0, 1), cand(&igp, 0, 2)]),
            (1, Some(Step::Origin))
        );
    }

    #[test]
    fn med_is_compared_only_within_the_same_neighbour_as() {
        // Same neighbour AS: lower MED wins.
        let a = route(&[1], 100, 50, false);
        let b = route(&[1], 100, 10, false);
        assert_eq!(
            pick(&[cand(&a, 0, 1), cand(&b, 0, 2)]),
            (1, Some(Step::Med))
        );
        // Different neighbour ASes: MED ignored, falls to router id.
        let a = route(&[1], 100, 50, false);
        let b = route(&[2], 100, 10, false);
        assert_eq!(
            pick(&[cand(&a, 0, 1), cand(&b, 0, 2)]),
            (0, Some(Step::RouterId))
        );
        // Unless always-compare-med is set.
        let s = select(
            &[cand(&a, 0, 1), cand(&b, 0, 2)],
            DecisionConfig {
                always_compare_med: true,
                ..DecisionConfig::default()
            },
        )
        .unwrap();
        assert_eq!((s.best, s.decided_by), (1, Some(Step::Med)));
    }

    #[test]
    fn without_deterministic_med_the_order_of_arrival_decides() {
        // Cisco document 16046's case: two routes from AS1 (MED 20 and 10)
        // and one from AS2 (MED 30), equal otherwise.
        let a = route(&[1], 100, 20, false);
        let b = route(&[2], 100, 30, false);
        let c = route(&[1], 100, 10, false);
        let (ca, cb, cc) = (cand(&a, 0, 1), cand(&b, 0, 2), cand(&c, 0, 3));
        let config = DecisionConfig::default();
        // Deterministic (grouped by AS): c beats a on MED, then b beats c
        // on router id.
        let s = select(&[ca, cb, cc], config).unwrap();
        assert_eq!((s.best, s.decided_by), (1, Some(Step::RouterId)));
        // Newest first c, b, a: b beats c on router id (MED not
        // comparable), then a beats b on router id: a wins although c has
        // the lower MED from the same AS.
        let s = select_in_order(&[cc, cb, ca], config).unwrap();
        assert_eq!((s.best, s.decided_by), (2, Some(Step::RouterId)));
        assert_eq!(
            s.dropped_at,
            vec![Some(Step::RouterId), Some(Step::RouterId), None]
        );
        // Newest first a, b, c: a beats b, then c beats a on MED.
        let s = select_in_order(&[ca, cb, cc], config).unwrap();
        assert_eq!((s.best, s.decided_by), (2, Some(Step::Med)));
        assert_eq!(select_in_order(&[], config), None);
    }

    #[test]
    fn pairwise_and_grouped_agree_without_med_differences() {
        let a = route(&[1, 2], 100, 0, false);
        let b = route(&[3], 100, 0, true);
        let c = route(&[4], 120, 0, true);
        let cands = [cand(&a, 0, 1), cand(&b, 10, 2), cand(&c, 30, 3)];
        let grouped = select(&cands, DecisionConfig::default()).unwrap();
        let pairwise = select_in_order(&cands, DecisionConfig::default()).unwrap();
        assert_eq!(grouped.best, 2);
        assert_eq!(pairwise.best, 2);
        assert_eq!(pairwise.decided_by, Some(Step::LocalPref));
    }

    #[test]
    fn med_groups_do_not_eliminate_each_other() {
        // AS1 sends MED 5 and 9, AS2 sends MED 7: the AS1/MED 9 route is
        // dropped at MED, the others go on to the IGP cost.
        let a1 = route(&[1], 100, 5, false);
        let a2 = route(&[1], 100, 9, false);
        let b = route(&[2], 100, 7, false);
        let s = select(
            &[cand(&a1, 20, 1), cand(&a2, 0, 2), cand(&b, 10, 3)],
            DecisionConfig::default(),
        )
        .unwrap();
        assert_eq!(
            s.dropped_at,
            vec![Some(Step::IgpCost), Some(Step::Med), None]
        );
        assert_eq!(s.decided_by, Some(Step::IgpCost));
    }

    #[test]
    fn ebgp_beats_ibgp() {
        let i = route(&[1], 100, 0, true);
        let e = route(&[2], 100, 0, false);
        assert_eq!(
            pick(&[cand(&i, 0, 1), cand(&e, 0, 2)]),
            (1, Some(Step::EbgpOverIbgp))
        );
    }

    #[test]
    fn lowest_igp_cost_wins_among_ibgp_routes() {
        let far = route(&[1], 100, 0, true);
        let near = route(&[2], 100, 0, true);
        assert_eq!(
            pick(&[cand(&far, 4000, 1), cand(&near, 300, 2)]),
            (1, Some(Step::IgpCost))
        );
    }

    #[test]
    fn router_id_breaks_ties_whatever_the_order() {
        let a = route(&[1], 100, 0, false);
        let b = route(&[2], 100, 0, false);
        assert_eq!(
            pick(&[cand(&a, 0, 7), cand(&b, 0, 3)]),
            (1, Some(Step::RouterId))
        );
        assert_eq!(
            pick(&[cand(&b, 0, 3), cand(&a, 0, 7)]),
            (0, Some(Step::RouterId))
        );
    }

    proptest::proptest! {
        #[test]
        fn the_winner_does_not_depend_on_the_order_of_candidates(
            attrs in proptest::collection::vec((90u32..110, 1usize..4, 0u32..3, 0u32..3, proptest::bool::ANY, 0u64..3), 1..8),
            rotation in 0usize..8,
            always in proptest::bool::ANY,
        ) {
            let routes: Vec<Route> = attrs
                .iter()
                .map(|&(lp, len, nbr, med, ibgp, _)| {
                    let mut path = vec![nbr + 1];
                    path.resize(len, 9);
                    route(&path, lp, med, ibgp)
                })
                .collect();
            let cands: Vec<Candidate<'_>> = routes
                .iter()
                .zip(&attrs)
                .enumerate()
                .map(|(i, (r, a))| cand(r, a.5, i as u32))
                .collect();
            let config = DecisionConfig {
                always_compare_med: always,
                ..DecisionConfig::default()
            };
            let best = select(&cands, config).unwrap().best;
            let mut rotated = cands.clone();
            rotated.rotate_left(rotation % cands.len());
            let best_rotated = select(&rotated, config).unwrap().best;
            proptest::prop_assert_eq!(rotated[best_rotated].advertiser, cands[best].advertiser);
        }
    }
}
