//! cutover-models: the domain of cutover as pure, deterministic state machines
//! and formulas.
//!
//! Nothing in this crate reads a clock, owns a random generator it seeded
//! itself, or touches a file. A model takes the current simulated time and an
//! input and returns what follows; the engine in the `cutover` crate delivers
//! those outputs at the right instants.
//!
//! # Sans-IO models
//!
//! A *sans-IO* model is the logic of a system with everything around it
//! taken out: no sockets, no timers, no files, no threads. It is a value
//! that holds the system's state, and methods that take an input (with the
//! time it arrives) and return what the system does about it, including
//! when it wants to be woken next. Whoever drives it (the `cutover` world,
//! a test, a notebook's replay) owns the clock and the I/O. The same model
//! therefore runs a thousand times faster than real time, replays exactly,
//! and is tested one input at a time against the source it follows.
//!
//! ## Time
//!
//! Time is [`SimTime`] (an instant) and [`SimDuration`] (a span), both whole
//! nanoseconds, so sums never drift and runs compare to the bit. A model
//! never asks what time it is: every call that depends on time takes `now`,
//! and a model that acts later says when (`next_sync`, a delay, a
//! deadline) for the caller to call it back.
//!
//! ## Randomness
//!
//! A model never draws a random number. Where the system it follows is
//! random (the phase of a BFD packet when a link dies, a sample of a
//! distribution), the model takes the draw as an argument, a uniform `u` in
//! [0, 1), and turns it into the quantity; the caller draws `u` from its
//! own seeded stream. A model's bounds and means are then closed forms of
//! the same function:
//!
//! ```
//! use cutover_models::failure::Detection;
//! use cutover_models::SimDuration;
//!
//! // BFD at 300 ms x 3: the neighbour notices a dead peer between two and
//! // three intervals after the last packet, by where in its interval the
//! // failure fell.
//! let bfd = Detection::bfd();
//! assert_eq!(bfd.delay(0.0), SimDuration::from_millis(900));
//! assert_eq!(bfd.delay(1.0), SimDuration::from_millis(600));
//! assert_eq!(bfd.mean(), SimDuration::from_millis(750));
//! // The caller's draw, e.g. from `cutover`'s seeded streams:
//! let u = 0.25;
//! assert_eq!(bfd.delay(u), SimDuration::from_millis(825));
//! ```
//!
//! ## A model driven by hand: the Horizontal Pod Autoscaler
//!
//! [`hpa::Hpa`] is one pass of the Kubernetes controller at a time. Give it
//! the time, the replica count and what the metrics API says of the pods;
//! it answers with the replica count to set and when it wants to sync
//! again. Here three pods run at 90 % of their CPU request against a 50 %
//! target, so the controller asks for ceil(3 x 90 / 50) = 6 replicas;
//! fed the six pods at 45 %, it holds (within its 10 % tolerance).
//!
//! ```
//! use cutover_models::hpa::{CpuMetric, Hpa, HpaSpec, PodPhase, PodSnapshot, ReadyCondition};
//! use cutover_models::{SimDuration, SimTime};
//!
//! /// `n` running, ready pods with a 500 m request each, sampled at `now`
//! /// using `millicores` each.
//! fn pods(n: usize, millicores: i64, now: SimTime) -> Vec<PodSnapshot> {
//!     let pod = PodSnapshot {
//!         phase: PodPhase::Running,
//!         deleting: false,
//!         start_time: Some(SimTime::ZERO),
//!         ready: Some(ReadyCondition { ready: true, last_transition: SimTime::ZERO }),
//!         request_millicores: 500,
//!         request_memory_bytes: 0,
//!         metric: Some(CpuMetric {
//!             usage_millicores: millicores,
//!             timestamp: now,
//!             window: SimDuration::from_secs(15),
//!         }),
//!         // One pod per snapshot (a snapshot can stand for several alike pods).
//!         count: 1,
//!     };
//!     vec![pod; n]
//! }
//!
//! // min 1, max 10 replicas, 50 % CPU target, Kubernetes' defaults.
//! let mut hpa = Hpa::new(HpaSpec::new(1, 10, 50));
//! let now = SimTime::ZERO + SimDuration::from_secs(600);
//! let sync = hpa.sync(now, 3, &pods(3, 450, now));
//! assert_eq!(sync.desired_replicas, 6);
//! assert!(sync.rescale);
//! // The controller's sync period: the caller wakes it 15 s later.
//! assert_eq!(sync.next_sync, now + SimDuration::from_secs(15));
//!
//! let now = sync.next_sync;
//! let sync = hpa.sync(now, 6, &pods(6, 225, now));
//! assert_eq!(sync.desired_replicas, 6);
//! assert!(!sync.rescale);
//! ```
//!
//! The `cutover` crate's world does the same for every site at every sync,
//! with pods that start, become ready and die as its own models say.

#![warn(missing_docs)]

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
