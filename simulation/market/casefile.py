"""Market case files (JSON or YAML): grid references + bids + needs + timing. See ``docs/market.md``.

Paths inside a case file are relative to the case file. Grids are referenced, never embedded as
arrays: a pandapower network by the name of a function of ``pandapower.networks`` (``"case33bw"``)
or a pandapower JSON file, or a small hand-written transmission grid (nodes and lines).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulation.errors import MarketError
from simulation.market.bids import BidTable, bids_from_json_obj, read_bids_csv, read_bids_json
from simulation.market.case import DEFAULT_SLACK_PENALTY_EUR_PER_MWH, MarketCase, MarketTiming
from simulation.market.grids import CopperPlateNode, DistributionGrid, TransmissionGrid

_NET_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def _load_net(spec: dict[str, Any], base: Path, where: str) -> Any:
    import pandapower as pp
    import pandapower.networks as pn

    if "pandapower" in spec:
        name = str(spec["pandapower"])
        fn = getattr(pn, name, None) if _NET_NAME.match(name) else None
        if fn is None or not callable(fn):
            raise MarketError(
                f"{where}: field 'pandapower' = {name!r} is not a network of pandapower.networks"
            )
        return fn()
    if "pandapower_file" in spec:
        path = base / str(spec["pandapower_file"])
        from simulation.grid_json_guard import unsafe_object

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


def _needs(spec: Any, base: Path, src: str) -> dict[str, Any]:
    if isinstance(spec, dict):
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
        n = int(frame.step.max()) + 1 if len(frame) else 0
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
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise MarketError(f"{src}: cannot read the market case: {exc}") from exc
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            import yaml

            obj = yaml.safe_load(text)
        else:
            obj = json.loads(text)
    except Exception as exc:  # json / yaml parse errors
        raise MarketError(f"{src}: not a valid case file: {exc}") from exc
    if not isinstance(obj, dict):
        raise MarketError(f"{src}: a case file holds one object")
    base = path.parent
    try:
        timing = MarketTiming(**obj.get("timing", {}))
    except TypeError as exc:
        raise MarketError(f"{src}: field 'timing': {exc}") from exc
    if "transmission" not in obj:
        raise MarketError(f"{src}: field 'transmission' is missing")
    tg = _transmission(obj["transmission"], base, src)
    grids = []
    for i, d in enumerate(obj.get("distribution", [])):
        where = f"{src}: distribution[{i}]"
        for f in ("grid_id", "interface_node"):
            if f not in d:
                raise MarketError(f"{where}: field {f!r} is missing")
        net = _load_net(d, base, where)
        grids.append(
            DistributionGrid.from_pandapower(
                net,
                str(d["grid_id"]),
                str(d["interface_node"]),
                dso_id=str(d.get("dso_id", "")),
                vmin_pu=d.get("vmin_pu"),
                vmax_pu=d.get("vmax_pu"),
                branch_limit_mva=d.get("branch_limit_mva"),
            )
        )
    cps = [
        CopperPlateNode(str(c["node_id"]), str(c["interface_node"]), str(c.get("dso_id", "")))
        for c in obj.get("copper_plates", [])
    ]
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
    return MarketCase(
        transmission=tg,
        bids=bids,
        needs_mw=_needs(obj.get("needs_mw", {}), base, src),
        distribution=grids,
        copper_plates=cps,
        timing=timing,
        slack_penalty_eur_per_mwh=float(
            obj.get("slack_penalty_eur_per_mwh", DEFAULT_SLACK_PENALTY_EUR_PER_MWH)
        ),
        name=str(obj.get("name", path.stem)),
    )
