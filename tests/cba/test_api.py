"""The notebook API (``cba.api``, ``import coordstudio as cs``) and its tutorial ``docs/tutorial.ipynb``.

One simulation serves every test here (the suite's time budget): the tutorial notebook is executed with
nbclient in a real IPython kernel, so it cannot rot; it runs the default study shrunk to one hour of CMS
and CM with ``cs.run_study(small, out=folder)``. An extra cell, run afterwards in the same kernel, saves
the frames of that in-memory result. Then:

* the notebook's NPV change of CM when the discount rate goes from 4 %/a to 7 %/a (through
  ``Results.reappraise``) equals numpy-financial on the net cash flows it printed,
  ``npf.npv(0.07, net) - npf.npv(0.04, net)`` (rel 1e-9); the net flows do not depend on the rate (rel
  1e-12, as the notebook's text says); the tightened ICT requirement makes CM's ICT investment dearer;
* every frame read back with ``cs.open_results(folder)`` equals the in-memory one exactly
  (``assert_frame_equal(check_exact=True)``): same run, two channels;
* opened as ``coordstudio run --out`` leaves a folder (``results.sqlite`` and ``cba_result.json``, no study
  copy), the CBA frames still equal, and the frames that need the study are refused by name;
* independent channels: the KPI frame equals ``kpis.csv`` (rel 1e-12); an activation's clearing price is
  the nodal price at the bid's node and step (1e-9 EUR/MWh); the price components sum to the price
  (1e-6 EUR/MWh, as the market stores them); ``step_time_min`` = clearing start + step x granularity;
* the Monte Carlo samples are those behind the summary: their mean per scheme is its ``mean_npv_eur``.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import os
import pickle
import shutil
from collections.abc import Iterator
from pathlib import Path

import nbformat
import numpy as np
import numpy_financial as npf
import pandas as pd
import pytest
from nbclient import NotebookClient

import coordstudio as cs
from coordstudio.cba.errors import CbaError
from coordstudio.simulation.errors import ResultsDatabaseError

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "docs" / "tutorial.ipynb"
FRAMES = sorted(n for n, f in inspect.getmembers(cs.Results, inspect.isfunction)
                if not n.startswith("_") and n not in ("cba_result", "reappraise"))
CBA_FRAMES = ("appraisal", "cashflows", "sensitivity", "switching_values", "monte_carlo_summary")


def _generator_cells() -> list[str]:
    generator = ROOT / "docs" / "tools" / "make_tutorial.py"
    spec = importlib.util.spec_from_file_location("make_tutorial", generator)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return [c.source for c in module.build().cells]


@pytest.fixture(scope="module")
def tutorial(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """Execute the notebook, then save the in-memory frames of its run; yields what the tests read."""
    saved = tmp_path_factory.mktemp("tutorial") / "frames.pkl"
    nb = nbformat.read(NOTEBOOK, as_version=4)
    extra = nbformat.v4.new_code_cell(
        "import pickle\n"
        f"pickle.dump({{n: getattr(base, n)() for n in {FRAMES!r}}}, open({str(saved)!r}, 'wb'))\n"
        "print(json.dumps({'out': str(out)}))"
    )
    nb.cells.append(extra)
    with pytest.MonkeyPatch.context() as mp:  # the kernel imports this tree
        mp.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
        NotebookClient(nb, timeout=300, kernel_name="python3",
                       resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    (summary_cell,) = [c for c in nb.cells if "summary" in c.metadata.get("tags", [])]
    out = Path(json.loads(extra.outputs[-1]["text"].strip().splitlines()[-1])["out"])
    with saved.open("rb") as fh:
        frames = pickle.load(fh)  # noqa: S301 - written by this test a moment ago
    yield {"nb": nb, "summary": _stream_json(summary_cell), "out": out, "frames": frames}
    shutil.rmtree(out, ignore_errors=True)


def _stream_json(cell: nbformat.NotebookNode) -> dict:
    text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
    return json.loads(text.strip().splitlines()[-1])


def test_notebook_matches_its_generator() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert [c.source for c in nb.cells] == _generator_cells()
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), "commit it without outputs"


def test_tutorial_npv_change_from_the_discount_rate(tutorial: dict) -> None:
    summary = tutorial["summary"]
    net_base, net_new = np.array(summary["net_base_eur"]), np.array(summary["net_new_eur"])
    assert len(net_base) == 21  # years 0..20 of the default study's horizon
    np.testing.assert_allclose(net_new, net_base, rtol=1e-12)
    r0, r1 = summary["discount_rate_base"], summary["discount_rate_new"]
    assert (r0, r1) == (0.04, 0.07)
    expected = npf.npv(r1, net_new) - npf.npv(r0, net_base)
    assert summary["npv_change_eur"] == pytest.approx(expected, rel=1e-9)
    assert summary["npv_change_eur"] < 0  # a higher rate weighs the later benefits less
    assert summary["ict_capex_change_eur"] > 0
    outputs = [o for c in tutorial["nb"].cells if c.cell_type == "code" for o in c.outputs]
    assert len([o for o in outputs if "image/png" in o.get("data", {})]) == 2
    assert not [o for o in outputs if o.output_type == "error"]


def test_frames_read_back_equal_the_run(tutorial: dict) -> None:
    back = cs.open_results(tutorial["out"])  # finds the study copy run_study saved beside the database
    assert back.schemes == ["CMS", "CM"]
    for name in FRAMES:
        mine = tutorial["frames"][name]
        assert not mine.empty, name
        pd.testing.assert_frame_equal(mine, getattr(back, name)(), check_exact=True, obj=name)
    assert set(back.kpis()["day"]) == {"default"}


def test_cli_output_folder_without_study(tutorial: dict, tmp_path: Path) -> None:
    for name in ("results.sqlite", "cba_result.json"):  # what `coordstudio run --out` leaves
        shutil.copy(tutorial["out"] / name, tmp_path / name)
    back = cs.open_results(f"sqlite:///{tmp_path / 'results.sqlite'}")
    for name in (*CBA_FRAMES, "kpis", "prices"):
        pd.testing.assert_frame_equal(tutorial["frames"][name], getattr(back, name)(), check_exact=True,
                                      obj=name)
    with pytest.raises(CbaError, match=r"study=STUDY"):
        back.ict_costs()
    study = cs.load_study(tutorial["out"] / "study.yaml")
    pd.testing.assert_frame_equal(tutorial["frames"]["ict_costs"],
                                  cs.open_results(tmp_path, study=study).ict_costs())


def test_frames_agree_with_independent_channels(tutorial: dict) -> None:
    out, frames = tutorial["out"], tutorial["frames"]
    csv = pd.read_csv(out / "kpis.csv")
    for col in ("activation_cost_eur", "afrr_cost_eur", "losses_mwh", "duration_h"):
        np.testing.assert_allclose(frames["kpis"][col], csv[col], rtol=1e-12, err_msg=col)

    prices, bids, acts = frames["prices"], frames["bids"], frames["activations"]
    assert not acts.empty
    joined = acts.merge(bids[["run_id", "clearing", "bid_id", "node"]], on=["run_id", "clearing", "bid_id"])
    joined = joined.merge(prices[["run_id", "clearing", "step", "node", "price_eur_per_mwh"]],
                          on=["run_id", "clearing", "step", "node"])
    assert len(joined) == len(acts)
    np.testing.assert_allclose(joined["clearing_price_eur_per_mwh"], joined["price_eur_per_mwh"], atol=1e-9)

    parts = prices[["energy_eur_per_mwh", "congestion_eur_per_mwh", "losses_eur_per_mwh",
                    "current_eur_per_mwh", "voltage_eur_per_mwh"]]
    decomposed = parts.notna().all(axis=1)
    assert decomposed.any()
    np.testing.assert_allclose(parts[decomposed].sum(axis=1), prices.loc[decomposed, "price_eur_per_mwh"],
                               atol=1e-6)
    granularity = cs.load_study(out / "study.yaml").scenario.timing.granularity_min
    np.testing.assert_allclose(prices["step_time_min"], prices["time_min"] + granularity * prices["step"])

    ts = frames["timeseries"]
    assert list(ts.groupby("scheme", sort=False).size().index) == ["CMS", "CM"]
    assert (ts["vm_min_pu"] <= ts["vm_max_pu"]).all()


def test_monte_carlo_samples_are_the_summarys(tutorial: dict) -> None:
    samples = tutorial["frames"]["monte_carlo"]
    summary = tutorial["frames"]["monte_carlo_summary"].set_index("scheme")
    assert samples.groupby("scheme").size().to_dict() == {"CMS": 500, "CM": 500}
    means = samples.groupby("scheme")["npv_eur"].mean()
    for scheme in ("CMS", "CM"):
        assert means[scheme] == pytest.approx(summary.loc[scheme, "mean_npv_eur"], rel=1e-12, abs=1e-6)
    assert "discount_rate" in samples.columns


def test_reappraise_refuses_another_scenario(tutorial: dict) -> None:
    back = cs.open_results(tutorial["out"])
    assert back.study is not None
    scenario = back.study.scenario
    timing = scenario.timing.model_copy(update={"duration_h": 2.0})
    other = back.study.model_copy(update={"scenario": scenario.model_copy(update={"timing": timing})})
    with pytest.raises(ResultsDatabaseError, match="another study"):
        back.reappraise(other)


def test_representative_days_are_told_apart_by_their_scenario(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A hand-built database of a two-day study: one run per scheme and day, told apart by the day's
    scenario (``spec_for_day``), plus an earlier run of CM on day d100 that a later one supersedes (its
    activation cost 999 EUR must not appear). The days (tsam's choice) are given, not computed."""
    import coordstudio.cba.api
    from coordstudio import cba
    from coordstudio.cba.fingerprint import study_fingerprint
    from coordstudio.simulation.db import ResultsWriter, spec_json_of
    from coordstudio.simulation.scenario.representative_days import RepresentativeDay, spec_for_day

    monkeypatch.syspath_prepend(str(ROOT / "tests" / "cba"))
    from cba_fixtures import make_kpis

    days = [RepresentativeDay("d100", 100, 200.0, "medoid", 10.0), RepresentativeDay("d200", 200, 165.0,
                                                                                        "medoid", 20.0)]
    monkeypatch.setattr(cba.api, "representative_days_of", lambda study: days)
    base = cs.default_study()
    profiles = base.scenario.profiles.model_copy(update={"representative_days": 2})
    study = base.model_copy(update={"scenario": base.scenario.model_copy(update={"profiles": profiles})})
    prints = study_fingerprint(study)
    url = f"sqlite:///{tmp_path / 'results.sqlite'}"
    records = {(k.scheme, k.day): k for k in make_kpis({"d100": 200.0, "d200": 165.0})}

    def write(scheme: str, day: RepresentativeDay, status: str, cost: float | None = None) -> None:
        k = records[(scheme, day.day_id)]
        k = k.model_copy(update={"day": "default", **({} if cost is None else {"activation_cost_eur": cost})})
        spec_json = spec_json_of(spec_for_day(study.scenario, day))
        w = ResultsWriter(url, scheme, prints.scenario, "default", spec_json,
                          fingerprints=prints.as_mapping())
        w.finish(status, 4, k.model_dump_json() if status == "completed" else None)

    write("CM", days[0], "completed", cost=999.0)  # superseded below
    for day in days:
        for scheme in ("CMS", "CM"):
            write(scheme, day, "completed")
    res = cs.open_results(tmp_path, study=study)
    kpis = res.kpis().set_index(["scheme", "day"])
    assert sorted(kpis.index) == [("CM", "d100"), ("CM", "d200"), ("CMS", "d100"), ("CMS", "d200")]
    for key, k in kpis.iterrows():
        assert k["activation_cost_eur"] == records[key].activation_cost_eur
    assert res.appraisal().set_index("scheme").loc["CMS", "npv_eur"] == 0.0  # the reference

    write("CMS", days[1], "failed")  # the latest run of CMS on d200 failed: refused by name
    with pytest.raises(ResultsDatabaseError, match=r"CMS\) failed"):
        cs.open_results(tmp_path, study=study)
