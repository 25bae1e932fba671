"""Small scenarios for the simulation-platform tests (tiny, synthetic profiles, no SimBench load)."""

from __future__ import annotations

from coordstudio.simulation.scenario import (
    CopperPlateNodeSpec as CopperPlateNode,
)
from coordstudio.simulation.scenario import (
    DeviceGroupSpec,
    FeederSpec,
    ParamDistribution,
    ProfileSpec,
    ScenarioSpec,
    TimingSpec,
    TransmissionGridSpec,
)


def small_spec(duration_h: float = 2.0, start_h: float = 10.0) -> ScenarioSpec:
    """case30 transmission, one case33bw feeder, one copper-plate node, ~300 devices, synthetic profiles."""
    groups = [
        DeviceGroupSpec(
            group_id="F1-load", category="noncontrollable_load", area="F1", count=120, profile="load"
        ),
        DeviceGroupSpec(
            group_id="F1-pv",
            category="variable_res",
            area="F1",
            count=60,
            profile="pv",
            parameters={"p_max_kw": ParamDistribution(kind="uniform", low=10.0, high=30.0)},
        ),
        DeviceGroupSpec(group_id="F1-tcl", category="tcl", area="F1", count=40),
        DeviceGroupSpec(group_id="F1-bess", category="storage", area="F1", count=10),
        DeviceGroupSpec(group_id="F1-ev", category="ev", area="F1", count=20),
        DeviceGroupSpec(group_id="F1-wet", category="shiftable_load", area="F1", count=30),
        DeviceGroupSpec(group_id="CP1-ev", category="ev", area="CP1", count=30),
        DeviceGroupSpec(group_id="CP1-conv", category="conventional", area="CP1", count=1),
        DeviceGroupSpec(group_id="CP1-chp", category="chp", area="CP1", count=1),
        DeviceGroupSpec(group_id="CP1-light", category="curtailable_load", area="CP1", count=20),
    ]
    return ScenarioSpec(
        name="small",
        transmission=TransmissionGridSpec(case_name="case30"),
        feeders=[FeederSpec(feeder_id="F1", case_name="case33bw", interface_bus=7, line_rating_mva=4.0)],
        copper_plate_nodes=[CopperPlateNode(node_id="CP1", interface_bus=11)],
        device_groups=groups,
        profiles=ProfileSpec(source="synthetic"),
        timing=TimingSpec(
            duration_h=duration_h,
            start_h=start_h,
            horizon_min=60,
            granularity_min=30,
            clearing_frequency_min=60,
            physical_step_min=15,
        ),
    )
