"""The ICT-check view shows the check of a real (short) run: one table row per event and scheme, the
verdict filter keeps exactly the rows of that verdict (counted independently from the result), and the
header states the same tally."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from coordstudio.cba.study import run_study
from tests.one_day_study import one_day_default_study


@pytest.fixture(scope="module")
def check(tmp_path_factory):
    study = one_day_default_study()  # one day, one hour: the view is tested, not the days
    timing = study.scenario.timing.model_copy(update={"duration_h": 1.0, "start_h": 11.0})
    study = study.model_copy(update={"scenario": study.scenario.model_copy(update={"timing": timing})})
    out: Path = tmp_path_factory.mktemp("ictview")
    return run_study(study, None, out_dir=out, schemes=["CMS"]).ict_check


def test_view_lists_every_event_and_filters_by_verdict(qtbot, check) -> None:
    from coordstudio.gui.views.ictcheck_view import EVENT_COLUMNS, IctCheckView

    view = IctCheckView()
    qtbot.addWidget(view)
    view.show_result(check)
    assert view.table.rowCount() == len(check.events) > 0
    tally = Counter(str(getattr(e.verdict, "value", e.verdict)) for e in check.events)
    for verdict, n in tally.items():
        view.verdict_filter.setCurrentText(verdict)
        assert view.table.rowCount() == n
        col = EVENT_COLUMNS.index("verdict")
        assert {view.table.item(r, col).text() for r in range(n)} == {verdict}
        assert f"{n} {verdict.replace('_', '-')}" in view.header.text()
    assert view.canvas is None  # the chart is built only when its tab is shown
    view.tabs.setCurrentIndex(1)
    assert view.canvas is not None and view.canvas.width() > 400


def test_view_without_check_says_so(qtbot) -> None:
    from coordstudio.gui.views.ictcheck_view import IctCheckView

    view = IctCheckView()
    qtbot.addWidget(view)
    view.show_result(None)
    assert view.table.rowCount() == 0
    assert "no ICT check" in view.header.text()
