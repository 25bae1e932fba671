"""The measurement stage: what the operators' SCADA and state estimation report after a physical step.

Every node's net injection and voltage magnitude, each with its state-estimation error::

    p_measured[n]  = p_true[n] * (1 + e_p[n]),   e_p ~ N(0, p_error_std_frac^2)
    vm_measured[n] = vm_true[n] + e_v[n],        e_v ~ N(0, vm_error_std_pu^2)

(``spec.measurement``; one generator, the active powers' errors drawn first). The next clearing's forecast
(:mod:`simulation.forecast`) starts from these measured injections, not the true ones: it takes out the
activations the operators dispatched and the payback they expect, and carries the rest of the deviation,
the state-estimation error included, into the forecast of the uncontrolled system (issue 16 item 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from coordstudio.simulation.physical.network import PhysicalNetwork
from coordstudio.simulation.scenario.build import Scenario


@dataclass
class Measurement:
    """One physical step's measurements, per node (``nan`` voltage: the node's bus is not energised)."""

    p_true_mw: np.ndarray
    """(n_nodes,) true net injection."""
    p_measured_mw: np.ndarray
    """(n_nodes,) measured net injection (with the state-estimation error)."""
    vm_true_pu: np.ndarray
    """(n_nodes,) true voltage magnitude."""
    vm_measured_pu: np.ndarray
    """(n_nodes,) measured voltage magnitude."""


def measure(
    scenario: Scenario, net: PhysicalNetwork, true_injection_mw: np.ndarray, rng: np.random.Generator
) -> Measurement:
    """Measure the grid ``net`` has just solved (see module docstring)."""
    spec = scenario.spec
    nodes = scenario.nodes
    n_nodes = len(nodes)
    err = spec.measurement.p_error_std_frac * rng.standard_normal(n_nodes)
    meas_inj = true_injection_mw * (1.0 + err)
    vm_true = np.full(n_nodes, np.nan)
    for fs in spec.feeders:
        sel = net.feeder_node_idx[fs.feeder_id]
        vm_true[sel] = net.fnets[fs.feeder_id].res_bus.vm_pu.reindex(nodes.bus[sel]).to_numpy(float)
    tsel = net.t_node_idx
    vm_true[tsel] = net.tnet.res_bus.vm_pu.reindex(nodes.bus[tsel]).to_numpy(float)
    vm_meas = vm_true + spec.measurement.vm_error_std_pu * rng.standard_normal(n_nodes)
    return Measurement(true_injection_mw, meas_inj, vm_true, vm_meas)


__all__ = ["Measurement", "measure"]
