"""Tier 2: edits as a user makes them: exact numbers typed in cells, renames that keep the model whole,
refusals explained beside the field, and the CBA banner and draft saying what the figures support."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt, QUrl
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from coordstudio.gui.models import NumberEditor
from tests.gui.test_cba_view import DAY, HandResult, hand_kpis  # noqa: I001


def _type_in_cell(editor_widget: Any, row: int, field: str, text: str, qtbot: Any) -> NumberEditor:
    """Open the cell's editor (as F2/double-click does), replace its text by typing, press Enter."""
    model = editor_widget.model
    index = editor_widget.proxy.mapFromSource(model.index(row, model.column_of(field)))
    view = editor_widget.view
    view.setCurrentIndex(index)
    view.edit(index)
    editor = QApplication.focusWidget()
    if not isinstance(editor, NumberEditor):
        editor = view.findChild(NumberEditor)
    assert isinstance(editor, NumberEditor), f"the cell {field} is not edited with a NumberEditor"
    editor.selectAll()
    QTest.keyClicks(editor, text)
    QTest.keyClick(editor, Qt.Key.Key_Return)
    qtbot.wait(5)
    return editor


@pytest.mark.parametrize(
    ("field", "typed", "expected", "unit"),
    [
        ("latency_ms", "0.074", 0.074, "ms"),
        ("availability_pct", "99.999", 99.999, "%"),
        ("opex_eur_per_gb", "1e-6", 1e-6, "EUR/GB"),
    ],
)
def test_typed_values_are_stored_exactly(
    window: Any, qtbot: Any, field: str, typed: str, expected: float, unit: str
) -> None:
    w = window
    w.show_view("ict")
    table = w.ict.editors["technologies"]
    w.ict.tabs.setCurrentWidget(table)
    editor = _type_in_cell(table, 0, field, typed, qtbot)
    assert editor.unit_label.text() == unit  # the unit is shown inside the editor
    assert getattr(w.doc.study.sgam.technologies[0], field) == expected  # exactly, not rounded
    depth = w.doc.undo_stack.count()
    # opening the cell again shows the exact value, and Enter changes nothing (no undo step)
    model = table.model
    index = table.proxy.mapFromSource(model.index(0, model.column_of(field)))
    table.view.setCurrentIndex(index)
    table.view.edit(index)
    again = QApplication.focusWidget()
    assert isinstance(again, NumberEditor)
    assert float(again.text()) == expected
    QTest.keyClick(again, Qt.Key.Key_Return)
    assert getattr(w.doc.study.sgam.technologies[0], field) == expected
    assert w.doc.undo_stack.count() == depth


def test_rename_an_actor_keeps_the_ict_cost_and_one_undo_restores(window: Any, qtbot: Any) -> None:
    """Renaming actor 'agg_platform' (typed in the Actors table) rewrites every event, link, component
    and use case naming it, in one undo step: no validation problem, the ICT cost to the cent unchanged."""
    w = window
    ict = w.ict
    before_costs = {s: (c.capex_eur, c.opex_eur_per_year) for s, c in ict.costs.items()}
    before_sgam = w.doc.study.sgam.model_copy(deep=True)
    users = sum(
        1
        for e in before_sgam.events
        if "agg_platform" in (e.producer_id, e.receiver_id)
    )
    assert users > 0
    actors = ict.editors["actors"]
    row = actors.model.row_of(lambda a: a.id == "agg_platform")
    depth = w.doc.undo_stack.count()
    assert actors.model.setData(actors.model.index(row, actors.model.column_of("id")), "aggregator_platform")
    assert w.doc.undo_stack.count() == depth + 1
    assert "Rename actor 'agg_platform'" in w.doc.undo_stack.undoText()
    sgam = w.doc.study.sgam
    assert "agg_platform" not in {a.id for a in sgam.actors}
    assert not any("agg_platform" in (e.producer_id, e.receiver_id) for e in sgam.events)
    assert w.doc.validation_problems() == []
    ict.recompute() if hasattr(ict, "recompute") else None
    qtbot.waitUntil(lambda: bool(ict.costs) and not ict.cost_error, timeout=5000)
    from coordstudio.sgam.matching import ict_costs
    from coordstudio.simulation.scenario import endpoint_counts

    study = w.doc.study
    cba = study.cba
    after = ict_costs(study.sgam, endpoint_counts(study.scenario), cba.horizon_years, cba.discount_rate)
    assert {s: (c.capex_eur, c.opex_eur_per_year) for s, c in after.items()} == before_costs
    w.doc.undo_stack.undo()
    assert w.doc.study.sgam == before_sgam

    # a taken id is refused, in words
    messages: list[str] = []
    actors.model.editRejected.connect(messages.append)
    assert not actors.model.setData(actors.model.index(row, actors.model.column_of("id")), "tso")
    assert "already used by another actor" in messages[-1]


def test_a_dangling_reference_is_named_in_words(window: Any, qtbot: Any) -> None:
    """Typing a missing actor as a link's payer: the ICT cost line names the link, the field and the id."""
    w = window
    links = w.ict.editors["links"]
    link_id = w.doc.study.sgam.links[0].id
    assert links.model.setData(links.model.index(0, links.model.column_of("payer_id")), "nobody")
    qtbot.waitUntil(lambda: bool(w.ict.cost_error), timeout=5000)
    assert w.ict.cost_error.startswith(f"Link '{link_id}', field Payer id: 'nobody'")
    assert "ICT cost cannot be computed" in w.ict.cost_label.text()


def test_refusals_are_explained_beside_the_field(window: Any, qtbot: Any) -> None:
    """Typing 4 for a 4 % discount rate: refused, the message under the field says it is a fraction and
    4 % is 0.04; an unknown scheme id is refused in a table and as the CBA reference."""
    w = window
    form = w.cba.form
    rate = form.editors["discount_rate"]
    rate.setText("4")
    rate.editingFinished.emit()
    error = form.errors["discount_rate"]
    assert error.isVisibleTo(form)
    assert "fraction" in error.text() and "0.04" in error.text()
    assert w.doc.study.cba.discount_rate == 0.04
    rate.setText("0.05")
    rate.editingFinished.emit()
    assert w.doc.study.cba.discount_rate == 0.05 and not error.isVisibleTo(form)

    ref = form.editors["reference_scheme"]
    ref.setText("XYZ")
    ref.editingFinished.emit()
    assert "unknown scheme 'XYZ'" in form.errors["reference_scheme"].text()
    assert w.doc.study.cba.reference_scheme == "CMS"

    events = w.ict.editors["events"]
    messages: list[str] = []
    events.model.editRejected.connect(messages.append)
    col = events.model.column_of("schemes")
    assert not events.model.setData(events.model.index(0, col), "CMS, XYZ")
    assert "unknown scheme 'XYZ'" in messages[-1]
    assert events.error_label.isVisibleTo(events) and "XYZ" in events.error_label.text()


def _degenerate_kpis() -> list[Any]:
    """The reference CMS is cheapest in every KPI: no alternative can have a positive NPV."""
    kpis = hand_kpis()
    best = min(DAY.values())
    out = []
    for k in kpis:
        if k.scheme == "CMS":
            k = k.model_copy(
                update={
                    "activation_cost_eur": best[0] - 5000.0,
                    "afrr_cost_eur": 10_000.0,
                    "losses_mwh": 20.0,
                }
            )
        out.append(k)
    return out


def test_banner_says_no_alternative_beats_the_reference(window: Any) -> None:
    w = window
    kpis = _degenerate_kpis()
    kpis[1] = kpis[1].model_copy(update={"failed_clearings": 3})
    w.cba.set_run_result(HandResult(kpis))
    result = w.cba.cba_result
    assert result.ranking[0] == "CMS" == result.reference_scheme
    text = w.cba.banner.text()
    assert "No alternative beats the reference CMS" in text
    assert "Best:" not in w.cba.status.text()
    failed = f"{kpis[1].scheme} is not assessed (not ranked): 3 market clearings failed."
    assert failed in text
    assert "assumptions without a checked source" in text
    assert w.cba.verdict.degenerate


def test_draft_view_links_each_statement_to_its_figure(window: Any, qtbot: Any) -> None:
    w = window
    w.cba.set_run_result(HandResult(hand_kpis()))
    w.show_view("draft")
    assert "→ figure" in w.draft.markdown and w.draft.export_button.isEnabled()
    assert "Which scheme ranks first" in w.draft.browser.toPlainText()
    leader = w.cba.cba_result.ranking[0]
    w.draft.browser.anchorClicked.emit(QUrl(f"figure:cba-table/{leader}"))
    assert w.tabs.currentWidget() is w.cba
    rows = {i.row() for i in w.cba.table.selectionModel().selectedRows()}
    assert rows and w.cba.table.item(rows.pop(), 1).text() == leader
    w.draft.browser.anchorClicked.emit(QUrl("figure:cba-actors/LMS"))
    assert w.cba.result_tabs.currentIndex() == 1


def test_reference_fields_cover_every_reference_of_the_sgam_model() -> None:
    """Every *_id / *_ids field of the SGAM model is known to the rename (else a rename would miss it)."""
    import coordstudio.sgam.model as m
    from coordstudio.sgam.rename import REFERENCE_FIELDS

    names = set()
    for obj in vars(m).values():
        if isinstance(obj, type) and hasattr(obj, "model_fields") and obj.__module__ == m.__name__:
            names |= {n for n in obj.model_fields if n.endswith(("_id", "_ids")) and n != "id"}
    assert names <= set(REFERENCE_FIELDS), names - set(REFERENCE_FIELDS)


def test_whatif_multipliers_reach_the_npv_and_the_banner_says_what_they_do_not_move(window: Any) -> None:
    """Benefits × 2 (what-if) moves every NPV and the tornado's base, which equals the NPV shown; the
    Monte Carlo samples benefit_factor over its own distribution, so the banner says it does not follow."""
    w = window
    view = w.cba
    view.set_run_result(HandResult(hand_kpis()))
    before = {s.scheme: s.npv_eur for s in view.cba_result.schemes}
    view.benefit_x.setValue(2.0)
    view.recompute()
    result = view.cba_result
    after = {s.scheme: s.npv_eur for s in result.schemes}
    ref = result.reference_scheme
    assert all(after[s] > before[s] for s in after if s != ref)
    for t in result.tornado:
        assert t.npv_base_eur == pytest.approx(after[t.scheme], rel=1e-12, abs=1e-6)
    assert "benefit_factor = 2" in view.banner.text() and "Monte Carlo" in view.banner.text()
    view.reset_whatif()
    view.recompute()
    assert "benefit_factor = 2" not in view.banner.text()
