"""Pyomo formulation of one clearing problem: one builder per constraint family.

Notation (per unit on the grid's ``S = base_mva`` inside distribution grids, MW elsewhere):
``a_bt`` activation of bid ``b`` in step ``t`` (MW, >= 0), ``s_b = dir_b * (+1 sell / -1 buy)`` its
injection sign, ``u_bt`` on/off binary, ``z_b`` selection binary of an exclusive bid, ``theta_it``
voltage angles, ``F_lt = S b_l (theta_f - theta_t)`` DC flows, ``P, Q, l`` sending-end active and
reactive flows and squared currents of distribution branches, ``v`` squared voltages, ``I_gt`` import
of distribution grid ``g`` (per unit), ``su, sd`` upward and downward slack (MW), ``dt`` step length in h.

:func:`build_model` declares everything; it never calls a solver. Mutable parameters (quantities,
prices, needs and scheduled loads, import targets, initial activations) let a persistent solver
re-clear the next horizon without a rebuild. The cones ``P^2 + Q^2 <= v_i l`` are *not* declared
here: the solving adds them either as tangent cuts (:mod:`simulation.market.cones`, ``cuts``) or
as quadratic constraints for a solver that takes them natively (:func:`add_native_cones`).
"""

from __future__ import annotations

import gc
import math
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pyomo.environ as pyo
import scipy.sparse as sp
from pyomo.core.expr.numeric_expr import LinearExpression

from coordstudio.simulation.market.problem import Problem

BIG_CURRENT_PU2 = 1e4
"""Upper bound of the squared current ``l`` of a branch without a rating (per unit squared)."""


@contextmanager
def gc_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off for a block that creates hundreds of thousands of Pyomo
    objects: every generation-2 collection walks all of them again, which tripled the build of the
    Italian-scale model (2.7-3.4 s with it, 0.86 s without; BENCHMARKS.md). Nothing built here is
    garbage, and the collector runs again when the block ends."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def build_model(p: Problem, reusable: bool = False) -> pyo.ConcreteModel:
    """Declare the whole clearing model of ``p``.

    With ``reusable`` every (bid, step) pair gets a variable (so a later horizon may offer a quantity
    where this one offers none); otherwise only pairs with a positive quantity.
    """
    with gc_paused():
        return _build_model(p, reusable)


def _build_model(p: Problem, reusable: bool) -> pyo.ConcreteModel:
    m = pyo.ConcreteModel(name=p.name)
    m.cuts = pyo.ConstraintList()
    declare_bid_activations(m, p, reusable)
    declare_bid_binaries(m, p)
    add_fill_or_kill(m, p)
    add_on_off_limits(m, p)
    add_min_duration(m, p)
    add_ramp_limits(m, p)
    add_energy_constraints(m, p)
    add_exclusive_groups(m, p)
    declare_slack(m, p)
    if p.tgrid is not None:
        declare_dc_angles(m, p)
        add_dc_flow_limits(m, p)
    declare_distflow_variables(m, p)
    add_distflow_voltage_drop(m, p)
    add_interface_targets(m, p)
    add_transmission_balance(m, p)
    add_distribution_balance(m, p)
    add_objective(m, p)
    return m


# ---------------------------------------------------------------------------------------------- bids
def declare_bid_activations(m: pyo.ConcreteModel, p: Problem, reusable: bool) -> None:
    """Declare ``a_bt`` for offered pairs with ``0 <= a_bt <= q_bt`` (``q``, ``price`` mutable).

    Pairs are stored in ``m._pairs`` (list of ``(b, t)``) and ``m._pair_of`` (dict to position).
    """
    q = p.bids.quantity_mw
    if reusable:
        bb, tt = np.nonzero(np.ones_like(q, dtype=bool))
    else:
        bb, tt = np.nonzero(q > 0)
    pairs = list(zip(bb.tolist(), tt.tolist(), strict=True))
    m._pairs = pairs
    m._pair_of = {k: i for i, k in enumerate(pairs)}
    qv = q[bb, tt]
    pv = p.bids.price_eur_per_mwh[bb, tt]
    m.q = pyo.Param(range(len(pairs)), initialize=dict(enumerate(qv.tolist())), mutable=True, within=pyo.Any)
    m.price = pyo.Param(
        range(len(pairs)), initialize=dict(enumerate(pv.tolist())), mutable=True, within=pyo.Any
    )
    m.a = pyo.Var(range(len(pairs)), bounds=lambda _m, i: (0, _m.q[i]))
    # bids, per step, that exist in this model
    m._bid_steps = defaultdict(list)
    for i, (b, t) in enumerate(pairs):
        m._bid_steps[b].append((t, i))


def declare_bid_binaries(m: pyo.ConcreteModel, p: Problem) -> None:
    """Declare ``u_bt`` in {0,1} for bids that are fill-or-kill, have a minimum quantity or a minimum
    duration, and ``z_b`` in {0,1} for bids of an exclusive group."""
    bt = p.bids
    on_off = bt.fill_or_kill | (bt.min_quantity_mw > 0) | (bt.min_duration_steps > 1)
    ukeys = [(b, t) for b in np.flatnonzero(on_off).tolist() for t in range(p.n_steps)]
    m.u = pyo.Var(ukeys, within=pyo.Binary)
    zkeys = np.flatnonzero(bt.exclusive_group != "").tolist()
    m.z = pyo.Var(zkeys, within=pyo.Binary)
    m._on_off = set(np.flatnonzero(on_off).tolist())


def add_fill_or_kill(m: pyo.ConcreteModel, p: Problem) -> None:
    """Fill-or-kill: ``a_bt = q_bt u_bt`` (all or nothing in each step)."""
    keys = [
        (b, t, i) for b in np.flatnonzero(p.bids.fill_or_kill).tolist() for t, i in m._bid_steps.get(b, [])
    ]
    m.fok = pyo.Constraint(
        range(len(keys)),
        rule=lambda _m, k: _m.a[keys[k][2]] == _m.q[keys[k][2]] * _m.u[keys[k][0], keys[k][1]],
    )


def add_on_off_limits(m: pyo.ConcreteModel, p: Problem) -> None:
    """Curtailable bids with an on/off binary: ``minq_b u_bt <= a_bt <= q_bt u_bt``."""
    bt = p.bids
    sel = [b for b in sorted(m._on_off) if not bt.fill_or_kill[b]]
    keys = [(b, t, i) for b in sel for t, i in m._bid_steps.get(b, [])]
    m.on_up = pyo.Constraint(
        range(len(keys)),
        rule=lambda _m, k: _m.a[keys[k][2]] <= _m.q[keys[k][2]] * _m.u[keys[k][0], keys[k][1]],
    )
    lo = [k for k in keys if bt.min_quantity_mw[k[0]] > 0]
    m.on_lo = pyo.Constraint(
        range(len(lo)),
        rule=lambda _m, k: _m.a[lo[k][2]] >= float(bt.min_quantity_mw[lo[k][0]]) * _m.u[lo[k][0], lo[k][1]],
    )
    # an on/off bid cannot be "on" in a step where it offers nothing (keeps min duration honest)
    off = [(b, t) for b in sorted(m._on_off) for t in range(p.n_steps) if (b, t) not in m._pair_of]
    m.on_none = pyo.Constraint(range(len(off)), rule=lambda _m, k: _m.u[off[k]] == 0)


def min_duration_carry(p: Problem) -> tuple[dict[int, float], dict[tuple[int, int], float]]:
    """Values of the carry-over parameters of :func:`add_min_duration`: ``on0_b`` (1 when the bid was
    on in the step before the horizon: ``initial_on_steps > 0`` or ``initial_activation_mw > 0``) and
    ``must_b,t`` (1 for ``t < D_b - k_b`` when the bid has been on for ``k_b >= 1`` steps and offers a
    quantity in step ``t``)."""
    bt = p.bids
    k = bt.on_steps()
    on0: dict[int, float] = {}
    must: dict[tuple[int, int], float] = {}
    for b in np.flatnonzero(bt.min_duration_steps > 1).tolist():
        d = int(bt.min_duration_steps[b])
        on0[b] = 1.0 if (k[b] > 0 or bt.initial_activation_mw[b] > 0) else 0.0
        for t in range(min(d - 1, p.n_steps)):
            must[b, t] = 1.0 if (k[b] >= 1 and t < d - k[b] and bt.quantity_mw[b, t] > 0) else 0.0
    return on0, must


def add_min_duration(m: pyo.ConcreteModel, p: Problem) -> None:
    """Minimum duration ``D_b``: a start in step ``t`` keeps the bid on for ``D_b`` steps:
    ``u_bt - u_b,t-1 <= u_b,tau`` for ``tau = t+1 .. min(t+D_b-1, T-1)`` with ``u_b,-1 = on0_b``
    (mutable: 1 when the bid was on before the horizon), and the run that started before the horizon
    carries over: ``u_bt >= must_bt`` (mutable, see :func:`min_duration_carry`)."""
    bt = p.bids
    keys = []
    for b in np.flatnonzero(bt.min_duration_steps > 1).tolist():
        d = int(bt.min_duration_steps[b])
        for t in range(p.n_steps):
            for tau in range(t + 1, min(t + d, p.n_steps)):
                keys.append((b, t, tau))
    on0, must = min_duration_carry(p)
    m.on0 = pyo.Param(sorted(on0), initialize=on0, mutable=True, within=pyo.Any)
    m.must_on = pyo.Param(sorted(must), initialize=must, mutable=True, within=pyo.Any)

    def rule(_m: pyo.ConcreteModel, k: int) -> object:
        b, t, tau = keys[k]
        prev = _m.u[b, t - 1] if t > 0 else _m.on0[b]
        return _m.u[b, t] - prev <= _m.u[b, tau]

    m.min_dur = pyo.Constraint(range(len(keys)), rule=rule)
    mkeys = sorted(must)
    m.min_dur_carry = pyo.Constraint(
        range(len(mkeys)), rule=lambda _m, i: _m.u[mkeys[i]] >= _m.must_on[mkeys[i]]
    )


def add_ramp_limits(m: pyo.ConcreteModel, p: Problem) -> None:
    """Ramp limit ``R_b``: ``-R_b <= a_bt - a_b,t-1 <= R_b``, with ``a_b,-1`` the (mutable) initial
    activation; a step without an offer counts as activation 0."""
    bt = p.bids
    ramped = np.flatnonzero(np.isfinite(bt.ramp_mw_per_step)).tolist()
    m.a0 = pyo.Param(
        ramped,
        initialize={b: float(bt.initial_activation_mw[b]) for b in ramped},
        mutable=True,
        within=pyo.Any,
    )
    keys = [(b, t) for b in ramped for t in range(p.n_steps)]

    def act(_m: pyo.ConcreteModel, b: int, t: int) -> object:
        if t < 0:
            return _m.a0[b]
        i = _m._pair_of.get((b, t))
        return 0.0 if i is None else _m.a[i]

    def rule(_m: pyo.ConcreteModel, k: int) -> object:
        b, t = keys[k]
        r = float(bt.ramp_mw_per_step[b])
        diff: Any = act(_m, b, t) - act(_m, b, t - 1)  # type: ignore[operator]
        if isinstance(diff, float):
            return pyo.Constraint.Skip
        return pyo.inequality(-r, diff, r)

    m.ramp = pyo.Constraint(range(len(keys)), rule=rule)


def add_energy_constraints(m: pyo.ConcreteModel, p: Problem) -> None:
    """Integral constraint of each energy group ``g``:
    ``emin_g <= sum_{b in g} sum_t dir_b a_bt dt <= emax_g`` (mutable limits; an infinite one is
    :data:`FREE_ENERGY_MWH`, so that a re-clear may tighten or open it)."""
    bt = p.bids
    groups = sorted(set(bt.energy_group) - {""})
    lo, hi = energy_limits(p, groups)
    m.e_lo = pyo.Param(groups, initialize=lo, mutable=True, within=pyo.Any)
    m.e_hi = pyo.Param(groups, initialize=hi, mutable=True, within=pyo.Any)

    def rule(_m: pyo.ConcreteModel, g: str) -> object:
        terms = [
            float(bt.direction[b]) * p.dt_h * _m.a[i]
            for b in np.flatnonzero(bt.energy_group == g).tolist()
            for _, i in _m._bid_steps.get(b, [])
        ]
        if not terms:
            return pyo.Constraint.Skip
        return pyo.inequality(_m.e_lo[g], sum(terms), _m.e_hi[g])

    m.energy = pyo.Constraint(groups, rule=rule)


FREE_ENERGY_MWH = 1e9
"""An energy group's open limit (MWh): far beyond any group, finite for every solver."""


def energy_limits(p: Problem, groups: list[str]) -> tuple[dict[str, float], dict[str, float]]:
    """Lower and upper energy limits of ``groups`` (infinite ones as -/+ :data:`FREE_ENERGY_MWH`)."""
    ecs = p.bids.energy_constraints
    lo = {g: max(float(ecs[g].min_mwh), -FREE_ENERGY_MWH) if g in ecs else -FREE_ENERGY_MWH for g in groups}
    hi = {g: min(float(ecs[g].max_mwh), FREE_ENERGY_MWH) if g in ecs else FREE_ENERGY_MWH for g in groups}
    return lo, hi


def add_exclusive_groups(m: pyo.ConcreteModel, p: Problem) -> None:
    """Exclusive group ``G``: ``sum_{b in G} z_b <= 1``, linked by ``u_bt <= z_b`` (on/off bids),
    ``u_bt = z_b`` (fill-or-kill bids: a **profile bid**, its whole profile ``q_b.`` or nothing, e.g. one
    start time of a wet-appliance cycle) or ``a_bt <= q_bt z_b`` (curtailable bids)."""
    bt = p.bids
    excl = np.flatnonzero(bt.exclusive_group != "").tolist()
    link = []
    for b in excl:
        if bt.fill_or_kill[b]:  # a profile bid: linked in the steps it offers (off elsewhere)
            link += [("u", b, t, -1) for t, _ in m._bid_steps.get(b, [])]
        elif b in m._on_off:
            link += [("u", b, t, -1) for t in range(p.n_steps)]
        else:
            link += [("a", b, t, i) for t, i in m._bid_steps.get(b, [])]

    def link_rule(_m: pyo.ConcreteModel, k: int) -> object:
        kind, b, t, i = link[k]
        if kind == "u":
            return _m.u[b, t] == _m.z[b] if bt.fill_or_kill[b] else _m.u[b, t] <= _m.z[b]
        return _m.a[i] <= _m.q[i] * _m.z[b]

    m.excl_link = pyo.Constraint(range(len(link)), rule=link_rule)
    groups: dict[str, list[int]] = defaultdict(list)
    for b in excl:
        groups[str(bt.exclusive_group[b])].append(b)
    names = sorted(groups)
    m.excl = pyo.Constraint(names, rule=lambda _m, g: sum(_m.z[b] for b in groups[g]) <= 1)


# ---------------------------------------------------------------------------------------------- slack
def declare_slack(m: pyo.ConcreteModel, p: Problem) -> None:
    """Slack at every node and step, MW, >= 0: ``su`` supplies unserved upward need, ``sd`` absorbs
    unabsorbed downward need; both cost the penalty price in the objective."""
    nt = p.n_t if p.slack_at_t_nodes else 0
    nd = sum(d.grid.n_nodes for d in p.dgrids)
    m.su = pyo.Var(range(nt), range(p.n_steps), bounds=(0, None))
    m.sd = pyo.Var(range(nt), range(p.n_steps), bounds=(0, None))
    m.dsu = pyo.Var(range(nd), range(p.n_steps), bounds=(0, None))
    m.dsd = pyo.Var(range(nd), range(p.n_steps), bounds=(0, None))


# ---------------------------------------------------------------------------------------------- transmission
def declare_dc_angles(m: pyo.ConcreteModel, p: Problem) -> None:
    """Voltage angles ``theta_it`` (rad), with ``theta_ref,t = 0``."""
    assert p.tgrid is not None
    m.theta = pyo.Var(range(p.n_t), range(p.n_steps))
    for t in range(p.n_steps):
        m.theta[p.tgrid.ref_node, t].fix(0.0)


def add_dc_flow_limits(m: pyo.ConcreteModel, p: Problem) -> None:
    """Thermal limits of rated branches: ``-F^max_l <= S b_l (theta_f,t - theta_to,t) + F^shift_l <=
    F^max_l`` (``F^shift_l``: a phase shifter's flow at equal angles, zero elsewhere)."""
    g = p.tgrid
    assert g is not None
    rated = np.flatnonzero(np.isfinite(g.branch_rating_mw)).tolist()
    coef = (g.base_mva * g.branch_b_pu).tolist()
    f = g.branch_from.tolist()
    to = g.branch_to.tolist()
    rating = g.branch_rating_mw.tolist()
    shift = g.shift_flow_mw.tolist()
    keys = [(br, t) for br in rated for t in range(p.n_steps)]

    def rule(_m: pyo.ConcreteModel, k: int) -> object:
        br, t = keys[k]
        expr = LinearExpression(
            constant=shift[br],
            linear_coefs=[coef[br], -coef[br]],
            linear_vars=[_m.theta[f[br], t], _m.theta[to[br], t]],
        )
        return pyo.inequality(-rating[br], expr, rating[br])

    m.flow_limit = pyo.Constraint(range(len(keys)), rule=rule)


def bus_susceptance_mw(g: Any, n: int) -> sp.csr_matrix:
    """The DC network's nodal susceptance matrix in MW/rad, ``B = A^T diag(S_base b) A``.

    ``A`` is the branch-node incidence (+1 at the from bus, -1 at the to bus), ``b`` the branches'
    susceptance in p.u. and ``S_base`` the MVA base, so ``(B theta)_i`` is the flow out of node ``i``.
    Shared by the Pyomo builder and the array assembly (``direct_model``) so both hold the same matrix."""
    nb = g.n_branches
    if not nb:
        return sp.csr_matrix((n, n))
    A = sp.csr_matrix(
        (
            np.r_[np.ones(nb), -np.ones(nb)],
            (np.r_[np.arange(nb), np.arange(nb)], np.r_[g.branch_from, g.branch_to]),
        ),
        shape=(nb, n),
    )
    return (A.T @ sp.diags(g.base_mva * g.branch_b_pu) @ A).tocsr()


def add_transmission_balance(m: pyo.ConcreteModel, p: Problem) -> None:
    """Nodal balance of transmission node ``i`` (dual = price of upward need there):
    ``sum_{b at i} s_b a_bt + su_it - sd_it - S sum_{g at i} I_gt - sum_j B_ij theta_jt = need_it
    - base_it - sum_{g at i} schedule_gt`` with ``B = S A^T diag(b) A`` (right side a mutable param);
    phase shifters add ``-(A^T F^shift)_i`` (pandapower's ``Pbusinj``) to the left side as a constant."""
    if p.tgrid is None:
        m.t_rhs = pyo.Param([], mutable=True, within=pyo.Any)
        m.tbal = pyo.Constraint([])
        return
    g = p.tgrid
    n, T = p.n_t, p.n_steps
    m.t_rhs = pyo.Param(
        range(n),
        range(T),
        initialize={(i, t): float(p.t_rhs_mw[i, t]) for i in range(n) for t in range(T)},
        mutable=True,
        within=pyo.Any,
    )
    B = bus_susceptance_mw(g, n)
    sign = p.bid_sign()
    bids_at: dict[int, list[tuple[int, float]]] = defaultdict(list)
    t_bids = np.flatnonzero(p.bid_grid < 0).tolist()
    for b in t_bids:
        bids_at[int(p.bid_row[b])].append((b, float(sign[b])))
    grids_at: dict[int, list[int]] = defaultdict(list)
    for k, d in enumerate(p.dgrids):
        if d.mode == "coupled":
            grids_at[d.t_row].append(k)
    has_slack = p.slack_at_t_nodes
    shifted = g.shift_flow_mw.any()
    const = (-g.shift_injection_mw() if shifted else np.zeros(n)).tolist()

    def rule(_m: pyo.ConcreteModel, i: int, t: int) -> object:
        coefs: list[float] = []
        vars_: list[object] = []
        for b, s in bids_at.get(i, ()):
            j = _m._pair_of.get((b, t))
            if j is not None:
                coefs.append(s)
                vars_.append(_m.a[j])
        if has_slack:
            coefs += [1.0, -1.0]
            vars_ += [_m.su[i, t], _m.sd[i, t]]
        for k in grids_at.get(i, ()):
            coefs.append(-p.dgrids[k].grid.base_mva)
            vars_.append(_m.imp[k, t])
        lo, hi = B.indptr[i], B.indptr[i + 1]
        for j, val in zip(B.indices[lo:hi].tolist(), B.data[lo:hi].tolist(), strict=True):
            coefs.append(-val)
            vars_.append(_m.theta[j, t])
        return LinearExpression(constant=const[i], linear_coefs=coefs, linear_vars=vars_) == _m.t_rhs[i, t]

    m.tbal = pyo.Constraint(range(n), range(T), rule=rule)


# ---------------------------------------------------------------------------------------------- distribution
def grid_layout(p: Problem) -> dict[str, Any]:
    """The distribution grids' flat numbering (stored as ``m._d``): node and branch offsets per grid,
    branch ends, impedances, squared current and voltage limits, roots, each node's parent branch
    (-1 at a root), grid and base power ``S``."""
    node_off, br_off = [], []
    no = bo = 0
    fr, to, r, x, lmax, vlo, vhi, roots = [], [], [], [], [], [], [], []
    for dg in p.dgrids:
        gr = dg.grid
        node_off.append(no)
        br_off.append(bo)
        fr.append(gr.branch_from + no)
        to.append(gr.branch_to + no)
        r.append(gr.r_pu)
        x.append(gr.x_pu)
        lmax.append(np.where(np.isfinite(gr.imax_pu), gr.imax_pu**2, BIG_CURRENT_PU2))
        vlo.append(gr.vmin_pu**2)
        vhi.append(gr.vmax_pu**2)
        roots.append(no + gr.root)
        no += gr.n_nodes
        bo += gr.n_branches
    cat = lambda xs: np.concatenate(xs) if xs else np.zeros(0)  # noqa: E731
    d: dict[str, Any] = {
        "node_off": node_off,
        "br_off": br_off,
        "from": cat(fr).astype(int),
        "to": cat(to).astype(int),
        "r": cat(r),
        "x": cat(x),
        "lmax": cat(lmax),
        "vlo": cat(vlo),
        "vhi": cat(vhi),
        "roots": roots,
        "n_nodes": no,
        "n_br": bo,
        "grid_of_br": np.repeat(
            np.arange(len(p.dgrids)), [dg.grid.n_branches for dg in p.dgrids]
        ).astype(int),
    }
    parent = np.full(no, -1, dtype=int)
    parent[d["to"]] = np.arange(bo)
    grid_of_node = np.zeros(no, dtype=int)
    S = np.zeros(no)
    for g, dd in enumerate(p.dgrids):
        o = node_off[g]
        grid_of_node[o : o + dd.grid.n_nodes] = g
        S[o : o + dd.grid.n_nodes] = dd.grid.base_mva
    d.update(parent=parent, grid_of_node=grid_of_node, S=S)
    return d


def declare_distflow_variables(m: pyo.ConcreteModel, p: Problem) -> None:
    """Per distribution branch ``k`` (flat over grids) and step: ``P_kt``, ``Q_kt`` free, ``0 <= l_kt
    <= imax_k^2``; per node ``vmin_j^2 <= v_jt <= vmax_j^2`` (the root's bounds at ``v_root^2``); per grid
    the imports ``I_gt`` (active) and ``J_gt`` (reactive), free."""
    T = p.n_steps
    m._d = grid_layout(p)
    bo, no = m._d["n_br"], m._d["n_nodes"]
    roots = m._d["roots"]
    lm = m._d["lmax"].tolist()
    vlo_l, vhi_l = m._d["vlo"].tolist(), m._d["vhi"].tolist()
    m.P = pyo.Var(range(bo), range(T))
    m.Q = pyo.Var(range(bo), range(T))
    m.l = pyo.Var(range(bo), range(T), bounds=lambda _m, k, t: (0.0, lm[k]))
    m.v = pyo.Var(range(no), range(T), bounds=lambda _m, j, t: (vlo_l[j], vhi_l[j]))
    for g, d in enumerate(p.dgrids):
        for t in range(T):
            set_root_voltage(m.v[roots[g], t], d.grid.v_root_pu)
    m.imp = pyo.Var(range(len(p.dgrids)), range(T))
    m.impq = pyo.Var(range(len(p.dgrids)), range(T))


def set_root_voltage(var: Any, vm_pu: float) -> None:
    """A feeder root's squared voltage held at ``vm_pu^2`` by its bounds, not fixed: a fixed variable
    becomes a constant of the compiled rows (and of the tangent cuts at the root branches), so a tap
    move between two clearings of a session would leave cuts computed for the old voltage."""
    val = float(vm_pu) ** 2
    var.unfix()
    var.setlb(val)
    var.setub(val)
    var.set_value(val, skip_validation=True)


def add_distflow_voltage_drop(m: pyo.ConcreteModel, p: Problem) -> None:
    """Voltage drop along branch ``k = (i, j)``:
    ``v_jt = v_it - 2 (r_k P_kt + x_k Q_kt) + (r_k^2 + x_k^2) l_kt``."""
    d = m._d
    fr, to, r, x = d["from"].tolist(), d["to"].tolist(), d["r"].tolist(), d["x"].tolist()

    def rule(_m: pyo.ConcreteModel, k: int, t: int) -> object:
        return (
            LinearExpression(
                constant=0.0,
                linear_coefs=[1.0, -1.0, 2 * r[k], 2 * x[k], -(r[k] ** 2 + x[k] ** 2)],
                linear_vars=[_m.v[to[k], t], _m.v[fr[k], t], _m.P[k, t], _m.Q[k, t], _m.l[k, t]],
            )
            == 0.0
        )

    m.vdrop = pyo.Constraint(range(d["n_br"]), range(p.n_steps), rule=rule)


FREE_IMPORT_MW = 1e6
"""Bound of a distribution grid's import (MW) when its target is free (a local market that leaves the
balance to the TSO): far beyond any grid, finite for every solver."""


def _import_bounds(target: float) -> tuple[float, float]:
    return (-FREE_IMPORT_MW, FREE_IMPORT_MW) if math.isnan(target) else (target, target)


def add_interface_targets(m: pyo.ConcreteModel, p: Problem) -> None:
    """Interfaces of ``fixed`` and ``free`` grids: ``lo_gt <= S_g I_gt <= hi_gt`` (mutable bounds, MW):
    ``lo = hi = target`` for a fixed import, ``-/+ FREE_IMPORT_MW`` for a free one (a NaN target), so
    that one model serves a grid's local market (free), its curve points and its disaggregation
    (fixed) with parameter changes only (:func:`set_import_target`)."""
    keys = [(g, t) for g, d in enumerate(p.dgrids) if d.mode in ("fixed", "free") for t in range(p.n_steps)]
    bounds = {
        (g, t): _import_bounds(
            float(p.dgrids[g].import_target_mw[t]) if p.dgrids[g].mode == "fixed" else math.nan
        )
        for g, t in keys
    }
    m.imp_lo = pyo.Param(keys, initialize={k: b[0] for k, b in bounds.items()}, mutable=True, within=pyo.Any)
    m.imp_hi = pyo.Param(keys, initialize={k: b[1] for k, b in bounds.items()}, mutable=True, within=pyo.Any)
    m.imp_fix = pyo.Constraint(
        keys,
        rule=lambda _m, g, t: pyo.inequality(
            _m.imp_lo[g, t], p.dgrids[g].grid.base_mva * _m.imp[g, t], _m.imp_hi[g, t]
        ),
    )


def set_import_target(m: pyo.ConcreteModel, g: int, t: int, target_mw: float) -> None:
    """Fix grid ``g``'s import in step ``t`` at ``target_mw`` (NaN: free). A model held as arrays
    (:class:`~simulation.market.direct_model.DirectModel`) sets its row's bounds."""
    if hasattr(m, "set_import_target"):
        m.set_import_target(g, t, target_mw)
        return
    lo, hi = _import_bounds(float(target_mw))
    m.imp_lo[g, t].set_value(lo)
    m.imp_hi[g, t].set_value(hi)
    # noted for a compiled copy of the model (HighsDirect.update): when nothing else changed since its
    # last compile, only these rows' bounds move, without compiling the whole model again
    changed = getattr(m, "_imp_changed", None)
    if changed is not None:
        changed.add((g, t))


def set_parameters(m: pyo.ConcreteModel, p: Problem) -> None:
    """Write the data of ``p`` into the mutable parameters of ``m``, a model built from a problem of
    the same structure (same bids, grids and interface modes): bid quantities and prices, initial
    activations and minimum-duration carry-over, transmission right-hand sides, distribution loads and
    import targets, energy-group limits, the feeders' root voltages. A (bid, step) pair without a
    variable in ``m`` keeps offering nothing. A model held as arrays
    (:class:`~simulation.market.direct_model.DirectModel`) rebuilds them from ``p``."""
    if hasattr(m, "set_problem"):
        m.set_problem(p)
        return
    m._params_changed = True  # anything may change: a compiled copy compiles the model again
    bt = p.bids
    groups = list(m.e_lo.keys())
    if groups:
        lo, hi = energy_limits(p, groups)
        for g in groups:
            m.e_lo[g].set_value(lo[g])
            m.e_hi[g].set_value(hi[g])
    roots = m._d["roots"]
    for g, dd in enumerate(p.dgrids):
        for t in range(p.n_steps):
            set_root_voltage(m.v[roots[g], t], dd.grid.v_root_pu)
    if m._pairs:
        pairs = np.array(m._pairs)
        qv = bt.quantity_mw[pairs[:, 0], pairs[:, 1]].tolist()
        pv = bt.price_eur_per_mwh[pairs[:, 0], pairs[:, 1]].tolist()
        for i, (qi, pi) in enumerate(zip(qv, pv, strict=True)):
            m.q[i].set_value(qi)
            m.price[i].set_value(pi)
    for b in m.a0:
        m.a0[b].set_value(float(bt.initial_activation_mw[b]))
    on0, must = min_duration_carry(p)
    for b, val in on0.items():
        m.on0[b].set_value(val)
    for key, val in must.items():
        m.must_on[key].set_value(val)
    T = p.n_steps
    if p.tgrid is not None:
        rhs = p.t_rhs_mw.tolist()
        for i in range(p.n_t):
            for t in range(T):
                m.t_rhs[i, t].set_value(rhs[i][t])
    o = 0
    for g, dd in enumerate(p.dgrids):
        S = dd.grid.base_mva
        lp = (dd.load_p_mw / S).tolist()
        lq = (dd.load_q_mvar / S).tolist()
        for j in range(dd.grid.n_nodes):
            for t in range(T):
                m.d_load[o + j, t].set_value(lp[j][t])
                m.d_qload[o + j, t].set_value(lq[j][t])
        o += dd.grid.n_nodes
        if dd.mode in ("fixed", "free"):
            for t in range(T):
                set_import_target(m, g, t, float(dd.import_target_mw[t]) if dd.mode == "fixed" else math.nan)


def add_distribution_balance(m: pyo.ConcreteModel, p: Problem) -> None:
    """Branch-flow balances of each distribution node ``j`` with parent branch ``k`` and children
    ``C(j)`` (dual of the active one = price of upward need at ``j``, per unit):

    ``(sum_{b at j} s_b a_bt + dsu_jt - dsd_jt) / S + P_kt - r_k l_kt - sum_{c in C(j)} P_ct = load_jt / S``
    ``Q_kt - x_k l_kt - sum_{c in C(j)} Q_ct = qload_jt / S``

    and at the root ``I_gt`` (``J_gt``) replaces ``P_kt - r_k l_kt`` (``Q_kt - x_k l_kt``). ``load`` is
    the scheduled net load plus the need of the node (mutable)."""
    d = m._d
    T = p.n_steps
    nn = d["n_nodes"]
    parent = np.full(nn, -1, dtype=int)
    parent[d["to"]] = np.arange(d["n_br"])
    children: dict[int, list[int]] = defaultdict(list)
    for k, f in enumerate(d["from"].tolist()):
        children[f].append(k)
    grid_of_node = np.zeros(nn, dtype=int)
    S = np.zeros(nn)
    loadp = np.zeros((nn, T))
    loadq = np.zeros((nn, T))
    for g, dd in enumerate(p.dgrids):
        o = d["node_off"][g]
        n = dd.grid.n_nodes
        grid_of_node[o : o + n] = g
        S[o : o + n] = dd.grid.base_mva
        loadp[o : o + n] = dd.load_p_mw
        loadq[o : o + n] = dd.load_q_mvar
    m.d_load = pyo.Param(
        range(nn),
        range(T),
        initialize={(j, t): float(loadp[j, t] / S[j]) for j in range(nn) for t in range(T)},
        mutable=True,
        within=pyo.Any,
    )
    m.d_qload = pyo.Param(
        range(nn),
        range(T),
        initialize={(j, t): float(loadq[j, t] / S[j]) for j in range(nn) for t in range(T)},
        mutable=True,
        within=pyo.Any,
    )
    sign = p.bid_sign()
    bids_at: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for b in np.flatnonzero(p.bid_grid >= 0).tolist():
        j = d["node_off"][int(p.bid_grid[b])] + int(p.bid_row[b])
        bids_at[j].append((b, float(sign[b])))
    r, x = d["r"].tolist(), d["x"].tolist()
    m._d.update(parent=parent, grid_of_node=grid_of_node, S=S)

    def prule(_m: pyo.ConcreteModel, j: int, t: int) -> object:
        s = float(S[j])
        coefs: list[float] = [1.0 / s, -1.0 / s]
        vars_: list[object] = [_m.dsu[j, t], _m.dsd[j, t]]
        for b, sg in bids_at.get(j, ()):
            i = _m._pair_of.get((b, t))
            if i is not None:
                coefs.append(sg / s)
                vars_.append(_m.a[i])
        k = int(parent[j])
        if k >= 0:
            coefs += [1.0, -r[k]]
            vars_ += [_m.P[k, t], _m.l[k, t]]
        else:
            coefs.append(1.0)
            vars_.append(_m.imp[int(grid_of_node[j]), t])
        for c in children.get(j, ()):
            coefs.append(-1.0)
            vars_.append(_m.P[c, t])
        return LinearExpression(constant=0.0, linear_coefs=coefs, linear_vars=vars_) == _m.d_load[j, t]

    def qrule(_m: pyo.ConcreteModel, j: int, t: int) -> object:
        k = int(parent[j])
        if k >= 0:
            coefs, vars_ = [1.0, -x[k]], [_m.Q[k, t], _m.l[k, t]]
        else:
            coefs, vars_ = [1.0], [_m.impq[int(grid_of_node[j]), t]]
        for c in children.get(j, ()):
            coefs.append(-1.0)
            vars_.append(_m.Q[c, t])
        return LinearExpression(constant=0.0, linear_coefs=coefs, linear_vars=vars_) == _m.d_qload[j, t]

    m.dbal = pyo.Constraint(range(nn), range(T), rule=prule)
    m.dbalq = pyo.Constraint(range(nn), range(T), rule=qrule)


def add_native_cones(m: pyo.ConcreteModel, n_steps: int) -> None:
    """Rotated second-order cones as quadratic constraints: ``P_kt^2 + Q_kt^2 <= v_it l_kt``."""
    fr = m._d["from"].tolist()
    m.cone = pyo.Constraint(
        range(m._d["n_br"]),
        range(n_steps),
        rule=lambda _m, k, t: _m.P[k, t] ** 2 + _m.Q[k, t] ** 2 <= _m.v[fr[k], t] * _m.l[k, t],
    )


# ---------------------------------------------------------------------------------------------- objective
def add_objective(m: pyo.ConcreteModel, p: Problem) -> None:
    """Minimise ``dt [ sum_{sell} price_bt a_bt - sum_{buy} price_bt a_bt + pen (su + sd + dsu + dsd)
    + eps S sum_k r_k l_kt ]`` (activation cost, minus buyers' value in IFM, plus the slack penalty and a
    small loss price ``eps`` that keeps the cone relaxation tight)."""
    dt = p.dt_h
    sell = ~p.bids.is_buy
    coefs: list[object] = []
    vars_: list[object] = []
    for i, (b, _t) in enumerate(m._pairs):
        if sell[b]:
            coefs.append(dt * m.price[i])
        elif p.welfare:
            coefs.append(-dt * m.price[i])
        else:
            continue
        vars_.append(m.a[i])
    pen = dt * p.penalty_eur_per_mwh
    for comp in (m.su, m.sd, m.dsu, m.dsd):
        for key in comp:
            coefs.append(pen)
            vars_.append(comp[key])
    d = m._d
    if d["n_br"]:
        S_br = np.array([p.dgrids[g].grid.base_mva for g in d["grid_of_br"].tolist()])
        w = (dt * p.loss_penalty_eur_per_mwh * S_br * d["r"]).tolist()
        for k in range(d["n_br"]):
            if w[k]:
                for t in range(p.n_steps):
                    coefs.append(w[k])
                    vars_.append(m.l[k, t])
    m.obj = pyo.Objective(
        expr=LinearExpression(constant=0.0, linear_coefs=coefs, linear_vars=vars_), sense=pyo.minimize
    )
