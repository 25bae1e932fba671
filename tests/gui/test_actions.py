"""Tier 2: every action of every menu, reached the way a user reaches it, does what it says.

The export actions once all crashed ("TypeError: expected str, bytes or os.PathLike object, not bool"):
Qt's ``triggered(bool)`` passed ``checked=False`` to slots whose first parameter is a path, and the tests
called the export methods directly, so they never saw it. Here each QAction of the menu bar is triggered
(``QAction.trigger()``, what a menu click does), the file dialogs are answered by the test, and what each
action writes or changes is asserted: the files exist and load back (openpyxl for workbooks, python-docx
for the draft, the study loader for studies). The shortcuts are pressed with QTest. A menu action
without an expectation here fails the test, so a new action cannot go untested.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QDesktopServices
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox

from tests.gui.test_cba_view import HandResult, hand_kpis  # noqa: I001 - shared hand-made KPIs


class FileDialogs:
    """Answers QFileDialog's statics by dialog title; records what was asked."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.asked: list[str] = []
        self.answers: dict[str, str] = {}

    def answer(self, title: str) -> str:
        self.asked.append(title)
        return self.answers.get(title, "")


@pytest.fixture
def files(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> FileDialogs:
    fd = FileDialogs(tmp_path)

    def save(_parent: Any, title: str, *a: Any, **k: Any) -> tuple[str, str]:
        return fd.answer(title), ""

    def open_(_parent: Any, title: str, *a: Any, **k: Any) -> tuple[str, str]:
        return fd.answer(title), ""

    def folder(_parent: Any, title: str, *a: Any, **k: Any) -> str:
        return fd.answer(title)

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(save))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(open_))
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(folder))
    return fd


def plain(text: str) -> str:
    """Menu text without its mnemonic ampersand ('&&' is a literal '&')."""
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&")


def menu_actions(window: Any) -> list[tuple[str, QAction]]:
    """Every (menu path, action) of the menu bar, submenus included (their aboutToShow run first)."""
    out: list[tuple[str, QAction]] = []

    def walk(menu: QMenu, prefix: str) -> None:
        menu.aboutToShow.emit()
        for action in menu.actions():
            if action.isSeparator():
                continue
            sub = action.menu()
            name = f"{prefix} > {plain(action.text())}"
            if sub is not None:
                walk(sub, name)
            else:
                out.append((name, action))

    for top in window.menuBar().actions():
        walk(top.menu(), plain(top.text()))
    return out


def _with_results(window: Any) -> None:
    window.cba.set_run_result(HandResult(hand_kpis()))
    assert window.cba.cba_result is not None


def test_every_menu_action_does_what_it_says(
    window: Any, qtbot: Any, dialogs: Any, files: FileDialogs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import docx
    import openpyxl

    from coordstudio.cba.study import load_study
    from coordstudio.sgam.excel import import_workbook

    opened_urls: list[str] = []
    monkeypatch.setattr(
        QDesktopServices, "openUrl", staticmethod(lambda url: opened_urls.append(url.toString()))
    )
    about: list[str] = []
    monkeypatch.setattr(QMessageBox, "about", staticmethod(lambda _p, _t, text: about.append(text)))
    dialogs.answer = QMessageBox.StandardButton.Discard
    _with_results(window)

    study_path = tmp_path / "study.yaml"
    files.answers.update(
        {
            "Save study as": str(study_path),
            "Open study": str(study_path),
            "Export Excel report": str(tmp_path / "report.xlsx"),
            "Export recommendations draft": str(tmp_path / "reco.md"),
            "Export all charts to folder": str(tmp_path / "charts"),
            "Export SGAM model to Excel": str(tmp_path / "sgam.xlsx"),
            "Import SGAM model from Excel": str(tmp_path / "sgam.xlsx"),
        }
    )
    (tmp_path / "charts").mkdir()
    w = window
    checked: set[QAction] = set()

    def check_save_as() -> None:
        assert study_path.exists() and w.doc.path == study_path.resolve() and not w.doc.dirty
        assert load_study(study_path) == w.doc.study

    def check_save() -> None:
        w.doc.set_fields(("metadata",), {"title": "Saved by Ctrl+S"})
        assert w.doc.dirty
        w.act_save.trigger()
        assert not w.doc.dirty and load_study(study_path).metadata.title == "Saved by Ctrl+S"

    def check_open() -> None:
        assert w.doc.path == study_path.resolve() and w.doc.study.metadata.title == "Saved by Ctrl+S"

    def check_new() -> None:
        from coordstudio.cba.study import default_study

        assert w.doc.path is None and w.doc.study == default_study()

    def check_excel() -> None:
        wb = openpyxl.load_workbook(tmp_path / "report.xlsx")
        assert {"Summary", "Assumptions"} <= set(wb.sheetnames)

    def check_reco() -> None:
        md = (tmp_path / "reco.md").read_text(encoding="utf-8")
        assert w.cba.cba_result.ranking[0] in md
        assert docx.Document(str(tmp_path / "reco.docx")).paragraphs

    def check_charts() -> None:
        written = sorted(p.suffix for p in (tmp_path / "charts").iterdir())
        assert written.count(".png") == written.count(".svg") == len(w.all_charts())

    def check_sgam_export() -> None:
        assert import_workbook(tmp_path / "sgam.xlsx") == w.doc.study.sgam

    def check_sgam_import() -> None:
        assert w.doc.undo_stack.undoText().startswith("Import SGAM model")
        assert w.doc.study.sgam == import_workbook(tmp_path / "sgam.xlsx")
        assert w.doc.study.sgam.technologies[0].name != "changed after export"

    def check_undo() -> None:
        assert w.doc.study.metadata.title == "before"

    def check_redo() -> None:
        assert w.doc.study.metadata.title == "after"

    # (menu path prefix, action, preparation, check) in the order a user might go
    steps: list[tuple[str, Any, Any]] = [
        ("File > Save as…", None, check_save_as),
        ("File > Save", None, check_save),
        ("File > Export > Excel report…", None, check_excel),
        ("File > Export > Recommendations draft…", None, check_reco),
        ("File > Export > All charts…", None, check_charts),
        ("File > Export > SGAM model to Excel…", None, check_sgam_export),
        (
            "File > Import SGAM model from Excel…",
            lambda: w.doc.set_fields(("sgam", "technologies", 0), {"name": "changed after export"}),
            check_sgam_import,
        ),
        ("File > New study", None, check_new),
        ("File > Open…", None, check_open),
        (
            "Edit > Undo",
            lambda: (
                w.doc.set_fields(("metadata",), {"title": "before"}),
                w.doc.set_fields(("metadata",), {"title": "after"}),
            ),
            check_undo,
        ),
        ("Edit > Redo", None, check_redo),
        ("Run > Validate", None, lambda: w.problems_dock.windowTitle().startswith("Validation problems")),
        ("Help > Welcome page", None, lambda: None),
        ("Help > Documentation", None, lambda: None),
        ("Help > About", None, lambda: None),
    ]
    actions = dict(menu_actions(w))
    by_prefix = {name: a for name, a in actions.items()}

    def find(prefix: str) -> tuple[str, QAction]:
        hits = [(n, a) for n, a in by_prefix.items() if n.startswith(prefix)]
        assert hits, f"no menu action {prefix!r}; menus have {sorted(by_prefix)}"
        return hits[0]

    for prefix, prepare, check in steps:
        name, action = find(prefix)
        if prepare is not None:
            prepare()
        _with_results(w)  # New/Open/Import clear nothing of the CBA, but keep it explicit
        assert action.isEnabled(), name
        action.trigger()
        qtbot.wait(10)
        assert not [e for e in dialogs.errors if "Internal error" in e[0]], dialogs.errors
        check()
        checked.add(action)
    assert w.tabs.currentWidget() is not None
    assert opened_urls and opened_urls[-1].endswith("docs/gui.md")
    assert about

    # Open recent: the file saved above is listed; its action opens it. The recent menu is rebuilt
    # whenever the list changes (its old actions are deleted), so look the actions up afresh.
    by_prefix.clear()
    by_prefix.update(menu_actions(w))
    name, recent = find("File > Open recent > 1 ")
    w.doc.set_fields(("metadata",), {"title": "changed"})
    recent.trigger()
    assert w.doc.path == study_path.resolve() and w.doc.study.metadata.title == "Saved by Ctrl+S"
    clear_name, clear = find("File > Open recent > Clear list")
    clear.trigger()
    assert w.recent_files() == []

    # View: each tab action shows its view
    for i in range(w.tabs.count()):
        title = plain(w.tabs.tabText(i)).replace(" ●", "")
        name, action = find(f"View > {title}")
        action.trigger()
        assert w.tabs.currentIndex() == i
        checked.add(action)
    name, toggle = find("View > Validation problems")
    visible = w.problems_dock.isVisible()
    toggle.trigger()
    assert w.problems_dock.isVisible() != visible
    toggle.trigger()
    checked.add(toggle)

    # Run > Run study starts a real run; Run > Cancel run stops it
    from tests.gui.test_run import _shorten

    _shorten(w, 1.0)
    name_run, run = find("Run > Run study")
    name_cancel, cancel = find("Run > Cancel run")
    with qtbot.waitSignal(w.runFinished, timeout=120_000) as finished:
        run.trigger()
        assert w.runner is not None and cancel.isEnabled()
        cancel.trigger()
    assert finished.args == ["cancelled"]
    checked |= {run, cancel}

    # Every action of every menu (walked afresh) was triggered above; the Open recent entries are
    # rebuilt each time the menu opens, so they count by their place (numbered entry, Clear list).
    name_quit, quit_ = find("File > Quit")
    untested = [
        n
        for n, a in menu_actions(w)
        if a not in checked
        and a is not quit_
        and not (
            n.startswith("File > Open recent > ")
            and (n.endswith(("Clear list", "(none)")) or n[21:22].isdigit())
        )
    ]
    assert not untested, f"menu actions without a test: {untested}"

    # File > Quit closes the window (unsaved changes: the answer "Discard" was given)
    qtbot.waitUntil(lambda: not w.runner.isRunning(), timeout=60_000)
    w.doc.set_fields(("metadata",), {"title": "unsaved"})
    quit_.trigger()
    assert not w.isVisible()


def test_shortcuts_reach_the_actions(
    window: Any, qtbot: Any, dialogs: Any, files: FileDialogs, tmp_path: Path
) -> None:
    """Ctrl+E exports the workbook, Ctrl+S saves, Ctrl+Z / Ctrl+Y undo and redo, Ctrl+2 shows the Study
    view, F7 validates: pressed on the window as a user presses them."""
    import openpyxl

    w = window
    _with_results(w)
    w.activateWindow()
    qtbot.waitUntil(lambda: w.isActiveWindow(), timeout=3000)
    files.answers["Export Excel report"] = str(tmp_path / "ctrl-e.xlsx")
    QTest.keyClick(w, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    assert openpyxl.load_workbook(tmp_path / "ctrl-e.xlsx").sheetnames
    files.answers["Save study as"] = str(tmp_path / "ctrl-s.yaml")
    QTest.keyClick(w, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert (tmp_path / "ctrl-s.yaml").exists() and not w.doc.dirty
    title = w.doc.study.metadata.title
    w.doc.set_fields(("metadata",), {"title": "typed"})
    QTest.keyClick(w, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert w.doc.study.metadata.title == title
    QTest.keyClick(w, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert w.doc.study.metadata.title == "typed"
    QTest.keyClick(w, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert w.tabs.currentWidget() is w.overview
    QTest.keyClick(w, Qt.Key.Key_F7)
    assert w.problems_dock.windowTitle() == "Validation problems (none)"
    assert not [e for e in dialogs.errors if "Internal error" in e[0]]


def test_table_shortcuts_and_buttons(window: Any, qtbot: Any) -> None:
    """In a table: Ctrl+D duplicates the selected row with a new id, Del deletes it, Ctrl+F goes to the
    filter; an emptied list gets its first row back with Add."""
    from PySide6.QtWidgets import QPushButton

    w = window
    w.show_view("ict")
    editor = w.ict.editors["technologies"]
    w.ict.tabs.setCurrentWidget(editor)
    w.activateWindow()
    qtbot.waitUntil(lambda: w.isActiveWindow(), timeout=3000)
    n = len(w.doc.study.sgam.technologies)
    editor.select_source_row(0)
    editor.view.setFocus()
    QTest.keyClick(editor.view, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert len(w.doc.study.sgam.technologies) == n + 1
    assert w.doc.study.sgam.technologies[1].id.endswith("-copy")
    editor.select_source_row(1)
    editor.view.setFocus()
    QTest.keyClick(editor.view, Qt.Key.Key_Delete)
    assert len(w.doc.study.sgam.technologies) == n
    QTest.keyClick(editor.view, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(editor.search.hasFocus, timeout=1000)

    # the technologies emptied (Del on every row), then the first row added with the Add button
    editor.view.selectAll()
    editor.view.setFocus()
    QTest.keyClick(editor.view, Qt.Key.Key_Delete)
    assert w.doc.study.sgam.technologies == []
    add = next(b for b in editor.findChildren(QPushButton) if b.text() == "Add")
    add.click()
    assert [t.id for t in w.doc.study.sgam.technologies] == ["new-1"]
    # a list whose items cannot be built from defaults says why, beside the table
    mc = w.cba.list_editors["uncertain_inputs"]
    while mc.model.items():
        w.doc.remove_item(mc.model.list_path, 0)
    next(b for b in mc.findChildren(QPushButton) if b.text() == "Add").click()
    assert w.doc.study.cba.uncertain_inputs == []
    assert mc.error_label.isVisibleTo(mc) and "Cannot add a first UncertainInput" in mc.error_label.text()
