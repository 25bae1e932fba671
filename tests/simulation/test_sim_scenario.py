"""Scenario spec and concrete scenario: round trips, reproducibility, and errors naming object and field."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml
from pydantic import ValidationError
from sim_fixtures import small_spec

from coordstudio.simulation.errors import ScenarioError
from coordstudio.simulation.scenario import (
    DeviceGroupSpec,
    ParamDistribution,
    ProfileSpec,
    ScenarioSpec,
    default_scenario_spec,
    endpoint_counts,
)
from coordstudio.simulation.scenario.build import build_scenario


def test_default_spec_round_trips_through_json_and_yaml() -> None:
    spec = default_scenario_spec()
    assert ScenarioSpec.model_validate_json(spec.model_dump_json()) == spec
    assert ScenarioSpec.model_validate(yaml.safe_load(yaml.safe_dump(spec.model_dump(mode="json")))) == spec
    assert len(json.dumps(spec.model_dump(mode="json"))) < 50_000  # small: no arrays


def test_default_spec_is_a_study_of_thousands_of_devices() -> None:
    spec = default_scenario_spec()
    counts = endpoint_counts(spec)
    assert set(counts) >= {
        "der",
        "aggregator",
        "primary_substation",
        "secondary_substation",
        "dso",
        "tso",
        "market_operator",
        "commercial_party",
        "smart_meter",
    }
    assert counts["der"] >= 2000 and counts["smart_meter"] > counts["der"]
    assert counts["dso"] == 3 and counts["tso"] == 1
    assert 2 <= len(spec.feeders) <= 3


def test_every_field_has_a_description() -> None:
    def walk(model: type) -> None:
        for name, f in model.model_fields.items():  # type: ignore[attr-defined]
            assert f.description, f"{model.__name__}.{name} has no description"
            ann = f.annotation
            for sub in getattr(ann, "__args__", ()) + (ann,):
                if isinstance(sub, type) and hasattr(sub, "model_fields"):
                    walk(sub)

    walk(ScenarioSpec)


def test_unknown_area_names_the_group_and_field() -> None:
    with pytest.raises(ValidationError, match="device group 'x': field area names unknown area 'nowhere'"):
        ScenarioSpec(device_groups=[DeviceGroupSpec(group_id="x", category="tcl", area="nowhere", count=3)])


def test_unknown_parameter_names_the_group() -> None:
    with pytest.raises(ValidationError, match="device group 'x': field parameters has unknown name"):
        DeviceGroupSpec(
            group_id="x",
            category="tcl",
            area="F1",
            count=1,
            parameters={"foo_kw": ParamDistribution(kind="constant", value=1.0)},
        )


def test_build_is_reproducible_by_seed() -> None:
    a = build_scenario(small_spec())
    b = build_scenario(small_spec())
    for cat in a.devices:
        np.testing.assert_array_equal(a.devices[cat].node, b.devices[cat].node)
        for name in a.devices[cat].params:
            np.testing.assert_array_equal(a.devices[cat].params[name], b.devices[cat].params[name])
    np.testing.assert_array_equal(a.imbalance_mw, b.imbalance_mw)
    other = small_spec()
    other.seed = 1
    c = build_scenario(other)
    assert not np.array_equal(a.devices["tcl"].params["p_rated_kw"], c.devices["tcl"].params["p_rated_kw"])


def test_devices_are_arrays_per_category() -> None:
    scen = build_scenario(small_spec())
    tcl = scen.devices["tcl"]
    assert isinstance(tcl.params["p_rated_kw"], np.ndarray) and tcl.params["p_rated_kw"].shape == (40,)
    assert scen.n_devices == sum(g.count for g in scen.spec.device_groups)


def test_negative_capacity_names_device_and_field() -> None:
    spec = small_spec()
    spec.device_groups[3].parameters = {"e_max_kwh": ParamDistribution(kind="constant", value=-5.0)}
    with pytest.raises(ScenarioError, match=r"device F1-bess#0: field e_max_kwh is negative"):
        build_scenario(spec)


def test_device_at_unknown_bus_names_group_and_field() -> None:
    spec = small_spec()
    spec.device_groups[2].buses = [5, 999]
    with pytest.raises(ScenarioError, match=r"device group 'F1-tcl': field buses names bus 999"):
        build_scenario(spec)


def test_device_array_at_unknown_node_names_device() -> None:
    scen = build_scenario(small_spec())
    tcl = scen.devices["tcl"]
    tcl.node[3] = 10_000
    with pytest.raises(ScenarioError, match=r"device F1-tcl#3: field node refers to node 10000"):
        tcl.validate(len(scen.nodes), scen.device_ids["tcl"])


def test_nan_in_profile_names_profile_and_step(tmp_path) -> None:  # type: ignore[no-untyped-def]
    n = 8
    rows = ["load,pv,wind,ambient_temp_c"] + [f"0.5,{'nan' if i == 5 else 0.2},0.3,20" for i in range(n)]
    path = tmp_path / "profiles.csv"
    path.write_text("\n".join(rows) + "\n")
    spec = small_spec()
    spec.profiles = ProfileSpec(source="csv", csv_path=str(path))
    with pytest.raises(ScenarioError, match=r"profile 'pv' is not a number at step 5"):
        build_scenario(spec)


def test_unknown_interface_bus_names_feeder() -> None:
    spec = small_spec()
    spec.feeders[0].interface_bus = 300
    with pytest.raises(ScenarioError, match=r"feeder 'F1': field interface_bus 300"):
        build_scenario(spec)
