"""The GUI's banner and CBA table say which schemes are not assessed, by the draft's rule and in its
words (:mod:`cba.assessment`; issue 18, section 1)."""

from __future__ import annotations

from typing import Any

from coordstudio.cba.assessment import assess, not_assessed_warnings
from tests.gui.test_cba_view import HandResult, hand_kpis


def _with(kpis: list[Any], scheme: str, **update: object) -> list[Any]:
    return [k.model_copy(update=update) if k.scheme == scheme else k for k in kpis]


def test_banner_lists_the_scheme_not_assessed_and_the_table_does_not_rank_it(window: Any) -> None:
    kpis = _with(hand_kpis(), "LMS", failed_clearings=24, infeasible_clearings=24, clearings=24)
    kpis = _with(kpis, "SBR", slack_energy_mwh=6.18, slack_clearings=6, clearings=24)
    window.cba.set_run_result(HandResult(kpis))
    result = window.cba.cba_result
    assert "LMS" not in result.ranking
    text = window.cba.banner.text()
    line = "LMS is not assessed (not ranked): 24 of 24 market clearings failed (24 infeasible)."
    assert line in text and line in not_assessed_warnings(assess(kpis, result.reference_scheme))
    assert "color:#b00020" in text.split(line)[0].rsplit("<b", 1)[1]  # shown in red
    slack = "Market slack (need left unserved, priced at the slack penalty): SBR 6.18 MWh in 6 clearing(s)."
    assert slack in text
    table = window.cba.table
    ranks = {table.item(r, 1).text(): table.item(r, 0).text() for r in range(table.rowCount())}
    assert ranks["LMS"] == "not assessed" and ranks["SBR"].isdigit()
    assert window.cba.verdict.alerts == [line]


def test_banner_when_the_reference_is_not_assessed(window: Any) -> None:
    kpis = _with(hand_kpis(), "CMS", run_failed=1, run_failure="physical step 4, grid F1: power flow failed")
    window.cba.set_run_result(HandResult(kpis))
    assert window.cba.cba_result.ranking == []
    text = window.cba.banner.text()
    assert "The reference scheme CMS is not assessed: no scheme is ranked." in text
    reason = "the run failed: physical step 4, grid F1: power flow failed"
    assert f"CMS is not assessed (not ranked): {reason}." in text


def test_results_view_names_the_scheme_not_assessed_and_marks_its_count(window: Any) -> None:
    kpis = _with(hand_kpis(), "LMS", failed_clearings=24, infeasible_clearings=24, clearings=24)
    window.results.show_result(HandResult(kpis))
    header = window.results.header.text()
    assert "LMS is not assessed (not ranked): 24 of 24 market clearings failed (24 infeasible)." in header
    table = window.results.table
    row = next(r for r in range(table.rowCount()) if table.verticalHeaderItem(r).toolTip().startswith(
        "Clearings the solver could not solve"))
    col = [k.scheme for k in kpis].index("LMS")
    assert table.item(row, col).text() == "24"
    assert table.item(row, col).foreground().color().name() == "#b00020"
