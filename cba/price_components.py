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
    from coordstudio.cba.study_file import Study

COMPONENTS = ("energy", "congestion", "losses", "current", "voltage")
"""Component names (``simulation.market.price_components.COMPONENTS``), in their order."""


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
    values = ["price_eur_per_mwh", *(f"{c}_eur_per_mwh" for c in COMPONENTS)]
    rows: list[PriceComponentRow] = []
    order = order_schemes(list(latest))
    by_node = data.groupby(["scheme", "node"])[values].agg(["mean", "count"])
    for scheme in order:
        part = data[data["scheme"] == scheme]
        if part.empty:
            continue
        node_means = part.groupby("node")[values].mean()
        rows.append(
            PriceComponentRow(
                scheme=scheme, node="", n_values=len(part), **{v: float(node_means[v].mean()) for v in values}
            )
        )
        for node in node_means.index:
            rec = by_node.loc[(scheme, node)]
            rows.append(
                PriceComponentRow(
                    scheme=scheme,
                    node=str(node),
                    n_values=int(rec[(values[0], "count")]),
                    **{v: float(rec[(v, "mean")]) for v in values},
                )
            )
    return PriceComponentTable(rows=rows, source=label)


__all__ = ["COMPONENTS", "PriceComponentRow", "PriceComponentTable", "read_price_components"]
