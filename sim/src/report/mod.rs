//! Reports: the output directory (written atomically), summary JSON,
//! timeline CSV, cost reports and SVG plots.

pub mod catchment;
pub mod compute;
pub mod cost;
pub mod html;
pub mod mmc;
pub mod network;
pub mod outdir;
pub mod plot;

pub use outdir::{OutputDir, OutputError};
