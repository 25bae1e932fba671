"""Time series of a run, read from the simulation's results database (for the GUI's charts and the
headless figures, :mod:`cba.figures`).

The simulation writes every clearing, nodal price, activation and measurement to its results database
(``simulation.db``). This module only *reads* those tables: it selects the rows of the completed runs and
lines them up on the time axis (``time_min`` of each clearing). Nothing is recomputed: a price is a
price the market cleared, a voltage a value the physical layer measured.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

__all__ = ["RunSeries", "load_series"]

if TYPE_CHECKING:  # pandas costs ~0.4 s to import: not at GUI start-up, only when a run is read
    import pandas as pd


def _empty() -> Any:
    import pandas as pd

    return pd.DataFrame()


@dataclass
class RunSeries:
    """The tables of one results database, as pandas frames with a ``scheme`` column."""

    clearings: pd.DataFrame = field(default_factory=_empty)
    prices: pd.DataFrame = field(default_factory=_empty)
    activations: pd.DataFrame = field(default_factory=_empty)
    measurements: pd.DataFrame = field(default_factory=_empty)
    error: str = ""

    @property
    def empty(self) -> bool:
        return self.clearings.empty

    def schemes(self, order: tuple[str, ...] | list[str] = ()) -> list[str]:
        """The schemes present, in ``order`` first (the simulation's registry), the others sorted."""
        present = set(self.clearings["scheme"]) if "scheme" in self.clearings else set()
        return [s for s in order if s in present] + sorted(present - set(order))


def load_series(db_url: str, run_days: Mapping[int, tuple[str, float]] | None = None) -> RunSeries:
    """Read the completed runs' clearings, firm nodal prices (with their components when the database
    has them), firm activations and measurements.

    ``run_days`` (run id -> day id and the days a year it stands for, from
    :func:`cba.price_components.run_day_weights`) is given for a study simulated on several
    representative days: only those runs are read, and the prices carry ``day`` and ``weight_days``,
    so the day means (:func:`cba.price_components.day_means`) weight the days as the CBA does."""
    import pandas as pd

    from coordstudio.simulation.db import (
        PRICE_COMPONENT_COLUMNS,
        has_price_components,
        open_read_only,
        read_table,
    )

    try:
        engine = open_read_only(db_url)  # never creates or changes the database
        with engine.connect() as conn:
            runs = pd.read_sql("SELECT run_id, scheme FROM runs WHERE status = 'completed'", conn)
            if run_days:
                runs = runs[runs["run_id"].isin([int(i) for i in run_days])]
            if runs.empty:
                return RunSeries(error="the results database holds no completed run")
            ids = ",".join(str(int(r)) for r in runs["run_id"])
            clearings = pd.read_sql(
                f"SELECT run_id, clearing, time_min, activation_cost_eur, slack_energy_mwh, n_activated "
                f"FROM clearings WHERE run_id IN ({ids})",
                conn,
            )
            # the price components (issue 16 item 6) where the file has them: an older one has not
            extra = list(PRICE_COMPONENT_COLUMNS) if has_price_components(conn) else []
            # the per-node tables through read_table: SQL rows or columnar chunks (issue 21)
            run_ids = [int(r) for r in runs["run_id"]]
            prices = read_table(conn, "prices", run_ids, ["clearing", "step", "node", "price_eur_per_mwh",
                                                          *extra])
            prices = prices[prices["step"] == 0].drop(columns="step").reset_index(drop=True)
            activations = read_table(conn, "activations", run_ids, ["clearing", "step", "firm",
                                                                    "activation_mw"])
            activations = activations[activations["firm"] & (activations["step"] == 0)]
            activations = activations.drop(columns=["step", "firm"]).reset_index(drop=True)
            measurements = read_table(conn, "measurements", run_ids, ["time_min", "node", "vm_pu"])
        engine.dispose()
    except Exception as exc:  # noqa: BLE001 - a missing/locked database is shown, not raised
        return RunSeries(error=f"cannot read {db_url}: {exc}")
    scheme_of = dict(zip(runs["run_id"], runs["scheme"], strict=True))
    frames = []
    for df in (clearings, prices, activations, measurements):
        df = df.copy()
        df["scheme"] = df["run_id"].map(scheme_of)
        frames.append(df)
    clearings, prices, activations, measurements = frames
    times = clearings[["run_id", "clearing", "time_min"]]
    prices = prices.merge(times, on=["run_id", "clearing"], how="left")
    activations = activations.merge(times, on=["run_id", "clearing"], how="left")
    if run_days:  # every table: the figures draw the weighted mean day or the envelope over days
        for df in (clearings, prices, activations, measurements):
            df["day"] = df["run_id"].map({int(i): d for i, (d, _) in run_days.items()})
            df["weight_days"] = df["run_id"].map({int(i): w for i, (_, w) in run_days.items()})
    return RunSeries(clearings, prices, activations, measurements)
