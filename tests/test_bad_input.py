"""Bad input gets one clear line and exit code 2, for every input the tool reads (issue 18, section 3).

One test (or one parametrised family) per class of crash observed before; inputs are built in the test.
Each asserts the exit status, that stderr is one line naming the file, object, field or option, and that
nothing was lost (the input and an existing output file are unchanged).
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from coordstudio import main

ROOT = Path(__file__).resolve().parents[1]
MARKET = ROOT / "examples" / "market"


def run(argv: list[str]) -> tuple[int, str]:
    """``main.main(argv)`` in-process: exit code and stderr."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main.main(argv)
        except SystemExit as exc:  # argparse refusals
            code = int(exc.code or 0)
    return code, err.getvalue()


def assert_refused(argv: list[str], *needles: str, keep: list[Path] | None = None) -> str:
    """Exit 2, exactly one line naming every needle, files in ``keep`` unchanged."""
    before = {p: p.read_bytes() for p in keep or []}
    code, stderr = run(argv)
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert code == 2, stderr
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    for path, data in before.items():
        assert path.read_bytes() == data, f"{path} changed"
    return lines[0]


@pytest.fixture(scope="module")
def study_doc(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    path = tmp_path_factory.mktemp("default") / "study.yaml"
    assert main.main(["new", str(path)]) == 0
    doc: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return doc


def write_study(tmp_path: Path, doc: dict[str, Any], name: str = "study.yaml") -> Path:
    path = tmp_path / name
    if name.endswith(".json"):
        path.write_text(json.dumps(doc), encoding="utf-8")
    else:
        path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def edited(doc: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    """A deep copy of ``doc`` with the value at ``a.b[0].c`` replaced."""
    out = json.loads(json.dumps(doc))
    node: Any = out
    parts = dotted.replace("[", ".[").split(".")
    for part in parts[:-1]:
        node = node[int(part[1:-1])] if part.startswith("[") else node[part]
    last = parts[-1]
    if last.startswith("["):
        node[int(last[1:-1])] = value
    else:
        node[last] = value
    return out


# ------------------------------------------------------------------------------------------ 1. nesting


def test_deeply_nested_study_yaml_and_json(tmp_path: Path, study_doc: dict[str, Any]) -> None:
    deep: Any = "x"
    for _ in range(200):
        deep = {"a": deep}
    path = write_study(tmp_path, edited(study_doc, "metadata.description", deep))
    assert_refused(["validate", str(path)], str(path), "nested deeper", keep=[path])
    flat = tmp_path / "bomb.json"
    flat.write_text('{"schema_version": 1, "sgam": ' + "[" * 100_000 + "]" * 100_000 + "}", encoding="utf-8")
    assert_refused(["validate", str(flat)], str(flat), "nested deeper", keep=[flat])
    libyaml = tmp_path / "bomb.yaml"
    libyaml.write_text("a: " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    assert_refused(["validate", str(libyaml)], str(libyaml), "line 1", keep=[libyaml])


def test_deeply_nested_sgam_library(tmp_path: Path, study_doc: dict[str, Any]) -> None:
    lib = tmp_path / "lib"
    assert main.main(["sgam", "library", str(lib)]) == 0
    catalogue = lib / "catalogue.yaml"
    catalogue.write_text(
        catalogue.read_text(encoding="utf-8") + "deep:\n- " + "[" * 300 + "]" * 300 + "\n", encoding="utf-8"
    )
    study = write_study(tmp_path, study_doc)
    assert_refused(
        ["ict", str(study), "--library", str(lib), "--out", str(tmp_path / "o")],
        "catalogue.yaml",
        "nested deeper",
        keep=[catalogue, study],
    )


def test_deeply_nested_market_case_and_grid(tmp_path: Path) -> None:
    case = tmp_path / "case.json"
    case.write_text('{"timing": ' + "[" * 50_000 + "]" * 50_000 + "}", encoding="utf-8")
    assert_refused(
        ["clear", str(case), "--scheme", "CMS", "--out", str(tmp_path / "o")],
        str(case),
        "nested",
        keep=[case],
    )
    doc = json.loads((MARKET / "two_node_congestion.json").read_text(encoding="utf-8"))
    doc["distribution"] = [{"grid_id": "d", "interface_node": "A", "pandapower_file": "grid.json"}]
    (tmp_path / "grid.json").write_text("[" * 50_000 + "]" * 50_000, encoding="utf-8")
    case.write_text(json.dumps(doc), encoding="utf-8")
    assert_refused(
        ["clear", str(case), "--scheme", "CMS", "--out", str(tmp_path / "o")], "distribution[0]", keep=[case]
    )


# ------------------------------------------------------------------------------- 2. numeric arguments


@pytest.mark.parametrize("hours", ["0", "-1", "1.3", "nan", "inf", "200", "abc"])
def test_simulate_hours(tmp_path: Path, hours: str) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "kpis.csv").write_text("earlier results\n", encoding="utf-8")
    assert_refused(["simulate", f"--hours={hours}", "--out", str(out)], "--hours", keep=[out / "kpis.csv"])


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["clear", "CASE", "--scheme", "CMS", "--out", "OUT", "--time-limit", "nan"], "--time-limit"),
        (["clear", "CASE", "--scheme", "CMS", "--out", "OUT", "--time-limit", "0"], "--time-limit"),
        (["clear", "CASE", "--scheme", "CMS", "--out", "OUT", "--cone-tolerance", "-1"], "--cone-tolerance"),
        (["scenario", "generate", "italy-2030", "--out", "OUT/s.yaml", "--scale", "inf"], "--scale"),
        (["scenario", "generate", "italy-2030", "--out", "OUT/s.yaml", "--seed", "-5"], "--seed"),
        (
            ["scenario", "import", "grid", "CASE", "--out", "OUT/s.yaml", "--interface-bus", "-1"],
            "--interface-bus",
        ),
        (["cba", "STUDY", "--results", "OUT/x.sqlite", "--samples", "0"], "--samples"),
        (
            ["ict-check", "STUDY", "--results", "OUT/x.sqlite", "--out", "OUT", "--tolerance", "nan"],
            "--tolerance",
        ),
        (["sweep", "STUDY", "--workers", "-3"], "--workers"),
        (["sweep", "STUDY", "--over", "days", "--days", "x:400", "--out", "OUT"], "--days"),
    ],
)
def test_every_numeric_option_is_bounded(tmp_path: Path, argv: list[str], needle: str) -> None:
    case = tmp_path / "case.json"
    shutil.copy(MARKET / "two_node_congestion.json", case)
    study = tmp_path / "study.yaml"
    assert main.main(["new", str(study)]) == 0
    argv = [
        a.replace("CASE", str(case)).replace("STUDY", str(study)).replace("OUT", str(tmp_path)) for a in argv
    ]
    assert_refused(argv, needle, keep=[case, study])


# ------------------------------------------------------------------------------------- 3. lifetimes


def test_tiny_lifetime_is_refused_not_hung(tmp_path: Path, study_doc: dict[str, Any]) -> None:
    path = write_study(tmp_path, edited(study_doc, "sgam.technologies[0].lifetime_years", 1e-320))
    assert_refused(["validate", str(path)], "lifetime_years", keep=[path])
    path = write_study(
        tmp_path,
        edited(study_doc, "sgam.technologies[0].capex_per_endpoint_eur", float("nan"))
        if "capex_per_endpoint_eur" in study_doc["sgam"]["technologies"][0]
        else edited(study_doc, "sgam.technologies[0].lifetime_years", float("inf")),
    )
    assert_refused(["validate", str(path)], "sgam.technologies", keep=[path])


def test_present_value_loop_is_bounded() -> None:
    from coordstudio.sgam.errors import SgamValidationError
    from coordstudio.sgam.matching import present_value

    with pytest.raises(SgamValidationError, match="lifetime_years"):
        present_value(100.0, 1.0, 1e-320, 20, 0.04)
    assert present_value(100.0, 0.0, 20.0, 20, 0.0) == pytest.approx(100.0)


# --------------------------------------------------------------------------- 4. physically odd studies


@pytest.mark.parametrize(
    "dotted, value, needle",
    [
        ("scenario.transmission.load_scale_frac", 100.0, "load_scale_frac"),
        ("scenario.feeders[0].load_scale_frac", 100.0, "load_scale_frac"),
        ("scenario.transmission.line_rating_factor", 1e-9, "line_rating_factor"),
        ("scenario.feeders[0].line_rating_mva", 1e-12, "line_rating_mva"),
        ("scenario.transmission.case_name", "Point", "case_name"),
        ("scenario.transmission.case_name", "__class__", "case_name"),
        ("scenario.feeders[0].case_name", "create_bus", "case_name"),
        ("scenario.timing.duration_h", float("nan"), "duration_h"),
        ("scenario.imbalance.std_mw", 1e400, "std_mw"),
    ],
)
def test_physically_odd_study_is_refused(
    tmp_path: Path, study_doc: dict[str, Any], dotted: str, value: Any, needle: str
) -> None:
    path = write_study(tmp_path, edited(study_doc, dotted, value), "study.json")
    assert_refused(["validate", str(path)], str(path), needle, keep=[path])


def test_feeder_that_does_not_solve_is_named(tmp_path: Path, study_doc: dict[str, Any]) -> None:
    """Valid by the schema, but the feeder's own loads do not solve: one line naming feeder and field."""
    path = write_study(tmp_path, edited(study_doc, "scenario.feeders[0].load_scale_frac", 10.0))
    out = tmp_path / "out"
    out.mkdir()
    (out / "kpis.csv").write_text("earlier results\n", encoding="utf-8")
    feeder = study_doc["scenario"]["feeders"][0]["feeder_id"]
    assert_refused(
        ["simulate", str(path), "--hours", "1", "--schemes", "CMS", "--out", str(out)],
        f"feeder {feeder!r}",
        "load_scale_frac",
        keep=[path, out / "kpis.csv"],
    )


def test_tripped_grid_the_market_cannot_model_is_a_market_error() -> None:
    import pandapower.networks as pn

    from coordstudio.simulation.errors import MarketError
    from coordstudio.simulation.market.grids import TransmissionGrid

    net = pn.case9()
    net.line["in_service"] = False
    net.trafo["in_service"] = False
    try:
        TransmissionGrid.from_pandapower(net)
    except MarketError:
        pass  # named; anything else (IndexError from pandapower) fails the test


def test_bundled_grid_from_explicit_table() -> None:
    from coordstudio.simulation.errors import ScenarioError
    from coordstudio.simulation.grid_files import cached_net

    for name in ("Point", "__class__", "create_bus", "runpp"):
        with pytest.raises(ScenarioError, match="not a bundled grid"):
            cached_net("pandapower", name)


# ---------------------------------------------------------------------------------- 5. market cases


def _case_folder(tmp_path: Path) -> Path:
    for f in MARKET.glob("tso_case33bw*"):
        shutil.copy(f, tmp_path / f.name)
    return tmp_path / "tso_case33bw.json"


@pytest.mark.parametrize(
    "edit, needles",
    [
        ({"timing": {"horizon_steps": 10**9}}, ["timing", "horizon_steps"]),
        ({"timing": {"horizon_steps": "six"}}, ["timing", "horizon_steps"]),
        ({"timing": {"granularity_min": float("nan")}}, ["timing", "granularity_min"]),
        ({"timing": {"bogus": 1}}, ["timing", "bogus"]),
        ({"timing": []}, ["timing"]),
        ({"transmission": {"nodes": 5}}, ["transmission"]),
        ({"transmission": {"nodes": ["A"], "base_injection_mw": [1]}}, ["transmission"]),
        (
            {"distribution": [{"grid_id": "d", "interface_node": "T1", "pandapower": "Point"}]},
            ["distribution[0]", "pandapower"],
        ),
        (
            {"distribution": [{"grid_id": "d", "interface_node": "T1", "pandapower": "create_bus"}]},
            ["distribution[0]"],
        ),
        (
            {
                "distribution": [
                    {
                        "grid_id": "d",
                        "interface_node": "T1",
                        "pandapower": "case33bw",
                        "vmin_pu": 1.1,
                        "vmax_pu": 0.9,
                    }
                ]
            },
            ["distribution[0]", "vmin_pu"],
        ),
        ({"distribution": ["d1"]}, ["distribution[0]"]),
        ({"copper_plates": [{"node_id": "D2"}]}, ["copper_plates[0]", "interface_node"]),
        ({"needs_mw": {"T2": ["x"]}}, ["needs_mw[T2]"]),
        ({"slack_penalty_eur_per_mwh": "lots"}, ["slack_penalty_eur_per_mwh"]),
        ({"bids": 5}, ["bids"]),
    ],
)
def test_malformed_market_case_json(tmp_path: Path, edit: dict[str, Any], needles: list[str]) -> None:
    case = _case_folder(tmp_path)
    doc = json.loads(case.read_text(encoding="utf-8"))
    doc.update(edit)
    case.write_text(json.dumps(doc), encoding="utf-8")
    assert_refused(
        ["clear", str(case), "--scheme", "CMS", "--out", str(tmp_path / "o")],
        str(case),
        *needles,
        keep=[case],
    )


@pytest.mark.parametrize(
    "file, row, column, cell, needles",
    [
        ("tso_case33bw_needs.csv", 1, 1, "1000000000", ["needs.csv", "row 2", "step"]),
        ("tso_case33bw_needs.csv", 1, 1, "-1", ["needs.csv", "row 2", "step"]),
        ("tso_case33bw_needs.csv", 1, 2, "nan", ["needs.csv", "row 2", "need_mw"]),
        ("tso_case33bw_needs.csv", 1, 2, "abc", ["needs.csv", "need_mw"]),
        ("tso_case33bw_bids.csv", 1, 4, "abc", ["bids"]),
        ("tso_case33bw_bids.csv", 1, 5, "nan", ["bids"]),
        ("tso_case33bw_bids.csv", 1, 3, "sideways", ["direction"]),
    ],
)
def test_malformed_market_case_csv(
    tmp_path: Path, file: str, row: int, column: int, cell: str, needles: list[str]
) -> None:
    case = _case_folder(tmp_path)
    target = tmp_path / file
    lines = target.read_text(encoding="utf-8").splitlines()
    fields = lines[row].split(",")
    fields[column] = cell
    lines[row] = ",".join(fields)
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert_refused(
        ["clear", str(case), "--scheme", "CMS", "--out", str(tmp_path / "o")], *needles, keep=[case, target]
    )


# ------------------------------------------------------------------------------- 6. validation gaps


@pytest.mark.parametrize(
    "dotted, value, needle",
    [
        ("scenario.transmission.vm_min_pu", 1.2, "vm_min_pu"),
        ("scenario.feeders[0].vm_min_pu", 1.2, "vm_min_pu"),
        ("scenario.schemes", ["CMS", "CMS"], "twice"),
        ("sgam.schema_version", 99, "schema_version"),
        ("schema_version", 99, "schema_version"),
    ],
)
def test_validation_gaps(
    tmp_path: Path, study_doc: dict[str, Any], dotted: str, value: Any, needle: str
) -> None:
    path = write_study(tmp_path, edited(study_doc, dotted, value))
    assert_refused(["validate", str(path)], str(path), needle, keep=[path])


def test_duplicate_yaml_and_json_keys(tmp_path: Path, study_doc: dict[str, Any]) -> None:
    path = write_study(tmp_path, study_doc)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("metadata:\n", "metadata:\n  title: first\n", 1), encoding="utf-8")
    line = next(
        no for no, ln in enumerate(path.read_text().splitlines(), 1) if ln.startswith("  title:") and no > 3
    )
    assert_refused(["validate", str(path)], str(path), f"line {line}", "'title'", "twice", keep=[path])
    js = tmp_path / "study.json"
    js.write_text('{"schema_version": 1, "schema_version": 1}', encoding="utf-8")
    assert_refused(["validate", str(js)], str(js), "'schema_version'", "twice", keep=[js])


def test_duplicate_keys_in_sgam_library_and_market_case(tmp_path: Path, study_doc: dict[str, Any]) -> None:
    lib = tmp_path / "lib"
    assert main.main(["sgam", "library", str(lib)]) == 0
    manifest = lib / "library.yaml"
    manifest.write_text(manifest.read_text(encoding="utf-8") + "name: again\nname: twice\n", encoding="utf-8")
    study = write_study(tmp_path, study_doc)
    assert_refused(
        ["ict", str(study), "--library", str(lib), "--out", str(tmp_path / "o")],
        "library.yaml",
        "'name'",
        keep=[manifest],
    )
    case = tmp_path / "case.yaml"
    case.write_text("name: a\nname: b\n", encoding="utf-8")
    assert_refused(
        ["clear", str(case), "--scheme", "CMS", "--out", str(tmp_path / "o")], str(case), "line 2", "'name'"
    )


def test_yaml_merge_keys_may_be_overridden() -> None:
    from coordstudio.cba.safe_yaml import parse_text

    assert parse_text("a: &x {k: 1, j: 2}\nb:\n  <<: *x\n  k: 3\n", "f.yaml") == {
        "a": {"k": 1, "j": 2},
        "b": {"k": 3, "j": 2},
    }


# --------------------------------------------------------------------------------- 7. size limit


def test_input_above_the_size_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import coordstudio.cba.safe_yaml
    import coordstudio.simulation.safe_yaml
    from coordstudio import cba, simulation

    monkeypatch.setattr(cba.safe_yaml, "MAX_FILE_BYTES", 1000)
    monkeypatch.setattr(simulation.safe_yaml, "MAX_FILE_BYTES", 1000)
    big = tmp_path / "study.yaml"
    big.write_text("description: " + "x" * 2000 + "\n", encoding="utf-8")
    assert_refused(["validate", str(big)], str(big), "limit", keep=[big])
    case = tmp_path / "case.json"
    case.write_text(json.dumps({"name": "x" * 2000}), encoding="utf-8")
    assert_refused(["clear", str(case), "--scheme", "CMS", "--out", str(tmp_path / "o")], str(case), "limit")


# ------------------------------------------------------------------------------ 8. worker exceptions


def test_worker_crash_is_one_line_and_a_log(monkeypatch: pytest.MonkeyPatch) -> None:
    from coordstudio.simulation import parallel
    from coordstudio.simulation.errors import WorkerCrashed

    worker_tb = 'Traceback (most recent call last):\n  File "x.py", line 1, in f\n' * 40 + "ValueError: boom"
    with pytest.raises(WorkerCrashed) as info:
        parallel._raise_first(["crash:" + worker_tb])
    assert str(info.value) == "in a worker process: ValueError: boom"

    def crash(args: Any) -> int:
        raise info.value

    monkeypatch.setattr(main, "cmd_validate", crash)
    code, stderr = run(["validate", "whatever.yaml"])
    lines = stderr.strip().splitlines()
    assert code == 1 and len(lines) == 1, stderr
    assert "ValueError: boom" in lines[0]
    log = Path(lines[0].rsplit("saved in ", 1)[1].rstrip(")"))
    try:
        assert "Traceback in the worker process" in log.read_text(encoding="utf-8")
        assert 'File "x.py"' in log.read_text(encoding="utf-8")
    finally:
        log.unlink()
