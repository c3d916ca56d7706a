//! Reports: the output directory (written atomically), summary JSON,
//! timeline CSV and SVG plots.

pub mod html;
pub mod mmc;
pub mod outdir;
pub mod plot;

pub use outdir::{OutputDir, OutputError};
