"""The scenario's device fleet in the physical layer: its model context, its initial state, and its
injections summed per node.

Every scheme's run and the schedule of the earlier markets start from the same fleet
(:func:`fresh_devices`, seeded from the spec), so the schemes differ only by what their markets do.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from coordstudio.simulation.physical.models import ModelContext, init_state
from coordstudio.simulation.physical.network import Q_PER_P_LOAD
from coordstudio.simulation.scenario.build import Scenario


def model_context(scenario: Scenario) -> ModelContext:
    """Device-model context of a scenario."""
    t = scenario.spec.timing
    return ModelContext(
        profiles=scenario.profiles,
        dt_h=t.physical_step_min / 60.0,
        start_h=t.start_h,
        noise_frac=scenario.spec.imbalance.device_noise_std_frac,
    )


def fresh_devices(scenario: Scenario, ctx: ModelContext) -> dict[str, Any]:
    """A copy of the scenario's devices with their initial state (same for every scheme)."""
    devices = {cat: d.fresh_copy() for cat, d in scenario.devices.items()}  # fixed data shared, read-only
    init_state(
        devices,
        ctx,
        np.random.default_rng(scenario.spec.seed + 7),
        [g.profile for g in scenario.spec.device_groups],
    )
    return devices


def node_sums(devices_p: dict[str, np.ndarray], scenario: Scenario) -> np.ndarray:
    """Net active injection (MW) of the devices at each node, from each category's power (kW)."""
    n = len(scenario.nodes)
    out = np.zeros(n)
    for cat, p in devices_p.items():
        if p.size:
            out += np.bincount(scenario.devices[cat].node, p, n)
    return out / 1000.0


def load_q(devices_p: dict[str, np.ndarray], scenario: Scenario) -> np.ndarray:
    """Reactive injection (Mvar) of the devices' consumption at each node (loads at a fixed power factor)."""
    n = len(scenario.nodes)
    out = np.zeros(n)
    for cat, p in devices_p.items():
        if p.size:
            out += np.bincount(scenario.devices[cat].node, np.minimum(p, 0.0), n)
    return out / 1000.0 * Q_PER_P_LOAD


__all__ = ["fresh_devices", "load_q", "model_context", "node_sums"]
