"""Time-series charts of a run (read by :mod:`gui.series` from the results database), per scheme."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QComboBox, QGridLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from coordstudio.gui.charts import SCHEME_COLOURS, ChartWidget
from coordstudio.gui.series import PackedSeries, RunSeries
from coordstudio.simulation.kpis import SCHEME_IDS

SCHEME_ORDER = SCHEME_IDS  # the simulation's scheme registry (simulation/schemes.py)
PRICE_COMPONENTS = ("energy", "congestion", "losses", "current", "voltage")
"""The components of a nodal price (``simulation.market.price_components.COMPONENTS``; recorded in the
results database as ``<name>_eur_per_mwh``), in stacking order."""
COMPONENT_COLOURS = {
    "energy": "#4c72b0",
    "congestion": "#dd8452",
    "losses": "#55a868",
    "current": "#c44e52",
    "voltage": "#8172b3",
}
STACKED = "stacked"
"""The component selector's value for every component stacked (day means)."""


def _abs_max(values: Any) -> float:
    """The largest absolute finite value of an array (1.0 when there is none), for a symmetric scale."""
    import numpy as np

    finite = np.abs(np.asarray(values, dtype=float))
    finite = finite[np.isfinite(finite)]
    return float(finite.max()) if finite.size and finite.max() > 0 else 1.0


class TimeSeriesPanel(QWidget):
    """Four charts over the simulated period: nodal prices, activations, clearing cost, voltages."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.price_chart = ChartWidget("Nodal prices: mean and range")
        self.activation_chart = ChartWidget("Firm activations (dashed: down)")
        self.cost_chart = ChartWidget("Clearing cost, slack (dotted)")
        self.voltage_chart = ChartWidget("Voltage: min (solid), max (dashed)")
        self.charts = [self.price_chart, self.activation_chart, self.cost_chart, self.voltage_chart]
        self._series: RunSeries | PackedSeries | None = None
        self._schemes: list[str] = []
        self._stale = False
        self.price_mode = QComboBox()
        self.price_mode.addItem("all schemes: mean and range over nodes", "")
        self.price_mode.setToolTip("Nodal prices: a band per scheme, or every node of one scheme as a map")
        self.price_mode.currentIndexChanged.connect(self._redraw_prices)
        self.price_part = QComboBox()
        self.price_part.addItem("price", "")
        for name in PRICE_COMPONENTS:
            self.price_part.addItem(f"{name} component", name)
        self.price_part.addItem("components stacked (day mean)", STACKED)
        self.price_part.setToolTip(
            "The nodal price or one of its components (energy at the reference bus, transmission "
            "congestion, distribution losses, current and voltage limits; they sum to the price), or "
            "all components stacked: one bar per scheme, or per node of one scheme"
        )
        self.price_part.currentIndexChanged.connect(self._redraw_prices)
        top = QHBoxLayout()
        top.addWidget(QLabel("Nodal prices:"))
        top.addWidget(self.price_mode)
        top.addWidget(self.price_part)
        top.addStretch(1)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addLayout(top)
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        outer.addLayout(grid, 1)
        for i, chart in enumerate(self.charts):
            chart.message("Run the study to see the time series.")
            grid.addWidget(chart, i // 2, i % 2)

    def show_series(self, series: RunSeries | PackedSeries | None) -> None:
        """Show the series of a run: drawn now if the panel is visible, else when it is next shown
        (a finished run then costs the event loop nothing for a tab the user has not opened)."""
        self._series = series
        self._stale = True
        if self.isVisible():
            self._draw()

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if self._stale:
            self._draw()

    def _draw(self) -> None:
        """Draw the stored series (or say why there are none)."""
        self._stale = False
        if isinstance(self._series, PackedSeries):
            self._series = self._series.unpack()
        series = self._series
        if series is None or series.error or series.empty:
            why = (series.error if series else "") or "this run has no results database"
            for chart in self.charts:
                chart.message(f"No time series: {why}.")
            return
        present = set(series.clearings["scheme"])
        schemes = [s for s in SCHEME_ORDER if s in present] + sorted(present - set(SCHEME_ORDER))
        self._schemes = schemes
        chosen = self.price_mode.currentData()
        self.price_mode.blockSignals(True)
        self.price_mode.clear()
        self.price_mode.addItem("all schemes: mean and range over nodes", "")
        for s in schemes:
            self.price_mode.addItem(f"{s}: every node", s)
        self.price_mode.setCurrentIndex(max(self.price_mode.findData(chosen), 0))
        self.price_mode.blockSignals(False)
        self._redraw_prices()
        self._activations(series, schemes)
        self._costs(series, schemes)
        self._voltages(series, schemes)

    def _redraw_prices(self) -> None:
        series = self._series
        if not isinstance(series, RunSeries) or series.error or series.empty:
            return
        scheme = self.price_mode.currentData()
        part = str(self.price_part.currentData() or "")
        if part and f"{PRICE_COMPONENTS[0]}_eur_per_mwh" not in series.prices.columns:
            self.price_chart.message(
                "This results database holds no price components (written before they were recorded)."
            )
            return
        if part == STACKED:
            self._components_stacked(series, str(scheme) if scheme else "")
        elif scheme:
            self._price_map(series, str(scheme), part)
        else:
            self._prices(series, self._schemes, part)

    def _components_stacked(self, s: RunSeries, scheme: str) -> None:
        """Day-mean price components as stacked bars (positive parts up, negative parts down from zero)
        and the mean price as a dot: one bar per scheme, or with ``scheme`` one bar per node of it."""
        cols = [f"{c}_eur_per_mwh" for c in PRICE_COMPONENTS]
        p = s.prices if not scheme else s.prices[s.prices["scheme"] == scheme]
        key = "node" if scheme else "scheme"
        if p.empty:
            self.price_chart.message("No nodal prices were recorded.")
            return
        means = p.groupby(key)[[*cols, "price_eur_per_mwh"]].mean()
        if not scheme:
            means = means.reindex([x for x in self._schemes if x in means.index])
        ax = self.price_chart.axes()
        xs = list(range(len(means)))
        up = [0.0] * len(means)
        down = [0.0] * len(means)
        for name, col in zip(PRICE_COMPONENTS, cols, strict=True):
            vals = means[col].fillna(0.0).tolist()
            bottom = [u if v >= 0 else d for v, u, d in zip(vals, up, down, strict=True)]
            ax.bar(xs, vals, bottom=bottom, color=COMPONENT_COLOURS[name], label=name, width=0.8)
            up = [u + max(v, 0.0) for v, u in zip(vals, up, strict=True)]
            down = [d + min(v, 0.0) for v, d in zip(vals, down, strict=True)]
        ax.plot(xs, means["price_eur_per_mwh"].tolist(), "o", color="black", ms=3, label="price")
        ax.axhline(0.0, color="black", lw=0.8)
        labels = [str(i) for i in means.index]
        ax.set_xticks(xs, labels, rotation=90 if scheme else 0, fontsize=6 if scheme else 8)
        if scheme and len(xs) > 40:
            ax.set_xticks(
                xs[:: max(1, len(xs) // 40)], labels[:: max(1, len(xs) // 40)], rotation=90, fontsize=6
            )
        ax.set_ylabel("day mean [EUR/MWh]")
        ax.legend(ncols=6, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False, fontsize=7)
        self.price_chart.set_title(
            f"Price components of {scheme}: every node" if scheme else "Price components: day mean per scheme"
        )
        self.price_chart.draw()

    def _price_map(self, s: RunSeries, scheme: str, part: str = "") -> None:
        """Every node's firm-step price (or one ``part``: a component) over time for one scheme (rows:
        nodes, columns: clearings)."""
        p = s.prices[s.prices["scheme"] == scheme]
        if p.empty:
            self.price_chart.message(f"No nodal prices were recorded for {scheme}.")
            return
        value = f"{part}_eur_per_mwh" if part else "price_eur_per_mwh"
        table = p.pivot_table(index="node", columns="time_min", values=value, aggfunc="mean")
        ax = self.price_chart.axes()
        hours = [t / 60.0 for t in table.columns]
        step = (hours[1] - hours[0]) if len(hours) > 1 else 1.0
        values = table.to_numpy()
        # a component has a sign (a node at an upper voltage limit, a lower one): diverging colours at 0
        span = float(abs(_abs_max(values))) if part else 0.0
        image = ax.imshow(
            values,
            aspect="auto",
            cmap="coolwarm" if part else "viridis",
            vmin=-span if part else None,
            vmax=span if part else None,
            interpolation="nearest",
            extent=(hours[0], hours[-1] + step, len(table.index) - 0.5, -0.5),
        )
        ax.set_yticks(range(len(table.index)), [str(n) for n in table.index], fontsize=6)
        if len(table.index) > 25:
            ax.set_yticks(range(0, len(table.index), max(1, len(table.index) // 20)))
            ax.set_yticklabels(
                [str(table.index[i]) for i in range(0, len(table.index), max(1, len(table.index) // 20))],
                fontsize=6,
            )
        ax.set_xlabel("time [h]")
        ax.set_ylabel("node")
        ax.grid(False)
        self.price_chart.figure.colorbar(image, ax=ax, label="EUR/MWh")
        what = f"{part} component of the nodal prices" if part else "Nodal prices"
        self.price_chart.set_title(f"{what} of {scheme}: every node")
        self.price_chart.draw()

    @staticmethod
    def _hours(minutes: Any) -> Any:
        return minutes / 60.0

    def _prices(self, s: RunSeries, schemes: list[str], part: str = "") -> None:
        what = f"{part} component of the nodal prices" if part else "Nodal prices"
        self.price_chart.set_title(f"{what}: mean and range")
        if s.prices.empty:
            self.price_chart.message("No nodal prices were recorded.")
            return
        value = f"{part}_eur_per_mwh" if part else "price_eur_per_mwh"
        ax = self.price_chart.axes()
        for scheme in schemes:
            g = s.prices[s.prices["scheme"] == scheme].groupby("time_min")[value]
            stats = g.agg(["mean", "min", "max"]).sort_index()
            if stats.empty:
                continue
            h = self._hours(stats.index.to_numpy())
            colour = SCHEME_COLOURS.get(scheme)
            ax.step(h, stats["mean"], where="post", color=colour, label=scheme, lw=1.4)
            ax.fill_between(h, stats["min"], stats["max"], step="post", color=colour, alpha=0.12)
        ax.set_xlabel("time [h]")
        ax.set_ylabel("price [EUR/MWh]")
        ax.legend(ncols=5, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False, fontsize=7)
        self.price_chart.draw()

    def _activations(self, s: RunSeries, schemes: list[str]) -> None:
        if s.activations.empty:
            self.activation_chart.message("No firm activation was recorded.")
            return
        ax = self.activation_chart.axes()
        for scheme in schemes:
            a = s.activations[s.activations["scheme"] == scheme]
            up = a[a["activation_mw"] > 0].groupby("time_min")["activation_mw"].sum()
            down = a[a["activation_mw"] < 0].groupby("time_min")["activation_mw"].sum()
            colour = SCHEME_COLOURS.get(scheme)
            if not up.empty:
                ax.plot(
                    self._hours(up.index.to_numpy()), up.to_numpy(), "o-", color=colour, label=scheme, ms=3
                )
            if not down.empty:
                ax.plot(
                    self._hours(down.index.to_numpy()),
                    down.to_numpy(),
                    "o--",
                    color=colour,
                    ms=3,
                    label=None if not up.empty else scheme,
                )
        ax.axhline(0.0, color="black", lw=0.8)
        ax.set_xlabel("time [h]")
        ax.set_ylabel("activated [MW]")
        ax.legend(ncols=5, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False, fontsize=7)
        self.activation_chart.draw()

    def _costs(self, s: RunSeries, schemes: list[str]) -> None:
        ax = self.cost_chart.axes()
        ax2 = ax.twinx()
        for scheme in schemes:
            c = s.clearings[s.clearings["scheme"] == scheme].sort_values("time_min")
            h = self._hours(c["time_min"].to_numpy())
            colour = SCHEME_COLOURS.get(scheme)
            ax.step(h, c["activation_cost_eur"], where="post", color=colour, label=scheme, lw=1.4)
            ax2.plot(h, c["slack_energy_mwh"], ":", color=colour, lw=1.0)
        ax.set_xlabel("time [h]")
        ax.set_ylabel("activation cost [EUR]")
        ax2.set_ylabel("slack [MWh]")
        ax2.grid(False)
        ax.legend(ncols=5, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False, fontsize=7)
        self.cost_chart.draw()

    def _voltages(self, s: RunSeries, schemes: list[str]) -> None:
        m = s.measurements.dropna(subset=["vm_pu"])
        if m.empty:
            self.voltage_chart.message("No voltage measurement was recorded.")
            return
        ax = self.voltage_chart.axes()
        for scheme in schemes:
            g = m[m["scheme"] == scheme].groupby("time_min")["vm_pu"].agg(["min", "max"]).sort_index()
            if g.empty:
                continue
            h = self._hours(g.index.to_numpy())
            colour = SCHEME_COLOURS.get(scheme)
            ax.plot(h, g["min"], color=colour, lw=1.2, label=scheme)
            ax.plot(h, g["max"], color=colour, lw=1.2, ls="--")
        ax.set_xlabel("time [h]")
        ax.set_ylabel("voltage [p.u.]")
        ax.legend(ncols=5, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False, fontsize=7)
        self.voltage_chart.draw()
