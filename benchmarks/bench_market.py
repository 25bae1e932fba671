"""Market-layer benchmarks (figures in BENCHMARKS.md, section "Market layer (issue 3)").

    python benchmarks/bench_market.py pypsa      # DC clearing of case1354pegase vs PyPSA (linopy + HiGHS)
    python benchmarks/bench_market.py italy      # common-market clearing at the Italian scenario's scale
    python benchmarks/bench_market.py italy-1e-5 # the same with cone_tolerance 1e-5
    python benchmarks/bench_market.py italy-coupled # the same with energy groups linking the steps
    python benchmarks/bench_market.py clarabel   # SOCP accuracy of the tangent cuts vs Clarabel (cvxpy)
    python benchmarks/bench_market.py scip       # HiGHS + cuts vs SCIP (native MISOCP) on feeder cases
    python benchmarks/bench_market.py schemes    # every scheme on the example feeder case, fresh and rolling

Needs the ``bench`` extras (pypsa, cvxpy, clarabel, pyscipopt).
"""

from __future__ import annotations

import copy
import json
import sys
import time
import warnings

import numpy as np

warnings.filterwarnings("ignore")

from coordstudio.simulation.market import (  # noqa: E402
    Bid,
    BidTable,
    ClearingOptions,
    DistributionGrid,
    EnergyConstraint,
    MarketCase,
    MarketSession,
    MarketTiming,
    TransmissionGrid,
    clear,
)

T = 6


def _pegase_case(name: str = "case1354pegase", n_bids: int = 3000, seed: int = 0) -> MarketCase:
    import pandapower.networks as pn

    net = getattr(pn, name)()
    tg = TransmissionGrid.from_pandapower(net)
    # base flows of the scheduled state; ratings raised to 110 % of them where the data would
    # otherwise start overloaded, so that the clearing is congested by the activations, not the data
    th_flow = _dc_flows(tg)
    tg.branch_rating_mw = np.maximum(tg.branch_rating_mw, 1.1 * np.abs(th_flow))
    rng = np.random.default_rng(seed)
    nodes = rng.integers(0, tg.n_nodes, n_bids)
    up = rng.random(n_bids) < 0.6
    q = rng.uniform(1, 30, n_bids)
    p = np.where(up, rng.uniform(20, 120, n_bids), rng.uniform(-40, 20, n_bids))
    attrs = {
        "bid_id": [f"b{i}" for i in range(n_bids)],
        "node": [tg.node_ids[i] for i in nodes],
        "direction": np.where(up, "up", "down"),
    }
    bids = BidTable.from_columns(attrs, np.repeat(q[:, None], T, 1), np.repeat(p[:, None], T, 1))
    need_nodes = rng.choice(tg.n_nodes, 60, replace=False)
    prof = np.array([1.0, 0.8, 0.5, 0.2, -0.2, -0.5])
    needs = {tg.node_ids[i]: (prof * rng.uniform(5, 40)).tolist() for i in need_nodes}
    return MarketCase(tg, bids, needs, timing=MarketTiming(horizon_steps=T), name=name)


def _dc_flows(tg: TransmissionGrid) -> np.ndarray:
    import scipy.sparse as sp
    import scipy.sparse.linalg as spl

    n, nb = tg.n_nodes, tg.n_branches
    A = sp.csr_matrix(
        (
            np.r_[np.ones(nb), -np.ones(nb)],
            (np.r_[np.arange(nb), np.arange(nb)], np.r_[tg.branch_from, tg.branch_to]),
        ),
        shape=(nb, n),
    )
    B = (A.T @ sp.diags(tg.base_mva * tg.branch_b_pu) @ A).tocsc()
    keep = np.setdiff1d(np.arange(n), [tg.ref_node])
    th = np.zeros(n)
    th[keep] = spl.spsolve(B[keep][:, keep], tg.base_injection_mw[keep])
    return (tg.base_mva * tg.branch_b_pu) * (th[tg.branch_from] - th[tg.branch_to])


def _pypsa_network(case: MarketCase):  # type: ignore[no-untyped-def]
    import pandas as pd
    import pypsa

    tg = case.transmission
    n = pypsa.Network()
    n.set_snapshots(range(T))
    n.add("Bus", tg.node_ids, v_nom=1.0)
    ids = [f"l{i}" for i in range(tg.n_branches)]
    n.add(
        "Line",
        ids,
        bus0=[tg.node_ids[i] for i in tg.branch_from],
        bus1=[tg.node_ids[i] for i in tg.branch_to],
        x=1.0 / (tg.branch_b_pu * tg.base_mva),
        r=0.0,
        s_nom=np.where(np.isfinite(tg.branch_rating_mw), tg.branch_rating_mw, 1e7),
    )
    bt = case.bids
    up = bt.direction > 0
    q = bt.quantity_mw[:, 0]
    price = bt.price_eur_per_mwh[:, 0]
    n.add(
        "Generator",
        list(bt.bid_id),
        bus=list(bt.node),
        p_nom=q,
        marginal_cost=np.where(up, price, -price),
        p_min_pu=np.where(up, 0.0, -1.0),
        p_max_pu=np.where(up, 1.0, 0.0),
    )
    pen = case.slack_penalty_eur_per_mwh
    n.add("Generator", [f"su_{b}" for b in tg.node_ids], bus=tg.node_ids, p_nom=1e5, marginal_cost=pen)
    n.add(
        "Generator",
        [f"sd_{b}" for b in tg.node_ids],
        bus=tg.node_ids,
        p_nom=1e5,
        marginal_cost=-pen,
        p_min_pu=-1.0,
        p_max_pu=0.0,
    )
    need = np.zeros((tg.n_nodes, T))
    idx = tg.node_index()
    for nd, v in case.needs_mw.items():
        need[idx[nd]] += v
    load = need - tg.base_injection(T)
    n.add("Load", [f"ld_{b}" for b in tg.node_ids], bus=tg.node_ids)
    n.loads_t.p_set = pd.DataFrame(load.T, index=n.snapshots, columns=[f"ld_{b}" for b in tg.node_ids])
    return n


def _cpu_s() -> float:
    """CPU seconds of this process, every thread (HiGHS's and the block pool's) included: the figure
    that survives a shared machine's load, where wall times do not."""
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def bench_pypsa(repeats: int = 5) -> dict:
    """Ours (``clear``, CM, no pricing) and PyPSA's ``optimize()`` on the same LP, alternately in one
    process, ``repeats`` times each: medians of wall and CPU seconds, our build / solve / extract
    split, and both objectives."""
    import logging

    import pypsa  # noqa: F401

    logging.getLogger("pypsa").setLevel(logging.ERROR)
    logging.getLogger("linopy").setLevel(logging.ERROR)
    case = _pegase_case()
    opts = ClearingOptions(compute_prices=False)
    ours, theirs, ours_cpu, theirs_cpu, split = [], [], [], [], []
    res = None
    clear(case, "CM", opts)  # imports and first-call set-up out of the timings, as for PyPSA below
    n = _pypsa_network(case)
    n.optimize(solver_name="highs", solver_options={"output_flag": False}, progress=False)
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), _cpu_s()
        res = clear(case, "CM", opts)
        ours.append(time.perf_counter() - t0)
        ours_cpu.append(_cpu_s() - c0)
        split.append((res.build_time_s, res.solve_time_s, res.extract_time_s))
        n = _pypsa_network(case)
        t0, c0 = time.perf_counter(), _cpu_s()
        n.optimize(solver_name="highs", solver_options={"output_flag": False}, progress=False)
        theirs.append(time.perf_counter() - t0)
        theirs_cpu.append(_cpu_s() - c0)
    obj_p = float(n.objective) * case.timing.dt_h
    # our objective includes dt; PyPSA weights snapshots by 1 h: compare per-hour cost
    ours_obj = res.objective_eur
    t0 = time.perf_counter()
    clear(case, "CM")
    priced_t = time.perf_counter() - t0
    return {
        "case": "case1354pegase",
        "bids": case.bids.n_bids,
        "steps": T,
        "n_variables": res.n_variables,
        "ours_s": float(np.median(ours)),
        "pypsa_s": float(np.median(theirs)),
        "ratio": float(np.median(ours) / np.median(theirs)),
        "ours_cpu_s": float(np.median(ours_cpu)),
        "pypsa_cpu_s": float(np.median(theirs_cpu)),
        "ratio_cpu": float(np.median(ours_cpu) / np.median(theirs_cpu)),
        "ours_runs_s": ours,
        "pypsa_runs_s": theirs,
        "ours_build_s": float(np.median([b for b, _, _ in split])),
        "ours_solve_s": float(np.median([s for _, s, _ in split])),
        "ours_extract_s": float(np.median([e for _, _, e in split])),
        "ours_build_extract_to_solve": float(np.median([(b + e) / s for b, s, e in split])),
        "objective_ours_eur": ours_obj,
        "objective_pypsa_eur": obj_p,
        "rel_diff": abs(ours_obj - obj_p) / max(abs(obj_p), 1e-9),
        "ours_with_prices_s": priced_t,
    }


def _italy_case(
    n_t: str = "case2869pegase", n_grids: int = 50, n_bids: int = 12000, seed: int = 1, coupled: bool = False
) -> MarketCase:
    """With ``coupled``, every distribution bid belongs to an energy group of 10 bids (an aggregator's
    storage-like portfolio) whose net energy over the horizon is limited to 30 % of what its upward bids
    could deliver: the groups link the steps, so the clearing is one LP (no independent blocks)."""
    import pandapower.networks as pn

    base = _pegase_case(n_t, n_bids=0, seed=seed)
    tg = base.transmission
    rng = np.random.default_rng(seed)
    feeder = pn.case33bw()
    hosts = rng.choice(tg.n_nodes, n_grids, replace=False)
    grids = []
    for g in range(n_grids):
        dg = DistributionGrid.from_pandapower(feeder, f"d{g}", interface_node=tg.node_ids[hosts[g]])
        scale = rng.uniform(0.6, 1.2)
        dg = dg.with_base(dg.base_p_mw * scale, dg.base_q_mvar * scale)
        grids.append(dg)
    n_d = n_bids // 3
    n_tb = n_bids - n_d
    t_nodes = rng.integers(0, tg.n_nodes, n_tb)
    g_of = rng.integers(0, n_grids, n_d)
    d_rows = rng.integers(1, 33, n_d)
    node = [tg.node_ids[i] for i in t_nodes] + [f"d{g}:{r}" for g, r in zip(g_of, d_rows, strict=True)]
    up = rng.random(n_bids) < 0.6
    q = np.r_[rng.uniform(1, 30, n_tb), rng.uniform(0.005, 0.05, n_d)]
    p = np.where(up, rng.uniform(20, 120, n_bids), rng.uniform(-40, 20, n_bids))
    attrs = {
        "bid_id": [f"b{i}" for i in range(n_bids)],
        "node": node,
        "direction": np.where(up, "up", "down"),
    }
    cons = []
    if coupled:
        grp = np.array([""] * n_tb + [f"e{k // 10}" for k in range(n_d)], dtype=object)
        attrs["energy_group"] = grp
        dt_h = MarketTiming(horizon_steps=T).granularity_min / 60.0
        for g in sorted(set(grp[n_tb:])):
            sel = (grp == g) & up
            cap = 0.3 * float(q[sel].sum()) * T * dt_h
            cons.append(EnergyConstraint(str(g), -cap, cap))
    bids = BidTable.from_columns(attrs, np.repeat(q[:, None], T, 1), np.repeat(p[:, None], T, 1), cons)
    return MarketCase(
        tg, bids, base.needs_mw, distribution=grids, timing=MarketTiming(horizon_steps=T), name="italy-scale"
    )


def _rolled(case: MarketCase, k: int, rng: np.random.Generator) -> tuple[dict, np.ndarray, np.ndarray]:
    """Data of the ``k``-th next clearing of a rolling horizon: the needs move one step on (a new last
    step with +-10 % noise), bid quantities and prices vary by +-5 %."""
    needs = {}
    for nid, v in case.needs_mw.items():
        arr = np.asarray(v, dtype=float)
        needs[nid] = (np.roll(arr, -k) * rng.uniform(0.9, 1.1, arr.size)).tolist()
    q = case.bids.quantity_mw * rng.uniform(0.95, 1.05, case.bids.quantity_mw.shape)
    pr = case.bids.price_eur_per_mwh * rng.uniform(0.95, 1.05, case.bids.price_eur_per_mwh.shape)
    return needs, q, pr


def _lp_iterations(res) -> int:  # type: ignore[no-untyped-def]
    return int(sum(s.get("lp_iterations", 0) for s in res.sub_clearings))


def bench_italy(
    first_runs: int = 3, reclears: int = 5, cone_tolerance: float = 1e-6, coupled: bool = False
) -> dict:
    """CM at the Italian scenario's scale. ``first_runs`` sessions each clear once from scratch (model
    build, load into HiGHS, cut rounds, pricing, read-out); the last one then re-clears ``reclears``
    rolling steps with new needs, quantities and prices (parameters only, same model and HiGHS
    instance). Medians are reported."""
    case = _italy_case(coupled=coupled)
    opts = ClearingOptions(cone_tolerance=cone_tolerance)
    first, session, res = [], None, None
    for _ in range(first_runs):
        t0, c0 = time.perf_counter(), _cpu_s()
        session = MarketSession(copy.deepcopy(case), "CM", opts)
        res = session.clear()
        wall = time.perf_counter() - t0
        cpu = _cpu_s() - c0
        load = sum(s.get("load_time_s", 0.0) for s in res.sub_clearings)
        first.append(
            {
                "wall_s": wall,
                "cpu_s": cpu,
                "build_s": res.build_time_s,
                "load_s": load,
                "solve_s": res.solve_time_s,
                "solver_s": res.solve_time_s - load,
                "extract_s": res.extract_time_s,
                "cut_rounds": res.cut_rounds,
                "lp_iterations": _lp_iterations(res),
                "objective_eur": res.objective_eur,
                "max_cone_violation": res.max_cone_violation,
            }
        )
    assert session is not None and res is not None
    rng = np.random.default_rng(5)
    again = []
    for k in range(1, reclears + 1):
        needs, q, pr = _rolled(case, k, rng)
        t0, c0 = time.perf_counter(), _cpu_s()
        session.update(needs_mw=needs, quantity_mw=q, price_eur_per_mwh=pr)
        r2 = session.clear()
        wall = time.perf_counter() - t0
        again.append(
            {
                "wall_s": wall,
                "cpu_s": _cpu_s() - c0,
                "build_s": r2.build_time_s,
                "solve_s": r2.solve_time_s,
                "extract_s": r2.extract_time_s,
                "cut_rounds": r2.cut_rounds,
                "lp_iterations": _lp_iterations(r2),
                "max_cone_violation": r2.max_cone_violation,
            }
        )
    # the last re-clear against a fresh clearing of the same data (same model, same answer)
    fresh_case = copy.deepcopy(session.case)
    fresh = clear(fresh_case, "CM", opts)

    def med(rows: list[dict], key: str) -> float:
        return float(np.median([r[key] for r in rows]))

    keys_first = (
        "wall_s",
        "cpu_s",
        "build_s",
        "load_s",
        "solver_s",
        "solve_s",
        "extract_s",
        "cut_rounds",
        "lp_iterations",
    )
    keys_again = ("wall_s", "cpu_s", "build_s", "solve_s", "extract_s", "cut_rounds", "lp_iterations")
    return {
        "transmission_nodes": case.transmission.n_nodes,
        "transmission_branches": case.transmission.n_branches,
        "distribution_grids": len(case.distribution),
        "distribution_nodes": sum(d.n_nodes for d in case.distribution),
        "bids": case.bids.n_bids,
        "steps": T,
        "n_variables": res.n_variables,
        "first": {k: med(first, k) for k in keys_first},
        "first_runs": first,
        "first_ratio_build_extract_to_solve": (med(first, "build_s") + med(first, "extract_s"))
        / med(first, "solve_s"),
        "reclear": {k: med(again, k) for k in keys_again},
        "reclear_runs": again,
        "reclear_ratio_build_extract_to_solve": (med(again, "build_s") + med(again, "extract_s"))
        / med(again, "solve_s"),
        "last_reclear_vs_fresh_rel_diff": abs(r2.objective_eur - fresh.objective_eur)
        / abs(fresh.objective_eur),
        "max_cone_violation": max(r["max_cone_violation"] for r in first + again),
        "slack_mwh": res.slack_energy_mwh,
        "cone_tolerance": cone_tolerance,
    }


def _feeder_case(n_bids: int = 50, seed: int = 3, fok: bool = False, n_grids: int = 1) -> MarketCase:
    import pandapower.networks as pn

    net = pn.case33bw()
    tg = TransmissionGrid.from_lines(["T0", "T1"], [("T0", "T1", 0.05, 200.0)])
    grids = [DistributionGrid.from_pandapower(net, f"d{g}", interface_node="T1") for g in range(n_grids)]
    rng = np.random.default_rng(seed)
    bids = []
    for g in range(n_grids):
        for k in range(n_bids):
            j = int(rng.integers(1, 33))
            d = "up" if rng.random() < 0.7 else "down"
            bids.append(
                Bid.simple(
                    f"g{g}b{k}",
                    f"d{g}:{j}",
                    d,
                    float(rng.uniform(0.02, 0.12)),
                    float(rng.uniform(15, 45) if d == "up" else rng.uniform(-10, 10)),
                    n_steps=T,
                    fill_or_kill=bool(fok and k % 3 == 0),
                )
            )
    bids += [
        Bid.simple("tA", "T0", "up", 50, 50, n_steps=T),
        Bid.simple("tD", "T0", "down", 50, -15, n_steps=T),
    ]
    needs = {"T1": [3.0 * n_grids, 2.0 * n_grids, 1.0, 0.0, -0.5, 1.5]}
    return MarketCase(
        tg, BidTable.from_bids(bids, T), needs, distribution=grids, timing=MarketTiming(horizon_steps=T)
    )


def _clarabel_objective(case: MarketCase) -> float:
    """The same continuous clearing model compiled to standard form, cones added exactly, solved by
    Clarabel through cvxpy."""
    import cvxpy as cp
    from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

    from coordstudio.simulation.market.model import build_model
    from coordstudio.simulation.market.prepare import central_problem, participating, prepare_case

    prep = prepare_case(case)
    prob = central_problem(prep, "CM", participating(prep, "CM"), "oracle")
    m = build_model(prob)
    repn = LinearStandardFormCompiler().write(m, mixed_form=True)
    cols = {id(v): i for i, v in enumerate(repn.columns)}
    x = cp.Variable(len(repn.columns))
    cons = []
    A = repn.A.tocsr()
    sense = np.array([r[1] for r in repn.rows])
    for s in (-1, 0, 1):
        sel = np.flatnonzero(sense == s)
        if not len(sel):
            continue
        lhs = A[sel] @ x
        if s == 0:
            cons.append(lhs == repn.rhs[sel])
        elif s == 1:  # bound_type 1: upper bound (<=), -1: lower bound (>=)
            cons.append(lhs <= repn.rhs[sel])
        else:
            cons.append(lhs >= repn.rhs[sel])
    lb = np.array([v.lb if v.lb is not None else -np.inf for v in repn.columns], dtype=float)
    ub = np.array([v.ub if v.ub is not None else np.inf for v in repn.columns], dtype=float)
    fl, fu = np.isfinite(lb), np.isfinite(ub)
    cons += [x[np.flatnonzero(fl)] >= lb[fl], x[np.flatnonzero(fu)] <= ub[fu]]
    fr = m._d["from"]
    vfix = {}
    for j in range(m._d["n_nodes"]):
        for t in range(T):
            if m.v[j, t].fixed:
                vfix[(j, t)] = m.v[j, t].value

    def col(var):  # noqa: ANN001, ANN202
        return x[cols[id(var)]] if id(var) in cols else None

    for k in range(m._d["n_br"]):
        for t in range(T):
            P, Q, L = col(m.P[k, t]), col(m.Q[k, t]), col(m.l[k, t])
            vv = m.v[int(fr[k]), t]
            V = vfix[(int(fr[k]), t)] if vv.fixed else col(vv)
            cons.append(cp.SOC(V + L, cp.hstack([2 * P, 2 * Q, V - L])))
    c = np.asarray(repn.c.todense()).ravel()
    obj = cp.Minimize(c @ x + float(np.asarray(repn.c_offset).ravel()[0]))
    pr = cp.Problem(obj, cons)
    pr.solve(solver=cp.CLARABEL)
    return float(pr.value)


def bench_clarabel() -> dict:
    from coordstudio.simulation.market.model import build_model
    from coordstudio.simulation.market.prepare import central_problem, participating, prepare_case
    from coordstudio.simulation.market.solve import solve_problem

    case = _feeder_case()
    prep = prepare_case(case)
    prob = central_problem(prep, "CM", participating(prep, "CM"), "cuts")
    m = build_model(prob)
    t0 = time.perf_counter()
    sol = solve_problem(m, prob, ClearingOptions(compute_prices=False))
    ours_t = time.perf_counter() - t0
    ours = sol.objective
    t0 = time.perf_counter()
    ref = _clarabel_objective(case)
    ref_t = time.perf_counter() - t0
    return {
        "case": "case33bw, 6 steps, 52 bids",
        "objective_cuts": ours,
        "objective_clarabel": ref,
        "rel_diff": abs(ours - ref) / abs(ref),
        "cut_rounds": sol.cut_rounds,
        "max_cone_violation": sol.max_cone_violation,
        "cuts_s": ours_t,
        "clarabel_s": ref_t,
    }


def bench_scip() -> dict:
    out = {}
    for label, kw in (
        ("1 feeder, continuous", {}),
        ("1 feeder, 1/3 fill-or-kill", {"fok": True}),
        ("4 feeders, 1/3 fill-or-kill", {"fok": True, "n_grids": 4}),
    ):
        case = _feeder_case(**kw)
        row = {}
        for solver in ("highs", "scip"):
            t0 = time.perf_counter()
            r = clear(case, "CM", ClearingOptions(solver=solver, mip_rel_gap=1e-5, compute_prices=False))
            row[solver] = {
                "wall_s": time.perf_counter() - t0,
                "objective": r.objective_eur,
                "binaries": r.n_binaries,
            }
        out[label] = row
    return out


def bench_schemes(repeats: int = 3, reclears: int = 5) -> dict:
    """Every scheme on the example feeder case (``examples/market/tso_case33bw.json``: case33bw with
    binary bids under a two-node transmission grid): a fresh ``clear`` (median of ``repeats``) and a
    ``MarketSession`` re-clearing ``reclears`` rolling steps (median)."""
    from pathlib import Path

    from coordstudio.simulation.market import SCHEMES
    from coordstudio.simulation.market.casefile import load_case

    path = Path(__file__).resolve().parents[1] / "examples" / "market" / "tso_case33bw.json"
    case = load_case(path)
    out = {}
    for scheme in SCHEMES:
        fresh = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            clear(copy.deepcopy(case), scheme)
            fresh.append(time.perf_counter() - t0)
        session = MarketSession(copy.deepcopy(case), scheme)
        session.clear()
        rng = np.random.default_rng(3)
        again = []
        for k in range(1, reclears + 1):
            needs, q, pr = _rolled(case, k, rng)
            t0 = time.perf_counter()
            session.update(needs_mw=needs, quantity_mw=q, price_eur_per_mwh=pr)
            session.clear()
            again.append(time.perf_counter() - t0)
        out[scheme] = {"clear_s": float(np.median(fresh)), "session_reclear_s": float(np.median(again))}
    return out


if __name__ == "__main__":
    which = sys.argv[1:] or ["pypsa", "clarabel", "scip", "italy", "schemes"]
    funcs = {
        "pypsa": bench_pypsa,
        "italy": bench_italy,
        "italy-1e-5": lambda: bench_italy(cone_tolerance=1e-5),
        "italy-coupled": lambda: bench_italy(coupled=True),
        "clarabel": bench_clarabel,
        "scip": bench_scip,
        "schemes": bench_schemes,
    }
    for w in which:
        print(w, json.dumps(funcs[w](), indent=1, default=float), flush=True)
