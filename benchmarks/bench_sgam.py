"""Timing of the SGAM/ICT package: validation, matching, Excel round trip, plane figure.

Run: ``.venv/bin/python benchmarks/bench_sgam.py [--repeat 7]``. Prints the median of ``--repeat`` runs
for the default model and for a model scaled 10x (every actor, link, event and technology copied ten
times under new ids), the case an ICT architect's large study could reach. The GUI recomputes the ICT cost
after each edit, so ``ict_costs`` must stay well under the 100 ms a user perceives as instant.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from coordstudio.sgam.excel import export_workbook, import_workbook
from coordstudio.sgam.library import default_model
from coordstudio.sgam.matching import ict_costs
from coordstudio.sgam.model import SgamModel
from coordstudio.sgam.plane import draw_sgam_plane


def scaled_model(factor: int) -> SgamModel:
    """The default model with actors, links, events, information objects and technologies copied."""
    base = default_model().model_dump(mode="json")
    out = dict(base)
    for kind in ("actors", "links", "events", "information_objects", "technologies"):
        out[kind] = []
    refs = {
        "actors": ["owner_id"],
        "links": ["actor_a_id", "actor_b_id", "payer_id"],
        "events": ["producer_id", "receiver_id", "information_object_id", "link_id"],
    }
    for k in range(factor):
        sfx = "" if k == 0 else f"~{k}"
        for kind in ("actors", "links", "events", "information_objects", "technologies"):
            for item in base[kind]:
                new = dict(item)
                new["id"] = item["id"] + sfx
                for f in refs.get(kind, []):
                    if new[f]:
                        new[f] = new[f] + sfx
                out[kind].append(new)
    # components and use cases keep referring to the first copy
    return SgamModel.model_validate(out)


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    rows = []
    for name, model in (("default", default_model()), ("10x", scaled_model(10))):
        data = model.model_dump(mode="json")
        n = f"{len(model.events)} events, {len(model.technologies)} technologies"
        rows.append(
            (
                name,
                "validate (model_validate)",
                n,
                median_ms(partial(SgamModel.model_validate, data), args.repeat),
            )
        )
        rows.append(
            (
                name,
                "ict_costs, 5 schemes",
                n,
                median_ms(partial(ict_costs, model, None, 20, 0.04), args.repeat),
            )
        )
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "m.xlsx"
            rows.append(
                (name, "Excel export", n, median_ms(partial(export_workbook, model, path), args.repeat))
            )
            rows.append((name, "Excel import", n, median_ms(partial(import_workbook, path), args.repeat)))
    model = default_model()
    costs = ict_costs(model, None, 20, 0.04)
    rows.append(
        (
            "default",
            "SGAM plane figure (draw + PNG)",
            "LMS information",
            median_ms(
                lambda: draw_sgam_plane(model, "LMS", "information", costs=costs).savefig(
                    tempfile.mktemp(suffix=".png"), dpi=120
                ),
                max(3, args.repeat // 2),
            ),
        )
    )
    print(f"{'model':<8} {'what':<32} {'size':<32} {'median ms':>10}")
    for r in rows:
        print(f"{r[0]:<8} {r[1]:<32} {r[2]:<32} {r[3]:>10.1f}")


if __name__ == "__main__":
    main()
