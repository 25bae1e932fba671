"""How far annual KPIs from 4, 8, 12 and 16 representative days are from a full-year simulation (issue 17).

Two steps, so the expensive one can run for hours, be stopped and resumed (and a third, ``year-study``,
that hands the simulated year to the CBA, :func:`cmd_year_study`):

``simulate``: simulate a list of days of the profile year, one ``day_DOY.csv`` of KPIs (one row per
scheme) per day into ``--results``. A day whose CSV exists is skipped (resumable; each CSV is written
atomically, so a stopped run leaves no half file). Days run in ``--processes`` worker processes at
``nice`` 10 (the machine is shared), each day simulating its schemes one after the other in its worker.
Each day is the study's scenario on that day of the year at its seasonal temperature, exactly as
``run`` simulates a representative day (:func:`simulation.scenario.representative_days.spec_for_day`).
``--days``: ``all`` (the 365 days), ``1,15,196`` (days of the year), ``sample:N`` (N days spread evenly
over the year) or ``repdays:4,8,12,16`` (the days the representative-day selection picks for those
numbers of days, so the comparison can start before the full year is in).

``compare``: the annual KPIs ``A_k = sum_d w_d k_d 24 / h_d`` (the CBA's formula, ``cba.benefits``) from
N representative days (their tsam weights) against the reference ``A_k = sum over the simulated days of
k_d 24 / h_d``, scaled by ``365 / (days simulated)`` when fewer than 365 are in (then the reference is
only an estimate from a sample, and the output says so). Per scheme and KPI, and for each scheme's
difference to the first scheme (what the CBA's benefits are made of): the relative error
``(A_rep - A_ref) / |A_ref|``. Writes ``repdays_error.csv`` into ``--results`` and a plot (PNG) of the
largest absolute relative error over the schemes per KPI against N. An N whose chosen days are not all
simulated is skipped and named. ``--weights clusters`` weights the same days by their cluster sizes instead
of the weights fitted to the year's means (docs/cba.md: the fit costs effective days); ``--stress-days S``
takes S of the N days from the stress stratum (``profiles.stress_days``; docs/cba.md, "The full year").

Full year of the default study: 365 days x 6 schemes, about 100 CPU-s per day (December 2026), some 10
CPU-hours; run it from one pinned commit, resumable, across sessions (docs/cba.md, "The full-year run").
Until the year is in, ``compare`` estimates the reference from the largest evenly spaced sample of
simulated days, with its standard error. Tiny demonstration (a few minutes)::

    python benchmarks/repdays_error.py simulate --schemes CMS,CM --hours 1 --start-h 11 \\
        --days repdays:4 --results /tmp/repdays --processes 1
    python benchmarks/repdays_error.py simulate --schemes CMS,CM --hours 1 --start-h 11 \\
        --days sample:4 --results /tmp/repdays --processes 1
    python benchmarks/repdays_error.py compare --results /tmp/repdays --n 4 --plot docs/repdays_error.png
"""

from __future__ import annotations

import argparse
import csv
import math
import multiprocessing as mp
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

KPIS: tuple[str, ...] = (
    "resource_cost_eur",
    "afrr_cost_eur",
    "afrr_energy_mwh",
    "congestion_hours_h",
    "overload_energy_mwh",
    "voltage_violation_hours_h",
    "curtailed_res_mwh",
    "losses_mwh",
    "slack_energy_mwh",
)
"""The KPIs compared: those the CBA turns into money (``cba.benefits.CATEGORY_KPIS``) and aFRR energy."""
TRIP_COLUMNS: tuple[str, ...] = ("lines_tripped", "energy_not_served_mwh")
"""Written beside the KPIs, not compared: the trip regime that biases the reference scheme's grid KPIs
(docs/cba.md, "Why: CMS trips a feeder line on winter days"). Day files written before 7 December 2026
evening lack them."""
YEAR = 365
META = "settings.csv"
PRICED = "priced_cost_eur"
"""A pseudo-KPI of ``compare``: the KPIs the CBA prices, at the study's prices and benefit factor,
``f sum_c p_c q_c`` (:func:`cba.benefits.category_prices`, :data:`cba.benefits.CATEGORY_KPIS`); a scheme's
yearly benefit is the reference scheme's priced cost minus its own, so the error of the difference
``X - first`` of this row is the error of the CBA's benefit of X (EUR/a, before discounting)."""
PRICED_ORDINARY = "priced_cost_without_ens_eur"
""":data:`PRICED` without the energy-not-served category: the benefits of the ordinary days, apart from the
rare trip regime (docs/cba.md, "The full year")."""


def _study(args: argparse.Namespace) -> Any:
    """The study with the command's schemes, duration and start hour applied (the same in every step)."""
    from coordstudio.cba.study_file import default_study, load_study

    study = default_study() if args.study is None else load_study(Path(args.study))
    timing = study.scenario.timing.model_copy(
        update={k: v for k, v in (("duration_h", args.hours), ("start_h", args.start_h)) if v is not None}
    )
    update: dict[str, Any] = {"timing": timing}
    if args.schemes:
        update["schemes"] = [s.strip() for s in args.schemes.split(",") if s.strip()]
    return study.model_copy(update={"scenario": study.scenario.model_copy(update=update)})


def _days(text: str, spec: Any) -> list[int]:
    """Days of the year named by ``--days`` (module docstring)."""
    from coordstudio.simulation.scenario.representative_days import select_representative_days

    if text == "all":
        return list(range(1, YEAR + 1))
    if text.startswith("sample:"):
        n = int(text.split(":", 1)[1])
        return sorted({1 + int(round(i * (YEAR - 1) / max(1, n - 1))) for i in range(n)})
    if text.startswith("repdays:"):
        out: set[int] = set()
        for n in text.split(":", 1)[1].split(","):
            out |= {d.day_of_year for d in select_representative_days(spec, int(n))}
        return sorted(out)
    return sorted({int(x) for x in text.split(",") if x.strip()})


def _simulate_day(job: tuple[Any, int, str]) -> str:
    """Simulate one day in this worker and write its CSV atomically; returns the file's name."""
    spec, doy, results = job
    from coordstudio.simulation.scenario.representative_days import (
        RepresentativeDay,
        seasonal_ambient_temp_c,
        spec_for_day,
    )
    from coordstudio.simulation.simulate import simulate

    day = RepresentativeDay(f"d{doy:03d}", doy, 1.0, "day", round(seasonal_ambient_temp_c(doy), 2))
    sim = simulate(spec_for_day(spec, day), list(spec.schemes), None, processes=1)
    path = Path(results) / f"day_{doy:03d}.csv"
    tmp = path.with_suffix(".csv.tmp")
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["scheme", "day_of_year", "duration_h", *KPIS, *TRIP_COLUMNS])
        for scheme in spec.schemes:
            k = sim.kpis[scheme]
            w.writerow([scheme, doy, k.duration_h, *(getattr(k, name) for name in (*KPIS, *TRIP_COLUMNS))])
    tmp.replace(path)
    return path.name


def cmd_simulate(args: argparse.Namespace) -> int:
    """Step (a): simulate the days not simulated yet, ``--processes`` at a time."""
    study = _study(args)
    results = Path(args.results)
    results.mkdir(parents=True, exist_ok=True)
    settings = f"study,{args.study or 'default'}\nschemes,{'|'.join(study.scenario.schemes)}\n" \
               f"duration_h,{study.scenario.timing.duration_h}\nstart_h,{study.scenario.timing.start_h}\n"
    meta = results / META
    if meta.exists() and meta.read_text() != settings:
        print(f"error: {results} holds days simulated with other settings ({meta}); use another --results",
              file=sys.stderr)
        return 2
    meta.write_text(settings)
    days = _days(args.days, study.scenario)
    todo = [d for d in days if not (results / f"day_{d:03d}.csv").exists()]
    print(f"{len(days) - len(todo)} of {len(days)} days simulated before; simulating {len(todo)}")
    jobs = [(study.scenario, d, str(results)) for d in todo]
    if args.processes <= 1:
        os.nice(10)  # shared machine: the benchmark yields to interactive work
        for job in jobs:
            print(_simulate_day(job), flush=True)
    else:
        with mp.get_context("spawn").Pool(args.processes, initializer=os.nice, initargs=(10,)) as pool:
            for name in pool.imap_unordered(_simulate_day, jobs):
                print(name, flush=True)
    return 0


def _read_days(results: Path, params: Any = None) -> dict[int, dict[str, dict[str, float]]]:
    """Day of year -> scheme -> KPI (scaled to 24 h: ``k 24 / h``), and with the study's CBA parameters
    ``params`` the day's :data:`PRICED` cost."""
    out: dict[int, dict[str, dict[str, float]]] = {}
    for path in sorted(results.glob("day_*.csv")):
        with path.open(newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                scale = 24.0 / float(row["duration_h"])
                kpis = {k: float(row[k]) * scale for k in KPIS}
                # priced since the energy_not_served category (0 in day files written before it)
                kpis["energy_not_served_mwh"] = float(row.get("energy_not_served_mwh") or 0.0) * scale
                kpis["lines_tripped"] = float(row.get("lines_tripped") or 0.0)
                if params is not None:
                    kpis[PRICED] = _priced_cost(kpis, params)
                    kpis[PRICED_ORDINARY] = kpis[PRICED] - float(params.benefit_factor) * float(
                        params.energy_not_served_price_eur_per_mwh) * kpis["energy_not_served_mwh"]
                out.setdefault(int(row["day_of_year"]), {})[row["scheme"]] = kpis
    return out


def _priced_cost(kpis: dict[str, float], params: Any) -> float:
    """:data:`PRICED`: ``f sum_c p_c sum_{k in c} kpi_k`` of one scheme's day."""
    from coordstudio.cba.benefits import BENEFIT_CATEGORIES, CATEGORY_KPIS, category_prices

    prices = category_prices(params)
    total = sum(float(prices[i]) * sum(kpis[k] for k in CATEGORY_KPIS[c])
                for i, c in enumerate(BENEFIT_CATEGORIES))
    return float(params.benefit_factor) * total


def reference_days(simulated: set[int]) -> tuple[list[int], str]:
    """The days the reference year is estimated from, and how to name it.

    All 365 when the year is in. Otherwise the largest evenly spaced set ``sample:N`` (module docstring)
    that is fully simulated: the representative days are simulated first and include the peak days, so
    counting every simulated day would bias a partial reference towards the days under test. A systematic
    sample of the year is an unbiased estimate of the year's total (the days' order carries no weight).
    Falls back to every simulated day when no such sample of 2 or more days is in (said so in the name).
    """
    if len(simulated) >= YEAR:
        return sorted(simulated)[:YEAR], "full year"
    for n in range(len(simulated), 1, -1):
        days = set(_days(f"sample:{n}", None))
        if days <= simulated:
            return sorted(days), f"{n} evenly spaced days of {YEAR} (a sample estimate)"
    return sorted(simulated), f"{len(simulated)} of {YEAR} days, not evenly spaced (a biased estimate)"


def annual_errors(
    simulated: dict[int, dict[str, dict[str, float]]], chosen: dict[int, float], schemes: Sequence[str],
    reference: Sequence[int] | None = None,
) -> list[dict[str, Any]]:
    """Rows (scheme or 'X - first', KPI, reference, its standard error, estimate, relative error) of one set
    of representative days (day of year -> weight) against the reference days (default: every simulated
    day; module docstring).

    Reference ``R = 365 mean_d x_d`` over the ``n`` reference days; its standard error as a sample of the
    year, ``SE = 365 s / sqrt(n) sqrt(1 - n/365)`` (``s`` the days' sample standard deviation, the finite
    population correction making it 0 for the full year). An error smaller than about ``2 SE / |R|`` is not
    distinguishable from the reference's own sampling error.
    """
    ref_days = sorted(simulated) if reference is None else list(reference)
    n_ref = len(ref_days)
    rows = []
    series = [(s, [s]) for s in schemes] + [(f"{s} - {schemes[0]}", [s, schemes[0]]) for s in schemes[1:]]
    kpis = [k for k in (*KPIS, "energy_not_served_mwh", PRICED_ORDINARY, PRICED)
            if all(k in simulated[d][schemes[0]] for d in ref_days)]
    level = {k: YEAR * sum(simulated[d][schemes[0]][k] for d in ref_days) / n_ref for k in kpis}
    for label, parts in series:
        sign = [1.0, -1.0][: len(parts)]
        for k in kpis:
            value = {d: sum(g * simulated[d][p][k] for g, p in zip(sign, parts, strict=True))
                     for d in set(ref_days) | set(chosen)}
            xs = [value[d] for d in ref_days]
            mean = sum(xs) / n_ref
            ref = YEAR * mean
            var = sum((x - mean) ** 2 for x in xs) / (n_ref - 1) if n_ref > 1 else 0.0
            se = YEAR * math.sqrt(var / n_ref * max(0.0, 1.0 - n_ref / YEAR))
            est = sum(w * value[d] for d, w in chosen.items())
            rel = (est - ref) / abs(ref) if abs(ref) > 1e-12 else (0.0 if abs(est) < 1e-12 else math.inf)
            # the error against the first scheme's own yearly amount: bounded where a difference is near 0
            # (a relative error of a difference of ~0 says nothing about the benefit it makes)
            share = (est - ref) / abs(level[k]) if abs(level[k]) > 1e-12 else math.nan
            rows.append({"series": label, "kpi": k, "reference_per_year": ref, "reference_se_per_year": se,
                         "estimate_per_year": est, "relative_error": rel,
                         "error_share_of_first_scheme": share})
    return rows


def cmd_compare(args: argparse.Namespace) -> int:
    """Step (b): the errors of 4, 8, 12 and 16 representative days, a CSV and a plot."""
    from coordstudio.simulation.scenario.representative_days import select_representative_days

    study = _study(args)
    results = Path(args.results)
    simulated = _read_days(results, study.cba)
    if not simulated:
        print(f"error: {results}: no day_*.csv; run the simulate step first", file=sys.stderr)
        return 2
    schemes = [s for s in study.scenario.schemes if all(s in v for v in simulated.values())]
    ref_days, note = reference_days(set(simulated))
    print(f"reference: {note}; schemes {', '.join(schemes)}")
    print("days with a tripped line: " + _trip_days(simulated, ref_days, "reference"))
    table: list[dict[str, Any]] = []
    for n in [int(x) for x in args.n.split(",")]:
        chosen = {d.day_of_year: d.weight_days
                  for d in select_representative_days(study.scenario, n, args.weights == "fitted",
                                                      args.stress_days)}
        missing = sorted(set(chosen) - set(simulated))
        if missing:
            print(f"{n} days: skipped, days {missing} not simulated (simulate --days repdays:{n})")
            continue
        print(f"{n} days: days with a tripped line: " + _trip_days(simulated, sorted(chosen), "selection"))
        for row in annual_errors(simulated, chosen, schemes, ref_days):
            table.append({"n_days": n, "reference_days": len(ref_days), **row})
    if not table:
        return 2
    out = results / "repdays_error.csv"
    with out.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(table[0]))
        w.writeheader()
        w.writerows(table)
    for r in table:
        print(f"{r['n_days']:>3} days {r['series']:<12} {r['kpi']:<26} ref {r['reference_per_year']:>14,.2f} "
              f"est {r['estimate_per_year']:>14,.2f} err {100 * r['relative_error']:>8.1f} % "
              f"(ref SE {100 * r['reference_se_per_year'] / max(abs(r['reference_per_year']), 1e-12):.1f} %)")
    print(f"wrote {out}")
    _print_benefits(table)
    if args.markdown:
        Path(args.markdown).write_text(markdown_tables(table, note), encoding="utf-8")
        print(f"wrote {args.markdown}")
    if args.plot:
        _plot(table, Path(args.plot), note)
        print(f"wrote {args.plot}")
    return 0


def cmd_year_study(args: argparse.Namespace) -> int:
    """Step (c): the full year as a study the CBA appraises (``coordstudio cba``): ``--out``/kpis.csv, every
    simulated day's KPIs of every scheme (day ``dDOY``), and ``--out``/study.yaml, an overlay of the study
    (``--study``, default the embedded one) that simulates no representative days and weights each of the
    365 days 1 day/a. With ``--n N`` (``--weights``, ``--stress-days``) the same for the N representative
    days and their weights instead, so the CBA of N days and of the year come from the same day files.
    Then ``coordstudio cba OUT/study.yaml --results OUT/kpis.csv --out OUT/cba`` gives the CBA of the
    simulated year itself: the ranking, NPVs, break-even scales and Monte Carlo that the representative
    days' CBA estimates (docs/cba.md, "The full year"). For the default study's 8 days it gives the NPVs
    of its ``coordstudio run`` (the day files are the run's KPIs to the bit).

    The day files hold the KPIs the CBA prices (every benefit category) but not the payments: a row's
    ``activation_cost_eur`` (paid to sellers) is set to its resource cost (sellers paid as bid) and
    ``slack_cost_eur`` to 0, so this CBA's system figures are the year's and its per-actor split is not."""
    from coordstudio.simulation.kpis import SchemeKpis

    results = Path(args.results)
    simulated = _read_days(results)
    if args.n:  # the CBA of N representative days, from the same day files
        from coordstudio.simulation.scenario.representative_days import select_representative_days

        chosen = {d.day_of_year: d.weight_days for d in select_representative_days(
            _study(args).scenario, args.n, args.weights == "fitted", args.stress_days)}
    else:
        chosen = {d: 1.0 for d in range(1, YEAR + 1)}
    missing = sorted(set(chosen) - set(simulated))
    if missing:
        print(f"error: {results}: {len(missing)} of the {len(chosen)} days not simulated (first: "
              f"{missing[:5]})", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    fields = list(SchemeKpis.model_fields)
    rows = []
    for path in sorted(results.glob("day_*.csv")):
        with path.open(newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                if int(row["day_of_year"]) not in chosen:
                    continue
                rec = {k: row[k] for k in (*KPIS, *TRIP_COLUMNS, "scheme", "duration_h") if row.get(k)}
                rec["day"] = f"d{int(row['day_of_year']):03d}"
                rec["activation_cost_eur"] = row["resource_cost_eur"]
                rec["slack_cost_eur"] = "0"
                rows.append({k: rec.get(k, "") for k in fields if k in rec})
    keys = [k for k in fields if any(k in r for r in rows)]
    tmp = out / "kpis.csv.tmp"  # atomic, as the day files: a stopped run leaves no half file
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=keys)
        w.writeheader()
        w.writerows(rows)
    tmp.replace(out / "kpis.csv")
    base = "default" if args.study is None else os.path.relpath(Path(args.study).resolve(), out.resolve())
    weights = "\n".join(f"    d{d:03d}: {w!r}" for d, w in sorted(chosen.items()))
    what = (f"{args.n} representative days ({args.weights} weights, {args.stress_days or 0} stress days)"
            if args.n else "The simulated year, every day weighted 1 day/a")
    (out / "study.yaml.tmp").write_text(
        "# A study of simulated days (benchmarks/repdays_error.py year-study): the days' weights given,\n"
        "# no representative days selected.\n"
        f"schema_version: 1\nextends: {base}\n"
        f"metadata:\n  title: {what}\n"
        "scenario:\n  profiles:\n    representative_days: 0\n"
        f"cba:\n  day_weights_days_per_year:\n{weights}\n", encoding="utf-8")
    (out / "study.yaml.tmp").replace(out / "study.yaml")
    print(f"wrote {out / 'kpis.csv'} ({len(rows)} rows) and {out / 'study.yaml'}; then: coordstudio cba "
          f"{out / 'study.yaml'} --results {out / 'kpis.csv'} --out {out / 'cba'}")
    return 0


MARKDOWN_SERIES: tuple[tuple[str, str], ...] = (
    ("resource_cost_eur", ""), ("resource_cost_eur", "CM"), ("afrr_cost_eur", "CM"),
    ("overload_energy_mwh", ""), ("overload_energy_mwh", "CM"), ("voltage_violation_hours_h", ""),
    ("voltage_violation_hours_h", "CM"), ("losses_mwh", ""), (PRICED, ""), (PRICED, "CM"), (PRICED, "LMS"),
)
"""KPI rows of :func:`markdown_tables`: (KPI, "" for the first scheme's own value or a scheme whose
difference to the first scheme is shown)."""


def markdown_tables(table: list[dict[str, Any]], note: str) -> str:
    """The two tables docs/cba.md shows, from ``compare``'s rows: each scheme's yearly benefit over the
    first scheme (k EUR/a; reference +- SE, and per N the estimate with its error in reference SEs), and
    the relative error of the annual KPIs of :data:`MARKDOWN_SERIES` (a scheme's own value: of itself;
    a difference: of the first scheme's value, ``error_share_of_first_scheme``) with the reference's SE
    on the same scale."""
    ns = sorted({r["n_days"] for r in table})
    first = next(r["series"] for r in table if " - " not in r["series"])
    out = [f"Reference: {note}.", "",
           "| scheme | reference | " + " | ".join(f"{n} days" for n in ns) + " |",
           "|---|---|" + "---|" * len(ns)]
    for scheme, ref, se, cells in _benefit_rows(table):
        out.append(f"| {scheme} | {ref:,.0f} +- {se:,.0f} | " + " | ".join(cells) + " |")
    ordinary = _benefit_rows(table, PRICED_ORDINARY)
    if ordinary:
        out += ["", "Without the energy-not-served category (the trip regime):", "",
                "| scheme | reference | " + " | ".join(f"{n} days" for n in ns) + " |",
                "|---|---|" + "---|" * len(ns)]
        for scheme, ref, se, cells in ordinary:
            out.append(f"| {scheme} | {ref:,.0f} +- {se:,.0f} | " + " | ".join(cells) + " |")
    out += ["", "| KPI | series | " + " | ".join(f"{n} days" for n in ns) + " | reference SE |",
            "|---|---|" + "---|" * (len(ns) + 1)]
    for kpi, scheme in MARKDOWN_SERIES:
        series = first if not scheme else f"{scheme} - {first}"
        rows = {r["n_days"]: r for r in table if r["kpi"] == kpi and r["series"] == series}
        if len(rows) != len(ns):
            continue
        key = "error_share_of_first_scheme" if scheme else "relative_error"
        level = next(r for r in table if r["kpi"] == kpi and r["series"] == first)["reference_per_year"]
        se = rows[ns[0]]["reference_se_per_year"] / abs(level) if abs(level) > 1e-12 else math.nan
        out.append(f"| {kpi} | {series} | " + " | ".join(f"{100 * rows[n][key]:+.1f} %" for n in ns)
                   + f" | {100 * se:.1f} % |")
    return "\n".join(out) + "\n"


def _trip_days(simulated: dict[int, dict[str, dict[str, float]]], days: Sequence[int], what: str) -> str:
    """Which of ``days`` trip a line in which scheme: the rare regime that energy not served prices
    (docs/cba.md, "Trips on December evenings"), said beside the errors it causes."""
    hits = [f"d{d:03d} ({', '.join(s for s, k in simulated[d].items() if k.get('lines_tripped', 0) > 0)})"
            for d in days if any(k.get("lines_tripped", 0) > 0 for k in simulated[d].values())]
    return f"{len(hits)} of the {what}'s {len(days)}" + (": " + ", ".join(hits) if hits else "")


def _benefit_rows(
    table: list[dict[str, Any]], kpi: str = PRICED
) -> list[tuple[str, float, float, list[str]]]:
    """Each scheme's yearly benefit over the first scheme (k EUR/a, the CBA's prices, before discounting):
    (scheme, reference, its standard error, per N the estimate with its error in reference SEs, or in
    k EUR/a against the full year, whose SE is 0).

    The benefit is minus the difference of :data:`PRICED` (or of ``kpi``), ``B_X = C_first - C_X``."""
    priced = [r for r in table if r["kpi"] == kpi and " - " in r["series"]]
    ns = sorted({r["n_days"] for r in priced})
    out = []
    for label in dict.fromkeys(r["series"] for r in priced):
        rows = {r["n_days"]: r for r in priced if r["series"] == label}
        ref, se = -rows[ns[0]]["reference_per_year"] / 1e3, rows[ns[0]]["reference_se_per_year"] / 1e3
        cells = []
        for n in ns:
            est = -rows[n]["estimate_per_year"] / 1e3
            # a sampled reference: the error in its standard errors; the full year (SE 0): in k EUR/a
            err = f"{(est - ref) / se:+.1f}" if se > 0 else f"{est - ref:+,.0f}"
            cells.append(f"{est:,.0f} ({err})")
        out.append((label.split(" - ")[0], ref, se, cells))
    return out


def _print_benefits(table: list[dict[str, Any]]) -> None:
    """:func:`_benefit_rows` on the console."""
    priced = [r for r in table if r["kpi"] == PRICED and " - " in r["series"]]
    ns = sorted({r["n_days"] for r in priced})
    print("yearly benefit over " + (priced[0]["series"].split(" - ")[1] if priced else "?")
          + ", k EUR/a: reference +- SE | " + " | ".join(f"{n} days (error)" for n in ns)
          + "  [error: in reference SEs; against the full year, SE 0, in k EUR/a]")
    for scheme, ref, se, cells in _benefit_rows(table):
        print(f"  {scheme:<6} {ref:,.0f} +- {se:,.0f} | " + " | ".join(cells))
    ordinary = _benefit_rows(table, PRICED_ORDINARY)
    if ordinary:
        print("  without the energy-not-served category (the trip regime):")
    for scheme, ref, se, cells in ordinary:
        print(f"  {scheme:<6} {ref:,.0f} +- {se:,.0f} | " + " | ".join(cells))


def _plot(table: list[dict[str, Any]], path: Path, note: str) -> None:
    """Left: per KPI, the largest |relative error| over the schemes (solid) and the largest |error| of the
    differences to the first scheme as a share of the first scheme's yearly amount (dashed), against the
    number of representative days. Right: the error of each scheme's yearly benefit (the difference of the
    :data:`PRICED` cost, the CBA's prices), k EUR/a. Bars: 2 standard errors of a sampled reference."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, bx) = plt.subplots(1, 2, figsize=(13, 5.8), gridspec_kw={"width_ratios": [1.25, 1]})
    ns = sorted({r["n_days"] for r in table})
    sampled = any(r["reference_se_per_year"] > 0 for r in table)
    first = next(r["series"] for r in table if " - " not in r["series"])
    level = {r["kpi"]: abs(r["reference_per_year"]) for r in table if r["series"] == first}
    for i, k in enumerate(KPIS):
        color = plt.get_cmap("tab10")(i % 10)
        for diff, style, marker, shift in ((False, "-", "o", -0.12), (True, "--", "x", 0.12)):
            key = "error_share_of_first_scheme" if diff else "relative_error"
            ys, bars = [], []
            for n in ns:
                rows = [r for r in table if r["n_days"] == n and r["kpi"] == k
                        and (" - " in r["series"]) == diff and math.isfinite(r.get(key, math.nan))]
                worst = max(rows, key=lambda r: abs(r[key]), default=None)
                ys.append(100 * abs(worst[key]) if worst else float("nan"))
                scale = (level.get(k, 0.0) if diff else abs(worst["reference_per_year"])) if worst else 0.0
                bars.append(200 * worst["reference_se_per_year"] / scale if worst and scale > 1e-12 else 0.0)
            xs = [n + shift + 0.03 * i for n in ns]
            ax.errorbar(xs, ys, yerr=bars if sampled else None, fmt=style, marker=marker, color=color,
                        capsize=2, elinewidth=0.8, label=k if not diff else None)
    ax.set_ylim(-2.0, 60.0)  # a KPI of ~0 (curtailed RES: 0-7 MWh/a) is 100 % off: off the scale
    ax.set_xlabel("representative days")
    ax.set_ylabel("largest |error| of the annual KPI, % (clipped at 60)")
    ax.set_xticks(ns)
    ax.set_title("o, solid: per scheme, of its own value\nx, dashed: difference to the first scheme, "
                 f"of {first}'s value", fontsize=9)
    ax.legend(fontsize=7, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.12))
    ax.grid(alpha=0.3)
    priced = [r for r in table if r["kpi"] == PRICED and " - " in r["series"]]
    for i, label in enumerate(sorted({r["series"] for r in priced}, key=[r["series"] for r in priced].index)):
        rows = {r["n_days"]: r for r in priced if r["series"] == label}
        xs = [n + 0.08 * (i - 2) for n in ns if n in rows]
        # benefit = -(difference of the priced cost): its error is minus the difference's
        ys = [-(rows[n]["estimate_per_year"] - rows[n]["reference_per_year"]) / 1e3 for n in ns if n in rows]
        bars = [2 * rows[n]["reference_se_per_year"] / 1e3 for n in ns if n in rows]
        ref = rows[ns[0]]["reference_per_year"] if ns[0] in rows else math.nan
        bx.errorbar(xs, ys, yerr=bars if sampled else None, fmt="-", marker="s", capsize=2, elinewidth=0.8,
                    color=plt.get_cmap("tab10")(i % 10),
                    label=f"{label.split(' - ')[0]} (benefit {-ref / 1e3:,.0f} k EUR/a)")
    ordinary = [r for r in table if r["kpi"] == PRICED_ORDINARY and " - " in r["series"]]
    labels = sorted({r["series"] for r in ordinary}, key=[r["series"] for r in ordinary].index)
    for i, label in enumerate(labels):
        rows = {r["n_days"]: r for r in ordinary if r["series"] == label}
        xs = [n + 0.08 * (i - 2) for n in ns if n in rows]
        ys = [-(rows[n]["estimate_per_year"] - rows[n]["reference_per_year"]) / 1e3 for n in ns if n in rows]
        bx.plot(xs, ys, "--", marker="x", color=plt.get_cmap("tab10")(i % 10), lw=1.0,
                label="without energy not served" if i == 0 else None)
    bx.axhline(0.0, color="#444444", lw=0.8)
    bx.set_xticks(ns)
    bx.set_xlabel("representative days")
    bx.set_ylabel("error of the yearly benefit, k EUR/a")
    bx.set_title("Benefit over the first scheme at the study's prices\n(estimate minus reference; "
                 "legend: the reference's benefit;\nx, dashed: without the energy-not-served category)",
                 fontsize=9)
    bx.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2)
    bx.grid(alpha=0.3)
    fig.suptitle(f"Annual KPIs from representative days against {note}"
                 + ("; bars: 2 standard errors of the sampled reference" if sampled else ""), fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="step", required=True)
    for name, func in (("simulate", cmd_simulate), ("compare", cmd_compare), ("year-study", cmd_year_study)):
        p = sub.add_parser(name)
        p.add_argument("--study", default=None, help="study file (default: the embedded default study)")
        p.add_argument("--results", required=True, help="folder of the day CSVs")
        p.add_argument("--schemes", default=None, help="comma-separated schemes (default: the study's)")
        p.add_argument("--hours", type=float, default=None, help="simulated hours per day (default: study)")
        p.add_argument("--start-h", type=float, default=None, help="start hour (default: the study's)")
        p.set_defaults(func=func)
        if name != "simulate":
            p.add_argument("--weights", choices=("fitted", "clusters"), default="fitted",
                           help="the days' weights: fitted to the year's means (as run), or cluster sizes")
            p.add_argument("--stress-days", type=int, default=None,
                           help="days from the stress stratum (default: the study's profiles.stress_days)")
        if name == "year-study":
            p.add_argument("--out", required=True, help="folder for kpis.csv and study.yaml")
            p.add_argument("--n", type=int, default=None,
                           help="instead of the year: the N representative days, with their weights")
        elif name == "simulate":
            p.add_argument("--days", default="all", help="all | 1,15,196 | sample:N | repdays:4,8,12,16")
            p.add_argument("--processes", type=int, default=1, help="days simulated side by side")
        else:
            p.add_argument("--n", default="4,8,12,16", help="numbers of representative days to compare")
            p.add_argument("--plot", default=None, help="PNG of the errors (e.g. docs/repdays_error.png)")
            p.add_argument("--markdown", default=None,
                           help="write the benefit and KPI-error tables as Markdown (docs/cba.md's tables)")

    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
