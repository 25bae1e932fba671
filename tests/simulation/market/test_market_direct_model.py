"""A continuous clearing held as numpy arrays (:mod:`simulation.market.direct_model`) is the same LP as
the Pyomo model of record: its arrays equal Pyomo's standard-form compile of
:func:`~simulation.market.model.build_model`'s model entry by entry, in the same column and row order
(independent reference: Pyomo's ``LinearStandardFormCompiler`` through ``compile_lp``, exact), and a
clearing through it gives the Pyomo path's objective, activations, flows and prices (to 1e-6
relative / 1e-6 MW / 1e-6 EUR/MWh, the brief's tolerance); a market session re-clears it in place
(no reload) to the optimum of a fresh clearing of the changed case; the decentralised schemes'
sub-models with fill-or-kill bids (issue 21, fourth session) equal Pyomo's compile too, after the
import and bid changes they meet, and clear SBR, LMS and CM-D to the Pyomo path's sub-clearing
objectives; a problem it does not cover (a minimum quantity; a session's model with fill-or-kill
bids) keeps the Pyomo model."""

from __future__ import annotations

import copy
import functools
import warnings
from dataclasses import replace
from typing import Any

import numpy as np
import pandapower.networks as pn
import pytest

from coordstudio.simulation.market import (
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
    direct_model,
)
from coordstudio.simulation.market.direct_model import DirectModel, build_clearing_model, build_direct_model
from coordstudio.simulation.market.highs_blocks import CompiledLP
from coordstudio.simulation.market.highs_direct import compile_lp
from coordstudio.simulation.market.model import build_model, set_import_target, set_parameters
from coordstudio.simulation.market.prepare import central_problem, local_problem, participating, prepare_case
from coordstudio.simulation.market.problem import Problem
from coordstudio.simulation.market.solve import solve_problem

T = 3


@functools.cache
def _feeder() -> DistributionGrid:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return DistributionGrid.from_pandapower(pn.case33bw(), "d0", interface_node="T1")


def _case(fok: bool = False, shifter: bool = False) -> MarketCase:
    """Three transmission nodes (a meshed triangle, the T0-T2 line rated low so that it binds) and a
    case33bw feeder at T1: feeder bids in an energy group, a buy bid, backstops at T0."""
    feeder = copy.deepcopy(_feeder())
    tg = TransmissionGrid.from_lines(
        ["T0", "T1", "T2"], [("T0", "T1", 0.05, 200.0), ("T1", "T2", 0.04, 200.0), ("T0", "T2", 0.05, 3.0)]
    )
    if shifter:
        tg.branch_shift_flow_mw = np.array([0.0, 0.0, 0.5])
    bids = [
        Bid.simple(f"f{k}", f"d0:{j}", "up", 0.2, 10.0 + k, T, energy_group="e1")
        for k, j in enumerate((5, 12, 18))
    ]
    if fok:  # a feeder's fill-or-kill bid that offers nothing in its second step; an exclusive group
        # of a profile bid (fill-or-kill) and a curtailable bid
        bids.append(Bid.simple("ff", "d0:9", "up", [0.15, 0.0, 0.1], 8.0, T, fill_or_kill=True))
        bids.append(
            Bid.simple("x1", "d0:14", "up", [0.1, 0.1, 0.0], 9.0, T, fill_or_kill=True, exclusive_group="x")
        )
        bids.append(Bid.simple("x2", "d0:20", "up", 0.12, 9.5, T, exclusive_group="x"))
    bids += [
        Bid.simple("dn", "d0:25", "down", 0.1, 5.0, T),
        Bid.simple("t2", "T2", "up", [0.5, 0.0, 0.4], 20.0, T, fill_or_kill=fok),
        Bid.simple("tA", "T0", "up", 50.0, 60.0, T),
        Bid.simple("tD", "T0", "down", 50.0, -10.0, T),
    ]
    table = BidTable.from_bids(bids, T, [EnergyConstraint("e1", -10.0, 0.15)])
    needs = {"T1": [1.0, 0.8, 0.6], "T2": [6.0, 2.0, -1.0]}
    return MarketCase(tg, table, needs, distribution=[feeder], timing=MarketTiming(horizon_steps=T))


def _problem(case: MarketCase, scheme: str = "CM") -> Problem:
    prep = prepare_case(case)
    return central_problem(prep, scheme, participating(prep, scheme), "test")


def _local(mode: str, fok: bool = False) -> Problem:
    """The feeder alone (no transmission grid) with its bids, import fixed at its schedule or free, as
    SBR's local markets and the curves' points pose it."""
    prep = prepare_case(_case(fok=fok))
    idx = np.flatnonzero(prep.loc_kind == "D")
    p, _ = prep.d_base[0]
    target = prep.schedule[0] if mode == "fixed" else None
    return local_problem(
        prep, 0, prep.bids.subset(idx), prep.loc_row[idx], p + prep.d_need[0], mode, target, "l"
    )


def _copper_plate() -> Problem:
    """SBR's local market of a copper plate (one node, no feeder): the case's bids at T2 and T0 on
    one node, a fill-or-kill bid among them."""
    prep = prepare_case(_case(fok=True))
    idx = np.flatnonzero(prep.loc_kind == "T")
    return Problem(
        name="copper plate",
        n_steps=T,
        dt_h=0.25,
        penalty_eur_per_mwh=3000.0,
        tgrid=TransmissionGrid.single_node("T2"),
        t_rhs_mw=np.array([[2.0, 0.5, -1.0]]),
        dgrids=[],
        bids=prep.bids.subset(idx),
        bid_grid=np.full(len(idx), -1),
        bid_row=np.zeros(len(idx), dtype=int),
    )


def _assert_same(got: CompiledLP, ref: CompiledLP) -> None:
    """Equal entry by entry, in the same column and row order."""
    assert got.A.shape == ref.A.shape
    for name in ("cost", "col_lo", "col_hi", "row_lo", "row_hi", "linking", "integer"):
        np.testing.assert_array_equal(getattr(got, name), getattr(ref, name), err_msg=name)
    assert got.offset == ref.offset
    A, B = got.A.tocsc(), ref.A.tocsc()
    A.sort_indices()
    B.sort_indices()
    np.testing.assert_array_equal(A.indptr, B.indptr)
    np.testing.assert_array_equal(A.indices, B.indices)
    np.testing.assert_array_equal(A.data, B.data)


@pytest.mark.parametrize("scheme", ["CM", "IFM", "CMS", "local fixed", "local free"])
@pytest.mark.parametrize("reusable", [False, True])
def test_arrays_equal_pyomo_compile(scheme: str, reusable: bool) -> None:
    if scheme.startswith("local"):
        prob = _local(scheme.split()[1])
    else:
        prob = _problem(_case(shifter=scheme == "CMS"), scheme)
    _assert_same(build_direct_model(prob, reusable).comp, compile_lp(build_model(prob, reusable)))


@pytest.mark.parametrize("kind", ["local fixed", "local free", "copper plate", "TSO"])
def test_fill_or_kill_arrays_equal_pyomo_compile(kind: str) -> None:
    """The decentralised schemes' sub-models with fill-or-kill bids and exclusive groups (a feeder's
    local market, curve and disaggregation model; a copper plate; the TSO market of LMS and CM-D): the
    rows ``a - q u = 0``, ``u = 0`` where the bid offers nothing, ``u - z = 0`` and ``a - q z <= 0``,
    ``sum z <= 1``, and the binaries' integrality, as Pyomo compiles them."""
    if kind.startswith("local"):
        prob = _local(kind.split()[1], fok=True)
    elif kind == "copper plate":
        prob = _copper_plate()
    else:
        prob = _problem(_case(fok=True), "CMS")
    got = build_direct_model(prob).comp
    bt = prob.bids  # u per fill-or-kill bid and step, z per exclusive bid
    assert got.integer.sum() == 3 * bt.fill_or_kill.sum() + (bt.exclusive_group != "").sum()
    _assert_same(got, compile_lp(build_model(prob)))


def test_fill_or_kill_data_changes_equal_pyomo_compile() -> None:
    """The two changes a local model meets after its build: the import fixed (curve points,
    disaggregation) and new bids (LMS's residual ones: a spent fill-or-kill bid's quantity 0, whose
    entry and binary leave the compile). Reference: the Pyomo model with the same changes
    (``set_import_target``, ``set_parameters``), compiled afresh."""
    prob = _local("free", fok=True)
    dm, pm = build_direct_model(prob), build_model(prob)
    for t, x in enumerate((0.4, -0.2, 1.1)):
        set_import_target(dm, 0, t, x)
        set_import_target(pm, 0, t, x)
    _assert_same(dm.comp, compile_lp(pm))
    q = prob.bids.quantity_mw.copy()
    q[prob.bids.fill_or_kill, 0] = 0.0
    q[0] *= 0.5
    new = replace(prob, bids=replace(prob.bids, quantity_mw=q))
    n_cols = dm.comp.A.shape[1]
    set_parameters(dm, new)
    set_parameters(pm, new)
    assert dm.comp.A.shape[1] == n_cols - 1  # the spent bid's binary in step 0 left
    _assert_same(dm.comp, compile_lp(pm))


def test_spent_binary_bids_update_highs_as_the_pyomo_path() -> None:
    """A local model solved, then its exclusive bids' quantities set to 0 in one step (LMS's residual
    bids after a spent bid): their entries ``q u`` / ``q z`` leave the matrix while the binaries stay in
    other rows. Both paths then update the loaded HiGHS instance (same columns and rows: the entries
    set to 0, no reload) and give the same objective, bit for bit (same LPs, same calls)."""
    prob = _local("free", fok=True)
    opts = ClearingOptions(compute_prices=False)
    dm, pm = build_direct_model(prob), build_model(prob)
    first = [solve_problem(m, prob, opts).objective for m in (dm, pm)]
    assert first[0] == first[1]
    hds = [dm._highs_direct, pm._highs_direct]
    q = prob.bids.quantity_mw.copy()
    q[prob.bids.exclusive_group != "", 0] = 0.0
    new = replace(prob, bids=replace(prob.bids, quantity_mw=q))
    n_nz = dm.comp.A.nnz
    for m in (dm, pm):
        set_parameters(m, new)
    assert dm.comp.A.nnz == n_nz - 2 and dm.comp.A.shape == hds[0].comp.A.shape
    again = [solve_problem(m, new, opts).objective for m in (dm, pm)]
    assert dm._highs_direct is hds[0] and pm._highs_direct is hds[1]  # updated in place, both
    assert again[0] == again[1]


@pytest.mark.parametrize("scheme", ["SBR", "LMS", "CM-D"])
def test_decentral_clearing_equals_pyomo_path(scheme: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A decentralised clearing with fill-or-kill bids, its sub-models held as arrays, against the same
    clearing on the Pyomo models (the arrays refused): every sub-clearing's objective equal to 1e-9
    relative (same LPs, same HiGHS calls), activations to 1e-9 MW."""
    case = _case(fok=True)
    got = clear(copy.deepcopy(case), scheme)
    built: list[Any] = []
    orig = direct_model.build_direct_model
    monkeypatch.setattr(direct_model, "build_direct_model", lambda *a, **k: built.append(1) or orig(*a, **k))
    monkeypatch.setattr(direct_model, "supports_direct", lambda p, reusable=False: False)
    ref = clear(copy.deepcopy(case), scheme)
    assert not built  # the reference is Pyomo's throughout
    subs = lambda r: {s["clearing"]: s["objective_eur"] for s in r.sub_clearings if "objective_eur" in s}  # noqa: E731
    a, b = subs(got), subs(ref)
    assert a.keys() == b.keys() and len(a) >= 2
    for k in a:
        assert a[k] == pytest.approx(b[k], rel=1e-9, abs=1e-9), k
    np.testing.assert_allclose(np.asarray(got.activation_mw), np.asarray(ref.activation_mw), atol=1e-9)


def test_clearing_equals_pyomo_path() -> None:
    prob = _problem(_case())
    opts = ClearingOptions()
    ref = solve_problem(build_model(prob), prob, opts)
    dm = build_clearing_model(prob, direct=True)
    assert isinstance(dm, DirectModel)
    got = solve_problem(dm, prob, opts)
    assert got.objective == pytest.approx(ref.objective, rel=1e-6)
    for name in ("a", "t_flow", "imp_mw", "v", "t_price", "d_price"):
        np.testing.assert_allclose(getattr(got, name), getattr(ref, name), atol=1e-6, err_msg=name)
    assert abs(ref.t_flow[2]).max() == pytest.approx(3.0, abs=1e-6)  # the low-rated line binds


def test_session_reclears_in_place() -> None:
    case = _case()
    session = MarketSession(copy.deepcopy(case), "CM")
    session.clear()
    model = session._model
    assert isinstance(model, DirectModel)
    hd = model._highs_direct
    session.update(
        needs_mw={"T1": [0.5, 1.2, 0.9], "T2": [3.0, -2.0, 1.0]},
        quantity_mw=case.bids.quantity_mw * 1.1,
        price_eur_per_mwh=case.bids.price_eur_per_mwh + 1.0,
    )
    again = session.clear()
    assert session._model._highs_direct is hd and hd.reloads == 0  # same HiGHS instance, updated
    fresh = clear(copy.deepcopy(session.case), "CM")
    assert again.objective_eur == pytest.approx(fresh.objective_eur, rel=1e-6)


def test_uncovered_problem_keeps_pyomo() -> None:
    prob = _problem(_case(fok=True))
    assert isinstance(build_clearing_model(prob, direct=True), DirectModel)
    # a session's model with fill-or-kill bids, and a minimum quantity, stay with Pyomo
    assert not isinstance(build_clearing_model(prob, reusable=True, direct=True), DirectModel)
    bt = prob.bids
    minq = replace(prob, bids=replace(bt, min_quantity_mw=np.where(bt.fill_or_kill, 0.01, 0.0)))
    assert not isinstance(build_clearing_model(minq, direct=True), DirectModel)
    assert not isinstance(build_clearing_model(_problem(_case()), direct=False), DirectModel)


def test_every_bid_attribute_is_checked() -> None:
    """A new bid product (a new column of the bid table) must be modelled here or refused by
    ``supports_direct``; otherwise a HiGHS clearing would silently drop it."""
    from coordstudio.simulation.market.bids import _BID_ATTRS
    from coordstudio.simulation.market.direct_model import COVERED_BID_ATTRS

    assert set(_BID_ATTRS) <= COVERED_BID_ATTRS
