"""Property-based check of the bad-input contract (issue 18, docs/reliability.md section 3).

Hypothesis mutates the default study (``main.py new``) and the market case files of ``examples/market``
(wrong types, out-of-range, huge and tiny numbers, odd strings, deep nesting, missing and repeated keys)
and runs ``main.py validate`` / ``main.py clear`` in-process. Whatever the mutation, the command exits 0,
or 2 with exactly one line on stderr; never a traceback (exit 1), never longer than a set time.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coordstudio import main

ROOT = Path(__file__).resolve().parents[1]
MARKET = ROOT / "examples" / "market"
MAX_SECONDS = 30.0

ODD_STRINGS = [
    "",
    " ",
    "nan",
    "inf",
    "-inf",
    "1e999",
    "__class__",
    "Point",
    "create_bus",
    "../../etc/passwd",
    "=1+1",
    "\x00",
    "é" * 50,
    "x" * 5000,
    "0x10",
    "True",
    "null",
    "[1, 2]",
]
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([0, -1, 1, 2**63, -(2**63), 10**400]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1e-320, 5e-324, 1e308, -1e308, 1e-9, -0.0]),
    st.sampled_from(ODD_STRINGS),
    st.text(max_size=20),
    st.lists(st.integers(min_value=-5, max_value=5), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
    st.integers(min_value=70, max_value=200).map(lambda n: json.loads("[" * n + "]" * n)),
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value in a parsed document (mappings and lists)."""
    out: list[tuple[Any, ...]] = []
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    for key, value in items:
        out.append((*prefix, key))
        out.extend(_paths(value, (*prefix, key)))
    return out


def _mutate(doc: Any, path: tuple[Any, ...], action: str, value: Any) -> Any:
    doc = copy.deepcopy(doc)
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    last = path[-1]
    if action == "delete":
        del parent[last]
    elif action == "wrap":
        parent[last] = [parent[last]]
    else:
        parent[last] = value
    return doc


def _run(argv: list[str]) -> tuple[int, str, float]:
    err = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main.main(argv)
        except SystemExit as exc:  # argparse
            code = int(exc.code or 0)
    return code, err.getvalue(), time.perf_counter() - start


def _assert_contract(code: int, stderr: str, seconds: float) -> None:
    assert "Traceback" not in stderr, stderr
    assert code in (0, 2), f"exit {code}: {stderr}"
    lines = [line for line in stderr.splitlines() if line.strip()]
    if code == 2:
        assert len(lines) == 1, stderr
    assert seconds < MAX_SECONDS


@pytest.fixture(scope="module")
def default_study_doc(tmp_path_factory: pytest.TempPathFactory) -> Any:
    path = tmp_path_factory.mktemp("study") / "study.yaml"
    assert main.main(["new", str(path)]) == 0
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def study_paths(default_study_doc: Any) -> list[tuple[Any, ...]]:
    return _paths(default_study_doc)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_mutated_study_validates_or_is_refused_in_one_line(
    data: st.DataObject, default_study_doc: Any, study_paths: list[tuple[Any, ...]], tmp_path: Path
) -> None:
    path = data.draw(st.sampled_from(study_paths))
    action = data.draw(st.sampled_from(["set", "set", "set", "delete", "wrap", "dupkey"]))
    value = data.draw(VALUES)
    fmt = data.draw(st.sampled_from(["yaml", "json"]))
    if action == "dupkey":
        doc = default_study_doc
    else:
        doc = _mutate(default_study_doc, path, action, value)
    target = tmp_path / f"mutated.{fmt}"
    if fmt == "json":
        text = json.dumps(doc, allow_nan=True)
        if action == "dupkey":
            text = text[:-1] + ', "schema_version": 1}'
    else:
        text = yaml.safe_dump(doc, sort_keys=False)
        if action == "dupkey":
            text += "schema_version: 1\n"
    target.write_text(text, encoding="utf-8")
    before = target.read_bytes()
    code, stderr, seconds = _run(["validate", str(target)])
    _assert_contract(code, stderr, seconds)
    if action == "dupkey":
        assert code == 2 and "schema_version" in stderr and "twice" in stderr
    assert target.read_bytes() == before  # validate changes nothing


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_mutated_market_case_clears_or_is_refused_in_one_line(data: st.DataObject, tmp_path: Path) -> None:
    doc = json.loads((MARKET / "two_node_congestion.json").read_text(encoding="utf-8"))
    path = data.draw(st.sampled_from(_paths(doc)))
    action = data.draw(st.sampled_from(["set", "set", "delete", "wrap"]))
    doc = _mutate(doc, path, action, data.draw(VALUES))
    case = tmp_path / "case.json"
    case.write_text(json.dumps(doc, allow_nan=True), encoding="utf-8")
    code, stderr, seconds = _run(["clear", str(case), "--scheme", "CMS", "--out", str(tmp_path / "out")])
    _assert_contract(code, stderr, seconds)


def _csv_mutations() -> st.SearchStrategy[tuple[str, int, int, str]]:
    cells = st.one_of(
        st.sampled_from(ODD_STRINGS),
        st.sampled_from(["-1", "1e308", "1e-320", "nan", "2.5", "99999999999", ",", '"']),
    )
    return st.tuples(
        st.sampled_from(["tso_case33bw_bids.csv", "tso_case33bw_needs.csv", "tso_case33bw_energy.csv"]),
        st.integers(min_value=0, max_value=5),
        st.integers(min_value=0, max_value=12),
        cells,
    )


@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))
@given(mutation=_csv_mutations())
def test_mutated_case_csv_clears_or_is_refused_in_one_line(
    mutation: tuple[str, int, int, str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    name, row, column, cell = mutation
    folder = tmp_path_factory.mktemp("case")
    for f in MARKET.glob("tso_case33bw*"):
        shutil.copy(f, folder / f.name)
    target = folder / name
    lines = target.read_text(encoding="utf-8").splitlines()
    row %= len(lines)
    fields = lines[row].split(",")
    fields[column % len(fields)] = cell
    lines[row] = ",".join(fields)
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, stderr, seconds = _run(
        ["clear", str(folder / "tso_case33bw.json"), "--scheme", "CMS", "--out", str(folder / "out")]
    )
    _assert_contract(code, stderr, seconds)
