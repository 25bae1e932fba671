"""The persisted scenario description as pydantic models: :class:`ScenarioSpec` and its parts.

Units are in the field names (``p_max_kw``, ``horizon_min``, ``price_eur_per_mwh``); every field has a
description, which the GUI shows as tooltip and the Excel export as header note.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from coordstudio.simulation.grid_files import PANDAPOWER_CASES
from coordstudio.simulation.grid_formats import GridFormat
from coordstudio.simulation.kpis import SCHEME_IDS
from coordstudio.simulation.scenario.categories import CATEGORY_PARAMETERS

MAX_LOAD_SCALE = 10.0
"""Largest multiplier of a grid's own loads, -: beyond, no power flow of the bundled grids converges."""

MIN_RATING_FACTOR = 0.01
"""Smallest multiplier of line ratings, -: below, every line is overloaded by its own loads."""

MAX_RATING_FACTOR = 100.0
"""Largest multiplier of line ratings, -."""


def _check_voltage_band(vm_min_pu: float, vm_max_pu: float) -> None:
    """The voltage band must be a band: vm_min_pu below vm_max_pu."""
    if vm_min_pu >= vm_max_pu:
        raise ValueError(f"field vm_min_pu ({vm_min_pu:g}) must be below field vm_max_pu ({vm_max_pu:g})")


GRID_FILE_DESCRIPTION = (
    "file of {what}: pandapower JSON (.json), MATPOWER (.m, .mat), UCTE-DEF (.uct) or CGMES (.zip, .xml, or "
    "a folder of them holding the model and its boundary set); when set it replaces {replaces} "
    "(docs/grid-formats.md)."
)
GRID_FORMAT_DESCRIPTION = (
    "Format of grid_file: auto detects it from the suffix or the content; pandapower-json, matpower, ucte "
    "or cgmes states it (for a file whose suffix says nothing). Only with grid_file."
)


def _check_grid_format(grid_file: str | None, grid_format: str) -> None:
    """A stated format without a file would be ignored silently: refuse it."""
    if grid_file is None and grid_format != "auto":
        raise ValueError(f"field grid_format ({grid_format}) needs field grid_file")


def _check_case_name(case_name: str) -> None:
    """A bundled grid is named from an explicit table, never looked up as any attribute of a module."""
    if case_name not in PANDAPOWER_CASES:
        raise ValueError(
            f"field case_name: unknown pandapower grid {case_name[:60]!r}; "
            f"known: {', '.join(PANDAPOWER_CASES)}"
        )


class _Spec(BaseModel):
    # allow_inf_nan=False: a 'nan' or '.inf' in a spec would reach loops, array sizes and the solvers
    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)


class ParamDistribution(_Spec):
    """Statistical distribution of one device parameter, sampled once per device from the scenario seed.

    ``constant`` uses ``value``; ``uniform`` draws in [``low``, ``high``]; ``normal`` draws with ``mean``
    and ``std`` and clips to [``low``, ``high``] when given.
    """

    kind: Literal["constant", "uniform", "normal"] = Field(
        description="Distribution family: constant, uniform or normal (clipped to low/high when given)."
    )
    value: float | None = Field(default=None, description="Value of a constant parameter, in its unit.")
    low: float | None = Field(
        default=None, description="Lower bound (uniform) or clip (normal), in its unit."
    )
    high: float | None = Field(
        default=None, description="Upper bound (uniform) or clip (normal), in its unit."
    )
    mean: float | None = Field(default=None, description="Mean of a normal distribution, in its unit.")
    std: float | None = Field(default=None, ge=0, description="Standard deviation of a normal, in its unit.")

    @model_validator(mode="after")
    def _check_fields(self) -> ParamDistribution:
        need = {"constant": ("value",), "uniform": ("low", "high"), "normal": ("mean", "std")}[self.kind]
        missing = [name for name in need if getattr(self, name) is None]
        if missing:
            raise ValueError(f"a {self.kind} distribution needs field(s) {', '.join(missing)}")
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ValueError(f"field low ({self.low}) is above field high ({self.high})")
        return self


class TransmissionGridSpec(_Spec):
    """The transmission grid: a pandapower bundled case, modelled DC in the market and AC in physics."""

    case_name: str = Field(
        default="case30",
        description="pandapower.networks function of the transmission grid (e.g. case30, case39, case118).",
    )
    grid_file: str | None = Field(
        default=None,
        description=GRID_FILE_DESCRIPTION.format(what="the transmission grid", replaces="case_name"),
    )
    grid_format: GridFormat = Field(default="auto", description=GRID_FORMAT_DESCRIPTION)
    line_rating_factor: float = Field(
        default=1.0,
        ge=MIN_RATING_FACTOR,
        le=MAX_RATING_FACTOR,
        description="Multiplier applied to every line's thermal rating (max_i_ka), -.",
    )
    load_scale_frac: float = Field(
        default=1.0,
        gt=0,
        le=MAX_LOAD_SCALE,
        description="Multiplier applied to the case's own loads, which are its loads at the load "
        "profile's peak over the year (profile 1.0), -.",
    )
    generator_flex_frac: float = Field(
        default=0.25,
        ge=0,
        le=1,
        description="Share of each transmission generator's rating offered up and down in the AS market, -.",
    )
    generator_cost_eur_per_mwh: ParamDistribution = Field(
        default_factory=lambda: ParamDistribution(kind="uniform", low=55.0, high=95.0),
        description="Bid price distribution of transmission-connected generators, EUR/MWh.",
    )
    vm_min_pu: float = Field(
        default=0.94, gt=0, description="Lower voltage limit of transmission buses, p.u."
    )
    vm_max_pu: float = Field(
        default=1.06, gt=0, le=2, description="Upper voltage limit of transmission buses, p.u."
    )

    @model_validator(mode="after")
    def _check_grid(self) -> TransmissionGridSpec:
        _check_voltage_band(self.vm_min_pu, self.vm_max_pu)
        _check_grid_format(self.grid_file, self.grid_format)
        if self.grid_file is None:
            _check_case_name(self.case_name)
        return self


class FeederSpec(_Spec):
    """A distribution grid modelled in detail (SOCP in the market, AC power flow in physics)."""

    feeder_id: str = Field(description="Identifier of the detailed distribution grid (area id), e.g. F1.")
    source: Literal["pandapower", "simbench"] = Field(
        default="pandapower",
        description="Where the grid comes from: a pandapower.networks function or a SimBench code.",
    )
    case_name: str = Field(
        default="case33bw",
        description="pandapower.networks function (e.g. case33bw) or SimBench code (e.g. 1-MV-rural--0-sw).",
    )
    grid_file: str | None = Field(
        default=None,
        description=GRID_FILE_DESCRIPTION.format(what="this grid", replaces="source/case_name"),
    )
    grid_format: GridFormat = Field(default="auto", description=GRID_FORMAT_DESCRIPTION)
    dso_id: str = Field(default="DSO-A", description="Identifier of the DSO operating this grid.")
    interface_bus: int = Field(
        ge=0, description="Transmission bus index the feeder's substation connects to."
    )
    load_scale_frac: float = Field(
        default=1.0,
        gt=0,
        le=MAX_LOAD_SCALE,
        description="Multiplier applied to the grid's own loads, which are its loads at the load "
        "profile's peak over the year (profile 1.0), -.",
    )
    line_rating_mva: float | None = Field(
        default=None,
        ge=0.001,
        description="Thermal rating given to lines that have none (e.g. case33bw), MVA; None keeps the data.",
    )
    unrated_line_margin_frac: float = Field(
        default=0.3,
        ge=0,
        description="Lines without a rating (and line_rating_mva None) get (1 + this) x their current in a "
        "power flow of the grid's own loads, -.",
    )
    line_rating_factor: float = Field(
        default=1.0,
        ge=MIN_RATING_FACTOR,
        le=MAX_RATING_FACTOR,
        description="Multiplier applied to every line's thermal rating after the above, -.",
    )
    vm_min_pu: float = Field(
        default=0.95, gt=0, description="Lower voltage limit of the feeder's buses, p.u."
    )
    vm_max_pu: float = Field(
        default=1.05, gt=0, le=2, description="Upper voltage limit of the feeder's buses, p.u."
    )
    tap_step_pct: float = Field(
        default=1.25, ge=0, description="Voltage change per tap of the substation tap changer, %."
    )
    tap_max: int = Field(default=8, ge=0, description="Tap positions either side of neutral, count.")
    tap_deadband_pu: float = Field(
        default=0.01, ge=0, description="Tap-changer dead band around the regulated voltage, p.u."
    )
    q_compensation_mvar: float = Field(
        default=0.0, ge=0, description="Switchable capacitor bank at the feeder's weakest bus, Mvar."
    )

    @model_validator(mode="after")
    def _check_grid(self) -> FeederSpec:
        _check_voltage_band(self.vm_min_pu, self.vm_max_pu)
        _check_grid_format(self.grid_file, self.grid_format)
        if self.grid_file is None and self.source == "pandapower":
            _check_case_name(self.case_name)
        return self


class CopperPlateNodeSpec(_Spec):
    """A distribution grid not modelled in detail: one copper-plate node at its interface bus."""

    node_id: str = Field(description="Identifier of the copper-plate distribution node (area id), e.g. CP1.")
    dso_id: str = Field(default="DSO-A", description="Identifier of the DSO operating this grid.")
    interface_bus: int = Field(ge=0, description="Transmission bus index the node connects to.")


class DeviceGroupSpec(_Spec):
    """A population of devices of one category in one area, with parameter distributions."""

    group_id: str = Field(description="Identifier of the device group, e.g. F1-pv.")
    category: Literal[
        "storage",
        "ev",
        "variable_res",
        "chp",
        "conventional",
        "shiftable_load",
        "curtailable_load",
        "tcl",
        "noncontrollable_load",
    ] = Field(description="Device category (one of the eight DER categories or noncontrollable_load).")
    area: str = Field(
        description="Where the devices sit: a feeder_id, a copper-plate node_id, or 'transmission'."
    )
    count: int = Field(ge=0, description="Number of devices in the group, count.")
    buses: list[int] | None = Field(
        default=None,
        description="Bus indices of the area the devices are spread over; None spreads them over all load "
        "buses of the area, weighted by load.",
    )
    profile: Literal["load", "pv", "wind", "flat"] | None = Field(
        default=None,
        description="Time profile that drives the group (variable_res: pv or wind; loads: load); None picks "
        "the category's default.",
    )
    parameters: dict[str, ParamDistribution] = Field(
        default_factory=dict,
        description="Parameter name (with unit) -> distribution; missing names use the category default.",
    )

    @model_validator(mode="after")
    def _check_parameters(self) -> DeviceGroupSpec:
        known = CATEGORY_PARAMETERS[self.category]
        unknown = sorted(set(self.parameters) - set(known))
        if unknown:
            raise ValueError(
                f"device group {self.group_id!r}: field parameters has unknown name(s) {unknown} for "
                f"category {self.category}; known: {sorted(known)}"
            )
        return self

    def distribution(self, name: str) -> ParamDistribution:
        """Distribution of parameter ``name``: the group's own or the category default."""
        if name in self.parameters:
            return self.parameters[name]
        return ParamDistribution(**CATEGORY_PARAMETERS[self.category][name])  # type: ignore[arg-type]


class ProfileSpec(_Spec):
    """Where the daily time profiles come from."""

    source: Literal["simbench", "synthetic", "csv"] = Field(
        default="simbench",
        description="simbench: load/PV/wind profiles of a SimBench grid (offline); synthetic: analytic "
        "shapes; csv: the file csv_path. The load profile is a fraction of its peak over the source's "
        "whole year (SimBench's year, every row of the CSV, the synthetic day's own peak), never of the "
        "simulated window.",
    )
    csv_path: str | None = Field(
        default=None,
        description="CSV file with one row per physical step from the start and columns load (divided by "
        "its peak over every row of the file), pv, wind (fractions of capacity) and ambient_temp_c, degC "
        "(source csv).",
    )
    simbench_code: str = Field(
        default="1-MV-rural--0-sw", description="SimBench grid whose profiles are used (source simbench)."
    )
    day_of_year: int = Field(
        default=175, ge=1, le=365,
        description="Day of the year simulated (1 = 1 Jan) when representative_days is 0.",
    )
    representative_days: int = Field(
        default=0, ge=0, le=365,
        description="Representative days chosen from the profile year by tsam (Ward clustering with "
        "medoids, the peak-load and peak-PV days kept; simulation.scenario.representative_days), each "
        "simulated and weighted by the days it stands for; 0 simulates day_of_year alone, weighted by the "
        "CBA's day_weights_days_per_year.",
    )
    stress_days: int = Field(
        default=0, ge=0, le=364,
        description="Representative days drawn from the stress stratum (the stress_share_frac of the year's "
        "days with the highest mean load 17:00-21:00), count, included in representative_days: each the "
        "middle day of a run of the stratum, weighted by the run's length, so a rare event of loaded "
        "evenings (a protection trip) is counted at its frequency (simulation.scenario."
        "representative_days, 'Stress stratum'); 0: no stratum, every day from the clustering.",
    )
    stress_share_frac: float = Field(
        default=0.05, gt=0.0, le=0.5,
        description="Share of the year's days in the stress stratum (the days of the highest mean load "
        "17:00-21:00), fraction; used when stress_days >= 1.",
    )
    seed_replicates: int = Field(
        default=1, ge=1, le=100,
        description="Simulations of each simulated day with different random seeds (seed, seed + 1, ...), "
        "count; each replicate is a day of its own (id d175r1, ...) with 1/seed_replicates of the day's "
        "weight, so the spread of the random draws is measured and the CBA's Monte Carlo resamples it. "
        "1 simulates each day once with the scenario's seed.",
    )
    load_profile: str = Field(
        default="lv_semiurb4",
        description="SimBench load profile name (without _pload); divided by its peak over SimBench's year.",
    )
    pv_profile: str = Field(default="PV3", description="SimBench renewables profile name for PV.")
    wind_profile: str = Field(default="WP4", description="SimBench renewables profile name for wind.")
    ambient_temp_c: float = Field(default=24.0, description="Daily mean ambient temperature, degC.")
    ambient_temp_swing_c: float = Field(
        default=6.0, ge=0, description="Half peak-to-peak daily swing of ambient temperature, degC."
    )

    @model_validator(mode="after")
    def _check_stress_days(self) -> ProfileSpec:
        """The stress days are some of the representative days, so fewer than them (when days are
        selected at all; without, stress_days is not used)."""
        if self.representative_days > 0 and self.stress_days >= self.representative_days:
            raise ValueError(
                f"stress_days {self.stress_days} must be below representative_days {self.representative_days}"
            )
        return self


class ImbalanceSpec(_Spec):
    """System imbalance process (the TSO's need) and forecast errors."""

    std_mw: float = Field(default=4.0, ge=0, description="Standard deviation of the system imbalance, MW.")
    autocorrelation: float = Field(
        default=0.9, ge=0, lt=1, description="AR(1) coefficient of the imbalance per market step, -."
    )
    daily_amplitude_mw: float = Field(
        default=3.0, ge=0, description="Amplitude of the deterministic ramp-hour imbalance shape, MW."
    )
    forecast_error_std_frac: float = Field(
        default=0.25,
        ge=0,
        description="Std of the TSO's imbalance forecast error, as a fraction of the imbalance std, -.",
    )
    load_forecast_error_std_frac: float = Field(
        default=0.03, ge=0, description="Std of the nodal load forecast error, fraction of the load, -."
    )
    device_noise_std_frac: float = Field(
        default=0.02, ge=0, description="Std of the device models' internal noise, fraction of rating, -."
    )


class TimingSpec(_Spec):
    """Timing of the market loop (section 6 of the architecture brief)."""

    duration_h: float = Field(default=24.0, gt=0, le=24 * 7, description="Simulated duration, h.")
    start_h: float = Field(default=0.0, ge=0, lt=24, description="Hour of the day the simulation starts, h.")
    horizon_min: int = Field(default=60, gt=0, description="Market horizon of one clearing, min.")
    granularity_min: int = Field(default=30, gt=0, description="Market time unit, min.")
    clearing_frequency_min: int = Field(default=60, gt=0, description="Time between two clearings, min.")
    gate_closure_min: int = Field(
        default=0, ge=0, description="Bids close this long before the clearing starts, min."
    )
    activation_delay_min: int = Field(
        default=0, ge=0, description="Delay between a clearing's result and the first firm step, min."
    )
    clearing_latency_min: int = Field(
        default=5, ge=0, description="Time the market takes to clear; the grid moves on meanwhile, min."
    )
    physical_step_min: int = Field(
        default=30, gt=0, description="Time step of the physical layer, at or below the granularity, min."
    )

    @model_validator(mode="after")
    def _check_timing(self) -> TimingSpec:
        if self.horizon_min % self.granularity_min:
            raise ValueError("field horizon_min must be a multiple of granularity_min")
        if self.clearing_frequency_min % self.granularity_min:
            raise ValueError("field clearing_frequency_min must be a multiple of granularity_min")
        if self.granularity_min % self.physical_step_min:
            raise ValueError("field physical_step_min must divide granularity_min")
        if (self.duration_h * 60) % self.clearing_frequency_min:
            raise ValueError("field duration_h must be a whole number of clearing periods")
        return self

    @property
    def steps_per_horizon(self) -> int:
        """Market time units in one horizon."""
        return self.horizon_min // self.granularity_min

    @property
    def n_clearings(self) -> int:
        """Clearings over the simulated duration."""
        return int(round(self.duration_h * 60)) // self.clearing_frequency_min

    @property
    def n_physical_steps(self) -> int:
        """Physical steps over the simulated duration."""
        return int(round(self.duration_h * 60)) // self.physical_step_min


class PricesSpec(_Spec):
    """Prices outside the AS market bids, and the aggregators' bidding rules."""

    min_bid_mw: float = Field(
        default=0.01,
        ge=0,
        description="Smallest bid an aggregator submits (the market's minimum bid size), MW.",
    )
    curve_points: int = Field(
        default=3, ge=1, description="Breakpoints per direction of a DSO's aggregated interface curve, count."
    )

    afrr_price_up_eur_per_mwh: float = Field(
        default=150.0, ge=0, description="Price paid for upward aFRR energy (covering a deficit), EUR/MWh."
    )
    afrr_price_down_eur_per_mwh: float = Field(
        default=40.0, ge=0, description="Price paid for downward aFRR energy (covering a surplus), EUR/MWh."
    )
    risk_premium_eur_per_mwh: float = Field(
        default=5.0, ge=0, description="Premium aggregators add to exercise flexibility now, EUR/MWh."
    )
    slack_penalty_eur_per_mwh: float = Field(
        default=3000.0, gt=0, description="Penalty of market slack (value of lost load), EUR/MWh."
    )
    commercial_bid_price_spread_eur_per_mwh: float = Field(
        default=30.0, ge=0, description="Spread of commercial parties' buy/sell bids around 60 EUR/MWh (IFM)."
    )


class MeasurementSpec(_Spec):
    """State-estimation errors of the measurements fed to the next clearing."""

    p_error_std_frac: float = Field(
        default=0.02, ge=0, description="Std of the active-power measurement error, fraction of value, -."
    )
    vm_error_std_pu: float = Field(
        default=0.003, ge=0, description="Std of the voltage estimation error, p.u."
    )


class ScadaSpec(_Spec):
    """Automatic actions of the operators' SCADA outside the market."""

    trip_loading_pct: float = Field(
        default=150.0, gt=100, description="Protection trips a line loaded above this in a physical step, %."
    )
    restore_after_min: float | None = Field(
        default=60.0,
        ge=0,
        description=(
            "Minutes a tripped line stays out before the operator switches it back in, restoring the load "
            "behind it (it trips again if still overloaded); empty: out for the rest of the run. "
            "Assumption: 60 min, a DSO's restoration by switching (range 15-180 min)."
        ),
    )
    tap_regulation: bool = Field(default=True, description="Tap changers regulate the feeders' voltage.")
    reactive_compensation: bool = Field(
        default=True, description="Capacitor banks switch in when a feeder's minimum voltage is low."
    )
    afrr_provider_buses: list[int] | None = Field(
        default=None,
        description="Transmission buses of the generators that provide aFRR; None: every generator, by "
        "rating.",
    )


class AfrrSpec(_Spec):
    """The aFRR the TSO holds: a contracted reserve band and its ramp (:mod:`simulation.physical.afrr`).

    The residual imbalance of each physical step beyond the band or the ramp is not covered by aFRR; it is
    reported as energy not served (deficit) or surplus not absorbed."""

    limited: bool = Field(
        default=True,
        description="Limit aFRR to the reserve and ramp below; False: the ideal, unlimited, instantaneous "
        "balancer of earlier versions (every residual is covered).",
    )
    reserve_up_mw: float | None = Field(
        default=None,
        ge=0,
        description="Upward aFRR reserve contracted by the TSO, MW. None: sized to cover 99 % of the "
        "modelled imbalances (source: assumption, after ENTSO-E's probabilistic FRR dimensioning, "
        "Regulation (EU) 2017/1485 SOGL Art. 157: A + 2.33 sqrt(std^2 + sum (f L)^2) of the imbalance "
        "settings and the transmission loads at their peak; simulation.physical.afrr.sized_reserve_mw).",
    )
    reserve_down_mw: float | None = Field(
        default=None,
        ge=0,
        description="Downward aFRR reserve contracted by the TSO, MW. None: sized as reserve_up_mw's "
        "default (the modelled imbalance is symmetric).",
    )
    ramp_mw_per_min: float | None = Field(
        default=None,
        gt=0,
        description="Largest change of the delivered aFRR, MW/min. None: the larger reserve within "
        "full_activation_time_min.",
    )
    full_activation_time_min: float = Field(
        default=5.0,
        gt=0,
        description="aFRR full activation time, min (source: assumption, the 5-minute full activation "
        "time of the European aFRR standard product, ACER Decision 02/2020 on the aFRR implementation "
        "framework, unverified). Used only for the default ramp.",
    )


class ScenarioSpec(_Spec):
    """Everything the simulation platform needs to build one scenario and simulate it.

    Small by design: grid references, device counts with parameter distributions, profile sources,
    imbalance, timing and seeds; never arrays. Round-trips through JSON and YAML.
    """

    name: str = Field(default="default", description="Name of the scenario (the representative day's id).")
    seed: int = Field(default=20190601, ge=0, description="Random seed: same seed, same devices and noise.")
    transmission: TransmissionGridSpec = Field(
        default_factory=TransmissionGridSpec, description="The transmission grid."
    )
    feeders: list[FeederSpec] = Field(
        default_factory=list, description="Distribution grids modelled in detail."
    )
    copper_plate_nodes: list[CopperPlateNodeSpec] = Field(
        default_factory=list, description="Distribution grids represented as one copper-plate node."
    )
    device_groups: list[DeviceGroupSpec] = Field(
        default_factory=list, description="Device populations per category and area."
    )
    aggregators_per_area: int = Field(
        default=1, ge=1, description="Aggregators active in each distribution area, count."
    )
    commercial_parties: int = Field(
        default=3, ge=0, description="Commercial parties (BRPs, retailers) bidding in the IFM, count."
    )
    profiles: ProfileSpec = Field(default_factory=ProfileSpec, description="Profile sources.")
    imbalance: ImbalanceSpec = Field(default_factory=ImbalanceSpec, description="Imbalance and errors.")
    timing: TimingSpec = Field(default_factory=TimingSpec, description="Timing of the market loop.")
    prices: PricesSpec = Field(default_factory=PricesSpec, description="aFRR price, risk premium, penalties.")
    measurement: MeasurementSpec = Field(
        default_factory=MeasurementSpec, description="State-estimation error of measurements."
    )
    scada: ScadaSpec = Field(default_factory=ScadaSpec, description="SCADA actions outside the market.")
    afrr: AfrrSpec = Field(
        default_factory=AfrrSpec, description="The TSO's aFRR reserve and ramp (limits of the balancer)."
    )
    schemes: list[str] = Field(
        default_factory=lambda: list(SCHEME_IDS), description="Coordination schemes to simulate."
    )

    @field_validator("schemes")
    @classmethod
    def _check_schemes(cls, value: list[str]) -> list[str]:
        unknown = [s for s in value if s not in SCHEME_IDS]
        if unknown:
            raise ValueError(f"unknown scheme(s) {unknown}; known: {list(SCHEME_IDS)}")
        repeated = sorted({s for s in value if value.count(s) > 1})
        if repeated:
            raise ValueError(f"scheme(s) {repeated} listed twice")
        return value

    @model_validator(mode="after")
    def _check_references(self) -> ScenarioSpec:
        areas: dict[str, str] = {}
        for kind, ids in (
            ("feeder", [f.feeder_id for f in self.feeders]),
            ("copper-plate node", [c.node_id for c in self.copper_plate_nodes]),
        ):
            for area_id in ids:
                if area_id in areas or area_id == "transmission":
                    raise ValueError(f"{kind} {area_id!r}: id is used twice (field feeder_id/node_id)")
                areas[area_id] = kind
        seen: set[str] = set()
        for group in self.device_groups:
            if group.group_id in seen:
                raise ValueError(f"device group {group.group_id!r}: field group_id is used twice")
            seen.add(group.group_id)
            if group.area != "transmission" and group.area not in areas:
                raise ValueError(
                    f"device group {group.group_id!r}: field area names unknown area {group.area!r}; "
                    f"known: {['transmission', *areas]}"
                )
        return self

    @property
    def area_ids(self) -> list[str]:
        """Distribution area ids: feeders first, then copper-plate nodes."""
        return [f.feeder_id for f in self.feeders] + [c.node_id for c in self.copper_plate_nodes]

    @property
    def dso_ids(self) -> list[str]:
        """Distinct DSO ids, in order of first appearance."""
        out: list[str] = []
        for dso in [f.dso_id for f in self.feeders] + [c.dso_id for c in self.copper_plate_nodes]:
            if dso not in out:
                out.append(dso)
        return out
