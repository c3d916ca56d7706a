#!/usr/bin/env python3
"""Writes the import samples of scenarios/story/import/ from the story's
estate (its populations, and the sites the model's catchment gives them):

  day-requests.json       Prometheus /api/v1/query_range result: a request
                          counter per city over one day at a 5-minute step,
                          with one counter reset (hkg) and one gap (fra)
  day-requests.csv        the same day's rates as timestamp,population,
                          requests_per_s at a 15-minute step
  population-weights.csv  users per city: each city's population
  measured-catchment.csv  which site each client network reached and its
                          RTT, as an anycast measurement gives them

Deterministic (fixed seed). spike-requests.json is written by
sim/tests/traffic_import.rs (CUTOVER_WRITE_SAMPLES=1).

  python3 scripts/samples/story-imports.py [path/to/cutover]
"""

import csv
import io
import json
import math
import os
import random
import re
import subprocess
import sys
import tempfile
import tomllib

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
ESTATE = os.path.join(ROOT, "scenarios", "story", "estate.toml")
OUT = os.path.join(ROOT, "scenarios", "story", "import")
START_UNIX = 1_796_083_200  # 2026-12-01 00:00 UTC, time zero of the samples

# Urban agglomeration populations, 2020, in thousands: UN DESA Population
# Division, World Urbanization Prospects: The 2018 Revision, File 12
# (population of urban agglomerations with 300,000 inhabitants or more).
# Frankfurt am Main is the city's own figure in that file.
POPULATION_THOUSANDS = {
    "szx": 12_357, "lax": 12_447, "ctu": 9_136, "hgh": 7_642, "hkg": 7_548,
    "nyc": 18_804, "wuh": 8_365, "syd": 4_926, "pek": 20_463, "sha": 27_058,
    "can": 13_302, "sgp": 5_935, "tyo": 37_393, "fra": 767, "bom": 20_411,
}
SOURCE = "UN DESA World Urbanization Prospects 2018, urban agglomerations, 2020"

# UTC offsets on 1 December (standard time; Sydney on daylight time).
UTC_OFFSET_H = {
    "szx": 8, "ctu": 8, "hgh": 8, "hkg": 8, "wuh": 8, "pek": 8, "sha": 8,
    "can": 8, "sgp": 8, "tyo": 9, "syd": 11, "fra": 1, "bom": 5.5,
    "nyc": -5, "lax": -8,
}

MEAN_RPS = 3_600.0  # all cities together, the story's diurnal bench load
AMPLITUDE = 0.4     # +-40 % over the day
PEAK_LOCAL_H = 20.0 # evening peak, local time


def catalog():
    """City code -> (lat, lon), and site tag -> city code, from the model's catalog."""
    text = open(os.path.join(ROOT, "models", "src", "geo", "catalog.rs")).read()
    cities = {
        m[0]: (float(m[1]), float(m[2]))
        for m in re.findall(r'\("(\w+)", "[^"]*", "\w+", (-?[\d.]+), (-?[\d.]+)\)', text)
    }
    sites = dict(re.findall(r'tag: "(\w+)",\s*city: "(\w+)"', text))
    return cities, sites


def rate(city, t_s, noise):
    local_h = (t_s / 3600.0 + UTC_OFFSET_H[city]) % 24.0
    share = POPULATION_THOUSANDS[city] / sum(POPULATION_THOUSANDS.values())
    shape = 1.0 + AMPLITUDE * math.cos(2 * math.pi * (local_h - PEAK_LOCAL_H) / 24.0)
    return MEAN_RPS * share * shape * (1.0 + 0.03 * noise)


def day_rates(cities, step_s, rng):
    """{city: [(t_s, rps)]} over one day, both ends included."""
    return {
        c: [(t, rate(c, t, rng.uniform(-1, 1))) for t in range(0, 86_400 + 1, step_s)]
        for c in cities
    }


def prometheus_counters(rates, step_s, rng):
    result = []
    for city, series in rates.items():
        counter = float(rng.randrange(100_000, 5_000_000))
        values = [[START_UNIX, f"{counter:.0f}"]]
        for (t0, r0), (t1, r1) in zip(series, series[1:]):
            increase = round((r0 + r1) / 2 * (t1 - t0))
            if city == "hkg" and t1 == 14 * 3600 + 5 * 60:
                # The proxy restarted two minutes before this scrape: the
                # counter starts again from zero.
                counter = float(round(increase * 2 / 5))
            else:
                counter += increase
            if city == "fra" and 3 * 3600 <= t1 <= 3 * 3600 + 10 * 60:
                continue  # three scrapes failed: a gap of 20 minutes
            values.append([START_UNIX + t1, f"{counter:.0f}"])
        metric = {"__name__": "nginx_http_requests_total", "city": city, "job": "edge-proxy"}
        result.append({"metric": metric, "values": values})
    lines = ",\n".join(json.dumps(s, separators=(",", ":")) for s in result)
    return (
        '{"status":"success","data":{"resultType":"matrix","result":[\n' + lines + "\n]}}\n"
    )


def rates_csv(rates):
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["timestamp", "population", "requests_per_s"])
    rows = sorted((t, c, r) for c, s in rates.items() for t, r in s)
    for t, c, r in rows:
        w.writerow([START_UNIX + t, c, f"{r:.2f}"])
    return out.getvalue()


def weights_csv(cities):
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["population", "users", "source"])
    for c in cities:
        w.writerow([c, POPULATION_THOUSANDS[c] * 1000, SOURCE])
    return out.getvalue()


def model_sites(binary):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "c")
        subprocess.run([binary, "catchment", ESTATE, "--out", out], check=True,
                       stdout=subprocess.DEVNULL)
        with open(os.path.join(out, "catchment.csv")) as f:
            return {row["city"]: row["site"] for row in csv.DictReader(f)}


def km(a, b):
    (la1, lo1), (la2, lo2) = [(math.radians(x), math.radians(y)) for x, y in (a, b)]
    h = math.sin((la2 - la1) / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


# Clients measured elsewhere than the model says (a network that buys
# transit in another region, an Indian ISP routed to Europe).
ELSEWHERE = {("tyo", 2): "hgh1", ("bom", 1): "ams1", ("syd", 2): "la1", ("fra", 0): "ny1"}
# RIPE Atlas-style probes, located by coordinates rather than population.
PROBES = [("probe-6012", 34.05, -118.25), ("probe-6407", 1.29, 103.85), ("probe-1003", 50.12, 8.67)]


def measured_csv(cities, places, site_city, sites, rng):
    """Three client /48s per population, and a few probes by location; RTTs
    as a path inflation of 1.9 with 8 ms of access and +-10 % jitter give."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["client", "population", "lat", "lon", "site", "rtt_ms"])
    rtt = lambda a, b: (8.0 + 2 * km(a, b) * 1.9 / 200_000 * 1000) * rng.uniform(0.9, 1.1)
    for i, c in enumerate(cities):
        for k in range(3):
            site = ELSEWHERE.get((c, k), sites[c])
            prefix = f"2001:db8:{i * 16 + k:x}::/48"
            w.writerow([prefix, c, "", "", site, f"{rtt(places[c], places[site_city[site]]):.1f}"])
    for name, lat, lon in PROBES:
        near = min(cities, key=lambda c: km((lat, lon), places[c]))
        site = sites[near]
        w.writerow([name, "", lat, lon, site, f"{rtt((lat, lon), places[site_city[site]]):.1f}"])
    return out.getvalue()


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target", "debug", "cutover")
    estate = tomllib.load(open(ESTATE, "rb"))
    cities = [p["city"] for p in estate["populations"]]
    places, site_city = catalog()
    rng = random.Random(15)
    os.makedirs(OUT, exist_ok=True)
    files = {
        "day-requests.json": prometheus_counters(day_rates(cities, 300, rng), 300, rng),
        "day-requests.csv": rates_csv(day_rates(cities, 900, rng)),
        "population-weights.csv": weights_csv(cities),
        "measured-catchment.csv": measured_csv(cities, places, site_city, model_sites(binary), rng),
    }
    for name, text in files.items():
        with open(os.path.join(OUT, name), "w") as f:
            f.write(text)
        print(f"wrote {os.path.join('scenarios/story/import', name)} ({len(text)} bytes)")


if __name__ == "__main__":
    main()
