"""Issue 18, sections 4 and 5 (files and security), through the command line on inputs built here.

Each test asserts the exit status, the one-line message (naming the path or the object) and that nothing
the user had was lost (bytes and mode of existing files compared before and after).

Read-only folders: the tests run as root in CI, where ``chmod`` does not stop writes; there the read-only
case uses a folder under a path whose parent is a file (ENOTDIR) and a read-only location of the kernel
(``/proc``), and the ``chmod`` case runs only for a normal user. A full disk is simulated in-process by
making ``os.fsync`` raise ENOSPC after some files, which is where a real full disk surfaces for the
atomic writers (the data is flushed and synced before the rename).
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest

from coordstudio import main
from coordstudio.simulation import fileio as sim_fileio

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "market"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main.main(list(argv))
    return code, capsys.readouterr().err


def _one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def _snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(p.relative_to(folder)): (p.read_bytes(), stat.S_IMODE(p.stat().st_mode))
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("study") / "study.yaml"
    assert main.main(["new", str(path)]) == 0
    return path


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


# ------------------------------------------------------------------ 4. --out that is a file / read-only


def _out_commands(study: Path, out: Path) -> list[list[str]]:
    case = str(EXAMPLES / "two_node_congestion.json")
    return [
        ["run", str(study), "--out", str(out)],
        ["simulate", str(study), "--out", str(out), "--hours", "1"],
        ["clear", case, "--scheme", "CMS", "--out", str(out)],
        ["ict", str(study), "--out", str(out)],
        ["ict-check", str(study), "--results", str(out.parent / "none.sqlite"), "--out", str(out)],
        ["cba", str(study), "--results", str(out.parent / "none.sqlite"), "--out", str(out)],
        ["sweep", str(study), "--out", str(out)],
        ["scenario", "generate", "denmark-like", "--out", str(out / "s.yaml")],
        ["sgam", "export", str(study), str(out / "m.xlsx")],
        ["sgam", "library", str(out)],
        ["study-from-scenario", str(study), "--out", str(out / "s.yaml")],
    ]


@pytest.mark.parametrize("index", range(11))
def test_out_that_is_a_file_is_one_line_exit_2_and_the_file_is_kept(
    index: int, study: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "afile"
    blocker.write_bytes(b"user data\n")
    blocker.chmod(0o640)
    before = _snapshot(tmp_path)
    argv = _out_commands(study, blocker)[index]
    code, err = _run(capsys, *argv)
    line = _one_line(err)
    assert code == 2, (argv, err)
    assert line.startswith("error: ") and str(blocker) in line, line
    assert "not a folder" in line or "Not a directory" in line or "File exists" in line, line
    assert _snapshot(tmp_path) == before


def test_out_in_a_read_only_place_is_one_line_exit_2(
    study: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if os.geteuid() != 0:
        ro = tmp_path / "ro"
        ro.mkdir()
        (ro / "old.csv").write_text("old\n")
        ro.chmod(0o555)
        try:
            code, err = _run(capsys, "ict", str(study), "--out", str(ro))
            assert code == 2
            assert str(ro) in _one_line(err) and "Permission denied" in err
            assert (ro / "old.csv").read_text() == "old\n"
        finally:
            ro.chmod(0o755)
    # as root chmod does not stop writes: /proc refuses to create anything whoever asks
    for target in ("/proc/coordstudio-out", "/proc/self/coordstudio-out"):
        code, err = _run(capsys, "ict", str(study), "--out", target)
        assert code == 2, err
        line = _one_line(err)
        assert target in line and "cannot create the output folder" in line, line


def _fail_fsync_after(monkeypatch: pytest.MonkeyPatch, n_ok: int) -> None:
    calls = {"n": 0}
    real = os.fsync

    def fsync(fd: int) -> None:
        calls["n"] += 1
        if calls["n"] > n_ok:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)


def test_full_disk_during_ict_leaves_the_previous_outputs(
    study: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    assert main.main(["ict", str(study), "--out", str(out), "--no-figures"]) == 0
    capsys.readouterr()
    (out / "ict_summary.csv").write_text("previous run\n")
    before = _snapshot(tmp_path)
    _fail_fsync_after(monkeypatch, 3)
    code, err = _run(capsys, "ict", str(study), "--out", str(out), "--no-figures")
    line = _one_line(err)
    assert code == 2
    assert str(out) in line and "No space left on device" in line, line
    assert _snapshot(tmp_path) == before  # old set untouched, no staging folder or temporary file left
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_full_disk_during_clear_and_sgam_export(
    study: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    case = str(EXAMPLES / "two_node_congestion.json")
    assert main.main(["clear", case, "--scheme", "CMS", "--out", str(out)]) == 0
    xlsx = tmp_path / "model.xlsx"
    assert main.main(["sgam", "export", str(study), str(xlsx)]) == 0
    capsys.readouterr()
    before = _snapshot(tmp_path)
    _fail_fsync_after(monkeypatch, 2)
    code, err = _run(capsys, "clear", case, "--scheme", "CMS", "--out", str(out))
    assert code == 2 and "No space left on device" in _one_line(err)
    _fail_fsync_after(monkeypatch, 0)
    code, err = _run(capsys, "sgam", "export", str(study), str(xlsx))
    line = _one_line(err)
    assert code == 2 and str(xlsx) in line and "No space left on device" in line
    assert _snapshot(tmp_path) == before


def test_full_disk_during_the_cba_outputs_keeps_the_previous_set(tmp_path: Path) -> None:
    from cba_fixtures import make_ict, make_kpis, make_params

    from coordstudio.cba.analysis import run_cba
    from coordstudio.cba.fileio import OutputError
    from coordstudio.cba.outputs import write_study_outputs

    params = make_params(monte_carlo_samples=200)
    kpis, ict = make_kpis(), make_ict()
    result = run_cba(params, kpis, ict)
    out = tmp_path / "out"
    write_study_outputs(out, params, kpis, ict, result, None)
    before = _snapshot(tmp_path)
    mp = pytest.MonkeyPatch()
    try:
        _fail_fsync_after(mp, 4)
        with pytest.raises(OutputError, match="No space left on device"):
            write_study_outputs(out, params, kpis, ict, result, None)
    finally:
        mp.undo()
    assert _snapshot(tmp_path) == before


# ------------------------------------------------------------------ 4. modes and symlinks


def test_new_outputs_follow_the_umask(
    study: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], umask_022: None
) -> None:
    out = tmp_path / "out"
    case = str(EXAMPLES / "two_node_congestion.json")
    assert main.main(["clear", case, "--scheme", "CMS", "--out", str(out / "clear")]) == 0
    assert main.main(["ict", str(study), "--out", str(out / "ict"), "--no-figures"]) == 0
    assert main.main(["sgam", "export", str(study), str(out / "m.xlsx")]) == 0
    assert main.main(["study-from-scenario", str(study), "--out", str(out / "s.yaml")]) == 0
    from cba_fixtures import make_kpis

    from coordstudio.simulation.cli import write_kpis_csv
    from coordstudio.simulation.imports import write_spec
    from coordstudio.simulation.scenario import default_scenario_spec

    write_kpis_csv({k.scheme: k for k in make_kpis()}, out / "kpis.csv")
    write_spec(default_scenario_spec(), out / "scenario.yaml")
    capsys.readouterr()
    files = [p for p in out.rglob("*") if p.is_file()]
    assert len(files) > 10
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in files} == {p.name: 0o644 for p in files}


@pytest.mark.parametrize("package", ["cba", "sgam", "simulation"])
def test_atomic_save_keeps_an_existing_mode_and_writes_through_a_symlink(
    package: str, tmp_path: Path
) -> None:
    import importlib

    fileio = importlib.import_module(f"{package}.fileio")
    target = tmp_path / "real" / "study.yaml"
    target.parent.mkdir()
    target.write_text("old\n")
    target.chmod(0o640)
    link = tmp_path / "link.yaml"
    link.symlink_to(target)
    fileio.atomic_write_text(link, "new\n")
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text() == "new\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert [p.name for p in target.parent.iterdir()] == ["study.yaml"]  # no temporary file left


def test_one_atomic_writer_per_package() -> None:
    root = ROOT
    for package in ("sgam", "simulation", "cba"):
        users = [
            p.relative_to(root).as_posix()
            for p in (root / package).rglob("*.py")
            if "mkstemp" in p.read_text(encoding="utf-8") and p.name != "fileio.py"
        ]
        assert users == [], f"{package}: write files through {package}/fileio.py, not {users}"


# ------------------------------------------------------------------ 5. formula injection


HOSTILE = ["=HYPERLINK(\"http://x\",\"y\")", "+1+2", "-3+4", "@SUM(1,2)", "=1+1"]


def test_user_text_in_the_report_is_never_a_formula(tmp_path: Path) -> None:
    from cba_fixtures import make_ict, make_kpis, make_params

    from coordstudio.cba.analysis import run_cba
    from coordstudio.cba.report_excel import write_report
    from coordstudio.sgam.costs import SchemeIctCost

    params = make_params(monte_carlo_samples=200)
    params = params.model_copy(update={"sources": {"discount_rate": HOSTILE[0], "horizon_years": HOSTILE[1]}})
    ict: dict[str, SchemeIctCost] = make_ict()
    for j, cost in enumerate(ict.values()):
        for k, line in enumerate(cost.lines):
            line.description = HOSTILE[(j + k) % len(HOSTILE)]
            line.link_id = HOSTILE[(j + k + 1) % len(HOSTILE)]
    kpis = make_kpis()
    result = run_cba(params, kpis, ict)
    path = write_report(tmp_path / "report.xlsx", params, kpis, ict, result)
    wb = openpyxl.load_workbook(path)
    texts = {}
    formulas = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.value in HOSTILE:
                    texts[f"{ws.title}!{cell.coordinate}"] = cell.data_type
                elif cell.data_type == "f":
                    formulas += 1
    assert texts and set(texts.values()) == {"s"}, texts
    assert formulas > 100  # the report's own formulas stay formulas
    _recalculated_cells_stay_text(path, tmp_path, texts)


def _recalculated_cells_stay_text(path: Path, workdir: Path, cells: dict[str, str]) -> None:
    import subprocess

    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("LibreOffice (soffice) is required under CI: install libreoffice-calc-nogui")
        pytest.skip("LibreOffice (soffice) is not installed here, so the recalculation check cannot run")
    out = workdir / "recalculated"
    out.mkdir(exist_ok=True)
    profile = (workdir / "lo-profile").resolve().as_uri()
    subprocess.run(
        [soffice, f"-env:UserInstallation={profile}", "--headless", "--calc", "--convert-to", "xlsx",
         "--outdir", str(out), str(path)],
        check=True, capture_output=True, timeout=180,
    )
    wb = openpyxl.load_workbook(out / path.name, data_only=True)
    for where in cells:
        sheet, coord = where.rsplit("!", 1)
        value = wb[sheet][coord].value
        assert value in HOSTILE, (where, value)  # text as written, not a computed result


def test_sgam_export_writes_user_text_as_strings(tmp_path: Path) -> None:
    from coordstudio.sgam.excel import export_workbook
    from coordstudio.sgam.library import default_model

    model = default_model()
    for actor, text in zip(model.actors, HOSTILE * 100, strict=False):
        actor.description = text
    path = export_workbook(model, tmp_path / "m.xlsx")
    wb = openpyxl.load_workbook(path)
    types = {c.data_type for row in wb["actors"].iter_rows(min_row=2) for c in row if c.value in HOSTILE}
    assert types == {"s"}


# ------------------------------------------------------------------ 5. sgam import of formula cells


def test_sgam_import_refuses_formula_cells_without_a_value(
    study: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    xlsx = tmp_path / "m.xlsx"
    assert main.main(["sgam", "export", str(study), str(xlsx)]) == 0
    wb = openpyxl.load_workbook(xlsx)
    ws = wb["actors"]
    ws["B2"] = '=CONCATENATE("a","b")'
    wb.save(xlsx)
    before = _snapshot(study.parent)
    code, err = _run(capsys, "sgam", "import", str(study), str(xlsx))
    line = _one_line(err)
    assert code == 2
    assert "sheet 'actors', cell B2" in line and "formula" in line, line
    assert _snapshot(study.parent) == before


# ------------------------------------------------------------------ 5. long values quoted in errors


def test_a_huge_cell_is_quoted_short(study: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    xlsx = tmp_path / "m.xlsx"
    assert main.main(["sgam", "export", str(study), str(xlsx)]) == 0
    wb = openpyxl.load_workbook(xlsx)
    wb["actors"].cell(row=1, column=wb["actors"].max_column + 1, value="x" * 30000)  # unknown column
    wb.save(xlsx)
    code, err = _run(capsys, "sgam", "import", str(study), str(xlsx))
    line = _one_line(err)
    assert code == 2 and "unknown column 'xxx" in line and "\u2026'" in line
    assert len(line) < 600, len(line)


def test_shorten_message_keeps_short_values_and_cuts_long_ones() -> None:
    from coordstudio.cba.quoting import shorten_message as cba_short
    from coordstudio.sgam.quoting import shorten_message as sgam_short
    from coordstudio.simulation.quoting import shorten_message

    for fn in (shorten_message, cba_short, sgam_short):
        assert fn("field 'abc' is wrong") == "field 'abc' is wrong"
        cut = fn("f: value '" + "y" * 10_000_000 + "' is wrong")
        assert len(cut) < 200 and cut.endswith("\u2026' is wrong")
        assert len(fn("z" * 10_000_000)) < 4100


# ------------------------------------------------------------------ 5. grid files naming modules


def _evil_grid(folder: Path, marker: Path) -> Path:
    import pandapower as pp
    import pandapower.networks as pn

    path = folder / "grid.json"
    pp.to_json(pn.case33bw(), str(path))
    obj = json.loads(path.read_text())
    obj["_object"]["evil"] = {
        "_module": "subprocess",
        "_class": "Popen",
        "_object": json.dumps(["touch", str(marker)]),
    }
    path.write_text(json.dumps(obj))
    return path


def test_a_grid_file_naming_another_module_is_refused(tmp_path: Path) -> None:
    from coordstudio.simulation.errors import ScenarioError
    from coordstudio.simulation.grid_files import load_grid_file

    marker = tmp_path / "pwned"
    path = _evil_grid(tmp_path, marker)
    with pytest.raises(ScenarioError) as info:
        load_grid_file(path)
    message = str(info.value)
    assert str(path) in message and "'subprocess'" in message and "_object.evil" in message
    assert not marker.exists()


def test_a_market_case_with_such_a_grid_file_is_refused_by_clear(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for p in EXAMPLES.glob("tso_case33bw*"):
        shutil.copy(p, tmp_path / p.name)
    marker = tmp_path / "pwned"
    _evil_grid(tmp_path, marker)
    case = json.loads((tmp_path / "tso_case33bw.json").read_text())
    case["distribution"][0].pop("pandapower")
    case["distribution"][0]["pandapower_file"] = "grid.json"
    (tmp_path / "tso_case33bw.json").write_text(json.dumps(case))
    code, err = _run(capsys, "clear", str(tmp_path / "tso_case33bw.json"), "--scheme", "CMS",
                     "--out", str(tmp_path / "out"))
    line = _one_line(err)
    assert code == 2 and "grid.json" in line and "'subprocess'" in line, line
    assert not marker.exists()


def test_pandapower_own_files_still_load(tmp_path: Path) -> None:
    import pandapower as pp
    import pandapower.networks as pn

    from coordstudio.simulation.grid_files import load_grid_file

    path = tmp_path / "g.json"
    pp.to_json(pn.example_multivoltage(), str(path))
    assert len(load_grid_file(path).bus) > 0


def test_output_error_is_also_an_os_error() -> None:
    assert issubclass(sim_fileio.OutputError, OSError)


def test_sgam_import_reads_the_values_a_spreadsheet_computed(
    study: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import subprocess

    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("LibreOffice (soffice) is required under CI")
        pytest.skip("LibreOffice (soffice) is not installed here; CI installs libreoffice-calc-nogui")
    xlsx = tmp_path / "m.xlsx"
    assert main.main(["sgam", "export", str(study), str(xlsx)]) == 0
    wb = openpyxl.load_workbook(xlsx)
    ws = wb["actors"]
    original = str(ws["B2"].value)
    half = len(original) // 2
    ws["B2"] = f'=CONCATENATE("{original[:half]}","{original[half:]}")'
    wb.save(xlsx)
    out = tmp_path / "saved"
    profile = (tmp_path / "lo-profile").resolve().as_uri()
    subprocess.run(
        [soffice, f"-env:UserInstallation={profile}", "--headless", "--calc", "--convert-to", "xlsx",
         "--outdir", str(out), str(xlsx)],
        check=True, capture_output=True, timeout=180,
    )
    new_study = tmp_path / "new.yaml"
    code, err = _run(capsys, "sgam", "import", str(study), str(out / "m.xlsx"), "--out", str(new_study))
    assert code == 0, err
    from coordstudio.cba.study_file import load_study

    header = [c.value for c in ws[1]]
    field = str(header[1])
    assert getattr(load_study(new_study).sgam.actors[0], field) == original
