"""Time series of a run for the GUI: the reading is :mod:`cba.run_series` (shared with the headless
figures), here only the packing for the trip from the run process to the GUI process."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from coordstudio.cba.run_series import RunSeries, load_series

__all__ = ["PackedSeries", "RunSeries", "load_series"]


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
