"""Benchmark (issue 21, P4b): the default study's day, per scheme, against another code tree side by side.

Goal P4b: a year of representative days (8-16) x every scheme in < 3 min with the platform's two scheme
processes, i.e. the default day x six schemes in about 15 s of wall time (30 s of scheme CPU spread
over two cores).

Every measurement runs in a fresh Python process (``PYTHONPATH`` = the code tree), so both trees pay
the same imports and grid loading: the setup (``build_scenario`` + ``compute_schedule``, once per day
and run) is timed separately from each scheme's ``run_scheme`` (one process, one scheme after the
other, SQLite results database as ``coordstudio run`` writes). The trees alternate within each repeat
(A, B, A, B, ...), so a change of the machine's load hits both; the ratio is taken per repeat and its
median reported. The load average is printed before and after each measurement. Each scheme's KPIs
(activation cost, market slack, losses) are compared between the trees.

Usage::

    .venv/bin/python benchmarks/bench_default_day.py --base /tmp/i21-perf-base [--repeat 3]
        [--schemes CMS,LMS,SBR,CM,CM-D,IFM] [--hours H] [--json out.json]

``--base`` is a worktree of the previous code (``git worktree add --detach DIR 992c3c0``); without it
only this tree is measured.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

_CHILD = r"""
import json, sys, time, os
t_imp = time.perf_counter()
from coordstudio.cba.study_file import default_study
from coordstudio.simulation.forecast import compute_schedule
from coordstudio.simulation.run import run_scheme
from coordstudio.simulation.scenario.build import build_scenario
from coordstudio.simulation.market.solvers import silence_highs_banner
schemes = sys.argv[1].split(",")
db = sys.argv[2]
hours = float(sys.argv[3])
spec = default_study().scenario
if hours > 0:
    spec = spec.model_copy(update={"timing": spec.timing.model_copy(update={"duration_h": hours})})
silence_highs_banner()
t0 = time.perf_counter(); c0 = time.process_time()
scenario = build_scenario(spec)
schedule = compute_schedule(scenario)
out = {"setup_s": time.perf_counter() - t0, "setup_cpu_s": time.process_time() - c0, "schemes": {}}
for s in schemes:
    t0 = time.perf_counter(); c0 = time.process_time()
    run = run_scheme(scenario, schedule, s, f"sqlite:///{db}")
    k = run.kpis
    out["schemes"][s] = {
        "wall_s": time.perf_counter() - t0, "cpu_s": time.process_time() - c0,
        "timings_s": run.timings_s,
        "kpis": {f: float(v) for f, v in k.model_dump().items()
                 if isinstance(v, (int, float)) and not isinstance(v, bool)},
    }
print("RESULT" + json.dumps(out))
"""


def _load() -> float:
    return os.getloadavg()[0]


def _measure(tree: Path, schemes: list[str], tmp: Path, tag: str, hours: float) -> dict:
    db = tmp / f"{tag}.sqlite"
    env = dict(os.environ, PYTHONPATH=str(tree), MPLBACKEND="Agg")
    l0 = _load()
    p = subprocess.run(
        [sys.executable, "-c", _CHILD, ",".join(schemes), str(db), str(hours)],
        cwd=tree, env=env, capture_output=True, text=True, check=False,
    )
    if p.returncode:
        raise SystemExit(f"{tree}: measurement failed:\n{p.stderr[-3000:]}")
    line = next(ln for ln in p.stdout.splitlines() if ln.startswith("RESULT"))
    res = json.loads(line[len("RESULT"):])
    res["load"] = (l0, _load())
    return res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", type=Path, default=None, help="worktree of the previous code")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--schemes", default="CMS,LMS,SBR,CM,CM-D,IFM")
    ap.add_argument("--hours", type=float, default=0.0,
                    help="simulate only this many hours of the day (0: the study's whole day)")
    ap.add_argument("--json", type=Path, default=None, help="write every measurement here")
    args = ap.parse_args()
    here = Path(__file__).resolve().parents[1]
    trees = {"new": here} | ({"base": args.base.resolve()} if args.base else {})
    schemes = args.schemes.split(",")
    tmp = Path(tempfile.mkdtemp(prefix="bench-default-day-"))
    runs: dict[str, list[dict]] = {k: [] for k in trees}
    for r in range(args.repeat):
        for name, tree in (trees.items() if r % 2 == 0 else reversed(list(trees.items()))):
            res = _measure(tree, schemes, tmp, f"{name}{r}", args.hours)
            runs[name].append(res)
            per = ", ".join(f"{s} {v['wall_s']:.1f}" for s, v in res["schemes"].items())
            print(f"repeat {r} {name}: setup {res['setup_s']:.1f} s; {per}; "
                  f"load {res['load'][0]:.1f}-{res['load'][1]:.1f}", flush=True)
            if args.json:  # after every measurement, so an interrupted run keeps what it measured
                args.json.write_text(json.dumps(runs, indent=1))
    print()
    print("| scheme | " + " | ".join(f"{k} median wall (s)" for k in trees)
          + (" | new / base (median of per-repeat ratios)" if "base" in trees else "") + " |")
    print("|---|" + "---|" * (len(trees) + ("base" in trees)))
    rows = ["setup", *schemes, "total (setup + schemes)"]
    for row in rows:
        def val(res: dict, row: str = row) -> float:
            if row == "setup":
                return res["setup_s"]
            if row.startswith("total"):
                return res["setup_s"] + sum(v["wall_s"] for v in res["schemes"].values())
            return res["schemes"][row]["wall_s"]
        meds = [statistics.median(val(x) for x in runs[k]) for k in trees]
        cells = [f"{m:.2f}" for m in meds]
        if "base" in trees:
            ratio = statistics.median(val(a) / val(b) for a, b in zip(runs["new"], runs["base"], strict=True))
            cells.append(f"{ratio:.2f}")
        print(f"| {row} | " + " | ".join(cells) + " |")
    print()
    print("CPU seconds (process time; robust to the machine's load, which stretches wall time):")
    print("| scheme | " + " | ".join(f"{k} median CPU (s)" for k in trees)
          + (" | new / base" if "base" in trees else "") + " |")
    print("|---|" + "---|" * (len(trees) + ("base" in trees)))
    for row in ["setup", *schemes, "total (setup + schemes)"]:
        def cpu(res: dict, row: str = row) -> float:
            if row == "setup":
                return res["setup_cpu_s"]
            if row.startswith("total"):
                return res["setup_cpu_s"] + sum(v["cpu_s"] for v in res["schemes"].values())
            return res["schemes"][row]["cpu_s"]
        meds = [statistics.median(cpu(x) for x in runs[k]) for k in trees]
        cells = [f"{m:.2f}" for m in meds]
        if "base" in trees:
            ratio = statistics.median(cpu(a) / cpu(b) for a, b in zip(runs["new"], runs["base"], strict=True))
            cells.append(f"{ratio:.2f}")
        print(f"| {row} | " + " | ".join(cells) + " |")
    if "base" in trees:
        print()
        for s in schemes:
            a = runs["new"][0]["schemes"][s]["kpis"]
            b = runs["base"][0]["schemes"][s]["kpis"]
            diffs = {f: (a[f], b.get(f)) for f in a if a[f] != b.get(f)}  # exact: the code must not move them
            print(f"KPIs {s}: " + ("equal" if not diffs else f"differ {diffs}"))
    loads = [x["load"] for k in trees for x in runs[k]]
    print(f"\nload average (1 min) during the runs: {min(min(x) for x in loads):.1f}-"
          f"{max(max(x) for x in loads):.1f}; machine: {os.cpu_count()} cores")
    if args.json:
        args.json.write_text(json.dumps(runs, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
