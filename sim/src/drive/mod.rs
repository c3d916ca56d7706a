//! Drivers: a scenario file in, a finished output directory out.
//!
//! Each driver does what the matching `cutover` command does short of
//! printing: it loads the file, runs it, writes the result files and
//! `run-info.json` into an [`OutputDir`](crate::report::OutputDir) and
//! commits it, so the directory appears whole or not at all. It returns
//! what the run measured, for the caller to print or check. The command
//! line is a thin layer over these; a program that wants finer control
//! uses the pieces they are made of ([`Experiment`](crate::experiment::Experiment),
//! [`World`](crate::world::World), [`report`](crate::report)).

pub mod catchment;
pub mod experiment;
pub mod mmc;
pub mod plan;
mod run_info;
pub mod sweep;

pub use run_info::RunInfo;
