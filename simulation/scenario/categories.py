"""Device categories of the scenario and each one's parameters with their default distributions.

Plain constants read by the spec's validation (:mod:`simulation.scenario.spec`), the scenario builder
and the aggregators; a new device category adds its name here and its parameters with defaults.
"""

from __future__ import annotations

DER_CATEGORIES: tuple[str, ...] = (
    "storage",
    "ev",
    "variable_res",
    "chp",
    "conventional",
    "shiftable_load",
    "curtailable_load",
    "tcl",
)
"""The eight DER categories of the seed document (stationary storage, electric vehicles, variable RES,
CHP units, conventional generators, shiftable/atomic loads, curtailable loads, thermostatically
controlled loads)."""

DEVICE_CATEGORIES: tuple[str, ...] = DER_CATEGORIES + ("noncontrollable_load",)
"""All device categories: the eight DER categories plus non-controllable load."""

AGGREGATION_MODEL_OF_CATEGORY: dict[str, str] = {
    "shiftable_load": "atomic",
    "chp": "chp",
    "variable_res": "curtailable",
    "conventional": "curtailable",
    "curtailable_load": "curtailable",
    "storage": "storage",
    "ev": "storage",
    "tcl": "tcl",
}
"""The five aggregation models of the seed document and the categories each one aggregates: atomic
loads (traces approach), CHP units, curtailable generation and loads, electric energy storage, TCLs
(physical approach)."""

# Parameters each category's device model needs, with the default distribution used when a device
# group does not give one. Names carry units. Sources: assumptions typical of the SmartNet device
# models (D2.3), order of magnitude only; every default is editable in the study.
CATEGORY_PARAMETERS: dict[str, dict[str, dict[str, float | str]]] = {
    "storage": {
        "p_max_kw": {"kind": "uniform", "low": 5.0, "high": 20.0},
        "e_max_kwh": {"kind": "uniform", "low": 10.0, "high": 40.0},
        "soc_init_frac": {"kind": "uniform", "low": 0.3, "high": 0.7},
        "soc_min_frac": {"kind": "constant", "value": 0.1},
        "soc_max_frac": {"kind": "constant", "value": 0.95},
        "efficiency_frac": {"kind": "constant", "value": 0.95},
        "flex_cost_eur_per_mwh": {"kind": "uniform", "low": 30.0, "high": 60.0},
    },
    "ev": {
        "p_max_kw": {"kind": "uniform", "low": 3.7, "high": 11.0},
        "e_max_kwh": {"kind": "uniform", "low": 30.0, "high": 75.0},
        "soc_init_frac": {"kind": "uniform", "low": 0.2, "high": 0.6},
        "soc_min_frac": {"kind": "constant", "value": 0.1},
        "soc_max_frac": {"kind": "constant", "value": 0.95},
        "soc_target_frac": {"kind": "constant", "value": 0.8},
        "efficiency_frac": {"kind": "constant", "value": 0.92},
        "arrival_h": {"kind": "normal", "mean": 18.0, "std": 1.5, "low": 15.0, "high": 22.0},
        "departure_h": {"kind": "normal", "mean": 7.5, "std": 1.0, "low": 5.0, "high": 10.0},
        "flex_cost_eur_per_mwh": {"kind": "uniform", "low": 20.0, "high": 50.0},
    },
    "variable_res": {
        "p_max_kw": {"kind": "uniform", "low": 3.0, "high": 10.0},
        "flex_cost_eur_per_mwh": {"kind": "uniform", "low": 10.0, "high": 40.0},
        "forecast_error_frac": {"kind": "constant", "value": 0.08},
    },
    "chp": {
        "p_max_kw": {"kind": "uniform", "low": 200.0, "high": 1000.0},
        "p_min_frac": {"kind": "constant", "value": 0.4},
        "heat_to_power_ratio": {"kind": "uniform", "low": 1.2, "high": 1.8},
        "heat_store_kwh": {"kind": "uniform", "low": 500.0, "high": 2000.0},
        "heat_store_init_frac": {"kind": "uniform", "low": 0.4, "high": 0.6},
        "marginal_cost_eur_per_mwh": {"kind": "uniform", "low": 50.0, "high": 80.0},
    },
    "conventional": {
        "p_max_kw": {"kind": "uniform", "low": 1000.0, "high": 5000.0},
        "p_min_frac": {"kind": "constant", "value": 0.3},
        "schedule_frac": {"kind": "uniform", "low": 0.5, "high": 0.8},
        "ramp_frac_per_min": {"kind": "constant", "value": 0.02},
        "marginal_cost_eur_per_mwh": {"kind": "uniform", "low": 60.0, "high": 110.0},
    },
    "shiftable_load": {
        "p_kw": {"kind": "uniform", "low": 1.0, "high": 2.5},
        "cycle_h": {"kind": "uniform", "low": 1.0, "high": 2.0},
        "start_h": {"kind": "normal", "mean": 19.0, "std": 2.5, "low": 7.0, "high": 22.0},
        "max_shift_h": {"kind": "constant", "value": 3.0},
        "flex_cost_eur_per_mwh": {"kind": "uniform", "low": 20.0, "high": 60.0},
    },
    "curtailable_load": {
        "p_kw": {"kind": "uniform", "low": 0.5, "high": 2.0},
        "curtail_max_frac": {"kind": "constant", "value": 0.5},
        "flex_cost_eur_per_mwh": {"kind": "uniform", "low": 80.0, "high": 150.0},
    },
    "tcl": {
        "p_rated_kw": {"kind": "uniform", "low": 3.0, "high": 6.0},
        "temp_set_c": {"kind": "uniform", "low": 20.0, "high": 22.0},
        "band_c": {"kind": "constant", "value": 1.0},
        "time_constant_h": {"kind": "uniform", "low": 3.0, "high": 6.0},
        "cop": {"kind": "uniform", "low": 2.5, "high": 3.5},
        "thermal_capacity_kwh_per_k": {"kind": "uniform", "low": 1.0, "high": 2.0},
        "flex_cost_eur_per_mwh": {"kind": "uniform", "low": 15.0, "high": 40.0},
    },
    "noncontrollable_load": {
        "p_peak_kw": {"kind": "uniform", "low": 2.0, "high": 6.0},
        "power_factor": {"kind": "constant", "value": 0.95},
    },
}
"""Per device category: parameter name -> default distribution (as a :class:`ParamDistribution` dict)."""
