"""The market architectures: how each scheme turns a case into clearing problems and one result.

* ``CMS`` centralized AS market: one TSO clearing with the DC transmission model only. Distribution
  bids and needs sit at their interface node; with ``options.prequalification`` the DSO first excludes
  every bid whose full activation alone would break a limit of its grid (voltage or current, checked
  by an exact branch-flow power flow of the scheduled state plus that bid).
* ``LMS`` local AS market: each DSO clears a local market (SOCP, import free) for its own grid limits;
  its activations are firm. From the unused bids it builds a residual supply curve at the interface
  (least cost of delivering each interface quantity with its grid constraints, both directions),
  which enters the TSO market as bids of the DSO; what the TSO activates the DSO disaggregates back
  to its bids (SOCP with the import fixed).
* ``SBR`` shared balancing responsibility: every DSO keeps its interface on the schedule with local
  bids only (SOCP, import fixed; copper-plate DSOs: a one-node market); the TSO balances the
  transmission needs with transmission bids only. No interaction.
* ``CM`` common market, centralised: one joint clearing (DC + the SOCP of every detailed grid).
* ``CM-D`` common market, decentralised: each DSO passes the curve of its least local cost as a
  function of its interface import (built with all its bids and grid constraints, around its least-cost
  point) to the central market, then disaggregates; equals ``CM`` up to the curve's discretisation.
* ``IFM`` integrated flexibility market: ``CM`` plus the commercial parties' bids, maximising welfare.

Bids of ``party = "commercial"`` take part in IFM only.

The pieces: :mod:`~simulation.market.prepare` (the case as arrays and the problems built from it),
:mod:`~simulation.market.curves` (the DSOs' interface curves), :mod:`~simulation.market.assembly` (one
result from the sub-clearings' solutions); :class:`~simulation.market.session.MarketSession` re-clears
a case as the horizon rolls.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from coordstudio.simulation.errors import MarketError
from coordstudio.simulation.market.assembly import ResultBuilder, take_central
from coordstudio.simulation.market.bids import BidTable
from coordstudio.simulation.market.case import SCHEMES, ClearingOptions, MarketCase
from coordstudio.simulation.market.curves import build_curve, curve_bids
from coordstudio.simulation.market.direct_model import build_clearing_model
from coordstudio.simulation.market.grids import TransmissionGrid
from coordstudio.simulation.market.model import build_model, set_import_target, set_parameters
from coordstudio.simulation.market.prepare import (
    PreparedCase,
    central_problem,
    local_problem,
    participating,
    prepare_case,
    prequalify,
)
from coordstudio.simulation.market.problem import Problem
from coordstudio.simulation.market.results import ClearingResult
from coordstudio.simulation.market.solution import Solution
from coordstudio.simulation.market.solve import solve_problem
from coordstudio.simulation.market.solvers import SolverHandle, make_solver
from coordstudio.simulation.progress import NullProgress, Progress, check_cancelled

# ---------------------------------------------------------------------------------------------- schemes
ModelCache = dict[Any, Any]
"""Models of the sub-clearings of a :class:`~simulation.market.session.MarketSession`, by role
(``("local", g)``, ``"central"``, ...): a later clearing of the same case structure writes its data
into their mutable parameters."""


def _model_for(
    prob: Problem, cache: ModelCache | None, key: Any, integral_lp: bool = False, direct: bool = False
) -> tuple[Any, float]:
    """The model of ``prob``: built (and kept in ``cache`` under ``key``), or taken from the cache with
    the data of ``prob`` written into its parameters. Returns it with the time spent.

    ``integral_lp``: a sub-clearing of a decentralised scheme, whose mixed-integer solve is skipped when
    its relaxation settles it (:func:`~simulation.market.highs_direct.milp_settled_by_relaxation`; the
    HiGHS path). ``direct``: the solver is HiGHS, driven directly (a model without a cache may then be
    held as arrays: :func:`~simulation.market.direct_model.build_clearing_model`)."""
    t0 = time.perf_counter()
    if cache is None:
        m = build_clearing_model(prob, direct=direct)
    else:
        m = cache.get(key)
        if m is None or len(m._pairs) != prob.bids.n_bids * prob.n_steps:  # new key, or another shape
            m = cache[key] = build_model(prob, reusable=True)
        else:
            set_parameters(m, prob)
    if integral_lp:
        m._skip_integral_milp = True
    return m, time.perf_counter() - t0


def _solve(
    prob: Problem,
    options: ClearingOptions,
    handle: SolverHandle,
    acc: ResultBuilder,
    label: str,
    cache: ModelCache | None = None,
    key: Any = None,
    integral_lp: bool = False,
) -> Solution:
    m, build = _model_for(prob, cache, key, integral_lp, direct=handle.persistent)
    sol = solve_problem(m, prob, options, handle)
    acc.add_stats(sol, build, label)
    return sol


def _clear_central(
    prep: PreparedCase, scheme: str, options: ClearingOptions, handle: SolverHandle, acc: ResultBuilder
) -> None:
    mask = participating(prep, scheme)
    if scheme == "CMS" and options.prequalification and prep.case.distribution:
        ok = prequalify(prep, mask)
        for b in np.flatnonzero(mask & ~ok).tolist():
            prep.excluded.append(
                (
                    str(prep.bids.bid_id[b]),
                    "DSO pre-qualification: its activation would break a distribution limit",
                )
            )
        mask = mask & ok
    prob = central_problem(prep, scheme, mask, f"{prep.case.name} [{scheme}]")
    sol = _solve(prob, options, handle, acc, f"{scheme} market")
    take_central(acc, prob, sol, mask, scheme)


def _local_bid_rows(prep: PreparedCase, g: int, base_mask: np.ndarray) -> np.ndarray:
    return np.flatnonzero(base_mask & (prep.loc_kind == "D") & (prep.loc_grid == g))


def _clear_sbr(
    prep: PreparedCase,
    options: ClearingOptions,
    handle: SolverHandle,
    acc: ResultBuilder,
    progress: Progress,
    cache: ModelCache | None = None,
) -> None:
    case = prep.case
    part = participating(prep, "SBR")
    n_sub = len(case.distribution) + len(case.copper_plates) + 1
    for g, dg in enumerate(case.distribution):
        check_cancelled(progress)
        idx = _local_bid_rows(prep, g, part)
        p, _ = prep.d_base[g]
        prob = local_problem(
            prep,
            g,
            prep.bids.subset(idx),
            prep.loc_row[idx],
            p + prep.d_need[g],
            "fixed",
            prep.schedule[g],
            f"{case.name} [SBR local {dg.grid_id}]",
        )
        sol = _solve(prob, options, handle, acc, f"SBR local market {dg.grid_id}", cache, ("local", g), True)
        acc.a[idx] = sol.a
        acc.take_grid(g, 0, prob, sol)
        progress.report((g + 1) / n_sub, f"SBR: local market {dg.grid_id} cleared")
    tidx = case.transmission.node_index()
    for c, cp in enumerate(case.copper_plates):
        idx = np.flatnonzero(part & (prep.bids.node == cp.node_id))
        need = np.asarray(case.needs_matrix().get(cp.node_id, np.zeros(prep.T)))
        one = TransmissionGrid.single_node(cp.node_id, name=f"{cp.node_id} (copper plate)")
        prob = Problem(
            name=f"{case.name} [SBR local {cp.node_id}]",
            n_steps=prep.T,
            dt_h=case.timing.dt_h,
            penalty_eur_per_mwh=case.slack_penalty_eur_per_mwh,
            tgrid=one,
            t_rhs_mw=need[None, :],
            dgrids=[],
            bids=prep.bids.subset(idx),
            bid_grid=np.full(len(idx), -1),
            bid_row=np.zeros(len(idx), dtype=int),
        )
        sol = _solve(prob, options, handle, acc, f"SBR local market {cp.node_id}", cache, ("copper", c), True)
        acc.a[idx] = sol.a
        acc.take_copper_plate_prices(cp.node_id, sol)
        acc.c_slack[cp.node_id] = np.stack([sol.su[0], sol.sd[0]])
        progress.report((len(case.distribution) + c + 1) / n_sub, f"SBR: local market {cp.node_id} cleared")
    # TSO: transmission bids and needs only; interfaces on schedule (already in the base injections)
    tmask = part & (prep.loc_kind == "T")
    tg = case.transmission
    rhs = prep.t_need - tg.base_injection(prep.T)
    bids = prep.bids.subset(tmask)
    prob = Problem(
        name=f"{case.name} [SBR TSO]",
        n_steps=prep.T,
        dt_h=case.timing.dt_h,
        penalty_eur_per_mwh=case.slack_penalty_eur_per_mwh,
        tgrid=tg,
        t_rhs_mw=rhs,
        dgrids=[],
        bids=bids,
        bid_grid=np.full(bids.n_bids, -1),
        bid_row=prep.loc_row[tmask],
    )
    sol = _solve(prob, options, handle, acc, "SBR TSO market", cache, "central")
    acc.a[tmask] = sol.a
    acc.take_transmission_prices(sol)
    acc.t_slack[:, 0] += sol.su
    acc.t_slack[:, 1] += sol.sd
    acc.t_flow = sol.t_flow
    del tidx


@dataclass
class _LocalCurve:
    """One distribution grid's part of a decentralised clearing (LMS, CM-D) after its local market:
    the curve it offers at the interface and what its disaggregation needs."""

    g: int
    """The grid's index in the case."""
    idx: np.ndarray
    """Rows of the grid's bids in the case's bid table."""
    cprob: Problem
    """The local problem the curve was built on (import fixed)."""
    ref: np.ndarray
    """The import of the grid's least-cost point, MW per step (the curve's origin)."""
    bids: BidTable
    """The curve as bids of the DSO at the interface node."""
    model: Any
    """The curve's model, reused for the disaggregation."""


def _clear_decentral(
    prep: PreparedCase,
    scheme: str,
    options: ClearingOptions,
    handle: SolverHandle,
    acc: ResultBuilder,
    progress: Progress,
    cache: ModelCache | None = None,
) -> None:
    """LMS and CM-D (see the module docstring): per grid a local market and a curve, then the central
    market with the curves, then each grid's disaggregation of what the central market took."""
    case = prep.case
    part = participating(prep, scheme)
    tg = case.transmission
    tidx = tg.node_index()
    extra_need = np.zeros((tg.n_nodes, prep.T))
    local: list[_LocalCurve] = []
    n_g = max(len(case.distribution), 1)
    for g, dg in enumerate(case.distribution):
        check_cancelled(progress)
        lc = _local_curve(prep, g, scheme, part, options, handle, acc, cache)
        extra_need[tidx[dg.interface_node]] += lc.ref - prep.schedule[g]
        local.append(lc)
        progress.report(0.6 * (g + 1) / n_g, f"{scheme}: curve of {dg.grid_id} built")
    sol, n_own = _clear_with_curves(prep, scheme, part, local, extra_need, options, handle, acc, cache)
    progress.report(0.8, f"{scheme}: central market cleared")
    _disaggregate(prep, scheme, local, sol.a[n_own:], options, handle, acc)


def _local_curve(
    prep: PreparedCase,
    g: int,
    scheme: str,
    part: np.ndarray,
    options: ClearingOptions,
    handle: SolverHandle,
    acc: ResultBuilder,
    cache: ModelCache | None,
) -> _LocalCurve:
    """Grid ``g``'s local market (its own limits, import free; with LMS its activations are firm) and
    the curve of its remaining bids at the interface around the local optimum."""
    case = prep.case
    dg = case.distribution[g]
    idx = _local_bid_rows(prep, g, part)
    bids_g = prep.bids.subset(idx)
    p, _ = prep.d_base[g]
    load = p + prep.d_need[g]
    # 1. local market: the DSO's own grid limits, import free
    # one model per grid serves its local market (import free), every curve point and the
    # disaggregation (import fixed): only mutable parameters change between them
    prob = local_problem(
        prep,
        g,
        bids_g,
        prep.loc_row[idx],
        load,
        "fixed",
        None,
        f"{case.name} [{scheme} local {dg.grid_id}]",
    )
    lmodel, build_s = _model_for(prob, cache, ("local", g), integral_lp=True, direct=handle.persistent)
    sol = solve_problem(lmodel, prob, replace(options, compute_prices=False), handle)
    acc.add_stats(sol, build_s, f"{scheme} local market {dg.grid_id}")
    ref = sol.imp_mw[0].copy()
    sign = bids_g.direction.astype(float) * np.where(bids_g.is_buy, -1.0, 1.0)
    if scheme == "LMS":
        a_loc = sol.a
        # residual bids: the unused capacity; on/off bids already used are spent
        q_res = np.maximum(bids_g.quantity_mw - a_loc, 0.0)
        spent = bids_g.needs_binary() & (a_loc > 1e-7).any(axis=1)
        q_res[spent] = 0.0
        curve_bids_g = replace(bids_g, quantity_mw=q_res, initial_activation_mw=np.zeros(bids_g.n_bids))
        load_c = load.copy()
        np.add.at(load_c, prep.loc_row[idx], -(sign[:, None] * a_loc))
        acc.a[idx] += a_loc
    else:
        curve_bids_g = bids_g
        load_c = load
    # 2. aggregated curve at the interface
    cprob = local_problem(
        prep,
        g,
        curve_bids_g,
        prep.loc_row[idx],
        load_c,
        "fixed",
        ref,
        f"{case.name} [{scheme} curve {dg.grid_id}]",
    )
    t0 = time.perf_counter()
    _fix_import(lmodel, ref)
    if scheme == "LMS":  # CM-D: the curve's problem is the local market's with the import fixed
        set_parameters(lmodel, cprob)
    curve, n_solves, cmodel = build_curve(cprob, ref, options, handle, model=lmodel)
    acc.solve_time += time.perf_counter() - t0
    acc.subs.append(
        {
            "clearing": f"{scheme} curve {dg.grid_id}",
            "solves": n_solves,
            "up_mw": curve.up_q.sum(axis=0).tolist(),
            "down_mw": curve.down_q.sum(axis=0).tolist(),
        }
    )
    pad = options.curve_points if cache is not None else 0  # a fixed shape for the kept central model
    cbids = curve_bids(curve, dg.dso_id, dg.grid_id, dg.interface_node, pad)
    return _LocalCurve(g=g, idx=idx, cprob=cprob, ref=ref, bids=cbids, model=cmodel)


def _fix_import(model: Any, ref: np.ndarray) -> None:
    """Fix the import of a local market's model (one grid) at ``ref`` per step, and bring its loaded
    HiGHS copy up to date at once: the import rows change kind (free -> fixed) without a Pyomo compile
    (:meth:`~simulation.market.highs_direct.HighsDirect.update`), so HiGHS keeps the local market's
    basis and cuts for the curve's first point. Done before any other parameter changes (LMS's residual
    bids), whose compile then finds the rows it already holds instead of a new structure and a reload
    (168 HiGHS loads of the LMS day, two per grid and clearing, were half of them reloads)."""
    for t, x in enumerate(ref.tolist()):
        set_import_target(model, 0, t, x)
    hd = getattr(model, "_highs_direct", None)
    if hd is not None and not hd.update():
        model._highs_direct = None  # a structure it does not hold (not met): the next solve loads afresh


def _clear_with_curves(
    prep: PreparedCase,
    scheme: str,
    part: np.ndarray,
    local: list[_LocalCurve],
    extra_need: np.ndarray,
    options: ClearingOptions,
    handle: SolverHandle,
    acc: ResultBuilder,
    cache: ModelCache | None,
) -> tuple[Solution, int]:
    """3. The TSO / central market: transmission and copper-plate bids plus the DSOs' curves, with the
    interfaces at the grids' least-cost imports (``extra_need``). Returns its solution and the number
    of its own bids (the curves' bids follow them)."""
    case = prep.case
    T = prep.T
    tg = case.transmission
    tidx = tg.node_index()
    curves = [lc.bids for lc in local]
    tmask = part & (prep.loc_kind != "D")
    own = prep.bids.subset(tmask)
    all_bids = BidTable.concat([own, *curves]) if curves else own
    rows = np.concatenate(
        [prep.t_row_of_bid[tmask]]
        + [np.full(c.n_bids, tidx[case.distribution[k].interface_node]) for k, c in enumerate(curves)]
    )
    rhs = prep.t_need + prep.c_need + extra_need - tg.base_injection(T)
    prob = Problem(
        name=f"{case.name} [{scheme} central]",
        n_steps=T,
        dt_h=case.timing.dt_h,
        penalty_eur_per_mwh=case.slack_penalty_eur_per_mwh,
        tgrid=tg,
        t_rhs_mw=rhs,
        dgrids=[],
        bids=all_bids,
        bid_grid=np.full(all_bids.n_bids, -1),
        bid_row=rows,
    )
    sol = _solve(prob, options, handle, acc, f"{scheme} TSO market", cache, "central")
    n_own = own.n_bids
    acc.a[tmask] = sol.a[:n_own]
    acc.take_transmission_prices(sol)
    acc.t_slack[:, 0] += sol.su
    acc.t_slack[:, 1] += sol.sd
    acc.t_flow = sol.t_flow
    return sol, n_own


def _disaggregate(
    prep: PreparedCase,
    scheme: str,
    local: list[_LocalCurve],
    a_curves: np.ndarray,
    options: ClearingOptions,
    handle: SolverHandle,
    acc: ResultBuilder,
) -> None:
    """4. Each grid's disaggregation of the activated curve quantities (``a_curves``: the central
    market's activations of the curves' bids, grid after grid) onto its own bids, import fixed."""
    case = prep.case
    off = 0
    for lc in local:
        g = lc.g
        cb = lc.bids
        a_curve = a_curves[off : off + cb.n_bids]
        delta = (cb.direction[:, None].astype(float) * a_curve).sum(axis=0)
        off += cb.n_bids
        dprob = replace(
            lc.cprob, name=f"{case.name} [{scheme} disaggregation {case.distribution[g].grid_id}]"
        )
        dprob.dgrids = [replace(dprob.dgrids[0], import_target_mw=lc.ref - delta)]
        # the curve's model has the same structure: only the import target moves
        for t in range(prep.T):
            set_import_target(lc.model, 0, t, float(lc.ref[t] - delta[t]))
        dsol = solve_problem(lc.model, dprob, options, handle)
        acc.add_stats(dsol, 0.0, f"{scheme} disaggregation {case.distribution[g].grid_id}")
        acc.a[lc.idx] += dsol.a
        acc.take_grid(g, 0, dprob, dsol)
        acc.subs[-1]["interface_delta_mw"] = delta.tolist()


def clear(
    case: MarketCase,
    scheme: str = "CM",
    options: ClearingOptions | None = None,
    progress: Progress | None = None,
) -> ClearingResult:
    """Clear ``case`` under ``scheme`` (one of :data:`~simulation.market.case.SCHEMES`).

    Raises :class:`MarketError` for bad input, :class:`SolverUnavailableError` when the solver cannot
    be reached, :class:`SolverFailedError` / :class:`InfeasibleMarketError` naming the clearing.
    """
    return clear_reusing(case, scheme, options, progress)


def clear_reusing(
    case: MarketCase,
    scheme: str = "CM",
    options: ClearingOptions | None = None,
    progress: Progress | None = None,
    cache: ModelCache | None = None,
    handle: SolverHandle | None = None,
) -> ClearingResult:
    """:func:`clear` with a session's model cache and solver (see
    :class:`~simulation.market.session.MarketSession`)."""
    options = options or ClearingOptions()
    progress = progress or NullProgress()
    if scheme not in SCHEMES:
        raise MarketError(f"{case.name}: unknown scheme {scheme!r}; choose one of {', '.join(SCHEMES)}")
    handle = handle or make_solver(options.solver, f"{case.name} [{scheme}]")
    prep = prepare_case(case)
    acc = ResultBuilder(prep, scheme, options)
    progress.report(0.0, f"{scheme}: clearing {case.name}")
    if scheme in ("CMS", "CM", "IFM"):
        _clear_central(prep, scheme, options, handle, acc)
    elif scheme == "SBR":
        _clear_sbr(prep, options, handle, acc, progress, cache)
    else:
        _clear_decentral(prep, scheme, options, handle, acc, progress, cache)
    t0 = time.perf_counter()
    res = acc.result(t0)
    progress.report(1.0, f"{scheme}: cleared ({res.status})")
    return res
