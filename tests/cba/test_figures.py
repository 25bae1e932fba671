"""``coordstudio figures`` writes every figure of the desktop application from a finished run's folder,
as PNG and SVG, without simulating (issue 19 item 7).

The run folder is hand-built (:mod:`tests.cba.figure_fixtures`), so the expected content is known: two
schemes, hence two price lines, two bars per single-KPI chart, two cash-flow curves; the mean price of
each clearing is the mean of the three nodal prices by hand (CMS (40+42+44)/3 = 42, CM (40+45+50)/3 = 45).
"""

from __future__ import annotations

import contextlib
import io
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from coordstudio import main
from coordstudio.cba.figures import read_sources
from coordstudio.cba.figures_kpi import KPI_CHARTS
from coordstudio.cba.price_components import COMPONENTS
from tests.cba.figure_fixtures import NODE_PRICES, SCHEMES, two_day_afrr_kpis, write_results_dir

SVG = "{http://www.w3.org/2000/svg}"

EXPECTED_STEMS = [
    *(c[0] for c in KPI_CHARTS),
    "chart_cash_flow", "chart_annual_cash_flow", "chart_tornado", "chart_monte_carlo", "chart_actors",
    "ict_cost",
    "ts_prices", *(f"ts_prices_{c}" for c in COMPONENTS), "ts_price_components",
    *(f"ts_price_map_{s}" for s in SCHEMES), *(f"ts_price_components_{s}" for s in SCHEMES),
    "ts_activations", "ts_clearing_costs", "ts_voltages",
]
"""docs/figures.md lists these files; a figure added there and not here (or the reverse) fails."""


def _cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main.main(list(argv))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def figures(tmp_path_factory: Any) -> tuple[Path, Path, str]:
    results = write_results_dir(tmp_path_factory.mktemp("run"))
    out = tmp_path_factory.mktemp("figures")
    code, stdout, stderr = _cli("figures", str(results), "--out", str(out))
    assert code == 0, stderr
    return results, out, stdout


def _ids(svg: Path, prefix: str) -> list[str]:
    root = ET.parse(svg).getroot()  # parses: the file is well-formed XML
    assert root.tag == f"{SVG}svg"
    return [e.get("id", "") for e in root.iter() if e.get("id", "").startswith(prefix)]


def test_every_figure_is_written_as_png_and_svg(figures: tuple[Path, Path, str]) -> None:
    _results, out, stdout = figures
    written = sorted(p.name for p in out.iterdir())
    expected = sorted(f"{stem}.{fmt}" for stem in EXPECTED_STEMS for fmt in ("png", "svg"))
    assert written == expected
    assert f"wrote {len(expected)} figure files" in stdout
    for name in written:
        data = (out / name).read_bytes()
        if name.endswith(".png"):
            assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5_000, name
        else:
            ET.fromstring(data)  # every SVG parses as XML


def test_the_svgs_hold_one_series_per_scheme(figures: tuple[Path, Path, str]) -> None:
    _results, out, _ = figures
    assert sorted(_ids(out / "ts_prices.svg", "line-price-")) == sorted(f"line-price-{s}" for s in SCHEMES)
    bars = sorted(_ids(out / "kpi_afrr_cost.svg", "bar-"))
    assert bars == sorted(f"bar-afrr_cost_eur-{s}" for s in SCHEMES)
    assert len(_ids(out / "chart_cash_flow.svg", "line-cash-")) == len(SCHEMES)
    assert len(_ids(out / "ts_voltages.svg", "line-vmin-")) == len(SCHEMES)
    assert len(_ids(out / "ts_activations.svg", "line-")) == len(SCHEMES)  # CMS up, CM down
    # the per-node components: five stacked components at each of the three nodes
    assert len(_ids(out / "ts_price_components_CM.svg", "bar-")) == 5 * 3
    svg_text = (out / "ts_prices.svg").read_text(encoding="utf-8")
    assert "time [h]" in svg_text and "price [EUR/MWh]" in svg_text  # text stays text in SVG


def test_the_mean_price_line_is_the_hand_mean(figures: tuple[Path, Path, str]) -> None:
    """The data the figure draws, read back from the same drawing call the command made."""
    from matplotlib.figure import Figure

    from coordstudio.cba.figures import figure_jobs

    results, _out, _ = figures
    job = next(j for j in figure_jobs(read_sources(results)) if j.stem == "ts_prices")
    fig = Figure()
    job.draw(fig)
    lines = {ln.get_label(): ln for ln in fig.axes[0].get_lines()}
    for scheme in SCHEMES:
        hand = sum(NODE_PRICES[scheme]) / 3.0
        assert list(lines[scheme].get_ydata()) == pytest.approx([hand] * 5, abs=1e-9)  # 4 clearings + end
        assert list(lines[scheme].get_xdata()) == pytest.approx([0.0, 0.25, 0.5, 0.75, 1.0])


def test_a_database_alone_gives_the_time_series_figures(tmp_path: Path) -> None:
    """A results database without its folder: the time series, no CBA figure (no cba_result.json); the
    hand-built database has no KPI rows, which is a note, not an error."""
    from coordstudio.cba.figures import figure_jobs

    results = write_results_dir(tmp_path / "run")
    sources = read_sources(results / "results.sqlite")
    stems = [job.stem for job in figure_jobs(sources)]
    assert sorted(stems) == sorted(s for s in EXPECTED_STEMS if s.startswith("ts_"))
    assert any("no CBA figures" in note for note in sources.notes)


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    code, _out, err = _cli("figures", str(tmp_path / "missing"))
    assert code == 2 and err.count("\n") == 1 and "no such results folder" in err
    code, _out, err = _cli("figures", str(tmp_path), "--format", "pdf")
    assert code == 2 and "--format 'pdf'" in err and err.count("\n") == 1


def test_ict_command_writes_the_ict_views_cost_charts(tmp_path: Path, monkeypatch: Any) -> None:
    """``coordstudio ict STUDY --out DIR`` writes the ICT view's two cost charts as PNG and SVG; the CAPEX by
    technology bars of each scheme add up to that scheme's CAPEX in ``ict_summary.csv`` (1 EUR). The SGAM
    planes (25 figures, tested in tests/sgam/test_plane_cli.py) are skipped to keep the test short."""
    import csv

    from coordstudio.cba.api import DEFAULT_STUDY_FILE
    from coordstudio.cba.figures import ict_figure_jobs
    from coordstudio.cba.study_file import load_study
    from coordstudio.sgam import cli as sgam_cli
    from coordstudio.simulation.scenario import endpoint_counts

    real = sgam_cli.ict_command
    monkeypatch.setattr(sgam_cli, "ict_command", lambda *a, **k: real(*a, **{**k, "figures": False}))
    code, stdout, stderr = _cli("ict", str(DEFAULT_STUDY_FILE), "--out", str(tmp_path))
    assert code == 0, stderr
    for stem in ("ict_cost", "ict_capex_by_technology"):
        assert (tmp_path / f"{stem}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        ET.parse(tmp_path / f"{stem}.svg")
    with open(tmp_path / "ict_summary.csv", newline="") as fh:
        capex = {r["scheme"]: float(r["capex_eur"]) for r in csv.DictReader(fh)}
    bars = _ids(tmp_path / "ict_capex_by_technology.svg", "bar-")
    assert {s for s in capex if any(b.endswith(f"-{s}") for b in bars)} == set(capex)

    from matplotlib.figure import Figure

    study = load_study(DEFAULT_STUDY_FILE)
    cba = study.cba
    result = real(study.sgam, endpoint_counts(study.scenario), cba.horizon_years, cba.discount_rate,
                  tmp_path / "again", figures=False)
    job = next(j for j in ict_figure_jobs(result.costs, {}) if j.stem == "ict_capex_by_technology")
    fig = Figure()
    job.draw(fig)
    schemes = list(result.costs)
    drawn = dict.fromkeys(schemes, 0.0)
    for patch in fig.axes[0].patches:  # bar i stands at x = i (categorical axis)
        drawn[schemes[round(patch.get_x() + patch.get_width() / 2)]] += patch.get_height() * 1e6
    for scheme, cost in result.costs.items():
        assert drawn[scheme] == pytest.approx(cost.capex_eur, abs=1.0)
        assert capex[scheme] == pytest.approx(cost.capex_eur, abs=1.0)


def test_kpi_charts_of_two_days_are_one_bar_per_scheme_with_the_yearly_amount(tmp_path: Path) -> None:
    """Two made-up representative days: ``coordstudio figures`` on a folder with their KPIs and
    ``representative_days.csv`` draws one bar per scheme (not one per scheme and day) with the CBA's
    yearly amount ``sum_d w_d k_d 24 / h_d`` (:func:`cba.benefits.yearly_kpi`). By hand, day a 300 d/a
    over 24 h, day b 65 d/a over 12 h: CMS aFRR 10 and 4 EUR -> 300*10 + 65*4*2 = 3520 EUR/a; CM 20
    and 6 EUR -> 6000 + 780 = 6780 EUR/a."""
    from matplotlib.figure import Figure

    from coordstudio.cba.figures import figure_jobs
    from coordstudio.cba.outputs import write_kpis_csv

    write_kpis_csv(two_day_afrr_kpis(), tmp_path / "kpis.csv")
    (tmp_path / "representative_days.csv").write_text(
        "day_id,day_of_year,kind,weight_days_per_year,ambient_temp_c,seed_offset\n"
        "a,10,medoid,300.0,5.0,0\nb,200,peak pv,65.0,20.0,0\n", encoding="utf-8")
    out = tmp_path / "figures"
    code, _stdout, stderr = _cli("figures", str(tmp_path), "--out", str(out), "--format", "svg")
    assert code == 0, stderr
    bars = sorted(_ids(out / "kpi_afrr_cost.svg", "bar-"))
    assert bars == ["bar-afrr_cost_eur-CM", "bar-afrr_cost_eur-CMS"]
    job = next(j for j in figure_jobs(read_sources(tmp_path)) if j.stem == "kpi_afrr_cost")
    fig = Figure()
    title = job.draw(fig)
    ax = fig.axes[0]
    heights = {t.get_text(): p.get_height() for t, p in zip(ax.get_xticklabels(), ax.patches, strict=True)}
    assert heights == pytest.approx({"CMS": 3520.0, "CM": 6780.0}, rel=1e-12)
    assert "per year" in title and "a 300" in title and "b 65" in title
    assert ax.get_ylabel().endswith("[EUR/a]")


def test_time_series_of_two_days_are_the_weighted_mean_day_or_the_envelope() -> None:
    """Two days a (weight 3 d/a) and b (1 d/a) at clearings 0 and 15 min, one scheme. By hand:
    activations a +2, b +6 MW at 0 min -> weighted mean (3*2 + 1*6)/4 = 3 MW (the old chart summed them
    to 8); at 15 min a +4, b none -> (3*4 + 1*0)/4 = 3 MW. Clearing cost a 10, b 30 EUR -> 15 EUR.
    Voltages a 0.95..1.01, b 0.97..1.04 -> envelope 0.95..1.04. The titles name both days."""
    import pandas as pd
    from matplotlib.figure import Figure

    from coordstudio.cba import figures_timeseries as ts
    from coordstudio.cba.run_series import RunSeries

    w = {"a": 3.0, "b": 1.0}

    def frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
        df = pd.DataFrame(rows)
        df["scheme"] = "CM"
        df["weight_days"] = df["day"].map(w)
        return df

    clearings = frame([{"day": d, "run_id": r, "clearing": c, "time_min": 15.0 * c,
                        "activation_cost_eur": cost, "slack_energy_mwh": 0.0}
                       for d, r, cost in (("a", 1, 10.0), ("b", 2, 30.0)) for c in (0, 1)])
    activations = frame([{"day": "a", "run_id": 1, "time_min": 0.0, "activation_mw": 2.0},
                         {"day": "b", "run_id": 2, "time_min": 0.0, "activation_mw": 6.0},
                         {"day": "a", "run_id": 1, "time_min": 15.0, "activation_mw": 4.0}])
    measurements = frame([{"day": d, "run_id": r, "time_min": t, "node": n, "vm_pu": v}
                          for d, r, lo, hi in (("a", 1, 0.95, 1.01), ("b", 2, 0.97, 1.04))
                          for t in (0.0, 15.0) for n, v in (("n1", lo), ("n2", hi))])
    series = RunSeries(clearings, pd.DataFrame(), activations, measurements)

    fig = Figure()
    title = ts.draw_activations(fig, series, ["CM"])
    up = fig.axes[0].get_lines()[0]
    assert list(up.get_ydata()) == pytest.approx([3.0, 3.0], abs=1e-12)
    assert "weighted mean day" in title and "a 3" in title and "b 1" in title
    fig = Figure()
    ts.draw_clearing_costs(fig, series, ["CM"])
    assert list(fig.axes[0].get_lines()[0].get_ydata()) == pytest.approx([15.0, 15.0, 15.0], abs=1e-12)
    fig = Figure()
    title = ts.draw_voltages(fig, series, ["CM"])
    vmin, vmax = fig.axes[0].get_lines()[:2]
    assert list(vmin.get_ydata()) == pytest.approx([0.95, 0.95]) and list(vmax.get_ydata()) == pytest.approx(
        [1.04, 1.04])
    assert "envelope" in title and "a 3" in title


def test_figures_of_a_folder_tell_the_days_runs_apart_by_day_of_year(tmp_path: Path) -> None:
    """``coordstudio figures DIR`` has no study: the runs of each day of ``representative_days.csv`` are
    told by their scenario's ``profiles.day_of_year``, the latest completed one per scheme and day. Hand
    case: day a (day 10, 3 d/a) has an older run activating +100 MW (replaced) and the latest +2 MW; day b
    (day 200, 1 d/a) +6 MW -> weighted mean day (3*2 + 1*6)/4 = 3 MW at 0 min."""
    import datetime as dt
    import json

    import sqlalchemy as sa
    from matplotlib.figure import Figure

    from coordstudio.cba.figures import figure_jobs
    from coordstudio.simulation import db as simdb

    engine = simdb.make_engine(f"sqlite:///{(tmp_path / 'results.sqlite').resolve()}")
    now = dt.datetime(2026, 1, 1)
    with engine.begin() as conn:
        for run_id, doy, mw in ((1, 10, 100.0), (2, 10, 2.0), (3, 200, 6.0)):
            conn.execute(sa.insert(simdb.runs).values(
                run_id=run_id, scheme="CM", fingerprint="f", scenario="hand-built", status="completed",
                started_at=now, updated_at=now, finished_at=now, n_clearings=1,
                spec_json=json.dumps({"profiles": {"day_of_year": doy}})))
            conn.execute(sa.insert(simdb.clearings).values(
                run_id=run_id, clearing=0, time_min=0.0, status="optimal", activation_cost_eur=0.0,
                slack_energy_mwh=0.0, n_activated=1))
            conn.execute(sa.insert(simdb.activations).values(
                run_id=run_id, clearing=0, bid_id="b", step=0, firm=True, activation_mw=mw))
    engine.dispose()
    (tmp_path / "representative_days.csv").write_text(
        "day_id,day_of_year,kind,weight_days_per_year,ambient_temp_c,seed_offset\n"
        "a,10,medoid,3.0,5.0,0\nb,200,peak pv,1.0,20.0,0\n", encoding="utf-8")
    job = next(j for j in figure_jobs(read_sources(tmp_path)) if j.stem == "ts_activations")
    fig = Figure()
    title = job.draw(fig)
    assert list(fig.axes[0].get_lines()[0].get_ydata()) == pytest.approx([3.0], abs=1e-12)
    assert "weighted mean day" in title and "a 3" in title and "b 1" in title
