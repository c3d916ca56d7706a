//! Streaming statistics: nothing here keeps every sample.
//!
//! - [`Histogram`]: a mergeable log-linear histogram with bounded relative
//!   error for quantiles (p50, p95, p99, p99.9).
//! - [`TimeSeries`]: fixed-interval series of sums, means, maxima and
//!   time-weighted averages.
//! - [`BatchMeans`]: the mean of a correlated sequence with a confidence
//!   interval, by the method of non-overlapping batch means.

mod batch;
mod histogram;
mod series;

pub use batch::{BatchMeans, MeanEstimate};
pub use histogram::{Histogram, RELATIVE_ERROR as HISTOGRAM_RELATIVE_ERROR};
pub use series::{Aggregation, TimeSeries};
