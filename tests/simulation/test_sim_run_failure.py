"""A physics or solver failure inside a scheme's run is a reported, named failure of that scheme, not a
crash (issue 18, sections 1 and 3; docs/reliability.md, section 1).

The first scheme's transmission power flow raises pandapower's ``LoadflowNotConverged`` at its second
physical step (injected into the physical network of that run only); the second scheme completes. The
failed run returns the KPIs of the step before it, ``run_failed = 1`` and a message naming the step and the
grid; its database row says ``failed``, the other ``completed``. Clearing failures are counted by kind.
"""

from __future__ import annotations

from typing import Any

import pytest
from pandapower.auxiliary import LoadflowNotConverged
from sim_fixtures import small_spec
from sqlalchemy import create_engine, text

import coordstudio.simulation.run as run_module
from coordstudio.simulation.clearing_stage import failure_kind
from coordstudio.simulation.errors import InfeasibleMarketError, PhysicsFailedError, SolverFailedError
from coordstudio.simulation.physical.network import PhysicalNetwork
from coordstudio.simulation.simulate import simulate


def test_a_power_flow_that_raises_fails_its_scheme_by_name_and_the_other_completes(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    created: list[PhysicalNetwork] = []

    class FailingFirst(PhysicalNetwork):
        calls = 0

        def transmission_step(self, *args: Any, **kwargs: Any) -> Any:
            if self is created[0]:
                FailingFirst.calls += 1
                if FailingFirst.calls == 2:
                    raise LoadflowNotConverged("Power Flow nr did not converge after 10 iterations!")
            return super().transmission_step(*args, **kwargs)

    def network(scenario: Any) -> PhysicalNetwork:
        net = FailingFirst(scenario)
        created.append(net)
        return net

    monkeypatch.setattr(run_module, "PhysicalNetwork", network)
    db = f"sqlite:///{tmp_path / 'r.sqlite'}"
    result = simulate(small_spec(1.0), ["CMS", "LMS"], db, processes=1)

    failed, completed = result.runs["CMS"], result.runs["LMS"]
    assert failed.failure == (
        "physical step 1, grid transmission: power flow failed "
        "(LoadflowNotConverged: Power Flow nr did not converge after 10 iterations!)"
    )
    assert failed.kpis.run_failed == 1 and failed.kpis.run_failure == failed.failure
    assert failed.kpis.afrr_energy_mwh > 0  # the step before the failure was measured
    assert completed.failure is None and completed.kpis.run_failed == 0 and completed.kpis.run_failure == ""
    assert completed.kpis.clearings == 1 and completed.kpis.failed_clearings == 0
    with create_engine(db).connect() as conn:
        status = dict(conn.execute(text("SELECT scheme, status FROM runs")).fetchall())
    assert status == {"CMS": "failed", "LMS": "completed"}


def test_physics_failed_error_is_a_simulation_error() -> None:
    from coordstudio.simulation.errors import SimulationError

    assert issubclass(PhysicsFailedError, SimulationError)
    assert PhysicsFailedError in run_module.RUN_FAILURES


def test_clearing_failures_are_classified_by_kind() -> None:
    assert failure_kind(InfeasibleMarketError("CMS clearing 3: infeasible even with slack")) == "infeasible"
    assert failure_kind(SolverFailedError("x: solver 'highs' returned no optimal solution (kTimeLimit)")) == (
        "time_limit"
    )
    appsi = SolverFailedError("x: solver 'appsi' returned no optimal solution (maxTimeLimit)")
    assert failure_kind(appsi) == "time_limit"
    assert failure_kind(SolverFailedError("x: solver 'highs' failed: boom")) == "solver"


def test_recorder_counts_clearings_by_kind() -> None:
    from coordstudio.simulation.recording.kpi_accumulator import KpiAccumulator

    acc = KpiAccumulator()
    for kind in ("infeasible", "time_limit", "solver"):
        acc.add_failed_clearing(kind)
    k = acc.to_kpis("CMS", "d", 24.0, {}, {})
    assert (k.failed_clearings, k.infeasible_clearings, k.time_limited_clearings) == (3, 1, 1)
