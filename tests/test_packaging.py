"""Packaging and command line (issue 19 item 4 and the study schema of item 3), the way a user meets them.

* The CLI runs a study with PySide6 unavailable (a headless install): ``sys.modules["PySide6"] = None``
  makes every import of it fail, as in an environment installed without the ``gui`` extra.
* ``coordstudio gui`` with no display, or without PySide6, is one line and exit 2 (not Qt's abort, 134).
* Under ``--quiet`` nothing but the summary reaches stdout (HiGHS's banner included).
* One version string; the licence file ships; the constraints pin every direct dependency.
* The shipped JSON Schema equals the one generated from the model, and a study an editor would accept
  (jsonschema, an independent validator) is one the tool accepts, and vice versa for a bad field.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]

_BLOCK_PYSIDE = (
    "import sys, runpy; sys.modules['PySide6'] = None; sys.argv = ['main.py'] + sys.argv[1:]; "
    f"sys.path.insert(0, {str(ROOT)!r}); runpy.run_path({str(ROOT / 'main.py')!r}, run_name='__main__')"
)


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env.update({"PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg", **extra})
    return env


def _short_study(tmp_path: Path) -> Path:
    path = tmp_path / "study.yaml"
    subprocess.run([sys.executable, str(ROOT / "main.py"), "new", str(path)], check=True, env=_env(),
                   capture_output=True)
    data = yaml.safe_load(path.read_text())
    data["scenario"]["timing"]["duration_h"] = 1.0
    data["scenario"]["timing"]["start_h"] = 11.0
    data["scenario"]["schemes"] = ["CMS", "LMS"]
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_run_works_without_pyside6_and_quiet_prints_only_the_summary(tmp_path: Path) -> None:
    """`coordstudio run STUDY --quiet` with PySide6 unimportable: exit 0, the report written, and stdout
    holds the summary table only (no progress lines, no "Running HiGHS" banner)."""
    study = _short_study(tmp_path)
    out = tmp_path / "out"
    cmd = [sys.executable, "-c", _BLOCK_PYSIDE, "run", str(study), "--days", "0", "--out", str(out),
           "--quiet", "--figures", "none"]
    proc = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (out / "report.xlsx").is_file() and (out / "kpis.csv").is_file()
    assert "HiGHS" not in proc.stdout
    assert "step " not in proc.stdout
    assert proc.stdout.lstrip().startswith("scheme")
    assert not re.search(r"\[ *\d+\.\d % |step \d+/", proc.stderr), proc.stderr  # no progress at all


def test_gui_without_pyside6_says_so(tmp_path: Path) -> None:
    """Headless install: `coordstudio gui` names the missing extra in one line, exit 2."""
    proc = subprocess.run([sys.executable, "-c", _BLOCK_PYSIDE, "gui"], env=_env(), capture_output=True,
                          text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 2
    assert "coordination-studio[gui]" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="DISPLAY is how Linux Qt finds a display")
def test_gui_without_a_display_is_one_line_and_exit_2(tmp_path: Path) -> None:
    """No DISPLAY, no WAYLAND_DISPLAY, no offscreen platform: one line, exit 2 (Qt alone aborts, 134)."""
    proc = subprocess.run([sys.executable, str(ROOT / "main.py"), "gui"], env=_env(), capture_output=True,
                          text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "no display" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_help_shows_defaults() -> None:
    """Every option with a default shows it in --help (here: run's --out and sweep's --workers)."""
    run = subprocess.run([sys.executable, str(ROOT / "main.py"), "run", "--help"], env=_env(),
                         capture_output=True, text=True, timeout=120)
    assert "default: out" in run.stdout
    sweep = subprocess.run([sys.executable, str(ROOT / "main.py"), "sweep", "--help"], env=_env(),
                           capture_output=True, text=True, timeout=120)
    assert re.search(r"--workers.*\(default: 2\)", " ".join(sweep.stdout.split()))


def test_one_version_string_and_the_licence_ships() -> None:
    """pyproject takes its version from main.__version__ (no second copy); LICENSE is the Apache text
    pyproject declares, listed in license-files; the build floor knows SPDX expressions (setuptools 77)."""
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in meta["project"] and "version" in meta["project"]["dynamic"]
    assert meta["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "coordstudio.main.__version__"}
    assert meta["project"]["license"] == "Apache-2.0"
    assert meta["project"]["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").read_text().startswith("Apache License\nVersion 2.0")
    floor = re.search(r"setuptools>=(\d+)", " ".join(meta["build-system"]["requires"]))
    assert floor and int(floor.group(1)) >= 77
    version = subprocess.run([sys.executable, str(ROOT / "main.py"), "--version"], env=_env(),
                             capture_output=True, text=True, timeout=60).stdout.split()[-1]
    assert re.search(rf'^__version__ = "{re.escape(version)}"$', (ROOT / "main.py").read_text(), re.M)
    assert "PySide6" not in " ".join(meta["project"]["dependencies"])  # only the gui extra needs it


def test_constraints_pin_every_direct_dependency() -> None:
    """constraints.txt (what make installs with) pins each dependency of pyproject, gui and test extras."""
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    pinned = {
        re.split(r"==", line)[0].strip().lower().replace("_", "-")
        for line in (ROOT / "constraints.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    }
    wanted = meta["project"]["dependencies"] + meta["project"]["optional-dependencies"]["gui"]
    wanted += [d for d in meta["project"]["optional-dependencies"]["test"] if "coordination-studio" not in d]
    names = {re.split(r"[<>=!~\[ ;]", d, maxsplit=1)[0].lower().replace("_", "-") for d in wanted}
    assert not names - pinned, f"not pinned in constraints.txt: {sorted(names - pinned)}"


def test_shipped_schema_is_the_models_and_validates_studies(tmp_path: Path) -> None:
    """cba/data/study.schema.json equals the generated schema; jsonschema (independent validator) accepts
    the default study and rejects one whose discount rate is text, which the tool rejects too."""
    import jsonschema

    from coordstudio.cba.study_schema import SCHEMA_FILE, study_schema_text

    hint = "regenerate: coordstudio schema cba/data/study.schema.json"
    assert SCHEMA_FILE.read_text() == study_schema_text(), hint
    schema = json.loads(SCHEMA_FILE.read_text())
    study = _short_study(tmp_path)
    data = yaml.safe_load(study.read_text())
    jsonschema.validate(data, schema)
    data["cba"]["discount_rate"] = "four percent"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schema)
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data, sort_keys=False))
    proc = subprocess.run([sys.executable, str(ROOT / "main.py"), "validate", str(bad)], env=_env(),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "discount_rate" in proc.stderr
    written = tmp_path / "schema.json"
    proc = subprocess.run([sys.executable, str(ROOT / "main.py"), "schema", str(written)], env=_env(),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and written.read_text() == SCHEMA_FILE.read_text()


def test_package_list_names_every_folder_of_the_four_packages() -> None:
    """pyproject lists the wheel's packages by hand (the package-dir mapping puts each top-level folder under
    ``coordstudio``); a folder added without a line there would be missing from the wheel."""
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    listed = set(meta["tool"]["setuptools"]["packages"])
    folders = {"coordstudio"}
    for top in ("gui", "sgam", "simulation", "cba"):
        assert meta["tool"]["setuptools"]["package-dir"][f"coordstudio.{top}"] == top
        for d in [ROOT / top, *(p for p in (ROOT / top).rglob("*") if p.is_dir())]:
            if d.name != "__pycache__" and any(f.is_file() for f in d.iterdir()):
                folders.add(".".join(["coordstudio", *d.relative_to(ROOT).parts]))
    assert listed == folders


def test_wheel_installs_one_import_name_that_a_users_files_cannot_shadow(tmp_path: Path) -> None:
    """Issue 19 item 1, as a user meets it: the built wheel holds only ``coordstudio/`` (no top-level
    ``main``, ``gui``, ``cba``, ``sgam``, ``simulation``), with every module and data file of the checkout;
    unpacked as site-packages, it imports and runs a CLI command from a folder where the user's own
    ``simulation.py`` and ``gui/`` sit beside the notebook, and ``import simulation`` still gets the user's."""
    import zipfile

    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "dist"),
                    str(ROOT)], check=True, capture_output=True, timeout=300)
    wheel = next((tmp_path / "dist").glob("coordination_studio-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert {n.split("/")[0] for n in names} == {"coordstudio", wheel.name.split("-py3")[0] + ".dist-info"}
    tracked = subprocess.run(["git", "ls-files", "gui", "sgam", "simulation", "cba", "main.py"], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout.split()
    shipped = [f for f in tracked if f.endswith((".py", ".yaml", ".json", ".csv", "py.typed"))]
    assert shipped and not [f for f in shipped if f"coordstudio/{f}" not in names]
    entry = zipfile.ZipFile(wheel).read(wheel.name.split("-py3")[0] + ".dist-info/entry_points.txt").decode()
    assert "coordstudio = coordstudio.main:main" in entry

    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    user = tmp_path / "notebooks"
    (user / "gui").mkdir(parents=True)
    (user / "gui" / "__init__.py").write_text("WHO = 'user'\n")
    (user / "simulation.py").write_text("WHO = 'user'\n")
    code = (
        "import simulation, gui, coordstudio.simulation.simulate, coordstudio.cba.study, coordstudio.main as m\n"
        "assert simulation.WHO == 'user' and gui.WHO == 'user'\n"
        f"assert coordstudio.simulation.simulate.__file__.startswith({str(site)!r})\n"
        "raise SystemExit(m.main(['validate', m.__file__.replace('main.py', 'cba/data/default_study.yaml')]))\n"
    )
    env = _env(PYTHONPATH=str(site))
    proc = subprocess.run([sys.executable, "-c", code], cwd=user, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
