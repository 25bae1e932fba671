"""Re-appraising stored simulation results: read the KPIs of a run back and re-run only the CBA.

The KPIs come from ``--results``, which may be

* a results database: a SQLAlchemy URL (``sqlite:///out/results.sqlite``,
  ``postgresql+psycopg://...``) or the path of a SQLite file, opened read-only; the latest run of
  each scheme of the study is used, and must be completed (:mod:`cba.stored_runs`: a database of
  another study, or with a pending, running, failed or cancelled latest run, is refused by name);
* the ``kpis.csv`` that ``run`` writes beside the report;
* a JSON list of KPI records (the fields of :class:`simulation.kpis.SchemeKpis`).

The ICT costs are recomputed from the study's SGAM model (fast and deterministic), so an edited study
(prices, discount rate, ICT catalogue) is re-appraised without re-simulating.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coordstudio.cba.errors import CbaError

if TYPE_CHECKING:
    from coordstudio.cba.analysis import CbaResult
    from coordstudio.cba.study_file import Study
    from coordstudio.simulation.kpis import SchemeKpis

__all__ = ["load_kpis", "reappraise"]


def _kpis_from_db(url: str, day: str, study: Study | None) -> list[SchemeKpis]:
    """The KPIs of the latest run of each scheme, refusing a database that is missing, damaged, written
    for another study (with ``study``: :mod:`cba.stored_runs` compares the fingerprints) or whose latest
    run of a scheme is not completed (named, with the command that completes it)."""
    from coordstudio.cba.stored_runs import completed_runs, kpis_of_run, require_complete
    from coordstudio.simulation import db as simdb
    from coordstudio.simulation.errors import ResultsDatabaseError

    if study is not None:
        latest, label = completed_runs(study, url)
    else:
        label = simdb.db_label(url)
        runs = simdb.read_runs(url)
        if not runs:
            raise ResultsDatabaseError(f"{label}: holds no simulation run")
        latest = {str(r["scheme"]): r for r in runs}
        require_complete(latest, label, url)
    return [kpis_of_run(url, run, day, label) for run in latest.values()]


def load_kpis(source: str | Path, day: str = "default", study: Study | None = None) -> list[SchemeKpis]:
    """Read simulation KPIs from a results database URL or SQLite file, a ``kpis.csv`` or a JSON list.

    ``day`` names the representative day of database runs (which simulate one day each). ``study``: a
    database must hold runs of this study's scenario (else refused, naming the sections that differ).

    Raises
    ------
    CbaError
        If the source cannot be read or a KPI is missing or invalid (the message names the field).
    simulation.errors.ResultsDatabaseError
        A database that is missing, damaged, of another study, or whose latest run of a scheme is not
        completed.
    """
    from pydantic import ValidationError

    from coordstudio.simulation.kpis import SchemeKpis

    text = str(source)
    if "://" in text:
        return _kpis_from_db(text, day, study)
    path = Path(text)
    if not path.exists():
        raise CbaError(f"--results {path}: file not found")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            with path.open(newline="", encoding="utf-8") as fh:
                records: list[Any] = list(csv.DictReader(fh))
        elif suffix == ".json":
            from coordstudio.cba.safe_yaml import read_data_file

            records = read_data_file(path, json_format=True)  # duplicate keys, depth and size checked
            if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
                raise CbaError(f"--results {path}: expected a JSON list of KPI records")
        else:
            return _kpis_from_db(f"sqlite:///{path.resolve()}", day, study)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CbaError(f"--results {path}: cannot read: {exc}") from None
    out = []
    for i, record in enumerate(records):
        try:
            out.append(
                SchemeKpis.model_validate({k: v for k, v in dict(record).items() if v not in ("", None)})
            )
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"])
            msg = " ".join(str(first["msg"]).split())
            raise CbaError(f"--results {path}: record {i + 1}, field '{field}': {msg}") from None
    return out



# ------------------------------------------------------------------------------------- re-appraisal


def _representative_days(study: Study) -> list[Any]:
    """The study's simulated days, seed replicates included (empty: its one ``day_of_year``)."""
    from coordstudio.cba.study_days import study_days

    return study_days(study)


def _kpis_of_days(study: Study, results: str | Path, days: list[Any]) -> list[SchemeKpis]:
    """The KPIs of a study simulated on several representative days: a ``kpis.csv``/JSON as written (its
    rows carry the day ids), or from a database every scheme's completed run on each day
    (:func:`cba.stored_runs.completed_day_runs`), each carrying its day's id."""
    text = str(results)
    if "://" not in text and Path(text).suffix.lower() in (".csv", ".json"):
        return load_kpis(results, "default", study)
    from coordstudio.cba.stored_runs import completed_day_runs, kpis_of_run

    url = text if "://" in text else f"sqlite:///{Path(text).resolve()}"
    if "://" not in text and not Path(text).exists():
        raise CbaError(f"--results {text}: file not found")
    by_day, label = completed_day_runs(study, url, days)
    return [kpis_of_run(url, run, day_id, label) for day_id, runs in by_day.items() for run in runs.values()]


def reappraise(
    study: Study, results: str | Path, out_dir: str | Path, samples: int | None = None
) -> tuple[CbaResult, dict[str, Path]]:
    """The CBA of ``study`` on the stored KPIs in ``results``, with every CBA output written to ``out_dir``.

    ``samples`` overrides the study's Monte Carlo sample count. With a single representative day in the
    study's day weights, database runs are read as that day; otherwise as ``default``.
    """
    from coordstudio.cba.analysis import run_cba
    from coordstudio.cba.outputs import cba_outputs
    from coordstudio.sgam.matching import ict_costs
    from coordstudio.simulation.scenario import endpoint_counts

    params = study.cba
    if samples is not None:
        params = params.model_copy(update={"monte_carlo_samples": samples})
    weights = params.day_weights_days_per_year
    day = next(iter(weights)) if len(weights) == 1 else "default"
    days = _representative_days(study)
    if days:  # the days `run` simulated and weighted: the same selection, so the same weights
        from coordstudio.simulation.scenario.representative_days import day_weights

        params = params.model_copy(update={"day_weights_days_per_year": day_weights(days)})
        kpis = _kpis_of_days(study, results, days)
    else:
        kpis = load_kpis(results, day, study)
    ict = ict_costs(study.sgam, endpoint_counts(study.scenario), params.horizon_years, params.discount_rate)
    result = run_cba(params, kpis, ict)
    from coordstudio.cba.stress_coverage import with_stress_coverage

    result = with_stress_coverage(result, study, days)  # as run_study
    from coordstudio.cba.fingerprint import study_fingerprint
    from coordstudio.cba.provenance import build_provenance
    from coordstudio.cba.system_scale import scale_ict
    from coordstudio.cba.tables import monte_carlo_samples

    # the report and draft show the stated system's ICT lines, as the CBA counted them (as `run` does)
    return result, cba_outputs(
        params, kpis, scale_ict(ict, params.system), Path(out_dir), result=result,
        provenance=build_provenance(study_fingerprint(study)),
        extra_tables=monte_carlo_samples(params, kpis, ict, result),
    )
