"""Benchmark (issue 21, P8): where one scheme process's memory goes, and what its results take on disk.

One scheme, one scenario file, ``--hours`` simulated hours, **in this process** (``processes=1``), writing
the results database ``--db`` (SQLite). A sampler thread reads the process's resident set
(``/proc/self/statm``) every ``--every`` seconds together with the main thread's Python stack, and charges
each sample to the innermost *stage* on that stack (a function of :data:`STAGES`: scenario build,
schedule, devices, physical network, bid universe, market session, bidding, clearing, physics,
measurement, database). The report (one JSON line on stdout, ``--json`` too):

* ``peak_rss_mib``: the process's peak (``ru_maxrss``: the kernel's, not sampled), and ``imports_rss_mib``
  before the scenario is read;
* ``stages``: per stage, the highest sampled RSS while it ran (MiB) and the samples it took;
* ``db_mib`` and ``tables``: the database file's size and the bytes of each table and index (SQLite's
  ``dbstat``), so the results' size is attributed to what holds it.

Usage::

    nice -n 5 .venv/bin/python benchmarks/bench_memory.py --spec /tmp/scaling/scale_0.2/italy.json \
        --scheme CM --hours 1 --db /tmp/mem.sqlite [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import sys
import threading
import time
from pathlib import Path
from typing import Any

STAGES: dict[str, str] = {
    "build_scenario": "scenario build",
    "compute_schedule": "schedule",
    "fresh_devices": "devices (fresh copies)",
    "PhysicalNetwork.__init__": "physical network",
    "bid_universe": "bid universe",
    "ClearingStage.__init__": "market session set-up",
    "forecast_clearing": "forecast",
    "collect_bids": "bidding",
    "ClearingStage.clear": "clearing",
    "build_model": "clearing: Pyomo build",
    "build_direct_model": "clearing: array build",
    "build_param_map": "clearing: parameter map (compiles)",
    "HighsBlocks.__init__": "clearing: load into HiGHS",
    "_direct_loop": "clearing: HiGHS solve",
    "set_parameters": "clearing: parameters",
    "HighsDirect.update": "clearing: update",
    "Recorder.clearing": "recording (clearing rows)",
    "dispatch_step": "dispatch",
    "physics_step": "physics",
    "measure": "measurement",
    "Recorder.measurements": "recording (measurement rows)",
    "ResultsWriter.flush": "database write",
    "ResultsWriter.finish": "database write",
}
"""Function qualname -> stage label; a sample is charged to the innermost of these on the main stack."""

PAGE = os.sysconf("SC_PAGE_SIZE")


def _rss_mib() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * PAGE / 2**20


def _stage_of(frame: Any) -> str:
    while frame is not None:
        name = getattr(frame.f_code, "co_qualname", frame.f_code.co_name)
        if name in STAGES:
            return STAGES[name]
        frame = frame.f_back
    return "other"


class Sampler(threading.Thread):
    """RSS and the main thread's stage every ``every`` seconds."""

    def __init__(self, every: float) -> None:
        super().__init__(daemon=True)
        self.every = every
        self.main_id = threading.main_thread().ident
        self.stop = threading.Event()
        self.stages: dict[str, dict[str, float]] = {}

    def run(self) -> None:
        while not self.stop.wait(self.every):
            frame = sys._current_frames().get(self.main_id)  # noqa: SLF001 - sampling profiler
            stage = _stage_of(frame)
            rss = _rss_mib()
            s = self.stages.setdefault(stage, {"max_rss_mib": 0.0, "samples": 0})
            s["max_rss_mib"] = max(s["max_rss_mib"], rss)
            s["samples"] += 1


def table_sizes(path: Path) -> dict[str, float]:
    """Bytes (MiB) of each table and index of an SQLite file (``dbstat``)."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC").fetchall()
    return {str(n): round(float(b) / 2**20, 3) for n, b in rows}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spec", required=True, help="scenario file (e.g. a generated italy-2030 JSON)")
    ap.add_argument("--scheme", default="CM")
    ap.add_argument("--hours", type=float, default=1.0)
    ap.add_argument("--db", default="", help="SQLite file to write (removed first); empty: no database")
    ap.add_argument("--every", type=float, default=0.05, help="sampling interval, s")
    ap.add_argument("--json", default="")
    args = ap.parse_args()

    from coordstudio.simulation.imports import read_spec
    from coordstudio.simulation.market.solvers import silence_highs_banner
    from coordstudio.simulation.simulate import simulate

    silence_highs_banner()
    imports_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    spec = read_spec(args.spec)
    spec = spec.model_copy(update={"timing": spec.timing.model_copy(update={"duration_h": args.hours})})
    db_url = None
    if args.db:
        db = Path(args.db)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        db_url = f"sqlite:///{db.resolve()}"
    sampler = Sampler(args.every)
    sampler.start()
    t0 = time.perf_counter()
    res = simulate(spec, [args.scheme], db_url, None, processes=1)
    wall = time.perf_counter() - t0
    sampler.stop.set()
    sampler.join()
    out: dict[str, Any] = {
        "spec": args.spec,
        "scheme": args.scheme,
        "hours": args.hours,
        "wall_s": round(wall, 1),
        "cpu_s": round(time.process_time(), 1),
        "imports_rss_mib": round(imports_rss, 1),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1),
        "stages": {
            k: {"max_rss_mib": round(v["max_rss_mib"], 1), "samples": int(v["samples"])}
            for k, v in sorted(sampler.stages.items(), key=lambda kv: -kv[1]["max_rss_mib"])
        },
        "activation_cost_eur": res.runs[args.scheme].kpis.activation_cost_eur,
        "load": os.getloadavg()[0],
    }
    if args.db:
        out["db_mib"] = round(sum(
            Path(f"{args.db}{s}").stat().st_size for s in ("", "-wal") if Path(f"{args.db}{s}").exists()
        ) / 2**20, 2)
        out["tables"] = table_sizes(Path(args.db))
    line = json.dumps(out)
    print(line)
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
