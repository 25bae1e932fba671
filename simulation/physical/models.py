"""Vectorised zero- and first-order device models with noise (the devices of the physical layer).

Every function works on a whole category at once (:class:`simulation.devices.DeviceArrays`); powers are
injections in kW (generator convention: a load is negative). Per category:

* ``baseline(dev, ctx, k)``: power the device would take in physical step ``k`` following its schedule
  from earlier markets (forecast conditions, no noise).
* ``flexibility(dev, ctx, k)``: ``(up_kw, down_kw) >= 0``: how far the injection can move up (more
  injection / less consumption) and down in step ``k`` from the baseline, given the current state and
  limits (SOC, temperature band, heat store, ramp, availability).
* ``step(dev, ctx, k, delta_kw, rng)``: advance one physical step with the set-point
  ``baseline + delta_kw`` clipped by the device's own limits (its local controller), with noise on the
  uncontrollable internal variables; returns the injection actually delivered, kW.

Models (``dt`` the physical step, h):

* non-controllable load: ``p = -p_peak * load[k] * (1 + e)``, ``e ~ N(0, noise)``.
* variable RES: available ``a = p_max * prof[k] * max(0, 1 + forecast_error * z)``; output
  ``p = clip(a + delta, 0, a)`` (downward only: curtailment ``a - p``).
* storage / EV: ``soc' = soc - dt * (p+/eta - p- * eta) / E``, with ``p`` clipped so that
  ``soc_min <= soc' <= soc_max`` and ``|p| <= p_max``; an EV is available between arrival and departure,
  charges at full power by default until its target SOC, and must reach the target by departure.
* TCL (reversible heat pump, duty ``d in [-1, 1]``, ``d > 0`` cooling): first-order room
  ``T' = a T + (1 - a)(T_amb + w - R * cop * P * d)``, ``a = exp(-dt / tau)``, ``R = tau / C``; electric
  power ``P |d|``. The local thermostat clips ``d`` so that ``T'`` stays in ``[T_set - band/2,
  T_set + band/2]``; the baseline steers ``T'`` to ``T_set``.
* CHP (heat-led): heat store ``H' = H + dt (htp * p - h)``, ``p in [p_min, p_max]`` and
  ``0 <= H' <= H_max``; baseline ``p = clip(h / htp, p_min, p_max)``.
* conventional generator: ``p = clip(p_sched + delta, p_min, p_max)`` within a ramp limit.
* shiftable (atomic) load: runs ``cycle`` at ``p`` once started; starts at its scheduled step unless
  postponed (at most ``max_shift``), or earlier when told to.
* curtailable load: ``p = -p * lighting[k]``; ``delta`` in ``[0, curtail_max * p]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from coordstudio.simulation.devices import DeviceArrays


@dataclass
class ModelContext:
    """What every device model reads: profiles per physical step and the step length."""

    profiles: dict[str, np.ndarray]
    dt_h: float
    start_h: float
    noise_frac: float

    def hour(self, k: int) -> float:
        """Hour of the day at the start of physical step ``k``."""
        return (self.start_h + k * self.dt_h) % 24.0


# ------------------------------------------------------------------------------------ initial state


RES_PROFILES: tuple[str, ...] = ("pv", "wind", "flat")


def ev_day_start_soc(p: dict[str, np.ndarray], start_h: float, soc_init: np.ndarray) -> np.ndarray:
    """State of charge of the EVs when the simulation starts at ``start_h``, as the evening before left it.

    Why: an EV arrives home with ``soc_init`` (the trip rule) and its scheduled charging (:func:`baseline`)
    runs at ``p_max`` until ``soc_target``. A simulation starting while the EV is at home (``start_h`` after
    its arrival or before its departure) must not start it at ``soc_init``: every such EV would then charge
    at once in the first step, a load no real night has (the default study's F2 head line: 148 % at 00:00
    with its EVs, 44.6 % without, docs/cba.md "How the trip happens"). So an EV connected at ``start_h``
    starts with the charge its schedule gave it over the ``h_c = (start_h - arrival_h) mod 24`` hours since
    its arrival::

        soc_0 = min(max(soc_init, soc_target), soc_init + p_max eta h_c / E_max)   if connected at start_h
        soc_0 = soc_init                                                         if away

    (charging stops at the target, so an EV that arrived above it keeps its own SOC); clipped to
    ``[soc_min, soc_max]``. An EV away at ``start_h`` arrives later with ``soc_init``, as every day after."""
    arr, dep = p["arrival_h"], p["departure_h"]
    h = start_h % 24.0
    connected = (h >= arr) | (h < dep)
    since_arrival_h = (h - arr) % 24.0
    charged = soc_init + p["p_max_kw"] * p["efficiency_frac"] * since_arrival_h / p["e_max_kwh"]
    soc = np.minimum(np.maximum(soc_init, p["soc_target_frac"]), charged)
    return np.clip(np.where(connected, soc, soc_init), p["soc_min_frac"], p["soc_max_frac"])


def init_state(
    devices: dict[str, DeviceArrays],
    ctx: ModelContext,
    rng: np.random.Generator,
    group_profiles: list[str | None] | None = None,
) -> None:
    """Set every category's initial dynamic state (deterministic given ``rng``).

    ``group_profiles[g]`` is the profile of device group ``g`` (variable RES: pv, wind or flat).
    """
    for cat, dev in devices.items():
        n = len(dev)
        p = dev.params
        st: dict[str, np.ndarray] = {}
        if cat in ("storage", "ev"):
            st["soc_frac"] = np.clip(p["soc_init_frac"], p["soc_min_frac"], p["soc_max_frac"]).copy()
        if cat == "ev":
            st["soc_frac"] = ev_day_start_soc(p, ctx.start_h, st["soc_frac"])
        if cat == "variable_res":
            names = [RES_PROFILES.index(pr) if pr in RES_PROFILES else 0 for pr in (group_profiles or [])]
            lut = np.asarray(names or [0], dtype=np.int8)
            st["profile_idx"] = lut[dev.group] if len(names) else np.zeros(n, dtype=np.int8)
        if cat == "tcl":
            half = p["band_c"] / 2.0
            st["temp_c"] = p["temp_set_c"] + rng.uniform(-1.0, 1.0, n) * half * 0.8
        if cat == "chp":
            st["heat_kwh"] = p["heat_store_init_frac"] * p["heat_store_kwh"]
        if cat == "conventional":
            st["p_kw"] = p["schedule_frac"] * p["p_max_kw"]
        if cat == "shiftable_load":
            st["start_step"] = np.floor(((p["start_h"] - ctx.start_h) % 24.0) / ctx.dt_h).astype(np.int32)
            st["cycle_steps"] = np.maximum(1, np.round(p["cycle_h"] / ctx.dt_h)).astype(np.int32)
            st["max_shift_steps"] = np.round(p["max_shift_h"] / ctx.dt_h).astype(np.int32)
            st["remaining"] = np.zeros(n, dtype=np.int32)
            st["done"] = np.zeros(n, dtype=bool)
            st["postpone"] = np.zeros(n, dtype=bool)
            st["start_now"] = np.zeros(n, dtype=bool)
        dev.state = st


# ------------------------------------------------------------------------------------------ helpers


def _ev_connected(dev: DeviceArrays, ctx: ModelContext, k: int) -> np.ndarray:
    h = ctx.hour(k)
    arr, dep = dev.params["arrival_h"], dev.params["departure_h"]
    return (h >= arr) | (h < dep)


def _hours_to_departure(dev: DeviceArrays, ctx: ModelContext, k: int) -> np.ndarray:
    h = ctx.hour(k)
    return (dev.params["departure_h"] - h) % 24.0


def _storage_limits(dev: DeviceArrays, dt_h: float) -> tuple[np.ndarray, np.ndarray]:
    """``(p_lo, p_hi)`` kW keeping SOC within its limits over one step and |p| within p_max."""
    p = dev.params
    e = p["e_max_kwh"]
    soc = dev.state["soc_frac"]
    eta = p["efficiency_frac"]
    p_hi = np.minimum(p["p_max_kw"], np.maximum(0.0, (soc - p["soc_min_frac"]) * e * eta / dt_h))
    p_lo = -np.minimum(p["p_max_kw"], np.maximum(0.0, (p["soc_max_frac"] - soc) * e / (eta * dt_h)))
    return p_lo, p_hi


def _tcl_coeffs(dev: DeviceArrays, ctx: ModelContext) -> tuple[np.ndarray, np.ndarray]:
    p = dev.params
    a = np.exp(-ctx.dt_h / p["time_constant_h"])
    r = p["time_constant_h"] / p["thermal_capacity_kwh_per_k"]
    gain = (1.0 - a) * r * p["cop"] * p["p_rated_kw"]  # K per unit duty over one step
    return a, gain


def _tcl_duties(dev: DeviceArrays, ctx: ModelContext, t_amb: np.ndarray | float) -> tuple[np.ndarray, ...]:
    """Duty steering to the set point, and the duty interval keeping the temperature in its band."""
    p = dev.params
    a, gain = _tcl_coeffs(dev, ctx)
    free = a * dev.state["temp_c"] + (1.0 - a) * t_amb  # temperature at the end of the step with d = 0
    half = p["band_c"] / 2.0
    d_set = np.clip((free - p["temp_set_c"]) / gain, -1.0, 1.0)
    d_lo = np.clip((free - (p["temp_set_c"] + half)) / gain, -1.0, 1.0)  # least cooling keeping T <= upper
    d_hi = np.clip((free - (p["temp_set_c"] - half)) / gain, -1.0, 1.0)  # most cooling keeping T >= lower
    return d_set, d_lo, d_hi, free, gain


def _abs_range(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Smallest and largest |d| over the interval [lo, hi]."""
    mn = np.where((lo <= 0) & (hi >= 0), 0.0, np.minimum(np.abs(lo), np.abs(hi)))
    return mn, np.maximum(np.abs(lo), np.abs(hi))


def _chp_heat_kw(dev: DeviceArrays, ctx: ModelContext, k: int) -> np.ndarray:
    p = dev.params
    return p["heat_to_power_ratio"] * p["p_max_kw"] * ctx.profiles["heat"][k] * 0.7


# ------------------------------------------------------------------------------------------ baseline


def baseline(dev: DeviceArrays, ctx: ModelContext, k: int) -> np.ndarray:
    """Scheduled injection of every device of the category in step ``k``, kW (forecast, no noise)."""
    cat = dev.category
    p = dev.params
    st = dev.state
    prof = ctx.profiles
    if cat == "noncontrollable_load":
        return -p["p_peak_kw"] * prof["load"][k]
    if cat == "variable_res":
        return p["p_max_kw"] * _res_shape(ctx, k)[st["profile_idx"]]
    if cat == "storage":
        return np.zeros(len(dev))
    if cat == "ev":
        need = np.maximum(0.0, p["soc_target_frac"] - st["soc_frac"]) * p["e_max_kwh"] / p["efficiency_frac"]
        charge = np.minimum(p["p_max_kw"], need / ctx.dt_h)
        return np.where(_ev_connected(dev, ctx, k), -charge, 0.0)
    if cat == "tcl":
        d_set, _, _, _, _ = _tcl_duties(dev, ctx, prof["ambient_temp_c"][k])
        return -p["p_rated_kw"] * np.abs(d_set)
    if cat == "chp":
        return np.clip(
            _chp_heat_kw(dev, ctx, k) / p["heat_to_power_ratio"],
            p["p_min_frac"] * p["p_max_kw"],
            p["p_max_kw"],
        )
    if cat == "conventional":
        return p["schedule_frac"] * p["p_max_kw"]
    if cat == "shiftable_load":
        running = st["remaining"] > 0
        due = (~running) & (~st["done"]) & (k >= st["start_step"])
        return np.where(running | due, -p["p_kw"], 0.0)
    if cat == "curtailable_load":
        return -p["p_kw"] * prof["lighting"][k]
    raise ValueError(f"unknown device category {cat!r}")


def _res_shape(ctx: ModelContext, k: int) -> np.ndarray:
    return np.array([ctx.profiles[name][k] for name in RES_PROFILES])


# --------------------------------------------------------------------------------------- flexibility


def flexibility(dev: DeviceArrays, ctx: ModelContext, k: int) -> tuple[np.ndarray, np.ndarray]:
    """``(up_kw, down_kw)``: feasible move of each device's injection from its baseline in step ``k``.

    The direction the earlier-market position leaves open decides what is offered: a curtailable load
    that is off, or a PV panel at night, offers nothing; a conventional generator at its maximum offers
    only downward flexibility.
    """
    cat = dev.category
    p = dev.params
    st = dev.state
    n = len(dev)
    zero = np.zeros(n)
    base = baseline(dev, ctx, k)
    if cat == "noncontrollable_load":
        return zero, zero
    if cat == "variable_res":
        return zero, base  # curtailment only
    if cat == "storage":
        lo, hi = _storage_limits(dev, ctx.dt_h)
        return np.maximum(0.0, hi - base), np.maximum(0.0, base - lo)
    if cat == "ev":
        con = _ev_connected(dev, ctx, k)
        lo, hi = _storage_limits(dev, ctx.dt_h)
        lo = np.maximum(lo, -p["p_max_kw"])
        hi = np.minimum(0.0, hi)  # no discharge to the grid (V1G)
        # up: charge less now only if the target can still be reached in the remaining connected time
        need = np.maximum(0.0, p["soc_target_frac"] - st["soc_frac"]) * p["e_max_kwh"] / p["efficiency_frac"]
        spare_h = _hours_to_departure(dev, ctx, k) - ctx.dt_h
        can_defer = need <= p["p_max_kw"] * np.maximum(0.0, spare_h)
        up = np.where(con & can_defer, np.maximum(0.0, hi - base), 0.0)
        down = np.where(con, np.maximum(0.0, base - lo), 0.0)
        return up, down
    if cat == "tcl":
        d_set, d_lo, d_hi, _, _ = _tcl_duties(dev, ctx, ctx.profiles["ambient_temp_c"][k])
        mn, mx = _abs_range(d_lo, d_hi)
        prated = p["p_rated_kw"]
        return prated * np.maximum(0.0, np.abs(d_set) - mn), prated * np.maximum(0.0, mx - np.abs(d_set))
    if cat == "chp":
        heat = _chp_heat_kw(dev, ctx, k)
        htp = p["heat_to_power_ratio"]
        hi = np.minimum(
            p["p_max_kw"], (p["heat_store_kwh"] - st["heat_kwh"] + heat * ctx.dt_h) / (htp * ctx.dt_h)
        )
        lo = np.maximum(
            p["p_min_frac"] * p["p_max_kw"], (heat * ctx.dt_h - st["heat_kwh"]) / (htp * ctx.dt_h)
        )
        return np.maximum(0.0, hi - base), np.maximum(0.0, base - lo)
    if cat == "conventional":
        ramp = p["ramp_frac_per_min"] * p["p_max_kw"] * ctx.dt_h * 60.0
        hi = np.minimum(p["p_max_kw"], st["p_kw"] + ramp)
        lo = np.maximum(p["p_min_frac"] * p["p_max_kw"], st["p_kw"] - ramp)
        return np.maximum(0.0, hi - base), np.maximum(0.0, base - lo)
    if cat == "shiftable_load":
        running = st["remaining"] > 0
        idle = (~running) & (~st["done"])
        due = idle & (k >= st["start_step"]) & (k < st["start_step"] + st["max_shift_steps"])
        early = idle & (k < st["start_step"]) & (k >= st["start_step"] - st["max_shift_steps"])
        return np.where(due, p["p_kw"], 0.0), np.where(early, p["p_kw"], 0.0)
    if cat == "curtailable_load":
        return p["curtail_max_frac"] * p["p_kw"] * ctx.profiles["lighting"][k], zero
    raise ValueError(f"unknown device category {cat!r}")


# ---------------------------------------------------------------------------------------------- step


@dataclass
class StepOutput:
    """What one category delivered in one physical step."""

    p_kw: np.ndarray
    """Injection of each device, kW."""
    curtailed_kw: np.ndarray | None = None
    """Curtailed available power of variable RES, kW."""


def _normal(rng: np.random.Generator | None, n: int) -> np.ndarray:
    if rng is None:
        return np.zeros(n, dtype=np.float32)
    return rng.standard_normal(n, dtype=np.float32)


def step(
    dev: DeviceArrays, ctx: ModelContext, k: int, delta_kw: np.ndarray | None, rng: np.random.Generator | None
) -> StepOutput:
    """Advance the category one physical step with set-point ``baseline + delta_kw`` (see module doc).

    ``rng`` None: no noise (the schedule run of the earlier markets)."""
    cat = dev.category
    p = dev.params
    st = dev.state
    n = len(dev)
    prof = ctx.profiles
    noise = ctx.noise_frac
    delta = np.zeros(n) if delta_kw is None else delta_kw
    if n == 0:
        return StepOutput(np.zeros(0), np.zeros(0) if cat == "variable_res" else None)
    if cat == "noncontrollable_load":
        eps = _normal(rng, n)
        return StepOutput(-p["p_peak_kw"] * prof["load"][k] * (1.0 + noise * eps))
    if cat == "variable_res":
        eps = _normal(rng, n)
        avail = (
            p["p_max_kw"]
            * _res_shape(ctx, k)[st["profile_idx"]]
            * np.maximum(0.0, 1.0 + p["forecast_error_frac"] * eps)
        )
        out = np.clip(avail + delta, 0.0, avail)
        return StepOutput(out, avail - out)
    if cat in ("storage", "ev"):
        base = baseline(dev, ctx, k) if cat == "ev" else 0.0
        lo, hi = _storage_limits(dev, ctx.dt_h)
        if cat == "ev":
            con = _ev_connected(dev, ctx, k)
            hi = np.minimum(0.0, hi)
            # must-charge: the local controller overrides a deferral that would miss the target
            need = (
                np.maximum(0.0, p["soc_target_frac"] - st["soc_frac"]) * p["e_max_kwh"] / p["efficiency_frac"]
            )
            spare_h = _hours_to_departure(dev, ctx, k) - ctx.dt_h
            must = need - p["p_max_kw"] * np.maximum(0.0, spare_h)
            hi = np.minimum(hi, -np.clip(must / ctx.dt_h, 0.0, p["p_max_kw"]))
            hi = np.maximum(hi, lo)
            out = np.where(con, np.clip(base + delta, lo, hi), 0.0)
        else:
            out = np.clip(base + delta, lo, hi)
        eta = p["efficiency_frac"]
        de = np.where(out > 0, out / eta, out * eta) * ctx.dt_h
        st["soc_frac"] = np.clip(st["soc_frac"] - de / p["e_max_kwh"], p["soc_min_frac"], p["soc_max_frac"])
        if cat == "ev":
            # an EV that leaves in this step returns at its arrival time with its initial SOC (trips)
            h0, h1 = ctx.hour(k), ctx.hour(k + 1)
            dep = p["departure_h"]
            leaving = (h0 < dep) & ((h1 >= dep) | (h1 < h0))
            st["soc_frac"] = np.where(
                leaving, np.clip(p["soc_init_frac"], p["soc_min_frac"], p["soc_max_frac"]), st["soc_frac"]
            )
        return StepOutput(out)
    if cat == "tcl":
        t_amb = prof["ambient_temp_c"][k] + noise * 10.0 * _normal(rng, n)
        d_set, d_lo, d_hi, free, gain = _tcl_duties(dev, ctx, t_amb)
        # the set-point: the aggregator's delta moves the consumption |d| P away from the baseline
        target = np.abs(d_set) - delta / p["p_rated_kw"]
        sign = np.where(d_set != 0, np.sign(d_set), np.where(d_hi > 0, 1.0, -1.0))
        d = np.clip(sign * np.maximum(target, 0.0), d_lo, d_hi)
        st["temp_c"] = free - gain * d
        return StepOutput(-p["p_rated_kw"] * np.abs(d))
    if cat == "chp":
        heat = _chp_heat_kw(dev, ctx, k) * (1.0 + noise * _normal(rng, n))
        htp = p["heat_to_power_ratio"]
        base = np.clip(heat / htp, p["p_min_frac"] * p["p_max_kw"], p["p_max_kw"])
        hi = np.minimum(
            p["p_max_kw"], (p["heat_store_kwh"] - st["heat_kwh"] + heat * ctx.dt_h) / (htp * ctx.dt_h)
        )
        lo = np.maximum(
            p["p_min_frac"] * p["p_max_kw"], (heat * ctx.dt_h - st["heat_kwh"]) / (htp * ctx.dt_h)
        )
        out = np.clip(base + delta, lo, np.maximum(lo, hi))
        st["heat_kwh"] = np.clip(st["heat_kwh"] + (htp * out - heat) * ctx.dt_h, 0.0, p["heat_store_kwh"])
        return StepOutput(out)
    if cat == "conventional":
        ramp = p["ramp_frac_per_min"] * p["p_max_kw"] * ctx.dt_h * 60.0
        hi = np.minimum(p["p_max_kw"], st["p_kw"] + ramp)
        lo = np.maximum(p["p_min_frac"] * p["p_max_kw"], st["p_kw"] - ramp)
        out = np.clip(p["schedule_frac"] * p["p_max_kw"] + delta, lo, hi)
        st["p_kw"] = out
        return StepOutput(out)
    if cat == "shiftable_load":
        if delta_kw is not None:
            st["postpone"] = delta > 0
            st["start_now"] = delta < 0
        remaining = st["remaining"]
        idle = (remaining <= 0) & ~st["done"]
        start = idle & (
            ((k >= st["start_step"]) & ~st["postpone"])
            | st["start_now"]
            | (k >= st["start_step"] + st["max_shift_steps"])
        )
        remaining[start] = st["cycle_steps"][start]
        running = remaining > 0
        out = np.where(running, -p["p_kw"], 0.0)
        remaining -= running
        st["done"] |= running & (remaining == 0)
        st["postpone"][:] = False
        st["start_now"][:] = False
        return StepOutput(out)
    if cat == "curtailable_load":
        base = -p["p_kw"] * prof["lighting"][k]
        return StepOutput(np.clip(base + delta, base, base * (1.0 - p["curtail_max_frac"])))
    raise ValueError(f"unknown device category {cat!r}")
