"""Grid files in the exchange formats (issue 19, section 5; docs/grid-formats.md).

One test per format on a small public case (tests/data/grids/README.md names each source), each
compared with a reference that did not come through this reader:

* MATPOWER ``case9.m`` (MATPOWER's own file) against ``pandapower.networks.case9()`` (pandapower's shipped
  copy of PYPOWER's case9, the same data except its generator set-points of 1.0 p.u., which the reference
  takes from the file: 1.04, 1.025, 1.025) to 1e-6, and against the WSCC 9-bus power flow MATPOWER prints
  (``runpf('case9')``: slack 71.64 MW, 27.05 Mvar; Anderson & Fouad, table 2.1: 71.6 MW, 27.0 Mvar);
* UCTE-DEF ``test_ucte_DE.uct`` against PowerFactory 2024 SP1's power flow of the same file (pandapower's
  test data ``test_ucte_res_*.csv``), at the precision the CSV gives;
* CGMES ``example_multivoltage_cgmes.zip`` (pandapower's ``example_multivoltage`` exported as CGMES 2.4.15)
  against ``pandapower.networks.example_multivoltage()`` to 1e-6 p.u., once the reference takes the three
  values the export wrote differently (named in the test);

then the user's path: a study whose ``grid_file`` is the ``.m`` file simulated for one hour through
``main.py simulate``, and bad input named in one line (unknown format, unparsable file, missing slack,
a stated format the file does not fit, ``grid_format`` without ``grid_file``).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandapower as pp
import pandapower.networks as pn
import pytest
import yaml
from pydantic import ValidationError
from sim_fixtures import small_spec

from coordstudio.simulation.errors import ScenarioError
from coordstudio.simulation.grid_formats import detect_format, read_grid

DATA = Path(__file__).resolve().parents[1] / "data" / "grids"
CASE9_M = DATA / "case9.m"
UCTE_DE = DATA / "test_ucte_DE.uct"
CGMES_MV = DATA / "example_multivoltage_cgmes.zip"


def _pf(net: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(net, numba=False)
    return net


# ----------------------------------------------------------------------------------------- MATPOWER


def test_matpower_case9_m_equals_pandapowers_case9_and_matpowers_power_flow() -> None:
    net = _pf(read_grid(CASE9_M))
    ref = pn.case9()  # PYPOWER's case9: generator set-points 1.0 p.u. where MATPOWER's file has these
    ref.ext_grid["vm_pu"] = 1.04
    ref.gen["vm_pu"] = 1.025
    _pf(ref)
    assert detect_format(CASE9_M) == "matpower"
    assert len(net.bus) == len(ref.bus) == 9
    assert len(net.line) + len(net.trafo) == len(ref.line) + len(ref.trafo) == 9  # mpc.branch rows
    np.testing.assert_allclose(net.res_bus.vm_pu.to_numpy(), ref.res_bus.vm_pu.to_numpy(), atol=1e-6)
    np.testing.assert_allclose(net.res_bus.va_degree.to_numpy(), ref.res_bus.va_degree.to_numpy(), atol=1e-6)
    np.testing.assert_allclose(net.res_ext_grid.p_mw.to_numpy(), ref.res_ext_grid.p_mw.to_numpy(), atol=1e-6)
    # MATPOWER's runpf('case9') prints the slack generator at 71.64 MW, 27.05 Mvar (2 decimals)
    assert float(net.res_ext_grid.p_mw.iloc[0]) == pytest.approx(71.64, abs=0.006)
    assert float(net.res_ext_grid.q_mvar.iloc[0]) == pytest.approx(27.05, abs=0.006)


# --------------------------------------------------------------------------------------------- UCTE

PF_BUS = {"EHV1_DE": (1.0000, 0.000), "EHV2_DE": (0.9888, -0.869), "HV1_DE": (1.0000, -0.001)}
"""PowerFactory 2024 SP1, test_ucte_res_bus.csv: vm_pu (4 decimals), va_degree (3 decimals)."""
PF_LINE = {"Line1_DE": (763.5555758, 323.906316), "Line2_DE": (381.7777879, 161.953158)}
"""PowerFactory, test_ucte_res_line.csv: p_from_mw, q_from_mvar."""
PF_TRAFO = {"trafo1_DE": (0.059997, 0.07493)}
"""PowerFactory, test_ucte_res_trafo.csv: p_hv_mw, q_hv_mvar."""


def test_ucte_file_matches_powerfactorys_power_flow() -> None:
    net = _pf(read_grid(UCTE_DE))
    assert detect_format(UCTE_DE) == "ucte"
    # element counts of pandapower's ucte_expected_element_counts.csv, row DE; the slack node is an ext_grid
    counts = {t: len(net[t]) for t in ("bus", "load", "ext_grid", "gen", "line", "trafo")}
    assert counts == {"bus": 3, "load": 1, "ext_grid": 1, "gen": 0, "line": 2, "trafo": 1}
    bus = net.bus[["name"]].join(net.res_bus).set_index("name")
    for name, (vm, va) in PF_BUS.items():
        assert bus.at[name, "vm_pu"] == pytest.approx(vm, abs=6e-5), name  # half the CSV's last digit
        assert bus.at[name, "va_degree"] == pytest.approx(va, abs=6e-4), name
    line = net.line[["name"]].join(net.res_line).set_index("name")
    for name, (p, q) in PF_LINE.items():
        assert line.at[name, "p_from_mw"] == pytest.approx(p, abs=1e-3), name
        assert line.at[name, "q_from_mvar"] == pytest.approx(q, abs=1e-3), name
    trafo = net.trafo[["name"]].join(net.res_trafo).set_index("name")
    for name, (p, q) in PF_TRAFO.items():
        assert trafo.at[name, "p_hv_mw"] == pytest.approx(p, abs=1e-5), name
        assert trafo.at[name, "q_hv_mvar"] == pytest.approx(q, abs=1e-4), name


# -------------------------------------------------------------------------------------------- CGMES


def test_cgmes_model_matches_the_pandapower_grid_it_was_exported_from(tmp_path: Path) -> None:
    """The zip is pandapower's example_multivoltage written by pandapower's CGMES exporter (pp2cim, 2023).
    That export wrote three values differently from the grid, and the reference takes them as written:
    the two xwards' constant-impedance load ``pz_mw`` (an EquivalentInjection has none: 0) and internal
    reactance (``x_ohm`` 0.1), and the shunt's sign (``bPerSection`` -7.93e-5 S, i.e. +0.96 Mvar
    consumed instead of -0.96). With those, the imported grid is the same grid to 1e-6.

    Read as a user gives a CGMES model: a folder holding its zip (the model and boundary files)."""
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / CGMES_MV.name).write_bytes(CGMES_MV.read_bytes())
    assert detect_format(CGMES_MV) == detect_format(folder) == "cgmes"
    net = _pf(read_grid(folder))
    ref = pn.example_multivoltage()
    ref.xward["pz_mw"] = 0.0
    ref.xward["x_ohm"] = 0.1
    ref.shunt["q_mvar"] = -ref.shunt["q_mvar"]
    _pf(ref)
    # every bus of the grid is a node of the model (CGMES adds connectivity nodes at switches: 111 vs 57)
    assert len(net.bus) == 111 and set(ref.bus.name) <= set(net.bus.name)
    # HV Line6 is one line with parallel=2 in pandapower, two ACLineSegments in CGMES
    assert len(net.line) == int(ref.line.parallel.sum()) == 26
    assert (len(net.trafo), len(net.trafo3w), len(net.load), len(net.sgen)) == (2, 1, 25, 11)
    both = (
        net.bus[["name"]]
        .join(net.res_bus)
        .merge(ref.bus[["name"]].join(ref.res_bus), on="name", suffixes=("", "_ref"))
    )
    assert len(both) == 57
    np.testing.assert_allclose(both.vm_pu, both.vm_pu_ref, atol=1e-6)
    np.testing.assert_allclose(both.va_degree, both.va_degree_ref, atol=1e-6)
    assert float(net.res_ext_grid.p_mw.sum()) == pytest.approx(float(ref.res_ext_grid.p_mw.sum()), abs=1e-6)


def test_cgmes_slack_is_the_machine_of_highest_reference_priority() -> None:
    """No ext_grid: the in-service machine with the smallest positive referencePriority becomes the slack
    (1 is the highest priority, 0 "do not use"); none with a priority leaves the grid without a slack."""
    from coordstudio.simulation.grid_formats import choose_cgmes_slack

    net = pn.case9()
    net.ext_grid = net.ext_grid.iloc[0:0]
    net.gen["slack"] = False
    net.gen["referencePriority"] = [0.0, 0.0]
    choose_cgmes_slack(net)
    assert not net.gen.slack.any()
    net.gen["referencePriority"] = [2.0, 1.0]
    choose_cgmes_slack(net)
    assert net.gen.slack.tolist() == [False, True]


def test_stated_format_reads_a_file_whose_suffix_says_nothing(tmp_path: Path) -> None:
    odd = tmp_path / "case9.txt"
    odd.write_text(CASE9_M.read_text())
    assert detect_format(odd) == "matpower"  # by content
    assert len(read_grid(odd, "matpower").bus) == 9


# ----------------------------------------------------------------------------------------- bad input


def test_bad_grid_files_are_named_in_one_line(tmp_path: Path) -> None:
    def error(path: Path, fmt: str = "auto") -> str:
        with pytest.raises(ScenarioError) as info:
            read_grid(path, fmt)
        message = str(info.value)
        assert "\n" not in message and str(path) in message, message
        return message

    unknown = tmp_path / "grid.dat"
    unknown.write_text("nothing a grid format starts with")
    assert "unknown type '.dat'" in error(unknown) and "grid_format" in error(unknown)
    broken = tmp_path / "broken.uct"
    broken.write_text("##C 2007.05.01\n##N\n##ZDE\nDEHV1_1E EHV1_DE      0 3 abc\n")
    message = error(broken)
    assert "(ucte, field grid_file): cannot be read" in message
    assert "its content looks like matpower" in error(CASE9_M, "ucte")
    assert "not a CGMES file" in error(CASE9_M, "cgmes")
    assert "unknown format 'psse'" in error(CASE9_M, "psse")
    no_slack = pn.case9()
    no_slack.ext_grid = no_slack.ext_grid.iloc[0:0]
    pp.to_json(no_slack, str(tmp_path / "no-slack.json"))
    message = error(tmp_path / "no-slack.json")
    assert "no slack (object ext_grid)" in message and "(pandapower-json, field grid_file)" in message
    slack_m = tmp_path / "no-slack.m"
    slack_m.write_text(CASE9_M.read_text().replace("\t1\t3\t0\t0", "\t1\t2\t0\t0"))  # bus 1: type 3 -> 2
    assert "a bus of type 3" in error(slack_m)
    heavy = tmp_path / "heavy.m"  # 9 GW at bus 5, far beyond what the lines carry: no power flow solution
    heavy.write_text(CASE9_M.read_text().replace("\t5\t1\t90\t30\t", "\t5\t1\t9000\t3000\t"))
    assert "\t9000\t3000\t" in heavy.read_text()
    assert "power flow of the grid as given does not converge" in error(heavy)
    with pytest.raises(ValidationError, match="field grid_format .* needs field grid_file"):
        small_spec().transmission.model_validate({"grid_format": "ucte"})


# ----------------------------------------------------------------------------------------- user path


def test_a_study_on_a_matpower_file_simulates_through_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``main.py simulate`` of a study whose transmission grid_file is case9.m: one hour, scheme CM; the
    results' grid is the 9-bus case (9 transmission nodes), every clearing solved, kpis.csv written."""
    from coordstudio import main

    d = small_spec(duration_h=1.0).model_dump(mode="json")
    d["transmission"]["grid_file"] = str(CASE9_M)
    d["feeders"][0]["interface_bus"] = 4  # case9 bus 5 (90 MW load)
    d["copper_plate_nodes"][0]["interface_bus"] = 6  # case9 bus 7 (100 MW)
    study = tmp_path / "study.yaml"
    study.write_text(yaml.safe_dump({"scenario": d}))
    out = tmp_path / "out"
    code = main.main(["simulate", str(study), "--out", str(out), "--schemes", "CM"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    rows = (out / "kpis.csv").read_text().splitlines()
    header, cm = rows[0].split(","), rows[1].split(",")
    assert cm[0] == "CM"
    kpis = dict(zip(header, cm, strict=True))
    assert kpis["failed_clearings"] in ("0", "0/1") and float(kpis["clearings"]) == 1
    from coordstudio.simulation.scenario import ScenarioSpec
    from coordstudio.simulation.scenario.build import build_scenario

    scen = build_scenario(ScenarioSpec.model_validate(d))
    assert len(scen.transmission_net.bus) == 9
    assert int((scen.nodes.area == "transmission").sum()) == 9
    # the bad-input path of the same command: a grid_file that is not a grid, one line, exit 2
    bad = tmp_path / "bad.yaml"
    d["transmission"]["grid_file"] = str(tmp_path / "grid.dat")
    (tmp_path / "grid.dat").write_text(json.dumps({"not": "a grid"}))
    bad.write_text(yaml.safe_dump({"scenario": d}))
    code = main.main(["simulate", str(bad), "--out", str(tmp_path / "o2"), "--schemes", "CM"])
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert code == 2 and len(err) == 1 and "grid.dat" in err[0] and "grid_file" in err[0], err
