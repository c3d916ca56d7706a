//! Runs: each drives one model of `cutover-models` through simulated time on
//! the event engine and returns what it measured.

pub mod mmc;
pub mod summary;
