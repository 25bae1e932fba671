"""Benchmark (issue 21, second session): the default day's physics alone, CPU seconds, against another tree.

The scheme runs of ``bench_default_day.py`` mix the physics with the market layer, whose CPU time moves
by +-15 % with the machine's load; physics is a tenth of it. This replays what the physics costs per
scheme and per run, with no market in between, so the physics' own change shows:

* ``setup``: ``build_scenario`` + ``compute_schedule`` of the default study (the day's uncontrolled
  physics, 3 feeders x 48 steps), in a fresh process, imports excluded;
* ``physics day``: ``physics_step`` for each of the 48 physical steps under the schedule with no
  activation (3 feeder and 1 transmission power flow per step, SCADA, aFRR, protections), what one
  scheme's run pays for its physics.

Each tree runs in a fresh process (``PYTHONPATH`` = the tree); the trees alternate per repeat. The
step results (losses, aFRR, violations, SCADA actions, trips per step) are compared exactly between
trees.

Usage::

    .venv/bin/python benchmarks/bench_physics_day.py --base /work/wt/base [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

_CHILD = r"""
import json, time, hashlib
import numpy as np
from coordstudio.cba.study_file import default_study
from coordstudio.simulation.bidding.dispatch import DispatchOutcome
from coordstudio.simulation.forecast import compute_schedule
from coordstudio.simulation.physical.fleet import fresh_devices, model_context
from coordstudio.simulation.physical.network import PhysicalNetwork
from coordstudio.simulation.physical.step import physics_step
from coordstudio.simulation.scenario.build import build_scenario
import pandapower  # imports outside the timed parts
spec = default_study().scenario
c0 = time.process_time()
scenario = build_scenario(spec)
c1 = time.process_time()
schedule = compute_schedule(scenario)
c2 = time.process_time()
net = PhysicalNetwork(scenario)
ctx = model_context(scenario)
devices = fresh_devices(scenario, ctx)
n_gens = scenario.tso_gens["p_max_mw"].size
none = DispatchOutcome({}, {}, np.zeros(n_gens), np.zeros(net.t_node_idx.size), {}, np.zeros(len(scenario.aggregators)))
rng = np.random.default_rng(spec.seed + 11)
timings = {"physics_devices": 0.0, "physics_network": 0.0}
rows = []
c3 = time.process_time()
for k in range(spec.timing.n_physical_steps):
    p = physics_step(scenario, schedule, net, devices, ctx, k, none, rng, timings)
    rows.append([p.losses_mw, p.unserved_mw, p.afrr_mw, p.afrr_need_mw, p.grid_violations,
                 p.scada_actions, p.tripped, p.true_injection_mw.tolist()])
c4 = time.process_time()
digest = hashlib.sha256(json.dumps([schedule.area_draw_mw["F1"].tolist(), schedule.node_inj_mw.tolist(),
                                    rows], default=str).encode()).hexdigest()
print("RESULT" + json.dumps({"build_cpu_s": c1 - c0, "schedule_cpu_s": c2 - c1,
                             "physics_day_cpu_s": c4 - c3, "digest": digest,
                             "scada_actions": sum(len(r[5]) for r in rows)}))
"""


def _measure(tree: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(tree), MPLBACKEND="Agg")
    p = subprocess.run(
        [sys.executable, "-c", _CHILD], cwd=tree, env=env, capture_output=True, text=True, check=False
    )
    line = [x for x in p.stdout.splitlines() if x.startswith("RESULT")]
    if p.returncode or not line:
        raise SystemExit(f"{tree}: failed\n{p.stderr[-3000:]}")
    out = json.loads(line[0][len("RESULT") :])
    out["load"] = os.getloadavg()[0]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", type=Path, default=None, help="worktree of the previous code")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    here = Path(__file__).resolve().parents[1]
    trees = {"new": here} | ({"base": args.base.resolve()} if args.base else {})
    runs: dict[str, list[dict]] = {k: [] for k in trees}
    for r in range(args.repeat):
        for tag, tree in trees.items():
            runs[tag].append(_measure(tree))
            m = runs[tag][-1]
            print(
                f"repeat {r} {tag}: build {m['build_cpu_s']:.2f}, schedule {m['schedule_cpu_s']:.2f}, "
                f"physics day {m['physics_day_cpu_s']:.2f} CPU s; load {m['load']:.1f}",
                flush=True,
            )
            if args.json:
                args.json.write_text(json.dumps(runs, indent=1))
    print("\n| CPU s (median) | " + " | ".join(trees) + (" | new / base |" if args.base else " |"))
    print("|---|" + "---|" * (len(trees) + (1 if args.base else 0)))
    for key in ("build_cpu_s", "schedule_cpu_s", "physics_day_cpu_s"):
        med = {t: statistics.median(m[key] for m in runs[t]) for t in trees}
        ratio = f" {med['new'] / med['base']:.2f} |" if args.base else ""
        print(f"| {key} | " + " | ".join(f"{med[t]:.2f}" for t in trees) + " |" + ratio)
    if args.base:
        same = {m["digest"] for m in runs["new"]} == {m["digest"] for m in runs["base"]}
        print(f"step results equal between the trees: {same}")


if __name__ == "__main__":
    main()
