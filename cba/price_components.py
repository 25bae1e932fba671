"""Day means of the nodal price components per scheme and node, read from the results database.

Why: the report explains why the schemes' prices differ by showing what each price is made of
(energy at the reference bus, transmission congestion, distribution losses, current and voltage
limits: ``simulation.market.price_components``). The means are over every clearing's firm (first)
step, as the GUI's price charts show them; a scheme's row averages its nodes with equal weight.

A study simulated on several representative days (``profiles.representative_days``) has one run per
scheme and day; the means are then the days' means weighted as the CBA weights the days (``w_d``, the
days a year day ``d`` stands for: ``simulation.scenario.representative_days.day_weights``, the CBA's
``day_weights_days_per_year``), read from the same runs ``coordstudio cba --results`` reads
(:func:`cba.stored_runs.completed_day_runs`). The table names the days and weights it stands for.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

if TYPE_CHECKING:
    import pandas as pd

    from coordstudio.cba.study_file import Study
    from coordstudio.simulation.scenario.representative_days import RepresentativeDay

COMPONENTS = ("energy", "congestion", "losses", "current", "voltage")
"""Component names (``simulation.market.price_components.COMPONENTS``), in their order."""


VALUE_COLUMNS = ("price_eur_per_mwh", *(f"{c}_eur_per_mwh" for c in COMPONENTS))
"""The columns of the results database's ``prices`` table that :func:`day_means` averages."""

WEIGHT_COLUMN = "weight_days"
"""Optional column of :func:`day_means`'s input: the days a year the row's simulated day stands for."""


def day_means(prices: pd.DataFrame, by: str) -> pd.DataFrame:
    """Day means of the price and its components per scheme (``by="scheme"``) or per node (``"node"``).

    The one place these means are computed: the report's "Price components" sheet
    (:func:`read_price_components`) and the price-component figures (GUI and headless,
    :mod:`cba.figures_timeseries`) both call it. A node's mean is over its firm-step values
    (``mean_n = sum_t p_{n,t} / T_n``); a scheme's is the mean of its nodes' means with equal weight
    (``mean_s = sum_n mean_n / N``), so a node that cleared fewer times does not weigh less.

    With the columns ``day`` and :data:`WEIGHT_COLUMN` (several representative days), a node's mean is
    the weighted mean of its day means, ``mean_n = sum_d w_d mean_{n,d} / sum_d w_d`` with
    ``mean_{n,d} = sum_t p_{n,d,t} / T_{n,d}``: the annual mean as the CBA annualises (each simulated
    day stands for ``w_d`` days a year), and again equal for every node whatever its clearing count.

    ``prices`` needs the columns ``scheme``, ``node`` and :data:`VALUE_COLUMNS` (one row per clearing
    and node); the result is indexed by ``by``, with :data:`VALUE_COLUMNS` and ``n_values`` (the number
    of prices averaged).
    """
    import pandas as pd

    if by not in ("scheme", "node"):
        raise ValueError(f"day_means: by must be 'scheme' or 'node', not {by!r}")
    cols = list(VALUE_COLUMNS)
    counts = prices.groupby(by, sort=True)[cols[0]].count()
    if by == "node":
        means = _node_means(prices, cols)
    else:
        rows = {}
        for scheme, part in prices.groupby("scheme", sort=True):
            node_means = _node_means(part, cols)
            rows[scheme] = {c: float(node_means[c].mean()) for c in cols}  # column by column, as before
        means = pd.DataFrame.from_dict(rows, orient="index")
    means["n_values"] = counts
    return means


def _node_means(prices: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    """Per node, the mean of ``cols``; weighted over the days when the frame has day weights."""
    if WEIGHT_COLUMN not in prices or "day" not in prices:
        return prices.groupby("node", sort=True)[cols].mean()
    per_day = prices.groupby(["node", "day"], sort=True)[cols].mean()
    w = prices.groupby(["node", "day"], sort=True)[WEIGHT_COLUMN].first()
    weighted = per_day.mul(w, axis=0).groupby(level="node").sum()
    return weighted.div(w.groupby(level="node").sum(), axis=0)


class PriceComponentRow(BaseModel):
    """Day-mean nodal price of one scheme at one node (or over all its nodes) and its components."""

    scheme: str = Field(description="Scheme id.")
    node: str = Field(description="Node id; empty for the mean over every node of the scheme.")
    day: str = Field(
        default="",
        description="Representative day id of a one-day row; empty for the mean over the study's days "
        "(weighted as the CBA weights them) or of its one simulated day.",
    )
    price_eur_per_mwh: float = Field(description="Mean nodal price over the firm steps, EUR/MWh.")
    energy_eur_per_mwh: float = Field(description="Mean energy component (reference-bus price), EUR/MWh.")
    congestion_eur_per_mwh: float = Field(
        description="Mean transmission congestion component (PTDF times branch-limit duals), EUR/MWh."
    )
    losses_eur_per_mwh: float = Field(description="Mean distribution losses component, EUR/MWh.")
    current_eur_per_mwh: float = Field(description="Mean distribution current (ampacity) component, EUR/MWh.")
    voltage_eur_per_mwh: float = Field(description="Mean distribution voltage component, EUR/MWh.")
    n_values: int = Field(description="Number of (clearing, node) prices averaged.")


class PriceComponentTable(BaseModel):
    """The day means of every scheme (``node == ""``) and of every node of every scheme."""

    rows: list[PriceComponentRow] = Field(
        description="Scheme rows first, then node rows, per scheme; with several days then one scheme row "
        "per day (``day`` set), unweighted, from which the weighted rows are made."
    )
    source: str = Field(description="The results database they were read from (redacted URL or path).")
    day_weights_days_per_year: dict[str, float] = Field(
        default_factory=dict,
        description="Representative day id -> days a year it stands for, the CBA's weights of the days the "
        "means are over, days/a; empty: the study's one simulated day (no weighting).",
    )

    def days_note(self) -> str:
        """Which days the means stand for, in words (the report's sheet, the GUI's chart)."""
        w = self.day_weights_days_per_year
        if not w:
            return "the study's one simulated day"
        listed = ", ".join(f"{d} ({v:.1f} d/a)" for d, v in w.items())
        return (f"the weighted mean of {len(w)} representative days, weighted as the CBA weights them "
                f"(days a year each stands for): {listed}")


def read_price_components(
    study: Study, db_url: str, days: Sequence[RepresentativeDay] | None = None
) -> PriceComponentTable | None:
    """The day means of the runs of ``study`` in ``db_url`` that the CBA reads: the latest completed run of
    each scheme, or with representative days (``days``, default: the study's own selection) every day's
    runs, weighted by the days' weights (:func:`day_means`). None when the database predates the price
    components (no such columns) or holds no decomposed price."""
    import pandas as pd

    from coordstudio.cba.benefits import order_schemes
    from coordstudio.simulation import db as simdb

    if days is None:
        days = _study_days(study)
    runs, weights, label = _runs_and_weights(study, db_url, days)
    engine = simdb.open_read_only(db_url)
    try:
        with engine.connect() as conn:
            if not simdb.has_price_components(conn):
                return None
            cols = [f"{c}_eur_per_mwh" for c in COMPONENTS]
            # every run's prices in one read (SQL rows or columnar chunks, issue 21), split per run below
            every = simdb.read_table(conn, "prices", [int(r["run_id"]) for r in runs.values()],
                                     ["step", "node", "price_eur_per_mwh", *cols])
            every = every[every["step"] == 0]
            by_run = {int(k): g for k, g in every.groupby("run_id", sort=False)}
            frames = []
            for (scheme, day), r in runs.items():
                df = by_run.get(int(r["run_id"]), every.iloc[0:0])
                df = df.drop(columns=["run_id", "step"]).reset_index(drop=True)
                df["scheme"] = scheme
                if weights:
                    df["day"] = day
                    df[WEIGHT_COLUMN] = weights[day]
                frames.append(df)
    finally:
        engine.dispose()
    frames = [f.dropna() for f in frames]
    frames = [f for f in frames if not f.empty]  # a run without a decomposed price adds nothing
    if not frames:
        return None
    data = pd.concat(frames, ignore_index=True)
    if data.empty:
        return None
    rows: list[PriceComponentRow] = []
    schemes = order_schemes(list(dict.fromkeys(s for s, _ in runs)))
    for scheme in schemes:
        part = data[data["scheme"] == scheme]
        if part.empty:
            continue
        for key, means in (("scheme", day_means(part, "scheme")), ("node", day_means(part, "node"))):
            rows.extend(_rows(means, scheme, key == "node"))
    if weights:
        for scheme in schemes:
            for day in weights:
                part = data[(data["scheme"] == scheme) & (data["day"] == day)]
                if not part.empty:
                    one_day = part.drop(columns=["day", WEIGHT_COLUMN])
                    rows.extend(_rows(day_means(one_day, "scheme"), scheme, False, day))
    return PriceComponentTable(rows=rows, source=label, day_weights_days_per_year=dict(weights))


def _rows(means: pd.DataFrame, scheme: str, per_node: bool, day: str = "") -> list[PriceComponentRow]:
    return [
        PriceComponentRow(
            scheme=scheme,
            node=str(name) if per_node else "",
            day=day,
            n_values=int(rec["n_values"]),
            **{v: float(rec[v]) for v in VALUE_COLUMNS},
        )
        for name, rec in means.iterrows()
    ]


def _study_days(study: Study) -> list[RepresentativeDay]:
    """The study's simulated days (empty: its one ``day_of_year``), the selection ``run`` made."""
    from coordstudio.cba.study_days import study_days

    return study_days(study)


def _runs_and_weights(
    study: Study, db_url: str, days: Sequence[RepresentativeDay]
) -> tuple[dict[tuple[str, str], dict[str, Any]], dict[str, float], str]:
    """(scheme, day id) -> the run the CBA reads, the day weights (empty for one day), the database label.

    One day: the latest completed run of each scheme (:func:`cba.stored_runs.completed_runs`, day "").
    Several: each day's runs (:func:`cba.stored_runs.completed_day_runs`, as ``cba --results`` reads
    them) and ``day_weights`` of the same selection, so the weights are the CBA's."""
    from coordstudio.cba.stored_runs import completed_day_runs, completed_runs

    if not days:
        latest, label = completed_runs(study, db_url)
        return {(s, ""): r for s, r in latest.items()}, {}, label
    from coordstudio.simulation.scenario.representative_days import day_weights

    by_day, label = completed_day_runs(study, db_url, days)
    runs = {(s, d): r for d, per_scheme in by_day.items() for s, r in per_scheme.items()}
    return runs, day_weights(list(days)), label


def run_day_weights(study: Study, db_url: str) -> dict[int, tuple[str, float]]:
    """Run id -> (day id, days a year it stands for) of the runs a study with representative days is
    appraised on (for the GUI's price charts, :func:`cba.run_series.load_series`); empty for a study
    of one simulated day (its charts read the latest runs unweighted, as before)."""
    days = _study_days(study)
    if not days:
        return {}
    runs, weights, _ = _runs_and_weights(study, db_url, days)
    return {int(r["run_id"]): (day, weights[day]) for (_, day), r in runs.items()}


def figure_run_days(study: Study, db_url: str) -> dict[int, tuple[str, float]]:
    """:func:`run_day_weights` for the figures and the GUI's charts after a run: empty when the study's
    day runs cannot all be matched (a failed day's run, a database without them), whose charts then read
    every completed run unweighted rather than fail (the CBA names the missing day itself)."""
    from coordstudio.cba.errors import CbaError
    from coordstudio.simulation.errors import SimulationError

    try:
        return run_day_weights(study, db_url)
    except (CbaError, SimulationError):
        return {}


__all__ = [
    "COMPONENTS",
    "VALUE_COLUMNS",
    "WEIGHT_COLUMN",
    "PriceComponentRow",
    "PriceComponentTable",
    "day_means",
    "figure_run_days",
    "read_price_components",
    "run_day_weights",
]
