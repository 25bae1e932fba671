"""The welcome page shown at the first launch: open a study, what each view is for, where the guide is.

It holds no logic of its own: the buttons ask the main window (signals) to open the default study, a
study file or a recent file, or the user guide. Help ▸ Welcome page brings it back.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

#: (view title, who uses it, what it is for)
VIEW_GUIDE: tuple[tuple[str, str, str], ...] = (
    ("Study", "everyone", "title and notes of the study, what it contains, the ranking of the last run"),
    (
        "SGAM / ICT",
        "ICT architect",
        "actors, information objects, events, requirements, technologies, links; the SGAM plane; the ICT "
        "cost per scheme, recomputed at each edit",
    ),
    ("Scenario & run", "analyst", "grids, device groups, timing, prices; Run (F5), progress and Cancel"),
    ("Simulation results", "analyst", "KPIs per scheme (costs, congestion, curtailment, slack); time series"),
    (
        "Cost-benefit analysis",
        "analyst, adviser",
        "NPV, BCR, payback, Monte Carlo and tornado; what-if controls; who gains and who pays",
    ),
    ("Recommendations", "policy adviser", "the drafted recommendations, each statement linked to its figure"),
    ("ICT check", "ICT architect", "the ICT design re-checked against the messages the simulation exchanged"),
)


class WelcomeView(QWidget):
    """First-launch page (see the module docstring)."""

    openDefault = Signal()
    openFile = Signal()
    openRecent = Signal(str)
    openDocs = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        inner = QWidget()
        lay = QVBoxLayout(inner)
        title = QLabel(
            "<h1>Coordination Studio</h1>"
            "<p>TSO-DSO coordination studies: the ICT an architecture needs and what it costs (SGAM), a "
            "simulation of the markets and grids of the SmartNet coordination schemes, and the cost-benefit "
            "analysis that compares them, with a draft of policy recommendations.</p>"
        )
        title.setWordWrap(True)
        lay.addWidget(title)

        buttons = QHBoxLayout()
        self.default_button = QPushButton("Open the default study")
        self.default_button.setToolTip(
            "The embedded case with every coordination scheme (both common-market variants among them)"
        )
        self.default_button.clicked.connect(lambda: self.openDefault.emit())
        self.open_button = QPushButton("Open a study file…")
        self.open_button.clicked.connect(lambda: self.openFile.emit())
        self.docs_button = QPushButton("User guide (docs/gui.md)")
        self.docs_button.clicked.connect(lambda: self.openDocs.emit())
        for b in (self.default_button, self.open_button, self.docs_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        lay.addLayout(buttons)

        lay.addWidget(QLabel("<h3>Open recent</h3>"))
        self.recent = QListWidget()
        self.recent.setMaximumHeight(140)
        self.recent.itemActivated.connect(lambda item: self.openRecent.emit(item.text()))
        lay.addWidget(self.recent)

        rows = "".join(
            f"<tr><td><b>{name}</b></td><td><i>{who}</i></td><td>{what}</td></tr>"
            for name, who, what in VIEW_GUIDE
        )
        guide = QLabel(
            "<h3>What each view is for</h3><table cellspacing=6>"
            "<tr><th align=left>View</th><th align=left>For</th><th align=left>What</th></tr>"
            f"{rows}</table>"
            "<p>Ctrl+1 … Ctrl+8 switch views; F5 runs the study; Ctrl+Z undoes any edit; "
            "F1 opens the user guide.</p>"
        )
        guide.setWordWrap(True)
        guide.setTextFormat(Qt.TextFormat.RichText)
        lay.addWidget(guide)
        lay.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(inner)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)

    def set_recent(self, files: list[str]) -> None:
        """Show the recent studies (double-click or Enter opens one)."""
        self.recent.clear()
        for f in files:
            self.recent.addItem(QListWidgetItem(f))
        if not files:
            item = QListWidgetItem("(no recent study)")
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            self.recent.addItem(item)
