"""Fault tests of ``run``: kill -9 and Ctrl-C of a running study, then ``cba`` and ``run --resume``
(issue 18, section 2), and the refusal of a results database written for another study.

``main.py run`` runs in a subprocess leading its own process group (as a shell job does); the group is
scanned in ``/proc`` afterwards: no scheme worker and no manager process may outlive the parent.
Reference for the resumed run: the same study run without interruption, whose ``kpis.csv`` must equal
the resumed one byte for byte (the schemes reused from the database and those simulated again).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

import coordstudio.main as entry
from coordstudio.cba.fingerprint import study_fingerprint
from coordstudio.cba.reappraisal import load_kpis
from coordstudio.cba.study import Study, default_study, run_study, save_study
from coordstudio.simulation.db import ResultsWriter, read_runs, spec_json_of
from coordstudio.simulation.errors import ResultsDatabaseError

pytestmark = pytest.mark.serial  # timing or signals: run alone after the parallel pass (Makefile)

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "simulation"))
from sim_fixtures import small_spec  # noqa: E402


def small_study(hours: float = 8.0) -> Study:
    """The default study's SGAM model and CBA on the small scenario (two schemes, ``hours`` of 15-min
    steps, the first database batch after 2 h): a run of a few seconds per scheme."""
    study = default_study()
    spec = small_spec(duration_h=hours, start_h=6.0).model_copy(update={"schemes": ["CMS", "CM"],
                                                                       "name": "default"})
    cba = study.cba.model_copy(update={"monte_carlo_samples": 500})  # the outputs in a second, not five
    return study.model_copy(update={"scenario": spec, "cba": cba})


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The study file and the folder of its uninterrupted run."""
    base = tmp_path_factory.mktemp("reference")
    study_path = base / "study.yaml"
    save_study(small_study(), study_path)
    run_study(small_study(), None, out_dir=base / "out")
    return study_path, base / "out"


def _start_run(study_path: Path, out: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), "run", str(study_path), "--out", str(out), "--quiet", "--figures",
         "none"],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, start_new_session=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def _wait_until_simulating(proc: subprocess.Popen[str], db: Path, timeout_s: float = 120.0) -> None:
    """Until a scheme has committed its first batch of steps (the run is mid-simulation)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"the run ended early: {proc.communicate()}"
        if db.exists():
            try:
                with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
                    n = conn.execute("SELECT max(n_clearings) FROM runs WHERE status = 'running'").fetchone()
                if n and n[0]:
                    return
            except sqlite3.Error:
                pass
        time.sleep(0.2)
    raise AssertionError("the run never reached the simulation")


def _group_members(pgid: int) -> list[str]:
    """Processes of the process group ``pgid`` (from /proc: pid and command name)."""
    found = []
    for entry_name in os.listdir("/proc"):
        if not entry_name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry_name}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            found.append(f"{entry_name} {stat[: stat.rfind(')') + 1]}")
    return found


def _no_orphans(pgid: int) -> None:
    deadline = time.monotonic() + 10
    while _group_members(pgid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _group_members(pgid) == []


def _resume_matches_reference(
    study_path: Path, out: Path, ref_out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert entry.main(["run", str(study_path), "--resume", str(out), "--quiet", "--figures", "none"]) == 0
    capsys.readouterr()
    assert (out / "kpis.csv").read_text() == (ref_out / "kpis.csv").read_text()
    runs = read_runs(f"sqlite:///{out / 'results.sqlite'}")
    latest = {r["scheme"]: r for r in runs}
    assert {s: r["status"] for s, r in latest.items()} == {"CMS": "completed", "CM": "completed"}
    assert all(r["status"] in ("completed", "cancelled") for r in runs)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the orphan check reads /proc (Linux only)")
def test_kill_9_leaves_no_orphan_cba_refuses_and_resume_completes(
    reference: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    study_path, ref_out = reference
    out = tmp_path / "out"
    proc = _start_run(study_path, out)
    try:
        _wait_until_simulating(proc, out / "results.sqlite")
        os.kill(proc.pid, signal.SIGKILL)  # the parent only, as the OOM killer or `kill -9 PID` does
        proc.communicate(timeout=60)
        _no_orphans(proc.pid)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    # cba and ict-check refuse the incomplete database, naming the runs, with one line and exit 2
    db = str(out / "results.sqlite")
    for argv in (
        ["cba", str(study_path), "--results", db, "--out", str(tmp_path / "cba")],
        ["ict-check", str(study_path), "--results", db, "--out", str(tmp_path / "ic")],
    ):
        assert entry.main(argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1, err
        assert "results.sqlite: incomplete run(s) 1 (CMS) interrupted" in err[0]
        assert "2 (CM) interrupted" in err[0] and f"--resume {out}" in err[0]
    assert not (tmp_path / "cba").exists() or not any((tmp_path / "cba").iterdir())
    _resume_matches_reference(study_path, out, ref_out, capsys)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the orphan check reads /proc (Linux only)")
def test_ctrl_c_cancels_cleanly_and_resume_completes(
    reference: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    study_path, ref_out = reference
    out = tmp_path / "out"
    proc = _start_run(study_path, out)
    try:
        _wait_until_simulating(proc, out / "results.sqlite")
        os.killpg(proc.pid, signal.SIGINT)  # a Ctrl-C in the terminal reaches the whole group
        _, stderr = proc.communicate(timeout=90)
        _no_orphans(proc.pid)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130
    err = stderr.strip().splitlines()
    assert len(err) == 1 and "cancelled" in err[0] and f"--resume {out}" in err[0], stderr
    runs = read_runs(f"sqlite:///{out / 'results.sqlite'}")
    assert [(r["scheme"], r["status"], r["interrupted"]) for r in runs] == [
        ("CMS", "cancelled", False), ("CM", "cancelled", False)
    ]
    _resume_matches_reference(study_path, out, ref_out, capsys)


# ---------------------------------------------------------------------------------- another study


def _stored(tmp_path: Path, study: Study) -> str:
    """A results database holding one completed CMS run of ``study`` (KPIs of its own, no simulation)."""
    from cba_fixtures import make_kpis

    url = f"sqlite:///{tmp_path / 'results.sqlite'}"
    spec_json = spec_json_of(study.scenario)
    prints = study_fingerprint(study)
    w = ResultsWriter(url, "CMS", prints.scenario, "default", spec_json, fingerprints=prints.as_mapping())
    kpis = make_kpis()[0].model_copy(update={"day": "default", "activation_cost_eur": 1234.5})
    assert kpis.scheme == "CMS"
    w.finish("completed", 4, kpis.model_dump_json())
    return url


def test_a_database_of_another_study_is_refused_naming_the_section(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    written = small_study(hours=2.0)
    url = _stored(tmp_path, written)
    other = small_study(hours=3.0)  # another scenario
    study_path = tmp_path / "other.yaml"
    save_study(other, study_path)
    db = str(tmp_path / "results.sqlite")
    argv = ["cba", str(study_path), "--results", db, "--out", str(tmp_path / "o")]
    assert entry.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    mine, theirs = study_fingerprint(other), study_fingerprint(written)
    assert f"results.sqlite: written for another study: study fingerprint {theirs.study[:12]}.." in err[0]
    assert "(scenario/cba/sgam differ: scenario)" in err[0] and mine.study[:12] in err[0]
    # edited CBA parameters are what `cba` is for: the scenario is the same, the KPIs are read
    edited = written.model_copy(update={"cba": written.cba.model_copy(update={"discount_rate": 0.07})})
    assert study_fingerprint(edited).differing_sections(written_prints := theirs.as_mapping()) == ["cba"]
    assert written_prints["study"] != study_fingerprint(edited).study
    (kpis,) = load_kpis(url, "default", edited)
    assert kpis.activation_cost_eur == 1234.5
    with pytest.raises(ResultsDatabaseError, match=r"differ: scenario, cba\)"):
        load_kpis(url, "default", other.model_copy(update={"cba": edited.cba}))
