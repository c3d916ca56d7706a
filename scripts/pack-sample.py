#!/usr/bin/env python3
"""Writes the synthetic consolidation sample of the reference story:
scenarios/pack/platform-tenants.csv (7,000 VMs) and the usage trace it
names (scenarios/pack/usage/nightly-batch.csv).

The story's container platform moved about 7,000 VMs (10,000+ cores) to
300-400 hosts (3,000+ cores), most VMs idle or small. The mix below is an
assumption, not a measurement; each figure that drives the result is here:

- 5 % of the VMs (350) belong to paying or VIP tenants and stay on
  dedicated capacity: 2, 4 or 8 vCPUs (10 / 60 / 30 %), 4 GiB per vCPU,
  busy (peak-hour utilisation: mean 0.25 x U(0.5, 1.5), p95 2.4 x the mean).
- 95 % are shared: 1, 2 or 4 vCPUs (55 / 35 / 10 %), 2 GiB per vCPU, and
  in their peak hour idle (60 %: mean 0.05 x U(0.5, 1.5), p95 3 x the mean),
  small (30 %: mean 0.15 x U(0.5, 1.5), p95 3 x) or busy (10 %: mean 0.35 x
  U(0.5, 1.5), p95 2.2 x; p95 at most 0.95). 20 of them are a nightly batch
  whose peak-hour utilisation is a 30-day trace (25 days near 0.2, 5
  month-end days near 0.9).

Run from the repository's root; the output is the same on every run
(Python's random.Random with a fixed seed).
"""

import random
from pathlib import Path

SEED = 16
VMS = 7_000
DEDICATED = 350
BATCH = 20
OUT = Path("scenarios/pack")


def choose(rng, options):
    """One value from (value, weight) options."""
    r = rng.random() * sum(w for _, w in options)
    for value, weight in options:
        r -= weight
        if r < 0:
            return value
    return options[-1][0]


def lognormal(rng, base, ratio):
    mean = round(base * rng.uniform(0.5, 1.5), 4)
    p95 = round(min(mean * ratio, 0.95), 4)
    return f"lognormal mean={mean} p95={p95}"


def main():
    rng = random.Random(SEED)
    rows = ["name,cores,memory,class,usage"]
    for i in range(DEDICATED):
        cores = choose(rng, [(2, 10), (4, 60), (8, 30)])
        rows.append(f"vip-{i + 1:04d},{cores},{4 * cores}GiB,dedicated,{lognormal(rng, 0.25, 2.4)}")
    for i in range(VMS - DEDICATED - BATCH):
        cores = choose(rng, [(1, 55), (2, 35), (4, 10)])
        profile = choose(rng, [((0.05, 3.0), 60), ((0.15, 3.0), 30), ((0.35, 2.2), 10)])
        rows.append(f"vm-{i + 1:05d},{cores},{2 * cores}GiB,shared,{lognormal(rng, *profile)}")
    for i in range(BATCH):
        rows.append(f"batch-{i + 1:02d},2,4GiB,shared,trace usage/nightly-batch.csv")
    (OUT / "platform-tenants.csv").write_text("\n".join(rows) + "\n")
    trace = ["utilisation"]
    for day in range(30):
        level = 0.9 if day >= 25 else 0.2
        trace.append(f"{round(level + rng.uniform(-0.05, 0.05), 3)}")
    (OUT / "usage").mkdir(exist_ok=True)
    (OUT / "usage" / "nightly-batch.csv").write_text("\n".join(trace) + "\n")


if __name__ == "__main__":
    main()
