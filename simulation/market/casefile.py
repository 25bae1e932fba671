"""Market case files (JSON or YAML): grid references + bids + needs + timing. See ``docs/market.md``.

Paths inside a case file are relative to the case file. Grids are referenced, never embedded as
arrays: a pandapower network by the name of a function of ``pandapower.networks`` (``"case33bw"``)
or a pandapower JSON file, or a small hand-written transmission grid (nodes and lines).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from coordstudio.simulation.errors import MarketError
from coordstudio.simulation.grid_files import PANDAPOWER_CASES
from coordstudio.simulation.market.bids import BidTable, bids_from_json_obj, read_bids_csv, read_bids_json
from coordstudio.simulation.market.case import DEFAULT_SLACK_PENALTY_EUR_PER_MWH, MarketCase, MarketTiming
from coordstudio.simulation.market.grids import CopperPlateNode, DistributionGrid, TransmissionGrid
from coordstudio.simulation.safe_yaml import read_data_file

_T = TypeVar("_T")

MAX_HORIZON_STEPS = 2016
"""Most market time units of one case (a week of 5-minute units): arrays are sized by it."""

_BAD_VALUE: tuple[type[BaseException], ...] = (
    KeyError, TypeError, ValueError, IndexError, AttributeError, OverflowError, ZeroDivisionError,
)
"""What a wrong type or value raises deep in numpy, pandas or the grid builders; turned into MarketError."""


def _guarded(where: str, build: Callable[[], _T]) -> _T:
    """Run one section's builder; a wrong type or value anywhere in it becomes one MarketError line
    naming the file and the section (the explicit checks name the field themselves)."""
    try:
        return build()
    except MarketError:
        raise
    except _BAD_VALUE as exc:
        text = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise MarketError(f"{where}: invalid value ({type(exc).__name__}: {text})") from None


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MarketError(f"{where}: expected an object with fields, got {type(value).__name__}")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise MarketError(f"{where}: expected a list, got {type(value).__name__}")
    return value


def _finite(value: Any, where: str, low: float | None = None) -> float:
    """A finite number (not a bool), at least ``low`` if given."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise MarketError(f"{where}: expected a number, got {type(value).__name__}")
    try:
        number = float(value)
    except ValueError:
        raise MarketError(f"{where}: expected a number, got {str(value)[:40]!r}") from None
    if not math.isfinite(number):
        raise MarketError(f"{where}: expected a finite number, got {value!r}")
    if low is not None and number < low:
        raise MarketError(f"{where}: must be at least {low:g}, got {number:g}")
    return number


def _timing(spec: Any, src: str) -> MarketTiming:
    where = f"{src}: timing"
    spec = _mapping(spec, where)
    known = MarketTiming.__dataclass_fields__
    values: dict[str, Any] = {}
    for name, value in spec.items():
        if name not in known:
            raise MarketError(f"{where}: unknown field {str(name)[:40]!r}; known: {', '.join(known)}")
        if name == "rolling":
            if not isinstance(value, bool):
                raise MarketError(f"{where}: field 'rolling' must be true or false, got {value!r}")
            values[name] = value
        elif name == "horizon_steps":
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_HORIZON_STEPS:
                raise MarketError(
                    f"{where}: field 'horizon_steps' must be a whole number 1 to {MAX_HORIZON_STEPS}, "
                    f"got {str(value)[:40]}"
                )
            values[name] = value
        else:
            values[name] = _finite(value, f"{where}: field {name!r}", low=0.0)
    return MarketTiming(**values)


def _load_net(spec: dict[str, Any], base: Path, where: str) -> Any:
    import pandapower as pp
    import pandapower.networks as pn

    if "pandapower" in spec:
        name = str(spec["pandapower"])
        # an explicit table: a name looked up as any attribute of the module could reach create_bus, runpp
        fn = getattr(pn, name, None) if name in PANDAPOWER_CASES else None
        if fn is None or not callable(fn):
            raise MarketError(
                f"{where}: field 'pandapower' = {name[:60]!r} is not a network of pandapower.networks"
            )
        return fn()
    if "pandapower_file" in spec:
        path = base / str(spec["pandapower_file"])
        from coordstudio.simulation.grid_json_guard import unsafe_object

        refused = unsafe_object(path)  # before pandapower imports what the file names
        if refused is not None:
            raise MarketError(f"{where}: pandapower file {path}: {refused}")
        try:
            return pp.from_json(str(path))
        except Exception as exc:  # pandapower raises several types
            raise MarketError(f"{where}: cannot read pandapower file {path}: {exc}") from exc
    raise MarketError(f"{where}: give 'pandapower' (a network name) or 'pandapower_file'")


def _transmission(spec: dict[str, Any], base: Path, src: str) -> TransmissionGrid:
    where = f"{src}: transmission"
    if "nodes" in spec:
        nodes = [str(n) for n in spec["nodes"]]
        lines = []
        for i, ln in enumerate(spec.get("lines", [])):
            try:
                rating = ln.get("rating_mw")
                lines.append(
                    (
                        str(ln["from"]),
                        str(ln["to"]),
                        float(ln["x_pu"]),
                        float("inf") if rating is None else float(rating),
                    )
                )
            except (KeyError, TypeError, ValueError) as exc:
                raise MarketError(
                    f"{where}: line {i}: needs 'from', 'to', 'x_pu' (and optional 'rating_mw'): {exc}"
                ) from exc
        inj = spec.get("base_injection_mw", {})
        idx = {n: i for i, n in enumerate(nodes)}
        base_inj = np.zeros(len(nodes))
        for nd, val in inj.items():
            if nd not in idx:
                raise MarketError(f"{where}: field 'base_injection_mw': {nd!r} is not a node")
            base_inj[idx[nd]] = float(val)
        return TransmissionGrid.from_lines(nodes, lines, base_inj, float(spec.get("base_mva", 100.0)))
    net = _load_net(spec, base, where)
    return TransmissionGrid.from_pandapower(
        net,
        node_prefix=str(spec.get("node_prefix", "t")),
        rating_factor=float(spec.get("rating_factor", 1.0)),
    )


def _distribution(d: dict[str, Any], base: Path, where: str) -> DistributionGrid:
    """One ``distribution:`` entry: its grid and its voltage and branch limits."""
    limits = {f: d.get(f) for f in ("vmin_pu", "vmax_pu", "branch_limit_mva")}
    for f, value in limits.items():
        if value is not None:
            limits[f] = _finite(value, f"{where}: field {f!r}", low=0.0)
    vmin, vmax = limits["vmin_pu"], limits["vmax_pu"]
    if vmin is not None and vmax is not None and vmin >= vmax:
        raise MarketError(f"{where}: field 'vmin_pu' must be below field 'vmax_pu'")
    return DistributionGrid.from_pandapower(
        _load_net(d, base, where),
        str(d["grid_id"]),
        str(d["interface_node"]),
        dso_id=str(d.get("dso_id", "")),
        vmin_pu=vmin,
        vmax_pu=vmax,
        branch_limit_mva=limits["branch_limit_mva"],
    )


def _needs(spec: Any, base: Path, src: str, n_steps: int) -> dict[str, Any]:
    if isinstance(spec, dict):
        for node, values in spec.items():
            where = f"{src}: needs_mw[{str(node)[:40]}]"
            items = values if isinstance(values, list) else [values]
            if len(items) > n_steps:
                raise MarketError(f"{where}: {len(items)} values for {n_steps} market time units")
            for k, value in enumerate(items):
                _finite(value, f"{where}[{k}]")
        return spec
    if isinstance(spec, str):
        path = base / spec
        try:
            frame = pd.read_csv(path, dtype={"node": str})
        except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise MarketError(f"{path}: cannot read needs: {exc}") from exc
        for c in ("node", "step", "need_mw"):
            if c not in frame.columns:
                raise MarketError(f"{path}: required column {c!r} is missing")
        out: dict[str, list[float]] = {}
        steps = pd.to_numeric(frame.step, errors="coerce")
        needs = pd.to_numeric(frame.need_mw, errors="coerce")
        for row in range(len(frame)):
            step, need = steps.iloc[row], needs.iloc[row]
            if not (math.isfinite(step) and step == int(step) and 0 <= step < n_steps):
                raise MarketError(
                    f"{path}: row {row + 2}: field 'step' must be a whole number 0 to {n_steps - 1}, "
                    f"got {str(frame.step.iloc[row])[:40]!r}"
                )
            if not math.isfinite(need):
                raise MarketError(
                    f"{path}: row {row + 2}: field 'need_mw' must be a finite number, "
                    f"got {str(frame.need_mw.iloc[row])[:40]!r}"
                )
        n = int(steps.max()) + 1 if len(frame) else 0
        for nd, grp in frame.groupby("node"):
            arr = np.zeros(n)
            arr[grp.step.astype(int).to_numpy()] = grp.need_mw.astype(float).to_numpy()
            out[str(nd)] = arr.tolist()
        return out
    raise MarketError(f"{src}: field 'needs_mw' must be a mapping node -> values or a CSV path")


def load_case(path: str | Path) -> MarketCase:
    """Read a market case file (``.json``, ``.yaml`` or ``.yml``)."""
    path = Path(path)
    src = str(path)
    obj = read_data_file(path, json_format=path.suffix.lower() not in (".yaml", ".yml"))
    if not isinstance(obj, dict):
        raise MarketError(f"{src}: a case file holds one object")
    base = path.parent
    timing = _timing(obj.get("timing", {}), src)
    if "transmission" not in obj:
        raise MarketError(f"{src}: field 'transmission' is missing")
    tspec = _mapping(obj["transmission"], f"{src}: transmission")
    tg = _guarded(f"{src}: transmission", lambda: _transmission(tspec, base, src))
    grids = []
    for i, d in enumerate(_list(obj.get("distribution", []), f"{src}: distribution")):
        where = f"{src}: distribution[{i}]"
        d = _mapping(d, where)
        for f in ("grid_id", "interface_node"):
            if f not in d:
                raise MarketError(f"{where}: field {f!r} is missing")
        grids.append(_guarded(where, functools.partial(_distribution, d, base, where)))
    cps = []
    for i, c in enumerate(_list(obj.get("copper_plates", []), f"{src}: copper_plates")):
        where = f"{src}: copper_plates[{i}]"
        c = _mapping(c, where)
        for f in ("node_id", "interface_node"):
            if f not in c:
                raise MarketError(f"{where}: field {f!r} is missing")
        cps.append(CopperPlateNode(str(c["node_id"]), str(c["interface_node"]), str(c.get("dso_id", ""))))
    bids = _guarded(f"{src}: bids", lambda: _bids(obj, base, src, timing))
    needs = _guarded(
        f"{src}: needs_mw", lambda: _needs(obj.get("needs_mw", {}), base, src, timing.horizon_steps)
    )
    penalty = _finite(
        obj.get("slack_penalty_eur_per_mwh", DEFAULT_SLACK_PENALTY_EUR_PER_MWH),
        f"{src}: field 'slack_penalty_eur_per_mwh'",
        low=0.0,
    )
    return _guarded(
        src,
        lambda: MarketCase(
            transmission=tg,
            bids=bids,
            needs_mw=needs,
            distribution=grids,
            copper_plates=cps,
            timing=timing,
            slack_penalty_eur_per_mwh=penalty,
            name=str(obj.get("name", path.stem)),
        ),
    )


def _bids(obj: dict[str, Any], base: Path, src: str, timing: MarketTiming) -> BidTable:
    """The case's bids: a CSV or JSON file next to it, or a JSON bids object inline."""
    bspec = obj.get("bids")
    bids: BidTable
    if isinstance(bspec, str):
        bpath = base / bspec
        if bpath.suffix.lower() == ".json":
            bids = read_bids_json(bpath, timing.horizon_steps)
        else:
            ec = obj.get("energy_constraints_csv")
            bids = read_bids_csv(bpath, timing.horizon_steps, None if ec is None else base / ec)
    elif isinstance(bspec, dict):
        bids = bids_from_json_obj(bspec, timing.horizon_steps, source=f"{src}: bids")
    else:
        raise MarketError(f"{src}: field 'bids' must be a CSV/JSON path or a JSON bids object")
    return bids
