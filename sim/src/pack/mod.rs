//! Consolidation planning (`cutover pack`): tenants' VMs packed onto hosts
//! from the estate's price book, with overcommit for shared tenants, the
//! chance that co-located peaks exceed a host, and the monthly cost before
//! and after. `scenario` reads the plan file, `tenants` its CSV of VMs,
//! `run` packs and judges (the models are `cutover_models::pack`).

pub mod run;
pub mod scenario;
pub mod tenants;

pub use scenario::PackScenario;
