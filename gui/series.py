"""Time series of a run, read from the simulation's results database (Qt-free: runs in the child process).

The simulation writes every clearing, nodal price, activation and measurement to its results database
(``simulation.db``). This module only *reads* those tables: it selects the rows of the completed runs and
lines them up on the time axis (``time_min`` of each clearing). Nothing is recomputed: a price is a
price the market cleared, a voltage a value the physical layer measured.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

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


def load_series(db_url: str) -> RunSeries:
    """Read the completed runs' clearings, firm nodal prices (with their components when the database
    has them), firm activations and measurements."""
    import pandas as pd

    from coordstudio.simulation.db import PRICE_COMPONENT_COLUMNS, has_price_components, open_read_only

    try:
        engine = open_read_only(db_url)  # never creates or changes the database
        with engine.connect() as conn:
            runs = pd.read_sql("SELECT run_id, scheme FROM runs WHERE status = 'completed'", conn)
            if runs.empty:
                return RunSeries(error="the results database holds no completed run")
            ids = ",".join(str(int(r)) for r in runs["run_id"])
            clearings = pd.read_sql(
                f"SELECT run_id, clearing, time_min, activation_cost_eur, slack_energy_mwh, n_activated "
                f"FROM clearings WHERE run_id IN ({ids})",
                conn,
            )
            # the price components (issue 16 item 6) where the file has them: an older one has not
            extra = "".join(f", {c}" for c in PRICE_COMPONENT_COLUMNS) if has_price_components(conn) else ""
            prices = pd.read_sql(
                f"SELECT run_id, clearing, node, price_eur_per_mwh{extra} FROM prices "
                f"WHERE step = 0 AND run_id IN ({ids})",
                conn,
            )
            activations = pd.read_sql(
                f"SELECT run_id, clearing, activation_mw FROM activations "
                f"WHERE firm = 1 AND step = 0 AND run_id IN ({ids})",
                conn,
            )
            measurements = pd.read_sql(
                f"SELECT run_id, time_min, node, vm_pu FROM measurements WHERE run_id IN ({ids})", conn
            )
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
    return RunSeries(clearings, prices, activations, measurements)


@dataclass
class PackedSeries:
    """:class:`RunSeries` as plain lists, for the trip from the run process to the GUI.

    Unpickling DataFrames would import pandas in the GUI process at the moment a run ends (its C
    extensions hold the GIL for a noticeable time); plain lists unpickle in microseconds, and pandas is
    imported only when the user opens the time-series tab (:meth:`unpack`).
    """

    tables: dict[str, dict[str, list[Any]]] = field(default_factory=dict)
    error: str = ""

    @classmethod
    def pack(cls, series: RunSeries) -> PackedSeries:
        names = ("clearings", "prices", "activations", "measurements")
        return cls({n: getattr(series, n).to_dict("list") for n in names}, series.error)

    def unpack(self) -> RunSeries:
        import pandas as pd

        frames = {n: pd.DataFrame(cols) for n, cols in self.tables.items()}
        return RunSeries(**frames, error=self.error)
