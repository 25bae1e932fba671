"""Time-series figures of a run: nodal prices (band per scheme, map per node, components), firm
activations, clearing cost and voltages per clearing, read by :mod:`cba.run_series`.

Nothing is recomputed: a price is a price the market cleared, a voltage a value the physical layer
measured; the only statistics are the mean/min/max over nodes at one clearing and the day means of the
price components (:func:`cba.price_components.day_means`, the report's numbers). The GUI's time-series
panel and the headless figures (:mod:`cba.figures`) call these same functions. Each takes the figure to
draw into and returns its title.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from coordstudio.cba.figure_style import TOP_LEGEND, scheme_colour, series_gid, show_message, top_legend
from coordstudio.cba.price_components import COMPONENTS, WEIGHT_COLUMN, day_means

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from coordstudio.cba.run_series import RunSeries

__all__ = [
    "COMPONENT_COLOURS",
    "NO_COMPONENTS",
    "draw_activations",
    "draw_clearing_costs",
    "draw_price_bands",
    "draw_price_components",
    "draw_price_map",
    "draw_voltages",
    "has_components",
]

COMPONENT_COLOURS = {
    "energy": "#4c72b0",
    "congestion": "#dd8452",
    "losses": "#55a868",
    "current": "#c44e52",
    "voltage": "#8172b3",
}
"""Colour of each price component (:data:`cba.price_components.COMPONENTS`, in stacking order)."""


NO_COMPONENTS = "This results database holds no price components (written before they were recorded)."


def _hours(minutes: Any) -> Any:
    return minutes / 60.0


def _held(hours: Any, *columns: Any) -> tuple[Any, ...]:
    """Step-line data where each clearing's value holds until the next: the last value is repeated one
    clearing interval later, so the last clearing is drawn with its width (``where="post"`` alone ends
    the line at its start)."""
    import numpy as np

    h = np.asarray(hours, dtype=float)
    if h.size == 0:
        return (h, *(np.asarray(c, dtype=float) for c in columns))
    dt = float(np.median(np.diff(h))) if h.size > 1 else 0.25
    out = [np.append(h, h[-1] + dt)]
    for c in columns:
        c = np.asarray(c, dtype=float)
        out.append(np.append(c, c[-1]))
    return tuple(out)


def _abs_max(values: Any) -> float:
    """The largest absolute finite value of an array (1.0 when there is none), for a symmetric scale."""
    import numpy as np

    finite = np.abs(np.asarray(values, dtype=float))
    finite = finite[np.isfinite(finite)]
    return float(finite.max()) if finite.size and finite.max() > 0 else 1.0


def _day_weights(df: Any) -> dict[str, float]:
    """Day id -> days a year of a table of several representative days (the ``day`` and
    :data:`~cba.price_components.WEIGHT_COLUMN` columns :func:`cba.run_series.load_series` adds); empty
    for one day, whose figures are drawn as they always were."""
    if "day" not in df or WEIGHT_COLUMN not in df or df.empty:
        return {}
    weights = df.groupby("day")[WEIGHT_COLUMN].first().sort_index()
    return {str(d): float(w) for d, w in weights.items()} if len(weights) > 1 else {}


def _days_line(weights: dict[str, float], how: str) -> str:
    """The title's second line naming the days: ``how`` (e.g. "weighted mean day") and each day's weight."""
    return "\n" + textwrap.fill(
        f"({how} of {len(weights)} representative days, days/year: "
        + ", ".join(f"{d} {w:.0f}" for d, w in weights.items()) + ")", 100)


def _weighted_day(per_day: Any, weights: dict[str, float]) -> Any:
    """Weighted mean day of a table with one row per day and a column per clearing time (or per node and
    time): ``sum_d w_d x_d / sum_d w_d`` with the weights normalised over the days that have a value."""
    import numpy as np
    import pandas as pd

    w = np.array([weights[str(d)] for d in per_day.index], dtype=float)
    values = per_day.to_numpy(dtype=float)
    present = np.isfinite(values)
    total = (np.where(present, values, 0.0) * w[:, None]).sum(axis=0)
    norm = (present * w[:, None]).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return pd.Series(np.where(norm > 0, total / norm, np.nan), index=per_day.columns)


def has_components(series: RunSeries) -> bool:
    """Whether the results database recorded the price components (one written before them did not)."""
    return f"{COMPONENTS[0]}_eur_per_mwh" in series.prices.columns


def _value_column(part: str) -> str:
    return f"{part}_eur_per_mwh" if part else "price_eur_per_mwh"


def draw_price_bands(fig: Figure, series: RunSeries, schemes: Sequence[str], part: str = "") -> str:
    """Mean over the nodes of each scheme's firm-step price (or one component ``part``) per clearing,
    as a step line, with the nodes' range as a band; returns the title."""
    what = f"{part.capitalize()} component of the nodal prices" if part else "Nodal prices"
    title = f"{what}: mean and range"
    if series.prices.empty:
        show_message(fig, "No nodal prices were recorded.")
        return title
    if part and not has_components(series):
        show_message(fig, NO_COMPONENTS)
        return title
    value = _value_column(part)
    fig.clear()
    ax = fig.add_subplot(111)
    weights = _day_weights(series.prices)
    if weights:
        title = f"{what}: weighted mean day, range over nodes and days" + _days_line(weights, "mean/envelope")
    for i, scheme in enumerate(schemes):
        p = series.prices[series.prices["scheme"] == scheme]
        if weights:  # node mean per day and time, then the weighted mean day; the band spans every day
            node_mean = p.groupby(["day", "time_min"])[value].mean().unstack("time_min")
            stats = p.groupby("time_min")[value].agg(["min", "max"]).sort_index()
            stats["mean"] = _weighted_day(node_mean, weights).reindex(stats.index)
        else:
            stats = p.groupby("time_min")[value].agg(["mean", "min", "max"]).sort_index()
        if stats.empty:
            continue
        h, mean, low, high = _held(_hours(stats.index.to_numpy()), stats["mean"], stats["min"],
                                   stats["max"])
        colour = scheme_colour(scheme, i)
        ax.step(h, mean, where="post", color=colour, label=scheme, lw=1.4,
                gid=series_gid("line", "price", scheme))
        ax.fill_between(h, low, high, step="post", color=colour, alpha=0.12)
    ax.set_xlabel("time [h]")
    ax.set_ylabel(f"{part + ' component' if part else 'price'} [EUR/MWh]")
    top_legend(ax, len(schemes))
    return title


def draw_price_map(fig: Figure, series: RunSeries, scheme: str, part: str = "") -> str:
    """Every node's firm-step price (or one component ``part``) of one scheme over time, as an image
    (rows: nodes, columns: clearings); a component has a sign, so it gets diverging colours centred on
    zero. Returns the title."""
    what = f"{part.capitalize()} component of the nodal prices" if part else "Nodal prices"
    title = f"{what} of {scheme}: every node"
    p = series.prices[series.prices["scheme"] == scheme] if not series.prices.empty else series.prices
    if p.empty:
        show_message(fig, f"No nodal prices were recorded for {scheme}.")
        return title
    if part and not has_components(series):
        show_message(fig, NO_COMPONENTS)
        return title
    weights = _day_weights(p)
    if weights:  # each node's weighted mean day
        per_day = p.pivot_table(index="day", columns=["node", "time_min"], values=_value_column(part),
                                aggfunc="mean")
        table = _weighted_day(per_day, weights).unstack("time_min")
        title += ", weighted mean day" + _days_line(weights, "weighted mean")
    else:
        table = p.pivot_table(index="node", columns="time_min", values=_value_column(part), aggfunc="mean")
    fig.clear()
    ax = fig.add_subplot(111)
    hours = [t / 60.0 for t in table.columns]
    step = (hours[1] - hours[0]) if len(hours) > 1 else 1.0
    values = table.to_numpy()
    span = _abs_max(values) if part else 0.0
    image = ax.imshow(
        values,
        aspect="auto",
        cmap="coolwarm" if part else "viridis",
        vmin=-span if part else None,
        vmax=span if part else None,
        interpolation="nearest",
        extent=(hours[0], hours[-1] + step, len(table.index) - 0.5, -0.5),
    )
    image.set_gid(series_gid("map", part or "price", scheme))
    nodes = [str(n) for n in table.index]
    every = max(1, len(nodes) // 20) if len(nodes) > 25 else 1
    ax.set_yticks(range(0, len(nodes), every), nodes[::every], fontsize=6)
    ax.set_xlabel("time [h]")
    ax.set_ylabel("node")
    ax.grid(False)
    fig.colorbar(image, ax=ax, label="EUR/MWh")
    return title


def draw_price_components(fig: Figure, series: RunSeries, schemes: Sequence[str], scheme: str = "") -> str:
    """Day-mean price components (:func:`cba.price_components.day_means`) as stacked bars, positive
    parts up and negative parts down from zero, with the mean price as a dot: one bar per scheme, or
    with ``scheme`` one bar per node of it. Prices with day weights (several representative days) give
    the days' weighted means, and the title names the days and weights. Returns the title."""
    title = f"Price components of {scheme}: every node" if scheme else "Price components: day mean per scheme"
    if not has_components(series):
        show_message(fig, NO_COMPONENTS)
        return title
    p = series.prices if not scheme else series.prices[series.prices["scheme"] == scheme]
    p = p.dropna(subset=[_value_column(c) for c in ("", *COMPONENTS)])
    if p.empty:
        show_message(fig, "No nodal prices were recorded.")
        return title
    means = day_means(p, "node" if scheme else "scheme")
    if WEIGHT_COLUMN in p and "day" in p:  # several representative days (cba.run_series.load_series)
        weights = p.groupby("day")[WEIGHT_COLUMN].first()
        days = textwrap.fill(  # 8 days do not fit on one line of the figure's width
            f"(weighted mean of {len(weights)} representative days: "
            + ", ".join(f"{d} {w:.0f} d/a" for d, w in weights.items()) + ")", 100)
        title = title.replace("day mean per scheme", "per scheme") + "\n" + days
    if not scheme:
        means = means.reindex([x for x in schemes if x in means.index])
    fig.clear()
    ax = fig.add_subplot(111)
    xs = list(range(len(means)))
    up = [0.0] * len(means)
    down = [0.0] * len(means)
    labels = [str(i) for i in means.index]
    for name in COMPONENTS:
        vals = means[_value_column(name)].fillna(0.0).tolist()
        bottom = [u if v >= 0 else d for v, u, d in zip(vals, up, down, strict=True)]
        bars = ax.bar(xs, vals, bottom=bottom, color=COMPONENT_COLOURS[name], label=name, width=0.8)
        for bar, label in zip(bars, labels, strict=True):
            bar.set_gid(series_gid("bar", name, label))
        up = [u + max(v, 0.0) for v, u in zip(vals, up, strict=True)]
        down = [d + min(v, 0.0) for v, d in zip(vals, down, strict=True)]
    ax.plot(xs, means["price_eur_per_mwh"].tolist(), "o", color="black", ms=3, label="price",
            gid=series_gid("line", "mean_price"))
    ax.axhline(0.0, color="black", lw=0.8)
    every = max(1, len(xs) // 40) if scheme and len(xs) > 40 else 1
    ax.set_xticks(xs[::every], labels[::every], rotation=90 if scheme else 0, fontsize=6 if scheme else 8)
    if scheme:
        ax.set_xlabel("node")
    ax.set_ylabel("day mean [EUR/MWh]")
    ax.legend(ncols=6, **TOP_LEGEND)
    return title


def draw_activations(fig: Figure, series: RunSeries, schemes: Sequence[str]) -> str:
    """Firm activations per clearing: upward (solid) and downward (dashed) sums per scheme, MW."""
    title = "Firm activations (dashed: down)"
    if series.activations.empty:
        show_message(fig, "No firm activation was recorded.")
        return title
    weights = _day_weights(series.clearings)
    if weights:
        title = "Firm activations, weighted mean day (dashed: down)" + _days_line(weights, "weighted mean")
    fig.clear()
    ax = fig.add_subplot(111)
    for i, scheme in enumerate(schemes):
        a = series.activations[series.activations["scheme"] == scheme]
        if weights:  # each day's sum at a clearing (0 where a day activated nothing), then the mean day
            times = series.clearings[series.clearings["scheme"] == scheme]
            grid = times.pivot_table(index="day", columns="time_min", values="clearing", aggfunc="size")
            grid = grid.notna().astype(float) * 0.0
            up_d = a[a["activation_mw"] > 0].pivot_table(index="day", columns="time_min",
                                                         values="activation_mw", aggfunc="sum")
            down_d = a[a["activation_mw"] < 0].pivot_table(index="day", columns="time_min",
                                                           values="activation_mw", aggfunc="sum")
            up = _weighted_day(grid.add(up_d, fill_value=0.0).reindex(grid.index), weights)
            down = _weighted_day(grid.add(down_d, fill_value=0.0).reindex(grid.index), weights)
            up, down = up[up > 0], down[down < 0]
        else:
            up = a[a["activation_mw"] > 0].groupby("time_min")["activation_mw"].sum()
            down = a[a["activation_mw"] < 0].groupby("time_min")["activation_mw"].sum()
        colour = scheme_colour(scheme, i)
        if not up.empty:
            ax.plot(_hours(up.index.to_numpy()), up.to_numpy(), "o-", color=colour, label=scheme, ms=3,
                    gid=series_gid("line", "up", scheme))
        if not down.empty:
            ax.plot(_hours(down.index.to_numpy()), down.to_numpy(), "o--", color=colour, ms=3,
                    label=None if not up.empty else scheme, gid=series_gid("line", "down", scheme))
    ax.axhline(0.0, color="black", lw=0.8)
    ax.set_xlabel("time [h]")
    ax.set_ylabel("activated [MW]")
    top_legend(ax, len(schemes))
    return title


def draw_clearing_costs(fig: Figure, series: RunSeries, schemes: Sequence[str]) -> str:
    """Activation cost per clearing (steps, left axis) and market slack (dotted, right axis)."""
    title = "Clearing cost, slack (dotted)"
    if series.clearings.empty:
        show_message(fig, "No clearing was recorded.")
        return title
    weights = _day_weights(series.clearings)
    if weights:
        title = "Clearing cost, slack (dotted), weighted mean day" + _days_line(weights, "weighted mean")
    fig.clear()
    ax = fig.add_subplot(111)
    ax2 = ax.twinx()
    for i, scheme in enumerate(schemes):
        c = series.clearings[series.clearings["scheme"] == scheme].sort_values("time_min")
        if weights:
            cost_d = c.pivot_table(index="day", columns="time_min", values="activation_cost_eur",
                                   aggfunc="sum")
            slack_d = c.pivot_table(index="day", columns="time_min", values="slack_energy_mwh",
                                    aggfunc="sum")
            mean_cost = _weighted_day(cost_d, weights)
            h, cost, slack = _held(_hours(mean_cost.index.to_numpy()), mean_cost,
                                   _weighted_day(slack_d, weights).reindex(mean_cost.index))
        else:
            h, cost, slack = _held(_hours(c["time_min"].to_numpy()), c["activation_cost_eur"],
                                   c["slack_energy_mwh"])
        colour = scheme_colour(scheme, i)
        ax.step(h, cost, where="post", color=colour, label=scheme, lw=1.4,
                gid=series_gid("line", "cost", scheme))
        ax2.step(h, slack, ":", where="post", color=colour, lw=1.0, gid=series_gid("line", "slack", scheme))
    ax.set_xlabel("time [h]")
    ax.set_ylabel("activation cost [EUR]")
    ax2.set_ylabel("slack [MWh]")
    ax2.grid(False)
    top_legend(ax, len(schemes))
    return title


def draw_voltages(fig: Figure, series: RunSeries, schemes: Sequence[str]) -> str:
    """Lowest (solid) and highest (dashed) measured bus voltage per measurement time and scheme, p.u."""
    title = "Voltage: min (solid), max (dashed)"
    m = series.measurements.dropna(subset=["vm_pu"]) if not series.measurements.empty else series.measurements
    if m.empty:
        show_message(fig, "No voltage measurement was recorded.")
        return title
    weights = _day_weights(m)
    if weights:  # min and max over the nodes and every day: the envelope, no mean
        title = "Voltage: min (solid), max (dashed) over nodes and days" + _days_line(weights, "envelope")
    fig.clear()
    ax = fig.add_subplot(111)
    for i, scheme in enumerate(schemes):
        g = m[m["scheme"] == scheme].groupby("time_min")["vm_pu"].agg(["min", "max"]).sort_index()
        if g.empty:
            continue
        h = _hours(g.index.to_numpy())
        colour = scheme_colour(scheme, i)
        ax.plot(h, g["min"], color=colour, lw=1.2, label=scheme, gid=series_gid("line", "vmin", scheme))
        ax.plot(h, g["max"], color=colour, lw=1.2, ls="--", gid=series_gid("line", "vmax", scheme))
    ax.set_xlabel("time [h]")
    ax.set_ylabel("voltage [p.u.]")
    top_legend(ax, len(schemes))
    return title
