"""``main.py simulate`` and ``main.py runs``: the simulation's own helper commands."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml
from sim_fixtures import small_spec

ROOT = Path(__file__).resolve().parents[2]


def test_simulate_command_writes_database_and_kpis(tmp_path: Path) -> None:
    study = tmp_path / "study.yaml"
    study.write_text(yaml.safe_dump({"scenario": small_spec(duration_h=1.0).model_dump(mode="json")}))
    out = tmp_path / "out"
    res = subprocess.run(
        [sys.executable, "main.py", "simulate", str(study), "--out", str(out), "--schemes", "CM"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert res.returncode == 0, res.stderr
    assert "aFRR MWh" in res.stdout and "\nCM " in res.stdout
    assert (out / "results.sqlite").exists()
    assert (out / "kpis.csv").read_text().splitlines()[1].startswith("CM,")
    runs = subprocess.run(
        [sys.executable, "main.py", "runs", str(out / "results.sqlite")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert runs.returncode == 0 and "completed" in runs.stdout


def test_simulate_command_names_a_bad_scenario(tmp_path: Path) -> None:
    study = tmp_path / "bad.yaml"
    data = {"scenario": small_spec().model_dump(mode="json")}
    data["scenario"]["device_groups"][0]["area"] = "nowhere"
    study.write_text(yaml.safe_dump(data))
    res = subprocess.run(
        [sys.executable, "main.py", "simulate", str(study), "--out", str(tmp_path / "o")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 2
    assert "F1-load" in res.stderr and "area" in res.stderr
