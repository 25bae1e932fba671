"""Benchmark (issue 21): wall time and peak memory of one simulated hour against problem size, per scheme.

The sizes are the generated Italian scenario (``scenario generate italy-2030 --scale F``, seed 20190601,
docs/scale.md) at scale factors F: every count times F, so the detailed SimBench feeders are
``round(50 F)`` (at least 1) and the devices about ``2.49 M x F``:

=========  =========  ===================  ==========================
F          feeders    devices (about)      transmission buses
=========  =========  ===================  ==========================
0.004      1          10 k                 20 (floor)
0.02       1          50 k                 73
0.1        5          249 k                365
0.2        10         498 k                730
0.5        25         1.25 M               1,824
1.0        50         2.49 M               3,648
=========  =========  ===================  ==========================

Feeders, devices and buses grow together along this axis (the generator's counts are the seed's, scaled):
the fitted exponent is the growth with the whole scenario's size, written against devices.

One **point** is one scheme on one size in a **fresh process** (``--point``): read the scenario file,
build it and its schedule (``setup``), simulate one hour (``timing.duration_h = 1``: one market clearing
and two 30-min physical steps) in that process (:func:`simulation.simulate.simulate`, ``processes=1``, no
results database), then report

* ``hour_s``: wall seconds of the scheme's hour, the sum of its layer timers (forecast, bidding, market
  clearing, dispatch, physics, measurements: ``SchemeRun.timings_s``), and ``market_s`` / ``physics_s``;
* ``setup_s``: scenario build + schedule; ``total_s``: the whole ``simulate`` call;
* ``peak_rss_mib``: the process's peak resident set (``resource.getrusage(RUSAGE_SELF).ru_maxrss``), i.e.
  interpreter + imports + scenario + the scheme's hour.

Scenario generation is not measured (done once per size, in its own process, cached under ``--work``).
The growth exponent per scheme is the slope of a least-squares line through ``log(hour_s)`` (and
``log(peak_rss_mib)``) against ``log(devices)``. Points are appended to ``--json`` as they finish, so a
run can be resumed; ``--deadline HH:MM`` (UTC) skips a point whose estimated end (the previous size's time
for the scheme times the size ratio) falls after it, and the skipped points are listed in the output.

Usage::

    nice -n 5 .venv/bin/python benchmarks/scaling.py [--scales 0.004,0.02,0.1,0.2,0.5,1]
        [--schemes CMS,LMS,SBR,CM,IFM] [--work /tmp/scaling] [--json scaling.json]
        [--png docs/scaling.png] [--deadline 06:15]
    .venv/bin/python benchmarks/scaling.py --plot-only --json scaling.json --png docs/scaling.png
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SEED = 20190601


def _generate(scale: float, work: Path) -> dict[str, Any]:
    """Generate the scenario of one scale in this (child) process; return its counts."""
    from coordstudio.simulation.generator import generate_scenario
    from coordstudio.simulation.imports import write_spec

    out = work / f"scale_{scale:g}"
    t0 = time.perf_counter()
    gen = generate_scenario("italy-2030", out, seed=SEED, scale=scale)
    write_spec(gen.spec, out / "italy.json")
    return {
        "scale": scale,
        "spec": str(out / "italy.json"),
        "feeders": gen.detailed_grids,
        "distribution_nodes": gen.distribution_nodes,
        "transmission_nodes": gen.transmission_nodes,
        "devices": int(sum(gen.counts.values())),
        "generate_s": time.perf_counter() - t0,
    }


def _point(spec_path: str, scheme: str) -> dict[str, Any]:
    """One scheme's hour on one scenario, in this (fresh) process."""
    import resource

    from coordstudio.simulation.imports import read_spec
    from coordstudio.simulation.market.solvers import silence_highs_banner
    from coordstudio.simulation.simulate import simulate

    silence_highs_banner()
    spec = read_spec(spec_path)
    spec = spec.model_copy(update={"timing": spec.timing.model_copy(update={"duration_h": 1.0})})
    t0 = time.perf_counter()
    res = simulate(spec, [scheme], None, None, processes=1)
    total = time.perf_counter() - t0
    run = res.runs[scheme]
    layers = {k: float(v) for k, v in run.timings_s.items() if not k.endswith("_cpu_s")}
    k = run.kpis
    return {
        "scheme": scheme,
        "hour_s": sum(layers.values()),
        "market_s": layers.get("market", 0.0),
        "physics_s": layers.get("physics_network", 0.0),
        "layers_s": layers,
        "setup_s": res.setup_s,
        "total_s": total,
        "cpu_s": run.cpu_s,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "activation_cost_eur": k.activation_cost_eur,
        "slack_energy_mwh": k.slack_energy_mwh,
        "lines_tripped": k.lines_tripped,
    }


def _baseline() -> dict[str, Any]:
    """Peak RSS of a process that imported everything a point imports but built no scenario: the part of a
    point's peak that does not grow with the size (interpreter, NumPy/pandas, pandapower, Pyomo, HiGHS)."""
    import resource

    import highspy  # noqa: F401
    import pandapower  # noqa: F401
    import pyomo.environ  # noqa: F401

    import coordstudio.simulation.market  # noqa: F401
    import coordstudio.simulation.physical.network  # noqa: F401
    import coordstudio.simulation.run  # noqa: F401
    import coordstudio.simulation.simulate  # noqa: F401

    return {"baseline_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}


def _child(args: list[str]) -> dict[str, Any]:
    """Run this script with ``args`` in a fresh process; its last stdout line is the JSON result."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), *args], capture_output=True, text=True, env=env
    )
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise RuntimeError(" | ".join(tail))
    data: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return data


def _load(path: Path) -> dict[str, Any]:
    if path.exists():
        data: dict[str, Any] = json.loads(path.read_text())
        return data
    return {"sizes": {}, "points": [], "skipped": [], "load": []}


def fit_exponent(xs: list[float], ys: list[float]) -> float:
    """Slope of the least-squares line through (log x, log y): y ~ x ** slope."""
    lx = [math.log(x) for x in xs]
    ly = [math.log(y) for y in ys]
    n = len(lx)
    mx, my = sum(lx) / n, sum(ly) / n
    sxx = sum((a - mx) ** 2 for a in lx)
    return sum((a - mx) * (b - my) for a, b in zip(lx, ly, strict=True)) / sxx if sxx > 0 else float("nan")


LARGE_DEVICES = 200_000
"""Second fit over the sizes from here up (F >= 0.1, 5+ feeders), where the scenario, not fixed costs
(start-up, profile tables, the solver's per-call overhead), makes the time."""


def exponents(data: dict[str, Any], min_devices: int = 0) -> dict[str, dict[str, float]]:
    """Scheme -> fitted exponents against devices of hour_s, market_s, physics_s, peak RSS and the peak RSS
    above the baseline of imports (``rss_growth_mib``: what the scenario and the hour add)."""
    out: dict[str, dict[str, float]] = {}
    sizes = data["sizes"]
    base = float(data.get("baseline_rss_mib", 0.0))
    for p in data["points"]:
        if "error" not in p:
            p["rss_growth_mib"] = max(float(p["peak_rss_mib"]) - base, 1.0)
    for scheme in sorted({p["scheme"] for p in data["points"]}):
        pts = [p for p in data["points"] if p["scheme"] == scheme and "error" not in p
               and sizes[str(p["scale"])]["devices"] >= min_devices]
        if len({p["scale"] for p in pts}) < 2:
            continue
        xs = [float(sizes[str(p["scale"])]["devices"]) for p in pts]
        out[scheme] = {
            key: fit_exponent(xs, [max(float(p[key]), 1e-6) for p in pts])
            for key in ("hour_s", "cpu_s", "market_s", "physics_s", "peak_rss_mib", "rss_growth_mib")
        }
        out[scheme]["n_points"] = float(len(pts))
    return out


def plot(data: dict[str, Any], png: Path) -> None:
    """Two log-log panels (hour wall time, peak RSS) against devices, one line per scheme."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, LogLocator

    sizes = data["sizes"]
    fits = exponents(data)
    large = exponents(data, LARGE_DEVICES)
    nan = {"hour_s": float("nan"), "rss_growth_mib": float("nan")}
    fig, axes = plt.subplots(1, 2, figsize=(12, 5))
    markers = {"CMS": "o", "LMS": "s", "SBR": "^", "CM": "D", "IFM": "v", "CM-D": "x"}
    for scheme, fit in fits.items():
        pts = sorted(
            (p for p in data["points"] if p["scheme"] == scheme and "error" not in p),
            key=lambda p: sizes[str(p["scale"])]["devices"],
        )
        xs = [sizes[str(p["scale"])]["devices"] for p in pts]
        big = large.get(scheme, nan)
        axes[0].loglog(xs, [p["hour_s"] for p in pts], marker=markers.get(scheme, "."),
                       label=f"{scheme}  {fit['hour_s']:.2f} / {big['hour_s']:.2f}")
        axes[1].loglog(xs, [p["peak_rss_mib"] for p in pts], marker=markers.get(scheme, "."),
                       label=f"{scheme}  {fit['rss_growth_mib']:.2f} / {big['rss_growth_mib']:.2f}")
    if "baseline_rss_mib" in data:
        axes[1].axhline(data["baseline_rss_mib"], color="grey", ls="--", lw=1)
        axes[1].annotate(f"imports only: {data['baseline_rss_mib']:.0f} MiB", (0.02, 0.03),
                         xycoords="axes fraction", fontsize=8, color="grey")
    xs_all = sorted({(v["devices"], v["feeders"]) for v in sizes.values()})
    for ax, title, ylabel, legend_title in (
        (axes[0], "Wall time of one simulated hour (1 clearing + 2 physical steps)", "wall time, s",
         "scheme  exponent: all sizes / >= 200k devices"),
        (axes[1], "Peak memory of the process (fresh process per point)", "peak RSS, MiB",
         "scheme  exponent of RSS above imports:\nall sizes / >= 200k devices"),
    ):
        ax.set_xlabel("devices (feeders in brackets)")
        ax.set_ylabel(ylabel)
        ax.set_title(title, fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(title=legend_title, fontsize=8, title_fontsize=8)
        ax.set_xticks([d for d, _ in xs_all])
        ax.set_xticklabels([f"{d / 1000:,.0f}k\n({f})" for d, f in xs_all], fontsize=8)
        ax.minorticks_off()
        ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    load = data.get("load") or []
    load_txt = f"; load avg (1 min) {min(load):.1f}-{max(load):.1f}" if load else ""
    fig.suptitle(
        "Scaling of the generated Italian scenario (italy-2030 x scale, seed 20190601), 2-core shared machine"
        + load_txt, fontsize=10,
    )
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=110)
    plt.close(fig)


def table(data: dict[str, Any]) -> str:
    """Markdown table: one row per size, hour_s | peak RSS per scheme; then the exponents."""
    sizes = data["sizes"]
    schemes = [s for s in ("CMS", "LMS", "SBR", "CM", "IFM", "CM-D") if any(
        p["scheme"] == s for p in data["points"])]
    lines = ["| F | feeders | devices | " + " | ".join(f"{s} wall s (CPU s) / MiB" for s in schemes) + " |",
             "|---|---:|---:|" + "---:|" * len(schemes)]
    for key, sz in sorted(sizes.items(), key=lambda kv: float(kv[0])):
        cells = []
        for s in schemes:
            p = next((q for q in data["points"] if q["scheme"] == s and str(q["scale"]) == key), None)
            if p is None:
                cells.append("not run")
            elif "error" in p:
                cells.append("failed")
            else:
                cells.append(f"{p['hour_s']:.1f} ({p['cpu_s']:.1f}) / {p['peak_rss_mib']:,.0f}")
        lines.append(f"| {key} | {sz['feeders']} | {sz['devices']:,} | " + " | ".join(cells) + " |")
    fits = exponents(data)
    large = exponents(data, LARGE_DEVICES)
    lines.append("| **exponent >= 200k devices** wall (CPU) / RSS above imports | | | " + " | ".join(
        f"{large[s]['hour_s']:.2f} ({large[s]['cpu_s']:.2f}) / {large[s]['rss_growth_mib']:.2f}"
        if s in large else "-" for s in schemes
    ) + " |")
    lines.append("| **exponent, all sizes** wall (CPU) / RSS above imports | | | " + " | ".join(
        f"{fits[s]['hour_s']:.2f} ({fits[s]['cpu_s']:.2f}) / {fits[s]['rss_growth_mib']:.2f}"
        if s in fits else "-" for s in schemes
    ) + " |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scales", default="0.004,0.02,0.1,0.2,0.5,1")
    ap.add_argument("--schemes", default="CMS,LMS,SBR,CM,IFM")
    ap.add_argument("--work", default="/tmp/scaling-work")
    ap.add_argument("--json", default="/tmp/scaling-work/scaling.json")
    ap.add_argument("--png", default=str(ROOT / "docs" / "scaling.png"))
    ap.add_argument("--deadline", help="HH:MM UTC: skip points estimated to end after it")
    ap.add_argument("--plot-only", action="store_true")
    ap.add_argument("--point", nargs=2, metavar=("SPEC", "SCHEME"), help=argparse.SUPPRESS)
    ap.add_argument("--generate", type=float, metavar="SCALE", help=argparse.SUPPRESS)
    ap.add_argument("--baseline", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.point:
        print(json.dumps(_point(args.point[0], args.point[1])))
        return 0
    if args.baseline:
        print(json.dumps(_baseline()))
        return 0
    if args.generate is not None:
        print(json.dumps(_generate(args.generate, Path(args.work))))
        return 0
    jpath = Path(args.json)
    data = _load(jpath)
    if "baseline_rss_mib" not in data:
        data["baseline_rss_mib"] = _child(["--baseline"])["baseline_rss_mib"]
        if jpath.parent.exists():
            jpath.write_text(json.dumps(data, indent=1))
    if not args.plot_only:
        work = Path(args.work)
        work.mkdir(parents=True, exist_ok=True)
        deadline = None
        if args.deadline:
            hh, mm = (int(x) for x in args.deadline.split(":"))
            now = dt.datetime.now(dt.UTC)
            deadline = now.replace(hour=hh, minute=mm, second=0, microsecond=0)
        schemes = [s.strip() for s in args.schemes.split(",") if s.strip()]
        last_total: dict[str, tuple[float, float]] = {}  # scheme -> (devices, wall of its point incl. start)
        for p in sorted(data["points"], key=lambda q: float(q["scale"])):  # a resumed run: the sizes done
            if "error" not in p and str(p["scale"]) in data["sizes"]:
                last_total[p["scheme"]] = (data["sizes"][str(p["scale"])]["devices"], p["process_wall_s"])
        for scale in sorted(float(s) for s in args.scales.split(",")):
            key = str(scale)
            if key not in data["sizes"]:
                spec_file = work / f"scale_{scale:g}" / "italy.json"
                if spec_file.exists() and (work / f"scale_{scale:g}" / "counts.json").exists():
                    data["sizes"][key] = json.loads((work / f"scale_{scale:g}" / "counts.json").read_text())
                else:
                    print(f"generating scale {scale:g} ...", flush=True)
                    sz = _child(["--generate", str(scale), "--work", str(work)])
                    (work / f"scale_{scale:g}" / "counts.json").write_text(json.dumps(sz))
                    data["sizes"][key] = sz
                jpath.write_text(json.dumps(data, indent=1))
            sz = data["sizes"][key]
            for scheme in schemes:
                if any(p["scheme"] == scheme and str(p["scale"]) == key for p in data["points"]):
                    continue
                if deadline is not None and scheme in last_total:
                    d0, w0 = last_total[scheme]
                    est = w0 * sz["devices"] / d0  # linear growth: optimistic for CM and IFM
                    if dt.datetime.now(dt.UTC) + dt.timedelta(seconds=est) > deadline:
                        why = f"estimated {est:.0f} s would end after {args.deadline} UTC"
                        data["skipped"].append({"scheme": scheme, "scale": scale, "why": why})
                        jpath.write_text(json.dumps(data, indent=1))
                        print(f"skip {scheme} F={scale:g}: estimated {est:.0f} s", flush=True)
                        continue
                t0 = time.perf_counter()
                data["load"].append(os.getloadavg()[0])
                try:
                    p = _child(["--point", sz["spec"], scheme])
                except RuntimeError as exc:
                    p = {"scheme": scheme, "error": str(exc)}
                p["scale"] = scale
                p["process_wall_s"] = time.perf_counter() - t0
                p["load_after"] = os.getloadavg()[0]
                last_total[scheme] = (sz["devices"], p["process_wall_s"])
                data["points"].append(p)
                jpath.write_text(json.dumps(data, indent=1))
                print(f"F={scale:g} ({sz['feeders']} feeders, {sz['devices']:,} devices) {scheme}: "
                      + (f"hour {p['hour_s']:.1f} s (market {p['market_s']:.1f}, physics "
                         f"{p['physics_s']:.1f}), setup {p['setup_s']:.1f} s, "
                         f"peak {p['peak_rss_mib']:,.0f} MiB, "
                         f"process {p['process_wall_s']:.0f} s, load {p['load_after']:.1f}"
                         if "error" not in p else f"FAILED {p['error']}"), flush=True)
    plot(data, Path(args.png))
    print(table(data))
    for s, f in exponents(data).items():
        print(f"{s}: exponent time {f['hour_s']:.2f} (CPU {f['cpu_s']:.2f}; market {f['market_s']:.2f}, "
              "physics "
              f"{f['physics_s']:.2f}), memory {f['peak_rss_mib']:.2f} (above imports "
              f"{f['rss_growth_mib']:.2f}) over {int(f['n_points'])} sizes")
    for s in data["skipped"]:
        print(f"skipped {s['scheme']} F={s['scale']:g}: {s['why']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
