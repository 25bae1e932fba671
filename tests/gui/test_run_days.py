"""Tier 2: a study of representative days run from the window: the CBA view, its what-if and the draft
weight the days the run simulated, not the study's own ``cba.day_weights_days_per_year`` (which names
its one day, "default": the draft raised ``KeyError: 'd005'`` and a what-if could not be computed).

The default study cut short to keep the suite fast: 2 representative days, each 1 h, two schemes (the
reference CMS and LMS).
"""

from __future__ import annotations

from typing import Any

import pytest

RUN_TIMEOUT_MS = 240_000


def test_a_run_of_representative_days_drafts_and_recomputes_on_the_days_it_simulated(
    window: Any, qtbot: Any, dialogs: Any
) -> None:
    from coordstudio.cba.analysis import run_cba
    from coordstudio.cba.study import with_run_days

    sc = window.doc.study.scenario
    sc.timing = type(sc.timing).model_validate({**sc.timing.model_dump(), "duration_h": 1.0})
    sc.profiles = type(sc.profiles).model_validate({**sc.profiles.model_dump(), "representative_days": 2})
    assert list(window.doc.study.cba.day_weights_days_per_year) == ["default"]  # the one day's: not simulated
    with qtbot.waitSignal(window.runFinished, timeout=RUN_TIMEOUT_MS) as finished:
        assert window.start_run(["CMS", "LMS"])
    assert finished.args == ["succeeded"], dialogs.errors
    result = window.runs[-1][1]
    days = dict(result.day_weights)
    assert len(days) == 2 and sum(days.values()) == pytest.approx(365.0, abs=1e-9)
    assert {k.day for k in result.kpis} == set(days)

    # the draft, as the user opens it: the run's days, no internal error
    window.show_view("draft")
    qtbot.waitUntil(lambda: bool(window.draft.markdown), timeout=10_000)
    assert not dialogs.errors
    assert "2 simulated day(s) stand for the year" in window.draft.markdown
    for day in days:
        assert day in window.draft.markdown

    # a what-if on the run: the discount rate 4 -> 5 %/a, recomputed on the same two days
    window.show_view("cba")
    window.cba.rate.setValue(5.0)
    window.cba.recompute()
    assert "cannot be computed" not in window.cba.status.text()
    params = with_run_days(window.doc.study.cba, days).model_copy(update={"discount_rate": 0.05})
    expected = run_cba(params, result.kpis, window.cba.ict_shown)
    shown = window.cba.cba_result
    assert shown is not None
    for scheme in ("CMS", "LMS"):  # the same computation on the same inputs: equal to round-off
        assert shown.scheme(scheme).npv_eur == pytest.approx(expected.scheme(scheme).npv_eur, rel=1e-9,
                                                             abs=1e-6)
    assert shown.discount_rate == pytest.approx(0.05)
