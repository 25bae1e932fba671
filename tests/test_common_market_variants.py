"""Both common-market variants are schemes of the study, simulated and costed as themselves (issue 16 item 3).

``CM`` is the centralised common market (one market operator clears transmission and distribution grids
together, the market layer's ``CM`` architecture) and ``CM-D`` the decentralised one (each DSO's local market
platform passes its least-cost interface curve and needs to the common market, which clears them with the
transmission bids; the market layer's ``CM-D``). The user's path is run on the default study shortened to one
hour (one clearing) with CM as the CBA's reference: ``main.py new``, then ``main.py run --schemes CM,CM-D``
in a subprocess.

References:

* ICT CAPEX, by hand from the catalogue (``sgam/library/catalogue.yaml``) and the default study's endpoint
  counts (1 TSO, 3 DSOs, 8 aggregators): CM-D has, and CM has not, the local market platforms
  (C-LOC-MKT, 3 x 3,000,000 EUR), the TSO market's curve interface (C-CURVE, 1 x 500,000 EUR), the LAN from
  each DMS to its local platform (L-DMS-DSOMKT, lan, 3 x 1,000 EUR) and the aggregators' 4G links to the
  local platforms (L-AGG-DSOMKT, lte, 8 x 200 EUR); both have one operator-grade MPLS link per DSO (CM: DMS
  to the common platform for the grid model and state, CM-D: local platform to the common platform for the
  curves and needs, 3 x 5,000 EUR each, which cancel). CM-D's CAPEX minus CM's = 9,504,600 EUR.
* The clearing: with the same first state, CM-D equals CM up to the discretisation of the DSOs' curves
  (``simulation/market/clearing.py``; the market layer's own test holds it within 0.5 %), so the one
  clearing's objective agrees within 0.5 %.
* The ICT check: each variant's message log observes its own SGAM events (CM: bids to the common market and
  the DMS's state to it; CM-D: bids to the local platforms, curves, their activations, the DSOs' needs) and
  none of the other variant's.
"""

from __future__ import annotations

import csv
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

CAPEX_DIFFERENCE_EUR = 3 * 3_000_000 + 1 * 500_000 + 3 * 1_000 + 8 * 200
"""CM-D's ICT CAPEX minus CM's on the default study, by hand from the catalogue (module docstring)."""


def _main(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg")
    proc = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, f"{args}: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_the_registry_the_library_and_the_default_study_name_both_variants() -> None:
    from coordstudio.cba.study import default_study
    from coordstudio.sgam.library import default_model
    from coordstudio.sgam.model import SCHEME_IDS as LIBRARY_IDS
    from coordstudio.simulation.schemes import SCHEMES

    assert list(LIBRARY_IDS) == list(SCHEMES) == default_model().scheme_ids()
    assert {"CM", "CM-D"} <= set(SCHEMES)
    assert default_study().scenario.schemes == list(SCHEMES)  # the default study simulates both
    names = {s.id: s.name for s in default_model().schemes}
    assert "centralised" in names["CM"] and "decentralised" in names["CM-D"]


def test_both_variants_run_and_are_costed_as_themselves(tmp_path: Path) -> None:
    study = tmp_path / "study.yaml"
    _main("new", str(study), cwd=tmp_path)
    text = study.read_text(encoding="utf-8")
    assert text.count("\n    duration_h: 24.0\n") == 1
    text = text.replace("\n    duration_h: 24.0\n", "\n    duration_h: 1.0\n")
    # the evening hour, when F2 is congested and the local markets clear something (since the EVs start
    # the day charged as the evening left them, 00:00-01:00 has no congestion and no local activation)
    assert text.count("\n    start_h: 0.0\n") == 1
    text = text.replace("\n    start_h: 0.0\n", "\n    start_h: 18.0\n")
    assert text.count("\n  reference_scheme: CMS\n") == 1
    text = text.replace("\n  reference_scheme: CMS\n", "\n  reference_scheme: CM\n")
    study.write_text(text, encoding="utf-8")
    out = tmp_path / "run"
    _main("run", str(study), "--schemes", "CM,CM-D", "--days", "0", "--out", str(out), "--quiet",
          "--figures", "none", cwd=tmp_path)

    # the simulation: both complete their clearing under their own id
    kpis = {r["scheme"]: r for r in _csv(out / "kpis.csv")}
    assert list(kpis) == ["CM", "CM-D"]
    assert kpis["CM"]["failed_clearings"] == kpis["CM-D"]["failed_clearings"] == "0"
    with sqlite3.connect(out / "results.sqlite") as db:
        rows = db.execute(
            "SELECT r.scheme, k.status, k.objective_eur FROM clearings k JOIN runs r ON r.run_id = k.run_id"
        ).fetchall()
    obj = {scheme: objective for scheme, status, objective in rows}
    status = dict((s, st) for s, st, _ in rows)
    assert sorted(status) == ["CM", "CM-D"] and len(rows) == 2  # one clearing each
    assert status["CM"] == status["CM-D"] and status["CM"].startswith("optimal")  # solved (slack: priced)
    assert obj["CM-D"] == pytest.approx(obj["CM"], rel=5e-3)  # the curves' discretisation only

    # the ICT cost: distinct, and the difference is the hand sum of the items only CM-D has
    result = json.loads((out / "cba_result.json").read_text(encoding="utf-8"))
    cba = {s["scheme"]: s for s in result["schemes"]}
    assert cba["CM-D"]["ict_capex_eur"] - cba["CM"]["ict_capex_eur"] == pytest.approx(CAPEX_DIFFERENCE_EUR)

    # the ICT check: each variant's log observes its own design's events, not the other's
    observed: dict[str, set[str]] = {"CM": set(), "CM-D": set()}
    listed: dict[str, set[str]] = {"CM": set(), "CM-D": set()}
    for r in _csv(out / "ict_check.csv"):
        listed[r["scheme"]].add(r["event_id"])
        if r["verdict"] != "not_observed":
            observed[r["scheme"]].add(r["event_id"])
    assert {"CMS-BID", "CMS-RESULT", "CM-STATE", "DSO-SS-MEAS"} <= observed["CM"]
    assert not {"LOC-BID", "LOC-STATE", "CURVE", "CURVE-ACT", "CM-NEEDS"} & listed["CM"]
    assert {"LOC-BID", "LOC-RESULT", "LOC-STATE", "CURVE", "CURVE-ACT", "CM-NEEDS"} <= observed["CM-D"]
    assert not {"CM-STATE", "CM-GRID"} & listed["CM-D"]
    # what neither observes is what the simulation does not model (daily and hourly flows)
    unmodelled = {"E-METER", "E-HUB-AGG", "DSO-FORECAST", "CM-GRID"}
    assert listed["CM"] - observed["CM"] <= unmodelled and listed["CM-D"] - observed["CM-D"] <= unmodelled


def test_a_study_without_a_design_of_a_scheme_fails_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A study written before CM-D was added keeps its stored SGAM model (no CM-D): asking it to run CM-D
    fails at once, naming the command that adds the design, instead of after the simulation."""
    from coordstudio.cba.errors import StudyError
    from coordstudio.cba.study import default_study, run_study
    from coordstudio.sgam.model import SgamModel

    study = default_study()
    monkeypatch.setattr(SgamModel, "scheme_ids", lambda self: ["CMS", "LMS", "SBR", "CM", "IFM"])
    with pytest.raises(StudyError, match="no SGAM/ICT design of CM-D.*sgam import"):
        run_study(study, schemes=["CM", "CM-D"])
