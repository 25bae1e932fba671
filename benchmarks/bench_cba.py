"""Benchmark of the cost-benefit analysis (issue 6).

Measures, on the hand-built five-scheme case of ``tests/cba/cba_fixtures.py`` (two representative days,
20-year horizon, 3-5 ICT lines per scheme):

* the Monte Carlo: 10,000 samples x 5 schemes (target of issue 6: < 1 s), vectorised with numpy, against
  a per-sample Python loop over ``cba.finance.npv`` on yearly cash flows (the obvious implementation);
* ``run_cba`` as a whole (cash flows, tornado, switching values, Monte Carlo, actors);
* writing the outputs (Excel report, recommendations Markdown + DOCX, three PNG charts).

Each figure is the median of ``--repeat`` runs. Usage: ``python benchmarks/bench_cba.py [--repeat 7]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "cba"))

from cba_fixtures import make_ict, make_kpis, make_params  # noqa: E402

from coordstudio.cba import finance  # noqa: E402
from coordstudio.cba.analysis import run_cba  # noqa: E402
from coordstudio.cba.benefits import annual_quantities  # noqa: E402
from coordstudio.cba.cashflows import NpvModel, ict_schedule, scheme_cash_flows  # noqa: E402
from coordstudio.cba.outputs import cba_outputs  # noqa: E402
from coordstudio.cba.sensitivity import monte_carlo, sample_inputs  # noqa: E402


def _median(func, repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def loop_npv(params, q, schedule, draws, n):  # type: ignore[no-untyped-def]
    """Reference implementation: rebuild each scheme's cash flows per sample and call finance.npv."""
    out = np.empty((n, len(q.schemes)))
    for i in range(n):
        p = params.model_copy(update={k: float(v[i]) for k, v in draws.items()})
        for si, scheme in enumerate(q.schemes):
            out[i, si] = finance.npv(p.discount_rate, scheme_cash_flows(p, q, schedule, scheme).net)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--loop-samples", type=int, default=500, help="samples of the loop reference")
    args = parser.parse_args()

    params = make_params()
    kpis, ict = make_kpis(), make_ict()
    q = annual_quantities(params, kpis)
    schedule = ict_schedule(params, ict, q.schemes)
    model = NpvModel(params, q, schedule)

    t_mc = _median(lambda: monte_carlo(model, params, n=10_000), args.repeat)
    n_loop = args.loop_samples
    draws = sample_inputs(params, n_loop, 1)
    t_loop = _median(lambda: loop_npv(params, q, schedule, draws, n_loop), 3)
    vec = model.npv(draws, n_loop)
    ref = loop_npv(params, q, schedule, draws, n_loop)
    max_rel = float(np.max(np.abs(vec - ref) / np.maximum(1.0, np.abs(ref))))
    t_loop_10k = t_loop * 10_000 / n_loop

    t_run = _median(lambda: run_cba(params, kpis, ict), args.repeat)
    result = run_cba(params, kpis, ict)
    with tempfile.TemporaryDirectory() as tmp:
        t_out = _median(lambda: cba_outputs(params, kpis, ict, Path(tmp), result=result), 3)

    print(f"Monte Carlo 10,000 samples x {len(q.schemes)} schemes, vectorised: {t_mc * 1e3:8.1f} ms "
          f"({1.0 / t_mc:,.0f}x under the 1 s target)")
    print(f"per-sample Python loop ({n_loop} samples, scaled to 10,000):   {t_loop_10k * 1e3:8.0f} ms "
          f"(vectorised is {t_loop_10k / t_mc:,.0f}x faster; max relative difference {max_rel:.1e})")
    print(f"run_cba (cash flows, tornado, switching values, MC, actors):  {t_run * 1e3:8.1f} ms")
    print(f"cba_outputs (report.xlsx, recommendations md+docx, 3 PNGs): {t_out * 1e3:8.1f} ms")


if __name__ == "__main__":
    main()
