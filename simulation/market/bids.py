"""Bid catalogue of the real-time ancillary-services market: data model and file formats.

A **bid** is an offer (or, for commercial parties in IFM, a request) of flexibility at one node of the
market case, over the time steps of one clearing horizon. It is technology neutral; its product is
described by these attributes:

=========================  ========================================================================
attribute                  meaning
=========================  ========================================================================
``bid_id``                 unique id of the bid (str)
``owner``                  who submitted it: an aggregator, BSP or commercial party id (str)
``node``                   market node id: a transmission node, a node of a detailed distribution
                           grid, or a copper-plate distribution node (str)
``direction``              ``"up"`` (more injection / less consumption) or ``"down"`` (less
                           injection / more consumption)
``side``                   ``"sell"`` (offers flexibility; the default) or ``"buy"`` (a commercial
                           party buys flexibility; IFM only)
``party``                  ``"bsp"`` (balancing service provider offering to the system operators)
                           or ``"commercial"`` (BRPs, retailers: their bids count in IFM only)
``fill_or_kill``           True: non-curtailable, in each step activated fully (``quantity_mw``)
                           or not at all (a binary); False: curtailable, any value in
                           ``[min_quantity_mw, quantity_mw]`` when on, 0 when off
``min_quantity_mw``        smallest activation when the bid is on (curtailable bids; 0 = none)
``ramp_mw_per_step``       largest change of activation between consecutive steps, MW per step
                           (``inf`` = none); step 0 ramps from ``initial_activation_mw``
``initial_activation_mw``  activation of the bid in the step before the horizon (rolling clearing)
``min_duration_steps``     once activated, stays on for at least this many steps (0 or 1 = none;
                           cut short by the end of the horizon)
``initial_on_steps``       rolling clearing: how many consecutive steps up to the start of the
                           horizon the bid has already been on (0 = off); a bid on for ``k`` steps
                           with ``min_duration_steps = D > k`` must stay on in steps ``0..D-k-1``
                           (where it offers a quantity), and a bid that was on starts no new run
                           in step 0
``exclusive_group``        bids sharing a non-empty group are alternatives: at most one of them is
                           activated over the whole horizon ("" = none); a fill-or-kill bid of
                           an exclusive group is a **profile bid**: all of its profile (every step's
                           ``quantity_mw``) or nothing
``energy_group``           bids sharing a non-empty group obey one integral (energy) constraint
                           ``emin <= sum_b sum_t dir_b * a_bt * dt_h <= emax`` with
                           ``dir_b = +1`` up, ``-1`` down (see :class:`EnergyConstraint`); e.g. a
                           thermostatic load's payback links its up bid and its down bid with
                           ``emin = emax = 0``
``submitted_min``          submission time in minutes relative to the start of step 0 (usually
                           negative); a bid counts for step ``t`` only if it was submitted at least
                           ``gate_closure_min`` before that step starts (NaN = in time)
``quantity_mw[t]``         offered quantity in step ``t``, MW, >= 0 (0 = not offered in that step)
``price_eur_per_mwh[t]``   price in step ``t``, EUR/MWh: what the market operator pays per MWh
                           activated for a sell bid (negative = the provider pays), and what a buyer
                           is willing to pay per MWh for a buy bid
=========================  ========================================================================

Storage is columnar (:class:`BidTable`, structure of arrays with ``(n_bids, n_steps)`` matrices for
quantities and prices), so a clearing with thousands of bids is built with array operations. Single
bids can be written as :class:`Bid` objects and converted.

File formats
------------
CSV (long format): one row per bid and step, with columns ``bid_id, owner, node, direction, step,
quantity_mw, price_eur_per_mwh`` and optionally ``side, party, fill_or_kill, min_quantity_mw,
ramp_mw_per_step, initial_activation_mw, min_duration_steps, initial_on_steps, exclusive_group,
energy_group, submitted_min`` (bid attributes repeated on every row of the bid; they must agree). Steps
a bid has no
row for have quantity 0. Energy constraints, when any, go in a second CSV with columns ``group,
min_mwh, max_mwh`` (:func:`read_bids_csv` takes its path as ``energy_csv``).

JSON: ``{"bids": [{"bid_id": ..., "owner": ..., "node": ..., "direction": "up", ..., "steps":
[{"step": 0, "quantity_mw": 5.0, "price_eur_per_mwh": 40.0}, ...]}, ...], "energy_constraints":
[{"group": "hp1", "min_mwh": 0.0, "max_mwh": 0.0}]}``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from coordstudio.simulation.errors import MarketError

DIRECTIONS = ("up", "down")
SIDES = ("sell", "buy")
PARTIES = ("bsp", "commercial")

_BID_ATTRS = (
    "bid_id",
    "owner",
    "node",
    "direction",
    "side",
    "party",
    "fill_or_kill",
    "min_quantity_mw",
    "ramp_mw_per_step",
    "initial_activation_mw",
    "min_duration_steps",
    "initial_on_steps",
    "exclusive_group",
    "energy_group",
    "submitted_min",
)


@dataclass(frozen=True)
class BidStep:
    """Quantity and price of one bid in one time step."""

    step: int
    quantity_mw: float
    price_eur_per_mwh: float


@dataclass(frozen=True)
class Bid:
    """One bid written as an object (convenient for small cases; see the module docstring)."""

    bid_id: str
    owner: str
    node: str
    direction: str
    steps: tuple[BidStep, ...]
    side: str = "sell"
    party: str = "bsp"
    fill_or_kill: bool = False
    min_quantity_mw: float = 0.0
    ramp_mw_per_step: float = math.inf
    initial_activation_mw: float = 0.0
    min_duration_steps: int = 0
    initial_on_steps: int = 0
    exclusive_group: str = ""
    energy_group: str = ""
    submitted_min: float = math.nan

    @staticmethod
    def simple(
        bid_id: str,
        node: str,
        direction: str,
        quantity_mw: float | Sequence[float],
        price_eur_per_mwh: float | Sequence[float],
        n_steps: int = 1,
        owner: str = "",
        **attrs: Any,
    ) -> Bid:
        """A bid with the same (or per-step) quantity and price in each of ``n_steps`` steps."""
        q = (
            [float(quantity_mw)] * n_steps  # type: ignore[arg-type]
            if np.isscalar(quantity_mw)
            else [float(v) for v in quantity_mw]  # type: ignore[union-attr]
        )
        p = (
            [float(price_eur_per_mwh)] * len(q)  # type: ignore[arg-type]
            if np.isscalar(price_eur_per_mwh)
            else [float(v) for v in price_eur_per_mwh]  # type: ignore[union-attr]
        )
        if len(p) != len(q):
            raise MarketError(f"bid {bid_id!r}: {len(q)} quantities but {len(p)} prices")
        steps = tuple(BidStep(t, q[t], p[t]) for t in range(len(q)))
        return Bid(bid_id=bid_id, owner=owner or bid_id, node=node, direction=direction, steps=steps, **attrs)


@dataclass(frozen=True)
class EnergyConstraint:
    """Integral (energy) constraint of an energy group:
    ``min_mwh <= sum_{b in group} sum_t dir_b * a_bt * dt_h <= max_mwh``."""

    group: str
    min_mwh: float = -math.inf
    max_mwh: float = math.inf


@dataclass
class BidTable:
    """Columnar bid catalogue: one entry per bid in each 1-D array, ``(n_bids, n_steps)`` matrices.

    Build it with :meth:`from_bids`, :meth:`from_frame` (long format, as the CSV), :func:`read_bids_csv`
    or :func:`read_bids_json`; :meth:`validate` checks it against a case's nodes and horizon.
    ``direction`` is stored as +1 (up) / -1 (down); ``is_buy`` and ``is_commercial`` as booleans.
    """

    bid_id: np.ndarray
    owner: np.ndarray
    node: np.ndarray
    direction: np.ndarray
    is_buy: np.ndarray
    is_commercial: np.ndarray
    fill_or_kill: np.ndarray
    min_quantity_mw: np.ndarray
    ramp_mw_per_step: np.ndarray
    initial_activation_mw: np.ndarray
    min_duration_steps: np.ndarray
    exclusive_group: np.ndarray
    energy_group: np.ndarray
    submitted_min: np.ndarray
    quantity_mw: np.ndarray
    price_eur_per_mwh: np.ndarray
    energy_constraints: dict[str, EnergyConstraint] = field(default_factory=dict)
    initial_on_steps: np.ndarray | None = None
    """Steps the bid has been on up to the horizon's start (rolling clearing); ``None`` = all 0."""

    def __post_init__(self) -> None:
        n = len(self.bid_id)
        if self.initial_on_steps is None:
            self.initial_on_steps = np.zeros(n, dtype=int)
        else:
            self.initial_on_steps = np.asarray(self.initial_on_steps, dtype=int)

    # ------------------------------------------------------------------ construction
    @staticmethod
    def empty(n_steps: int) -> BidTable:
        """A table with no bid and ``n_steps`` steps."""
        return BidTable.from_columns({}, np.zeros((0, n_steps)), np.zeros((0, n_steps)))

    @staticmethod
    def from_columns(
        attrs: Mapping[str, Sequence[Any] | np.ndarray],
        quantity_mw: np.ndarray,
        price_eur_per_mwh: np.ndarray,
        energy_constraints: Iterable[EnergyConstraint] = (),
    ) -> BidTable:
        """Build from per-bid attribute columns (names as in the module docstring; missing optional
        columns take their defaults) and ``(n_bids, n_steps)`` quantity and price matrices."""
        q = np.asarray(quantity_mw, dtype=float)
        p = np.asarray(price_eur_per_mwh, dtype=float)
        if q.ndim != 2 or p.shape != q.shape:
            raise MarketError(
                f"bid table: quantity_mw {q.shape} and price_eur_per_mwh {p.shape} must be equal 2-D shapes"
            )
        n = q.shape[0]

        def col(name: str, default: Any, dtype: Any) -> np.ndarray:
            if name in attrs and attrs[name] is not None:
                arr = np.asarray(attrs[name])
                if arr.shape != (n,):
                    raise MarketError(f"bid table: column {name!r} has {arr.shape[0]} entries, expected {n}")
                if dtype is object:
                    return np.array(
                        ["" if (isinstance(v, float) and math.isnan(v)) else str(v) for v in arr],
                        dtype=object,
                    )
                return arr.astype(dtype)
            return np.full(n, default, dtype=dtype)

        for required in ("bid_id", "node", "direction"):
            if n and required not in attrs:
                raise MarketError(f"bid table: required column {required!r} is missing")
        bid_id = col("bid_id", "", object)
        direction_txt = col("direction", "up", object)
        bad = [d for d in set(direction_txt) if d not in DIRECTIONS]
        if bad:
            raise MarketError(f"bid table: field 'direction' must be 'up' or 'down', got {bad[0]!r}")
        side_txt = col("side", "sell", object)
        bad = [s for s in set(side_txt) if s not in SIDES]
        if bad:
            raise MarketError(f"bid table: field 'side' must be 'sell' or 'buy', got {bad[0]!r}")
        party_txt = col("party", "bsp", object)
        bad = [s for s in set(party_txt) if s not in PARTIES]
        if bad:
            raise MarketError(f"bid table: field 'party' must be 'bsp' or 'commercial', got {bad[0]!r}")
        owner = col("owner", "", object)
        owner = np.where(owner == "", bid_id, owner).astype(object)
        fok_raw = attrs.get("fill_or_kill")
        fok = (
            np.zeros(n, dtype=bool)
            if fok_raw is None
            else np.array([_to_bool(v) for v in fok_raw], dtype=bool)
        )
        ramp = col("ramp_mw_per_step", math.inf, float)
        ramp = np.where(np.isnan(ramp), math.inf, ramp)
        mind = col("min_duration_steps", 0, float)
        mind = np.where(np.isnan(mind), 0, mind).astype(int)
        on0 = col("initial_on_steps", 0, float)
        on0 = np.where(np.isnan(on0), 0, on0).astype(int)
        table = BidTable(
            bid_id=bid_id,
            owner=owner,
            node=col("node", "", object),
            direction=np.where(direction_txt == "up", 1, -1).astype(np.int8),
            is_buy=side_txt == "buy",
            is_commercial=party_txt == "commercial",
            fill_or_kill=fok,
            min_quantity_mw=np.nan_to_num(col("min_quantity_mw", 0.0, float)),
            ramp_mw_per_step=ramp,
            initial_activation_mw=np.nan_to_num(col("initial_activation_mw", 0.0, float)),
            min_duration_steps=mind,
            exclusive_group=col("exclusive_group", "", object),
            energy_group=col("energy_group", "", object),
            submitted_min=col("submitted_min", math.nan, float),
            quantity_mw=q,
            price_eur_per_mwh=p,
            energy_constraints={e.group: e for e in energy_constraints},
            initial_on_steps=on0,
        )
        table.check_values()
        return table

    @staticmethod
    def from_bids(
        bids: Iterable[Bid], n_steps: int, energy_constraints: Iterable[EnergyConstraint] = ()
    ) -> BidTable:
        """Build from :class:`Bid` objects over a horizon of ``n_steps`` steps."""
        bids = list(bids)
        q = np.zeros((len(bids), n_steps))
        p = np.zeros((len(bids), n_steps))
        for i, b in enumerate(bids):
            for s in b.steps:
                if not 0 <= s.step < n_steps:
                    raise MarketError(
                        f"bid {b.bid_id!r}: field 'step' = {s.step} is outside the horizon 0..{n_steps - 1}"
                    )
                q[i, s.step] = s.quantity_mw
                p[i, s.step] = s.price_eur_per_mwh
        attrs = {a: [getattr(b, a) for b in bids] for a in _BID_ATTRS}
        return BidTable.from_columns(attrs, q, p, energy_constraints)

    @staticmethod
    def from_frame(
        frame: pd.DataFrame,
        n_steps: int | None = None,
        energy_constraints: Iterable[EnergyConstraint] = (),
        source: str = "bid table",
    ) -> BidTable:
        """Build from a long-format frame (one row per bid and step, columns as the CSV format)."""
        missing = [
            c
            for c in ("bid_id", "node", "direction", "step", "quantity_mw", "price_eur_per_mwh")
            if c not in frame.columns
        ]
        if missing:
            raise MarketError(f"{source}: required column {missing[0]!r} is missing")
        if frame.empty:
            return BidTable.empty(n_steps or 1)
        steps = pd.to_numeric(frame["step"], errors="coerce")
        if steps.isna().any() or (steps < 0).any() or (steps != steps.round()).any():
            raise MarketError(f"{source}: field 'step' must be a non-negative integer")
        steps = steps.astype(int).to_numpy()
        horizon = int(steps.max()) + 1 if n_steps is None else n_steps
        if steps.max() >= horizon:
            raise MarketError(
                f"{source}: field 'step' = {steps.max()} is outside the horizon 0..{horizon - 1}"
            )
        ids = frame["bid_id"].astype(str).to_numpy()
        codes, uniques = pd.factorize(ids)
        n = len(uniques)
        q = np.zeros((n, horizon))
        p = np.zeros((n, horizon))
        qv = pd.to_numeric(frame["quantity_mw"], errors="coerce").to_numpy(float)
        pv = pd.to_numeric(frame["price_eur_per_mwh"], errors="coerce").to_numpy(float)
        if np.isnan(qv).any() or np.isnan(pv).any():
            raise MarketError(f"{source}: fields 'quantity_mw' and 'price_eur_per_mwh' must be numbers")
        if pd.Series(codes * horizon + steps).duplicated().any():
            raise MarketError(f"{source}: a bid has two rows for the same step")
        q[codes, steps] = qv
        p[codes, steps] = pv
        first = pd.Series(np.arange(len(codes))).groupby(codes).first().to_numpy()
        attrs: dict[str, Any] = {"bid_id": np.asarray(uniques, dtype=object)}
        for a in _BID_ATTRS[1:]:
            if a in frame.columns:
                colv = frame[a]
                if colv.groupby(codes).nunique(dropna=False).max() > 1:
                    raise MarketError(f"{source}: field {a!r} differs between the rows of one bid")
                attrs[a] = colv.to_numpy()[first]
        return BidTable.from_columns(attrs, q, p, energy_constraints)

    # ------------------------------------------------------------------ properties
    @property
    def n_bids(self) -> int:
        return int(self.quantity_mw.shape[0])

    @property
    def n_steps(self) -> int:
        return int(self.quantity_mw.shape[1])

    def __len__(self) -> int:
        return self.n_bids

    def on_steps(self) -> np.ndarray:
        """``initial_on_steps`` as an int array (typed accessor)."""
        if self.initial_on_steps is None:  # e.g. a table unpickled from before the field existed
            self.initial_on_steps = np.zeros(len(self.bid_id), dtype=int)
        return self.initial_on_steps

    def needs_binary(self) -> np.ndarray:
        """Bids that need an on/off binary: fill-or-kill, min quantity, min duration, exclusive group."""
        return (
            self.fill_or_kill
            | (self.min_quantity_mw > 0)
            | (self.min_duration_steps > 1)
            | (self.exclusive_group != "")
        )

    def subset(self, mask: np.ndarray) -> BidTable:
        """The bids selected by a boolean mask or an index array (energy constraints kept)."""
        idx = np.flatnonzero(mask) if np.asarray(mask).dtype == bool else np.asarray(mask, dtype=int)
        kw = {a: getattr(self, a)[idx] for a in self._array_fields()}
        return BidTable(**kw, energy_constraints=dict(self.energy_constraints))

    @staticmethod
    def concat(tables: Sequence[BidTable]) -> BidTable:
        """Stack several tables with the same horizon (energy constraints merged)."""
        if not tables:
            raise MarketError("bid table: nothing to concatenate")
        kw = {a: np.concatenate([getattr(t, a) for t in tables]) for a in BidTable._array_fields()}
        ec: dict[str, EnergyConstraint] = {}
        for t in tables:
            ec.update(t.energy_constraints)
        return BidTable(**kw, energy_constraints=ec)

    @staticmethod
    def _array_fields() -> tuple[str, ...]:
        return (
            "bid_id",
            "owner",
            "node",
            "direction",
            "is_buy",
            "is_commercial",
            "fill_or_kill",
            "min_quantity_mw",
            "ramp_mw_per_step",
            "initial_activation_mw",
            "min_duration_steps",
            "exclusive_group",
            "energy_group",
            "submitted_min",
            "quantity_mw",
            "price_eur_per_mwh",
            "initial_on_steps",
        )

    # ------------------------------------------------------------------ checks
    def check_values(self) -> None:
        """Check what needs no case: unique ids, non-negative finite quantities, finite prices, ..."""
        if len(set(self.bid_id)) != self.n_bids:
            dup = pd.Series(self.bid_id).loc[pd.Series(self.bid_id).duplicated()].iloc[0]
            raise MarketError(f"bid {dup!r}: field 'bid_id' is not unique")
        for name in ("quantity_mw", "price_eur_per_mwh"):
            arr = getattr(self, name)
            bad = ~np.isfinite(arr)
            if bad.any():
                i, t = np.argwhere(bad)[0]
                raise MarketError(
                    f"bid {self.bid_id[i]!r}: field {name!r} in step {t} is not a finite number"
                )
        neg = self.quantity_mw < 0
        if neg.any():
            i, t = np.argwhere(neg)[0]
            raise MarketError(
                f"bid {self.bid_id[i]!r}: field 'quantity_mw' in step {t} is negative "
                f"({self.quantity_mw[i, t]}); "
                "use direction 'down' for downward flexibility"
            )
        for name in (
            "min_quantity_mw",
            "ramp_mw_per_step",
            "initial_activation_mw",
            "min_duration_steps",
            "initial_on_steps",
        ):
            arr = self.on_steps() if name == "initial_on_steps" else getattr(self, name)
            if (arr < 0).any():
                i = int(np.flatnonzero(arr < 0)[0])
                raise MarketError(f"bid {self.bid_id[i]!r}: field {name!r} is negative ({arr[i]})")
        bad_buy = self.is_buy & ~self.is_commercial
        if bad_buy.any():
            i = int(np.flatnonzero(bad_buy)[0])
            raise MarketError(
                f"bid {self.bid_id[i]!r}: field 'side' = 'buy' needs field 'party' = 'commercial'"
            )
        groups = set(self.energy_group) - {""}
        for g, ec in self.energy_constraints.items():
            if ec.min_mwh > ec.max_mwh:
                raise MarketError(f"energy constraint {g!r}: field 'min_mwh' exceeds 'max_mwh'")
        missing = groups - set(self.energy_constraints)
        if missing:
            g = sorted(missing)[0]
            i = int(np.flatnonzero(self.energy_group == g)[0])
            raise MarketError(
                f"bid {self.bid_id[i]!r}: field 'energy_group' = {g!r} has no energy constraint"
            )

    def check_nodes(self, known_nodes: set[str] | dict[str, Any], source: str = "bid table") -> None:
        """Raise :class:`MarketError` naming the first bid whose node is not a node of the case."""
        known = set(known_nodes)
        for i, nd in enumerate(self.node):
            if nd not in known:
                raise MarketError(
                    f"{source}: bid {self.bid_id[i]!r}: field 'node' = {nd!r} is not a node of the case"
                )

    # ------------------------------------------------------------------ output
    def to_frame(self) -> pd.DataFrame:
        """Long-format frame (one row per bid and step with a positive quantity), as the CSV format."""
        i, t = np.nonzero(self.quantity_mw > 0)
        return pd.DataFrame(
            {
                "bid_id": self.bid_id[i],
                "owner": self.owner[i],
                "node": self.node[i],
                "direction": np.where(self.direction[i] > 0, "up", "down"),
                "side": np.where(self.is_buy[i], "buy", "sell"),
                "party": np.where(self.is_commercial[i], "commercial", "bsp"),
                "fill_or_kill": self.fill_or_kill[i],
                "min_quantity_mw": self.min_quantity_mw[i],
                "ramp_mw_per_step": self.ramp_mw_per_step[i],
                "initial_activation_mw": self.initial_activation_mw[i],
                "min_duration_steps": self.min_duration_steps[i],
                "initial_on_steps": self.on_steps()[i],
                "exclusive_group": self.exclusive_group[i],
                "energy_group": self.energy_group[i],
                "submitted_min": self.submitted_min[i],
                "step": t,
                "quantity_mw": self.quantity_mw[i, t],
                "price_eur_per_mwh": self.price_eur_per_mwh[i, t],
            }
        )

    def to_json_obj(self) -> dict[str, Any]:
        """The JSON format as a Python object."""
        bids = []
        for i in range(self.n_bids):
            steps = [
                {
                    "step": int(t),
                    "quantity_mw": float(self.quantity_mw[i, t]),
                    "price_eur_per_mwh": float(self.price_eur_per_mwh[i, t]),
                }
                for t in np.flatnonzero(self.quantity_mw[i] > 0)
            ]
            bids.append(
                {
                    "bid_id": str(self.bid_id[i]),
                    "owner": str(self.owner[i]),
                    "node": str(self.node[i]),
                    "direction": "up" if self.direction[i] > 0 else "down",
                    "side": "buy" if self.is_buy[i] else "sell",
                    "party": "commercial" if self.is_commercial[i] else "bsp",
                    "fill_or_kill": bool(self.fill_or_kill[i]),
                    "min_quantity_mw": float(self.min_quantity_mw[i]),
                    "ramp_mw_per_step": None
                    if math.isinf(self.ramp_mw_per_step[i])
                    else float(self.ramp_mw_per_step[i]),
                    "initial_activation_mw": float(self.initial_activation_mw[i]),
                    "min_duration_steps": int(self.min_duration_steps[i]),
                    "initial_on_steps": int(self.on_steps()[i]),
                    "exclusive_group": str(self.exclusive_group[i]),
                    "energy_group": str(self.energy_group[i]),
                    "submitted_min": None
                    if math.isnan(self.submitted_min[i])
                    else float(self.submitted_min[i]),
                    "steps": steps,
                }
            )
        ecs = [
            {"group": e.group, "min_mwh": _finite_or_none(e.min_mwh), "max_mwh": _finite_or_none(e.max_mwh)}
            for e in self.energy_constraints.values()
        ]
        return {"n_steps": self.n_steps, "bids": bids, "energy_constraints": ecs}


# ---------------------------------------------------------------------- file formats
def _to_bool(v: Any) -> bool:
    if isinstance(v, str):
        s = v.strip().lower()
        if s in ("1", "true", "yes", "y", "t"):
            return True
        if s in ("0", "false", "no", "n", "f", "", "nan"):
            return False
        raise MarketError(f"bid table: field 'fill_or_kill' must be true or false, got {v!r}")
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return False
    return bool(v)


def _finite_or_none(x: float) -> float | None:
    return None if math.isinf(x) else float(x)


def _energy_constraints_from_rows(rows: Iterable[dict[str, Any]], source: str) -> list[EnergyConstraint]:
    out = []
    for r in rows:
        if "group" not in r:
            raise MarketError(f"{source}: an energy constraint has no field 'group'")
        lo = r.get("min_mwh")
        hi = r.get("max_mwh")
        lo = -math.inf if lo is None or (isinstance(lo, float) and math.isnan(lo)) else float(lo)
        hi = math.inf if hi is None or (isinstance(hi, float) and math.isnan(hi)) else float(hi)
        out.append(EnergyConstraint(str(r["group"]), lo, hi))
    return out


def read_bids_csv(
    path: str | Path, n_steps: int | None = None, energy_csv: str | Path | None = None
) -> BidTable:
    """Read the CSV format (see the module docstring)."""
    path = Path(path)
    try:
        frame = pd.read_csv(
            path,
            dtype={"bid_id": str, "owner": str, "node": str, "exclusive_group": str, "energy_group": str},
            keep_default_na=False,
            na_values={
                "ramp_mw_per_step": [""],
                "submitted_min": [""],
                "min_quantity_mw": [""],
                "initial_activation_mw": [""],
                "min_duration_steps": [""],
                "initial_on_steps": [""],
            },
        )
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise MarketError(f"{path}: cannot read bids: {exc}") from exc
    ecs: list[EnergyConstraint] = []
    if energy_csv is not None:
        try:
            ef = pd.read_csv(energy_csv)
        except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise MarketError(f"{energy_csv}: cannot read energy constraints: {exc}") from exc
        ecs = _energy_constraints_from_rows(ef.to_dict("records"), str(energy_csv))
    return BidTable.from_frame(frame, n_steps, ecs, source=str(path))


def bids_from_json_obj(obj: dict[str, Any], n_steps: int | None = None, source: str = "bids") -> BidTable:
    """Build a table from the JSON format already parsed into Python objects."""
    if not isinstance(obj, dict) or "bids" not in obj:
        raise MarketError(f"{source}: JSON bids must be an object with a 'bids' list")
    rows = []
    for b in obj["bids"]:
        if "bid_id" not in b:
            raise MarketError(f"{source}: a bid has no field 'bid_id'")
        attrs = {k: v for k, v in b.items() if k != "steps"}
        for a in ("ramp_mw_per_step", "submitted_min"):
            if attrs.get(a) is None:
                attrs.pop(a, None)
        for s in b.get("steps", []):
            rows.append({**attrs, **s})
        if not b.get("steps"):
            rows.append({**attrs, "step": 0, "quantity_mw": 0.0, "price_eur_per_mwh": 0.0})
    frame = pd.DataFrame(rows)
    if frame.empty:
        return BidTable.empty(n_steps or int(obj.get("n_steps", 1)))
    ecs = _energy_constraints_from_rows(obj.get("energy_constraints", []), source)
    return BidTable.from_frame(frame, n_steps or obj.get("n_steps"), ecs, source=source)


def read_bids_json(path: str | Path, n_steps: int | None = None) -> BidTable:
    """Read the JSON format (see the module docstring)."""
    from coordstudio.simulation.safe_yaml import read_data_file

    path = Path(path)
    obj = read_data_file(path, json_format=True)
    return bids_from_json_obj(obj, n_steps, source=str(path))


def write_bids_csv(table: BidTable, path: str | Path) -> None:
    """Write the CSV format (atomic)."""
    from coordstudio.simulation.fileio import atomic_write_text

    atomic_write_text(Path(path), table.to_frame().to_csv(index=False))


def write_bids_json(table: BidTable, path: str | Path) -> None:
    """Write the JSON format (atomic)."""
    from coordstudio.simulation.fileio import atomic_write_text

    atomic_write_text(Path(path), json.dumps(table.to_json_obj(), indent=1))
