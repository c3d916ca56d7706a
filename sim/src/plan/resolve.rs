//! A stage's share turned into what an operator does: the BGP knobs on the
//! old and new sites whose catchment comes nearest the share asked, or an
//! L7 weight when BGP cannot come near enough and the plan allows it.
//!
//! The catchment of every knob setting comes from the BGP model itself
//! ([`catchment::compute`]), so the share a plan reaches is the share
//! `cutover catchment` reports for the same knobs.

use cutover_models::bgp::catchment::{self, Announcement};
use cutover_models::bgp::decision::DecisionConfig;
use cutover_models::bgp::network::NotSettled;
use cutover_models::bgp::topology::Topology;
use cutover_models::geo::LatencyModel;

/// How the two sites of a move announce the prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Knobs {
    /// The new site's AS-path prepends, or `None` if it does not announce.
    pub new: Option<u8>,
    /// The old site's AS-path prepends, or `None` once it has withdrawn.
    pub old: Option<u8>,
}

impl Knobs {
    /// Before the move: only the old site announces, as the estate says.
    pub const BEFORE: Knobs = Knobs {
        new: None,
        old: Some(0),
    };
}

/// What a stage does.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Action {
    /// Announce, prepend or withdraw on the two sites.
    Bgp(Knobs),
    /// The old site's L7 proxy sends this share of its users' requests to
    /// the new site (which does not announce).
    L7 {
        /// Share sent to the new site, 0 to 1.
        weight: f64,
    },
}

impl Action {
    /// The action in an operator's words, e.g. "announce ams1-metal,
    /// prepend ams1 x2".
    pub fn describe(&self, old: &str, new: &str) -> String {
        match *self {
            Action::Bgp(k) => {
                let new_part = match k.new {
                    None => format!("{new} silent"),
                    Some(0) => format!("announce {new}"),
                    Some(n) => format!("announce {new} prepended x{n}"),
                };
                let old_part = match k.old {
                    None => format!("withdraw {old}"),
                    Some(0) => format!("{old} as before"),
                    Some(n) => format!("prepend {old} x{n}"),
                };
                format!("{new_part}, {old_part}")
            }
            Action::L7 { weight } => {
                format!("L7 weight {:.1} % to {new}", 100.0 * weight)
            }
        }
    }
}

/// A knob setting and the share of the move's users it sends to the new site.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reachable {
    /// The setting.
    pub knobs: Knobs,
    /// Share of the old site's users (by weight) that land on the new site.
    pub share: f64,
}

/// A stage as the plan will run it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ResolvedStage {
    /// The share the plan asks for.
    pub asked: f64,
    /// What is done.
    pub action: Action,
    /// The share that action reaches.
    pub reached: f64,
}

/// What a plan does with a stage BGP cannot bring within its tolerance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unreachable {
    /// Refuse the plan at validation.
    Fail,
    /// Move that stage by an L7 weight instead.
    L7,
    /// Use the nearest BGP setting anyway.
    Proceed,
}

impl Unreachable {
    /// The names a plan file uses.
    pub const NAMES: &'static str = "\"fail\", \"l7\", \"proceed\"";

    /// The policy named `name`.
    pub fn parse(name: &str) -> Option<Unreachable> {
        match name {
            "fail" => Some(Unreachable::Fail),
            "l7" => Some(Unreachable::L7),
            "proceed" => Some(Unreachable::Proceed),
            _ => None,
        }
    }
}

/// The two sites of a move and the users it concerns.
#[derive(Debug, Clone, Copy)]
pub struct MoveSites<'a> {
    /// Index of the old site.
    pub old: usize,
    /// Index of the new site.
    pub new: usize,
    /// The old site's users: population indexes.
    pub users: &'a [usize],
}

/// The BGP model the catchments come from.
#[derive(Clone, Copy)]
pub struct CatchmentModel<'a> {
    /// The AS graph.
    pub topology: &'a Topology,
    /// Every site's announcement as the estate has it.
    pub announcements: &'a [Announcement],
    /// Latency model (for the catchment's rows).
    pub latency: &'a LatencyModel,
    /// BGP decision process options.
    pub decision: DecisionConfig,
}

impl CatchmentModel<'_> {
    /// Share of `users`' weight that lands on `site` with `anns`.
    fn share_on(
        &self,
        anns: &[Announcement],
        site: usize,
        users: &[usize],
    ) -> Result<f64, NotSettled> {
        let c = catchment::compute(self.topology, anns, self.latency, self.decision)?;
        let pops = self.topology.populations();
        let total: f64 = users.iter().map(|&p| pops[p].weight).sum();
        if total <= 0.0 {
            return Ok(0.0);
        }
        let on: f64 = users
            .iter()
            .filter(|&&p| c.rows[p].site == Some(site))
            .map(|&p| pops[p].weight)
            .sum();
        Ok(on / total)
    }

    /// The announcements with the move's two sites set by `knobs`.
    pub fn with_knobs(&self, m: MoveSites, knobs: Knobs) -> Vec<Announcement> {
        let mut anns = self.announcements.to_vec();
        for (site, setting) in [(m.old, knobs.old), (m.new, knobs.new)] {
            let a = &mut anns[site];
            a.announce = setting.is_some();
            if let Some(n) = setting {
                a.prepends = n;
            }
        }
        anns
    }

    /// Every knob setting of a move with at most `max_prepends` prepends on
    /// one site, and the share each reaches: the new site prepended 0 to
    /// `max_prepends` times beside the old site as it is, the old site
    /// prepended 1 to `max_prepends` times beside the new one, and the old
    /// site withdrawn.
    pub fn reachable(&self, m: MoveSites, max_prepends: u8) -> Result<Vec<Reachable>, NotSettled> {
        let mut settings: Vec<Knobs> = (0..=max_prepends)
            .rev()
            .map(|n| Knobs {
                new: Some(n),
                old: Some(0),
            })
            .collect();
        settings.extend((1..=max_prepends).map(|n| Knobs {
            new: Some(0),
            old: Some(n),
        }));
        settings.push(Knobs {
            new: Some(0),
            old: None,
        });
        settings
            .into_iter()
            .map(|knobs| {
                let share = self.share_on(&self.with_knobs(m, knobs), m.new, m.users)?;
                Ok(Reachable { knobs, share })
            })
            .collect()
    }
}

/// The stage asking for `asked`: the BGP setting nearest to it (the first
/// in `options`' order on a tie, so fewer knobs win), or an L7 weight when
/// that setting misses by more than `tolerance`, or moves nobody, and
/// `policy` says so.
/// `Err` carries the nearest setting when the policy is to fail. A last
/// stage (share 1) always withdraws the old site, so it can be
/// decommissioned.
pub fn resolve(
    asked: f64,
    options: &[Reachable],
    policy: Unreachable,
    tolerance: f64,
) -> Result<ResolvedStage, Reachable> {
    let candidates: Vec<&Reachable> = if asked >= 1.0 {
        options.iter().filter(|r| r.knobs.old.is_none()).collect()
    } else {
        options.iter().filter(|r| r.knobs.old.is_some()).collect()
    };
    let mut best: Option<&Reachable> = None;
    for r in candidates {
        if best.is_none_or(|b| (r.share - asked).abs() < (b.share - asked).abs()) {
            best = Some(r);
        }
    }
    let nearest = best.copied().unwrap_or(Reachable {
        knobs: Knobs::BEFORE,
        share: 0.0,
    });
    let bgp = ResolvedStage {
        asked,
        action: Action::Bgp(nearest.knobs),
        reached: nearest.share,
    };
    if nearest.share > 0.0 && (nearest.share - asked).abs() <= tolerance {
        return Ok(bgp);
    }
    match policy {
        Unreachable::Fail => Err(nearest),
        Unreachable::Proceed => Ok(bgp),
        Unreachable::L7 => Ok(ResolvedStage {
            asked,
            action: Action::L7 { weight: asked },
            reached: asked,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn option(new: Option<u8>, old: Option<u8>, share: f64) -> Reachable {
        Reachable {
            knobs: Knobs { new, old },
            share,
        }
    }

    fn options() -> Vec<Reachable> {
        vec![
            option(Some(2), Some(0), 0.0),
            option(Some(1), Some(0), 0.25),
            option(Some(0), Some(0), 0.5),
            option(Some(0), Some(1), 0.75),
            option(Some(0), None, 1.0),
        ]
    }

    #[test]
    fn the_nearest_setting_wins_within_the_tolerance() {
        let s = resolve(0.3, &options(), Unreachable::Fail, 0.1).unwrap();
        assert_eq!(
            s.action,
            Action::Bgp(Knobs {
                new: Some(1),
                old: Some(0)
            })
        );
        assert_eq!(s.reached, 0.25);
        let last = resolve(1.0, &options(), Unreachable::Fail, 0.0).unwrap();
        assert_eq!(
            last.action,
            Action::Bgp(Knobs {
                new: Some(0),
                old: None
            })
        );
    }

    #[test]
    fn a_share_out_of_reach_follows_the_policy() {
        let far = 0.1;
        let nearest = resolve(far, &options(), Unreachable::Fail, 0.02).unwrap_err();
        assert_eq!(nearest.share, 0.0);
        let l7 = resolve(far, &options(), Unreachable::L7, 0.02).unwrap();
        assert_eq!(l7.action, Action::L7 { weight: far });
        assert_eq!(l7.reached, far);
        let anyway = resolve(far, &options(), Unreachable::Proceed, 0.02).unwrap();
        assert_eq!(anyway.reached, 0.0);
        // Within the tolerance, but moving nobody is no stage.
        let none = resolve(0.01, &options(), Unreachable::Fail, 0.02).unwrap_err();
        assert_eq!(none.share, 0.0);
    }

    #[test]
    fn actions_read_as_an_operator_would_say_them() {
        let k = Action::Bgp(Knobs {
            new: Some(0),
            old: Some(2),
        });
        assert_eq!(k.describe("ams1", "ams2"), "announce ams2, prepend ams1 x2");
        let w = Action::Bgp(Knobs {
            new: Some(0),
            old: None,
        });
        assert_eq!(w.describe("ams1", "ams2"), "announce ams2, withdraw ams1");
        let l7 = Action::L7 { weight: 0.05 };
        assert_eq!(l7.describe("ams1", "ams2"), "L7 weight 5.0 % to ams2");
    }
}
