"""The shipped Italian-scale study (``examples/italy_scale/study.yaml``, issue 17 item 2).

It must be the default study with only its stated system (and title) changed, so the default study's
stored simulation results re-appraise it (``coordstudio cba examples/italy_scale/study.yaml --results
OUT/results.sqlite``), and its figures must be those its source states: ``scale_factor`` = the seed's
2,410 distribution grid nodes of northern Italy over the simulated grid's distribution areas (one per
TSO-DSO interface, ``endpoint_counts(...)["primary_substation"]``), ``platform_share`` = 10 DSO platforms
over the simulated grid's DSOs, per simulated grid.

The example is an overlay of the default study (``extends: default``, :mod:`cba.study_overlay`): it
states only its ``metadata`` and its ``cba.system``, so a changed default changes it too.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from coordstudio.cba.fingerprint import study_fingerprint
from coordstudio.cba.study_file import default_study, load_study
from coordstudio.simulation.scenario import endpoint_counts

ROOT = Path(__file__).resolve().parents[2]
ITALY = ROOT / "examples" / "italy_scale" / "study.yaml"
SEED_DISTRIBUTION_GRIDS = 2410  # seed: "3648 transmission grid nodes, and 2410 distribution grid nodes"
DSO_PLATFORMS = 10  # assumption stated in the study's cba.system.source


def test_the_italian_study_is_the_default_study_stated_for_northern_italy() -> None:
    italy, default = load_study(ITALY), default_study()
    assert study_fingerprint(italy).scenario == study_fingerprint(default).scenario  # stored runs apply
    assert italy.sgam == default.sgam
    assert italy.cba.model_copy(update={"system": default.cba.system}) == default.cba
    counts = endpoint_counts(italy.scenario)
    system = italy.cba.system
    areas = counts["primary_substation"]
    assert system.scale_factor == pytest.approx(SEED_DISTRIBUTION_GRIDS / areas, rel=1e-12)
    platforms = system.scale_factor * system.platform_share * counts["dso"]
    assert platforms == pytest.approx(DSO_PLATFORMS, rel=1e-9)
    assert "2,410" in system.source and "assumption" in system.source
