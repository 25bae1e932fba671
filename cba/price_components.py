"""Day means of the nodal price components per scheme and node, read from the results database.

Why: the report explains why the schemes' prices differ by showing what each price is made of
(energy at the reference bus, transmission congestion, distribution losses, current and voltage
limits: ``simulation.market.price_components``). The means are over every clearing's firm (first)
step, as the GUI's price charts show them; a scheme's row averages its nodes with equal weight.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

if TYPE_CHECKING:
    import pandas as pd

    from coordstudio.cba.study_file import Study

COMPONENTS = ("energy", "congestion", "losses", "current", "voltage")
"""Component names (``simulation.market.price_components.COMPONENTS``), in their order."""


VALUE_COLUMNS = ("price_eur_per_mwh", *(f"{c}_eur_per_mwh" for c in COMPONENTS))
"""The columns of the results database's ``prices`` table that :func:`day_means` averages."""


def day_means(prices: pd.DataFrame, by: str) -> pd.DataFrame:
    """Day means of the price and its components per scheme (``by="scheme"``) or per node (``"node"``).

    The one place these means are computed: the report's "Price components" sheet
    (:func:`read_price_components`) and the price-component figures (GUI and headless,
    :mod:`cba.figures_timeseries`) both call it. A node's mean is over its firm-step values
    (``mean_n = sum_t p_{n,t} / T_n``); a scheme's is the mean of its nodes' means with equal weight
    (``mean_s = sum_n mean_n / N``), so a node that cleared fewer times does not weigh less.
    ``prices`` needs the columns ``scheme``, ``node`` and :data:`VALUE_COLUMNS` (one row per clearing
    and node); the result is indexed by ``by``, with :data:`VALUE_COLUMNS` and ``n_values`` (the number
    of prices averaged).
    """
    cols = list(VALUE_COLUMNS)
    if by == "node":
        grouped = prices.groupby("node", sort=True)
        means = grouped[cols].mean()
        means["n_values"] = grouped[cols[0]].count()
        return means
    if by != "scheme":
        raise ValueError(f"day_means: by must be 'scheme' or 'node', not {by!r}")
    import pandas as pd

    rows = {}
    for scheme, part in prices.groupby("scheme"):
        node_means = part.groupby("node")[cols].mean()
        rows[scheme] = {c: float(node_means[c].mean()) for c in cols}  # column by column, as the report had
    means = pd.DataFrame.from_dict(rows, orient="index")
    means["n_values"] = prices.groupby("scheme")[cols[0]].count()
    return means


class PriceComponentRow(BaseModel):
    """Day-mean nodal price of one scheme at one node (or over all its nodes) and its components."""

    scheme: str = Field(description="Scheme id.")
    node: str = Field(description="Node id; empty for the mean over every node of the scheme.")
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

    rows: list[PriceComponentRow] = Field(description="Scheme rows first, then node rows, per scheme.")
    source: str = Field(description="The results database they were read from (redacted URL or path).")


def read_price_components(study: Study, db_url: str) -> PriceComponentTable | None:
    """The day means of the latest completed run of each scheme of ``study`` in ``db_url``; None when
    the database predates the price components (no such columns) or holds no decomposed price."""
    import pandas as pd

    from coordstudio.cba.benefits import order_schemes
    from coordstudio.cba.stored_runs import completed_runs
    from coordstudio.simulation import db as simdb

    latest, label = completed_runs(study, db_url)
    engine = simdb.open_read_only(db_url)
    try:
        with engine.connect() as conn:
            if not simdb.has_price_components(conn):
                return None
            cols = ", ".join(f"{c}_eur_per_mwh" for c in COMPONENTS)
            frames = []
            for scheme, r in latest.items():
                df = pd.read_sql(
                    f"SELECT node, price_eur_per_mwh, {cols} FROM prices WHERE step = 0 AND run_id = "
                    f"{int(r['run_id'])}",
                    conn,
                )
                df["scheme"] = scheme
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
    for scheme in order_schemes(list(latest)):
        part = data[data["scheme"] == scheme]
        if part.empty:
            continue
        for key, means in (("scheme", day_means(part, "scheme")), ("node", day_means(part, "node"))):
            for name, rec in means.iterrows():
                rows.append(
                    PriceComponentRow(
                        scheme=scheme,
                        node="" if key == "scheme" else str(name),
                        n_values=int(rec["n_values"]),
                        **{v: float(rec[v]) for v in VALUE_COLUMNS},
                    )
                )
    return PriceComponentTable(rows=rows, source=label)


__all__ = [
    "COMPONENTS",
    "VALUE_COLUMNS",
    "PriceComponentRow",
    "PriceComponentTable",
    "day_means",
    "read_price_components",
]
