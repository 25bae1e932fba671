"""Issue 21, decentralised schemes (SBR, LMS, CM-D): speed-ups of their sub-clearings, each against the
code path it replaces on a small case (the 33-bus feeder of Baran and Wu, pandapower's ``case33bw``).

* A sub-clearing whose LP relaxation settles the mixed-integer problem skips the MILP solves
  (:func:`~simulation.market.highs_direct.milp_settled_by_relaxation`). Reference: the same clearing
  with the MILP solved as before (the check switched off); the objectives agree within the accuracy the
  tangent cuts give them (the cone tolerance's effect on the losses' cost)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandapower.networks as pn
import pytest

from coordstudio.simulation.market import (
    Bid,
    BidTable,
    DistributionGrid,
    MarketCase,
    MarketTiming,
    TransmissionGrid,
    clear,
)
from coordstudio.simulation.market import highs_direct as hdm

T = 4


@pytest.fixture(scope="module")
def feeder() -> DistributionGrid:
    return DistributionGrid.from_pandapower(pn.case33bw(), "d1", interface_node="T1")


def _case(dg: DistributionGrid, fok_mw: float) -> MarketCase:
    """Curtailable and fill-or-kill bids in the feeder, a local need of 0.35 MW at bus 17 (SBR and the
    local markets clear it) and a transmission need at the interface (the curves' TSO market)."""
    tg = TransmissionGrid.from_lines(["T0", "T1"], [("T0", "T1", 0.05, 200.0)])
    bids = [
        Bid.simple(f"db{j}", f"d1:{j}", "up", 0.05 * (1 + j % 5), 30 + j, n_steps=T) for j in range(2, 33)
    ]
    bids += [Bid.simple(f"dd{j}", f"d1:{j}", "down", 0.1, -5 + j, n_steps=T) for j in range(2, 33, 4)]
    bids += [
        Bid.simple(f"fok{j}", f"d1:{j}", "up", fok_mw, 5 + j, n_steps=T, fill_or_kill=True)
        for j in (8, 17, 25)
    ]
    bids += [
        Bid.simple("tA", "T0", "up", 50, 45, n_steps=T),
        Bid.simple("tD", "T0", "down", 50, -10, n_steps=T),
    ]
    needs = {"T1": [1.0, 0.6, 0.3, 0.8], "d1:17": [0.35, 0.35, 0.35, 0.35]}
    return MarketCase(tg, BidTable.from_bids(bids, T), needs, distribution=[dg],
                      timing=MarketTiming(horizon_steps=T), name="decentral speed-up case")


def _subs(res: Any) -> dict[str, float]:
    return {s["clearing"]: s["objective_eur"] for s in res.sub_clearings if "objective_eur" in s}


@pytest.mark.parametrize(
    ("scheme", "fok_mw"), [("SBR", 0.1), ("CM-D", 0.1), ("LMS", 0.25)], ids=["SBR", "CM-D", "LMS-fractional"]
)
def test_milp_skipped_when_the_relaxation_settles_it(
    feeder: DistributionGrid, scheme: str, fok_mw: float, monkeypatch: pytest.MonkeyPatch,
    count_milp_runs: Callable[[], list[int]],
) -> None:
    """0.1 MW fill-or-kill bids at 13-37 EUR/MWh, cheaper than every curtailable bid: the relaxation
    takes them whole (integral). 0.25 MW ones: the 0.35 MW need takes one and a half of them in the
    relaxation, so the rounded point is dearer than the relaxation by far more than the gap: a few warm
    LP branchings settle it since issue 21's third session (test_market_milp_skips), and the MIP solver
    still runs in the TSO market (no feeder, no relaxation first). Every sub-clearing's objective
    equals the MILP path's within 1e-5 relative: the two paths end with different tangent cuts (the
    MILP rounds add cuts at their own points), and a cut LP
    whose cones are met within ``cone_tolerance`` (1e-6 pu) fixes the losses' cost only to about that
    accuracy (the same case cleared with a tolerance of 5e-7 instead moves the objectives by 1.1e-6
    relative)."""
    milp = count_milp_runs()
    fast = clear(_case(feeder, fok_mw), scheme)
    n_fast = milp[0]
    monkeypatch.setattr(hdm, "milp_settled_by_relaxation", lambda hd, o, n, r, v: (False, r, v))
    milp[0] = 0
    ref = clear(_case(feeder, fok_mw), scheme)
    n_ref = milp[0]
    a, b = _subs(fast), _subs(ref)
    assert a.keys() == b.keys()
    for k in a:
        assert a[k] == pytest.approx(b[k], rel=1e-5, abs=1e-6), k
    assert fast.objective_eur == pytest.approx(ref.objective_eur, rel=1e-5, abs=1e-6)
    assert fast.activation_cost_eur == pytest.approx(ref.activation_cost_eur, rel=1e-5, abs=1e-6)
    assert n_ref > 0  # the case has binaries in its local clearings
    if fok_mw == 0.1:
        assert n_fast == 0
    else:
        assert 0 < n_fast <= n_ref
    da = np.abs(np.asarray(fast.activation_mw) - np.asarray(ref.activation_mw)).max()
    assert da < 1e-3


def test_curve_keeps_the_local_markets_highs_instance(
    feeder: DistributionGrid, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CM-D: one HiGHS load per grid and clearing (its local market, curve points and disaggregation)
    plus the central market's: fixing the import for the curve changes the import rows' kind (free ->
    fixed) without a compile (it reloaded HiGHS before: three loads here). Reference: the same clearing
    with the fast update switched off (a compile and a reload at the change), objective and activations
    equal to 1e-9. (LMS's curve also changes the bids to the residual ones, a compile that reloads when
    a spent fill-or-kill bid drops out of the structure, as here; tested in test_market_speedups.)
    Both on the Pyomo model, whose update this is (the sub-models are held as arrays since issue 21's
    fourth session: test_market_direct_model)."""
    from coordstudio.simulation.market import direct_model

    monkeypatch.setattr(direct_model, "supports_direct", lambda p, reusable=False: False)
    loads = [0]
    init = hdm.HighsDirect.__init__

    def counted(self: hdm.HighsDirect, *a: Any, **k: Any) -> None:
        loads[0] += 1
        init(self, *a, **k)

    monkeypatch.setattr(hdm.HighsDirect, "__init__", counted)
    fast = clear(_case(feeder, 0.1), "CM-D")
    assert loads[0] == 2
    monkeypatch.setattr(hdm.HighsDirect, "_update_import_targets", lambda self: None)
    loads[0] = 0
    ref = clear(_case(feeder, 0.1), "CM-D")
    assert loads[0] == 3
    assert fast.objective_eur == pytest.approx(ref.objective_eur, rel=1e-9)
    assert np.allclose(np.asarray(fast.activation_mw), np.asarray(ref.activation_mw), rtol=0, atol=1e-9)
