"""The recording stage: everything one scheme's run keeps, from what the other stages returned.

:class:`Recorder` owns the run's three records and feeds them in step order: the KPI sums
(:class:`~simulation.recording.kpi_accumulator.KpiAccumulator`), the message log
(:class:`~simulation.recording.messages.MessageLog`) and, when the run has a results database, the
:class:`simulation.db.ResultsWriter` (rows from :mod:`simulation.recording.rows`, written in batches).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from coordstudio.simulation.bidding.dispatch import DispatchOutcome
from coordstudio.simulation.clearing_stage import ClearingOutcome
from coordstudio.simulation.db import ResultsWriter
from coordstudio.simulation.kpis import SchemeKpis
from coordstudio.simulation.measurement import Measurement
from coordstudio.simulation.physical.step import PhysicsOutcome
from coordstudio.simulation.recording.kpi_accumulator import KpiAccumulator, flat_kpis, price_map_of
from coordstudio.simulation.recording.messages import (
    MessageLog,
    log_clearing,
    log_measurements,
    log_setpoints,
)
from coordstudio.simulation.recording.rows import (
    balancing_rows,
    clearing_rows,
    failed_clearing_rows,
    measurement_rows,
    setpoint_rows,
)
from coordstudio.simulation.scenario.build import Scenario
from coordstudio.simulation.schemes import SchemeBehaviour

FLUSH_EVERY_STEPS = 8
"""Physical steps between two writes of the buffered rows to the database."""


class Recorder:
    """KPIs, messages and database rows of one scheme's run (see module docstring)."""

    def __init__(
        self,
        scenario: Scenario,
        behaviour: SchemeBehaviour,
        writer: ResultsWriter | None,
        devices_per_aggregator: list[int],
        nodes_per_feeder: dict[str, int],
        timings: dict[str, float],
    ) -> None:
        spec = scenario.spec
        tsp = spec.timing
        self.scenario = scenario
        self.behaviour = behaviour
        self.writer = writer
        self.kpis = KpiAccumulator()
        self.log = MessageLog()
        self.failures: list[str] = []
        """``"clearing c: why"`` of every clearing without a usable solution."""
        self.timings = timings
        self._devices_per_aggregator = devices_per_aggregator
        self._nodes_per_feeder = nodes_per_feeder
        self._dso_of_area = {fs.feeder_id: fs.dso_id for fs in spec.feeders} | {
            c.node_id: c.dso_id for c in spec.copper_plate_nodes
        }
        self._branches_of_area = {
            fid: int(len(net.line) + len(net.trafo)) for fid, net in scenario.feeder_nets.items()
        }
        """Lines and transformers of each detailed feeder (the records of its grid model)."""
        self._n_firm = tsp.clearing_frequency_min // tsp.granularity_min
        self._dt_mstep_h = tsp.physical_step_min / 60.0 * (tsp.granularity_min // tsp.physical_step_min)
        self._dt_h = tsp.physical_step_min / 60.0
        self._penalty = spec.prices.slack_penalty_eur_per_mwh
        self._n_recorded = 0

    def clearing(self, c: int, t_min: float, t_first_min: float, outcome: ClearingOutcome) -> None:
        """A clearing made at ``t_min`` whose first delivery step starts at ``t_first_min``: a failed one
        counts in ``failed_clearings`` and is stored with its message; otherwise its KPIs (firm steps),
        messages and rows."""
        book, a, result = outcome.book, outcome.activation_mw, outcome.result
        self._n_recorded += 1
        self.kpis.clearings += 1
        if result is None:
            self.kpis.add_failed_clearing(outcome.failure_kind)
            self.failures.append(f"clearing {c}: {outcome.error}")
            if self.writer is not None:
                self.writer.add(
                    "clearings", failed_clearing_rows(c, t_first_min, len(book), str(outcome.error))
                )
            return
        area = self.scenario.nodes.area
        price_map = price_map_of(result)
        money = self.kpis.add_clearing(
            book, result, a, price_map, self._n_firm, self._dt_mstep_h, self._penalty, area, outcome.needs_mw
        )
        log_clearing(
            self.log,
            t_min,
            book,
            a,
            self.behaviour,
            area,
            self._dso_of_area,
            horizon_steps=self.scenario.spec.timing.steps_per_horizon,
            curve_points=self.scenario.spec.prices.curve_points,
            branches_of_area=self._branches_of_area,
        )
        if self.writer is not None:
            rows = clearing_rows(
                c, t_first_min, book, result, a, price_map, self._n_firm, self._dt_mstep_h, money
            )
            for table, table_rows in rows.items():
                self.writer.add(table, table_rows)

    def setpoints(self, t_min: float, d: DispatchOutcome) -> None:
        """The step's set-points: a row per activated pool, a message per device moved."""
        scen = self.scenario
        if d.pool_activation_mw and self.writer is not None:
            rows = setpoint_rows(
                t_min, d.pool_activation_mw, d.moved_per_pool, scen.aggregators, scen.nodes.name
            )
            self.writer.add("setpoints", rows)
        log_setpoints(self.log, t_min, scen.aggregators, scen.aggregator_area, d.moved_per_aggregator)

    def physics(self, p: PhysicsOutcome) -> None:
        """The physical step's KPIs (curtailment, losses, aFRR, limit violations, trips)."""
        prices = self.scenario.spec.prices
        self.kpis.add_physics(
            p, self._dt_h, prices.afrr_price_up_eur_per_mwh, prices.afrr_price_down_eur_per_mwh
        )

    def measurements(self, t_min: float, m: Measurement, p: PhysicsOutcome) -> None:
        """The step's measurements (rows and messages), its balancing row (aFRR against the residual
        imbalance) and SCADA set-points; hands the step's messages to the database."""
        scen = self.scenario
        if self.writer is not None:
            self.writer.add("measurements", measurement_rows(t_min, scen.nodes.name, m))
            self.writer.add("balancing", balancing_rows(t_min, p.afrr_need_mw, p.afrr_mw))
        log_measurements(
            self.log,
            t_min,
            scen.spec,
            self._nodes_per_feeder,
            scen.aggregators,
            scen.aggregator_area,
            self._devices_per_aggregator,
            p.scada_actions,
        )
        if self.writer is not None:
            self.writer.add("messages", self.log.take())

    def end_of_step(self, k: int) -> None:
        """Write the buffered rows every :data:`FLUSH_EVERY_STEPS` steps."""
        if self.writer is not None and (k + 1) % FLUSH_EVERY_STEPS == 0:
            tdb = time.perf_counter()
            self.writer.flush(n_clearings=self._n_recorded)
            self.timings["database"] += time.perf_counter() - tdb

    def result_kpis(self) -> SchemeKpis:
        """The run's KPIs."""
        spec = self.scenario.spec
        return self.kpis.to_kpis(
            self.behaviour.scheme_id,
            spec.name,
            spec.timing.duration_h,
            self.log.messages_by_pair,
            self.log.bytes_by_pair,
        )

    def finish(self, kpis: SchemeKpis) -> None:
        """Store the KPIs and mark the run completed."""
        if self.writer is None:
            return
        t0 = time.perf_counter()
        self.writer.add("kpis", [{"name": k, "value": float(v)} for k, v in flat_kpis(kpis).items()])
        self.writer.finish("completed", self.scenario.spec.timing.n_clearings, kpis.model_dump_json())
        self.timings["database"] += time.perf_counter() - t0


    def fail(self, kpis: SchemeKpis) -> None:
        """Store the KPIs of the steps before a run's failure and mark the run failed."""
        if self.writer is None:
            return
        self.writer.add("kpis", [{"name": k, "value": float(v)} for k, v in flat_kpis(kpis).items()])
        self.writer.finish("failed", self._n_recorded)


def count_per_aggregator(devices: dict[str, Any], n_aggregators: int) -> list[int]:
    """Devices of each aggregator (its DER gateways' measurement messages per step)."""
    return [
        sum(int(np.count_nonzero(d.aggregator == i)) for d in devices.values()) for i in range(n_aggregators)
    ]


__all__ = ["FLUSH_EVERY_STEPS", "Recorder", "count_per_aggregator"]
