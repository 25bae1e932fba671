"""The notebook API (``cba.api`` / ``import coordstudio``): a run's frames, and the same frames read back.

One small run (the test scenario of ``sim_fixtures.small_spec``: case30 + one case33bw feeder, one hour,
CMS and CM, 500 Monte Carlo samples) through ``coordstudio.run_study(study, out=...)``; then:

* every frame read back with ``coordstudio.open_results(out)`` equals the in-memory one exactly
  (``pandas.testing.assert_frame_equal`` with ``check_exact``): same run, two channels;
* opened as ``coordstudio run --out`` leaves it (``results.sqlite`` and ``cba_result.json``, no study copy)
  the CBA frames still equal, and the frames that need the study are refused by name;
* independent channels: the KPI frame equals ``kpis.csv`` (rel 1e-12); an activation's clearing price is
  the nodal price the prices frame holds at the bid's node and step (1e-9 EUR/MWh); the price components sum
  to the price (1e-6 EUR/MWh, what the market stores); ``step_time_min`` = clearing start + step x 30 min;
* the Monte Carlo samples are the very samples behind the summary: their mean per scheme is its
  ``mean_npv_eur`` (rel 1e-12), 500 per scheme.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import coordstudio as cs
from cba.errors import CbaError
from cba.study import Study, default_study
from simulation.errors import ResultsDatabaseError

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "simulation"))
from sim_fixtures import small_spec  # noqa: E402

FRAMES = ("kpis", "clearings", "timeseries", "measurements", "bids", "activations", "prices", "ict_costs",
          "appraisal", "cashflows", "sensitivity", "switching_values", "monte_carlo_summary", "monte_carlo")
CBA_FRAMES = ("appraisal", "cashflows", "sensitivity", "switching_values", "monte_carlo_summary")


def small_study() -> Study:
    study = default_study()
    spec = small_spec(duration_h=1.0, start_h=10.0).model_copy(update={"schemes": ["CMS", "CM"],
                                                                       "name": "default"})
    cba = study.cba.model_copy(update={"monte_carlo_samples": 500})
    return study.model_copy(update={"scenario": spec, "cba": cba})


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, cs.Results]:
    out = tmp_path_factory.mktemp("api") / "out"
    return out, cs.run_study(small_study(), out=out)


def test_frames_read_back_equal_the_run(run: tuple[Path, cs.Results]) -> None:
    out, res = run
    back = cs.open_results(out)  # finds the study copy run_study saved beside the database
    assert back.study == res.study
    for name in FRAMES:
        mine, theirs = getattr(res, name)(), getattr(back, name)()
        assert not mine.empty, name
        pd.testing.assert_frame_equal(mine, theirs, check_exact=True, obj=name)
    assert res.schemes == ["CMS", "CM"]
    assert set(res.kpis()["day"]) == {"default"}


def test_cli_output_folder_without_study(run: tuple[Path, cs.Results], tmp_path: Path) -> None:
    out, res = run
    for name in ("results.sqlite", "cba_result.json"):  # what `coordstudio run --out` leaves
        shutil.copy(out / name, tmp_path / name)
    back = cs.open_results(f"sqlite:///{tmp_path / 'results.sqlite'}")
    for name in (*CBA_FRAMES, "kpis", "prices"):
        pd.testing.assert_frame_equal(getattr(res, name)(), getattr(back, name)(), check_exact=True, obj=name)
    with pytest.raises(CbaError, match=r"study=STUDY"):
        back.ict_costs()
    # with the study given, everything is there again
    pd.testing.assert_frame_equal(res.ict_costs(), cs.open_results(tmp_path, study=small_study()).ict_costs())


def test_frames_agree_with_independent_channels(run: tuple[Path, cs.Results]) -> None:
    out, res = run
    csv = pd.read_csv(out / "kpis.csv")
    frame = res.kpis()
    for col in ("activation_cost_eur", "afrr_cost_eur", "losses_mwh", "duration_h"):
        np.testing.assert_allclose(frame[col], csv[col], rtol=1e-12, err_msg=col)

    prices, bids, acts = res.prices(), res.bids(), res.activations()
    assert not acts.empty
    nodes = bids[["run_id", "clearing", "bid_id", "node"]]
    joined = acts.merge(nodes, on=["run_id", "clearing", "bid_id"]).merge(
        prices[["run_id", "clearing", "step", "node", "price_eur_per_mwh"]],
        on=["run_id", "clearing", "step", "node"],
    )
    assert len(joined) == len(acts)
    np.testing.assert_allclose(joined["clearing_price_eur_per_mwh"], joined["price_eur_per_mwh"], atol=1e-9)

    parts = prices[["energy_eur_per_mwh", "congestion_eur_per_mwh", "losses_eur_per_mwh",
                    "current_eur_per_mwh", "voltage_eur_per_mwh"]]
    decomposed = parts.notna().all(axis=1)
    assert decomposed.any()
    np.testing.assert_allclose(parts[decomposed].sum(axis=1), prices.loc[decomposed, "price_eur_per_mwh"],
                               atol=1e-6)
    np.testing.assert_allclose(prices["step_time_min"], prices["time_min"] + 30.0 * prices["step"])

    ts = res.timeseries()
    assert list(ts.groupby("scheme", sort=False).size().index) == ["CMS", "CM"]
    assert (ts["vm_min_pu"] <= ts["vm_max_pu"]).all()


def test_monte_carlo_samples_are_the_summarys(run: tuple[Path, cs.Results]) -> None:
    _, res = run
    samples, summary = res.monte_carlo(), res.monte_carlo_summary().set_index("scheme")
    assert samples.groupby("scheme").size().to_dict() == {"CMS": 500, "CM": 500}
    means = samples.groupby("scheme")["npv_eur"].mean()
    for scheme in ("CMS", "CM"):
        assert means[scheme] == pytest.approx(summary.loc[scheme, "mean_npv_eur"], rel=1e-12, abs=1e-6)
    assert "discount_rate" in samples.columns


def test_reappraise_refuses_another_scenario(run: tuple[Path, cs.Results]) -> None:
    _, res = run
    other = small_study()
    other = other.model_copy(update={"scenario": small_spec(duration_h=2.0, start_h=10.0).model_copy(
        update={"schemes": ["CMS", "CM"], "name": "default"})})
    with pytest.raises(ResultsDatabaseError, match="another study"):
        res.reappraise(other)
