//! cutover: a discrete-event simulator and capacity planner for
//! anycast-fronted infrastructure.
//!
//! This crate owns time and files: the event engine ([`engine`]), scenario
//! files ([`scenario`]), the runs that drive the models of
//! `cutover-models` through time ([`runs`]), and the reports they write
//! ([`report`]). The `cutover` binary is a thin command-line layer on top.

pub mod cli;
pub mod engine;
pub mod estate;
pub mod experiment;
pub mod load;
pub mod montecarlo;
pub mod pack;
pub mod plan;
pub mod report;
pub mod runs;
pub mod scenario;
pub mod shard;
pub mod sweep;
pub mod world;
