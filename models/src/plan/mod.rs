//! Migration plans: staged traffic shifts region by region, each stage with
//! a wait for convergence, an observation window, a health gate and a
//! rollback, as a sans-IO state machine ([`PlanMachine`]).
//!
//! The machine never measures anything itself: the world that runs it
//! applies the traffic shares it asks for, watches the window it names and
//! hands back the window's figures; the machine answers with the next steps.

mod gate;
mod machine;

pub use gate::{Gate, GateVerdict, Gates, Observation, Scope, WindowMetrics};
pub use machine::{
    FailurePolicy, Mechanism, PlanAction, PlanMachine, PlanSpec, RegionPlan, StageRecord, StageSpec,
};
