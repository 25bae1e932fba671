"""The report's tables as tidy pandas DataFrames, written as CSV and Parquet under ``OUT/tables/``.

Tidy: one row per observation, one column per variable (Wickham 2014). Two shapes, chosen per table:

* **long** (``kpis``, ``scheme_results``, ``benefits``, ``cash_flows``, ``monte_carlo_summary``,
  ``time_series``): the keys (``scheme``, ``day``, ``year``, ``time_min``, ...), then ``quantity``,
  ``value`` and ``unit``: one figure per row, whatever its unit, so a notebook filters and pivots
  (``df.pivot_table(index="scheme", columns="quantity", values="value")``);
* **wide** (``ict_costs``, ``tornado``, ``switching_values``, ``monte_carlo_histogram``,
  ``monte_carlo_samples``, ``actors``, ``liquidity``, ``node_prices``): one row per item (an ICT cost
  line, a tornado bar, a sample, ...) with unit-suffixed column names (``capex_eur``,
  ``opex_eur_per_year``), as pandapower's ``res_*`` tables.

The figures are those of the CBA result and of the inputs the report shows (same numbers, no
re-computation), except the Monte Carlo samples: the result keeps only their summary, so
:func:`monte_carlo_samples` draws them again with the study's seed (``cba.sensitivity.monte_carlo`` is
deterministic in the seed), which reproduces the summary in ``cba_result.json`` exactly.

The units follow the field-name suffixes of the models (``_eur`` EUR, ``_eur_per_year`` EUR/a, ``_mwh``
MWh, ``_h`` h, ...): :func:`unit_of`.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from coordstudio.cba.fileio import atomic_write_bytes, atomic_write_text

if TYPE_CHECKING:
    from coordstudio.cba.analysis import CbaResult
    from coordstudio.cba.ictcheck_data import IctCheckResult
    from coordstudio.cba.parameters import CbaParameters
    from coordstudio.cba.price_components import PriceComponentTable
    from coordstudio.cba.provenance import Provenance
    from coordstudio.cba.study_file import Study
    from coordstudio.sgam.costs import SchemeIctCost
    from coordstudio.simulation.kpis import SchemeKpis

__all__ = [
    "PARQUET_ONLY",
    "TABLES_DIR",
    "monte_carlo_samples",
    "study_run_ids",
    "tidy_tables",
    "time_series_tables",
    "unit_of",
    "write_tables",
]

TABLES_DIR = "tables"
"""Sub-folder of the output folder that holds the tidy tables."""

_SUFFIX_UNITS: tuple[tuple[str, str], ...] = (
    ("_eur_per_mwh", "EUR/MWh"),
    ("_eur_per_year", "EUR/a"),
    ("_per_day", "1/d"),
    ("_eur", "EUR"),
    ("_mwh", "MWh"),
    ("_mw", "MW"),
    ("_pu", "p.u."),
    ("_h", "h"),
    ("_min", "min"),
    ("_years", "a"),
    ("_s", "s"),
)

LONG = ["quantity", "value", "unit"]

PARQUET_ONLY = frozenset({"node_prices"})
"""Tables written as Parquet only: the node prices of every clearing and step (about 100,000 rows on the
default study, a 10 MB CSV taking seconds to write) are not a table of the report, which shows their
day means (the "Price components" sheet)."""


def unit_of(name: str, annotation: Any = float) -> str:
    """The unit a field name's suffix states (``congestion_hours_h`` -> ``h``); ``count`` for integers,
    ``-`` (dimensionless) otherwise."""
    for suffix, unit in _SUFFIX_UNITS:
        if name.endswith(suffix):
            return unit
    return "count" if annotation is int else "-"


# ------------------------------------------------------------------------------------------- tables


def kpis_table(kpis: Sequence[SchemeKpis]) -> pd.DataFrame:
    """``scheme, day, quantity, value, unit``: every scalar KPI of each scheme and simulated day, and
    each per-area count as ``name[area]``."""
    from coordstudio.simulation.kpis import SchemeKpis

    fields = SchemeKpis.model_fields
    rows: list[tuple[str, str, str, float, str]] = []
    for k in kpis:
        for name, info in fields.items():
            if name in ("scheme", "day"):
                continue
            value = getattr(k, name)
            if isinstance(value, bool):
                rows.append((k.scheme, k.day, name, float(value), "bool"))
            elif isinstance(value, int | float):
                rows.append((k.scheme, k.day, name, float(value), unit_of(name, info.annotation)))
            elif isinstance(value, Mapping):
                rows += [(k.scheme, k.day, f"{name}[{key}]", float(v), "count") for key, v in value.items()
                         if isinstance(v, int | float)]
    return pd.DataFrame(rows, columns=["scheme", "day", *LONG])


_RESULT_UNITS = {
    "rank": "rank", "npv_eur": "EUR", "pv_benefits_eur": "EUR", "pv_costs_eur": "EUR", "bcr": "-",
    "irr": "1/a", "discounted_payback_years": "a", "ict_capex_eur": "EUR",
    "ict_opex_eur_per_year": "EUR/a", "ict_pv_cost_eur": "EUR", "ict_annualised_cost_eur_per_year": "EUR/a",
    "ancillary_cost_eur_per_year": "EUR/a", "ict_cost_share": "-", "assessed": "bool",
}


def scheme_results_table(result: CbaResult) -> pd.DataFrame:
    """``scheme, quantity, value, unit``: the Summary sheet's key figures (NaN where a figure does not
    exist, e.g. an IRR of a cash flow without sign change)."""
    rows = []
    for s in result.schemes:
        for name, unit in _RESULT_UNITS.items():
            value = getattr(s, name)
            rows.append((s.scheme, name, float("nan") if value is None else float(value), unit))
    return pd.DataFrame(rows, columns=["scheme", *LONG])


def benefits_table(result: CbaResult) -> pd.DataFrame:
    """``scheme, category, quantity, value, unit``: yearly benefit and its present value per category."""
    rows = []
    for s in result.schemes:
        for cat, v in s.annual_benefits_eur_per_year.items():
            rows.append((s.scheme, cat, "annual_benefit", float(v), "EUR/a"))
        for cat, v in s.pv_benefits_by_category_eur.items():
            rows.append((s.scheme, cat, "pv_benefit", float(v), "EUR"))
    return pd.DataFrame(rows, columns=["scheme", "category", *LONG])


def cash_flows_table(result: CbaResult) -> pd.DataFrame:
    """``scheme, year, quantity, value, unit``: the yearly cash flows of the CF sheets."""
    rows = []
    for s in result.schemes:
        for cf in s.cash_flows:
            for name, value in cf.model_dump().items():
                if name != "year":
                    rows.append((s.scheme, cf.year, name.removesuffix("_eur"), float(value),
                                 "-" if name == "discount_factor" else "EUR"))
    return pd.DataFrame(rows, columns=["scheme", "year", *LONG])


def ict_costs_table(ict: Mapping[str, SchemeIctCost]) -> pd.DataFrame:
    """One row per ICT cost line (the ICT costs sheet), unit-suffixed columns."""
    from coordstudio.cba.benefits import order_schemes

    rows = [line.model_dump() for scheme in order_schemes(list(ict)) for line in ict[scheme].lines]
    if rows:
        return pd.DataFrame(rows)
    from coordstudio.sgam.costs import IctCostLine

    return pd.DataFrame(columns=list(IctCostLine.model_fields))


def _models_table(items: Sequence[Any], model: Any) -> pd.DataFrame:
    """One row per pydantic item, one column per field (list fields joined with ``;``, as the ICT
    check's own CSVs write them, so every cell is a scalar)."""
    rows = [{k: ";".join(map(str, v)) if isinstance(v, list) else v for k, v in i.model_dump().items()}
            for i in items]
    return pd.DataFrame(rows, columns=list(model.model_fields))


def monte_carlo_summary_table(result: CbaResult) -> pd.DataFrame:
    """``scheme, quantity, value, unit``: mean, spread, percentiles and probabilities of each NPV."""
    rows = []
    for s in result.monte_carlo.schemes:
        for name, value in s.model_dump().items():
            if name in ("scheme", "histogram_counts"):
                continue
            unit = "EUR" if name.endswith("_eur") else "-"
            rows.append((s.scheme, name.removesuffix("_eur"), float(value), unit))
    return pd.DataFrame(rows, columns=["scheme", *LONG])


def monte_carlo_histogram_table(result: CbaResult) -> pd.DataFrame:
    """One row per scheme and NPV bin: ``scheme, bin, npv_low_eur, npv_high_eur, samples``."""
    edges = result.monte_carlo.bin_edges_eur
    rows = [
        (s.scheme, i, edges[i], edges[i + 1], count)
        for s in result.monte_carlo.schemes for i, count in enumerate(s.histogram_counts)
    ]
    return pd.DataFrame(rows, columns=["scheme", "bin", "npv_low_eur", "npv_high_eur", "samples"])


def monte_carlo_draws(
    params: CbaParameters, kpis: Sequence[SchemeKpis], ict: Mapping[str, SchemeIctCost],
    n: int | None = None, seed: int | None = None,
) -> tuple[np.ndarray, dict[str, np.ndarray], list[str]]:
    """The ``(n, S)`` NPV samples, the input draws and the schemes, drawn again exactly as
    :func:`cba.analysis.run_cba` drew them (same quantities, scaling to the stated system, schedule,
    sample count and seed; ``n``/``seed`` default to the study's). ``ict``: the simulated grid's ICT
    costs, as ``run_cba`` takes them. One place for the report's tables and the notebook API."""
    from coordstudio.cba.benefits import annual_quantities
    from coordstudio.cba.cashflows import NpvModel, ict_schedule
    from coordstudio.cba.sensitivity import monte_carlo, sample_inputs
    from coordstudio.cba.system_scale import is_identity, scale_ict, scale_quantities

    q = annual_quantities(params, kpis)
    if not is_identity(params.system):
        q, ict = scale_quantities(q, params.system.scale_factor), scale_ict(ict, params.system)
    model = NpvModel(params, q, ict_schedule(params, ict, q.schemes))
    _, npv = monte_carlo(model, params, n=n, seed=seed, quantities=q)
    return npv, sample_inputs(params, n, seed), list(model.schemes)


def monte_carlo_samples(
    params: CbaParameters, kpis: Sequence[SchemeKpis], ict: Mapping[str, SchemeIctCost], result: CbaResult
) -> dict[str, pd.DataFrame]:
    """The Monte Carlo draws: ``monte_carlo_samples`` (``sample, scheme, npv_eur``, one row per sample
    and scheme) and ``monte_carlo_inputs`` (``sample`` and one column per sampled input, named after
    the input, whose name carries its unit: ``co2_price_eur_per_t``, ``discount_rate``, ...).

    Drawn again exactly as :func:`cba.analysis.run_cba` drew ``result``'s (:func:`monte_carlo_draws`
    with its sample count and seed), so the summary of these samples is ``result.monte_carlo`` (checked
    by the tests). ``ict``: the simulated grid's ICT costs, as ``run_cba`` takes them."""
    n, seed = result.monte_carlo.samples, result.monte_carlo.seed
    npv, draws, schemes = monte_carlo_draws(params, kpis, ict, n, seed)
    frame = pd.DataFrame(npv, columns=schemes)
    frame.insert(0, "sample", range(n))
    long = frame.melt(id_vars="sample", var_name="scheme", value_name="npv_eur")
    inputs = pd.DataFrame({"sample": range(n), **{name: draws[name] for name in draws}})
    return {"monte_carlo_samples": long, "monte_carlo_inputs": inputs}


def tidy_tables(
    params: CbaParameters,
    kpis: Sequence[SchemeKpis],
    ict: Mapping[str, SchemeIctCost],
    result: CbaResult,
    extra: Mapping[str, pd.DataFrame] | None = None,
    ict_check: IctCheckResult | None = None,
    price_components: PriceComponentTable | None = None,
) -> dict[str, pd.DataFrame]:
    """Every table of the report as a tidy DataFrame, by file stem (module docstring).

    ``ict``: the ICT lines the report shows (the stated system's); ``extra``: the Monte Carlo samples
    (:func:`monte_carlo_samples`) and time series (:func:`time_series_tables`), when given."""
    from coordstudio.cba.allocation import ActorResult
    from coordstudio.cba.analysis import LiquidityRow
    from coordstudio.cba.sensitivity import SwitchingValue, TornadoEntry

    tables = {
        "kpis": kpis_table(kpis),
        "scheme_results": scheme_results_table(result),
        "benefits": benefits_table(result),
        "cash_flows": cash_flows_table(result),
        "ict_costs": ict_costs_table(ict),
        "tornado": _models_table(result.tornado, TornadoEntry),
        "switching_values": _models_table(result.switching_values, SwitchingValue),
        "monte_carlo_summary": monte_carlo_summary_table(result),
        "monte_carlo_histogram": monte_carlo_histogram_table(result),
        "actors": _models_table(result.actors, ActorResult),
        "liquidity": _models_table(result.liquidity, LiquidityRow),
    }
    if price_components is not None:  # the "Price components" sheet: day means per scheme and node
        from coordstudio.cba.price_components import PriceComponentRow

        tables["price_components"] = _models_table(price_components.rows, PriceComponentRow)
    if ict_check is not None:  # the "ICT check" sheet's tables (also ict_check*.csv, in their layout)
        from coordstudio.cba.ictcheck_data import EventCheckRow, LinkLoadRow, MessageTypeRow, SchemeIctDelta

        tables["ict_check_events"] = _models_table(ict_check.events, EventCheckRow)
        tables["ict_check_schemes"] = _models_table(ict_check.schemes, SchemeIctDelta)
        tables["ict_check_links"] = _models_table(ict_check.links, LinkLoadRow)
        tables["ict_check_message_types"] = _models_table(ict_check.message_types, MessageTypeRow)
    tables.update(extra or {})
    return tables


# ----------------------------------------------------------------------------------- time series


_CLEARING_COLUMNS = ("objective_eur", "activation_cost_eur", "resource_cost_eur", "payment_eur",
                     "buyer_payment_eur", "slack_energy_mwh", "n_bids", "n_activated", "solve_time_s")
_BALANCING_COLUMNS = ("need_mw", "afrr_mw", "uncovered_mw")


def study_run_ids(study: Study, db_url: str, kpis: Sequence[SchemeKpis]) -> dict[tuple[str, str], int]:
    """``(scheme, day) -> run_id`` of the runs behind ``kpis`` in the results database.

    A study's runs carry its scenario fingerprint; a study with representative days simulates the days
    one after the other (each day every scheme), so a scheme's last ``D`` runs are its ``D`` days in the
    order of ``kpis``. Runs not completed are left out (their series are partial)."""
    from coordstudio.cba.fingerprint import study_fingerprint
    from coordstudio.simulation import db as simdb

    scenario = study_fingerprint(study).scenario
    ours: dict[str, list[dict[str, Any]]] = {}
    for r in simdb.read_runs(db_url):  # ordered by run_id
        if r["fingerprint"] == scenario:
            ours.setdefault(str(r["scheme"]), []).append(r)
    days: dict[str, list[str]] = {}
    for k in kpis:
        days.setdefault(k.scheme, []).append(k.day)
    out: dict[tuple[str, str], int] = {}
    for scheme, wanted in days.items():
        runs = ours.get(scheme, [])[-len(wanted):]
        if len(runs) != len(wanted):
            continue
        for day, r in zip(wanted, runs, strict=True):
            if r["status"] == "completed":
                out[(scheme, day)] = int(r["run_id"])
    return out


def time_series_tables(runs: Mapping[tuple[str, str], int], db_url: str) -> dict[str, pd.DataFrame]:
    """The time series of the runs ``(scheme, day) -> run_id`` in the results database ``db_url``:

    * ``time_series`` (long): ``scheme, day, time_min, quantity, value, unit``; per market clearing its
      cost, payments, slack and bid counts, and per balancing step the residual need and aFRR;
    * ``node_prices`` (wide): ``scheme, day, clearing, node, step, price_eur_per_mwh`` and the price
      components where the database holds them.
    """
    from coordstudio.simulation import db as simdb

    engine = simdb.open_read_only(db_url)
    series: list[pd.DataFrame] = []
    prices: list[pd.DataFrame] = []
    try:
        with engine.connect() as conn:
            components = simdb.has_price_components(conn)
            price_cols = ["price_eur_per_mwh", *(simdb.PRICE_COMPONENT_COLUMNS if components else ())]
            for (scheme, day), run_id in runs.items():
                rid = int(run_id)
                clear = pd.read_sql(
                    f"SELECT time_min, {', '.join(_CLEARING_COLUMNS)} FROM clearings WHERE run_id = {rid}",
                    conn,
                )
                bal = pd.read_sql(
                    f"SELECT time_min, {', '.join(_BALANCING_COLUMNS)} FROM balancing WHERE run_id = {rid}",
                    conn,
                )
                for frame in (clear, bal):
                    long = frame.melt(id_vars="time_min", var_name="quantity", value_name="value")
                    long.insert(0, "day", day)
                    long.insert(0, "scheme", scheme)
                    if not long.empty:  # a run without clearings adds nothing (and no dtype guess)
                        series.append(long)
                # SQL rows or columnar chunks (issue 21); sorted as the SQL ORDER BY did (code points)
                p = simdb.read_table(conn, "prices", [rid], ["clearing", "node", "step", *price_cols])
                p = p.drop(columns="run_id").sort_values(["clearing", "node", "step"], kind="stable",
                                                         ignore_index=True)
                p.insert(0, "day", day)
                p.insert(0, "scheme", scheme)
                if not p.empty:
                    prices.append(p)
    finally:
        engine.dispose()
    ts = pd.concat(series, ignore_index=True) if series else pd.DataFrame(
        {"scheme": [], "day": [], "time_min": [], "quantity": [], "value": []})
    ts = ts.dropna(subset=["value"]).reset_index(drop=True)
    ts["value"] = ts["value"].astype(float)
    ts["unit"] = [unit_of(q, int if q.startswith("n_") else float) for q in ts["quantity"]]
    ts = ts.sort_values(["scheme", "day", "quantity", "time_min"], kind="stable", ignore_index=True)
    node_prices = pd.concat(prices, ignore_index=True) if prices else pd.DataFrame(
        columns=["scheme", "day", "clearing", "node", "step", "price_eur_per_mwh"])
    return {"time_series": ts, "node_prices": node_prices}


# ------------------------------------------------------------------------------------------ writing


def _parquet_bytes(frame: pd.DataFrame, provenance: Provenance) -> bytes:
    """The frame as Parquet with the provenance in the file's key-value metadata (JSON under
    :data:`cba.provenance.PARQUET_KEY`, and in ``DataFrame.attrs``, which ``pandas.read_parquet``
    restores)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from coordstudio.cba.provenance import PARQUET_KEY

    data = frame.copy()
    data.attrs = {"provenance": provenance.model_dump()}
    table = pa.Table.from_pandas(data, preserve_index=False)
    meta = dict(table.schema.metadata or {})
    meta[PARQUET_KEY.encode()] = provenance.to_json().encode()
    table = table.replace_schema_metadata(meta)
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


def write_tables(
    tables: Mapping[str, pd.DataFrame], out_dir: Path, provenance: Provenance
) -> dict[str, Path]:
    """Each table as ``out_dir/<name>.csv`` (not those of :data:`PARQUET_ONLY`) and
    ``out_dir/<name>.parquet`` (keys ``table_<name>_csv`` and ``table_<name>_parquet``), and
    ``out_dir/provenance.json``."""
    from coordstudio.cba.provenance import PROVENANCE_FILE

    out_dir.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for name, frame in tables.items():
        if name not in PARQUET_ONLY:
            paths[f"table_{name}_csv"] = atomic_write_text(out_dir / f"{name}.csv", frame.to_csv(index=False))
        paths[f"table_{name}_parquet"] = atomic_write_bytes(
            out_dir / f"{name}.parquet", _parquet_bytes(frame, provenance)
        )
    paths["tables_provenance"] = atomic_write_text(out_dir / PROVENANCE_FILE, provenance.to_json() + "\n")
    return paths
