//! Whole scenarios through the command line, output files included.

use criterion::{criterion_group, criterion_main, Criterion};
use std::path::PathBuf;
use std::process::ExitCode;

fn scenario(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios")
        .join(name)
}

/// `cutover run scenarios/mmc.toml --out DIR --force`.
fn run_mmc(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let out = dir.path().join("mmc");
    let file = scenario("mmc.toml");
    let mut group = c.benchmark_group("scenarios");
    group.sample_size(10);
    group.bench_function("cutover_run_mmc", |b| {
        b.iter(|| {
            let code = cutover::cli::main_with_args([
                "cutover".as_ref(),
                "run".as_ref(),
                file.as_os_str(),
                "--out".as_ref(),
                out.as_os_str(),
                "--force".as_ref(),
            ]);
            assert_eq!(code, ExitCode::SUCCESS);
        })
    });
    group.finish();
}

criterion_group!(benches, run_mmc);
criterion_main!(benches);
