"""Writes ``docs/tutorial.ipynb`` from the cells below (run: ``python docs/tools/make_tutorial.py``).

The notebook is kept as source without outputs: the test suite executes it (``tests/cba/test_api.py``)
and a reader runs it in Jupyter. Editing the cells here and regenerating keeps the JSON diff readable.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

CELLS: list[tuple[str, str, list[str]]] = [
    ("md", """\
# Coordination Studio from a notebook

This tutorial uses the Python API (`import coordstudio as cs`) to

1. load the default study (`cba/data/default_study.yaml`) and run it,
2. look at the results as pandas DataFrames (KPIs, nodal prices, cash flows),
3. **change an ICT requirement** (the latency the DSO's grid monitoring must meet) and **the discount
   rate**, re-appraise, compare the schemes, and plot.

**Shrunk to run in seconds.** The full default study simulates six schemes over a day on each of its
representative days (`profiles.representative_days`, chosen from the SimBench year; many minutes of
computing). To keep this notebook fast enough to run in the project's tests, we simulate **one hour (one
market clearing) of one day (`representative_days: 0`) and two schemes** (CMS, the centralised
reference, and CM, the common TSO-DSO market), with **synthetic load/PV profiles** instead of reading
the SimBench year, and **500 Monte Carlo samples**.
The numbers are therefore an hour scaled to a year: fine for learning the API, not for conclusions.
Remove the shrinking cell to run the real study.

**No re-simulation for the two changes.** The market/grid simulation reads only the study's
`scenario`. An ICT requirement lives in the SGAM model and the discount rate in the CBA parameters, so
both changes leave the simulated KPIs valid: `Results.reappraise(edited_study)` re-runs only the ICT
costing and the cost-benefit analysis on the stored simulation results, in a fraction of a second.
""", []),
    ("code", """\
import json
import tempfile
import time
from pathlib import Path

%matplotlib inline
import matplotlib.pyplot as plt
import pandas as pd

import coordstudio as cs

t_start = time.perf_counter()
print("Coordination Studio", cs.__version__)
study = cs.load_study(cs.DEFAULT_STUDY_FILE)
study.metadata.title""", []),
    ("md", "## Shrink the study (see the note above)", []),
    ("code", """\
scenario = study.scenario.model_copy(update={
    "timing": study.scenario.timing.model_copy(update={"duration_h": 1.0, "start_h": 11.0}),
    "profiles": study.scenario.profiles.model_copy(
        update={"source": "synthetic", "representative_days": 0}),
    "schemes": ["CMS", "CM"],
})
small = study.model_copy(update={
    "scenario": scenario,
    "cba": study.cba.model_copy(update={"monte_carlo_samples": 500}),
})""", []),
    ("md", """\
## Run it

`cs.run_study(study, out=folder)` runs the same chain as `coordstudio run --out folder`: it writes the
report, the charts, `results.sqlite` and a copy of the study there. (Without `out`, only a results
database in a temporary folder is kept, for as long as the result object lives.) Here the folder is a
throwaway one; use your own.
""", []),
    ("code", """\
out = Path(tempfile.mkdtemp(prefix="coordstudio-tutorial-"))
base = cs.run_study(small, out=out)
print(sorted(p.name for p in out.iterdir()))
base.kpis()[["scheme", "duration_h", "activation_cost_eur", "afrr_cost_eur", "losses_mwh",
             "curtailed_res_mwh"]]""", []),
    ("md", """\
Every frame has units in its column names, like pandapower's `res_*` tables. The CBA per scheme
(against the reference scheme CMS, whose NPV is 0 by construction):
""", []),
    ("code", """\
base.appraisal()[["scheme", "rank", "npv_eur", "pv_benefits_eur", "pv_costs_eur", "ict_capex_eur"]]""", []),
    ("md", """\
## Nodal prices of the clearing

`prices()` has one row per scheme, node and market time unit (`step`), with the price and its
components. Here: the price at every node in the first time unit, sorted, per scheme.
""", []),
    ("code", """\
prices = base.prices()
first = prices[prices["step"] == 0]
fig, ax = plt.subplots(figsize=(7, 3.5))
for scheme, part in first.groupby("scheme", sort=False):
    ax.plot(sorted(part["price_eur_per_mwh"]), label=scheme)
ax.set_xlabel("nodes, sorted by price")
ax.set_ylabel("nodal price, EUR/MWh")
ax.set_title("Nodal prices of the first market time unit")
ax.legend()
fig.tight_layout()""", []),
    ("md", """\
## Change an ICT requirement: fresher grid monitoring

Requirement `R-MON-DSO` says secondary-substation measurements must reach the DSO's DMS within 2 s.
Suppose state estimation needs them within 0.5 s. A technology qualifies when its latency plus the time
to send one message (payload / data rate) is within the limit: the RF mesh chosen for the
secondary-substation links (500 ms latency plus the sending time) no longer does, and the matching picks
a faster, dearer one. CMS does not monitor the distribution grid for the market, so only the
DSO-involving schemes change (the table lists all six schemes of the SGAM model; two are simulated).
""", []),
    ("code", """\
tight = small.model_copy(deep=True)
requirement = next(r for r in tight.sgam.requirements if r.id == "R-MON-DSO")
print(requirement.name, requirement.max_latency_ms, "ms ->", 500.0, "ms")
requirement.max_latency_ms = 500.0
ict_case = base.reappraise(tight)

capex = pd.DataFrame({
    "base_eur": base.ict_costs().groupby("scheme", sort=False)["capex_eur"].sum(),
    "tight_latency_eur": ict_case.ict_costs().groupby("scheme", sort=False)["capex_eur"].sum(),
})
capex["change_eur"] = capex["tight_latency_eur"] - capex["base_eur"]
capex""", []),
    ("md", "Which cost lines changed technology:", []),
    ("code", """\
keys = ["scheme", "link_id", "actor_id"]
lines = base.ict_costs().merge(ict_case.ict_costs(), on=keys, suffixes=("_base", "_tight"))
lines[lines["technology_id_base"] != lines["technology_id_tight"]][
    keys + ["technology_id_base", "technology_id_tight", "capex_eur_base", "capex_eur_tight"]]""", []),
    ("md", """\
## Change the discount rate

The study discounts at 4 %/a (real, EC DG REGIO's guide). A private investor might use 7 %/a:
""", []),
    ("code", """\
high_rate = small.model_copy(deep=True)
high_rate.cba.discount_rate = 0.07
rate_case = base.reappraise(high_rate)""", []),
    ("md", "## Compare the three cases", []),
    ("code", """\
cases = {"base": base, "R-MON-DSO 0.5 s": ict_case, "discount 7 %": rate_case}
npv = pd.DataFrame({name: r.appraisal().set_index("scheme")["npv_eur"] for name, r in cases.items()})
npv""", []),
    ("md", "The change of each case against the base, EUR (the ICT change is small beside the rate's):", []),
    ("code", """\
npv.sub(npv["base"], axis=0)""", []),
    ("code", """\
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.8))
(npv.loc[["CM"]].T / 1e6).plot.bar(ax=ax1, legend=False, rot=0)
ax1.set_ylabel("NPV of CM against CMS, MEUR")
ax1.set_title("NPV of the common market")
ax1.axhline(0.0, color="black", linewidth=0.8)
for name, r in cases.items():
    cf = r.cashflows().query("scheme == 'CM'")
    ax2.plot(cf["year"], cf["cumulative_discounted_eur"] / 1e6, label=name)
ax2.set_xlabel("year")
ax2.set_ylabel("cumulative discounted cash flow, MEUR")
ax2.set_title("CM: cumulative discounted cash flow")
ax2.legend()
fig.tight_layout()""", []),
    ("md", """\
## The NPV change from the discount rate, by hand

The NPV is the discounted sum of the yearly net cash flows, `NPV = sum_t net_t / (1 + r)^t`. The net
cash flows do not depend on the rate, so the change is that sum at 7 % minus the sum at 4 %. The test
suite checks the value printed below against `numpy_financial.npv` on these cash flows.
""", []),
    ("code", """\
net_base = base.cashflows().query("scheme == 'CM'")["net_eur"].tolist()
net_new = rate_case.cashflows().query("scheme == 'CM'")["net_eur"].tolist()
by_hand = (sum(x / 1.07 ** t for t, x in enumerate(net_new))
           - sum(x / 1.04 ** t for t, x in enumerate(net_base)))
summary = {
    "scheme": "CM",
    "discount_rate_base": small.cba.discount_rate,
    "discount_rate_new": high_rate.cba.discount_rate,
    "net_base_eur": net_base,
    "net_new_eur": net_new,
    "npv_change_eur": float(npv.loc["CM", "discount 7 %"] - npv.loc["CM", "base"]),
    "npv_change_by_hand_eur": by_hand,
    "ict_capex_change_eur": float(capex.loc["CM", "change_eur"]),
    "elapsed_s": time.perf_counter() - t_start,
}
print(json.dumps(summary))""", ["summary"]),
    ("md", """\
## Reading results later

The folder of a run (`cs.run_study(..., out=folder)`, or `coordstudio run --out folder` on the command
line) can be reopened at any time: `cs.open_results(folder)` gives the same frames, read from
`folder/results.sqlite`, without SQL. (For a folder the command line wrote, which holds no copy of the
study, pass it: `cs.open_results(folder, study=...)`; without it the CBA frames come from
`cba_result.json`.)
""", []),
    ("code", """\
again = cs.open_results(out)
again.timeseries().head()""", []),
]


def build() -> nbformat.NotebookNode:
    cells = []
    for kind, source, tags in CELLS:
        cell = new_markdown_cell(source) if kind == "md" else new_code_cell(source)
        if tags:
            cell.metadata["tags"] = tags
        cells.append(cell)
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


if __name__ == "__main__":
    target = Path(__file__).resolve().parents[1] / "tutorial.ipynb"
    nb = build()
    for i, cell in enumerate(nb.cells):  # stable ids keep the diff of a regenerated notebook small
        cell["id"] = f"cell-{i:02d}"
    nbformat.validate(nb)
    target.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
    print(target)
