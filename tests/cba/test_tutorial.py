"""The notebook tutorial ``docs/tutorial.ipynb`` executes (nbclient, a real IPython kernel), so it cannot rot.

Reference: the NPV change of scheme CM when the discount rate goes from 4 %/a to 7 %/a, as the notebook
computes it through the API (``Results.reappraise``), against numpy-financial's ``npv`` on the yearly net
cash flows the notebook printed: ``npf.npv(0.07, net) - npf.npv(0.04, net)`` (rel 1e-9). The net cash
flows themselves must not depend on the rate (the notebook's text says so; rel 1e-12). The tightened
ICT requirement (R-MON-DSO, 2 s -> 0.5 s) must make CM's ICT investment dearer.

The notebook is generated from ``docs/tools/make_tutorial.py``; the file must match its cells.
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import nbformat
import numpy as np
import numpy_financial as npf
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "docs" / "tutorial.ipynb"


def _generator_cells() -> list[str]:
    generator = ROOT / "docs" / "tools" / "make_tutorial.py"
    spec = importlib.util.spec_from_file_location("make_tutorial", generator)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return [c.source for c in module.build().cells]


def test_notebook_matches_its_generator() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert [c.source for c in nb.cells] == _generator_cells()
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), "commit it without outputs"


def test_tutorial_executes_and_its_npv_change_is_right(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    (cell,) = [c for c in nb.cells if "summary" in c.metadata.get("tags", [])]
    text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
    summary = json.loads(text.strip().splitlines()[-1])

    net_base, net_new = np.array(summary["net_base_eur"]), np.array(summary["net_new_eur"])
    assert len(net_base) == 21  # years 0..20 of the default study's horizon
    np.testing.assert_allclose(net_new, net_base, rtol=1e-12)
    r0, r1 = summary["discount_rate_base"], summary["discount_rate_new"]
    assert (r0, r1) == (0.04, 0.07)
    expected = npf.npv(r1, net_new) - npf.npv(r0, net_base)
    assert summary["npv_change_eur"] == pytest.approx(expected, rel=1e-9)
    assert summary["npv_change_eur"] < 0  # a higher rate weighs the later benefits less
    assert summary["ict_capex_change_eur"] > 0
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    figures = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(figures) == 2
