"""Matplotlib figures inside Qt widgets, with export to PNG/SVG.

Every chart of the application is a :class:`ChartWidget`: a ``FigureCanvasQTAgg`` with a small toolbar
row (title, "Export..." button). Drawing is left to the Qt-free functions of ``cba`` (``cba.figures_kpi``,
``cba.figures_timeseries``, ``cba.charts``, ``sgam.plane``) that draw into the widget's ``Figure``; the
command line's ``figures`` writes the same functions' figures to files, so the two cannot drift.
Font sizes are fixed in points so charts stay readable at 1366x768 as well as 1920x1080.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("QtAgg")

from matplotlib.axes import Axes  # noqa: E402
from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from PySide6.QtWidgets import (  # noqa: E402
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

# one palette, style and bar helpers for reports, files and windows (cba.figure_style)
from coordstudio.cba.figure_style import FIGURE_STYLE, SCHEME_COLOURS, bar_by_scheme, bar_labels  # noqa: E402

matplotlib.rcParams.update(FIGURE_STYLE)

__all__ = ["DRAWER", "SCHEME_COLOURS", "ChartWidget", "ScalingCanvas", "bar_by_scheme", "bar_labels",
           "grouped_bars"]


class ScalingCanvas(FigureCanvasQTAgg):
    """A canvas that lowers the figure's dpi when the widget is narrower than ``design_width_in`` inches.

    Some figures (the SGAM plane) are laid out for a large page; drawn at 96 dpi into a 700-pixel canvas
    their labels collide. Scaling the dpi keeps the figure's inch size close to its design size, so text
    shrinks with the widget instead of overlapping (never below ``min_dpi``).
    """

    def __init__(self, figure: Figure, design_width_in: float | None = None, min_dpi: float = 64.0) -> None:
        super().__init__(figure)
        self.design_width_in = design_width_in
        self.min_dpi = min_dpi

    def draw_idle(self) -> None:
        """Queue a redraw on the serial drawer (matplotlib's own resize path calls this too), so that
        showing a view with six charts never draws all six inside one paint event."""
        DRAWER.request(self)

    def resizeEvent(self, event: Any) -> None:
        if self.design_width_in and self.figure is not None:
            width_px = event.size().width() * self.device_pixel_ratio
            dpi = max(self.min_dpi, min(96.0 * self.device_pixel_ratio, width_px / self.design_width_in))
            self.figure.set_dpi(dpi)
        super().resizeEvent(event)


class _SerialDrawer:
    """Draws pending canvases one per event-loop pass.

    ``FigureCanvas.draw_idle`` posts one zero-timer per canvas; Qt runs all zero-timers that are due in
    the same pass, so updating ten charts at once (a finished run) blocked the event loop for half a
    second. Here each pass draws a single canvas, so the loop turns between two charts.
    """

    def __init__(self) -> None:
        self._pending: list[FigureCanvasQTAgg] = []
        self._scheduled = False

    def request(self, canvas: FigureCanvasQTAgg) -> None:
        if canvas not in self._pending:
            self._pending.append(canvas)
        self._schedule()

    def _schedule(self) -> None:
        if not self._scheduled and self._pending:
            from PySide6.QtCore import QTimer

            self._scheduled = True
            # 1 ms, not 0: Qt runs zero-timers posted from a zero-timer in the same pass, 1 ms timers
            # wait for the next pass, after the other due timers (and input events) had their turn.
            QTimer.singleShot(1, self._draw_one)

    def _draw_one(self) -> None:
        self._scheduled = False
        if not self._pending:
            return
        canvas = self._pending.pop(0)
        try:
            if canvas.width() > 1 and canvas.height() > 1:
                canvas.draw()
                canvas.update()
        except RuntimeError:  # the widget was deleted meanwhile
            pass
        self._schedule()

    def flush(self) -> None:
        """Draw everything pending now (screenshots, exports)."""
        while self._pending:
            self._draw_one()


DRAWER = _SerialDrawer()



def title_html(title: str) -> str:
    """A chart title as the label above the chart shows it: the first line bold, the lines after it (the
    days and weights of several representative days, :mod:`cba.figures_kpi`) small and grey, so that a
    small chart keeps its height for the bars."""
    from html import escape

    head, _, rest = title.partition("\n")
    if not rest:
        return f"<b>{escape(head)}</b>"
    return (f"<b>{escape(head)}</b><br><span style='color:#555555; font-size:small'>"
            f"{escape(rest.replace(chr(10), ' '))}</span>")

class ChartWidget(QWidget):
    """A titled matplotlib canvas with an export button."""

    def __init__(
        self, title: str, parent: QWidget | None = None, design_width_in: float | None = None
    ) -> None:
        super().__init__(parent)
        self.title = title
        self.figure = Figure(figsize=(5, 3.2), dpi=96, layout="constrained")
        self.canvas = ScalingCanvas(self.figure, design_width_in)
        self.canvas.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.canvas.setMinimumSize(160, 130)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        bar = QHBoxLayout()
        self.title_label = QLabel(title_html(title))
        self.title_label.setWordWrap(True)  # a long title wraps instead of widening the chart
        bar.addWidget(self.title_label, 1)
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("Save this chart as PNG or SVG")
        self.export_button.clicked.connect(self.export_dialog)
        bar.addWidget(self.export_button)
        layout.addLayout(bar)
        layout.addWidget(self.canvas, 1)

    def set_title(self, title: str) -> None:
        """Change the title shown above the chart (and used as the export file name)."""
        self.title = title
        self.title_label.setText(title_html(title))
        self.title_label.setToolTip(title.replace("\n", " "))

    def axes(self) -> Axes:
        """A cleared figure with one Axes, ready to draw on."""
        self.figure.clear()
        return self.figure.add_subplot(111)

    def plot(self, draw: Any, *args: Any, **kwargs: Any) -> None:
        """Draw with one of the Qt-free drawing functions (``draw(figure, *args, **kwargs) -> title``, the
        same call ``coordstudio figures`` makes into a file's figure), show its title and redraw."""
        self.set_title(draw(self.figure, *args, **kwargs))
        self.draw()

    def message(self, text: str) -> None:
        """Show a sentence instead of a chart (e.g. "Run the simulation to see ...")."""
        self.figure.clear()
        self.figure.text(0.5, 0.5, text, ha="center", va="center", wrap=True, fontsize=10, color="#555555")
        DRAWER.request(self.canvas)

    def draw(self) -> None:
        """Redraw after drawing on :meth:`axes` (one chart per event-loop pass: :class:`_SerialDrawer`)."""
        DRAWER.request(self.canvas)

    def save(self, path: Path | str) -> Path:
        """Write the chart to PNG or SVG (by extension) atomically."""
        import io

        from coordstudio.cba.fileio import atomic_write_bytes

        path = Path(path)
        fmt = "svg" if path.suffix.lower() == ".svg" else "png"
        buf = io.BytesIO()
        self.figure.savefig(buf, format=fmt, dpi=150)
        return atomic_write_bytes(path, buf.getvalue())

    def export_dialog(self) -> None:
        """Ask for a file name and save the chart there."""
        safe = "".join(c if c.isalnum() else "_" for c in self.title).strip("_").lower()
        name, _ = QFileDialog.getSaveFileName(
            self, f"Export chart: {self.title}", f"{safe}.png", "PNG image (*.png);;SVG image (*.svg)"
        )
        if name:
            self.save(name)


def grouped_bars(ax: Axes, groups: Sequence[str], series: dict[str, Sequence[float]], ylabel: str) -> None:
    """Bars grouped by ``groups`` (x), one series per scheme (colour)."""
    n = max(len(series), 1)
    width = 0.8 / n
    for i, (scheme, values) in enumerate(series.items()):
        xs = [g + (i - (n - 1) / 2) * width for g in range(len(groups))]
        ax.bar(xs, values, width=width, label=scheme, color=SCHEME_COLOURS.get(scheme, None))
    ax.set_xticks(range(len(groups)), list(groups), rotation=0)
    ax.set_ylabel(ylabel)
    # above the axes: a legend inside covered bars
    ax.legend(ncols=min(n, 5), loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False, fontsize=7)
