"""Scenario specification: the small persisted description of a simulated power system.

A study file holds one :class:`ScenarioSpec` under ``scenario:``. It names grids (pandapower bundled
cases, SimBench codes), says how many devices of each DER category sit where and with which parameter
distributions, which profiles drive them, how the system imbalance and forecast errors behave, and the
timing of the market loop. It holds no arrays: :func:`simulation.scenario.build.build_scenario` turns it
into the concrete scenario (numpy arrays per device type, reproducible from ``seed``).

Units are in the field names, as pandapower does (``p_max_kw``, ``horizon_min``, ``price_eur_per_mwh``).
Every field carries a description, which the GUI shows as tooltip and the Excel export as header note.

The package's modules: :mod:`~simulation.scenario.categories` (device categories and their parameter
defaults), :mod:`~simulation.scenario.spec` (the pydantic models), :mod:`~simulation.scenario.defaults`
(the embedded default scenario), :mod:`~simulation.scenario.endpoints` (endpoint counts for the ICT
costing) and :mod:`~simulation.scenario.build` (spec to concrete scenario). Import the names from the
package: ``from simulation.scenario import ScenarioSpec``.
"""

from __future__ import annotations

from coordstudio.simulation.scenario.categories import (
    AGGREGATION_MODEL_OF_CATEGORY,
    CATEGORY_PARAMETERS,
    DER_CATEGORIES,
    DEVICE_CATEGORIES,
)
from coordstudio.simulation.scenario.defaults import default_scenario_spec
from coordstudio.simulation.scenario.endpoints import endpoint_counts
from coordstudio.simulation.scenario.spec import (
    AfrrSpec,
    CopperPlateNodeSpec,
    DeviceGroupSpec,
    FeederSpec,
    ImbalanceSpec,
    MeasurementSpec,
    ParamDistribution,
    PricesSpec,
    ProfileSpec,
    ScadaSpec,
    ScenarioSpec,
    TimingSpec,
    TransmissionGridSpec,
)

__all__ = [
    "AGGREGATION_MODEL_OF_CATEGORY",
    "CATEGORY_PARAMETERS",
    "DER_CATEGORIES",
    "DEVICE_CATEGORIES",
    "AfrrSpec",
    "CopperPlateNodeSpec",
    "DeviceGroupSpec",
    "FeederSpec",
    "ImbalanceSpec",
    "MeasurementSpec",
    "ParamDistribution",
    "PricesSpec",
    "ProfileSpec",
    "ScadaSpec",
    "ScenarioSpec",
    "TimingSpec",
    "TransmissionGridSpec",
    "default_scenario_spec",
    "endpoint_counts",
]
