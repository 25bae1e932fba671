"""Study file: load/save round trips, validation errors that name the field, migrations, CLI exit codes.

Reference for every rejection: the issue's list (invalid YAML, wrong type, missing required field,
unknown schema_version, dangling reference); each must give exit code 2 and one line naming the field.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from coordstudio import main
from coordstudio.cba.errors import StudyError
from coordstudio.cba.study_file import (
    CURRENT_SCHEMA_VERSION,
    MIGRATIONS,
    Study,
    default_study,
    load_study,
    migrate,
    save_study,
    study_from_mapping,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def default_raw() -> dict:
    return default_study().model_dump(mode="json")


def write_yaml(path: Path, data: object) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_round_trip_equals_original(tmp_path: Path, suffix: str) -> None:
    study = default_study()
    path = tmp_path / f"study{suffix}"
    save_study(study, path)
    again = load_study(path)
    assert again == study
    # and a second save is byte-identical: no drift through serialisation
    path2 = tmp_path / f"again{suffix}"
    save_study(again, path2)
    assert path2.read_bytes() == path.read_bytes()


def test_shipped_default_study_file_is_current() -> None:
    """The package-data copy of the default study equals the one built in code (regenerate with
    ``python main.py new cba/data/default_study.yaml --force`` after changing a default)."""
    shipped = load_study(ROOT / "cba" / "data" / "default_study.yaml")
    assert shipped == default_study()


def test_save_is_atomic_and_keeps_old_file_on_failure(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "study.yaml"
    save_study(default_study(), path)
    before = path.read_bytes()

    import coordstudio.cba.study_file as study_module

    def broken(_study, _fmt="yaml"):  # serialisation fails half-way
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(study_module, "study_to_text", broken)
    with pytest.raises(StudyError, match="cannot write"):
        save_study(default_study(), path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["study.yaml"]


def run_cli(*args: str, capsys) -> tuple[int, str, str]:
    code = main.main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_validate_accepts_default(tmp_path: Path, capsys) -> None:
    path = tmp_path / "s.yaml"
    assert run_cli("new", str(path), capsys=capsys)[0] == 0
    code, out, err = run_cli("validate", str(path), capsys=capsys)
    assert code == 0, err
    assert "valid study" in out


def _mutations(raw: dict) -> dict[str, tuple[object, str]]:
    """name -> (file content or raw dict, substring the error line must contain)."""
    wrong_type = json.loads(json.dumps(raw))
    wrong_type["cba"]["discount_rate"] = "four percent"
    missing = json.loads(json.dumps(raw))
    del missing["scenario"]
    unknown_version = json.loads(json.dumps(raw))
    unknown_version["schema_version"] = 99
    dangling = json.loads(json.dumps(raw))
    dangling["cba"]["reference_scheme"] = "XYZ"
    return {
        "invalid_yaml": ("schema_version: 1\nmetadata: {title: [unclosed\n", "invalid YAML"),
        "wrong_type": (wrong_type, "cba.discount_rate"),
        "missing_field": (missing, "scenario"),
        "unknown_version": (unknown_version, "schema_version: unknown version 99"),
        "dangling_reference": (dangling, "cba.reference_scheme"),
    }


@pytest.mark.parametrize(
    "case", ["invalid_yaml", "wrong_type", "missing_field", "unknown_version", "dangling_reference"]
)
def test_validate_rejects_with_exit_2_and_field(case: str, tmp_path: Path, default_raw, capsys) -> None:
    content, expected = _mutations(default_raw)[case]
    path = tmp_path / f"{case}.yaml"
    if isinstance(content, str):
        path.write_text(content)
    else:
        write_yaml(path, content)
    code, out, err = run_cli("validate", str(path), capsys=capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert str(path) in lines[0]
    assert expected in lines[0]
    assert "Traceback" not in err


def test_dangling_sgam_reference_names_object(tmp_path: Path, default_raw, capsys) -> None:
    """An interaction event whose producer actor does not exist is rejected, naming the event's id."""
    raw = json.loads(json.dumps(default_raw))
    event = raw["sgam"]["events"][0]
    producer_field = "producer_id" if "producer_id" in event else "producer"
    event[producer_field] = "no-such-actor"
    path = write_yaml(tmp_path / "dangling.yaml", raw)
    code, _, err = run_cli("validate", str(path), capsys=capsys)
    assert code == 2
    assert "no-such-actor" in err
    assert "sgam" in err


def test_cli_subprocess_exit_code_and_no_traceback(tmp_path: Path) -> None:
    """The installed entry point gives exit code 2 on a missing file (a real process, not in-process)."""
    proc = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "validate", str(tmp_path / "nope.yaml")],
        capture_output=True, text=True, cwd=tmp_path,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"error: {tmp_path / 'nope.yaml'}: file not found"


def test_migration_hook_runs_chain(monkeypatch) -> None:
    """A version-0 file (hypothetical older format with a top-level ``name``) is migrated by the
    registered step before validation; without the step, version 0 is unknown."""
    raw = default_study().model_dump(mode="json")
    raw.pop("metadata")
    raw["name"] = "old study"
    raw["schema_version"] = 0
    with pytest.raises(StudyError, match="unknown version 0"):
        migrate(json.loads(json.dumps(raw)))

    def v0_to_v1(old: dict) -> dict:
        old["metadata"] = {"title": old.pop("name")}
        return old

    monkeypatch.setitem(MIGRATIONS, 0, v0_to_v1)
    study = study_from_mapping(json.loads(json.dumps(raw)))
    assert study.metadata.title == "old study"
    assert study.schema_version == CURRENT_SCHEMA_VERSION


def test_version_one_loads_without_migration(default_raw) -> None:
    study = study_from_mapping(default_raw)
    assert isinstance(study, Study)
    assert study.schema_version == CURRENT_SCHEMA_VERSION
