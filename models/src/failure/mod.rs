//! How failures show themselves to the rest of an estate, and how the
//! estate guards itself against repeated failures.
//!
//! - `detection`: the time from a failure until the network notices it
//!   (BGP hold timer, BFD, link down, an ExaBGP-style health check), with
//!   closed-form bounds and means.
//!
//! Every model here is sans-IO: the caller supplies the random draws (the
//! phase of the last keepalive or probe) and the current time.

pub mod detection;

pub use detection::Detection;
