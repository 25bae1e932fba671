"""A centralised market session re-clears without a Pyomo compile and without reloading HiGHS
(:mod:`simulation.market.param_map`): after ``update`` with new data the solver's arrays equal Pyomo's
standard-form compile of the same model (independent reference: ``compile_lp``, to 1e-12), on a
structure that stayed the same although the data change removed entries from Pyomo's compile (a
fill-or-kill quantity going to 0, an energy group whose limits become equal: the two causes of the
default day's reloads), and the re-clearing's optimum equals a fresh clearing of the changed case
(``clear()`` on a copy, objective to 1e-6 relative: the cut approximation's tolerance)."""

from __future__ import annotations

import copy
import warnings
from dataclasses import replace

import numpy as np
import pandapower.networks as pn
import pytest
import scipy.sparse as sp

from coordstudio.simulation.market import (
    Bid,
    BidTable,
    DistributionGrid,
    EnergyConstraint,
    MarketCase,
    MarketSession,
    MarketTiming,
    TransmissionGrid,
    clear,
)
from coordstudio.simulation.market import highs_direct as hdm
from coordstudio.simulation.market.highs_blocks import CompiledLP
from coordstudio.simulation.market.param_map import _project

T = 3


def _case() -> MarketCase:
    """Two transmission nodes and a case33bw feeder at T1; a fill-or-kill bid, a ramp-limited and a
    minimum-duration bid, an energy group on the feeder, backstops at T0."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        feeder = DistributionGrid.from_pandapower(pn.case33bw(), "d0", interface_node="T1")
    tg = TransmissionGrid.from_lines(["T0", "T1"], [("T0", "T1", 0.05, 200.0)])
    bids = [
        Bid.simple(f"f{k}", f"d0:{j}", "up", 0.2, 10.0 + k, T, energy_group="e1")
        for k, j in enumerate((5, 12, 18))
    ]
    bids += [
        Bid.simple("fok", "d0:25", "up", [0.1, 0.1, 0.1], 12.0, fill_or_kill=True),
        Bid.simple("ramp", "T1", "up", 0.5, 20.0, T, ramp_mw_per_step=0.2),
        Bid.simple("md", "T1", "up", 0.3, 25.0, T, min_duration_steps=2, min_quantity_mw=0.1),
        Bid.simple("tA", "T0", "up", 50.0, 60.0, T),
        Bid.simple("tD", "T0", "down", 50.0, -10.0, T),
    ]
    table = BidTable.from_bids(bids, T, [EnergyConstraint("e1", -10.0, 0.15)])
    needs = {"T1": [1.0, 0.8, 0.6]}
    return MarketCase(tg, table, needs, distribution=[feeder], timing=MarketTiming(horizon_steps=T))


def _targets(comp: CompiledLP, like: CompiledLP) -> np.ndarray:
    """``comp``'s costs, offset, matrix entries, row bounds on the structure of ``like``."""
    A = sp.csc_matrix(like.A)
    A.sort_indices()
    coo = A.tocoo()
    keys = coo.col.astype(np.int64) * len(like.row_lo) + coo.row
    y = _project(replace(like, A=A), comp, keys)
    assert y is not None, "Pyomo's compile has an entry the session's structure lacks"
    return y


def test_session_follows_parameters_without_compile_or_reload(monkeypatch: pytest.MonkeyPatch) -> None:
    # the reference below compiles the session's own Pyomo model: its rows are kept here (a session
    # drops them once mapped, hdm.release_rows; test_session_release_rows checks that)
    monkeypatch.setattr(hdm, "release_rows", lambda *args: None)
    session = MarketSession(_case(), "CM")
    session.clear()
    model = session._model
    hd = model._highs_direct
    assert hd.pmap is not None
    n_cols, n_rows = len(hd.comp.columns), len(hd.comp.row_lo)
    bids = session.case.bids
    fok = list(bids.bid_id).index("fok")
    real_compile = hdm.compile_lp
    compiles: list[object] = []
    monkeypatch.setattr(hdm, "compile_lp", lambda m: compiles.append(m) or real_compile(m))
    for step, limits in enumerate(((0.1, 0.1), (-10.0, 0.12))):
        q = bids.quantity_mw.copy()
        q[fok] = [0.0, 0.1, 0.0] if step == 0 else [0.1, 0.0, 0.1]  # Pyomo drops the u entries at 0
        price = bids.price_eur_per_mwh * (1.1 + 0.1 * step)
        a0 = np.zeros(bids.n_bids)
        a0[list(bids.bid_id).index("ramp")] = 0.3
        session.update(
            quantity_mw=q,
            price_eur_per_mwh=price,
            initial_activation_mw=a0,
            needs_mw={"T1": [0.9, 1.1, 0.7][::-1] if step else [0.9, 1.1, 0.7]},
            energy_limits_mwh={"e1": limits},  # equal limits: an equality row in Pyomo's compile
            root_voltage_pu={"d0": 1.02 - 0.01 * step},
        )
        again = session.clear()
        assert not compiles  # no Pyomo compile in the re-clearing
        assert model._highs_direct is hd  # no reload: HiGHS kept its instance (basis, cuts)
        assert (len(hd.comp.columns), len(hd.comp.row_lo)) == (n_cols, n_rows)
        full = real_compile(model)  # the independent reference: Pyomo's compile of the changed model
        if step == 0:  # the data change removed entries (and a binary's column) from Pyomo's compile
            assert len(full.columns) < n_cols and full.A.nnz < hd.comp.A.nnz
        ours, ref = _targets(hd.comp, hd.comp), _targets(full, hd.comp)
        np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-12)
        col_of = {id(v): j for j, v in enumerate(hd.comp.columns)}
        idx = np.array([col_of[id(v)] for v in full.columns])
        np.testing.assert_array_equal(hd.comp.col_lo[idx], full.col_lo)
        np.testing.assert_array_equal(hd.comp.col_hi[idx], full.col_hi)
        fresh = clear(copy.deepcopy(session.case), "CM")
        # each within the 1e-6 pu cone tolerance of the exact optimum (about 1e-6 relative here, where
        # the losses are a large part of a 3.6 EUR objective), so within 2e-6 of each other; the
        # session keeps the last clearing's binding cuts, the fresh clearing starts from none
        assert again.objective_eur == pytest.approx(fresh.objective_eur, rel=2e-6)
        compiles.clear()  # the fresh clearing's own compile


def _cleared(monkeypatch: pytest.MonkeyPatch, release: bool) -> tuple[list[object], MarketSession]:
    """Three clearings of one session (new quantities, prices, limits and a tap move between them)."""
    with monkeypatch.context() as mp:
        if not release:
            mp.setattr(hdm, "release_rows", lambda *args: None)
        session = MarketSession(_case(), "CM")
        out = [session.clear()]
        bids = session.case.bids
        fok = list(bids.bid_id).index("fok")
        for step in range(2):
            q = bids.quantity_mw.copy()
            q[fok] = [0.0, 0.1, 0.0] if step == 0 else [0.1, 0.0, 0.1]
            session.update(
                quantity_mw=q,
                price_eur_per_mwh=bids.price_eur_per_mwh * (1.1 + 0.1 * step),
                needs_mw={"T1": [0.9, 1.1, 0.7][:: 1 - 2 * step]},
                energy_limits_mwh={"e1": (0.1, 0.1) if step == 0 else (-10.0, 0.12)},
                root_voltage_pu={"d0": 1.02 - 0.01 * step},
            )
            out.append(session.clear())
    return out, session


def test_session_release_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    """A session's Pyomo rows are deleted once its parameter map exists (issue 21, P8: 0.2 GiB of the
    Italian CM process) and every clearing's result is the same, bit for bit, as with the rows kept
    (the reference: the same session with ``release_rows`` disabled; HiGHS receives the same arrays)."""
    kept, _ = _cleared(monkeypatch, release=False)
    released, session = _cleared(monkeypatch, release=True)
    model = session._model
    import pyomo.environ as pyo

    assert not list(model.component_objects((pyo.Constraint, pyo.Objective)))  # the rows are gone
    assert len(list(model.component_objects(pyo.Var))) > 0  # the columns' bounds and binaries stay
    for a, b in zip(kept, released, strict=True):
        assert a.objective_eur == b.objective_eur
        np.testing.assert_array_equal(a.activation_mw, b.activation_mw)
        for table in ("activations", "prices", "slack", "interface", "voltages", "branch_flows"):
            assert getattr(a, table).equals(getattr(b, table)), table
    # a reload (after an update HiGHS rejected) works from the kept index, without the rows
    hd = model._highs_direct
    again = hdm.HighsDirect(model, session._prob, hd.comp)
    for name in ("col_a", "col_v", "col_theta", "row_tbal", "row_dbal", "col_bin"):
        np.testing.assert_array_equal(getattr(again, name), getattr(hd, name))
    assert again.flow_added.shape == hd.flow_added.shape
