//! How failures show themselves to the rest of an estate, and how the
//! estate guards itself against repeated failures.
//!
//! - `detection`: the time from a failure until the network notices it
//!   (BGP hold timer, BFD, link down, an ExaBGP-style health check), with
//!   closed-form bounds and means.
//! - `damping`: RFC 2439 route flap damping.
//! - `backoff`: the kubelet's crash-loop back-off.
//!
//! Every model here is sans-IO: the caller supplies the random draws (the
//! phase of the last keepalive or probe) and the current time.

pub mod backoff;
pub mod damping;
pub mod detection;

pub use backoff::CrashLoopBackoff;
pub use damping::{Damping, DampingParams};
pub use detection::Detection;
