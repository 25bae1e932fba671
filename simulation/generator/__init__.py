"""Scenario generator: the seed's Italian 2030 data set (and smaller national presets) on real grid data.

``generate_scenario("italy-2030", out_dir, seed=..., scale=...)`` returns a
:class:`~simulation.generator.generate.GeneratedScenario` whose ``spec`` is a normal
:class:`simulation.scenario.ScenarioSpec`: a PEGASE transmission grid reduced to 3,648 buses, 2,410
distribution nodes of which 50 are SimBench MV grids modelled in detail, and the seed's device counts
allocated by population-like weights. ``scale`` shrinks every count for tests; ``seed`` makes it
reproducible. See ``docs/scale.md`` for the method and every source.
"""

from __future__ import annotations

from coordstudio.simulation.generator.generate import (
    SIMBENCH_MV,
    GeneratedScenario,
    generate_scenario,
    preset,
    spec_device_counts,
    target_counts,
)
from coordstudio.simulation.generator.presets import DEVICE_KINDS, PRESETS, DeviceKind, ScalePreset, scaled

__all__ = [
    "DEVICE_KINDS",
    "PRESETS",
    "SIMBENCH_MV",
    "DeviceKind",
    "GeneratedScenario",
    "ScalePreset",
    "generate_scenario",
    "preset",
    "scaled",
    "spec_device_counts",
    "target_counts",
]
