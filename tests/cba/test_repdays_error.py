"""The arithmetic of ``benchmarks/repdays_error.py`` (issue 17 item 1), on hand-made day CSVs.

The full-year run cannot be made here (about 18 CPU-hours); this checks that the comparison it will make
is the one ``docs/cba.md`` describes: the reference is ``365 / n`` times the sum of the simulated days (each
scaled to 24 h), the estimate ``sum_d w_d k_d`` over the chosen days, and the error of a scheme's difference
to the first scheme is computed on the differences, not from the schemes' own errors.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("repdays_error", ROOT / "benchmarks" / "repdays_error.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_annual_errors_against_a_hand_calculation(tmp_path: Path) -> None:
    mod = _module()
    # four simulated days of 12 h (so each KPI counts twice to the day), schemes A and B
    values = {1: (10.0, 8.0), 100: (20.0, 15.0), 200: (30.0, 29.0), 300: (40.0, 30.0)}
    for doy, (a, b) in values.items():
        rows = ["scheme,day_of_year,duration_h," + ",".join(mod.KPIS)]
        for scheme, v in (("A", a), ("B", b)):
            rows.append(f"{scheme},{doy},12.0," + ",".join(str(v) for _ in mod.KPIS))
        (tmp_path / f"day_{doy:03d}.csv").write_text("\n".join(rows) + "\n")
    simulated = mod._read_days(tmp_path)
    assert simulated[100]["A"]["losses_mwh"] == pytest.approx(40.0)  # 20 x 24 h / 12 h
    chosen = {100: 200.0, 300: 165.0}  # two representative days, weights summing to 365
    rows = {(r["series"], r["kpi"]): r for r in mod.annual_errors(simulated, chosen, ["A", "B"])}
    # A: reference 365/4 x 2 x (10+20+30+40) = 18,250; estimate 200 x 40 + 165 x 80 = 21,200
    a = rows[("A", "losses_mwh")]
    assert a["reference_per_year"] == pytest.approx(18250.0)
    assert a["estimate_per_year"] == pytest.approx(21200.0)
    assert a["relative_error"] == pytest.approx((21200.0 - 18250.0) / 18250.0)
    # B - A: daily differences x2 = -4, -10, -2, -20; reference 365/4 x (-36) = -3,285;
    # estimate 200 x (-10) + 165 x (-20) = -5,300; error relative to |reference|
    d = rows[("B - A", "losses_mwh")]
    assert d["reference_per_year"] == pytest.approx(-3285.0)
    assert d["estimate_per_year"] == pytest.approx(-5300.0)
    assert d["relative_error"] == pytest.approx((-5300.0 + 3285.0) / 3285.0)


def test_partial_year_reference_is_the_even_sample_with_its_standard_error(tmp_path: Path) -> None:
    """Until the year is in, the reference is the largest fully simulated evenly spaced sample (the
    representative days, simulated first, would bias it), with the standard error of a sample of the year.
    Hand calculation: sample:3 = days 1, 183, 365; day 50 (a representative day, say) is left out. Values
    10, 20, 60 (x2 for 12-h days: 20, 40, 120): mean 60, s^2 = (40^2 + 20^2 + 60^2) / 2 = 2,800,
    SE = 365 sqrt(2800 / 3 (1 - 3/365)) = 11,105.01; reference 365 x 60 = 21,900."""
    mod = _module()
    for doy, v in {1: 10.0, 50: 1000.0, 183: 20.0, 365: 60.0}.items():
        rows = ["scheme,day_of_year,duration_h," + ",".join(mod.KPIS),
                f"A,{doy},12.0," + ",".join(str(v) for _ in mod.KPIS)]
        (tmp_path / f"day_{doy:03d}.csv").write_text("\n".join(rows) + "\n")
    simulated = mod._read_days(tmp_path)
    days, name = mod.reference_days(set(simulated))
    assert days == [1, 183, 365] and name.startswith("3 evenly spaced days")
    row = next(r for r in mod.annual_errors(simulated, {50: 365.0}, ["A"], days) if r["kpi"] == "losses_mwh")
    assert row["reference_per_year"] == pytest.approx(21900.0)
    assert row["reference_se_per_year"] == pytest.approx(365 * (2800 / 3 * (1 - 3 / 365)) ** 0.5, rel=1e-12)
    assert row["reference_se_per_year"] == pytest.approx(11105.01, abs=0.01)
    # the full year: no sampling error
    full = {d: {"A": {k: 1.0 for k in mod.KPIS}} for d in range(1, 366)}
    days, name = mod.reference_days(set(full))
    assert name == "full year" and len(days) == 365
    assert all(r["reference_se_per_year"] == 0.0 for r in mod.annual_errors(full, {1: 365.0}, ["A"], days))


def test_priced_cost_is_the_cbas_valuation_and_its_difference_the_benefit_error(tmp_path: Path) -> None:
    """``priced_cost_eur`` of a day is ``f sum_c p_c q_c`` at the study's CBA prices, so ``B - A`` of it is
    minus B's benefit over A. Hand calculation with the default CBA parameters (congestion 300 EUR/MWh of
    overload, voltage 100 EUR/bus-h, curtailed RES 60 and losses 60 EUR/MWh, CO2 0 EUR/t, unserved need
    20 EUR/MWh, benefit factor 1) on one 24-h day where every KPI is 1 for A and 2 for B: A costs
    1 (resource) + 1 (aFRR) + 300 + 100 + 60 + 60 + 0 + 20 = 542 EUR, B 1,084 EUR; over the year (one day
    weighted 365) B - A = 365 x 542 = 197,830 EUR/a, i.e. B's benefit is -197,830 EUR/a; the error share
    of the difference is taken of A's own amount (365 x 542)."""
    from coordstudio.cba.parameters import CbaParameters

    mod = _module()
    rows = ["scheme,day_of_year,duration_h," + ",".join(mod.KPIS)]
    for scheme, v in (("A", 1.0), ("B", 2.0)):
        rows.append(f"{scheme},1,24.0," + ",".join(str(v) for _ in mod.KPIS))
    (tmp_path / "day_001.csv").write_text("\n".join(rows) + "\n")
    params = CbaParameters()
    assert params.co2_price_eur_per_t == 0.0 and params.benefit_factor == 1.0
    simulated = mod._read_days(tmp_path, params)
    assert simulated[1]["A"][mod.PRICED] == pytest.approx(542.0, rel=1e-12)
    assert simulated[1]["B"][mod.PRICED] == pytest.approx(1084.0, rel=1e-12)
    rows_out = {(r["series"], r["kpi"]): r for r in mod.annual_errors(simulated, {1: 365.0}, ["A", "B"], [1])}
    d = rows_out[("B - A", mod.PRICED)]
    assert d["reference_per_year"] == pytest.approx(197830.0, rel=1e-12)
    assert d["error_share_of_first_scheme"] == pytest.approx(0.0, abs=1e-12)  # the same day: no error


def test_markdown_tables_give_the_benefit_and_its_error_in_reference_ses() -> None:
    """The docs' benefit table from ``compare``'s rows, by hand: B's priced cost 20,000 EUR/a below A's in
    the reference (SE 5,000), 30,000 below from 8 days: B's benefit 20 +- 5 k EUR/a, estimate 30 k EUR/a,
    error (30 - 20) / 5 = +2.0 SEs; A's own priced cost 1.0 % high with an SE of 400 / 10,000 = 4.0 %."""
    mod = _module()
    p = mod.PRICED
    table = [
        {"n_days": 8, "series": "A", "kpi": p, "reference_per_year": 10_000.0, "reference_se_per_year": 400.0,
         "estimate_per_year": 10_100.0, "relative_error": 0.01, "error_share_of_first_scheme": 0.01},
        {"n_days": 8, "series": "B - A", "kpi": p, "reference_per_year": -20_000.0,
         "reference_se_per_year": 5_000.0, "estimate_per_year": -30_000.0, "relative_error": -0.5,
         "error_share_of_first_scheme": -1.0},
    ]
    md = mod.markdown_tables(table, "a test")
    assert "| B | 20 +- 5 | 30 (+2.0) |" in md
    assert "| priced_cost_eur | A | +1.0 % | 4.0 % |" in md


def test_year_study_hands_the_simulated_year_to_the_cba(tmp_path: Path) -> None:
    """``year-study`` then ``coordstudio cba``, as docs/cba.md gives them: 365 hand-made day files of the
    default study's six schemes, alike but for CMS losing 2 MWh of load on days 1-5 (12-h days, so 4 MWh
    a day scaled to 24 h). By hand, every alternative's yearly benefit of less load disconnected is
    5 x 4 MWh x 10,000 EUR/MWh (the default study's value of lost load) = 200,000 EUR/a, and every other
    category's 0 (1e-6 relative). The overlay weights each day 1 day/a (sum 365) and selects no days."""
    import csv
    import os
    import subprocess
    import sys

    import yaml

    mod = _module()
    days = tmp_path / "days"
    days.mkdir()
    schemes = ["CMS", "LMS", "SBR", "CM", "CM-D", "IFM"]
    for doy in range(1, 366):
        header = "scheme,day_of_year,duration_h," + ",".join(mod.KPIS)
        rows = [header + ",lines_tripped,energy_not_served_mwh"]
        for s in schemes:
            ens, trips = (2.0, 1) if s == "CMS" and doy <= 5 else (0.0, 0)
            rows.append(f"{s},{doy},12.0," + ",".join("1.0" for _ in mod.KPIS) + f",{trips},{ens}")
        (days / f"day_{doy:03d}.csv").write_text("\n".join(rows) + "\n")
    out = tmp_path / "year"
    assert mod.main(["year-study", "--results", str(days), "--out", str(out)]) == 0
    overlay = yaml.safe_load((out / "study.yaml").read_text())
    assert overlay["scenario"]["profiles"]["representative_days"] == 0
    assert sum(overlay["cba"]["day_weights_days_per_year"].values()) == pytest.approx(365.0, abs=1e-12)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, str(ROOT / "main.py"), "cba", str(out / "study.yaml"), "--results",
                           str(out / "kpis.csv"), "--out", str(out / "cba"), "--samples", "50"],
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    with (out / "cba" / "tables" / "benefits.csv").open(newline="") as fh:
        annual = {(r["scheme"], r["category"]): float(r["value"]) for r in csv.DictReader(fh)
                  if r["quantity"] == "annual_benefit"}
    for s in schemes[1:]:
        assert annual[(s, "energy_not_served")] == pytest.approx(200_000.0, rel=1e-6)
        assert all(abs(v) < 1e-6 for (x, c), v in annual.items() if x == s and c != "energy_not_served")
