"""What a sweep writes after its runs: the table of every run and the CBA of each scenario variant.

The sweep engine is :mod:`simulation.sweep` (Dask); this module turns its result into ``sweep.csv`` and
``cba_by_variant.json`` so that the ``sweep`` subcommand (:mod:`cba.sweep_cli`) only parses and prints.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coordstudio.cba.fileio import atomic_write_text

if TYPE_CHECKING:
    from coordstudio.cba.study_file import Study

__all__ = ["cba_per_variant", "write_sweep_table"]


def write_sweep_table(res: Any, out: Path) -> Path:
    """``sweep.csv``: one row per run of the sweep (``simulation.sweep.SweepResult.rows``)."""
    rows = res.rows()
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]) if rows else ["task"])
    writer.writeheader()
    writer.writerows(rows)
    return atomic_write_text(out / "sweep.csv", buf.getvalue())


def cba_per_variant(study: Study, res: Any, out: Path) -> dict[str, list[str]]:
    """CBA of each variant over the swept days (the representative days' weights, or equal weights for
    days given with ``--days``).

    Writes ``cba_by_variant.json`` (NPV and BCR per scheme, or why a variant was skipped) and returns the
    ranking of each variant that could be appraised (one without its reference scheme cannot).
    """
    from coordstudio.cba.analysis import run_cba
    from coordstudio.cba.parameters import CbaParameters
    from coordstudio.sgam.matching import ict_costs
    from coordstudio.simulation.scenario import endpoint_counts

    by_variant: dict[str, list[Any]] = {}
    for key, k in res.kpis.items():
        by_variant.setdefault(res.tasks[key].variant_id, []).append(k)
    ict = ict_costs(
        study.sgam, endpoint_counts(study.scenario), study.cba.horizon_years, study.cba.discount_rate
    )
    summary: dict[str, Any] = {}
    rankings: dict[str, list[str]] = {}
    for variant, kpis in by_variant.items():
        schemes = {k.scheme for k in kpis}
        if study.cba.reference_scheme not in schemes:
            summary[variant] = {"skipped": f"reference scheme {study.cba.reference_scheme} not swept"}
            continue
        days = sorted({k.day for k in kpis})
        complete = [
            k for k in kpis if all(any(o.scheme == k.scheme and o.day == d for o in kpis) for d in days)
        ]
        given = getattr(res, "day_weights", {}) or {}
        if all(given.get(d) is not None for d in days) and sum(given[d] for d in days) > 0:
            # representative days: each stands for its cluster's days, rescaled to a year over the days run
            total = sum(given[d] for d in days)
            weights = {d: 365.0 * given[d] / total for d in days}
        else:
            weights = {d: 365.0 / len(days) for d in days}
        params = CbaParameters.model_validate(
            {**study.cba.model_dump(mode="json"), "day_weights_days_per_year": weights}
        )
        result = run_cba(params, complete, {s: ict[s] for s in {k.scheme for k in complete}})
        summary[variant] = {s.scheme: {"npv_eur": s.npv_eur, "bcr": s.bcr} for s in result.schemes}
        rankings[variant] = list(result.ranking)
    atomic_write_text(out / "cba_by_variant.json", json.dumps(summary, indent=2, default=str))
    return rankings
