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
