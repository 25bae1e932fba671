"""The draft says whether the simulated days sample the year's most loaded evenings (cba.stress_coverage).

The full-year run of the default study found lines tripping on six evenings, none of them among its
representative days (docs/cba.md, "The full year"); a study's draft must say when its days cannot see
such events. Reference: the stress stratum computed here straight from SimBench's year (the 5 % of its
366 days with the highest mean load 17:00-21:00, 18 days), not through the selection code.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from coordstudio.cba.study_file import default_study
from coordstudio.simulation.scenario.representative_days import select_representative_days

ROOT = Path(__file__).resolve().parents[2]


def _stratum() -> set[int]:
    import simbench as sb

    spec = default_study().scenario
    prof = sb.get_simbench_net(spec.profiles.simbench_code).profiles
    load = prof["load"][f"{spec.profiles.load_profile}_pload"].to_numpy(float)[: 366 * 96].reshape(366, 96)
    return set((np.argsort(-load[:, 68:84].mean(axis=1), kind="stable")[:18] + 1).tolist())


def _draft(tmp_path: Path, study: Path, stress_days: int) -> str:
    """``coordstudio cba`` of ``study`` on hand-made KPIs of its days (every scheme alike), as a user
    re-appraises a run; returns the draft's text."""
    spec = default_study().scenario
    days = select_representative_days(spec, stress_days=stress_days)
    kpis = tmp_path / "kpis.csv"
    with kpis.open("w", newline="") as fh:
        w = csv.writer(fh)
        fields = ["scheme", "day", "duration_h", "activation_cost_eur", "afrr_energy_mwh", "afrr_cost_eur",
                  "congestion_hours_h", "overload_energy_mwh", "voltage_violation_hours_h",
                  "curtailed_res_mwh", "losses_mwh", "slack_energy_mwh", "slack_cost_eur"]
        w.writerow(fields)
        for scheme in spec.schemes:
            for d in days:
                w.writerow([scheme, d.day_id, 24.0, 1000.0, 10.0, 500.0, 1.0, 1.0, 2.0, 0.0, 3.0, 0.0, 0.0])
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, str(ROOT / "main.py"), "cba", str(study), "--results", str(kpis),
                           "--out", str(out), "--samples", "50"], env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    return " ".join((out / "recommendations.md").read_text(encoding="utf-8").split())


def test_default_studys_draft_says_its_days_miss_the_stress_stratum(tmp_path: Path) -> None:
    """The default study's 8 days: none is among the 18 stratum days (checked against SimBench here), and
    the draft's limitations say so, with the 18 and the 8."""
    days = select_representative_days(default_study().scenario)
    assert not {d.day_of_year for d in days} & _stratum()
    text = _draft(tmp_path, ROOT / "cba" / "data" / "default_study.yaml", 0)
    assert ("None of the 8 simulated days is among the year's 18 days of the highest mean load 17:00-21:00 "
            "(the stress stratum, 5% of the year)") in text
    assert "protection trips" in text


def test_a_study_drawing_stress_days_says_how_it_weights_them(tmp_path: Path) -> None:
    """An overlay with ``profiles.stress_days: 2``: two of its 8 days are stratum days, each standing for 9
    of SimBench's 366 days scaled to 365 (17.95 d/a together, "18" as the draft rounds), and the draft
    says so instead of the missing-stratum sentence."""
    overlay = tmp_path / "stress.yaml"
    overlay.write_text(f"schema_version: 1\nextends: {ROOT / 'cba' / 'data' / 'default_study.yaml'}\n"
                       "scenario:\n  profiles:\n    stress_days: 2\n", encoding="utf-8")
    days = select_representative_days(default_study().scenario, stress_days=2)
    assert len({d.day_of_year for d in days} & _stratum()) == 2
    text = _draft(tmp_path, overlay, 2)
    assert ("2 of the 8 simulated days are drawn from the year's 18 days of the highest mean load "
            "17:00-21:00 (the stress stratum, 5% of the year), standing for 18 d/a together") in text
    assert "None of the" not in text


def test_stress_days_not_below_the_representative_days_is_refused_by_validate_and_run(tmp_path: Path) -> None:
    """``stress_days: 8`` with the default study's 8 representative days: ``coordstudio validate`` and
    ``coordstudio run`` exit 2 with one line naming the file, the section and both fields; run writes
    nothing."""
    overlay = tmp_path / "bad.yaml"
    overlay.write_text("schema_version: 1\nextends: default\nscenario:\n  profiles:\n    stress_days: 8\n",
                       encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for args in (["validate", str(overlay)], ["run", str(overlay), "--out", str(tmp_path / "out")]):
        proc = subprocess.run([sys.executable, str(ROOT / "main.py"), *args], env=env, capture_output=True,
                              text=True, timeout=120)
        assert proc.returncode == 2
        assert proc.stderr.strip() == (f"error: {overlay}: scenario.profiles: stress_days 8 must be below "
                                       "representative_days 8")
    assert not (tmp_path / "out").exists()


def test_run_days_not_above_the_studys_stress_days_is_refused(tmp_path: Path) -> None:
    """``run --days 2`` on a study drawing 2 stress days: exit 2, one line naming the option and the
    study's field, nothing written (the study itself is valid: 8 days, 2 of them stress days)."""
    overlay = tmp_path / "stress.yaml"
    overlay.write_text("schema_version: 1\nextends: default\nscenario:\n  profiles:\n    stress_days: 2\n",
                       encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, str(ROOT / "main.py"), "run", str(overlay), "--days", "2", "--out",
                           str(tmp_path / "out")], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("error: --days 2: must exceed the study's scenario.profiles.stress_days "
                                   "(2), the days drawn from the stress stratum")
    assert not (tmp_path / "out").exists()
