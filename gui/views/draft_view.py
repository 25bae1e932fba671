"""The drafted policy recommendations on screen: rendered, each statement a click away from its figure.

The draft is ``cba.recommendations.build_document`` of the CBA shown in the CBA view (what-if included),
the same document model that ``write_recommendations`` writes as Markdown and DOCX. Here it is rendered
with ``QTextBrowser.setMarkdown``; every paragraph and bullet ends with a "→ figure" link that brings the
view holding the figure behind it to the front (the CBA results table with the scheme's row selected, the
switching values, the actor split, the simulation KPIs, the ICT cost table). Export writes the same
draft with ``write_recommendations``.
"""

from __future__ import annotations

import re
from typing import Any

from PySide6.QtCore import QUrl, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QTextBrowser, QVBoxLayout, QWidget

from coordstudio.simulation.kpis import SCHEME_IDS  # the scheme registry (simulation/schemes.py)

#: Section heading prefix -> where its figures are (a target understood by MainWindow.show_figure).
SECTION_TARGETS: tuple[tuple[str, str], ...] = (
    ("1.", "cba-table"),
    ("2.", "cba-switching"),
    ("3.", "results-kpis"),
    ("4.", "ict-costs"),
    ("ICT design checked", "ictcheck"),
    ("5.", "cba-actors"),
    ("6.", "cba-table"),
    ("Summary", "cba-table"),
    ("Caveats", "results-kpis"),
)
_SCHEME_RE = re.compile(r"\b(" + "|".join(SCHEME_IDS) + r")\b")


def _target_of(heading: str) -> str:
    for prefix, target in SECTION_TARGETS:
        if heading.startswith(prefix):
            return target
    return "cba-table"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def linked_markdown(doc: Any) -> str:
    """Markdown of a recommendations ``Document`` with a "→ figure" link after each statement.

    The link is ``figure:<target>/<scheme>``: the target names the view of the section's figures, the
    scheme is the first scheme id the statement mentions ('' if none), so the click selects its row.
    """
    out: list[str] = []
    target = "cba-table"
    previous = ""
    for b in doc.blocks:
        if previous == "bullet" and b.kind != "bullet":
            out.append("")
        if b.kind == "heading":
            target = _target_of(b.text)
            out += ["#" * b.level + " " + b.text, ""]
        elif b.kind in ("para", "bullet"):
            found = _SCHEME_RE.search(b.text)
            scheme = found.group(1) if found else ""
            line = f"{b.text} [→ figure](figure:{target}/{scheme})"
            out += ["- " + line] if b.kind == "bullet" else [line, ""]
        elif b.kind == "table":
            out.append("| " + " | ".join(_cell(h) for h in b.headers) + " |")
            out.append("|" + "|".join("---" for _ in b.headers) + "|")
            out += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in b.rows]
            out.append("")
        previous = b.kind
    return "\n".join(out).rstrip() + "\n"


class DraftView(QWidget):
    """The recommendations draft of the CBA on screen, with Export."""

    figureRequested = Signal(str, str)  # target, scheme
    exportRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.markdown = ""
        self.status = QLabel("No draft yet: run the study (F5); the draft follows the CBA view.")
        self.status.setWordWrap(True)
        self.browser = QTextBrowser()
        self.browser.setOpenLinks(False)
        self.browser.setOpenExternalLinks(False)
        self.browser.anchorClicked.connect(self._on_anchor)
        self.export_button = QPushButton("Export Markdown + DOCX…")
        self.export_button.setToolTip("Write this draft with cba.recommendations.write_recommendations")
        self.export_button.clicked.connect(lambda: self.exportRequested.emit())
        self.export_button.setEnabled(False)
        bar = QHBoxLayout()
        bar.addWidget(self.status, 1)
        bar.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.browser, 1)

    def show_draft(self, params: Any, kpis: Any, ict: Any, result: Any, ict_check: Any = None) -> None:
        """Render the draft of ``result`` (None clears the view)."""
        if result is None:
            self.markdown = ""
            self.browser.clear()
            self.export_button.setEnabled(False)
            self.status.setText("No draft yet: run the study (F5); the draft follows the CBA view.")
            return
        from coordstudio.cba.recommendations import build_document

        doc = build_document(params, kpis, ict, result, ict_check)
        self.markdown = linked_markdown(doc)
        scroll = self.browser.verticalScrollBar().value()
        self.browser.setMarkdown(self.markdown)
        self.browser.verticalScrollBar().setValue(scroll)
        self.export_button.setEnabled(True)
        self.status.setText(
            f"Draft of the CBA shown in the Cost-benefit analysis view (reference "
            f"{result.reference_scheme}, {100 * result.discount_rate:.2f} %/a, "
            f"{result.horizon_years} years). "
            "Click “→ figure” to see the figure behind a statement."
        )

    def _on_anchor(self, url: QUrl) -> None:
        text = url.toString()
        if not text.startswith("figure:"):
            return
        target, _, scheme = text.removeprefix("figure:").partition("/")
        self.figureRequested.emit(target, scheme)
