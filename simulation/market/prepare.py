"""A market case in array form, and the clearing problems the schemes build from it.

:func:`prepare_case` validates a :class:`~simulation.market.case.MarketCase` once (gate closure applied,
every bid located as transmission, distribution or copper-plate, the needs summed per node) so that
every scheme reads the same arrays. :func:`central_problem` and :func:`local_problem` turn them into the
:class:`~simulation.market.problem.Problem` of a central (TSO or joint) or a local (one DSO grid)
clearing; :func:`prequalify` is the DSO's check of CMS, done before the central clearing.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from coordstudio.simulation.market.bids import BidTable
from coordstudio.simulation.market.case import MarketCase
from coordstudio.simulation.market.problem import DGridData, Problem


# ---------------------------------------------------------------------------------------------- preparation
# ---------------------------------------------------------------------------------------------- preparation
@dataclass
class PreparedCase:
    """A validated case in array form."""

    case: MarketCase
    bids: BidTable
    """The case's bids with gate closure applied (quantities zeroed where late)."""
    loc_kind: np.ndarray
    """'T', 'D' or 'C' per bid."""
    loc_grid: np.ndarray
    loc_row: np.ndarray
    t_row_of_bid: np.ndarray
    """Transmission row of each bid (its interface row for distribution bids)."""
    t_need: np.ndarray
    """(nT, T) needs at transmission nodes (not copper plates)."""
    c_need: np.ndarray
    """(nT, T) needs of copper-plate nodes, at their interface rows."""
    d_need: list[np.ndarray]
    d_base: list[tuple[np.ndarray, np.ndarray]]
    schedule: list[np.ndarray]
    excluded: list[tuple[str, str]] = field(default_factory=list)

    @property
    def T(self) -> int:
        return self.case.n_steps


def prepare_case(case: MarketCase) -> PreparedCase:
    """Validate ``case`` and put it in array form; a bid submitted after gate closure offers nothing in
    the steps it missed and is listed in ``excluded``."""
    nodes = case.validate()
    T = case.n_steps
    tg = case.transmission
    tidx = tg.node_index()
    bids = case.bids
    excluded: list[tuple[str, str]] = []
    # gate closure: a bid counts for step t only if submitted <= t * granularity - gate_closure
    sub = bids.submitted_min
    if np.isfinite(sub).any():
        deadline = case.timing.granularity_min * np.arange(T) - case.timing.gate_closure_min
        late = np.isfinite(sub)[:, None] & (sub[:, None] > deadline[None, :]) & (bids.quantity_mw > 0)
        if late.any():
            q = bids.quantity_mw.copy()
            q[late] = 0.0
            bids = replace(bids, quantity_mw=q)
            for b in np.flatnonzero(late.any(axis=1)).tolist():
                steps = np.flatnonzero(late[b]).tolist()
                excluded.append((str(bids.bid_id[b]), f"submitted after gate closure for steps {steps}"))
    kind, grid, row = [], [], []
    for nd in bids.node.tolist():
        k, g, r = nodes[nd]
        kind.append(k)
        grid.append(g)
        row.append(r)
    loc_kind = np.array(kind, dtype=object)
    loc_grid = np.array(grid, dtype=int)
    loc_row = np.array(row, dtype=int)
    t_row = loc_row.copy()
    for g, dg in enumerate(case.distribution):
        t_row[(loc_kind == "D") & (loc_grid == g)] = tidx[dg.interface_node]
    needs = case.needs_matrix(nodes)
    t_need = np.zeros((tg.n_nodes, T))
    c_need = np.zeros((tg.n_nodes, T))
    d_need = [np.zeros((dg.n_nodes, T)) for dg in case.distribution]
    for nid, arr in needs.items():
        k, g, r = nodes[nid]
        if k == "T":
            t_need[r] += arr
        elif k == "C":
            c_need[r] += arr
        else:
            d_need[g][r] += arr
    d_base = [dg.base(T) for dg in case.distribution]
    schedule = [dg.scheduled_import(T) for dg in case.distribution]
    return PreparedCase(
        case, bids, loc_kind, loc_grid, loc_row, t_row, t_need, c_need, d_need, d_base, schedule, excluded
    )


def participating(prep: PreparedCase, scheme: str) -> np.ndarray:
    """The bids that take part in ``scheme``: the commercial parties' bids only in IFM."""
    return np.ones(prep.bids.n_bids, dtype=bool) if scheme == "IFM" else ~prep.bids.is_commercial


# ---------------------------------------------------------------------------------------------- problems
def central_problem(prep: PreparedCase, scheme: str, mask: np.ndarray, name: str) -> Problem:
    """CMS (distribution not modelled), CM and IFM (distribution coupled)."""
    case = prep.case
    tg = case.transmission
    T = prep.T
    modelled = scheme != "CMS"
    bids = prep.bids.subset(mask)
    kind = prep.loc_kind[mask]
    bid_grid = np.where((kind == "D") & modelled, prep.loc_grid[mask], -1)
    bid_row = np.where((kind == "D") & modelled, prep.loc_row[mask], prep.t_row_of_bid[mask])
    base = tg.base_injection(T)
    rhs = prep.t_need + prep.c_need - base
    dgrids: list[DGridData] = []
    tidx = tg.node_index()
    for g, dg in enumerate(case.distribution):
        i = tidx[dg.interface_node]
        if modelled:
            p, q = prep.d_base[g]
            dgrids.append(
                DGridData(
                    dg,
                    "coupled",
                    t_row=i,
                    load_p_mw=p + prep.d_need[g],
                    load_q_mvar=q,
                    schedule_mw=prep.schedule[g],
                )
            )
            rhs[i] -= prep.schedule[g]
        else:
            rhs[i] += prep.d_need[g].sum(axis=0)
    return Problem(
        name=name,
        n_steps=T,
        dt_h=case.timing.dt_h,
        penalty_eur_per_mwh=case.slack_penalty_eur_per_mwh,
        tgrid=tg,
        t_rhs_mw=rhs,
        dgrids=dgrids,
        bids=bids,
        bid_grid=bid_grid,
        bid_row=bid_row,
        welfare=scheme == "IFM",
    )


def local_problem(
    prep: PreparedCase,
    g: int,
    bids: BidTable,
    rows: np.ndarray,
    load_p: np.ndarray,
    mode: str,
    target: np.ndarray | None,
    name: str,
) -> Problem:
    """Distribution grid ``g`` alone with ``bids`` at its nodes ``rows`` and active loads ``load_p``;
    its import ``mode`` ``"fixed"`` at ``target`` per step (``None``: NaN, i.e. free, until a target is
    written into the model's parameters)."""
    case = prep.case
    dg = case.distribution[g]
    T = prep.T
    dd = DGridData(
        dg,
        mode,
        load_p_mw=load_p,
        load_q_mvar=prep.d_base[g][1],
        schedule_mw=prep.schedule[g],
        import_target_mw=np.full(T, np.nan) if target is None else target,
    )
    return Problem(
        name=name,
        n_steps=T,
        dt_h=case.timing.dt_h,
        penalty_eur_per_mwh=case.slack_penalty_eur_per_mwh,
        tgrid=None,
        t_rhs_mw=np.zeros((0, T)),
        dgrids=[dd],
        bids=bids,
        bid_grid=np.zeros(bids.n_bids, dtype=int),
        bid_row=np.asarray(rows, dtype=int),
    )


# ------------------------------------------------------------------------------------------ pre-qualification
def prequalify(prep: PreparedCase, mask: np.ndarray) -> np.ndarray:
    """DSO pre-qualification (CMS): the distribution bids whose full activation alone, on top of the
    scheduled state plus needs, keeps every voltage and current of their grid within limits (exact
    branch-flow power flow per bid and step). Returns a boolean mask over the case's bids."""
    ok = np.ones(prep.bids.n_bids, dtype=bool)
    bt = prep.bids
    sign = bt.direction.astype(float)
    for g, dg in enumerate(prep.case.distribution):
        sel = np.flatnonzero(mask & (prep.loc_kind == "D") & (prep.loc_grid == g))
        if not len(sel):
            continue
        p0, q0 = prep.d_base[g]
        p0 = p0 + prep.d_need[g]
        vlo, vhi = dg.vmin_pu**2, dg.vmax_pu**2
        lmax = np.where(np.isfinite(dg.imax_pu), dg.imax_pu**2, np.inf)
        v0, _, _, l0 = dg.branch_flow(p0, q0)
        base_bad_v = (v0 < vlo[:, None] - 1e-9) | (v0 > vhi[:, None] + 1e-9)
        base_bad_l = l0 > lmax[:, None] + 1e-9
        for b in sel.tolist():
            pb = p0.copy()
            pb[prep.loc_row[b]] -= sign[b] * bt.quantity_mw[b]
            v, _, _, L = dg.branch_flow(pb, q0)
            bad_v = ((v < vlo[:, None] - 1e-9) | (v > vhi[:, None] + 1e-9) | ~np.isfinite(v)) & ~base_bad_v
            bad_l = ((L > lmax[:, None] + 1e-9) | ~np.isfinite(L)) & ~base_bad_l
            if bad_v.any() or bad_l.any():
                ok[b] = False
    return ok
