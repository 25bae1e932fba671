"""Issue 21 (P4b): mixed-integer clearings settled without HiGHS's MIP solver, each against the MIP
solver's answer on the same problem (the independent reference: HiGHS's branch and bound, run as before).

* A market session (CM) whose converged relaxation is integral skips the MIP solve
  (:func:`~simulation.market.highs_direct.milp_settled_by_relaxation`, now on for CMS/CM/IFM sessions);
  reference: ``clear()`` of the same case afresh, which solves the MILP.
* A sub-clearing whose relaxation has fractional binaries and does not round within the gap is settled
  by a few warm LP branchings (:mod:`~simulation.market.lp_branching`); reference: the same clearing
  with the branchings switched off (HiGHS's MIP solver).

Tolerances: the two paths end with different tangent cuts, and a cut LP whose cones are met within
``cone_tolerance`` (1e-6 pu) fixes the losses' cost only to about that accuracy (2e-6 relative on these
small objectives, as in ``test_session_param_map`` and ``test_market_decentral_speedups``)."""

from __future__ import annotations

import copy
import warnings
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
    MarketSession,
    MarketTiming,
    TransmissionGrid,
    clear,
)
from coordstudio.simulation.market import highs_direct as hdm

T = 3


@pytest.fixture(scope="module")
def feeder() -> DistributionGrid:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return DistributionGrid.from_pandapower(pn.case33bw(), "d0", interface_node="T1")


def _case(dg: DistributionGrid, fok_mw: float, need_mw: float) -> MarketCase:
    """Curtailable bids in the feeder (0.05-0.25 MW at 30-62 EUR/MWh), three fill-or-kill bids of
    ``fok_mw`` at 13-30 EUR/MWh, backstops at T0, a need at the interface node T1 and one at bus 17."""
    tg = TransmissionGrid.from_lines(["T0", "T1"], [("T0", "T1", 0.05, 200.0)])
    bids = [
        Bid.simple(f"db{j}", f"d0:{j}", "up", 0.05 * (1 + j % 5), 30 + j, n_steps=T) for j in range(2, 33)
    ]
    bids += [
        Bid.simple(f"fok{j}", f"d0:{j}", "up", fok_mw, 5 + j, n_steps=T, fill_or_kill=True)
        for j in (8, 17, 25)
    ]
    bids += [
        Bid.simple("tA", "T0", "up", 50, 65, n_steps=T),
        Bid.simple("tD", "T0", "down", 50, -10, n_steps=T),
    ]
    needs = {"T1": [need_mw, 0.6 * need_mw, 0.8 * need_mw], "d0:17": [0.35] * T}
    return MarketCase(tg, BidTable.from_bids(bids, T), needs, distribution=[dg],
                      timing=MarketTiming(horizon_steps=T), name="MILP skip case")


def test_session_reclearing_skips_the_mip_and_equals_a_fresh_clearing(
    feeder: DistributionGrid, monkeypatch: pytest.MonkeyPatch,
    count_milp_runs: Callable[[], list[int]],
) -> None:
    """CM session: first clearing, then two re-clearings with new needs and prices; 0.1 MW fill-or-kill
    bids cheaper than every curtailable bid (the relaxation takes them whole: integral). No MIP solve in
    the session; each clearing's objective equals ``clear()`` afresh (MIP solved) within 2e-6 relative,
    activations within 1e-3 MW."""
    milp = count_milp_runs()
    session = MarketSession(_case(feeder, 0.1, 1.0), "CM")
    bids = session.case.bids
    for k in range(3):
        if k:
            session.update(
                needs_mw={"T1": [1.0 + 0.2 * k, 0.7, 0.9 - 0.1 * k], "d0:17": [0.35, 0.3, 0.35]},
                price_eur_per_mwh=bids.price_eur_per_mwh * (1.0 + 0.05 * k),
            )
        milp[0] = 0
        got = session.clear()
        assert milp[0] == 0, f"clearing {k}: the session ran HiGHS's MIP solver"
        ref = clear(copy.deepcopy(session.case), "CM")
        assert milp[0] > 0  # the reference did (the case has binaries)
        assert got.objective_eur == pytest.approx(ref.objective_eur, rel=2e-6), k
        da = np.abs(np.asarray(got.activation_mw) - np.asarray(ref.activation_mw)).max()
        assert da < 1e-3, k


def test_fractional_relaxation_settled_by_lp_branching(
    feeder: DistributionGrid, monkeypatch: pytest.MonkeyPatch,
    count_milp_runs: Callable[[], list[int]],
) -> None:
    """LMS (CM-D's local markets and disaggregations take the same path). 0.25 MW fill-or-kill bids and
    a 0.35 MW need at bus 17: the relaxation takes one and a half of
    them (fractional), the rounded point is dearer than the relaxation by far more than the gap. The LP
    branchings settle every such sub-clearing (no MIP solve but the central market's, at least one
    branching LP); the local market's objective equals the MIP solver's (branchings switched off) within
    2e-6 relative, the later sub-clearings' within 1e-5 (their inputs differ slightly, see below)."""
    milp = count_milp_runs()
    branch_runs = [0]
    loop = hdm._direct_loop

    def counted_loop(hd: Any, options: Any, name: str, rounds: int) -> tuple[int, float]:
        if name.endswith("(branch)"):
            branch_runs[0] += 1
        return loop(hd, options, name, rounds)

    monkeypatch.setattr(hdm, "_direct_loop", counted_loop)
    fast = clear(_case(feeder, 0.25, 0.5), "LMS")
    n_fast = milp[0]
    monkeypatch.setattr(hdm, "branch_on_relaxation", lambda hd, o, n, r, *a: (False, r, 0.0))
    milp[0] = 0
    ref = clear(_case(feeder, 0.25, 0.5), "LMS")
    # the central market (no feeder: no relaxation first) runs its MIP in both paths
    n_central = sum(1 for s in ref.sub_clearings if "TSO" in str(s.get("clearing", "")))
    assert branch_runs[0] > 0
    assert n_fast <= n_central < milp[0]
    subs = lambda r: {s["clearing"]: s["objective_eur"] for s in r.sub_clearings if "objective_eur" in s}  # noqa: E731
    a, b = subs(fast), subs(ref)
    assert a.keys() == b.keys()
    for key in a:
        # the local market has the same inputs in both paths: 2e-6. Downstream the inputs differ a
        # little: the local optimum's import (the curve's origin) is not unique, and each path may
        # return another point of the optimal face (test_market_decentral_speedups: 1e-5)
        rel = 2e-6 if "local market" in key else 1e-5
        assert a[key] == pytest.approx(b[key], rel=rel, abs=1e-6), key
    assert fast.objective_eur == pytest.approx(ref.objective_eur, rel=1e-5)
