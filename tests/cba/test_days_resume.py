"""``run --resume`` of a study simulated on several representative days, and the ICT check over every
simulated day (issue 17: the remaining gaps B and C).

One tiny study (the small scenario of ``tests/simulation/sim_fixtures.py`` with its SimBench year, two
representative days, one hour, schemes CMS and CM) is interrupted by hand: day 1 is simulated as
``run_study`` does before it is stopped, and CM's day-1 run is then marked ``cancelled``. The resumed
``run_study`` must reuse CMS's day-1 run (same run id, same KPIs), simulate CM on day 1 and both schemes on
day 2, and give the CBA the two days' weights. The ICT check of the resumed folder must read both days: its
message counts equal a hand sum over the two days' ``messages`` rows weighted ``n w_d / W``.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from coordstudio.cba.fingerprint import study_fingerprint
from coordstudio.cba.ictcheck import ict_check
from coordstudio.cba.study import Study, default_study, representative_days_of, run_study
from coordstudio.simulation.db import TABLES, open_read_only, read_runs, read_table
from coordstudio.simulation.results_columns import decode_chunk, encode_rows
from coordstudio.simulation.scenario.representative_days import spec_for_day

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "simulation"))
from sim_fixtures import small_spec  # noqa: E402


@contextmanager
def _reading(db_url: str) -> Iterator[Any]:
    """A read-only connection to the results database ``db_url``."""
    engine = open_read_only(db_url)
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def _edit_run_rows(path: Path, table: str, run_id: int, edit: Any) -> None:
    """Change the stored rows of one run's ``table`` in place: ``edit(frame) -> frame`` on each of its
    columnar chunks (issue 21), as an ``UPDATE`` on SQL rows did."""
    with sqlite3.connect(path) as conn:
        chunks = conn.execute("SELECT id, parquet FROM series_chunks WHERE table_name = ? AND run_id = ?",
                              (table, run_id)).fetchall()
        assert chunks, (table, run_id)
        for cid, data in chunks:
            rows = edit(decode_chunk(data)).to_dict("records")
            conn.execute("UPDATE series_chunks SET parquet = ? WHERE id = ?",
                         (encode_rows(TABLES[table], rows), cid))


def tiny_days_study() -> Study:
    """Two representative days of one hour (11:00-12:00), schemes CMS and CM, on the small scenario."""
    study = default_study()
    spec = small_spec(duration_h=1.0, start_h=11.0)
    profiles = spec.profiles.model_copy(update={"source": "simbench", "representative_days": 2})
    spec = spec.model_copy(update={"schemes": ["CMS", "CM"], "name": "default", "profiles": profiles})
    cba = study.cba.model_copy(update={"monte_carlo_samples": 200})
    return study.model_copy(update={"scenario": spec, "cba": cba})


@pytest.fixture(scope="module")
def resumed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The interrupted run (day 1 only, CM's run cancelled), then ``run_study(..., resume=True)``."""
    # imported here, not at collection: importing Pyomo's solvers loads matplotlib's pyplot headless, which
    # the GUI tests collected later cannot switch to QtAgg
    from coordstudio.simulation.simulate import simulate

    out = tmp_path_factory.mktemp("days-resume")
    study = tiny_days_study()
    days = representative_days_of(study)
    assert len(days) == 2
    db_url = f"sqlite:///{out / 'results.sqlite'}"
    prints = study_fingerprint(study).as_mapping()
    first = simulate(spec_for_day(study.scenario, days[0]), ["CMS", "CM"], db_url,
                     fingerprint=prints["scenario"], fingerprints=prints)
    before = {r["scheme"]: r for r in read_runs(db_url)}
    with sqlite3.connect(out / "results.sqlite") as conn:
        conn.execute("UPDATE runs SET status = 'cancelled' WHERE run_id = ?", (before["CM"]["run_id"],))
    result = run_study(study, None, out_dir=out, resume=True)
    return {"study": study, "days": days, "out": out, "db_url": db_url, "first": first,
            "before": before, "result": result}


def test_resume_reuses_each_completed_day_and_scheme_and_simulates_the_rest(resumed: dict[str, Any]) -> None:
    days, result, before = resumed["days"], resumed["result"], resumed["before"]
    runs = read_runs(resumed["db_url"])
    # 2 runs of the interrupted day 1 + CM again on day 1 + both schemes on day 2; CMS day 1 not re-run
    assert len(runs) == 5
    assert [r["run_id"] for r in runs if r["scheme"] == "CMS"][0] == before["CMS"]["run_id"]
    assert sum(r["scheme"] == "CMS" for r in runs) == 2
    assert all(r["status"] == "completed" for r in runs if r["run_id"] != before["CM"]["run_id"])
    by_key = {(k.scheme, k.day): k for k in result.kpis}
    assert set(by_key) == {(s, d.day_id) for s in ("CMS", "CM") for d in days}
    reused = by_key[("CMS", days[0].day_id)]
    stored = resumed["first"].kpis["CMS"]
    assert reused.resource_cost_eur == stored.resource_cost_eur  # read back exactly, not re-simulated
    assert reused.afrr_energy_mwh == stored.afrr_energy_mwh
    assert result.day_weights == pytest.approx({d.day_id: d.weight_days for d in days}, abs=1e-9)
    assert sum(result.day_weights.values()) == pytest.approx(365.0, abs=1e-6)
    assert (resumed["out"] / "kpis.csv").read_text().count("\n") == 1 + 4


def test_a_second_resume_simulates_nothing(resumed: dict[str, Any]) -> None:
    """Everything completed: resuming again reuses all four day-scheme runs."""
    from coordstudio.cba.stored_runs import resume_day_plans

    plans = resume_day_plans(resumed["study"], resumed["db_url"], ["CMS", "CM"], resumed["days"])
    assert all(not p.to_run and set(p.reused) == {"CMS", "CM"} for p in plans.values())


def test_ict_check_reads_every_simulated_day_weighted_as_the_cba(
    resumed: dict[str, Any], tmp_path: Path
) -> None:
    """Message counts and bytes per scheme = sum over days of (n w_d / W) x the day run's messages (hand sum
    from the database, 0.5 rounding per message type), over 2 x 1 h; the check lists both days.

    The two days of one hour exchange the same messages, which could not tell weighting from adding; so a
    copy of the database has day 1's CMS messages tripled first (days then differ by a known factor)."""
    from coordstudio.cba.stored_runs import day_runs

    study, days = resumed["study"], resumed["days"]
    copy = tmp_path / "results.sqlite"
    with sqlite3.connect(resumed["out"] / "results.sqlite") as src, sqlite3.connect(copy) as dst:
        src.backup(dst)  # the committed content, write-ahead log included
    db_url = f"sqlite:///{copy}"
    by_day, _ = day_runs(study, db_url, days)
    _edit_run_rows(copy, "messages", by_day[days[0].day_id]["CMS"]["run_id"],
                   lambda df: df.assign(n_messages=3 * df["n_messages"], bytes=3 * df["bytes"]))
    check = ict_check(study, db_url)
    assert check.days == pytest.approx({d.day_id: d.weight_days for d in days})
    assert check.duration_h == pytest.approx(2.0)
    total_w = sum(d.weight_days for d in days)
    with _reading(db_url) as conn:
        for scheme in ("CMS", "CM"):
            expected_n = expected_b = 0.0
            per_day = []
            for d in days:
                run_id = by_day[d.day_id][scheme]["run_id"]
                msgs = read_table(conn, "messages", [run_id], ["n_messages", "bytes"])
                n, b = msgs["n_messages"].sum(), msgs["bytes"].sum()
                per_day.append(float(n))
                expected_n += 2 * d.weight_days / total_w * float(n)
                expected_b += 2 * d.weight_days / total_w * float(b)
            rows = [t for t in check.message_types if t.scheme == scheme]
            got = sum(t.n_messages for t in rows)
            assert got == pytest.approx(expected_n, abs=0.5 * len(rows) + 1e-9), scheme
            assert sum(t.bytes_total for t in rows) == pytest.approx(expected_b, abs=0.5 * len(rows) + 1e-9)
            assert all(n > 0 for n in per_day)
            if scheme == "CMS":  # adding the days unweighted (or reading one) would give another count
                assert abs(got - sum(per_day)) > 0.05 * got
                assert abs(got - per_day[-1]) > 0.05 * got
    # the run's own check (written by run_study) read the same two days
    assert resumed["result"].ict_check.days == check.days


def test_price_components_weight_every_day_as_the_cba(resumed: dict[str, Any], tmp_path: Path) -> None:
    """The report's "Price components" and the GUI's stacked price chart read both days' runs and weight
    them by the CBA's day weights (issue 17, left open: they read the last day only).

    Hand calculation from the database (sqlite3, not pandas): per node, the mean of its firm-step prices on
    each day, ``sum_d w_d mean_{n,d} / sum_d w_d``, then the mean over nodes; tolerance 1e-9 EUR/MWh
    (float summation order). As in the ICT check's test, the two one-hour days could not tell a weighted
    mean from an equal one or from the last day's, so a copy of the database has day 1's CMS price and
    energy component raised by 30 EUR/MWh first (the weighted mean moves by 30 w_1 / W)."""
    from openpyxl import load_workbook

    from coordstudio.cba.figures_timeseries import draw_price_components
    from coordstudio.cba.price_components import day_means, read_price_components, run_day_weights
    from coordstudio.cba.run_series import load_series
    from coordstudio.cba.stored_runs import day_runs

    study, days = resumed["study"], resumed["days"]
    copy = tmp_path / "results.sqlite"
    with sqlite3.connect(resumed["out"] / "results.sqlite") as src, sqlite3.connect(copy) as dst:
        src.backup(dst)
    db_url = f"sqlite:///{copy}"
    by_day, _ = day_runs(study, db_url, days)
    _edit_run_rows(copy, "prices", by_day[days[0].day_id]["CMS"]["run_id"],
                   lambda df: df.assign(price_eur_per_mwh=df["price_eur_per_mwh"] + 30,
                                        energy_eur_per_mwh=df["energy_eur_per_mwh"] + 30))
    weights = {d.day_id: d.weight_days for d in days}
    table = read_price_components(study, db_url)
    assert table is not None and table.day_weights_days_per_year == pytest.approx(weights)
    got = {r.scheme: r for r in table.rows if not r.node and not r.day}
    with _reading(db_url) as conn:
        for scheme in ("CMS", "CM"):
            node_sum: dict[str, float] = {}
            last_day: dict[str, float] = {}
            for d in days:
                p = read_table(conn, "prices", [by_day[d.day_id][scheme]["run_id"]],
                               ["node", "step", "price_eur_per_mwh", "energy_eur_per_mwh"])
                p = p[(p["step"] == 0) & p["energy_eur_per_mwh"].notna()]
                rows = list(p.groupby("node")[["price_eur_per_mwh", "energy_eur_per_mwh"]].mean()
                            .itertuples(name=None))
                assert rows
                for node, price, _ in rows:
                    node_sum[node] = node_sum.get(node, 0.0) + d.weight_days * price / sum(weights.values())
                    last_day[node] = price
            expected = sum(node_sum.values()) / len(node_sum)
            assert got[scheme].price_eur_per_mwh == pytest.approx(expected, abs=1e-9), scheme
            if scheme == "CMS":  # neither the last day alone nor the two days' plain mean
                shift = 30.0 * weights[days[0].day_id] / sum(weights.values())
                assert abs(expected - sum(last_day.values()) / len(last_day) - shift) < 1e-6
                day_rows = {r.day: r for r in table.rows if r.scheme == "CMS" and r.day}
                assert set(day_rows) == set(weights)
                plain = sum(r.price_eur_per_mwh for r in day_rows.values()) / 2
                assert abs(got[scheme].price_eur_per_mwh - plain) > 1.0
    # the GUI's stacked chart: the same runs and weights through cba.run_series.load_series
    run_days = run_day_weights(study, db_url)
    assert sorted(run_days) == sorted(int(by_day[d][s]["run_id"]) for d in weights for s in ("CMS", "CM"))
    series = load_series(db_url, run_days)
    means = day_means(series.prices.dropna(subset=["energy_eur_per_mwh"]), "scheme")
    for scheme in ("CMS", "CM"):
        assert means.loc[scheme, "price_eur_per_mwh"] == pytest.approx(got[scheme].price_eur_per_mwh, abs=1e-9)
    from matplotlib.figure import Figure

    title = draw_price_components(Figure(), series, ["CMS", "CM"])
    assert all(d in title for d in weights) and "weighted mean of 2 representative days" in title
    # the run's own report (written by run_study) has the sheet over both days, and says so
    ws = load_workbook(resumed["out"] / "report.xlsx", read_only=True)["Price components"]
    note = str(ws["A3"].value)
    assert "weighted mean of 2 representative days" in note and all(d in note for d in weights)


def test_run_draws_its_figures_from_the_days_weighted_as_the_cba(resumed: dict[str, Any], tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """``coordstudio run`` on a study of several representative days hands its figures the study's day
    runs with their weights (``run_day_weights``, as the GUI does), so the price-component figure is the
    weighted mean the report's sheet shows, not the plain mean of every run in the database. The chain is
    the fixture's finished run (``run_study`` replaced by it, the figures by a recorder); the weights
    are those of ``representative_days_of`` (1e-12), and the series read with them carries each run's day
    and weight, where the series read without them does not."""
    from coordstudio import main
    from coordstudio.cba import figures
    from coordstudio.cba import study as study_module
    from coordstudio.cba.price_components import WEIGHT_COLUMN
    from coordstudio.cba.study import save_study

    out, study = resumed["out"], resumed["study"]
    path = tmp_path / "study.yaml"
    save_study(study, path)
    monkeypatch.setattr(study_module, "run_study", lambda *a, **k: resumed["result"])
    seen: dict[str, Any] = {}
    monkeypatch.setattr(figures, "write_results_figures",
                        lambda *a, **k: seen.update(k) or ({}, []))
    assert main.main(["run", str(path), "--out", str(out), "--quiet", "--figures", "png"]) == 0
    weights = {d.day_id: d.weight_days for d in resumed["days"]}
    run_days = seen["run_days"]
    assert sorted({day for day, _ in run_days.values()}) == sorted(weights) and len(run_days) == 4
    for day, w in run_days.values():
        assert w == pytest.approx(weights[day], rel=1e-12)
    prices = figures.read_sources(out, run_days=run_days).series.prices
    assert WEIGHT_COLUMN in prices and set(prices["day"]) == set(weights)
    # `figures DIR` (no study) finds the same runs by the runs' day of year (cba.figures), with the weights
    # of representative_days.csv (written to 6 decimals, hence abs 1e-6)
    alone = figures.read_sources(out).series.prices
    found = {int(r): (d, w)
             for r, d, w in zip(alone["run_id"], alone["day"], alone[WEIGHT_COLUMN], strict=True)}
    assert sorted(found) == sorted(run_days)
    for run_id, (day, w) in found.items():
        assert day == run_days[run_id][0] and w == pytest.approx(run_days[run_id][1], abs=1e-6)
