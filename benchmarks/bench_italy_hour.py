"""Benchmark (issue 8): the full-scale Italian scenario through the platform, one hour x five schemes.

Measures, on the generated ``italy-2030`` scenario (3,648 transmission buses, 50 SimBench MV grids, 2,360
copper-plate nodes, 2.5 million devices), with :func:`simulation.simulate.simulate` in one process:

* setup: scenario build + schedule of the earlier markets (once for all schemes);
* per scheme, one simulated hour: time per layer (``SimulationResult.runs[scheme].timings_s``), and per clearing
  its build and solve time and size (from the results database's ``clearings`` table) - "one clearing
  per scheme" (goal for the common market: under 10 s);
* the projected day: setup + 24 x the hour, per scheme and for all five (goal: a day x 5 schemes under
  60 minutes on this 2-core machine; with 2 worker processes the five schemes share two cores);
* what the grid data leave to the slack: per clearing the market slack and the nodes it sits at, the lines
  tripped, congestion hours per grid, and per physical step the slack bus's output next to the
  transmission losses (measurement hooks around ``simulation.market.clear`` and
  ``PhysicalNetwork.transmission_step``, possible because the schemes run in this process).

Usage::

    .venv/bin/python benchmarks/bench_italy_hour.py [--spec it.json] [--schemes CMS,LMS,SBR,CM,IFM]
        [--hours 1] [--json out.json]

Without ``--spec`` the scenario is generated first (seed 20190601) into a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spec", help="generated italy-2030 scenario file (default: generate one)")
    ap.add_argument("--schemes", default="CMS,LMS,SBR,CM,IFM")
    ap.add_argument("--hours", type=float, default=1.0)
    ap.add_argument("--json", help="write the figures to this file")
    args = ap.parse_args()

    import sqlalchemy as sa

    from coordstudio.simulation.db import clearings, make_engine, runs
    from coordstudio.simulation.imports import read_spec, write_spec
    from coordstudio.simulation.simulate import simulate

    tmp = Path(tempfile.mkdtemp(prefix="italy-hour-"))
    if args.spec:
        spec = read_spec(args.spec)
    else:
        from coordstudio.simulation.generator import generate_scenario

        t0 = time.perf_counter()
        spec = generate_scenario("italy-2030", tmp, seed=20190601).spec
        write_spec(spec, tmp / "italy-2030.json")
        print(f"generated in {time.perf_counter() - t0:.1f} s")
    spec = spec.model_copy(update={"timing": spec.timing.model_copy(update={"duration_h": args.hours})})
    schemes = [s.strip() for s in args.schemes.split(",")]
    db = f"sqlite:///{tmp / 'results.sqlite'}"
    make_engine(db).dispose()

    class _Print:
        t0 = time.perf_counter()

        def report(self, fraction: float, message: str) -> None:
            print(f"[{time.perf_counter() - self.t0:7.1f} s] {message}", flush=True)

        def cancelled(self) -> bool:
            return False

    import coordstudio.simulation.market as market
    from coordstudio.simulation.physical.network import PhysicalNetwork

    slack_nodes: list[dict[str, float]] = []  # per clearing, in order: node -> slack MW summed over steps
    steps: list[dict[str, float]] = []  # per physical step, in order of the schemes
    clear, tstep = market.clear, PhysicalNetwork.transmission_step
    session_clear = market.MarketSession.clear

    def record_slack(res):  # type: ignore[no-untyped-def]
        sl = res.slack
        by: dict[str, float] = {}
        if len(sl):
            tot = (sl.slack_up_mw + sl.slack_down_mw).groupby(sl.node).sum()
            by = {str(k): round(float(v), 1) for k, v in tot[tot > 0.05].sort_values(ascending=False).items()}
        slack_nodes.append(by)
        return res

    def clear_hook(case, scheme, options):  # type: ignore[no-untyped-def]
        return record_slack(clear(case, scheme, options))

    def session_hook(self, progress=None):  # type: ignore[no-untyped-def]
        # CM and IFM clear in a MarketSession (simulation.schemes: market_session)
        return record_slack(session_clear(self, progress))

    def tstep_hook(self, *a, **kw):  # type: ignore[no-untyped-def]
        afrr, residual, slack, losses = tstep(self, *a, **kw)
        steps.append({"slack_bus_mw": slack, "losses_mw": losses, "afrr_mw": afrr})
        return afrr, residual, slack, losses

    market.clear = clear_hook  # type: ignore[assignment]
    market.MarketSession.clear = session_hook  # type: ignore[method-assign]
    PhysicalNetwork.transmission_step = tstep_hook  # type: ignore[method-assign]
    t0 = time.perf_counter()
    result = simulate(spec, schemes, db, _Print(), processes=1)
    kpis = result.kpis
    wall = time.perf_counter() - t0
    timings = {s: {**r.timings_s, "cpu_s": r.cpu_s} for s, r in result.runs.items()}
    timings["_setup"] = {"scenario_and_schedule": result.setup_s, "cpu_s": result.setup_cpu_s}
    engine = make_engine(db)
    per_clearing: dict[str, list[dict[str, float]]] = {}
    with engine.connect() as conn:
        scheme_of = dict(conn.execute(sa.select(runs.c.run_id, runs.c.scheme)).all())
        for row in conn.execute(sa.select(clearings)):
            per_clearing.setdefault(scheme_of[row.run_id], []).append(
                {
                    "clearing": row.clearing,
                    "build_s": row.build_time_s,
                    "solve_s": row.solve_time_s,
                    "n_bids": row.n_bids,
                    "status": row.status,
                    "slack_mwh": row.slack_energy_mwh,
                }
            )
    engine.dispose()
    setup = timings.get("_setup", {}).get("scenario_and_schedule", float("nan"))
    out: dict[str, object] = {"hours": args.hours, "wall_s": wall, "setup_s": setup, "schemes": {}}
    layer_sum = sum(sum(v for k, v in timings.get(s, {}).items() if k != "cpu_s") for s in schemes)
    # per-scheme start-up outside the layer timers (device copies, network set-up): once per scheme and day
    overhead = max(wall - setup - layer_sum, 0.0) / max(len(schemes), 1)
    out["per_scheme_overhead_s"] = overhead
    day_total = setup
    n_steps = spec.timing.n_physical_steps
    for i, s in enumerate(schemes):
        t = timings.get(s, {})
        hour_s = sum(v for k, v in t.items() if k != "cpu_s") / args.hours
        day_total += overhead + 24 * hour_s
        cl = per_clearing.get(s, [])
        out["schemes"][s] = {  # type: ignore[index]
            "layers_s": t,
            "per_hour_s": hour_s,
            "projected_day_s": setup + 24 * hour_s,
            "clearings": cl,
            "activation_cost_eur": kpis[s].activation_cost_eur,
            "slack_energy_mwh": kpis[s].slack_energy_mwh,
            "slack_nodes": slack_nodes[: len(cl)],
            "lines_tripped": kpis[s].lines_tripped,
            "congestion_hours_by_grid": kpis[s].congestion_hours_by_grid,
            "voltage_violation_hours_h": kpis[s].voltage_violation_hours_h,
            "physical_steps": steps[i * n_steps : (i + 1) * n_steps],
        }
        del slack_nodes[: len(cl)]
        first = cl[0] if cl else {}
        print(
            f"{s}: one hour {hour_s:.1f} s (market {t.get('market', float('nan')):.1f} s, physics network "
            f"{t.get('physics_network', float('nan')):.1f} s); first clearing build "
            f"{first.get('build_s', float('nan')):.2f} s + solve {first.get('solve_s', float('nan')):.2f} s, "
            f"{first.get('n_bids', 0)} bids; projected day {(setup + overhead + 24 * hour_s) / 60:.1f} min"
        )
        st = steps[i * n_steps : (i + 1) * n_steps]
        where = out["schemes"][s]["slack_nodes"]  # type: ignore[index]
        print(
            f"{s}: market slack {kpis[s].slack_energy_mwh:.1f} MWh "
            f"(per clearing {[round(c['slack_mwh'], 1) for c in cl]}, at {where}), "
            f"{kpis[s].lines_tripped} lines tripped, congestion {kpis[s].congestion_hours_h:.1f} line-h, "
            f"slack bus {[round(x['slack_bus_mw']) for x in st]} MW vs losses "
            f"{[round(x['losses_mw']) for x in st]} MW"
        )
    out["projected_day_all_schemes_serial_s"] = day_total
    print(
        f"setup {setup:.1f} s; projected day x {len(schemes)} schemes in one process: "
        f"{day_total / 60:.1f} min "
        f"(two processes: about {(setup + (day_total - setup) / 2) / 60:.1f} min)"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
