"""The clearing model of :mod:`~simulation.market.model` assembled as arrays for HiGHS, without Pyomo.

Why: building the Pyomo model and compiling it to matrices was 70 % of a DC clearing of
case1354pegase (build 0.97 s, compile + load 0.7-0.9 s, HiGHS 0.6 s) and, through the four compiles of
a session's parameter map, most of the Italian-scale first clearing (issue 21, P1 and P2). Here every
constraint family of :func:`~simulation.market.model.build_model` is one numpy builder that returns
its rows as coordinates; :func:`build_direct_model` joins them into the
:class:`~simulation.market.highs_blocks.CompiledLP` that Pyomo's standard-form compiler
(:func:`~simulation.market.highs_direct.compile_lp`) makes of the same model, **in the same column and
row order, with the same numbers** (the tests compare the two entry by entry), so HiGHS takes the same
path and gives the same point.

The Pyomo model stays the model of record: this path covers the problems whose bids are continuous
(energy groups included) and, in a model of the offered pairs only (a fresh clearing: the
decentralised schemes' sub-models, built each clearing), fill-or-kill bids and exclusive groups with
their binaries (:func:`supports_direct`; HiGHS takes the integrality per column). It is taken only with
HiGHS (:func:`build_clearing_model`); minimum quantities and durations, ramp limits, a session's model
with binaries and every other solver are built in Pyomo as before. Since issue 21's fourth session
every sub-model of the default study's SBR, LMS and CM-D days is held as arrays (their Pyomo build and
compile were 45 % of SBR's day and a quarter of LMS's and CM-D's).

Column order (what the compiler does): the variables are numbered component by component, a whole
component at the first term that names one of its free variables, walking the objective first and
then the active constraints in declaration order; columns with no non-zero coefficient and fixed
columns (the reference angle) are dropped afterwards, and zero coefficients never enter the matrix.

A re-clearing with new data (:meth:`DirectModel.set_problem`) rebuilds the arrays (numpy only, a few
tens of ms at the Italian scale): for these bids the matrix does not depend on the data (quantities,
prices, needs, loads, import targets and energy limits sit in bounds, costs and right-hand sides), so
HiGHS keeps its basis and every appended row.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import scipy.sparse as sp

from coordstudio.simulation.market.highs_blocks import CompiledLP
from coordstudio.simulation.market.model import (
    _import_bounds,
    build_model,
    bus_susceptance_mw,
    energy_limits,
    gc_paused,
    grid_layout,
)
from coordstudio.simulation.market.problem import Problem

KINDS = ("a", "su", "sd", "dsu", "dsd", "l", "v", "P", "Q", "theta", "imp", "impq", "u", "z")
"""Variable components of the clearing model (names as in :mod:`~simulation.market.model`)."""

_OBJECTIVE_ORDER = ("a", "su", "sd", "dsu", "dsd", "l")
"""Order of the components' first terms in the objective (:func:`~simulation.market.model.add_objective`)."""

_IN_ROW_ORDER = ("dsu", "dsd", "a", "u", "z", "su", "sd", "v", "P", "Q", "l", "imp", "theta", "impq")
_IN_ROW_RANK = {k: r for r, k in enumerate(_IN_ROW_ORDER)}
"""Order of the components' terms inside one row, the same in every family's rule (a tie-break for
components first met in the same row)."""

INF = math.inf


COVERED_BID_ATTRS = frozenset(
    {
        "bid_id",
        "owner",
        "node",
        "direction",
        "side",
        "party",
        "energy_group",
        "submitted_min",
        # products the arrays do not model: supports_direct() refuses a problem that uses one
        "fill_or_kill",
        "min_quantity_mw",
        "ramp_mw_per_step",
        "min_duration_steps",
        "exclusive_group",
        # read only by the refused products (ramp, minimum duration)
        "initial_activation_mw",
        "initial_on_steps",
    }
)
"""The bid attributes this module has been checked against (modelled, irrelevant to the model, or
refused by :func:`supports_direct`). A new product's attribute is not in it: the tests then fail until
:func:`supports_direct` refuses it or a builder here models it."""


def supports_direct(p: Problem, reusable: bool = False) -> bool:
    """Whether :func:`build_direct_model` covers ``p``: continuous bids (energy groups allowed) and, for a
    model of the offered pairs only (not ``reusable``), fill-or-kill bids and exclusive groups (of
    fill-or-kill and curtailable bids: the default study's sub-clearings, issue 21's fourth session).

    Why not those in a session's model (``reusable``): their rows ``a_bt = q_bt u_bt`` and
    ``a_bt <= q_bt z_b`` have the quantity in the matrix, and a session's Pyomo model keeps that entry
    (its parameter map) while the quantity goes to 0 and back; the arrays, like a fresh compile, drop a
    zero entry, so the session would reload HiGHS where it now re-clears in place. A fresh model (the
    decentralised schemes' sub-clearings) follows the compile, which is what these arrays equal."""
    bt = p.bids
    return not (
        (reusable and (bt.fill_or_kill.any() or (bt.exclusive_group != "").any()))
        or (bt.min_quantity_mw > 0).any()
        or (bt.min_duration_steps > 1).any()
        or np.isfinite(bt.ramp_mw_per_step).any()
    )


@dataclass
class _Rows:
    """One constraint family's rows: entries ``(row, kind, local index, coefficient)`` in the order the
    family's rule writes its terms, and the rows' bounds."""

    n: int
    row: np.ndarray
    kind: np.ndarray
    local: np.ndarray
    coef: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    linking: bool = False


def _entries(parts: list[tuple[Any, str, Any, Any]]) -> tuple[np.ndarray, ...]:
    """Concatenate ``(row, kind, local, coef)`` pieces (kind by name)."""
    if not parts:
        z = np.zeros(0, dtype=np.int64)
        return z, z, z, np.zeros(0)
    row = np.concatenate([np.asarray(r, dtype=np.int64) for r, _, _, _ in parts])
    kind = np.concatenate([np.full(len(r), KINDS.index(k), dtype=np.int64) for r, k, _, _ in parts])
    local = np.concatenate([np.asarray(x, dtype=np.int64) for _, _, x, _ in parts])
    coef = np.concatenate([np.broadcast_to(np.asarray(c, dtype=float), (len(r),)) for r, _, _, c in parts])
    return row, kind, local, coef


@dataclass
class DirectModel:
    """A clearing model held as arrays (module docstring); quacks like the Pyomo model where
    :mod:`~simulation.market.highs_direct` and the schemes read one (``_pairs``, ``_d``)."""

    problem: Problem
    """The problem whose data the arrays hold now."""
    reusable: bool
    """Every (bid, step) pair has a column (a session's model), not only the offered ones."""
    _pairs: list[tuple[int, int]]
    """The (bid, step) pair of each activation column, as ``m._pairs`` of the Pyomo model."""
    _d: dict[str, Any]
    """The distribution grids' numbering (:func:`~simulation.market.model.grid_layout`)."""
    comp: CompiledLP
    """The arrays as HiGHS takes them (``columns``: position in the raw numbering of :data:`KINDS`)."""
    index: dict[str, np.ndarray]
    """Column of every variable and row of every balance, by name (``col_a``, ``col_theta``, ...,
    ``row_tbal``, ``row_dbal``; -1 for a column the compile dropped)."""
    has_flow_limits: bool = False
    """The transmission grid has rated branches (their limits are added lazily by the solve)."""
    changed: bool = False
    """New data since HiGHS last received the arrays (set by :meth:`set_problem`)."""

    def set_problem(self, p: Problem) -> None:
        """The data of ``p`` (same structure: bids, grids and interface modes) in place of the model's;
        the arrays are rebuilt (:meth:`HighsDirect.update` sends HiGHS what changed).

        A model of the offered pairs only may lose entries and columns here, as a Pyomo compile of the
        changed model does (a fill-or-kill quantity set to 0, as LMS's residual bids do: the entry
        ``q u`` and the binary go); :meth:`HighsDirect.update` then reloads HiGHS, as it does after
        that compile. A session's model (``reusable``) keeps its structure."""
        new = build_direct_model(p, self.reusable, pairs=self._pairs)
        if self.reusable and new.comp.A.shape != self.comp.A.shape:
            raise ValueError(f"{p.name}: the new data changes the clearing model's structure")
        self.problem, self.comp, self._d, self.index = p, new.comp, new._d, new.index
        self.changed = True

    def set_import_target(self, g: int, t: int, target_mw: float) -> None:
        """:func:`~simulation.market.model.set_import_target` for the arrays: grid ``g``'s import row
        in step ``t`` gets the bounds the Pyomo model's parameters would give it (``lo = hi = target``,
        or the free range for NaN); HiGHS receives them at the next :meth:`HighsDirect.update`, as the
        Pyomo path's row-bound update sends them. (:attr:`problem` keeps the target it was built with.)"""
        row = int(self.index["row_imp"][g, t])
        if row < 0:
            raise ValueError(f"{self.problem.name}: grid {g} has no import target (coupled)")
        lo, hi = _import_bounds(float(target_mw))
        c = self.comp
        if c.row_lo[row] == lo and c.row_hi[row] == hi:
            return
        row_lo, row_hi = c.row_lo.copy(), c.row_hi.copy()  # new vectors: update() compares with the old
        row_lo[row], row_hi[row] = lo, hi
        self.comp = replace(c, row_lo=row_lo, row_hi=row_hi)
        self.changed = True


# ---------------------------------------------------------------------------------------------- families
def fill_or_kill_rows(p: Problem, pairs: np.ndarray, fok_pos: np.ndarray, r0: int) -> _Rows:
    """:func:`~simulation.market.model.add_fill_or_kill`: ``a_bt - q_bt u_bt = 0`` per offered pair of a
    fill-or-kill bid (in pair order: bids by index, steps in order), ``u`` numbered per fill-or-kill bid
    and step (``fok_pos``: a bid's place among them, -1 for the others)."""
    T = p.n_steps
    sel = np.flatnonzero(fok_pos[pairs[:, 0]] >= 0) if len(pairs) else np.zeros(0, dtype=np.int64)
    b, t = pairs[sel, 0], pairs[sel, 1]
    rows = r0 + np.arange(len(sel))
    q = p.bids.quantity_mw[b, t]
    row, kind, local, coef = _entries([(rows, "a", sel, 1.0), (rows, "u", fok_pos[b] * T + t, -q)])
    z = np.zeros(len(sel))
    return _Rows(len(sel), row, kind, local, coef, z, z.copy())


def unoffered_off_rows(p: Problem, pairs: np.ndarray, fok_pos: np.ndarray, r0: int) -> _Rows:
    """:func:`~simulation.market.model.add_on_off_limits`' ``u_bt = 0`` for the steps in which a
    fill-or-kill bid offers nothing (no pair), bids by index, steps in order."""
    T = p.n_steps
    nf = int((fok_pos >= 0).sum())
    offered = np.zeros((nf, T), dtype=bool)
    if len(pairs):
        b = pairs[:, 0]
        f = fok_pos[b] >= 0
        offered[fok_pos[b[f]], pairs[f, 1]] = True
    local = np.flatnonzero(~offered.reshape(-1))
    n = len(local)
    row, kind, loc, coef = _entries([(r0 + np.arange(n), "u", local, 1.0)])
    return _Rows(n, row, kind, loc, coef, np.zeros(n), np.zeros(n))


def exclusive_link_rows(p: Problem, pairs: np.ndarray, fok_pos: np.ndarray, r0: int) -> _Rows:
    """:func:`~simulation.market.model.add_exclusive_groups`' links, bids of an exclusive group by index:
    a fill-or-kill bid (a profile bid) ``u_bt - z_b = 0`` in each step it offers, a curtailable one
    ``a_bt - q_bt z_b <= 0`` per offered pair (bids with another on/off product are refused by
    :func:`supports_direct`)."""
    T = p.n_steps
    bt = p.bids
    excl = np.flatnonzero(bt.exclusive_group != "")
    z_pos = np.full(bt.n_bids, -1, dtype=np.int64)
    z_pos[excl] = np.arange(len(excl))
    sel = np.flatnonzero(z_pos[pairs[:, 0]] >= 0) if len(pairs) else np.zeros(0, dtype=np.int64)
    # pair order is bid order, then step: the rule's order
    b, t = pairs[sel, 0], pairs[sel, 1]
    rows = r0 + np.arange(len(sel))
    f = fok_pos[b] >= 0
    hi = np.zeros(len(sel))
    lo = np.where(f, 0.0, -INF)
    row, kind, local, coef = _entries(
        [
            (rows[f], "u", fok_pos[b[f]] * T + t[f], 1.0),
            (rows[f], "z", z_pos[b[f]], -1.0),
            (rows[~f], "a", sel[~f], 1.0),
            (rows[~f], "z", z_pos[b[~f]], -bt.quantity_mw[b[~f], t[~f]]),
        ]
    )
    return _Rows(len(sel), row, kind, local, coef, lo, hi, linking=True)


def exclusive_rows(p: Problem, r0: int) -> _Rows:
    """:func:`~simulation.market.model.add_exclusive_groups`: ``sum_{b in G} z_b <= 1`` per group (by
    name)."""
    grp = p.bids.exclusive_group
    excl = np.flatnonzero(grp != "")
    names = sorted(set(grp[excl].tolist()))
    gi = {g: k for k, g in enumerate(names)}
    g_of = np.array([gi[str(g)] for g in grp[excl].tolist()], dtype=np.int64)
    order = np.lexsort((np.arange(len(excl)), g_of))  # each group's bids by index
    row, kind, local, coef = _entries([(r0 + g_of[order], "z", order, 1.0)])
    n = len(names)
    return _Rows(n, row, kind, local, coef, np.full(n, -INF), np.ones(n), linking=True)


def energy_rows(p: Problem, pairs: np.ndarray, r0: int) -> _Rows:
    """:func:`~simulation.market.model.add_energy_constraints`: ``emin_g <= sum dir_b dt a_bt <= emax_g``
    per energy group (groups without an offered pair have no row)."""
    bt = p.bids
    groups = sorted(set(bt.energy_group) - {""})
    z = np.zeros(0, dtype=np.int64)
    if not groups or not len(pairs):
        return _Rows(0, z, z, z, np.zeros(0), np.zeros(0), np.zeros(0), linking=True)
    lo_d, hi_d = energy_limits(p, groups)
    gidx = {g: k for k, g in enumerate(groups)}
    pb = pairs[:, 0]
    grp_of_pair = np.array([gidx.get(str(bt.energy_group[b]), -1) for b in pb.tolist()], dtype=np.int64)
    sel = np.flatnonzero(grp_of_pair >= 0)
    # terms in the rule's order: bids of the group by index, each bid's pairs by step (= pair order)
    order = sel[np.lexsort((sel, grp_of_pair[sel]))]
    present = np.unique(grp_of_pair[order])
    row_of_group = np.full(len(groups), -1, dtype=np.int64)
    row_of_group[present] = np.arange(len(present))
    rows = r0 + row_of_group[grp_of_pair[order]]
    coef = bt.direction[pb[order]].astype(float) * p.dt_h
    lo = np.array([lo_d[groups[k]] for k in present.tolist()])
    hi = np.array([hi_d[groups[k]] for k in present.tolist()])
    row, kind, local, c = _entries([(rows, "a", order, coef)])
    return _Rows(len(present), row, kind, local, c, lo, hi, linking=True)


def voltage_drop_rows(p: Problem, d: dict[str, Any], r0: int) -> _Rows:
    """:func:`~simulation.market.model.add_distflow_voltage_drop`:
    ``v_jt - v_it + 2 (r P + x Q) - (r^2 + x^2) l = 0`` per branch and step."""
    T, nb = p.n_steps, d["n_br"]
    k = np.repeat(np.arange(nb), T)
    t = np.tile(np.arange(T), nb)
    rows = r0 + np.arange(nb * T)
    r, x = d["r"][k], d["x"][k]
    row, kind, local, coef = _entries(
        [
            (rows, "v", d["to"][k] * T + t, 1.0),
            (rows, "v", d["from"][k] * T + t, -1.0),
            (rows, "P", k * T + t, 2 * r),
            (rows, "Q", k * T + t, 2 * x),
            (rows, "l", k * T + t, -(r**2 + x**2)),
        ]
    )
    return _Rows(nb * T, row, kind, local, coef, np.zeros(nb * T), np.zeros(nb * T))


def interface_rows(p: Problem, r0: int) -> _Rows:
    """:func:`~simulation.market.model.add_interface_targets`: ``lo_gt <= S_g I_gt <= hi_gt`` for the
    fixed and free grids."""
    T = p.n_steps
    keys = [(g, t) for g, dd in enumerate(p.dgrids) if dd.mode in ("fixed", "free") for t in range(T)]
    n = len(keys)
    gg = np.array([g for g, _ in keys], dtype=np.int64)
    tt = np.array([t for _, t in keys], dtype=np.int64)
    bounds = [
        _import_bounds(float(p.dgrids[g].import_target_mw[t]) if p.dgrids[g].mode == "fixed" else math.nan)
        for g, t in keys
    ]
    S = np.array([p.dgrids[g].grid.base_mva for g in gg.tolist()], dtype=float)
    row, kind, local, coef = _entries([(r0 + np.arange(n), "imp", gg * T + tt, S)])
    lo = np.array([b[0] for b in bounds], dtype=float)
    hi = np.array([b[1] for b in bounds], dtype=float)
    return _Rows(n, row, kind, local, coef, lo, hi)


def transmission_balance_rows(p: Problem, pairs: np.ndarray, r0: int) -> _Rows:
    """:func:`~simulation.market.model.add_transmission_balance`:
    ``sum s_b a_bt + su - sd - S sum I_gt - sum_j B_ij theta_jt = t_rhs_it - const_i``."""
    g = p.tgrid
    assert g is not None
    n, T = p.n_t, p.n_steps
    B = bus_susceptance_mw(g, n)
    sign = p.bid_sign()
    parts: list[tuple[np.ndarray, str, np.ndarray, Any]] = []
    # bids at transmission rows: pairs of bids with bid_grid < 0
    tb = p.bid_grid[pairs[:, 0]] < 0 if len(pairs) else np.zeros(0, dtype=bool)
    sel = np.flatnonzero(tb)
    rows_a = r0 + p.bid_row[pairs[sel, 0]].astype(np.int64) * T + pairs[sel, 1]
    parts.append((rows_a, "a", sel, sign[pairs[sel, 0]]))
    ii = np.repeat(np.arange(n), T)
    tt = np.tile(np.arange(T), n)
    rows_all = r0 + np.arange(n * T)
    if p.slack_at_t_nodes:
        parts.append((rows_all, "su", ii * T + tt, 1.0))
        parts.append((rows_all, "sd", ii * T + tt, -1.0))
    cg = [(k, dd) for k, dd in enumerate(p.dgrids) if dd.mode == "coupled"]
    for k, dd in cg:
        parts.append((r0 + dd.t_row * T + np.arange(T), "imp", k * T + np.arange(T), -dd.grid.base_mva))
    Bc = B.tocoo()
    br = np.repeat(Bc.row, T)
    bcol = np.repeat(Bc.col, T)
    bt_ = np.tile(np.arange(T), len(Bc.row))
    bval = np.repeat(-Bc.data, T)
    free = bcol != g.ref_node  # the reference angle is fixed at 0: its term is a constant 0
    parts.append((r0 + br[free] * T + bt_[free], "theta", bcol[free] * T + bt_[free], bval[free]))
    row, kind, local, coef = _entries(parts)
    shifted = g.shift_flow_mw.any()
    const = -g.shift_injection_mw() if shifted else np.zeros(n)
    rhs = (p.t_rhs_mw - const[:, None]).reshape(-1)
    return _Rows(n * T, row, kind, local, coef, rhs, rhs.copy())


def distribution_balance_rows(
    p: Problem, d: dict[str, Any], pairs: np.ndarray, r0: int, reactive: bool
) -> _Rows:
    """:func:`~simulation.market.model.add_distribution_balance`: the active (``reactive`` False) or
    reactive branch-flow balance of every distribution node and step."""
    T = p.n_steps
    nn = d["n_nodes"]
    parent, S, gon = d["parent"], d["S"], d["grid_of_node"]
    jj = np.repeat(np.arange(nn), T)
    tt = np.tile(np.arange(T), nn)
    rows_all = r0 + np.arange(nn * T)
    parts: list[tuple[np.ndarray, str, np.ndarray, Any]] = []
    kpar = parent[jj]
    has_par = kpar >= 0
    if not reactive:
        parts.append((rows_all, "dsu", jj * T + tt, 1.0 / S[jj]))
        parts.append((rows_all, "dsd", jj * T + tt, -1.0 / S[jj]))
        if len(pairs):
            sel = np.flatnonzero(p.bid_grid[pairs[:, 0]] >= 0)
            b = pairs[sel, 0]
            node = np.array(d["node_off"], dtype=np.int64)[p.bid_grid[b].astype(np.int64)] + p.bid_row[
                b
            ].astype(np.int64)
            parts.append((r0 + node * T + pairs[sel, 1], "a", sel, p.bid_sign()[b] / S[node]))
        parts.append((rows_all[has_par], "P", kpar[has_par] * T + tt[has_par], 1.0))
        parts.append((rows_all[has_par], "l", kpar[has_par] * T + tt[has_par], -d["r"][kpar[has_par]]))
        parts.append((rows_all[~has_par], "imp", gon[jj[~has_par]] * T + tt[~has_par], 1.0))
        flow = "P"
    else:
        parts.append((rows_all[has_par], "Q", kpar[has_par] * T + tt[has_par], 1.0))
        parts.append((rows_all[has_par], "l", kpar[has_par] * T + tt[has_par], -d["x"][kpar[has_par]]))
        parts.append((rows_all[~has_par], "impq", gon[jj[~has_par]] * T + tt[~has_par], 1.0))
        flow = "Q"
    # children: branch c leaving node j, coefficient -1
    nb = d["n_br"]
    kc = np.repeat(np.arange(nb), T)
    tc = np.tile(np.arange(T), nb)
    parts.append((r0 + d["from"][kc] * T + tc, flow, kc * T + tc, -1.0))
    row, kind, local, coef = _entries(parts)
    rhs = np.zeros(nn * T)
    for g, dd in enumerate(p.dgrids):
        o, m = d["node_off"][g], dd.grid.n_nodes
        load = dd.load_q_mvar if reactive else dd.load_p_mw
        rhs[o * T : (o + m) * T] = (load / dd.grid.base_mva).reshape(-1)
    return _Rows(nn * T, row, kind, local, coef, rhs, rhs.copy())


# ---------------------------------------------------------------------------------------------- assembly
def build_direct_model(
    p: Problem, reusable: bool = False, pairs: list[tuple[int, int]] | None = None
) -> DirectModel:
    """The arrays of :func:`~simulation.market.model.build_model`'s model of ``p`` (module docstring);
    ``pairs``: the (bid, step) pairs of an existing model (a re-clearing keeps them)."""
    with gc_paused():  # see gc_paused: a collection walking the pairs' tuples cost 0.3 s once
        return _build_direct_model(p, reusable, pairs)


def _build_direct_model(p: Problem, reusable: bool, pairs: list[tuple[int, int]] | None) -> DirectModel:
    T = p.n_steps
    q = p.bids.quantity_mw
    if pairs is None:
        bb, tt = np.nonzero(np.ones_like(q, dtype=bool) if reusable else q > 0)
        pairs = list(zip(bb.tolist(), tt.tolist(), strict=True))
    pa = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    fok = p.bids.fill_or_kill
    fok_pos = np.where(fok, np.cumsum(fok) - 1, -1).astype(np.int64)
    d = grid_layout(p)
    nt = p.n_t if p.slack_at_t_nodes else 0
    nd, nbr, G = d["n_nodes"], d["n_br"], len(p.dgrids)
    size = {
        "a": len(pa),
        "su": nt * T,
        "sd": nt * T,
        "dsu": nd * T,
        "dsd": nd * T,
        "l": nbr * T,
        "v": nd * T,
        "P": nbr * T,
        "Q": nbr * T,
        "theta": (p.n_t if p.tgrid is not None else 0) * T,
        "imp": G * T,
        "impq": G * T,
        "u": int(fok.sum()) * T,
        "z": int((p.bids.exclusive_group != "").sum()),
    }
    # ---- objective (add_objective)
    dt = p.dt_h
    sell = ~p.bids.is_buy
    obj_parts: list[tuple[np.ndarray, str, np.ndarray, Any]] = []
    price = p.bids.price_eur_per_mwh[pa[:, 0], pa[:, 1]] if len(pa) else np.zeros(0)
    ins = sell[pa[:, 0]] if len(pa) else np.zeros(0, dtype=bool)
    obj_a = np.flatnonzero(ins | p.welfare) if len(pa) else np.zeros(0, dtype=np.int64)
    ca = np.where(ins[obj_a], dt * price[obj_a], -dt * price[obj_a])
    obj_parts.append((np.zeros(len(obj_a)), "a", obj_a, ca))
    pen = dt * p.penalty_eur_per_mwh
    for kname in ("su", "sd", "dsu", "dsd"):
        obj_parts.append((np.zeros(size[kname]), kname, np.arange(size[kname]), pen))
    if nbr:
        S_br = np.array([p.dgrids[g].grid.base_mva for g in d["grid_of_br"].tolist()])
        w = dt * p.loss_penalty_eur_per_mwh * S_br * d["r"]
        kk = np.repeat(np.flatnonzero(w != 0), T)
        t_ = np.tile(np.arange(T), int((w != 0).sum()))
        obj_parts.append((np.zeros(len(kk)), "l", kk * T + t_, w[kk]))
    _, okind, olocal, ocoef = _entries(obj_parts)
    # ---- rows, in declaration order
    fams: list[_Rows] = []
    r0 = 0
    for build in (
        lambda r: fill_or_kill_rows(p, pa, fok_pos, r),
        lambda r: unoffered_off_rows(p, pa, fok_pos, r),
        lambda r: energy_rows(p, pa, r),
        lambda r: exclusive_link_rows(p, pa, fok_pos, r),
        lambda r: exclusive_rows(p, r),
        lambda r: voltage_drop_rows(p, d, r),
    ):
        fam = build(r0)
        fams.append(fam)
        r0 += fam.n
    fam = interface_rows(p, r0)
    row_imp = np.full((G, T), -1, dtype=np.int64)  # the rows of the fixed and free grids' imports
    ifx = [g for g, dd in enumerate(p.dgrids) if dd.mode in ("fixed", "free")]
    row_imp[ifx] = (r0 + np.arange(fam.n)).reshape(len(ifx), T)
    fams.append(fam)
    r0 += fam.n
    row_tbal = np.zeros((0, T), dtype=np.int64)
    if p.tgrid is not None:
        fam = transmission_balance_rows(p, pa, r0)
        row_tbal = (r0 + np.arange(fam.n)).reshape(p.n_t, T)
        fams.append(fam)
        r0 += fam.n
    fam = distribution_balance_rows(p, d, pa, r0, reactive=False)
    row_dbal = (r0 + np.arange(fam.n)).reshape(nd, T)
    fams.append(fam)
    r0 += fam.n
    fam = distribution_balance_rows(p, d, pa, r0, reactive=True)
    fams.append(fam)
    r0 += fam.n
    n_rows = r0
    row = np.concatenate([f.row for f in fams])
    kind = np.concatenate([f.kind for f in fams])
    local = np.concatenate([f.local for f in fams])
    coef = np.concatenate([f.coef for f in fams])
    row_lo = np.concatenate([f.lo for f in fams]) if fams else np.zeros(0)
    row_hi = np.concatenate([f.hi for f in fams]) if fams else np.zeros(0)
    linking = np.concatenate([np.full(f.n, f.linking) for f in fams]) if fams else np.zeros(0, dtype=bool)
    # ---- column order: components by first appearance (objective, then rows), indices within
    nk = len(KINDS)
    first = np.full(nk, np.iinfo(np.int64).max, dtype=np.int64)
    obj_kinds = [KINDS.index(k) for k in _OBJECTIVE_ORDER if (okind == KINDS.index(k)).any()]
    for pos, kidx in enumerate(obj_kinds):
        first[kidx] = -len(obj_kinds) + pos
    rank = np.array([_IN_ROW_RANK[k] for k in KINDS], dtype=np.int64)
    key = row * nk + rank[kind]
    best = np.full(nk, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(best, kind, key)
    met = best < np.iinfo(np.int64).max
    rest = np.flatnonzero(met & (first == np.iinfo(np.int64).max))
    order = obj_kinds + rest[np.argsort(best[rest], kind="stable")].tolist()
    offs = np.zeros(nk, dtype=np.int64)
    raw_off = np.zeros(nk, dtype=np.int64)
    o = 0
    for kidx, name in enumerate(KINDS):
        raw_off[kidx] = o
        o += size[name]
    n_raw = o
    o = 0
    for kidx in order:
        offs[kidx] = o
        o += size[KINDS[kidx]]
    n_ord = o
    # ---- matrix and cost in the ordered numbering; zeros dropped, empty columns dropped
    nz = coef != 0
    col_ord = offs[kind] + local
    A = sp.csc_matrix((coef[nz], (row[nz], col_ord[nz])), shape=(n_rows, n_ord))
    A.sum_duplicates()
    A.eliminate_zeros()
    cost = np.zeros(n_ord)
    onz = ocoef != 0
    np.add.at(cost, offs[okind[onz]] + olocal[onz], ocoef[onz])
    active = (np.diff(A.indptr) > 0) | (cost != 0)
    # the ordered numbering -> raw (KINDS order) numbering, for the bounds and the index arrays
    raw_of_ord = np.full(n_ord, -1, dtype=np.int64)
    for kidx in order:
        n_k = size[KINDS[kidx]]
        raw_of_ord[offs[kidx] : offs[kidx] + n_k] = raw_off[kidx] + np.arange(n_k)
    # column bounds in the raw numbering
    lo = np.full(n_raw, -INF)
    hi = np.full(n_raw, INF)

    def put(name: str, lo_v: Any, hi_v: Any) -> None:
        s = slice(raw_off[KINDS.index(name)], raw_off[KINDS.index(name)] + size[name])
        lo[s], hi[s] = lo_v, hi_v

    put("a", 0.0, q[pa[:, 0], pa[:, 1]] if len(pa) else np.zeros(0))
    for name in ("su", "sd", "dsu", "dsd"):
        put(name, 0.0, INF)
    put("l", 0.0, np.repeat(d["lmax"], T))
    vlo, vhi = np.repeat(d["vlo"], T), np.repeat(d["vhi"], T)
    for g, dd in enumerate(p.dgrids):
        val = float(dd.grid.v_root_pu) ** 2
        vlo[d["roots"][g] * T : d["roots"][g] * T + T] = val
        vhi[d["roots"][g] * T : d["roots"][g] * T + T] = val
    put("v", vlo, vhi)
    put("u", 0.0, 1.0)
    put("z", 0.0, 1.0)
    fixed = np.zeros(n_raw, dtype=bool)
    if p.tgrid is not None:
        ref = p.tgrid.ref_node
        fixed[raw_off[KINDS.index("theta")] + ref * T + np.arange(T)] = True
    keep = active & ~fixed[raw_of_ord]
    cols = np.flatnonzero(keep)
    A = A[:, cols]
    raw_cols = raw_of_ord[cols]
    col_of_raw = np.full(n_raw, -1, dtype=np.int64)
    col_of_raw[raw_cols] = np.arange(len(cols))
    import highspy

    hinf = float(highspy.kHighsInf)
    col_lo = np.where(np.isfinite(lo[raw_cols]), lo[raw_cols], -hinf)
    col_hi = np.where(np.isfinite(hi[raw_cols]), hi[raw_cols], hinf)
    ku = KINDS.index("u")
    comp = CompiledLP(
        columns=raw_cols.tolist(),
        cost=cost[cols],
        offset=0.0,
        col_lo=col_lo,
        col_hi=col_hi,
        integer=raw_cols >= raw_off[ku],  # u and z, the last components of the raw numbering
        A=A.tocsc(),
        row_lo=np.where(np.isfinite(row_lo), row_lo, -hinf),
        row_hi=np.where(np.isfinite(row_hi), row_hi, hinf),
        row_of={},
        row_ids=[],
        linking=linking,
    )

    def cidx(name: str, n: int) -> np.ndarray:
        k = KINDS.index(name)
        return (
            col_of_raw[raw_off[k] : raw_off[k] + size[name]].reshape(n, -1)
            if n
            else np.zeros((0, T), np.int64)
        )

    col_u = col_of_raw[raw_off[ku] :]  # u, then z: binaries(m) of the Pyomo model
    index = {
        "col_a": col_of_raw[raw_off[0] : raw_off[0] + len(pa)],
        "col_su": cidx("su", nt),
        "col_sd": cidx("sd", nt),
        "col_dsu": cidx("dsu", nd),
        "col_dsd": cidx("dsd", nd),
        "col_l": cidx("l", nbr),
        "col_P": cidx("P", nbr),
        "col_Q": cidx("Q", nbr),
        "col_v": cidx("v", nd),
        "col_imp": cidx("imp", G),
        "col_theta": cidx("theta", p.n_t) if p.tgrid is not None else np.zeros((0, T), np.int64),
        "col_bin": col_u[col_u >= 0],  # binaries(m) of the Pyomo model: the columns it kept
        "row_imp": row_imp,
        "row_tbal": row_tbal,
        "row_dbal": row_dbal,
        "empty_rows": np.flatnonzero(np.diff(A.tocsr().indptr) == 0),
    }
    has_limits = p.tgrid is not None and bool(np.isfinite(p.tgrid.branch_rating_mw).any())
    return DirectModel(p, reusable, pairs, d, comp, index, has_flow_limits=has_limits)


def build_clearing_model(p: Problem, reusable: bool = False, direct: bool = False) -> Any:
    """The clearing model of ``p``: held as arrays (:class:`DirectModel`) when ``direct`` (the solver is
    HiGHS, driven directly) and :func:`supports_direct` covers it, else the Pyomo model of
    :func:`~simulation.market.model.build_model`."""
    if direct and supports_direct(p, reusable):
        dm = build_direct_model(p, reusable)
        if not dm.index["empty_rows"].size:  # the compiler drops a row without terms: not followed
            return dm
    return build_model(p, reusable)
