"""Physical-layer device update speed at the seed's scale, apart from power flow (issue 4).

2.5 million devices in the seed's Italian mix (655,323 PV panels, 212,704 EVs, 1,489,193 wet appliances,
68,481 heat pumps, 33,783 dimmable street lights, plus stationary storage, CHP and conventional units)
stepped 288 times (a day in 5-minute steps) with set-points for a tenth of the devices.
Goal: at least 50 million device-steps per second (2.5 M x 288 in under 15 s).
"""

from __future__ import annotations

import time

import numpy as np

from coordstudio.simulation.physical.models import ModelContext, init_state, step
from coordstudio.simulation.scenario import (
    CopperPlateNodeSpec,
    DeviceGroupSpec,
    ProfileSpec,
    ScenarioSpec,
    TimingSpec,
    TransmissionGridSpec,
)
from coordstudio.simulation.scenario.build import build_profiles, build_scenario

MIX = {
    "variable_res": 655_323,
    "ev": 212_704,
    "shiftable_load": 1_489_193,
    "tcl": 68_481,
    "curtailable_load": 33_783,
    "storage": 40_000,
    "chp": 20,
    "conventional": 308,
}


def seed_scale_spec(steps_min: int = 5) -> ScenarioSpec:
    cps = [CopperPlateNodeSpec(node_id=f"CP{i}", interface_bus=i + 1) for i in range(20)]
    groups = []
    for cat, n in MIX.items():
        per = n // len(cps)
        for i, cp in enumerate(cps):
            cnt = per + (n - per * len(cps) if i == 0 else 0)
            groups.append(
                DeviceGroupSpec(
                    group_id=f"{cp.node_id}-{cat}",
                    category=cat,
                    area=cp.node_id,
                    count=cnt,
                    profile="pv" if cat == "variable_res" else None,
                )
            )
    return ScenarioSpec(
        name="seed-scale",
        transmission=TransmissionGridSpec(case_name="case30"),
        copper_plate_nodes=cps,
        device_groups=groups,
        profiles=ProfileSpec(source="synthetic"),
        timing=TimingSpec(
            duration_h=24,
            granularity_min=15,
            horizon_min=15,
            clearing_frequency_min=15,
            physical_step_min=steps_min,
        ),
    )


def main() -> None:
    spec = seed_scale_spec()
    t0 = time.perf_counter()
    scen = build_scenario(spec)
    build_s = time.perf_counter() - t0
    n = scen.n_devices
    K = spec.timing.n_physical_steps
    ctx = ModelContext(
        profiles=build_profiles(spec, np.random.default_rng(0)),
        dt_h=spec.timing.physical_step_min / 60,
        start_h=0.0,
        noise_frac=0.02,
    )
    devices = scen.devices
    init_state(devices, ctx, np.random.default_rng(1), [g.profile for g in spec.device_groups])
    rng = np.random.default_rng(2)
    sel = {c: rng.random(len(d)) < 0.1 for c, d in devices.items()}
    deltas = {c: np.where(sel[c], rng.normal(0, 0.5, len(d)), 0.0) for c, d in devices.items()}
    times = []
    for _ in range(3):
        init_state(devices, ctx, np.random.default_rng(1), [g.profile for g in spec.device_groups])
        t0 = time.perf_counter()
        for k in range(K):
            for cat, dev in devices.items():
                step(dev, ctx, k, deltas[cat] if cat != "noncontrollable_load" else None, rng)
        times.append(time.perf_counter() - t0)
    t = float(np.median(times))
    rate = n * K / t
    print(f"devices {n:,}  steps {K}  build {build_s:.1f} s")
    print(
        f"device update: median {t:.2f} s over {len(times)} runs -> {rate / 1e6:.1f} M device-steps/s "
        f"(goal >= 50 M/s: {'met' if rate >= 50e6 else 'NOT met'})"
    )
    per_cat = {}
    for cat, dev in devices.items():
        t0 = time.perf_counter()
        for k in range(0, K, 24):
            step(dev, ctx, k, deltas[cat], rng)
        per_cat[cat] = (time.perf_counter() - t0) / len(range(0, K, 24))
    for cat, s in per_cat.items():
        if len(devices[cat]):
            print(
                f"  {cat:18s} {len(devices[cat]):>9,} devices  {s * 1000:7.1f} ms/step  "
                f"{len(devices[cat]) / s / 1e6:7.1f} M device-steps/s"
            )


if __name__ == "__main__":
    main()
