"""aFRR as the TSO holds it: a contracted reserve band (up and down) that moves at a finite ramp.

The residual imbalance ``R_k`` the market left in physical step ``k`` (MW, positive: deficit, upward aFRR
needed) is covered by aFRR only as far as the reserve and its ramp allow::

    lo_k = max(-reserve_down, a_{k-1} - ramp * dt)
    hi_k = min(+reserve_up,   a_{k-1} + ramp * dt)
    a_k  = min(max(R_k, lo_k), hi_k)                  (aFRR delivered, step average)
    u_k  = R_k - a_k                                  (not covered)

with ``dt`` the physical step (min) and ``a_{-1} = 0`` (the day starts from the balanced schedule). ``u_k >
0`` is a deficit no reserve covered (energy not served, ``u_k dt`` MWh); ``u_k < 0`` a surplus no downward
reserve absorbed. In the power flow the slack bus still closes the balance (it stands for the
interconnection's unscheduled exchange and FCR); the KPIs report ``u`` so that a scheme leaning on an
unlimited balancer is no longer free.

Since ``a_{k-1}`` always lies in the band ``[-reserve_down, reserve_up]`` (it starts at 0 and every step's
value is clipped to the band), the window ``[lo_k, hi_k]`` is never empty.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from coordstudio.simulation.scenario.spec import ScenarioSpec

Z_99 = 2.3263478740408408
"""Standard normal quantile of 0.99: the reserve covers 99 % of the modelled imbalances."""


@dataclass(frozen=True)
class AfrrLimits:
    """The TSO's contracted aFRR for one run (resolved from :class:`simulation.scenario.spec.AfrrSpec`)."""

    reserve_up_mw: float
    """Upward reserve held (covers deficits), MW."""
    reserve_down_mw: float
    """Downward reserve held (absorbs surpluses), MW."""
    ramp_mw_per_min: float
    """Largest change of the delivered aFRR per minute, MW/min."""


def sized_reserve_mw(spec: ScenarioSpec, t_load_peak_mw: np.ndarray) -> float:
    """The default reserve: 99 % of the modelled imbalances at the peak (ENTSO-E's probabilistic FRR
    dimensioning, SOGL Art. 157; source: assumption, the rule is applied to the scenario's own imbalance
    model instead of a year of historical records)::

        reserve = A + z_0.99 * sqrt(sigma_imb^2 + sum_l (f * L_l)^2)

    ``A`` the deterministic ramp-hour shape amplitude, ``sigma_imb`` the imbalance std, ``f`` the nodal
    load forecast error (fraction), ``L_l`` the transmission loads at their peak (MW, independent errors).
    The feeders' own loads are left out: their errors reach the transmission grid through measured
    deviations the next clearing buys, and the market covers the forecast part of the imbalance, so the
    reserve only sees what is left (the sizing is conservative)."""
    imb = spec.imbalance
    loads = np.maximum(np.asarray(t_load_peak_mw, dtype=float), 0.0)
    load_sigma = imb.load_forecast_error_std_frac * float(np.sqrt(np.sum(loads**2)))
    return float(imb.daily_amplitude_mw + Z_99 * np.hypot(imb.std_mw, load_sigma))


def resolve_limits(spec: ScenarioSpec, t_load_peak_mw: np.ndarray) -> AfrrLimits:
    """The run's limits: the spec's figures, or the defaults of :class:`simulation.scenario.spec.AfrrSpec`
    (reserve: :func:`sized_reserve_mw`; ramp: the whole reserve within the full activation time)."""
    a = spec.afrr
    sized = sized_reserve_mw(spec, t_load_peak_mw)
    up = a.reserve_up_mw if a.reserve_up_mw is not None else sized
    down = a.reserve_down_mw if a.reserve_down_mw is not None else sized
    ramp = (
        a.ramp_mw_per_min
        if a.ramp_mw_per_min is not None
        else max(up, down) / a.full_activation_time_min
    )
    return AfrrLimits(float(up), float(down), float(ramp))


def limit_afrr(need_mw: float, previous_mw: float, limits: AfrrLimits | None, dt_min: float) -> float:
    """aFRR delivered in a step (module docstring): ``need_mw`` clipped to the ramp window around
    ``previous_mw`` intersected with the reserve band; ``limits`` None: unlimited (``need_mw`` itself)."""
    if limits is None:
        return float(need_mw)
    step = limits.ramp_mw_per_min * dt_min
    lo = max(-limits.reserve_down_mw, previous_mw - step)
    hi = min(limits.reserve_up_mw, previous_mw + step)
    return float(min(max(need_mw, lo), hi))


__all__ = ["Z_99", "AfrrLimits", "limit_afrr", "resolve_limits", "sized_reserve_mw"]
