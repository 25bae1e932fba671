"""Overlay studies (``extends:``, issue 17): a study file that states only what differs from its base.

The oracles are the merge rule itself, written out by hand per case (objects merge key by key, lists and
data mappings are replaced whole), and the base study: an overlay loads as the base with exactly the
stated values changed, follows a change of its base, names its own file and the field in a validation
error, and stays an overlay when the tool writes it back (``sgam import --in-place``, ``save_study``).
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from coordstudio import main
from coordstudio.cba.errors import StudyError
from coordstudio.cba.study_file import default_study, load_study, save_study, study_extends
from coordstudio.cba.study_update import UpdateMethod, write_updated_study

ROOT = Path(__file__).resolve().parents[2]
ITALY = ROOT / "examples" / "italy_scale" / "study.yaml"


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_the_italian_study_is_a_short_overlay_of_the_default_study() -> None:
    text = ITALY.read_text(encoding="utf-8")
    assert "\nextends: default\n" in text and "sgam:" not in text and "scenario:" not in text
    assert len(text.splitlines()) < 40  # was a 4,384-line copy of the default study
    assert study_extends(ITALY) == "default"
    italy, default = load_study(ITALY), default_study()
    assert italy.sgam == default.sgam and italy.scenario == default.scenario
    assert italy.cba.system.scale_factor == pytest.approx(2410 / 7, rel=1e-12)


def test_objects_merge_key_by_key_lists_and_data_mappings_are_replaced_whole(tmp_path: Path) -> None:
    overlay = _write(tmp_path / "o.yaml", (
        "extends: default\n"
        "metadata: {title: Two schemes}\n"
        "scenario: {schemes: [CMS, CM], profiles: {representative_days: 3}}\n"
        "cba:\n"
        "  discount_rate: 0.05\n"
        "  day_weights_days_per_year: {d015: 200.0, d190: 165.0}\n"
        "  system: {scale_factor: 2.0}\n"
    ))
    got, base = load_study(overlay), default_study()
    assert got.metadata.title == "Two schemes" and got.metadata.author == base.metadata.author
    assert got.scenario.schemes == ["CMS", "CM"]  # the list stated, not merged with the base's six
    assert got.scenario.profiles.representative_days == 3
    assert got.scenario.profiles.source == base.scenario.profiles.source  # object: the rest kept
    assert got.cba.discount_rate == 0.05 and got.cba.horizon_years == base.cba.horizon_years
    # a data mapping (keys are days, not fields) is the overlay's: the base's "default" day is gone
    assert got.cba.day_weights_days_per_year == {"d015": 200.0, "d190": 165.0}
    assert got.cba.system.scale_factor == 2.0 and got.cba.system.name == base.cba.system.name


def test_an_overlay_of_a_file_follows_its_base(tmp_path: Path) -> None:
    base = tmp_path / "base" / "study.yaml"
    base.parent.mkdir()
    save_study(default_study(), base)
    overlay = _write(tmp_path / "o.yaml", "extends: base/study.yaml\ncba: {discount_rate: 0.07}\n")
    assert load_study(overlay).cba.horizon_years == default_study().cba.horizon_years
    text = base.read_text(encoding="utf-8")
    assert text.count("  horizon_years: 20\n") == 1
    base.write_text(text.replace("  horizon_years: 20\n", "  horizon_years: 30\n"), encoding="utf-8")
    changed = load_study(overlay)
    assert changed.cba.horizon_years == 30 and changed.cba.discount_rate == 0.07  # no drift


def test_validation_errors_name_the_overlay_file_and_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = _write(tmp_path / "bad.yaml", "extends: default\ncba: {horizon_years: -3}\n")
    with pytest.raises(StudyError, match=rf"^{bad}: cba\.horizon_years: "):
        load_study(bad)
    assert main.main(["validate", str(bad)]) == 2  # the CLI's path: exit 2, one line naming file and field
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(bad) in err[0] and "cba.horizon_years" in err[0]
    for text, expected in (
        ("extends: 3\n", "extends: expected 'default' or the path of a study file, got 3"),
        ("extends: nowhere.yaml\n", "extends: no study file"),
        ("extends: loop.yaml\n", "extends back to itself"),
    ):
        path = _write(tmp_path / "loop.yaml", text)
        with pytest.raises(StudyError) as info:
            load_study(path)
        assert str(info.value).startswith(f"{path}: extends") and expected in str(info.value)


def test_sgam_import_in_place_keeps_an_overlay_an_overlay(tmp_path: Path) -> None:
    """One capex cell changed in the workbook: the overlay gains the technologies list (lists are whole)
    and keeps ``extends``, its comment and its own values; it loads as the base with that one change."""
    study = _write(tmp_path / "study.yaml", "# my overlay\nextends: default\ncba: {discount_rate: 0.05}\n")
    workbook = tmp_path / "model.xlsx"
    assert main.main(["sgam", "export", str(study), str(workbook)]) == 0
    book = openpyxl.load_workbook(workbook)
    sheet = book["technologies"]
    header = [cell.value for cell in sheet[1]]
    assert sheet.cell(row=2, column=1).value == "fibre"
    sheet.cell(row=2, column=header.index("capex_eur_per_endpoint") + 1, value=2500.5)
    book.save(workbook)
    assert main.main(["sgam", "import", str(study), str(workbook), "--in-place"]) == 0
    text = study.read_text(encoding="utf-8")
    assert text.startswith("# my overlay\nextends: default\n") and "technologies:" in text
    assert "schemes:" not in text.split("technologies:")[0]  # sgam's other lists still inherited
    got = load_study(study)
    base = default_study()
    assert got.sgam.get("technologies", "fibre").capex_eur_per_endpoint == 2500.5
    assert got.cba.discount_rate == 0.05
    expected_sgam = base.sgam.model_copy(update={"technologies": got.sgam.technologies})
    assert got.sgam == expected_sgam and got.scenario == base.scenario


def test_writing_an_overlay_elsewhere_rebases_its_base_path(tmp_path: Path) -> None:
    base = tmp_path / "base.yaml"
    save_study(default_study(), base)
    (tmp_path / "a").mkdir()
    source = _write(tmp_path / "a" / "o.yaml", "extends: ../base.yaml\ncba: {discount_rate: 0.05}\n")
    old = load_study(source)
    new = old.model_copy(update={"cba": old.cba.model_copy(update={"horizon_years": 25})})
    target = tmp_path / "b" / "c" / "o.yaml"
    target.parent.mkdir(parents=True)
    assert write_updated_study(source, target, old, new) == UpdateMethod.OVERLAY
    assert study_extends(target) == "../../base.yaml"
    assert load_study(target) == new
    # save_study with extends writes only what differs; without, in full
    assert save_study(new, tmp_path / "x.yaml", extends="base.yaml") is True
    assert len((tmp_path / "x.yaml").read_text(encoding="utf-8").splitlines()) < 10
    assert load_study(tmp_path / "x.yaml") == new
