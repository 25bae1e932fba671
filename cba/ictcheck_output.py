"""Outputs of the ICT check: CSV tables, a chart, an Excel sheet and a recommendations paragraph.

Every writer takes an :class:`cba.ictcheck.IctCheckResult` (plain data), so the CLI, the Excel report,
the recommendations draft and the GUI all show the same figures. Files are written atomically
(``cba.fileio``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from coordstudio.cba.fileio import atomic_write_bytes, atomic_write_text
from coordstudio.cba.ictcheck_data import EventCheckRow, IctCheckResult, SchemeIctDelta

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from openpyxl import Workbook

VERDICT_COLOURS: dict[str, str] = {
    "consistent": "#4c9a2a",
    "under_specified": "#c0392b",
    "over_specified": "#2874a6",
    "not_observed": "#9e9e9e",
}
"""Colour of each verdict in the chart and the Excel sheet (colour-blind-safe enough: red/blue/green/grey)."""

SHEET_TITLE = "ICT check"

EVENT_COLUMNS: tuple[str, ...] = tuple(EventCheckRow.model_fields)
"""Columns of the main table (``ict_check.csv`` and the Excel sheet), in schema order."""


def _cell(value: Any) -> Any:
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}={v}" for k, v in value.items())
    return "" if value is None else value


def rows_to_csv(rows: Sequence[BaseModel], model: type[BaseModel]) -> str:
    """CSV text of pydantic rows: a header of field names, then one line per row."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    fields = list(model.model_fields)
    writer.writerow(fields)
    for r in rows:
        writer.writerow([_cell(getattr(r, f)) for f in fields])
    return buf.getvalue()


def write_ict_check_csv(result: IctCheckResult, out_dir: Path | str) -> dict[str, Path]:
    """Write the tables into ``out_dir``; return name -> path.

    ``ict_check.csv`` (one row per event and scheme: the table of the issue), ``ict_check_schemes.csv``
    (ICT cost per scheme stated vs measured), ``ict_check_links.csv`` (link loads),
    ``ict_check_message_types.csv`` (the mapping, with unmatched types having an empty ``event_id``).
    """
    from coordstudio.cba.ictcheck_data import LinkLoadRow, MessageTypeRow

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "events": (out / "ict_check.csv", rows_to_csv(result.events, EventCheckRow)),
        "schemes": (out / "ict_check_schemes.csv", rows_to_csv(result.schemes, SchemeIctDelta)),
        "links": (out / "ict_check_links.csv", rows_to_csv(result.links, LinkLoadRow)),
        "message_types": (
            out / "ict_check_message_types.csv",
            rows_to_csv(result.message_types, MessageTypeRow),
        ),
    }
    for path, text in files.values():
        atomic_write_text(path, text)
    return {name: path for name, (path, _) in files.items()}


# ------------------------------------------------------------------------------------------------ chart
def _ratio(measured: float | None, stated: float) -> float | None:
    if measured is None or measured <= 0 or stated <= 0:
        return None
    return measured / stated


def ict_check_figure(result: IctCheckResult) -> Figure:
    """The chart: per event and scheme, measured/stated message rate and p95 payload (log scale, coloured
    by verdict), and per scheme the ICT present value on stated and measured figures.

    Uses the object-oriented matplotlib API with the Agg canvas, so it works without a display and in a
    worker thread.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch
    from matplotlib.ticker import FuncFormatter, MaxNLocator, NullFormatter

    rows = result.events
    n = max(1, len(rows))
    height = max(6.0, 0.22 * n + 2.5)
    fig = Figure(figsize=(15, height), layout="constrained")
    FigureCanvasAgg(fig)
    gs = fig.add_gridspec(2, 3, width_ratios=[1.0, 1.0, 0.9], height_ratios=[1.0, 1.0])
    ax_rate = fig.add_subplot(gs[:, 0])
    ax_pay = fig.add_subplot(gs[:, 1], sharey=ax_rate)
    ax_pv = fig.add_subplot(gs[0, 2])
    ax_cnt = fig.add_subplot(gs[1, 2])

    labels = [f"{r.scheme}  {r.event_id}" for r in rows]
    ys = list(range(len(rows)))[::-1]
    colours = [VERDICT_COLOURS[r.verdict] for r in rows]
    tol = result.options.tolerance_frac
    for ax, values, title in (
        (ax_rate, [_ratio(r.measured_messages_per_h, r.stated_messages_per_h) for r in rows],
         "messages per hour: measured / stated"),
        (ax_pay, [_ratio(r.payload_p95_bytes, float(r.stated_payload_bytes)) for r in rows],
         "p95 payload: measured / stated"),
    ):
        shown = [v for v in values if v is not None]
        lo = min([1 - tol, *shown]) / 1.6
        hi = max([1 + tol, *shown]) * 1.6
        for y, v, c in zip(ys, values, colours, strict=True):
            if v is None:  # not observed: a cross on the axis of "as stated"
                ax.plot([1.0], [y], marker="x", color=c, markersize=7, linestyle="none")
            else:  # a bar from "as stated" (1) to the measured ratio
                ax.barh(y, v - 1.0, left=1.0, color=c, height=0.7)
                ax.plot([v], [y], marker="|", color="black", markersize=8, linestyle="none")
        ax.set_xscale("log")
        ax.set_xlim(lo, hi)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.axvline(1.0, color="black", linewidth=0.8)
        ax.axvspan(1 - tol, 1 + tol, color="#dddddd", zorder=0)
        ax.set_title(title, fontsize=11)
        ax.grid(axis="x", which="major", alpha=0.4)
        ax.set_xlabel("ratio, log scale")
    ax_rate.set_yticks(ys)
    ax_rate.set_yticklabels(labels, fontsize=8)
    ax_rate.set_ylim(-0.8, len(rows) - 0.2)
    ax_pay.tick_params(axis="y", labelleft=False)
    # separators between schemes
    for ax in (ax_rate, ax_pay):
        for i in range(1, len(rows)):
            if rows[i].scheme != rows[i - 1].scheme:
                ax.axhline(ys[i] + 0.5, color="#555555", linewidth=0.6, linestyle="--")

    schemes = result.schemes
    x = list(range(len(schemes)))
    w = 0.38
    top = max([1.0, *(s.stated_pv_eur for s in schemes), *(s.measured_pv_eur for s in schemes)])
    scale, unit = (1e6, "MEUR") if top >= 1e6 else (1e3, "kEUR") if top >= 1e3 else (1.0, "EUR")
    stated = [s.stated_pv_eur / scale for s in schemes]
    measured = [s.measured_pv_eur / scale for s in schemes]
    ax_pv.bar([i - w / 2 for i in x], stated, width=w, color="#7f8c8d", label="stated figures")
    ax_pv.bar([i + w / 2 for i in x], measured, width=w, color="#e67e22", label="measured figures")
    for i, s in enumerate(schemes):
        ax_pv.annotate(f"{s.delta_frac:+.1%}", (i + w / 2, measured[i]), ha="center", va="bottom", fontsize=8,
                       xytext=(0, 2), textcoords="offset points")
    ax_pv.set_xticks(x)
    ax_pv.set_xticklabels([s.scheme for s in schemes])
    ax_pv.set_ylabel(f"ICT present value, {unit}")
    ax_pv.set_title(f"ICT cost re-matched on measured traffic\n({result.horizon_years} a, "
                    f"{result.discount_rate:.1%})", fontsize=11)
    ax_pv.legend(fontsize=8, loc="upper left")
    ax_pv.margins(y=0.15)

    bottom = [0] * len(schemes)
    for verdict, colour in VERDICT_COLOURS.items():
        vals = [s.counts.get(verdict, 0) for s in schemes]
        ax_cnt.bar(x, vals, bottom=bottom, color=colour, label=verdict.replace("_", " "))
        bottom = [b + c for b, c in zip(bottom, vals, strict=True)]
    ax_cnt.set_xticks(x)
    ax_cnt.set_xticklabels([s.scheme for s in schemes])
    ax_cnt.set_ylabel("events, count")
    ax_cnt.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax_cnt.set_title("verdicts per scheme", fontsize=11)
    ax_cnt.margins(y=0.15)

    fig.legend(
        handles=[Patch(color=c, label=v.replace("_", " ")) for v, c in VERDICT_COLOURS.items()],
        loc="outside lower center", ncols=4, fontsize=9,
        title=f"verdict (grey band: within {tol:.0%} of stated; x: not observed in the simulation)",
        title_fontsize=9,
    )
    fig.suptitle(f"ICT check: SGAM events against the simulated messages ({result.study_title})", fontsize=12)
    return fig


def write_ict_check_chart(result: IctCheckResult, path: Path | str, dpi: int = 110) -> Path:
    """Render :func:`ict_check_figure` to a PNG, atomically."""
    fig = ict_check_figure(result)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return atomic_write_bytes(path, buf.getvalue())


# ------------------------------------------------------------------------------------------------ Excel
def write_ict_check_sheet(workbook: Workbook, result: IctCheckResult, title: str = SHEET_TITLE) -> Any:
    """Add one sheet with the ICT check to an openpyxl workbook (the Excel report) and return it.

    Layout: a title block, the per-scheme ICT cost stated vs measured (with the difference as a live
    formula), then the per-event table (header = field names, descriptions as cell comments, verdict cell
    coloured), frozen header and an auto-filter. An existing sheet of the same title is replaced.
    """
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    if title in workbook.sheetnames:
        del workbook[title]
    ws = workbook.create_sheet(title)
    bold = Font(bold=True)
    ws["A1"] = "ICT check: SGAM interaction events against the messages the simulation exchanged"
    ws["A1"].font = Font(bold=True, size=13)
    ws["A2"] = (
        f"Study: {result.study_title}; results: {result.results_db}; simulated {result.duration_h:g} h; "
        f"market interval {result.interval_min:g} min; tolerance {result.options.tolerance_frac:.0%}; "
        f"present values over {result.horizon_years} years at {result.discount_rate:.1%}."
    )
    r = 4
    head = ["scheme", "stated_pv_eur", "measured_pv_eur", "delta_pv_eur", "delta_frac", "stated_capex_eur",
            "measured_capex_eur", "under_specified", "over_specified", "consistent", "not_observed"]
    for j, h in enumerate(head, start=1):
        c = ws.cell(row=r, column=j, value=h)
        c.font = bold
    for s in result.schemes:
        r += 1
        ws.cell(row=r, column=1, value=s.scheme)
        ws.cell(row=r, column=2, value=round(s.stated_pv_eur, 2)).number_format = "#,##0"
        ws.cell(row=r, column=3, value=round(s.measured_pv_eur, 2)).number_format = "#,##0"
        ws.cell(row=r, column=4, value=f"=C{r}-B{r}").number_format = "#,##0"
        ws.cell(row=r, column=5, value=f"=IF(B{r}=0,0,D{r}/B{r})").number_format = "0.000%"
        ws.cell(row=r, column=6, value=round(s.stated_capex_eur, 2)).number_format = "#,##0"
        ws.cell(row=r, column=7, value=round(s.measured_capex_eur, 2)).number_format = "#,##0"
        for j, v in enumerate(("under_specified", "over_specified", "consistent", "not_observed"), start=8):
            ws.cell(row=r, column=j, value=s.counts.get(v, 0))
    r += 2
    header_row = r
    fields = EventCheckRow.model_fields
    for j, name in enumerate(EVENT_COLUMNS, start=1):
        c = ws.cell(row=r, column=j, value=name)
        c.font = bold
        c.comment = Comment(fields[name].description or name, "Coordination Studio")
    verdict_col = EVENT_COLUMNS.index("verdict") + 1
    for ev in result.events:
        r += 1
        for j, name in enumerate(EVENT_COLUMNS, start=1):
            value = _cell(getattr(ev, name))
            c = ws.cell(row=r, column=j, value=value)
            if isinstance(value, float):
                c.number_format = "0.0%" if name.endswith("_frac") else "#,##0.###"
        colour = VERDICT_COLOURS[ev.verdict].lstrip("#")
        ws.cell(row=r, column=verdict_col).fill = PatternFill("solid", fgColor="FF" + colour)
        ws.cell(row=r, column=verdict_col).font = Font(color="FFFFFFFF", bold=True)
    ws.freeze_panes = ws.cell(row=header_row + 1, column=3)
    if result.events:
        ws.auto_filter.ref = f"A{header_row}:{get_column_letter(len(EVENT_COLUMNS))}{r}"
    for j, name in enumerate(EVENT_COLUMNS, start=1):
        longest = max([len(name), *(len(str(_cell(getattr(ev, name)))) for ev in result.events)])
        width = 70 if name == "reasons" else max(10, min(26, longest + 2))
        ws.column_dimensions[get_column_letter(j)].width = width
    r += 2
    ws.cell(row=r, column=1, value="Message types with no interaction event").font = bold
    for t in result.unmatched_messages:
        r += 1
        ws.cell(row=r, column=1, value=t.scheme)
        ws.cell(row=r, column=2, value=f"{t.sender_role} -> {t.receiver_role}: {t.information_object}")
        ws.cell(row=r, column=3, value=t.n_messages)
    if not result.unmatched_messages:
        ws.cell(row=r + 1, column=1, value="(none)")
    return ws


# ------------------------------------------------------------------------------------ recommendations
def _eur(x: float) -> str:
    return f"{x:,.0f} EUR"


def ict_check_paragraph(result: IctCheckResult) -> str | None:
    """A paragraph for the recommendations draft, or ``None`` when no scheme's ICT cost changes materially.

    A scheme changes materially when its ICT present value on measured figures differs from the stated
    one by at least ``options.material_change_frac`` (or some event can no longer be served).
    """
    material = [s for s in result.schemes if s.material]
    if not material:
        return None
    parts: list[str] = []
    for s in material:
        links = [
            lk for lk in result.links
            if lk.scheme == s.scheme and lk.measured_technology_id != lk.technology_id
        ]
        moves = ", ".join(
            f"{lk.link_id} {lk.technology_id or '-'} -> {lk.measured_technology_id or 'no technology'}"
            for lk in links
        )
        under = [e.event_id for e in result.events if e.scheme == s.scheme and e.verdict == "under_specified"]
        over = [e.event_id for e in result.events if e.scheme == s.scheme and e.verdict == "over_specified"]
        text = (
            f"{s.scheme}: {_eur(s.stated_pv_eur)} on stated figures, {_eur(s.measured_pv_eur)} on measured "
            f"ones ({s.delta_frac:+.1%})"
        )
        if moves:
            text += f", because the matching changes {moves}"
        details = []
        if under:
            details.append(f"under-specified: {', '.join(under)}")
        if over:
            details.append(f"over-specified: {', '.join(over)}")
        if s.unserved_measured:
            details.append(f"no technology serves the measured traffic of {', '.join(s.unserved_measured)}")
        if details:
            text += f" ({'; '.join(details)})"
        parts.append(text)
    return (
        "The ICT requirements were checked against the messages the simulation actually exchanged "
        f"({result.duration_h:g} simulated hours per scheme). Re-matching the communication technologies on "
        "the measured message rates, payloads and peak data rates changes the ICT cost materially for "
        + ("this scheme: " if len(parts) == 1 else "these schemes: ")
        + "; ".join(parts)
        + ". Before relying on the cost-benefit ranking, the ICT architect should revise the requirements "
        "of the events listed, or confirm that the simulation understates the traffic they will carry."
    )
