"""Tier 2: the main window's habits: open/save, bad files, dirty marker, recovery, problems dock."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from coordstudio.gui.mainwindow import MainWindow
from coordstudio.simulation.kpis import SCHEME_IDS


def test_window_opens_on_the_default_study(window: MainWindow) -> None:
    """Six views, an explorer listing the SGAM lists, no validation problem, live ICT cost of every scheme."""
    # welcome, study, SGAM/ICT, scenario, results, CBA, recommendations, ICT check
    assert window.tabs.count() == 8
    top = [window.explorer.topLevelItem(i).text(0) for i in range(window.explorer.topLevelItemCount())]
    n_actors = len(window.doc.study.sgam.actors)
    assert f"Actors ({n_actors})" in top
    assert any(t.startswith("Runs") for t in top)
    assert window.problems.count() == 0
    assert sorted(window.ict.costs) == sorted(SCHEME_IDS)  # the registry's schemes (six: both CM variants)
    assert window.windowTitle().startswith("untitled")
    n_days = window.doc.study.scenario.profiles.representative_days  # the shipped study's days, said
    assert n_days > 0
    assert f"{n_days} representative days of the profile year" in window.overview.summary.text()
    # the study's description, longer than its field, is shown from its start (it showed its end)
    description = window.overview.form.editors["description"]
    assert description.text() == window.doc.study.metadata.description
    assert description.cursorPosition() == 0


def test_malformed_study_shows_an_error_dialog_and_nothing_else_breaks(
    window: MainWindow, dialogs: Any, tmp_path: Path, qtbot: Any
) -> None:
    """A file with a YAML syntax error: one dialog naming the file and line; the open study is untouched
    and still editable (an edit and its undo work afterwards)."""
    bad = tmp_path / "broken.yaml"
    bad.write_text("schema_version: 1\nsgam: [unclosed\n", encoding="utf-8")
    before = window.doc.study.model_copy(deep=True)
    assert window.open_path(bad) is False
    assert len(dialogs.errors) == 1
    title, text = dialogs.errors[0]
    assert title == "Cannot open study"
    assert "broken.yaml" in text and "line" in text and "Traceback" not in text
    assert window.doc.study == before
    assert window.doc.path is None

    wrong_type = tmp_path / "wrong.yaml"
    wrong_type.write_text(
        "schema_version: 1\nsgam: {}\nscenario: {}\ncba: {discount_rate: lots}\n", encoding="utf-8"
    )
    assert window.open_path(wrong_type) is False
    assert "cba.discount_rate" in dialogs.errors[-1][1]

    window.doc.set_fields(("metadata",), {"title": "Still editable"})
    assert window.doc.study.metadata.title == "Still editable"
    window.doc.undo_stack.undo()
    assert window.doc.study == before


def test_save_open_round_trip_and_dirty_marker(window: MainWindow, tmp_path: Path) -> None:
    """An edit marks the window modified; saving clears it, and the saved file opens to an equal study."""
    window.doc.set_fields(("cba",), {"discount_rate": 0.05})
    assert window.isWindowModified()
    path = tmp_path / "study.yaml"
    assert window._save_to(path)
    assert not window.isWindowModified()
    assert window.windowTitle().startswith("study.yaml")
    saved = window.doc.study.model_copy(deep=True)
    window.doc.set_fields(("cba",), {"discount_rate": 0.07})
    window.doc.undo_stack.setClean()
    assert window.open_path(path)
    assert window.doc.study == saved
    assert window.doc.study.cba.discount_rate == 0.05
    assert window.recent_files()[0] == str(path.resolve())


def test_unsaved_changes_prompt_can_cancel_opening(window: MainWindow, dialogs: Any, tmp_path: Path) -> None:
    """With unsaved changes, opening asks first; answering Cancel keeps the edited study."""
    from PySide6.QtWidgets import QMessageBox

    path = tmp_path / "other.yaml"
    assert window._save_to(path)
    window.doc.set_fields(("metadata",), {"title": "Edited"})
    dialogs.answer = QMessageBox.StandardButton.Cancel
    assert window.open_path(path) is False
    assert len(dialogs.questions) == 1 and "unsaved changes" in dialogs.questions[0]
    assert window.doc.study.metadata.title == "Edited"


def test_autosave_and_recovery_after_a_crash(window: MainWindow, dialogs: Any, qtbot: Any) -> None:
    """A dirty study is autosaved; a new window (as after a crash) offers it and restores it, dirty."""
    from PySide6.QtWidgets import QMessageBox

    window.doc.set_fields(("metadata",), {"title": "Unsaved work"})
    written = window.autosaver.autosave_now()
    assert written is not None and written.exists()

    dialogs.answer = QMessageBox.StandardButton.Yes
    second = MainWindow(offer_recovery=False)
    qtbot.addWidget(second)
    assert second.offer_recovery() is True
    assert "did not close normally" in dialogs.questions[-1]
    assert second.doc.study.metadata.title == "Unsaved work"
    assert second.doc.dirty
    second.doc.undo_stack.setClean()
    # A clean close removes the recovery file: nothing is offered next time.
    window.doc.undo_stack.setClean()
    window.close()
    second.close()
    third = MainWindow(offer_recovery=False)
    qtbot.addWidget(third)
    assert third.offer_recovery() is False


def test_problem_click_jumps_to_the_object(window: MainWindow, qtbot: Any) -> None:
    """A dangling producer id appears in the dock; activating it selects the event's row in its table."""
    events = window.ict.editors["events"]
    col = events.model.column_of("producer_id")
    row = 3
    event_id = window.doc.study.sgam.events[row].id
    assert events.model.setData(events.model.index(row, col), "ghost")
    window.validate_now()
    assert window.problems.count() >= 1
    item = window.problems.item(0)
    # named in words: the object holding the reference, the field, the missing id
    assert item.text().startswith(f"Interaction event '{event_id}', field Producer id")
    assert "ghost" in item.text()
    window.show_view("overview")
    window._problem_activated(item)
    assert window.tabs.currentWidget() is window.ict
    assert window.ict.tabs.currentWidget() is events
    assert events.selected_source_rows() == [row]


def test_screenshots_render_every_view_at_both_sizes(qapp: Any, tmp_path: Path, clean_recovery: None) -> None:
    """``gui --screenshots`` (without its simulation run) writes 6 views x 2 sizes with exact pixel sizes;
    the window fits in 1366x768 (its minimum size is not larger)."""
    from PySide6.QtGui import QImage

    from coordstudio.gui.screenshots import SHOTS, render_screenshots

    files = render_screenshots(tmp_path, run=False)
    assert len(files) == 2 * len(SHOTS) == 18
    for f in files:
        image = QImage(str(f))
        expected = tuple(int(v) for v in f.stem.rsplit("_", 1)[1].split("x"))
        assert (image.width(), image.height()) == expected, f.name
        assert f.stat().st_size > 20_000  # a rendered view, not an empty frame


def test_window_state_is_remembered(window: MainWindow, qtbot: Any) -> None:
    """Closing saves geometry and dock layout in QSettings; the next window restores the dock layout.
    (The restored size is not compared: on the offscreen platform restoreGeometry fits the window to a
    virtual 800x600 screen.)"""
    window.resize(1500, 900)
    window.problems_dock.hide()
    qtbot.wait(50)
    window.close()
    second = MainWindow(offer_recovery=False)
    qtbot.addWidget(second)
    second.show()
    qtbot.wait(50)
    assert second.settings.value("window/geometry") is not None
    assert second.problems_dock.isHidden()
    second.doc.undo_stack.setClean()


def test_first_window_fits_the_available_screen(window: MainWindow) -> None:
    """The first window never exceeds the screen's available area (1366x768 laptops lost the status bar
    and the problems panel at the old fixed 1600x950)."""
    avail = window.screen().availableGeometry()  # offscreen platform: a virtual 800x800 screen
    window.fit_to_screen()
    geometry = window.geometry()
    needed = window.minimumSizeHint()
    assert geometry.width() <= max(avail.width(), needed.width())
    assert geometry.height() <= max(avail.height(), needed.height())
    assert avail.contains(geometry.topLeft())
    # the whole window fits a 1366x768 laptop's available area (about 1350x728 under a panel)
    assert needed.width() <= 1350 and needed.height() <= 728


def test_first_launch_shows_the_welcome_page(qtbot: Any, dialogs: Any, clean_recovery: None) -> None:
    """The first launch opens on the Welcome page; the next one on the Study view."""
    first = MainWindow(offer_recovery=False)
    qtbot.addWidget(first)
    assert first.tabs.currentWidget() is first.welcome
    second = MainWindow(offer_recovery=False)
    qtbot.addWidget(second)
    assert second.tabs.currentWidget() is second.overview


def test_coordstudio_study_yaml_opens_the_study_in_the_gui(monkeypatch: Any, tmp_path: Path) -> None:
    """`coordstudio STUDY.yaml` (no subcommand) means `coordstudio gui STUDY.yaml`."""
    import coordstudio.gui.app
    from coordstudio import gui, main

    calls: list[tuple[Any, Any]] = []
    def fake_run_gui(study_path: Any, screenshots_dir: Any) -> int:
        calls.append((study_path, screenshots_dir))
        return 0

    monkeypatch.setattr(gui.app, "run_gui", fake_run_gui)
    assert main.main([str(tmp_path / "my_study.yaml")]) == 0
    assert calls == [(str(tmp_path / "my_study.yaml"), None)]


def test_saving_an_overlay_study_keeps_it_an_overlay(window: MainWindow, tmp_path: Path) -> None:
    """The Italian-scale example (``extends: default``) opened, edited and saved: the file still states only
    what differs from the default study (plus the edit), its comment kept; it reopens to the edited study."""
    source = Path(__file__).resolve().parents[2] / "examples" / "italy_scale" / "study.yaml"
    path = tmp_path / "italy.yaml"
    path.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    assert window.open_path(path)
    window.doc.set_fields(("cba",), {"discount_rate": 0.05})
    assert window._save_to(path)
    assert "as an overlay of default" in window.statusBar().currentMessage()
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# The default study stated") and "\nextends: default\n" in text
    assert "discount_rate: 0.05" in text and "sgam:" not in text and len(text.splitlines()) < 40
    saved = window.doc.study.model_copy(deep=True)
    assert window.open_path(path, confirm=False)
    assert window.doc.study == saved
