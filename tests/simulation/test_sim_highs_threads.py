"""Scheme runs after HiGHS already ran in the process with another thread count (regression, order-dependent).

``pytest tests/simulation/market tests/simulation/test_sim_transmission_islands.py`` failed the platform
tests (every clearing ``failed``, KPI ``failed_clearings == 2``, then ``KeyError: 'F1'`` on the empty
liquidity KPIs), while each passed alone. Cause: HiGHS keeps one thread scheduler per process, sized by the
first solve's ``threads`` option; the market tests solve with the default (all cores' worth, 2 here), the
platform then asks for ``threads=1`` and HiGHS refuses every solve (``kError``/``kNotset``). Forked scheme
workers inherit the parent's scheduler state, so ``processes=2`` failed the same way. The platform now
resets the scheduler (:func:`simulation.clearing_stage.reset_highs_scheduler`) at the start and end of an
in-process scheme run, and in the parent before it forks the scheme workers (a forked child must not reset
an inherited scheduler: it joins threads that do not exist there; with the reset inside the worker instead
this test segfaulted or hung once the worker had started threads of its own).

Here the "earlier test" is an explicit ``threads=2`` solve, so the state is the same on any machine.
"""

from __future__ import annotations

from collections.abc import Iterator

import highspy
import numpy as np
import pytest
from sim_fixtures import small_spec

from coordstudio.simulation.forecast import compute_schedule
from coordstudio.simulation.run import run_scheme
from coordstudio.simulation.scenario.build import build_scenario
from coordstudio.simulation.simulate import simulate


def _tiny_lp(threads: int) -> highspy.HighsStatus:
    """min x0 + x1 s.t. x0 + x1 >= 1, x >= 0, solved with ``threads``: the run status."""
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", threads)
    inf = highspy.kHighsInf
    h.addVars(2, np.zeros(2), np.full(2, inf))
    h.changeColsCost(2, np.array([0, 1], dtype=np.int32), np.ones(2))
    h.addRow(1.0, inf, 2, np.array([0, 1], dtype=np.int32), np.ones(2))
    return h.run()


@pytest.fixture
def highs_started_with_two_threads() -> Iterator[None]:
    """The state an earlier HiGHS user (e.g. a market test with default threads on 2 cores) leaves."""
    highspy.Highs.resetGlobalScheduler(True)
    assert _tiny_lp(2) == highspy.HighsStatus.kOk
    # the precondition of the regression: a one-thread solve is now refused
    assert _tiny_lp(1) == highspy.HighsStatus.kError
    yield
    highspy.Highs.resetGlobalScheduler(True)  # leave no scheduler state to the next test


def test_scheme_run_clears_after_a_two_thread_highs_solve(highs_started_with_two_threads: None) -> None:
    spec = small_spec(duration_h=1.0)
    scen = build_scenario(spec)
    kpis = run_scheme(scen, compute_schedule(scen), "CM", None).kpis
    assert kpis.failed_clearings == 0
    assert kpis.bids_submitted_by_area["F1"] > 0  # the KeyError of the failing order


def test_forked_scheme_workers_clear_after_a_two_thread_highs_solve_in_the_parent(
    highs_started_with_two_threads: None,
) -> None:
    kpis = simulate(small_spec(duration_h=1.0), ["CMS", "CM"], None, processes=2).kpis
    for k in kpis.values():
        assert k.failed_clearings == 0, k.scheme
        assert k.bids_submitted_by_area["F1"] > 0, k.scheme
