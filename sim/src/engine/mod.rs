//! The discrete-event engine: the event queue and clock, named random
//! streams, and streaming statistics.

pub mod queue;
pub mod rng;
pub mod stats;

pub use queue::{EventQueue, TimerId};
pub use rng::RngStreams;
