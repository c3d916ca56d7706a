//! cutover: a discrete-event simulator and capacity planner for
//! anycast-fronted infrastructure.
//!
//! This crate owns time and files: the event engine ([`engine`]), scenario
//! files ([`scenario`]), the runs that drive the models of
//! `cutover-models` through time ([`runs`], [`world`], [`plan`]), the
//! reports they write ([`report`]), and the drivers that join them, file in
//! and output directory out ([`drive`]). The `cutover` binary is a thin
//! command-line layer over [`drive`] and [`report`]; everything it does, a
//! program can do through this crate.
//!
//! # From a file to a summary
//!
//! An **estate** ([`estate::Estate`]) is what exists: sites with their
//! network, compute and costs, the populations of users and where they
//! are, the data classes with their RPOs and the services with their
//! RTOs. An **experiment** ([`experiment::Experiment`]) is a change to an
//! estate run through time: the traffic, the failures, the duration, the
//! seed; its file names its estate's file and states only what it
//! changes. A **world** ([`world::World`]) is one run of an experiment: it
//! settles BGP, then advances tick by tick and event by event, driving the
//! sans-IO models of `cutover-models` with its clock and its seeded random
//! streams. Its [`Outcome`](world::summary::Outcome) holds the
//! [`Summary`](world::summary::Summary), what `summary.json` says.
//!
//! ```
//! use std::path::Path;
//!
//! use cutover::experiment::Experiment;
//! use cutover::world::World;
//!
//! # fn main() -> anyhow::Result<()> {
//! let scenarios = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
//! // New York loses power a minute in; BFD tells its neighbours.
//! let experiment = Experiment::load(&scenarios.join("story/ny-crash-bfd.toml"))?;
//! assert_eq!(experiment.estate.name, "nine-site anycast edge of the reference story");
//! assert!(experiment.estate.sites.len() > 1);
//!
//! // The same seed gives the same run, to the bit.
//! let world = World::new(&experiment, experiment.seed)?;
//! let summary = world.run().summary;
//! assert_eq!(summary.verdict, "pass");
//! let availability = summary.availability.expect("requests were made");
//! assert!(availability > 0.999 && availability < 1.0);
//! // ny1's users moved to another site when it died.
//! let moved = summary.populations.iter().filter(|p| p.site_before == "ny1");
//! assert!(moved.clone().count() > 0);
//! assert!(moved.clone().all(|p| p.site_after != "ny1"));
//! // Each data class's writes lost against its RPO.
//! let recovery = summary.recovery.expect("the estate grades its data");
//! assert!(recovery.data.iter().all(|d| d.met));
//! # Ok(())
//! # }
//! ```
//!
//! An experiment can also be written in the program: its text is read as
//! if it were a file at the given path, so the estate it names is found
//! beside it. A world can be advanced part of the way and looked at
//! ([`World::run_until`](world::World::run_until), [`World::step`](world::World::step),
//! [`World::now`](world::World::now)) before it runs to its end.
//!
//! ```
//! use std::path::Path;
//!
//! use cutover::experiment::Experiment;
//! use cutover::scenario::Source;
//! use cutover::world::World;
//! use cutover_models::{SimDuration, SimTime};
//!
//! # fn main() -> anyhow::Result<()> {
//! let story = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/story");
//! let text = r#"
//!     [experiment]
//!     name = "a quiet minute"
//!     estate = "estate.toml"
//!     duration = "60s"
//!
//!     [traffic]
//!     base_rate = "500/s"
//! "#;
//! let source = Source::from_text(&story.join("quiet.toml"), text.to_string());
//! let experiment = Experiment::from_source(&source)?;
//!
//! let mut world = World::new(&experiment, 7)?;
//! world.run_until(SimTime::ZERO + SimDuration::from_secs(30));
//! assert!(world.now() <= SimTime::ZERO + SimDuration::from_secs(30));
//! let summary = world.run().summary;
//! assert_eq!(summary.simulated_s, 60.0);
//! assert_eq!(summary.tally.blackholed, 0.0);
//! # Ok(())
//! # }
//! ```
//!
//! # Output directories
//!
//! [`drive`] runs a file the way the command line does and writes its
//! result files into a [`report::OutputDir`], which appears whole when
//! committed, or not at all:
//!
//! ```
//! use std::path::Path;
//!
//! use cutover::drive;
//! use cutover::report::OutputDir;
//!
//! # fn main() -> anyhow::Result<()> {
//! let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/story/ny-crash-bfd.toml");
//! let tmp = tempfile::tempdir()?;
//! let out = OutputDir::create(&tmp.path().join("ny-crash"), false)?;
//! let run = drive::experiment::run(&file, None, out)?;
//! assert!(run.dir.join("summary.json").is_file());
//! assert!(run.dir.join("run-info.json").is_file());
//! assert_eq!(run.outcome.summary.verdict, "pass");
//! # Ok(())
//! # }
//! ```
//!
//! The examples in `sim/examples` (`cargo run --release --example
//! cost_projection`, `--example failover_drill`) print a cost projection
//! and a failover drill's RTO/RPO table from a program.

#![warn(missing_docs)]

pub mod drive;
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
