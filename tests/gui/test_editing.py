"""Tier 2: the schema-driven table model edits the study through validated, undoable commands."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt

from coordstudio.gui.document import StudyDocument
from coordstudio.gui.models import PydanticListModel, SpecRole
from coordstudio.simulation.kpis import SCHEME_IDS


@pytest.fixture
def doc(qapp: Any) -> StudyDocument:
    from coordstudio.cba.study import default_study

    return StudyDocument(default_study())


def _requirements_model(doc: StudyDocument) -> PydanticListModel:
    from coordstudio.sgam.model import Requirement

    return PydanticListModel(doc, ("sgam", "requirements"), Requirement)


def test_headers_and_tooltips_come_from_the_schema(doc: StudyDocument) -> None:
    model = _requirements_model(doc)
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert "Max latency [ms]" in headers
    assert "Min availability [%]" in headers
    col = headers.index("Max latency [ms]")
    tip = model.headerData(col, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole)
    assert "Largest allowed one-way transfer time" in tip
    assert model.rowCount() == len(doc.study.sgam.requirements)


def test_editing_a_requirement_changes_the_ict_cost_and_undo_restores_it(qtbot: Any) -> None:
    """R-MON-DER allows 5000 ms; tightening it to 100 ms (typed in the cell) excludes PLC, GPRS and
    LoRaWAN for the DER measurement events, so the matching picks a dearer technology and the CAPEX of
    every scheme rises. The view must show what ``sgam.matching.ict_costs`` gives for the edited model
    (to the cent), and undo must give back exactly the original model and costs."""
    from coordstudio.cba.study import default_study
    from coordstudio.gui.views.ict_view import IctView
    from coordstudio.sgam.matching import ict_costs
    from coordstudio.simulation.scenario import endpoint_counts

    doc = StudyDocument(default_study())
    view = IctView(doc)
    qtbot.addWidget(view)
    before = {s: c.capex_eur for s, c in view.costs.items()}
    assert set(before) == set(SCHEME_IDS)  # every scheme of the registry, both common-market variants
    original = doc.study.sgam.model_copy(deep=True)

    model = view.editors["requirements"].model
    row = model.row_of(lambda r: r.id == "R-MON-DER")
    col = model.column_of("max_latency_ms")
    index = model.index(row, col)
    assert index.data(SpecRole).kind == "float"
    assert model.setData(index, "100")
    assert doc.study.sgam.requirements[row].max_latency_ms == 100.0
    assert doc.dirty
    qtbot.waitUntil(lambda: view.costs["CMS"].capex_eur != before["CMS"], timeout=3000)
    after = {s: c.capex_eur for s, c in view.costs.items()}
    assert all(after[s] > before[s] for s in before), (before, after)
    expected = ict_costs(
        doc.study.sgam,
        endpoint_counts(doc.study.scenario),
        doc.study.cba.horizon_years,
        doc.study.cba.discount_rate,
    )
    assert after == pytest.approx({s: c.capex_eur for s, c in expected.items()}, abs=0.01)

    doc.undo_stack.undo()
    assert doc.study.sgam == original
    assert not doc.dirty
    qtbot.waitUntil(lambda: view.costs["CMS"].capex_eur == before["CMS"], timeout=3000)
    assert {s: c.capex_eur for s, c in view.costs.items()} == pytest.approx(before, abs=0.01)
    doc.undo_stack.redo()
    assert doc.study.sgam.requirements[row].max_latency_ms == 100.0


def test_invalid_value_is_refused_with_object_and_field_named(doc: StudyDocument) -> None:
    """A negative CAPEX violates Technology.capex_eur_per_endpoint >= 0: nothing changes, no undo step."""
    from coordstudio.sgam.model import Technology

    model = PydanticListModel(doc, ("sgam", "technologies"), Technology)
    messages: list[str] = []
    model.editRejected.connect(messages.append)
    col = model.column_of("capex_eur_per_endpoint")
    old = doc.study.sgam.technologies[0].capex_eur_per_endpoint
    assert not model.setData(model.index(0, col), "-5")
    assert doc.study.sgam.technologies[0].capex_eur_per_endpoint == old
    assert doc.undo_stack.count() == 0
    tech_id = doc.study.sgam.technologies[0].id
    # in words: the object, the field with its unit, what was typed, why, and the allowed range
    assert messages == [
        f"Technology '{tech_id}', CAPEX [EUR/endpoint]: '-5' refused — input should be greater than or "
        "equal to 0. Allowed: 0 … ∞ EUR/endpoint."
    ]


def test_dangling_reference_is_listed_as_a_problem_with_its_path(doc: StudyDocument) -> None:
    """Renaming an event's producer to an unknown actor is accepted (architects pass through such
    states) but the whole-study validation names the event and field."""
    from coordstudio.sgam.model import InteractionEvent

    model = PydanticListModel(doc, ("sgam", "events"), InteractionEvent)
    col = model.column_of("producer_id")
    event_id = doc.study.sgam.events[0].id
    assert model.setData(model.index(0, col), "no_such_actor")
    problems = doc.validation_problems()
    assert any(p.path[:4] == ("sgam", "events", event_id, "producer_id") for p in problems), problems
    doc.undo_stack.undo()
    assert doc.validation_problems() == []


def test_clicking_an_actor_on_the_sgam_plane_selects_it_in_the_table(window: Any, qtbot: Any) -> None:
    """A mouse press on an actor's label of the SGAM plane (sgam.plane draws the actor names) selects
    that actor's row in the Actors table."""
    from matplotlib.backend_bases import MouseEvent

    window.show_view("ict")
    view = window.ict
    qtbot.waitUntil(lambda: not view._plane_stale and bool(view.plane.figure.axes), timeout=5000)
    canvas = view.plane.canvas
    canvas.draw()
    renderer = canvas.get_renderer()
    names = {a.name: a.id for a in window.doc.study.sgam.actors if a.name}
    names.update({a.id: a.id for a in window.doc.study.sgam.actors})
    target = None
    for ax in view.plane.figure.axes:
        for text in ax.texts:
            label = " ".join(text.get_text().split())
            if label in names:
                target = (text, names[label])
                break
        if target:
            break
    assert target is not None, "the plane shows no actor label"
    text, actor_id = target
    box = text.get_window_extent(renderer)
    x, y = (box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2
    event = MouseEvent("button_press_event", canvas, x, y, button=1)
    view._on_plane_click(event)
    editor = view.editors["actors"]
    assert view.tabs.currentWidget() is editor
    rows = editor.selected_source_rows()
    assert [window.doc.study.sgam.actors[r].id for r in rows] == [actor_id]
