"""The embedded default scenario (:func:`default_scenario_spec`): the study every run starts from."""

from __future__ import annotations

from coordstudio.simulation.scenario.spec import (
    CopperPlateNodeSpec,
    DeviceGroupSpec,
    FeederSpec,
    ParamDistribution,
    ScenarioSpec,
    TimingSpec,
    TransmissionGridSpec,
)


def _group(group_id: str, category: str, area: str, count: int, **kw: object) -> DeviceGroupSpec:
    """A device group of the default scenario (``kw``: the optional fields)."""
    return DeviceGroupSpec(group_id=group_id, category=category, area=area, count=count, **kw)  # type: ignore[arg-type]


def default_scenario_spec() -> ScenarioSpec:
    """The embedded default scenario: one summer day on IEEE 30-bus transmission with three feeders.

    Transmission: pandapower ``case30`` (30 buses at 135 kV, 189 MW of load), the transmission generators
    offering a quarter of their rating up and down. Detailed distribution: two ``case33bw`` feeders
    (12.66 kV) and the CIGRE MV benchmark grid (20 kV, loads scaled to a fifth). Four copper-plate
    distribution nodes. About 6,000 devices of all eight categories. PV on the detailed feeders drives
    reverse flows and over-voltage at noon; the evening peak with EV charging and heat pumps drives
    under-voltage and line overloads; the transmission corridor from bus 5 to 7 is near its rating.
    """
    return ScenarioSpec(
        name="default",
        transmission=TransmissionGridSpec(case_name="case30", line_rating_factor=1.0),
        # a 3-hour rolling horizon (2 firm steps, 4 advisory): the market sees paybacks and rebounds
        timing=TimingSpec(horizon_min=180),
        feeders=_default_feeders(),
        copper_plate_nodes=_default_copper_plates(),
        device_groups=_feeder_groups() + _copper_plate_groups(),
    )


def _default_feeders() -> list[FeederSpec]:
    """The three detailed feeders: two ``case33bw`` (F1 with reactive compensation) and the CIGRE MV grid."""
    return [
        FeederSpec(
            feeder_id="F1",
            case_name="case33bw",
            dso_id="DSO-A",
            interface_bus=7,
            line_rating_mva=4.0,
            load_scale_frac=1.0,
            q_compensation_mvar=0.6,
        ),
        FeederSpec(
            feeder_id="F2",
            case_name="case33bw",
            dso_id="DSO-B",
            interface_bus=20,
            line_rating_mva=4.0,
            load_scale_frac=0.9,
        ),
        FeederSpec(
            feeder_id="F3",
            case_name="create_cigre_network_mv",
            dso_id="DSO-B",
            interface_bus=29,
            load_scale_frac=0.2,
        ),
    ]


def _default_copper_plates() -> list[CopperPlateNodeSpec]:
    """The four copper-plate distribution nodes of three DSOs."""
    return [
        CopperPlateNodeSpec(node_id="CP1", dso_id="DSO-A", interface_bus=6),
        CopperPlateNodeSpec(node_id="CP2", dso_id="DSO-A", interface_bus=11),
        CopperPlateNodeSpec(node_id="CP3", dso_id="DSO-B", interface_bus=18),
        CopperPlateNodeSpec(node_id="CP4", dso_id="DSO-C", interface_bus=23),
    ]


def _feeder_groups() -> list[DeviceGroupSpec]:
    """The detailed feeders' devices: the same mix on each (scaled), plus what makes each congest: a
    solar village at F1's ends, an EV depot at F2's ends, a wind park and CHP units."""
    groups: list[DeviceGroupSpec] = []
    ends = [13, 14, 15, 16, 17, 28, 29, 30, 31, 32]  # far ends of case33bw's two long branches
    for fid, scale in (("F1", 1.0), ("F2", 0.9), ("F3", 1.2)):
        groups += [
            _group(f"{fid}-load", "noncontrollable_load", fid, int(900 * scale), profile="load"),
            _group(
                f"{fid}-pv",
                "variable_res",
                fid,
                int(350 * scale),
                profile="pv",
                parameters={"p_max_kw": ParamDistribution(kind="uniform", low=4.0, high=12.0)},
            ),
            _group(f"{fid}-ev", "ev", fid, int(150 * scale)),
            _group(f"{fid}-tcl", "tcl", fid, int(200 * scale)),
            _group(f"{fid}-wet", "shiftable_load", fid, int(250 * scale)),
            _group(f"{fid}-bess", "storage", fid, int(40 * scale)),
            _group(f"{fid}-light", "curtailable_load", fid, int(100 * scale)),
        ]
    # F1: a solar village at the feeder ends (reverse flow and over-voltage at noon)
    groups.append(
        _group(
            "F1-pv-farm",
            "variable_res",
            "F1",
            250,
            profile="pv",
            buses=ends,
            parameters={"p_max_kw": ParamDistribution(kind="uniform", low=15.0, high=30.0)},
        )
    )
    # F2: a fleet depot and heat pumps at the feeder ends (evening overload and under-voltage)
    groups.append(
        _group(
            "F2-ev-depot",
            "ev",
            "F2",
            300,
            buses=ends,
            parameters={
                "p_max_kw": ParamDistribution(kind="uniform", low=7.0, high=11.0),
                "arrival_h": ParamDistribution(kind="normal", mean=17.5, std=1.0, low=15.0, high=21.0),
            },
        )
    )
    groups.append(
        _group(
            "F3-wind",
            "variable_res",
            "F3",
            3,
            profile="wind",
            parameters={"p_max_kw": ParamDistribution(kind="uniform", low=1500.0, high=2500.0)},
        )
    )
    groups.append(_group("F1-chp", "chp", "F1", 2))
    groups.append(_group("F3-chp", "chp", "F3", 2))
    return groups


def _copper_plate_groups() -> list[DeviceGroupSpec]:
    """The copper-plate nodes' devices: the same mix on each, larger units than on the feeders."""
    groups: list[DeviceGroupSpec] = []
    for cp in ("CP1", "CP2", "CP3", "CP4"):
        groups += [
            _group(
                f"{cp}-load",
                "noncontrollable_load",
                cp,
                300,
                profile="load",
                parameters={"p_peak_kw": ParamDistribution(kind="uniform", low=10.0, high=30.0)},
            ),
            _group(
                f"{cp}-pv",
                "variable_res",
                cp,
                60,
                profile="pv",
                parameters={"p_max_kw": ParamDistribution(kind="uniform", low=20.0, high=60.0)},
            ),
            _group(f"{cp}-ev", "ev", cp, 120),
            _group(f"{cp}-tcl", "tcl", cp, 100),
            _group(
                f"{cp}-bess",
                "storage",
                cp,
                15,
                parameters={
                    "p_max_kw": ParamDistribution(kind="uniform", low=50.0, high=200.0),
                    "e_max_kwh": ParamDistribution(kind="uniform", low=100.0, high=400.0),
                },
            ),
            _group(f"{cp}-conv", "conventional", cp, 1),
        ]
    return groups
