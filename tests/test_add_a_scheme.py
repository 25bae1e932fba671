"""The walkthrough "How to add a sixth scheme" of docs/architecture.md, done to a copy of the source tree.

Each step of the walkthrough is one function below that edits the copied files as a newcomer would edit
them by hand (same file, same place, same text; the registry entry and the scheme's YAML file are the code
blocks of the walkthrough itself), and asserts that the place it edits is still there, so a refactoring
that moves it fails here, naming the step, until the walkthrough is updated. Then the copy's
own ``main.py`` is run in a subprocess (working directory = the copy, so the copy's packages are
imported, which the test checks once) through the user's path: ``new`` (a study with the new library),
``ict`` and ``run`` on a study shortened to one hour with ``--schemes CMS,TOY``.

The toy scheme TOY is CMS under another id: the registry entry names CMS's market architecture and
messages, and the SGAM library lists TOY wherever it lists CMS (step 4), plus one component of its own
(``C-TOY-OPS``, 1,000,000 EUR per TSO, in ``TOY.yaml``). Reference, by construction: TOY's ICT CAPEX is
CMS's plus 1,000,000 EUR per TSO and its OPEX CMS's plus 50,000 EUR/a per TSO; its simulated day is CMS's
(same seed, same clearing), so every KPI equals CMS's to the last digit; it completes its clearing (status
``optimal``) and appears in kpis.csv, in cba_result.json and in the ICT check. About 15 s (30 s on a
loaded machine).
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

from coordstudio.sgam.model import SCHEME_IDS

ROOT = Path(__file__).resolve().parents[1]

# ------------------------------------------------------------------------------------------------
# The walkthrough's steps (docs/architecture.md, "How to add a sixth scheme"), as text edits.

DOC = ROOT / "docs" / "architecture.md"
SECTION = "## How to add a sixth scheme"


def _doc_blocks() -> list[tuple[str, str]]:
    """The fenced code blocks (language, text) of the walkthrough's section of docs/architecture.md, in order:
    the registry entry (step 1) and the scheme's file (step 2) are taken from there, so the text a reader
    copies is the text this test runs."""
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index(SECTION) :]
    nxt = section.find("\n## ", len(SECTION))
    section = section if nxt < 0 else section[:nxt]
    blocks = []
    parts = section.split("```")
    for block in parts[1::2]:
        lang, _, body = block.partition("\n")
        blocks.append((lang.strip(), body))
    return blocks


TOY_CAPEX_EUR = 1_000_000.0
"""C-TOY-OPS's CAPEX in the walkthrough's TOY.yaml (one TSO)."""
TOY_OPEX_EUR_PER_YEAR = 50_000.0
"""Its OPEX."""


def _replace_once(path: Path, old: str, new: str, step: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{step}: the walkthrough's anchor is not (once) in {path.name}: {old!r}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def step_1_registry_entry(src: Path) -> None:
    """Step 1: one SchemeBehaviour at the end of the SCHEMES tuple in simulation/schemes.py."""
    lang, entry = _doc_blocks()[0]
    assert lang == "python" and entry.startswith('        SchemeBehaviour(\n            "TOY",'), entry
    anchor = '    )\n}\n"""Every scheme the platform simulates'
    _replace_once(src / "simulation" / "schemes.py", anchor, entry + anchor, "step 1")


def step_2_scheme_file(src: Path) -> None:
    """Step 2: the scheme's own file in the SGAM library."""
    path = src / "sgam" / "library" / "TOY.yaml"
    assert not path.exists()
    lang, text = _doc_blocks()[1]
    assert lang == "yaml" and text.startswith("schemes:\n  - id: TOY\n"), text
    path.write_text(text, encoding="utf-8")


def step_3_manifest(src: Path) -> None:
    """Step 3: the file listed under ``files:`` in library.yaml, before catalogue.yaml."""
    _replace_once(
        src / "sgam" / "library" / "library.yaml",
        "  - catalogue.yaml",
        "  - TOY.yaml\n  - catalogue.yaml",
        "step 3",
    )


def step_4_shared_objects(src: Path) -> None:
    """Step 4: TOY added to the ``schemes:`` list of every shared event, use case and component it needs
    (here: everything CMS needs, i.e. every list that names CMS, which is always first in those lists)."""
    library = src / "sgam" / "library"
    edited = 0
    for name in ("common.yaml", *(f"{s}.yaml" for s in SCHEME_IDS), "catalogue.yaml"):
        path = library / name
        text = path.read_text(encoding="utf-8")
        edited += text.count("schemes: [CMS")
        path.write_text(text.replace("schemes: [CMS", "schemes: [CMS, TOY"), encoding="utf-8")
    assert edited >= 10, f"step 4: only {edited} shared lists name CMS"


def step_5_sgam_scheme_ids(src: Path) -> None:
    """Step 5: the id appended to ``SCHEME_IDS`` in sgam/model.py, the default library's schemes (sgam may not
    import the registry; the test below holds the two equal)."""
    ids = ", ".join(f'"{s}"' for s in SCHEME_IDS)
    _replace_once(
        src / "sgam" / "model.py",
        f"SCHEME_IDS: tuple[str, ...] = ({ids})",
        f'SCHEME_IDS: tuple[str, ...] = ({ids}, "TOY")',
        "step 5",
    )


def step_6_colour(src: Path) -> None:
    """Step 6 (optional): the scheme's colour in cba/figure_style.py SCHEME_COLOURS (reports, figure files
    and GUI)."""
    _replace_once(
        src / "cba" / "figure_style.py", '"IFM": "#D55E00"}', '"IFM": "#D55E00", "TOY": "#56B4E9"}', "step 6"
    )


def step_7_draft_name(src: Path) -> None:
    """Step 7 (optional): the scheme's name in the policy draft, cba/recommendations.py SCHEME_NAMES."""
    _replace_once(
        src / "cba" / "recommendations.py",
        '    "IFM": "integrated flexibility market",\n}',
        '    "IFM": "integrated flexibility market",\n    "TOY": "toy scheme",\n}',
        "step 7",
    )


WALKTHROUGH = (
    step_1_registry_entry,
    step_2_scheme_file,
    step_3_manifest,
    step_4_shared_objects,
    step_5_sgam_scheme_ids,
    step_6_colour,
    step_7_draft_name,
)

# ------------------------------------------------------------------------------------------------


_SAME_SCHEMES = """
from coordstudio.sgam.library import default_model
from coordstudio.sgam.model import SCHEME_IDS as LIBRARY_IDS
from coordstudio.simulation.schemes import SCHEMES
assert default_model().scheme_ids() == list(LIBRARY_IDS) == list(SCHEMES), (LIBRARY_IDS, list(SCHEMES))
"""


def test_the_registry_and_the_default_library_name_the_same_schemes() -> None:
    """Every simulated scheme has an SGAM/ICT design and every designed scheme is simulated, in one order
    (the copy in the walkthrough's test runs the same check as ``_SAME_SCHEMES``)."""
    from coordstudio.sgam.library import default_model
    from coordstudio.sgam.model import SCHEME_IDS as LIBRARY_IDS
    from coordstudio.simulation.schemes import SCHEMES

    assert default_model().scheme_ids() == list(LIBRARY_IDS) == list(SCHEMES)


def _copy_sources(dest: Path) -> Path:
    """main.py and the three packages the command line runs (not gui/, tests/, .venv)."""
    dest.mkdir()
    shutil.copy2(ROOT / "main.py", dest / "main.py")
    # coordstudio/ and its links to the folders beside it: the copy imports itself as coordstudio.*
    shutil.copytree(ROOT / "coordstudio", dest / "coordstudio", symlinks=True,
                    ignore=shutil.ignore_patterns("__pycache__"))
    for package in ("sgam", "simulation", "cba"):
        shutil.copytree(ROOT / package, dest / package, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def _run(src: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # the copy, not the checkout
    env["MPLBACKEND"] = "Agg"
    proc = subprocess.run(
        [sys.executable, *args], cwd=src, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert proc.returncode == 0, f"{args}: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


def _csv_rows(path: Path) -> dict[str, dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return {row["scheme"]: row for row in csv.DictReader(f)}


def test_a_sixth_scheme_added_by_the_walkthrough_runs_through_ict_simulation_and_cba(tmp_path: Path) -> None:
    src = _copy_sources(tmp_path / "src")
    for step in WALKTHROUGH:
        step(src)

    imported = _run(
        src, "-c", "from coordstudio import sgam, simulation, cba; print(sgam.__file__, simulation.__file__, cba.__file__)"
    )
    for path in imported.stdout.split():
        assert Path(path).resolve().is_relative_to(src.resolve()), f"imported {path}, not the copy in {src}"
    _run(src, "-c", _SAME_SCHEMES)

    # A new study carries the library with TOY; shortened to one hour (one clearing) of one day (--days 0).
    study = tmp_path / "study.yaml"
    _run(src, "main.py", "new", str(study))
    text = study.read_text(encoding="utf-8")
    assert text.count("\n    duration_h: 24.0\n") == 1
    study.write_text(text.replace("\n    duration_h: 24.0\n", "\n    duration_h: 1.0\n"), encoding="utf-8")

    # ICT cost: TOY has a line, CMS's cost plus its own component.
    _run(src, "main.py", "ict", str(study), "--out", str(tmp_path / "ict"), "--no-figures")
    ict = _csv_rows(tmp_path / "ict" / "ict_summary.csv")
    assert list(ict) == [*SCHEME_IDS, "TOY"]
    assert float(ict["TOY"]["capex_eur"]) == float(ict["CMS"]["capex_eur"]) + TOY_CAPEX_EUR
    assert (
        abs(
            float(ict["TOY"]["opex_eur_per_year"])
            - float(ict["CMS"]["opex_eur_per_year"])
            - TOY_OPEX_EUR_PER_YEAR
        )
        < 0.01
    )
    assert ict["TOY"]["unserved_events"] == "0"

    # Simulation, ICT check and CBA of CMS and TOY.
    out = tmp_path / "run"
    _run(src, "main.py", "run", str(study), "--schemes", "CMS,TOY", "--days", "0", "--out", str(out),
         "--quiet", "--figures", "none")
    kpis = _csv_rows(out / "kpis.csv")
    assert list(kpis) == ["CMS", "TOY"]
    assert kpis["TOY"]["failed_clearings"] == "0"
    same_day = {k: v for k, v in kpis["TOY"].items() if k != "scheme"}
    assert same_day == {k: v for k, v in kpis["CMS"].items() if k != "scheme"}  # CMS under another id

    with sqlite3.connect(out / "results.sqlite") as db:
        clearings = db.execute(
            "SELECT r.status, r.n_clearings, k.status FROM clearings k JOIN runs r ON r.run_id = k.run_id"
            " WHERE r.scheme = 'TOY'"
        ).fetchall()
    assert clearings == [("completed", 1, "optimal")]

    cba = json.loads((out / "cba_result.json").read_text(encoding="utf-8"))
    toy = next(s for s in cba["schemes"] if s["scheme"] == "TOY")
    assert sorted(cba["ranking"]) == ["CMS", "TOY"]
    assert toy["ict_capex_eur"] == float(ict["TOY"]["capex_eur"])
    assert "TOY (toy scheme)" in (out / "recommendations.md").read_text(encoding="utf-8")
    assert "TOY" in _csv_rows(out / "ict_check_schemes.csv")
