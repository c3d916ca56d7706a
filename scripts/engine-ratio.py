#!/usr/bin/env python3
"""The engine's M/M/16 run against the hand-written event loop in
../shared/peers/baseline_mmc, whole process against whole process.

Builds both (release), then runs them alternately and prints the median of
the per-pair ratios of CPU time (user + system) and of wall time. CPU time
is the figure to trust on a shared machine: waiting for a core inflates
wall time but not CPU time.

    python3 scripts/engine-ratio.py [PAIRS] [CUSTOMERS]
"""
import pathlib
import resource
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
PEERS = ROOT.parent / "shared" / "peers" / "baseline_mmc" / "Cargo.toml"


def build():
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "cutover"], cwd=ROOT, check=True)
    subprocess.run(
        ["cargo", "build", "--release", "-q", "--manifest-path", str(PEERS),
         "--target-dir", str(ROOT / "target" / "baseline")],
        cwd=ROOT, check=True)


def measure(cmd):
    """CPU seconds and wall seconds of one run of `cmd`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall


def main():
    pairs = int(sys.argv[1]) if len(sys.argv) > 1 else 11
    customers = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    build()
    with tempfile.TemporaryDirectory() as tmp:
        scenario = pathlib.Path(tmp) / "mmc.toml"
        text = (ROOT / "scenarios" / "mmc.toml").read_text()
        scenario.write_text(text.replace("customers = 1_000_000", f"customers = {customers}"))
        cutover = [str(ROOT / "target" / "release" / "cutover"), "run", str(scenario),
                   "--out", str(pathlib.Path(tmp) / "out"), "--force"]
        baseline = [str(ROOT / "target" / "baseline" / "release" / "baseline_mmc"), str(customers), "1"]
        cpu, wall = [], []
        for _ in range(pairs):
            b_cpu, b_wall = measure(baseline)
            c_cpu, c_wall = measure(cutover)
            cpu.append(c_cpu / b_cpu)
            wall.append(c_wall / b_wall)
    print(f"cutover run / hand-written loop, {customers} customers, median of {pairs} pairs: "
          f"CPU time {statistics.median(cpu):.3f}x, wall time {statistics.median(wall):.3f}x")


if __name__ == "__main__":
    main()
