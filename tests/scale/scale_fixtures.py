"""Helpers of the scale tests: a fast, deterministic stand-in for the platform that can fail on demand.

Importable by Dask worker processes (they receive the test process's ``sys.path``). It records each call
as a file in ``$SWEEP_TEST_DIR`` so tests can count runs across processes.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from coordstudio.simulation.kpis import SchemeKpis
from coordstudio.simulation.run import SchemeRun
from coordstudio.simulation.scenario import ScenarioSpec
from coordstudio.simulation.simulate import SimulationResult


def fake_simulate(
    spec: ScenarioSpec, schemes: list[str], db_url: str | None, progress: object
) -> SimulationResult:
    """KPIs that are a known function of the spec: activation cost = 1000 x day_of_year + seed % 1000 +
    100 x forecast_error_std_frac; scheme SBR always fails, scheme LMS fails on its first call per day."""
    scheme = schemes[0]
    folder = Path(os.environ["SWEEP_TEST_DIR"])
    key = f"{scheme}-{spec.name}-{spec.imbalance.forecast_error_std_frac}"
    calls = len(list(folder.glob(f"call-{key}-*")))
    (folder / f"call-{key}-{uuid.uuid4().hex}").write_text("x")
    if scheme == "SBR":
        raise RuntimeError("SBR always fails in this test")
    if scheme == "LMS" and calls == 0:
        raise RuntimeError("LMS fails on its first attempt")
    cost = (
        1000.0 * spec.profiles.day_of_year + spec.seed % 1000 + 100.0 * spec.imbalance.forecast_error_std_frac
    )
    kpis = SchemeKpis(
        scheme=scheme,
        day=spec.name,
        activation_cost_eur=cost,
        afrr_energy_mwh=1.0,
        afrr_cost_eur=2.0,
        congestion_hours_h=0.0,
        overload_energy_mwh=0.0,
        voltage_violation_hours_h=0.0,
        curtailed_res_mwh=0.0,
        losses_mwh=0.0,
        slack_energy_mwh=0.0,
        slack_cost_eur=0.0,
    )
    return SimulationResult({scheme: SchemeRun(scheme, kpis)})


def n_calls(folder: Path) -> int:
    """Number of fake_simulate calls recorded in ``folder``."""
    return len(list(folder.glob("call-*")))
