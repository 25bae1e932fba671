"""The Python API for notebooks: load a study, run it, and read every result as a pandas DataFrame.

Three calls cover the analyst's path (``import coordstudio as cs``):

    study = cs.load_study("study.yaml")           # or cs.default_study()
    res = cs.run_study(study, out="out")           # the same chain as `coordstudio run`
    res.kpis(); res.prices(); res.cashflows()      # pandas DataFrames, units in the column names
    cs.open_results("out").kpis()                  # the same frames, read back later; no SQL

Why one ``Results`` class for both: a frame computed in memory right after a run and the frame read
back from the results database later are built by the same code from the same stored rows, so a notebook
can switch between them freely (the tests check they are equal). The simulation's tables (clearings,
bids, activations, nodal prices, measurements, balancing) are only ever held in the results database:
``run_study`` therefore always has one (in ``out`` or, without it, in a temporary folder that lives
as long as the ``Results`` object). The KPIs, ICT cost lines and the CBA come from memory after a
run, and from the database plus the study (or the ``cba_result.json`` the run wrote) when reopened.

Column names carry their unit the way pandapower's ``res_*`` tables do: ``p_mw``, ``vm_pu``,
``price_eur_per_mwh``, ``cost_eur``, ``time_min``; a count is ``n_*``; a fraction says ``fraction``.

Re-appraising without re-simulating: the simulation reads only the study's ``scenario``; a change to the
SGAM/ICT model (a requirement, a technology's cost) or to the CBA parameters (discount rate, prices)
leaves the simulated KPIs valid. ``Results.reappraise`` re-runs only the ICT costing and the CBA of an
edited study on the stored KPIs, in well under a second; a study whose scenario differs is refused.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from coordstudio.cba.errors import CbaError
from coordstudio.cba.study import Study, StudyResult, default_study, load_study, representative_days_of
from coordstudio.cba.study import run_study as _run_study_chain

if TYPE_CHECKING:
    import numpy as np

    from coordstudio.cba.analysis import CbaResult
    from coordstudio.sgam.costs import SchemeIctCost
    from coordstudio.simulation.kpis import SchemeKpis
    from coordstudio.simulation.progress import Progress

__all__ = [
    "DEFAULT_STUDY_FILE",
    "Results",
    "default_study",
    "load_study",
    "open_results",
    "run_study",
]

DEFAULT_STUDY_FILE = Path(__file__).resolve().parent / "data" / "default_study.yaml"
"""The embedded default study as a file (what ``cba.study.default_study`` builds), to load and edit."""
RESULTS_DB = "results.sqlite"
"""File name of the results database in an output folder (what ``coordstudio run --out`` writes)."""
CBA_RESULT = "cba_result.json"
"""File name of the CBA result in an output folder."""
STUDY_COPY = "study.yaml"
"""File name of the study ``run_study`` saves beside its outputs, so ``open_results`` finds it."""

_RUN_KEYS = ["scheme", "day", "run_id"]


# ------------------------------------------------------------------------------------------ sources


def _db_url(source: str | Path) -> tuple[str, Path | None]:
    """The SQLAlchemy URL of a results database given as an output folder, a SQLite file or a URL, and
    the folder beside it (where ``cba_result.json`` and ``study.yaml`` may be); None for a server."""
    from coordstudio.simulation import db as simdb

    text = str(source)
    if "://" in text:
        path = simdb.sqlite_path(text)
        return text, (path.parent if path is not None else None)
    path = Path(text)
    if path.is_dir():
        path = path / RESULTS_DB
    if not path.exists():
        raise CbaError(f"open_results {text}: no results database there (expected {path})")
    return f"sqlite:///{path.resolve()}", path.resolve().parent


def _same_spec(spec_json: Any, spec: Any) -> bool:
    """True when a run's stored scenario, read with today's schema, equals ``spec``."""
    from pydantic import ValidationError

    from coordstudio.simulation.scenario import ScenarioSpec

    if not isinstance(spec_json, str) or not spec_json:
        return False
    try:
        return bool(ScenarioSpec.model_validate_json(spec_json) == spec)
    except ValidationError:
        return False


def _runs_of(db_url: str, study: Study | None) -> dict[tuple[str, str], dict[str, Any]]:
    """(scheme, day) -> the run row whose results count, refusing incomplete ones.

    With a study: its runs (``cba.stored_runs.completed_runs`` refuses another study's database);
    a study with representative days has one run per scheme and day, told apart by the day's scenario
    (``simulation.scenario.representative_days.spec_for_day``), the latest of each pair counting.
    Without a study: the latest run of each scheme, with the day its KPI record names."""
    from coordstudio.cba.stored_runs import completed_runs, kpis_of_run, require_complete
    from coordstudio.simulation import db as simdb
    from coordstudio.simulation.errors import ResultsDatabaseError

    label = simdb.db_label(db_url)
    if study is None:
        runs = simdb.read_runs(db_url)
        if not runs:
            raise ResultsDatabaseError(f"{label}: holds no simulation run")
        latest = {str(r["scheme"]): r for r in runs}
        require_complete(latest, label, db_url)
        return {(s, kpis_of_run(db_url, r, None, label).day): r for s, r in latest.items()}
    latest, label = completed_runs(study, db_url)
    days = representative_days_of(study)
    if not days:
        return {(s, kpis_of_run(db_url, r, None, label).day): r for s, r in latest.items()}
    from coordstudio.cba.fingerprint import study_fingerprint
    from coordstudio.simulation.scenario.representative_days import spec_for_day

    mine = study_fingerprint(study).scenario
    specs = {d.day_id: spec_for_day(study.scenario, d) for d in days}
    by_day: dict[tuple[str, str], dict[str, Any]] = {}
    for r in simdb.read_runs(db_url):
        if r["fingerprint"] != mine:
            continue
        day = next((d for d, spec in specs.items() if _same_spec(r.get("spec_json"), spec)), None)
        if day is not None:
            by_day[(str(r["scheme"]), day)] = r  # read_runs orders by run_id: the latest wins
    require_complete({f"{s}/{d}": r for (s, d), r in by_day.items()}, label, db_url)
    return by_day


# ------------------------------------------------------------------------------------------ Results


class Results:
    """The results of one study run as pandas DataFrames; from ``run_study`` or ``open_results``.

    Every method returns a new DataFrame (change it freely). Frames per scheme carry ``scheme`` and
    ``day`` (the representative day, ``default`` for a study's one day) and, when read from the results
    database, the ``run_id`` they come from.
    """

    def __init__(
        self,
        db_url: str,
        *,
        study: Study | None = None,
        kpis: Sequence[SchemeKpis] | None = None,
        ict: dict[str, SchemeIctCost] | None = None,
        cba: CbaResult | None = None,
        study_result: StudyResult | None = None,
        keep_alive: Any = None,
    ) -> None:
        self.db_url = db_url
        """SQLAlchemy URL of the results database the simulation tables are read from."""
        self.study = study
        """The study the results belong to (None: opened without one; CBA frames from cba_result.json)."""
        self.study_result = study_result
        """The ``cba.study.StudyResult`` of a run made by ``run_study`` (None when reopened)."""
        self._kpis = list(kpis) if kpis is not None else None
        self._ict = ict
        self._cba = cba
        self._keep_alive = keep_alive  # the temporary folder of a run without ``out``
        self._cache: dict[str, pd.DataFrame] = {}
        self._run_rows: dict[tuple[str, str], dict[str, Any]] | None = None

    def __repr__(self) -> str:
        from coordstudio.simulation import db as simdb

        return f"<coordstudio Results {simdb.db_label(self.db_url)}: schemes {', '.join(self.schemes)}>"

    # ---------------------------------------------------------------------------------- plumbing

    @property
    def schemes(self) -> list[str]:
        """The simulated schemes, in the order of the KPIs."""
        return list(dict.fromkeys(k.scheme for k in self._kpi_records()))

    def _runs(self) -> dict[tuple[str, str], dict[str, Any]]:
        if self._run_rows is None:
            runs = _runs_of(self.db_url, self.study)
            if self._kpis is not None:  # a run of some schemes: only those (an --out may hold others)
                wanted = {(k.scheme, k.day) for k in self._kpis}
                runs = {key: r for key, r in runs.items() if key in wanted}
            self._run_rows = runs
        return self._run_rows

    def _kpi_records(self) -> list[SchemeKpis]:
        if self._kpis is None:
            from coordstudio.cba.stored_runs import kpis_of_run
            from coordstudio.simulation import db as simdb

            label = simdb.db_label(self.db_url)
            self._kpis = [kpis_of_run(self.db_url, r, day, label) for (_, day), r in self._runs().items()]
        return self._kpis

    def _params(self) -> Any:
        """The CBA parameters the results were appraised with (the day weights of a multi-day study)."""
        if self.study is None:
            raise CbaError("this result was opened without its study: give open_results(..., study=...)")
        params = self.study.cba
        days = representative_days_of(self.study)
        if days:
            from coordstudio.simulation.scenario.representative_days import day_weights

            params = params.model_copy(update={"day_weights_days_per_year": day_weights(days)})
        return params

    def _ict_costs(self) -> dict[str, SchemeIctCost]:
        if self._ict is None:
            if self.study is None:
                raise CbaError(
                    "ict_costs: the ICT cost lines are computed from the study's SGAM model; this result was "
                    "opened without it: give open_results(..., study=STUDY)"
                )
            from coordstudio.sgam.matching import ict_costs
            from coordstudio.simulation.scenario import endpoint_counts

            s = self.study
            self._ict = ict_costs(
                s.sgam, endpoint_counts(s.scenario), s.cba.horizon_years, s.cba.discount_rate
            )
        return self._ict

    def cba_result(self) -> CbaResult:
        """The ``cba.analysis.CbaResult`` (computed from the study, or read from ``cba_result.json``
        beside a database opened without its study)."""
        if self._cba is None:
            if self.study is not None:
                from coordstudio.cba.analysis import run_cba
                from coordstudio.cba.stress_coverage import with_stress_coverage
                from coordstudio.cba.study_days import study_days

                result = run_cba(self._params(), self._kpi_records(), self._ict_costs())
                # as run and cba record it: whether the days sample the year's most loaded evenings
                self._cba = with_stress_coverage(result, self.study, study_days(self.study))
            else:
                self._cba = _read_cba_json(self.db_url)
        return self._cba

    def reappraise(self, study: Study) -> Results:
        """The ICT costs and CBA of an edited ``study`` on these stored simulation results.

        Valid when only the SGAM/ICT model or the CBA parameters changed (the simulation reads the
        scenario alone); a study whose scenario differs is refused (``ResultsDatabaseError``, naming the
        sections that differ)."""
        other = Results(self.db_url, study=study, keep_alive=self._keep_alive)
        other._runs()  # refuses now a database of another scenario
        return other

    def _read(self, table: str, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """The rows of one simulation table of the counted runs, with ``scheme`` and ``day`` first."""
        from coordstudio.simulation import db as simdb

        key = f"table:{table}"
        if key not in self._cache:
            runs = self._runs()
            run_keys = pd.DataFrame(
                [(s, d, int(r["run_id"])) for (s, d), r in runs.items()], columns=_RUN_KEYS
            )
            engine = simdb.open_read_only(self.db_url)
            try:
                with engine.connect() as conn:  # SQL rows and columnar chunks alike (issue 21)
                    df = simdb.read_table(conn, table, run_keys["run_id"].tolist())
            finally:
                engine.dispose()
            df = run_keys.merge(df, on="run_id", how="inner")
            self._cache[key] = df
        df = self._cache[key]
        return df[list(columns)].copy() if columns is not None else df.copy()

    def _granularity_min(self) -> pd.DataFrame:
        """Per run, the market time unit (``timing.granularity_min`` of its stored scenario), min."""
        rows = []
        for (_, _), r in self._runs().items():
            spec = json.loads(str(r.get("spec_json") or "{}"))
            rows.append((int(r["run_id"]), float(spec.get("timing", {}).get("granularity_min", "nan"))))
        return pd.DataFrame(rows, columns=["run_id", "granularity_min"])

    def _with_step_time(self, df: pd.DataFrame) -> pd.DataFrame:
        """Add ``time_min`` (the clearing's start) and ``step_time_min`` (start of the market time unit
        ``step``: clearing start + step x granularity)."""
        times = self._read("clearings", ["run_id", "clearing", "time_min"])
        df = df.merge(times, on=["run_id", "clearing"], how="left")
        if "step" in df.columns:
            df = df.merge(self._granularity_min(), on="run_id", how="left")
            df["step_time_min"] = df["time_min"] + df["step"] * df.pop("granularity_min")
        return df

    # ---------------------------------------------------------------------------------- frames

    def kpis(self) -> pd.DataFrame:
        """One row per scheme and day: the scalar KPIs of the simulation (the columns of ``kpis.csv``:
        ``activation_cost_eur``, ``afrr_cost_eur``, ``congestion_hours_h``, ``losses_mwh``, ...)."""
        from coordstudio.simulation.kpis import SchemeKpis

        scalar = [n for n, f in SchemeKpis.model_fields.items() if f.annotation in (str, float, int)]
        return pd.DataFrame([k.model_dump(include=set(scalar)) for k in self._kpi_records()], columns=scalar)

    def clearings(self) -> pd.DataFrame:
        """One row per scheme and market clearing: ``time_min`` (start of its first step), ``status``,
        ``objective_eur``, ``activation_cost_eur`` and ``resource_cost_eur`` (as bid), ``payment_eur`` (to
        sellers at nodal prices), ``buyer_payment_eur``, ``slack_energy_mwh``, ``n_bids``,
        ``n_activated``, ``build_time_s``, ``solve_time_s``."""
        cols = [c.name for c in _table("clearings").c if c.name != "id"]
        return self._read("clearings", ["scheme", "day", *cols])

    def timeseries(self) -> pd.DataFrame:
        """One row per scheme and physical step (``time_min``): the balancing the market left to aFRR
        (``need_mw``, ``afrr_mw``, ``uncovered_mw``), the extreme measured voltages over the nodes
        (``vm_min_pu``, ``vm_max_pu``), the total measured injection of the nodes (``p_total_mw``) and the
        sum of the aggregators' set-point changes (``setpoint_delta_mw``)."""
        bal = self._read("balancing", ["scheme", "day", "run_id", "time_min", "need_mw", "afrr_mw",
                                       "uncovered_mw"])
        meas = self._read("measurements", ["run_id", "time_min", "vm_pu", "p_mw"])
        grid = meas.groupby(["run_id", "time_min"], as_index=False).agg(
            vm_min_pu=("vm_pu", "min"), vm_max_pu=("vm_pu", "max"), p_total_mw=("p_mw", "sum")
        )
        sp = self._read("setpoints", ["run_id", "time_min", "delta_mw"])
        sp = sp.groupby(["run_id", "time_min"], as_index=False).agg(setpoint_delta_mw=("delta_mw", "sum"))
        keys = pd.concat([bal[["run_id", "time_min"]], grid[["run_id", "time_min"]]]).drop_duplicates()
        runs = self._read("clearings", ["scheme", "day", "run_id"]).drop_duplicates()
        df = keys.merge(runs, on="run_id", how="left")
        df = df.merge(bal.drop(columns=["scheme", "day"]), on=["run_id", "time_min"], how="left")
        df = df.merge(grid, on=["run_id", "time_min"], how="left")
        df = df.merge(sp, on=["run_id", "time_min"], how="left")
        df["setpoint_delta_mw"] = df["setpoint_delta_mw"].astype(float).fillna(0.0)
        df = df.sort_values(["run_id", "time_min"], kind="stable").reset_index(drop=True)
        return df[["scheme", "day", "run_id", "time_min", "need_mw", "afrr_mw", "uncovered_mw", "vm_min_pu",
                   "vm_max_pu", "p_total_mw", "setpoint_delta_mw"]]

    def measurements(self) -> pd.DataFrame:
        """One row per scheme, physical step and node: true and measured ``p_mw`` and ``vm_pu``."""
        return self._read("measurements", ["scheme", "day", "run_id", "time_min", "node", "p_mw",
                                           "p_measured_mw", "vm_pu", "vm_measured_pu"])

    def bids(self) -> pd.DataFrame:
        """One row per bid of each clearing: ``owner``, ``node``, ``direction`` (up/down), ``model``,
        ``quantity_mw`` (first step), ``price_eur_per_mwh``, ``energy_mwh`` (whole horizon), and the
        clearing's ``time_min``."""
        cols = ["scheme", "day", "run_id", "clearing", "bid_id", "owner", "node", "direction", "model",
                "quantity_mw", "price_eur_per_mwh", "energy_mwh"]
        return self._with_step_time(self._read("bids", cols))

    def activations(self) -> pd.DataFrame:
        """One row per activated bid and market time unit: ``step`` (0 = the clearing's first unit),
        ``firm`` (True: executed; False: look-ahead, re-cleared later), ``activation_mw``,
        ``clearing_price_eur_per_mwh`` (nodal price paid), ``bid_price_eur_per_mwh``, the clearing's
        ``time_min`` and the unit's start ``step_time_min``."""
        cols = ["scheme", "day", "run_id", "clearing", "step", "firm", "bid_id", "activation_mw",
                "clearing_price_eur_per_mwh", "bid_price_eur_per_mwh"]
        df = self._read("activations", cols)
        df["firm"] = df["firm"].astype(bool)
        return self._with_step_time(df)

    def prices(self) -> pd.DataFrame:
        """One row per node and market time unit of each clearing: ``price_eur_per_mwh`` and its components
        (``energy_``, ``congestion_``, ``losses_``, ``current_``, ``voltage_eur_per_mwh``, summing to the
        price; missing where not decomposed), with ``time_min`` and ``step_time_min`` as in
        ``activations``."""
        from coordstudio.simulation.db import PRICE_COMPONENT_COLUMNS

        cols = ["scheme", "day", "run_id", "clearing", "step", "node", "price_eur_per_mwh",
                *PRICE_COMPONENT_COLUMNS]
        return self._with_step_time(self._read("prices", cols))

    def ict_costs(self) -> pd.DataFrame:
        """One row per ICT cost line as the CBA counts it (of the stated system, ``cba.system_scale``):
        ``scheme``, ``link_id``, ``technology_id``, ``actor_id``, ``actor_role``, ``layer``,
        ``item_kind``, ``endpoints``, ``capex_eur``, ``opex_eur_per_year``, ``lifetime_years``,
        ``present_value_eur``, ``description``."""
        from coordstudio.cba.system_scale import scale_ict
        from coordstudio.sgam.costs import IctCostLine

        ict = self._ict_costs()
        if self.study is not None:
            ict = scale_ict(ict, self._params().system)
        cols = [n for n, f in IctCostLine.model_fields.items() if f.annotation in (str, float, int)]
        rows = [line.model_dump(include=set(cols)) for cost in ict.values() for line in cost.lines]
        return pd.DataFrame(rows, columns=cols)

    def appraisal(self) -> pd.DataFrame:
        """One row per scheme: the CBA's key figures against the reference scheme: ``rank`` (0: not
        assessed), ``assessed``, ``npv_eur``, ``pv_benefits_eur``, ``pv_costs_eur``, ``bcr``,
        ``irr_per_year``, ``discounted_payback_years``, ICT cost figures and
        ``ancillary_cost_eur_per_year``."""
        rows = []
        for s in self.cba_result().schemes:
            d = s.model_dump(exclude={"annual_benefits_eur_per_year", "pv_benefits_by_category_eur",
                                      "cash_flows", "ict_pv_cost_by_actor_eur", "unserved_events"})
            d["irr_per_year"] = d.pop("irr")
            d["ict_cost_share_fraction"] = d.pop("ict_cost_share")
            rows.append(d)
        first = ["scheme", "rank", "assessed", "npv_eur", "pv_benefits_eur", "pv_costs_eur", "bcr",
                 "irr_per_year"]
        if rows:
            rest = [c for c in rows[0] if c not in first]
            return pd.DataFrame(rows)[first + rest]
        return pd.DataFrame(rows)

    def cashflows(self) -> pd.DataFrame:
        """One row per scheme and year ``t`` (0 = investment year): ``benefits_eur``, ``capex_eur``,
        ``opex_eur``, ``residual_value_eur``, ``net_eur``, ``discount_factor``, ``discounted_net_eur``,
        ``cumulative_discounted_eur``."""
        schemes = self.cba_result().schemes
        rows = [{"scheme": s.scheme, **cf.model_dump()} for s in schemes for cf in s.cash_flows]
        return pd.DataFrame(rows)

    def sensitivity(self) -> pd.DataFrame:
        """The tornado: one row per input and scheme, the NPV with the input at its low and high value
        (``npv_low_eur``, ``npv_high_eur``; all else at base) and ``swing_eur`` = |high - low|."""
        rows = [{**t.model_dump(), "swing_eur": t.swing_eur} for t in self.cba_result().tornado]
        return pd.DataFrame(rows)

    def switching_values(self) -> pd.DataFrame:
        """One row per input and conclusion tested: the input value at which a scheme's NPV changes sign
        (``kind`` npv_sign) or first place changes (``ranking``); missing when it never does."""
        return pd.DataFrame([s.model_dump() for s in self.cba_result().switching_values])

    def monte_carlo_summary(self) -> pd.DataFrame:
        """One row per scheme: mean, standard deviation, 5/50/95th percentiles of the NPV, EUR, and the
        probabilities of a negative NPV and of ranking first (fractions)."""
        return pd.DataFrame(
            [m.model_dump(exclude={"histogram_counts"}) for m in self.cba_result().monte_carlo.schemes]
        )

    def monte_carlo(self) -> pd.DataFrame:
        """The Monte Carlo samples, one row per sample and scheme: ``sample``, ``scheme``, ``npv_eur`` and
        the value each uncertain input took in that sample (a column per input, in its own unit).

        The samples are drawn again from the study's seed with the CBA's own functions
        (``cba.sensitivity.monte_carlo``), so they are the very samples behind
        ``monte_carlo_summary`` (their mean is its ``mean_npv_eur``); this needs the study."""
        import numpy as np

        npv, draws, schemes = self._npv_samples()
        n = npv.shape[0]
        df = pd.DataFrame({
            "sample": np.repeat(np.arange(n), len(schemes)),
            "scheme": np.tile(np.array(schemes, dtype=object), n),
            "npv_eur": npv.reshape(-1),
        })
        for name, values in draws.items():
            df[name] = np.repeat(values, len(schemes))
        return df

    def _npv_samples(self) -> tuple[np.ndarray, dict[str, np.ndarray], list[str]]:
        """``(n, S)`` NPV samples, the input draws and the schemes, as ``cba.analysis.run_cba`` draws
        them (same quantities, schedule, seed and count)."""
        from coordstudio.cba.tables import monte_carlo_draws

        return monte_carlo_draws(self._params(), self._kpi_records(), self._ict_costs())


def _table(name: str) -> Any:
    from coordstudio.simulation import db as simdb

    return simdb.TABLES[name]


def _read_cba_json(db_url: str) -> CbaResult:
    """The ``cba_result.json`` beside a SQLite results database."""
    from coordstudio.cba.analysis import CbaResult
    from coordstudio.simulation import db as simdb

    path = simdb.sqlite_path(db_url)
    where = path.parent / CBA_RESULT if path is not None else None
    if where is None or not where.exists():
        raise CbaError(
            f"{simdb.db_label(db_url)}: no {CBA_RESULT} beside it and no study given; the CBA frames need "
            "one of them: open_results(..., study=STUDY)"
        )
    try:
        return CbaResult.model_validate_json(where.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise CbaError(f"{where}: not a CBA result of this version: {str(exc).splitlines()[0]}") from None


# ------------------------------------------------------------------------------------------ entry points


def run_study(
    study: Study | str | Path,
    out: str | Path | None = None,
    *,
    schemes: Sequence[str] | None = None,
    db_url: str | None = None,
    progress: Progress | None = None,
) -> Results:
    """Run the whole chain (ICT cost, simulation of each scheme, CBA) on a study, as ``coordstudio run``
    does (``cba.study.run_study``), and return its ``Results``.

    ``out``: write every output there (report, charts, ``results.sqlite``, ...) and a copy of the study
    (``study.yaml``), so ``open_results`` on the folder finds everything later. Without it, nothing
    is written but a results database in a temporary folder, removed with the ``Results``.
    ``schemes``: simulate only these (the reference scheme must be among them for the CBA).
    ``db_url``: a results database other than the SQLite file (e.g. PostgreSQL).
    """
    from coordstudio.cba.study_file import save_study

    if not isinstance(study, Study):
        study = load_study(study)
    keep_alive = None
    if out is None and db_url is None:
        keep_alive = tempfile.TemporaryDirectory(prefix="coordstudio-", ignore_cleanup_errors=True)
        db_url = f"sqlite:///{(Path(keep_alive.name) / RESULTS_DB).resolve()}"
    result = _run_study_chain(study, progress, out_dir=out, db_url=db_url, schemes=schemes)
    if out is not None:
        save_study(study, Path(out) / STUDY_COPY)
        db_url = db_url or f"sqlite:///{(Path(out) / RESULTS_DB).resolve()}"
    assert db_url is not None
    return Results(db_url, study=study, kpis=result.kpis, ict=result.ict, cba=result.cba, study_result=result,
                   keep_alive=keep_alive)


def open_results(source: str | Path, study: Study | str | Path | None = None) -> Results:
    """The results of an earlier run, read from its results database: an output folder (``run --out``),
    a ``results.sqlite`` file or a database URL (``postgresql+psycopg://...``). Nothing is written.

    ``study``: the study (object or file) the run was made of; default: the ``study.yaml`` beside the
    database if there is one (``run_study`` saves it). With a study the database must hold its runs
    (another study's is refused, naming what differs) and the ICT costs, CBA and Monte Carlo samples are
    computed from it; without one the CBA frames come from the ``cba_result.json`` beside the database
    and ``Results.ict_costs`` and ``Results.monte_carlo`` are refused.
    """
    url, folder = _db_url(source)
    if study is None and folder is not None and (folder / STUDY_COPY).exists():
        study = folder / STUDY_COPY
    if study is not None and not isinstance(study, Study):
        study = load_study(study)
    results = Results(url, study=study)
    results._runs()  # a missing, damaged, foreign or incomplete database is refused now, not later
    return results
