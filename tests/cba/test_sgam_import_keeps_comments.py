"""``sgam import`` edits the study file's own text: comments, key order and layout survive an Excel round
trip (issue 19, section 4), and it writes a new file unless ``--in-place`` is given.

The study file is the tool's default study with a user's touches: comments (on their own lines and after
values, one inside the technologies list), and keys of the SGAM section in an order of the user's own
(``name`` before ``schema_version``, neither the model's nor alphabetical). The oracle is the file itself:
an import of the unedited workbook must give the same bytes, an import after one cell changed must differ
in exactly that one line, and the changed file must load as the tool loads any study.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import openpyxl
import pytest

from coordstudio import main
from coordstudio.cba.study_file import load_study

HEADER = "sgam:\n  schema_version: 1\n  name: Default TSO-DSO coordination SGAM/ICT model\n"
MINE = (
    "sgam:  # the ICT architects' part\n"
    "  name: Default TSO-DSO coordination SGAM/ICT model  # shown in the GUI's title\n"
    "  # the SGAM section's own format version\n"
    "  schema_version: 1\n"
)

TECH = "  technologies:\n  # costs from the 2026 tender\n  - id: fibre  # dedicated\n"


@pytest.fixture(scope="module")
def commented(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A commented, reordered default study and the workbook `sgam export` writes from it."""
    folder = tmp_path_factory.mktemp("sgam-import")
    study = folder / "study.yaml"
    assert main.main(["new", str(study)]) == 0
    text = study.read_text(encoding="utf-8")
    assert text.count(HEADER) == 1
    text = text.replace(HEADER, MINE)
    anchor = "  technologies:\n  - id: fibre\n"
    assert text.count(anchor) == 1
    text = text.replace(anchor, TECH)
    study.write_text(text, encoding="utf-8")
    workbook = folder / "model.xlsx"
    assert main.main(["sgam", "export", str(study), str(workbook)]) == 0
    return study, workbook


def _changed_lines(a: str, b: str) -> list[str]:
    return [line for line in difflib.unified_diff(a.splitlines(), b.splitlines(), lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def test_unchanged_workbook_gives_the_same_bytes_in_a_new_file(commented: tuple[Path, Path]) -> None:
    study, workbook = commented
    before = study.read_bytes()
    assert main.main(["sgam", "import", str(study), str(workbook)]) == 0
    written = study.with_name("study-imported.yaml")
    assert written.read_bytes() == before
    assert study.read_bytes() == before  # the study it read is untouched without --in-place
    # a second import does not overwrite the first one's file unless asked
    assert main.main(["sgam", "import", str(study), str(workbook)]) == 2
    assert main.main(["sgam", "import", str(study), str(workbook), "--force"]) == 0


def test_one_cell_changed_changes_one_line(commented: tuple[Path, Path], tmp_path: Path) -> None:
    study, workbook = commented
    book = openpyxl.load_workbook(workbook)
    sheet = book["technologies"]
    header = [cell.value for cell in sheet[1]]
    assert sheet.cell(row=2, column=1).value == "fibre"
    sheet.cell(row=2, column=header.index("capex_eur_per_endpoint") + 1, value=2500.5)
    edited = tmp_path / "edited.xlsx"
    book.save(edited)
    target = tmp_path / "new.yaml"
    assert main.main(["sgam", "import", str(study), str(edited), "--out", str(target)]) == 0
    before, after = study.read_text(encoding="utf-8"), target.read_text(encoding="utf-8")
    assert _changed_lines(before, after) == [
        "-    capex_eur_per_endpoint: 2000.0",
        "+    capex_eur_per_endpoint: 2500.5",
    ]
    assert MINE in after and TECH in after
    assert load_study(target).sgam.get("technologies", "fibre").capex_eur_per_endpoint == 2500.5


def test_a_row_added_rewrites_only_its_table_and_in_place_updates_the_study(
    commented: tuple[Path, Path], tmp_path: Path
) -> None:
    study, workbook = commented
    book = openpyxl.load_workbook(workbook)
    sheet = book["endpoint_counts"]
    first = [cell.value for cell in sheet[2]]
    sheet.append([f"{first[0]}_2", *first[1:]])
    edited = tmp_path / "added.xlsx"
    book.save(edited)
    copy = tmp_path / "study.yaml"
    copy.write_bytes(study.read_bytes())
    before = copy.read_text(encoding="utf-8")
    assert main.main(["sgam", "import", str(copy), str(edited), "--in-place"]) == 0
    after = copy.read_text(encoding="utf-8")
    changed = _changed_lines(before, after)
    assert changed and all(line.startswith("+") for line in changed), changed
    assert f"+  - id: {first[0]}_2" in changed
    assert MINE in after
    assert len(load_study(copy).sgam.endpoint_counts) == sheet.max_row - 1
