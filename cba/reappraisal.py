"""Re-appraising stored simulation results: read the KPIs of a run back and re-run only the CBA.

The KPIs come from ``--results``, which may be

* a results database: a SQLAlchemy URL (``sqlite:///out/results.sqlite``,
  ``postgresql+psycopg://...``) or the path of a SQLite file; the latest completed run of each scheme
  is used;
* the ``kpis.csv`` that ``run`` writes beside the report;
* a JSON list of KPI records (the fields of :class:`simulation.kpis.SchemeKpis`).

The ICT costs are recomputed from the study's SGAM model (fast and deterministic), so an edited study
(prices, discount rate, ICT catalogue) is re-appraised without re-simulating.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cba.errors import CbaError

if TYPE_CHECKING:
    from cba.analysis import CbaResult
    from cba.study_file import Study
    from simulation.kpis import SchemeKpis

__all__ = ["load_kpis", "reappraise"]


_DICT_KEY = re.compile(r"^(?P<field>[a-z_]+)\[(?P<key>.*)\]$")


def _kpis_from_flat(flat: Mapping[str, float], scheme: str, day: str, where: str) -> SchemeKpis:
    """A :class:`SchemeKpis` from the flat ``name -> value`` rows of the results database.

    Dictionary fields are stored as ``field[key]`` (``bids_submitted_by_area[dso_1]``).
    """
    from pydantic import ValidationError

    from simulation.kpis import SchemeKpis

    data: dict[str, Any] = {"scheme": scheme, "day": day}
    fields = SchemeKpis.model_fields
    for name, value in flat.items():
        match = _DICT_KEY.match(name)
        if match and match["field"] in fields:
            data.setdefault(match["field"], {})[match["key"]] = int(round(value))
        elif name in fields and name not in ("scheme", "day"):
            data[name] = int(round(value)) if fields[name].annotation is int else value
    try:
        return SchemeKpis.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise CbaError(f"{where}: KPI '{field}' of scheme {scheme}: {first['msg']}") from None


def _kpis_from_db(url: str, day: str) -> list[SchemeKpis]:
    from simulation.db import read_kpis, read_runs
    from simulation.errors import SimulationError

    try:
        runs = read_runs(url)
    except SimulationError:
        raise
    except Exception as exc:  # SQLAlchemy errors: not a database, missing tables, ...
        raise CbaError(f"--results {url}: not a readable results database ({type(exc).__name__})") from None
    latest: dict[str, int] = {}
    for run in runs:
        if run.get("status") == "completed":
            latest[str(run["scheme"])] = int(run["run_id"])
    if not latest:
        raise CbaError(f"--results {url}: the results database holds no completed run")
    return [
        _kpis_from_flat(read_kpis(url, run_id), scheme, day, f"--results {url} run {run_id}")
        for scheme, run_id in latest.items()
    ]


def load_kpis(source: str | Path, day: str = "default") -> list[SchemeKpis]:
    """Read simulation KPIs from a results database URL or SQLite file, a ``kpis.csv`` or a JSON list.

    ``day`` names the representative day of database runs (which simulate one day each).

    Raises
    ------
    CbaError
        If the source cannot be read or a KPI is missing or invalid (the message names the field).
    """
    from pydantic import ValidationError

    from simulation.kpis import SchemeKpis

    text = str(source)
    if "://" in text:
        return _kpis_from_db(text, day)
    path = Path(text)
    if not path.exists():
        raise CbaError(f"--results {path}: file not found")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            with path.open(newline="", encoding="utf-8") as fh:
                records: list[Any] = list(csv.DictReader(fh))
        elif suffix == ".json":
            from cba.safe_yaml import read_data_file

            records = read_data_file(path, json_format=True)  # duplicate keys, depth and size checked
            if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
                raise CbaError(f"--results {path}: expected a JSON list of KPI records")
        else:
            return _kpis_from_db(f"sqlite:///{path.resolve()}", day)
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


def reappraise(
    study: Study, results: str | Path, out_dir: str | Path, samples: int | None = None
) -> tuple[CbaResult, dict[str, Path]]:
    """The CBA of ``study`` on the stored KPIs in ``results``, with every CBA output written to ``out_dir``.

    ``samples`` overrides the study's Monte Carlo sample count. With a single representative day in the
    study's day weights, database runs are read as that day; otherwise as ``default``.
    """
    from cba.analysis import run_cba
    from cba.outputs import cba_outputs
    from sgam.matching import ict_costs
    from simulation.scenario import endpoint_counts

    params = study.cba
    if samples is not None:
        params = params.model_copy(update={"monte_carlo_samples": samples})
    weights = params.day_weights_days_per_year
    day = next(iter(weights)) if len(weights) == 1 else "default"
    kpis = load_kpis(results, day)
    ict = ict_costs(study.sgam, endpoint_counts(study.scenario), params.horizon_years, params.discount_rate)
    result = run_cba(params, kpis, ict)
    return result, cba_outputs(params, kpis, ict, Path(out_dir), result=result)
