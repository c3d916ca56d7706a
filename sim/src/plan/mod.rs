//! Migration plans on the one world: a plan file is an experiment on an
//! estate (the new sites added, the traffic, the failures) with stages
//! that move each old site's users to a new site. Each stage is resolved
//! to what an operator does (BGP knobs chosen with the catchment model, or
//! an L7 weight), applied to the world, and judged by a health gate that
//! reads the world; the cost layer prices the dates the plan kept.

pub mod cost;
pub mod outcome;
pub mod resolve;
pub mod risk;
pub mod run;
pub mod scenario;

pub use cost::{PlanCostError, PlanCostSummary};
pub use outcome::{GateRow, PlanOutcome, RegionResult, Rollback, SloImpact, StageRow};
pub use run::{run, run_replication, PlanRunError};
pub use scenario::{Drill, Move, Plan};
