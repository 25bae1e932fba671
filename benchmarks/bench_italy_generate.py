"""Benchmark (issue 8): full-scale Italian scenario generation, time and peak memory.

Goal: ``scenario generate italy-2030`` under 60 s and under 4 GiB. Each repetition runs in a fresh
process (so imports, SimBench loading and peak memory are counted as a user sees them) and measures:

* ``generate_s``: :func:`simulation.generator.generate_scenario` (PEGASE reduction, allocation, SimBench
  MV grids, device groups) plus writing the scenario JSON and grid files;
* ``build_s``: :func:`simulation.scenario.build.build_scenario` of the written spec, i.e. the 2.5 million
  devices as numpy arrays (what the platform does before simulating);
* ``peak_rss_mib``: the process's peak resident memory (``ru_maxrss``) over both.

It also checks the counts against the seed's figures. Usage::

    .venv/bin/python benchmarks/bench_italy_generate.py [--repeat 3] [--out /tmp/italy-bench]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

SEED_COUNTS = {
    "pv": 655_323,
    "wind_farm": 31,
    "large_chp": 20,
    "run_of_river_hydro": 1_833,
    "conventional": 308,
    "pumped_hydro": 13,
    "ev": 212_704,
    "wet_appliance": 1_489_193,
    "heat_pump": 68_481,
    "street_light": 33_783,
}

CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
from coordstudio.simulation.generator import generate_scenario
from coordstudio.simulation.imports import write_spec
out = sys.argv[1]
g = generate_scenario("italy-2030", out, seed=20190601, scale=1.0)
write_spec(g.spec, out + "/italy-2030.json")
t1 = time.perf_counter()
rss_gen = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
from coordstudio.simulation.scenario.build import build_scenario
sc = build_scenario(g.spec)
t2 = time.perf_counter()
print(json.dumps({
    "generate_s": t1 - t0, "build_s": t2 - t1, "peak_rss_generate_mib": rss_gen,
    "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "counts": g.counts, "transmission_nodes": g.transmission_nodes,
    "distribution_nodes": g.distribution_nodes, "detailed_grids": g.detailed_grids,
    "devices_built": sc.n_devices, "nodes_built": len(sc.nodes), "timings": g.timings_s,
}))
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", default=None, help="folder for the generated files (default: a temp folder)")
    args = ap.parse_args()
    runs = []
    for k in range(args.repeat):
        out = Path(args.out or tempfile.mkdtemp(prefix="italy-bench-")) / f"run{k}"
        out.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run(
            [sys.executable, "-c", CHILD, str(out)], capture_output=True, text=True, check=True
        )
        res = json.loads(proc.stdout.strip().splitlines()[-1])
        assert res["counts"] == SEED_COUNTS, res["counts"]
        assert (res["transmission_nodes"], res["distribution_nodes"], res["detailed_grids"]) == (
            3648,
            2410,
            50,
        )
        runs.append(res)
        print(
            f"run {k}: generate {res['generate_s']:.1f} s, build {res['build_s']:.1f} s, "
            f"peak RSS {res['peak_rss_mib']:.0f} MiB "
            f"(generate alone {res['peak_rss_generate_mib']:.0f} MiB), "
            f"{res['devices_built']:,} devices, {res['nodes_built']:,} nodes; split {res['timings']}"
        )
    med = {
        key: statistics.median(r[key] for r in runs)
        for key in ("generate_s", "build_s", "peak_rss_mib", "peak_rss_generate_mib")
    }
    print(json.dumps({"median": med, "runs": len(runs)}, indent=1))
    print(
        f"goal generate < 60 s: {'met' if med['generate_s'] < 60 else 'MISSED'}; "
        f"goal < 4 GiB: {'met' if med['peak_rss_mib'] < 4096 else 'MISSED'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
