"""Sweeps on Dask (issue 8): a LocalCluster gives the serial results; failures retried once and reported;
resume without recomputing finished runs."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from coordstudio.simulation.errors import ScenarioError
from coordstudio.simulation.scenario import ProfileSpec, ScenarioSpec, default_scenario_spec
from coordstudio.simulation.sweep import SweepDay, SweepVariant, plan_sweep, run_sweep

FAKE = "scale_fixtures:fake_simulate"
DAYS = [SweepDay(day_id="d1", day_of_year=20), SweepDay(day_id="d2", day_of_year=200)]
VARIANTS = [
    SweepVariant(variant_id="base"),
    SweepVariant(variant_id="fe", overrides={"imbalance.forecast_error_std_frac": 0.5}),
]


def _tiny_spec() -> ScenarioSpec:
    """The default scenario cut to one hour with synthetic profiles (a run takes about a second)."""
    spec = default_scenario_spec()
    return spec.model_copy(
        update={
            "timing": spec.timing.model_copy(update={"duration_h": 1.0}),
            "profiles": ProfileSpec(source="synthetic"),
        }
    )


def test_plan_is_the_full_grid_with_overrides_applied() -> None:
    """3 schemes x 2 days x 2 variants = 12 tasks; a variant's override and a day's day_of_year land in
    the task's spec; a bad path names the variant and field."""
    tasks = plan_sweep(_tiny_spec(), ["CMS", "CM", "IFM"], DAYS, VARIANTS)
    assert len(tasks) == 12
    t = next(t for t in tasks if t.key == "CM|d2|fe")
    spec = ScenarioSpec.model_validate_json(t.spec_json)
    assert spec.imbalance.forecast_error_std_frac == 0.5
    assert spec.profiles.day_of_year == 200 and spec.name == "d2"
    with pytest.raises(ScenarioError, match="variant 'bad'.*'imbalance.nope'"):
        plan_sweep(
            _tiny_spec(), ["CM"], None, [SweepVariant(variant_id="bad", overrides={"imbalance.nope": 1})]
        )


def test_localcluster_equals_serial_on_the_platform(tmp_path: Path) -> None:
    """The real platform, 2 schemes x 2 days of one hour: the 2-worker LocalCluster sweep gives the same
    KPIs as the serial sweep (reference: the serial run; relative tolerance 1e-9)."""
    spec = _tiny_spec()
    serial = run_sweep(spec, ["CMS", "CM"], DAYS, None, db_url=None, workers=0)
    dask = run_sweep(
        spec, ["CMS", "CM"], DAYS, None, db_url=f"sqlite:///{tmp_path / 'sweep.sqlite'}", workers=2
    )
    assert not serial.failed and not dask.failed
    assert set(serial.kpis) == set(dask.kpis) == {f"{s}|{d.day_id}|base" for s in ("CMS", "CM") for d in DAYS}
    for key, k in serial.kpis.items():
        other = dask.kpis[key]
        for name in (
            "activation_cost_eur",
            "afrr_cost_eur",
            "afrr_energy_mwh",
            "losses_mwh",
            "congestion_hours_h",
        ):
            a, b = getattr(k, name), getattr(other, name)
            assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9), (key, name, a, b)
    from coordstudio.simulation.db import read_runs

    runs = read_runs(f"sqlite:///{tmp_path / 'sweep.sqlite'}")
    assert sorted((r["scheme"], r["status"]) for r in runs) == sorted(
        [("CMS", "completed"), ("CM", "completed")] * 2
    )


def test_failures_retried_once_and_reported_on_dask(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a 2-worker LocalCluster: LMS fails once then succeeds (retried, completed); SBR fails twice
    (reported with its error after 2 attempts); CM completes; the sweep itself finishes."""
    monkeypatch.setenv("SWEEP_TEST_DIR", str(tmp_path))
    res = run_sweep(_tiny_spec(), ["CM", "LMS", "SBR"], DAYS[:1], None, db_url=None, workers=2, runner=FAKE)
    assert set(res.kpis) == {"CM|d1|base", "LMS|d1|base"}
    assert set(res.failed) == {"SBR|d1|base"} and "always fails" in res.failed["SBR|d1|base"]
    assert sorted(res.retried) == ["LMS|d1|base", "SBR|d1|base"]
    assert res.kpis["LMS|d1|base"].activation_cost_eur == pytest.approx(1000 * 20 + 20190601 % 1000 + 25.0)


def test_resume_skips_finished_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Serial sweep of 2 schemes x 2 days x 2 variants into SQLite (8 runs); the same sweep again runs
    nothing and returns the stored KPIs; a failed task is re-run on resume."""
    monkeypatch.setenv("SWEEP_TEST_DIR", str(tmp_path))
    from scale_fixtures import n_calls

    db = f"sqlite:///{tmp_path / 'r.sqlite'}"
    first = run_sweep(_tiny_spec(), ["CM", "SBR"], DAYS, VARIANTS, db_url=db, workers=0, runner=FAKE)
    assert len(first.kpis) == 4 and len(first.failed) == 4
    calls = n_calls(tmp_path)
    assert calls == 4 + 4 * 2  # CM once per task, SBR twice per task
    second = run_sweep(_tiny_spec(), ["CM", "SBR"], DAYS, VARIANTS, db_url=db, workers=0, runner=FAKE)
    assert sorted(second.resumed) == sorted(first.kpis)
    assert n_calls(tmp_path) == calls + 4 * 2  # only the failed SBR tasks ran again
    for key, k in first.kpis.items():
        assert second.kpis[key].activation_cost_eur == k.activation_cost_eur


def test_sweep_cli_rejects_bad_input_with_exit_code_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`sweep STUDY --over weeks` and a missing study file: one line on stderr naming the option or the
    file, exit code 2 (main.py's bad-input code)."""
    from coordstudio.cba.study import default_study, save_study
    from coordstudio.main import main

    save_study(default_study(), tmp_path / "s.yaml")
    assert main(["sweep", str(tmp_path / "s.yaml"), "--over", "weeks", "--out", str(tmp_path / "o")]) == 2
    assert "--over: unknown dimension(s) ['weeks']" in capsys.readouterr().err
    assert main(["sweep", str(tmp_path / "missing.yaml"), "--out", str(tmp_path / "o")]) == 2
    assert "missing.yaml" in capsys.readouterr().err


def test_sweep_on_dask_into_postgresql_resumes(tmp_path: Path, postgres_url: str) -> None:
    """A shared PostgreSQL results database: 2 schemes x 1 day of the real platform on a 2-worker
    LocalCluster write their runs there (2 completed runs), the KPIs equal a serial SQLite sweep's
    (relative 1e-9), and the same sweep again resumes both runs from PostgreSQL without running them."""
    from coordstudio.simulation.db import read_runs

    url = postgres_url
    spec = _tiny_spec()
    ref = run_sweep(
        spec, ["CMS", "CM"], DAYS[:1], None, db_url=f"sqlite:///{tmp_path / 'r.sqlite'}", workers=0
    )
    first = run_sweep(spec, ["CMS", "CM"], DAYS[:1], None, db_url=url, workers=2)
    assert not first.failed and len(first.kpis) == 2
    for key, k in ref.kpis.items():
        assert math.isclose(
            k.activation_cost_eur, first.kpis[key].activation_cost_eur, rel_tol=1e-9, abs_tol=1e-9
        )
    assert sorted(r["status"] for r in read_runs(url)) == ["completed", "completed"]
    again = run_sweep(spec, ["CMS", "CM"], DAYS[:1], None, db_url=url, workers=0)
    assert sorted(again.resumed) == sorted(first.kpis)
    assert len(read_runs(url)) == 2  # nothing ran again
