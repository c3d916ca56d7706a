//! cutover-models: the domain of cutover as pure, deterministic state machines
//! and formulas.
//!
//! Nothing in this crate reads a clock, owns a random generator it seeded
//! itself, or touches a file. A model takes the current simulated time and an
//! input and returns what follows; the engine in the `cutover` crate delivers
//! those outputs at the right instants.

pub mod bgp;
pub mod capacity;
pub mod cost;
pub mod data;
pub mod failure;
pub mod geo;
pub mod hpa;
pub mod nodes;
pub mod pack;
pub mod plan;
pub mod pods;
pub mod queueing;
pub mod time;
pub mod traffic;

pub use time::{SimDuration, SimTime};
