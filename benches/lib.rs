//! Criterion benchmarks of cutover live in `benches/benches/`; this crate has
//! no code of its own. Run them with `cargo bench -p cutover-benches`;
//! `cargo test --release -p cutover-benches --benches` runs each once.
