"""Scenario presets: target counts of the seed's Italian 2030 data set and two smaller national scenarios.

A preset is data: how many transmission and distribution nodes, how many detailed distribution grids,
and how many devices of each of the ten device kinds the seed document lists. The device kinds map onto
the platform's eight DER categories with parameter distributions (:data:`DEVICE_KINDS`); every figure
carries its source, or says ``assumption (...)`` where no primary source was checked.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DeviceKind(_Model):
    """One kind of device of the seed's data set and how the generator places and parameterises it."""

    kind: str = Field(description="Device kind id (pv, wind_farm, ...), as in the preset's counts.")
    category: Literal[
        "storage", "ev", "variable_res", "chp", "conventional", "shiftable_load", "curtailable_load", "tcl"
    ] = Field(description="Platform device category the kind is modelled as.")
    location: Literal["transmission", "distribution"] = Field(
        description="Connected to transmission buses (large plants) or to distribution nodes."
    )
    weight: Literal["population", "resource", "generation"] = Field(
        description="Allocation weight: population-like (load served), a resource lognormal, or the "
        "PEGASE generation capacity of the bus (transmission plants)."
    )
    resource_sigma: float = Field(
        default=0.0, ge=0, description="Sigma of the lognormal affinity multiplying the weight per node, -."
    )
    profile: Literal["load", "pv", "wind", "flat"] | None = Field(
        default=None, description="Time profile driving the kind (variable RES: pv, wind or flat)."
    )
    parameters: dict[str, dict[str, float | str]] = Field(
        default_factory=dict,
        description="Parameter name (with unit) -> distribution overriding the category default.",
    )
    expected_p_kw: float = Field(
        description="Mean rated power of one device, kW (for the detailed-grid score and the load balance)."
    )
    scheduled_frac: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="Mean scheduled output as a fraction of rating (generation re-dispatch balance), -.",
    )
    source: str = Field(description="Where the parameter figures come from.")


def _u(low: float, high: float) -> dict[str, float | str]:
    return {"kind": "uniform", "low": low, "high": high}


def _n(mean: float, std: float, low: float, high: float) -> dict[str, float | str]:
    return {"kind": "normal", "mean": mean, "std": std, "low": low, "high": high}


DEVICE_KINDS: dict[str, DeviceKind] = {
    k.kind: k
    for k in (
        DeviceKind(
            kind="pv",
            category="variable_res",
            location="distribution",
            weight="population",
            resource_sigma=0.5,
            profile="pv",
            parameters={"p_max_kw": _n(23.0, 15.0, 3.0, 200.0)},
            expected_p_kw=23.0,
            source="assumption (mean plant about 23 kW, the ratio of installed PV capacity to the number of "
            "plants in Italy's 2020 PV statistics as commonly quoted, GSE; unverified)",
        ),
        DeviceKind(
            kind="wind_farm",
            category="variable_res",
            location="transmission",
            weight="generation",
            profile="wind",
            parameters={"p_max_kw": _u(10_000.0, 60_000.0)},
            expected_p_kw=35_000.0,
            scheduled_frac=0.3,
            source="assumption (onshore wind farms of 10-60 MW)",
        ),
        DeviceKind(
            kind="large_chp",
            category="chp",
            location="transmission",
            weight="generation",
            parameters={"p_max_kw": _u(50_000.0, 400_000.0), "heat_store_kwh": _u(1e5, 5e5)},
            expected_p_kw=225_000.0,
            scheduled_frac=0.7,
            source="assumption (industrial/district-heating CHP of 50-400 MW)",
        ),
        DeviceKind(
            kind="run_of_river_hydro",
            category="variable_res",
            location="distribution",
            weight="resource",
            resource_sigma=1.5,
            profile="flat",
            parameters={"p_max_kw": _n(2_000.0, 3_000.0, 100.0, 30_000.0)},
            expected_p_kw=2_000.0,
            scheduled_frac=0.5,
            source="assumption (small run-of-river plants of 0.1-30 MW, concentrated: lognormal resource "
            "affinity with sigma 1.5 stands for alpine valleys)",
        ),
        DeviceKind(
            kind="conventional",
            category="conventional",
            location="transmission",
            weight="generation",
            parameters={"p_max_kw": _u(20_000.0, 400_000.0)},
            expected_p_kw=210_000.0,
            scheduled_frac=0.65,
            source="assumption (fuel-based units of 20-400 MW)",
        ),
        DeviceKind(
            kind="pumped_hydro",
            category="storage",
            location="transmission",
            weight="generation",
            parameters={
                "p_max_kw": _u(100_000.0, 1_000_000.0),
                "e_max_kwh": _u(600_000.0, 8_000_000.0),
                "efficiency_frac": {"kind": "constant", "value": 0.87},
                "flex_cost_eur_per_mwh": _u(40.0, 80.0),
            },
            expected_p_kw=550_000.0,
            source="assumption (pumped-storage stations of 0.1-1 GW, 6-8 h; round trip about 75 %)",
        ),
        DeviceKind(
            kind="ev",
            category="ev",
            location="distribution",
            weight="population",
            expected_p_kw=7.4,
            source="platform default EV distribution (simulation.scenario.CATEGORY_PARAMETERS)",
        ),
        DeviceKind(
            kind="wet_appliance",
            category="shiftable_load",
            location="distribution",
            weight="population",
            expected_p_kw=1.75,
            source="platform default shiftable-load distribution (washing machines, dishwashers, dryers)",
        ),
        DeviceKind(
            kind="heat_pump",
            category="tcl",
            location="distribution",
            weight="population",
            expected_p_kw=3.5,
            resource_sigma=0.3,
            source="platform default TCL distribution (residential heat pumps)",
        ),
        DeviceKind(
            kind="street_light",
            category="curtailable_load",
            location="distribution",
            weight="population",
            parameters={"p_kw": _u(2.0, 10.0)},
            expected_p_kw=6.0,
            source="assumption (one dimmable street-lighting circuit of 2-10 kW per device, "
            "dimmable to 50 %)",
        ),
    )
}
"""The ten device kinds of the seed's Italian data set (PV panels, wind farms, large CHP, run-of-river
hydro, conventional generators, pumped hydro, EVs, wet appliances, heat pumps, dimmable street lights)."""


class ScalePreset(_Model):
    """Target counts of one generated scenario at scale 1."""

    name: str = Field(description="Preset id, e.g. italy-2030.")
    description: str = Field(description="What the preset represents.")
    transmission_nodes: int = Field(gt=1, description="Transmission buses, count.")
    distribution_nodes: int = Field(gt=0, description="TSO-DSO interface distribution nodes (grids), count.")
    detailed_grids: int = Field(
        ge=0, description="Distribution nodes modelled in detail (SimBench MV), count."
    )
    devices: dict[str, int] = Field(description="Device kind -> number of devices, count.")
    meters_per_copper_node: int = Field(
        default=10,
        gt=0,
        description="Non-controllable load devices per copper-plate node (aggregated LV feeders), count.",
    )
    day_of_year: int = Field(default=175, ge=1, le=365, description="Representative day simulated.")
    dsos: int = Field(default=20, gt=0, description="DSOs the distribution nodes are shared among, count.")
    sources: dict[str, str] = Field(description="Figure -> its source.")


PRESETS: dict[str, ScalePreset] = {
    p.name: p
    for p in (
        ScalePreset(
            name="italy-2030",
            description="The seed's Italian 2030 data set (northern half of Italy, ENTSO-E Vision 3 with "
            "demand response at 50 % of its potential), at exactly the seed's counts.",
            transmission_nodes=3648,
            distribution_nodes=2410,
            detailed_grids=50,
            devices={
                "pv": 655_323,
                "wind_farm": 31,
                "large_chp": 20,
                "run_of_river_hydro": 1_833,
                "conventional": 308,
                "pumped_hydro": 13,
                "ev": 212_704,
                "wet_appliance": 1_489_193,
                "heat_pump": 68_481,
                "street_light": 33_783,
            },
            dsos=30,
            sources={
                "counts": "seed document, section THE ITALIAN SCENARIO (SmartNet, Italian 2030 data set); "
                "/work/shared/REFERENCE-DATA.md",
                "transmission grid": "pandapower case9241pegase (PEGASE), reduced to 3,648 buses",
                "distribution grids": "SimBench MV grids 1-MV-{rural,semiurb,urban,comm}--2-sw "
                "(2034 scenario)",
                "dsos": "assumption (30 DSOs in northern Italy, order of magnitude)",
            },
        ),
        ScalePreset(
            name="denmark-like",
            description="A Denmark-like scenario: wind- and CHP-heavy, few hydro, small grid (smaller than "
            "the Italian data set).",
            transmission_nodes=400,
            distribution_nodes=300,
            detailed_grids=10,
            devices={
                "pv": 120_000,
                "wind_farm": 250,
                "large_chp": 60,
                "run_of_river_hydro": 0,
                "conventional": 25,
                "pumped_hydro": 0,
                "ev": 150_000,
                "wet_appliance": 500_000,
                "heat_pump": 100_000,
                "street_light": 8_000,
            },
            dsos=8,
            sources={
                "counts": "assumption (orders of magnitude for Denmark around 2030: about 120k PV systems, "
                "a few hundred wind farms incl. offshore, many CHP plants, no hydro; scaled, not official "
                "statistics)",
                "transmission grid": "pandapower case1354pegase (PEGASE), reduced to 400 buses",
                "distribution grids": "SimBench MV grids",
            },
        ),
        ScalePreset(
            name="spain-like",
            description="A Spain-like scenario: PV- and wind-heavy with hydro and pumped storage, smaller "
            "than the Italian data set.",
            transmission_nodes=2000,
            distribution_nodes=1200,
            detailed_grids=25,
            devices={
                "pv": 300_000,
                "wind_farm": 1_200,
                "large_chp": 40,
                "run_of_river_hydro": 800,
                "conventional": 150,
                "pumped_hydro": 10,
                "ev": 120_000,
                "wet_appliance": 700_000,
                "heat_pump": 30_000,
                "street_light": 20_000,
            },
            dsos=15,
            sources={
                "counts": "assumption (orders of magnitude for a Spain-like system around 2030: about 1,200 "
                "wind farms, strong PV, hydro and pumped storage; not official statistics)",
                "transmission grid": "pandapower case2869pegase (PEGASE), reduced to 2,000 buses",
                "distribution grids": "SimBench MV grids",
            },
        ),
    )
}
"""Presets by name."""


def scaled(count: int, scale: float) -> int:
    """Count of a scaled scenario: ``round(count * scale)``, at least 1 when ``count`` > 0.

    ``round`` is Python's (half to even); at ``scale`` 1 the count is unchanged.
    """
    if count <= 0:
        return 0
    return max(1, int(round(count * scale)))
