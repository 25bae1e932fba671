"""Parameters of the cost-benefit analysis, persisted in the study file under ``cba:``.

One pydantic model, :class:`CbaParameters`, holds every input of the CBA that is not a simulation KPI or
an ICT cost line: the discount rate and horizon, the reference scheme, real or nominal prices, the weight
of each simulated representative day, the prices that monetise the simulated KPIs, the uncertain inputs
of the Monte Carlo analysis, the tornado ranges and the keys that split costs and benefits among actors.

Conventions
-----------
* Rates are fractions per year (``0.04`` is 4 %/a), money is EUR, energies MWh; units are in the field
  names (``price_eur_per_mwh``, ``horizon_years``) and every field has a description, which the GUI and
  the Excel report use as header and tooltip.
* Every default carries its source in :attr:`CbaParameters.sources`, or says ``assumption (...)`` when
  no primary source was checked; users are expected to replace assumptions with their own figures.
* The *scalar* inputs (:data:`SCALAR_PARAMETERS`) are the ones a tornado range or a Monte Carlo
  distribution may move; structural inputs (horizon, reference scheme, day ids) are not sampled.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from coordstudio.cba.errors import CbaError
from coordstudio.cba.simulation_figures import SimulationFigure, default_simulation_figures
from coordstudio.cba.system_spec import SystemScale

__all__ = [
    "ACTOR_GROUPS",
    "ACTOR_LABELS",
    "BENEFIT_CATEGORIES",
    "BENEFIT_LABELS",
    "SCALAR_PARAMETERS",
    "CbaParameters",
    "TornadoRange",
    "UncertainInput",
    "anchored_inputs",
    "anchored_ranges",
    "assumed_inputs",
    "format_validation_error",
    "parse_parameters",
]

#: Benefit categories, in report order. Each is (reference KPI - scheme KPI) x price, per year.
BENEFIT_CATEGORIES: tuple[str, ...] = (
    "activation",
    "afrr",
    "congestion",
    "voltage",
    "curtailment",
    "losses",
    "co2",
    "unserved_need",
    "energy_not_served",
)

#: Benefit categories added after the first study files (their allocation key defaults when a study has none).
NEWER_CATEGORIES: tuple[str, ...] = ("unserved_need", "energy_not_served")

#: Human-readable names of the benefit categories (report headers).
BENEFIT_LABELS: dict[str, str] = {
    "activation": "Lower activation (resource) cost",
    "afrr": "Lower aFRR/imbalance cost",
    "congestion": "Less unresolved congestion",
    "voltage": "Fewer voltage violations",
    "curtailment": "Less RES curtailment",
    "losses": "Lower grid losses",
    "co2": "Less CO2 emitted",
    "unserved_need": "Less need left unserved by the market",
    "energy_not_served": "Less load disconnected by tripped lines",
}

#: Actor groups of the micro-level (per-actor) analysis.
ACTOR_GROUPS: tuple[str, ...] = ("tso", "dso", "aggregator", "der_owner", "consumer")

#: Human-readable names of the actor groups.
ACTOR_LABELS: dict[str, str] = {
    "tso": "TSO",
    "dso": "DSOs",
    "aggregator": "Aggregators",
    "der_owner": "DER owners",
    "consumer": "Consumers",
}

#: Inputs a tornado range or Monte Carlo distribution may move, with their display unit.
SCALAR_PARAMETERS: dict[str, str] = {
    "discount_rate": "fraction/a",
    "escalation_rate": "fraction/a",
    "unresolved_congestion_price_eur_per_mwh": "EUR/MWh",
    "voltage_violation_price_eur_per_bus_hour": "EUR/(bus h)",
    "curtailed_res_price_eur_per_mwh": "EUR/MWh",
    "losses_price_eur_per_mwh": "EUR/MWh",
    "unserved_need_price_eur_per_mwh": "EUR/MWh",
    "energy_not_served_price_eur_per_mwh": "EUR/MWh",
    "co2_price_eur_per_t": "EUR/t",
    "emission_factor_t_per_mwh": "t/MWh",
    "benefit_factor": "-",
    "ict_capex_factor": "-",
    "ict_opex_factor": "-",
}

_YEAR_DAYS = (365.0, 366.0)
_WEIGHT_TOL_DAYS = 1e-6
_SHARE_TOL = 1e-9

_DEFAULT_SOURCES: dict[str, str] = {
    "discount_rate": "EC DG REGIO, Guide to Cost-Benefit Analysis of Investment Projects (2014): 4 % "
    "real financial discount rate, used as the EC benchmark in the JRC smart-grid CBA of Isernia "
    "(EUR 29222, 2018)",
    "horizon_years": "assumption (20 years, the issue's default; ENTSO-E CBA 3.0 quotes about 25 years, "
    "unverified)",
    "escalation_rate": "assumption (2 %/a, the ECB's medium-term inflation target; used only with "
    "nominal prices)",
    "unresolved_congestion_price_eur_per_mwh": "assumption (order of magnitude of an out-of-market "
    "redispatch price for energy above line ratings; no primary source checked)",
    "voltage_violation_price_eur_per_bus_hour": "assumption (placeholder penalty per bus-hour outside "
    "voltage limits; no primary source checked)",
    "curtailed_res_price_eur_per_mwh": "assumption (curtailed RES energy replaced at an average "
    "wholesale price of about 60 EUR/MWh; no primary source checked)",
    "losses_price_eur_per_mwh": "assumption (losses bought at an average wholesale price of about "
    "60 EUR/MWh; no primary source checked)",
    "unserved_need_price_eur_per_mwh": "assumption (20 EUR/MWh: what the need the market left unserved "
    "costs beyond its physical consequences, which the other categories already count (the imbalance "
    "it leaves is covered by aFRR, priced in the afrr category; a congestion or voltage problem it leaves "
    "is measured as overload and voltage violations), i.e. the balancing capacity the TSO must hold for "
    "it, at the order of magnitude of European aFRR capacity prices (about 5-30 EUR/MW per hour), not "
    "checked against a primary source. Range 0 (physical consequences only) to 3000 EUR/MWh (the "
    "default scenario's slack penalty, prices.slack_penalty_eur_per_mwh, as if the unserved need were "
    "lost load, which double-counts them))",
    "energy_not_served_price_eur_per_mwh": "assumption (10,000 EUR/MWh, a value of lost load (VoLL): the "
    "order of magnitude of the VoLLs EU member states estimate for their reliability standards under "
    "ACER Decision 23/2020, a few thousand to a few tens of thousands EUR/MWh; no national figure "
    "checked. Range 3,000-30,000 EUR/MWh)",
    "co2_price_eur_per_t": "assumption (0: not counted by default, since the ETS price is already in "
    "the wholesale prices used for curtailment and losses; set a societal CO2 value to add it, as "
    "ENTSO-E CBA 3.0 does)",
    "emission_factor_t_per_mwh": "assumption (marginal gas-fired generation, about 0.35 t/MWh, "
    "commonly quoted, unverified)",
    "benefit_factor": "assumption (1: benefits as simulated)",
    "ict_capex_factor": "assumption (1: ICT investment as costed by the SGAM model)",
    "ict_opex_factor": "assumption (1: ICT operating cost as costed by the SGAM model)",
    "day_weights_days_per_year": "assumption (one representative day standing for the whole year)",
    "uncertain_inputs": "assumption (ranges chosen for illustration, the same as the tornado ranges except "
    "the unserved-need price, sampled over the 5-30 EUR/MWh band its source quotes while the tornado spans "
    "the bounds 0-3000; each distribution is centred on the study's own value, see "
    "cba.parameters.anchored_inputs; 7.4 % is the regulated WACC of the JRC Isernia study, EUR 29222, "
    "2018)",
    "tornado_ranges": "assumption (ranges chosen for illustration; 7.4 % is the regulated WACC of the "
    "JRC Isernia study, EUR 29222, 2018)",
    "benefit_allocation": "assumption (savings of the system operators are passed to consumers through "
    "tariffs in the shares given; no primary source checked)",
    "cost_role_to_actor": "assumption (a regulated market operator's cost is recovered by the TSO; "
    "commercial parties are grouped with aggregators)",
}


class UncertainInput(BaseModel):
    """A probability distribution over one scalar input, sampled by the Monte Carlo analysis.

    ``triangular`` needs ``min <= mode <= max``; ``uniform`` needs ``min <= max``; ``normal`` needs
    ``mean`` and ``std >= 0`` and clips its samples to ``[min, max]`` where those are given. Values are
    in the unit of the input named by ``parameter``.
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    parameter: str = Field(description="Name of the scalar CBA input this distribution moves.")
    distribution: Literal["triangular", "uniform", "normal"] = Field(
        description="Shape of the distribution: triangular, uniform or normal."
    )
    min: float | None = Field(default=None, description="Lowest value, in the input's unit.")
    mode: float | None = Field(default=None, description="Most likely value (triangular), input's unit.")
    max: float | None = Field(default=None, description="Highest value, in the input's unit.")
    mean: float | None = Field(default=None, description="Mean (normal), in the input's unit.")
    std: float | None = Field(default=None, description="Standard deviation (normal), input's unit.")

    @field_validator("parameter")
    @classmethod
    def _known_parameter(cls, value: str) -> str:
        if value not in SCALAR_PARAMETERS:
            raise ValueError(
                f"parameter '{value}' is not a scalar CBA input; choose one of {', '.join(SCALAR_PARAMETERS)}"
            )
        return value

    @model_validator(mode="after")
    def _check_shape(self) -> UncertainInput:
        name = self.parameter
        if self.distribution in ("triangular", "uniform"):
            needed = ("min", "mode", "max") if self.distribution == "triangular" else ("min", "max")
            for field in needed:
                if getattr(self, field) is None:
                    raise ValueError(f"{field} is required for a {self.distribution} distribution of {name}")
            lo, hi = float(self.min), float(self.max)  # type: ignore[arg-type]
            if lo > hi:
                raise ValueError(
                    f"min ({lo:g}) > max ({hi:g}) in the {self.distribution} distribution of {name}"
                )
            if self.distribution == "triangular":
                mode = float(self.mode)  # type: ignore[arg-type]
                if not lo <= mode <= hi:
                    raise ValueError(
                        f"mode ({mode:g}) must lie in [min, max] = [{lo:g}, {hi:g}] in the triangular "
                        f"distribution of {name}"
                    )
        else:
            if self.mean is None or self.std is None:
                raise ValueError(f"mean and std are required for a normal distribution of {name}")
            if self.std < 0:
                raise ValueError(f"std ({self.std:g}) must be >= 0 in the normal distribution of {name}")
            if self.min is not None and self.max is not None and self.min > self.max:
                raise ValueError(
                    f"min ({self.min:g}) > max ({self.max:g}) in the normal distribution of {name}"
                )
        for field in ("min", "mode", "max", "mean", "std"):
            value = getattr(self, field)
            if value is not None and not math.isfinite(value):
                raise ValueError(f"{field} must be a finite number in the distribution of {name}")
        return self

    @property
    def centre(self) -> float:
        """The value the distribution is built around: the mode (triangular), the mean (normal) or the
        midpoint (uniform); :func:`anchored_inputs` puts it on the study's own value."""
        if self.distribution == "triangular":
            return float(self.mode)  # type: ignore[arg-type]
        if self.distribution == "uniform":
            return (float(self.min) + float(self.max)) / 2.0  # type: ignore[arg-type]
        return float(self.mean)  # type: ignore[arg-type]

    @property
    def expected_value(self) -> float:
        """Mean of the distribution (before any clipping of a normal), in the input's unit."""
        if self.distribution == "triangular":
            return (float(self.min) + float(self.mode) + float(self.max)) / 3.0  # type: ignore[arg-type]
        if self.distribution == "uniform":
            return (float(self.min) + float(self.max)) / 2.0  # type: ignore[arg-type]
        return float(self.mean)  # type: ignore[arg-type]


class TornadoRange(BaseModel):
    """The low and high value over which the tornado analysis moves one input, all else at base."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    parameter: str = Field(description="Name of the scalar CBA input moved.")
    low: float = Field(description="Low value of the input, in its unit.")
    high: float = Field(description="High value of the input, in its unit.")

    @field_validator("parameter")
    @classmethod
    def _known_parameter(cls, value: str) -> str:
        if value not in SCALAR_PARAMETERS:
            raise ValueError(
                f"parameter '{value}' is not a scalar CBA input; choose one of {', '.join(SCALAR_PARAMETERS)}"
            )
        return value

    @model_validator(mode="after")
    def _ordered(self) -> TornadoRange:
        if not (math.isfinite(self.low) and math.isfinite(self.high)):
            raise ValueError(f"low and high must be finite numbers for {self.parameter}")
        if self.low > self.high:
            raise ValueError(
                f"low ({self.low:g}) > high ({self.high:g}) in the tornado range of {self.parameter}"
            )
        return self


def _default_uncertain_inputs() -> list[UncertainInput]:
    """Every assumed price and multiplier has a distribution whose most likely value is the default, so
    the Monte Carlo samples around the study (:func:`anchored_inputs` keeps it there when the study's
    value is edited); the triangular ranges are those of :func:`_default_tornado_ranges`."""
    return [
        UncertainInput(parameter="discount_rate", distribution="triangular", min=0.02, mode=0.04, max=0.074),
        UncertainInput(parameter="escalation_rate", distribution="triangular", min=0.01, mode=0.02, max=0.03),
        UncertainInput(parameter="benefit_factor", distribution="normal", mean=1.0, std=0.15, min=0.0),
        UncertainInput(parameter="ict_capex_factor", distribution="triangular", min=0.8, mode=1.0, max=1.5),
        UncertainInput(parameter="ict_opex_factor", distribution="triangular", min=0.8, mode=1.0, max=1.5),
        UncertainInput(
            parameter="unresolved_congestion_price_eur_per_mwh", distribution="triangular",
            min=150.0, mode=300.0, max=600.0,
        ),
        UncertainInput(
            parameter="voltage_violation_price_eur_per_bus_hour", distribution="triangular",
            min=50.0, mode=100.0, max=200.0,
        ),
        UncertainInput(
            parameter="curtailed_res_price_eur_per_mwh", distribution="triangular",
            min=40.0, mode=60.0, max=100.0,
        ),
        UncertainInput(
            parameter="losses_price_eur_per_mwh", distribution="triangular", min=40.0, mode=60.0, max=100.0
        ),
        UncertainInput(
            parameter="co2_price_eur_per_t", distribution="triangular", min=0.0, mode=0.0, max=150.0
        ),
        UncertainInput(
            parameter="emission_factor_t_per_mwh", distribution="triangular", min=0.2, mode=0.35, max=0.5
        ),
        UncertainInput(
            parameter="unserved_need_price_eur_per_mwh", distribution="triangular",
            min=5.0, mode=20.0, max=30.0,
        ),
        UncertainInput(
            parameter="energy_not_served_price_eur_per_mwh", distribution="triangular",
            min=3000.0, mode=10000.0, max=30000.0,
        ),
    ]


def _default_tornado_ranges() -> list[TornadoRange]:
    return [
        TornadoRange(parameter="discount_rate", low=0.02, high=0.074),
        TornadoRange(parameter="escalation_rate", low=0.01, high=0.03),
        TornadoRange(parameter="benefit_factor", low=0.7, high=1.3),
        TornadoRange(parameter="ict_capex_factor", low=0.8, high=1.5),
        TornadoRange(parameter="ict_opex_factor", low=0.8, high=1.5),
        TornadoRange(parameter="unresolved_congestion_price_eur_per_mwh", low=150.0, high=600.0),
        TornadoRange(parameter="voltage_violation_price_eur_per_bus_hour", low=50.0, high=200.0),
        TornadoRange(parameter="curtailed_res_price_eur_per_mwh", low=40.0, high=100.0),
        TornadoRange(parameter="losses_price_eur_per_mwh", low=40.0, high=100.0),
        TornadoRange(parameter="co2_price_eur_per_t", low=0.0, high=150.0),
        TornadoRange(parameter="emission_factor_t_per_mwh", low=0.2, high=0.5),
        TornadoRange(parameter="unserved_need_price_eur_per_mwh", low=0.0, high=3000.0),
        TornadoRange(parameter="energy_not_served_price_eur_per_mwh", low=3000.0, high=30000.0),
    ]


def _default_allocation() -> dict[str, dict[str, float]]:
    return {
        "activation": {"tso": 0.3, "dso": 0.2, "consumer": 0.5},
        "afrr": {"tso": 0.5, "consumer": 0.5},
        "congestion": {"tso": 0.2, "dso": 0.6, "consumer": 0.2},
        "voltage": {"dso": 0.8, "consumer": 0.2},
        "curtailment": {"der_owner": 1.0},
        "losses": {"dso": 0.5, "consumer": 0.5},
        "co2": {"consumer": 1.0},
        "unserved_need": {"tso": 0.5, "consumer": 0.5},
        "energy_not_served": {"consumer": 1.0},
    }


def _default_role_map() -> dict[str, str]:
    return {
        "tso": "tso",
        "dso": "dso",
        "aggregator": "aggregator",
        "der_owner": "der_owner",
        "consumer": "consumer",
        "market_operator": "tso",
        "commercial_party": "aggregator",
        "": "tso",
    }


class CbaParameters(BaseModel):
    """Every input of the cost-benefit analysis besides the simulated KPIs and the ICT cost lines.

    Cash-flow convention: ICT investment at the start of year 0, benefits and operating cost at the end
    of years 1..``horizon_years``; the net cash flow of year ``t`` is discounted by ``(1 + r)^t``.
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)

    discount_rate: float = Field(
        default=0.04, gt=-1.0, le=1.0,
        description="Discount rate, a fraction per year (0.04 = 4 %/a); real or nominal as price_basis says.",
    )
    horizon_years: int = Field(
        default=20, ge=1, le=100, description="Appraisal horizon, years (cash flows in years 0..horizon)."
    )
    reference_scheme: str = Field(
        default="CMS",
        description="Scheme the others are compared with (benefits are reference KPI minus scheme KPI).",
    )
    price_basis: Literal["real", "nominal"] = Field(
        default="real",
        description="real: constant prices and a real rate; nominal: cash flows grow by escalation_rate "
        "per year and discount_rate is nominal.",
    )
    escalation_rate: float = Field(
        default=0.02, gt=-1.0, le=1.0,
        description="Price escalation, a fraction per year, applied to all cash flows when price_basis is "
        "nominal (ignored when real).",
    )
    ict_cost_basis: Literal["incremental", "full"] = Field(
        default="incremental",
        description="incremental: a scheme's ICT cost minus the reference scheme's (consistent with "
        "benefits relative to the reference); full: the scheme's whole ICT cost. The ranking is the same.",
    )
    day_weights_days_per_year: dict[str, float] = Field(
        default_factory=lambda: {"default": 365.0},
        description="Days per year each simulated representative day stands for, days/a; keys are day "
        "ids of the simulation KPIs and the values sum to 365 (or 366).",
    )
    unresolved_congestion_price_eur_per_mwh: float = Field(
        default=300.0, ge=0,
        description="Value of unresolved congestion (energy above line ratings), EUR/MWh.",
    )
    voltage_violation_price_eur_per_bus_hour: float = Field(
        default=100.0, ge=0, description="Value of a voltage violation, EUR per bus-hour outside limits."
    )
    curtailed_res_price_eur_per_mwh: float = Field(
        default=60.0, ge=0, description="Value of curtailed variable-RES energy, EUR/MWh."
    )
    losses_price_eur_per_mwh: float = Field(
        default=60.0, ge=0, description="Price of grid losses, EUR/MWh."
    )
    unserved_need_price_eur_per_mwh: float = Field(
        default=20.0, ge=0,
        description="Cost of need the market left unserved (market slack energy) beyond its physical "
        "consequences (aFRR energy, violations: counted in their own categories), EUR/MWh.",
    )
    energy_not_served_price_eur_per_mwh: float = Field(
        default=10000.0, ge=0,
        description="Value of the load that tripped lines disconnected (a value of lost load), EUR/MWh.",
    )
    co2_price_eur_per_t: float = Field(
        default=0.0, ge=0, description="CO2 value, EUR/t (0 leaves CO2 out of the benefits)."
    )
    emission_factor_t_per_mwh: float = Field(
        default=0.35, ge=0,
        description="CO2 emitted per MWh that replaces curtailed RES or covers losses, t/MWh.",
    )
    benefit_factor: float = Field(
        default=1.0, ge=0,
        description="Multiplier on all simulated benefits (uncertainty of the simulation), -.",
    )
    ict_capex_factor: float = Field(
        default=1.0, ge=0, description="Multiplier on all ICT investment, -."
    )
    ict_opex_factor: float = Field(
        default=1.0, ge=0, description="Multiplier on all ICT operating cost, -."
    )
    uncertain_inputs: list[UncertainInput] = Field(
        default_factory=_default_uncertain_inputs,
        description="Distributions of the inputs the Monte Carlo analysis samples (one per input).",
    )
    monte_carlo_samples: int = Field(
        default=10_000, ge=10, le=5_000_000, description="Number of Monte Carlo samples, count."
    )
    monte_carlo_day_spread: bool = Field(
        default=True,
        description="With two or more representative days, the Monte Carlo also resamples the days (a "
        "bootstrap by weight), adding the spread of the simulated days to the benefits.",
    )
    monte_carlo_seed: int = Field(default=20_240_601, ge=0, description="Seed of the Monte Carlo sampler.")
    histogram_bins: int = Field(default=40, ge=5, le=500, description="Bins of the NPV histogram, count.")
    tornado_ranges: list[TornadoRange] = Field(
        default_factory=_default_tornado_ranges,
        description="Low and high value of each input the tornado analysis moves one at a time.",
    )
    benefit_allocation: dict[str, dict[str, float]] = Field(
        default_factory=_default_allocation,
        description="Share of each benefit category going to each actor group (tso, dso, aggregator, "
        "der_owner, consumer), fractions summing to 1 per category.",
    )
    cost_role_to_actor: dict[str, str] = Field(
        default_factory=_default_role_map,
        description="Actor group that bears the ICT cost of each actor_role of the ICT cost lines.",
    )
    system: SystemScale = Field(
        default_factory=SystemScale,
        description="The system the study's costs and benefits stand for: its size in multiples of the "
        "simulated grid and the share of the organisations' platforms charged to it (cba.system_scale).",
    )
    simulation_figures: list[SimulationFigure] = Field(
        default_factory=default_simulation_figures,
        description="Source (or assumption with a low-high range) of each price and cost the simulation "
        "itself uses (aFRR prices, slack penalty, bid costs), by dotted path in the scenario "
        "(cba.simulation_figures); kept here so that editing a source leaves the stored results valid.",
    )
    sources: dict[str, str] = Field(
        default_factory=lambda: dict(_DEFAULT_SOURCES),
        description="Source of each default (field name -> citation, or 'assumption (...)').",
    )

    # ------------------------------------------------------------------------------ validation

    @field_validator("day_weights_days_per_year")
    @classmethod
    def _weights_make_a_year(cls, weights: dict[str, float]) -> dict[str, float]:
        if not weights:
            raise ValueError("at least one representative day with its weight (days/a) is needed")
        for day, weight in weights.items():
            if not math.isfinite(weight) or weight < 0:
                raise ValueError(f"weight of day '{day}' must be a finite number >= 0, got {weight}")
        total = math.fsum(weights.values())
        if not any(abs(total - year) <= _WEIGHT_TOL_DAYS for year in _YEAR_DAYS):
            raise ValueError(
                f"the day weights sum to {total:g} days; they must sum to 365 (or 366) days per year"
            )
        return weights

    @field_validator("uncertain_inputs")
    @classmethod
    def _one_distribution_per_input(cls, items: list[UncertainInput]) -> list[UncertainInput]:
        seen: set[str] = set()
        for item in items:
            if item.parameter in seen:
                raise ValueError(f"'{item.parameter}' has more than one distribution")
            seen.add(item.parameter)
        return items

    @field_validator("benefit_allocation", mode="before")
    @classmethod
    def _allocation_of_newer_categories(cls, keys: Any) -> Any:
        """A study written before a category existed has no key for it: it takes the default key, so
        older study files still load (categories added since: :data:`NEWER_CATEGORIES`)."""
        if isinstance(keys, dict):
            defaults = _default_allocation()
            keys = {**{c: defaults[c] for c in NEWER_CATEGORIES if c not in keys}, **keys}
        return keys

    @field_validator("benefit_allocation")
    @classmethod
    def _allocation_shares(cls, keys: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        for category, shares in keys.items():
            if category not in BENEFIT_CATEGORIES:
                raise ValueError(
                    f"unknown benefit category '{category}'; known: {', '.join(BENEFIT_CATEGORIES)}"
                )
            for actor, share in shares.items():
                if actor not in ACTOR_GROUPS:
                    raise ValueError(
                        f"unknown actor group '{actor}' in '{category}'; known: {', '.join(ACTOR_GROUPS)}"
                    )
                if not (math.isfinite(share) and 0.0 <= share <= 1.0):
                    raise ValueError(f"share of {actor} in '{category}' must be in [0, 1], got {share}")
            total = math.fsum(shares.values())
            if abs(total - 1.0) > _SHARE_TOL:
                raise ValueError(f"the shares of '{category}' sum to {total:g}; they must sum to 1")
        missing = [c for c in BENEFIT_CATEGORIES if c not in keys]
        if missing:
            raise ValueError(f"no allocation key for benefit categories {', '.join(missing)}")
        return keys

    @field_validator("cost_role_to_actor")
    @classmethod
    def _roles_map_to_actors(cls, mapping: dict[str, str]) -> dict[str, str]:
        for role, actor in mapping.items():
            if actor not in ACTOR_GROUPS:
                raise ValueError(
                    f"role '{role}' maps to unknown actor group '{actor}'; known: {', '.join(ACTOR_GROUPS)}"
                )
        return mapping

    @field_validator("sources")
    @classmethod
    def _sources_name_fields(cls, sources: dict[str, str]) -> dict[str, str]:
        unknown = [name for name in sources if name not in cls.model_fields]
        if unknown:
            raise ValueError(f"sources name unknown fields: {', '.join(unknown)}")
        return sources

    # ------------------------------------------------------------------------------ helpers

    def scalar(self, name: str) -> float:
        """Value of the scalar input ``name`` (one of :data:`SCALAR_PARAMETERS`)."""
        if name not in SCALAR_PARAMETERS:
            raise CbaError(f"cba: '{name}' is not a scalar CBA input")
        return float(getattr(self, name))

    def with_scalar(self, name: str, value: float) -> CbaParameters:
        """A copy with the scalar input ``name`` set to ``value`` (validated)."""
        self.scalar(name)
        data = self.model_dump()
        data[name] = value
        return parse_parameters(data)

    def source_of(self, name: str) -> str:
        """Citation of field ``name``, or ``'user input'`` when the study gives none."""
        return self.sources.get(name, "user input")

    def day_ids(self) -> list[str]:
        """Representative day ids in the order of :attr:`day_weights_days_per_year`."""
        return list(self.day_weights_days_per_year)


#: Inputs whose distribution is moved (shifted) rather than scaled onto the study's value: rates, where a
#: spread of +-2 points means the same at 3 % and at 5 %.
ADDITIVE_PARAMETERS: tuple[str, ...] = ("discount_rate", "escalation_rate")


def _moved(dist: UncertainInput, scale: float, shift: float) -> UncertainInput:
    data = dist.model_dump()
    for field in ("min", "mode", "max", "mean"):
        if data[field] is not None:
            data[field] = data[field] * scale + shift
    if data["std"] is not None:
        data["std"] = data["std"] * abs(scale)
    if dist.parameter not in ADDITIVE_PARAMETERS and data["min"] is not None and data["min"] < 0.0:
        data["min"] = 0.0  # prices and multipliers are >= 0 (the fields' own bound)
    return UncertainInput.model_validate(data)


def anchored_inputs(params: CbaParameters) -> list[UncertainInput]:
    """The Monte Carlo distributions centred on the study's own values.

    A distribution in the study describes the *spread* of an input; the value the analysis stands on is
    the study's. So each distribution is moved until its centre (:attr:`UncertainInput.centre`: mode,
    mean or midpoint) equals the study's value ``b``:

    * rates (:data:`ADDITIVE_PARAMETERS`) are shifted by ``b - centre``;
    * prices and multipliers are scaled by ``b / centre`` (a 15 % spread stays 15 % of the value), or
      shifted by ``b`` when the centre is 0.

    With ``benefit_factor: 20`` and the default ``normal(1, 0.15)``, the Monte Carlo samples
    ``normal(20, 3)``; a distribution already centred on the study's value is returned unchanged.
    """
    out: list[UncertainInput] = []
    for dist in params.uncertain_inputs:
        base, centre = params.scalar(dist.parameter), dist.centre
        if base == centre:
            out.append(dist)
        elif dist.parameter in ADDITIVE_PARAMETERS or centre == 0.0:
            out.append(_moved(dist, 1.0, base - centre))
        else:
            out.append(_moved(dist, base / centre, 0.0))
    return out


def anchored_ranges(params: CbaParameters) -> list[TornadoRange]:
    """The tornado ranges around the study's values: a range that contains the study's value is kept; one
    that does not (``benefit_factor: 20`` against the default 0.7-1.3) is moved like the Monte Carlo's
    distributions (:func:`anchored_inputs`) with its midpoint as the centre, so the tornado swings the
    input around the value the NPVs stand on."""
    out: list[TornadoRange] = []
    for rng in params.tornado_ranges:
        base = params.scalar(rng.parameter)
        centre = (rng.low + rng.high) / 2.0
        if rng.low <= base <= rng.high:
            out.append(rng)
            continue
        if rng.parameter in ADDITIVE_PARAMETERS or centre == 0.0:
            low, high = rng.low + base - centre, rng.high + base - centre
        else:
            low, high = rng.low * base / centre, rng.high * base / centre
        if rng.parameter not in ADDITIVE_PARAMETERS:
            low = max(low, 0.0)
        out.append(TornadoRange(parameter=rng.parameter, low=low, high=high))
    return out


def assumed_inputs(params: CbaParameters) -> list[str]:
    """Scalar inputs (prices, rates, multipliers) whose source is an assumption, not a citation."""
    return [name for name in SCALAR_PARAMETERS if params.source_of(name).lower().startswith("assumption")]


def format_validation_error(exc: ValidationError, prefix: str = "cba") -> str:
    """One line per problem, each naming the field path (``cba.uncertain_inputs[0]: min (3) > max (1)``)."""
    lines = []
    for err in exc.errors():
        path = prefix
        for part in err["loc"]:
            path += f"[{part}]" if isinstance(part, int) else f".{part}"
        message = str(err["msg"]).removeprefix("Value error, ")
        lines.append(f"{path}: {message}")
    return "; ".join(lines)


def parse_parameters(data: Mapping[str, Any] | None, source: str = "cba") -> CbaParameters:
    """Validate ``data`` (the ``cba:`` mapping of a study) into :class:`CbaParameters`.

    Raises
    ------
    CbaError
        With a message naming ``source`` and the field path of every problem, e.g.
        ``study.yaml: cba.day_weights_days_per_year: the day weights sum to 300 days; ...``.
    """
    try:
        return CbaParameters.model_validate(dict(data or {}))
    except ValidationError as exc:
        prefix = source if source.endswith("cba") else f"{source}: cba"
        raise CbaError(format_validation_error(exc, prefix)) from exc
