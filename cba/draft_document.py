"""A neutral document model (headings, paragraphs, bullets, tables) and its Markdown and DOCX renderers.

The recommendations draft (:mod:`cba.recommendations`) is written once into a :class:`Document` and
rendered twice, so the Markdown and the DOCX say the same. ``**bold**`` spans in a text become bold runs
in DOCX and stay as they are in Markdown.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = ["Block", "Document", "render_docx", "render_markdown"]


@dataclass
class Block:
    """One element of the document: heading, paragraph, bullet, warning or table."""

    kind: str
    text: str = ""
    level: int = 1
    headers: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)


@dataclass
class Document:
    """A flat list of blocks, rendered to Markdown or DOCX, and a footer (the provenance line)."""

    blocks: list[Block] = field(default_factory=list)
    footer: str = ""
    """Text at the foot of the document: after a rule at the end of the Markdown, in the page footer of
    the DOCX (every page). Empty: none."""

    def heading(self, text: str, level: int = 1) -> None:
        self.blocks.append(Block("heading", text, level))

    def para(self, text: str) -> None:
        self.blocks.append(Block("para", text))

    def bullet(self, text: str) -> None:
        self.blocks.append(Block("bullet", text))

    def warning(self, text: str) -> None:
        """A warning the reader must not miss (e.g. a scheme not assessed): a quoted, bold "Warning:" line
        in Markdown, a red paragraph in DOCX."""
        self.blocks.append(Block("warning", text))

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        self.blocks.append(Block("table", headers=list(headers), rows=[list(r) for r in rows]))


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|")


def render_markdown(doc: Document) -> str:
    """Markdown text of the document."""
    out: list[str] = []
    previous = ""
    for b in doc.blocks:
        if previous == "bullet" and b.kind != "bullet":
            out.append("")  # a list ends with a blank line
        if b.kind == "heading":
            out += ["#" * b.level + " " + b.text, ""]
        elif b.kind == "para":
            out += [b.text, ""]
        elif b.kind == "bullet":
            out.append("- " + b.text)
        elif b.kind == "warning":
            out += ["> **Warning:** " + b.text, ""]
        elif b.kind == "table":
            out.append("| " + " | ".join(_md_cell(h) for h in b.headers) + " |")
            out.append("|" + "|".join("---" for _ in b.headers) + "|")
            out += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in b.rows]
            out.append("")
        previous = b.kind
    if doc.footer:
        out = [*out, "", "---", "", doc.footer]
    return "\n".join(out).rstrip() + "\n"


def _add_runs(paragraph: object, text: str) -> None:
    """Add ``text`` with **bold** spans to a python-docx paragraph."""
    parts = text.split("**")
    for i, part in enumerate(parts):
        if part:
            run = paragraph.add_run(part)  # type: ignore[attr-defined]
            run.bold = i % 2 == 1


def render_docx(doc: Document) -> bytes:
    """DOCX bytes of the document (python-docx)."""
    import docx
    from docx.enum.section import WD_ORIENT
    from docx.shared import Cm, Pt, RGBColor

    d = docx.Document()
    d.styles["Normal"].font.size = Pt(10)
    section = d.sections[0]  # landscape A4: the tables have up to eight columns
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(29.7), Cm(21.0)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(1.8))
    for b in doc.blocks:
        if b.kind == "heading":
            d.add_heading(b.text, level=b.level)
        elif b.kind == "para":
            _add_runs(d.add_paragraph(), b.text)
        elif b.kind == "bullet":
            _add_runs(d.add_paragraph(style="List Bullet"), b.text)
        elif b.kind == "warning":
            run = d.add_paragraph().add_run("Warning: " + b.text.replace("**", ""))
            run.bold = True
            run.font.color.rgb = RGBColor(0x9C, 0x00, 0x06)
        elif b.kind == "table":
            table = d.add_table(rows=1 + len(b.rows), cols=len(b.headers))
            table.style = "Table Grid"
            for j, h in enumerate(b.headers):
                cell = table.cell(0, j)
                cell.text = ""
                cell.paragraphs[0].add_run(h).bold = True
            for i, row in enumerate(b.rows, start=1):
                for j, value in enumerate(row):
                    table.cell(i, j).text = value
            for table_row in table.rows:
                for cell in table_row.cells:
                    for paragraph in cell.paragraphs:
                        for run in paragraph.runs:
                            run.font.size = Pt(8.5)
            d.add_paragraph()
    if doc.footer:
        paragraph = section.footer.paragraphs[0]
        paragraph.text = doc.footer
        for run in paragraph.runs:
            run.font.size = Pt(7)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()
