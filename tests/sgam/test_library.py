"""The SGAM/ICT library as YAML data: what ships, its totals, clear errors, the ICT architect's edit path."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import yaml

from coordstudio import main
from coordstudio.sgam.cli import copy_library, import_command
from coordstudio.sgam.library import LIBRARY_DIR, MANIFEST, LibraryError, default_model, load_library
from coordstudio.sgam.matching import ict_costs
from coordstudio.sgam.model import SCHEME_IDS

#: ICT cost of the default library with its default endpoint counts, 20 years at 4 % (EUR): the figures the
#: Python library (sgam/library.py, replaced by the YAML files) gave, to the cent. Issue 16 item 3 split the
#: common market: the old CM figures (29,133,000 / 1,806,957.67 / 67,436,081.94, the decentralised design)
#: became CM-D's less the DMS-to-common-market link of CM-GRID/CM-STATE (mpls, 2 DSOs: 2 x 5,000 EUR CAPEX)
#: plus the aggregators' link to the common market of CMS-BID/CMS-RESULT (lte, 10 aggregators: 10 x 200 EUR);
#: CM is now the centralised design (no local market platforms, no curve interface).
KNOWN_TOTALS = {
    "CMS": (3_486_400.00, 297_448.29, 9_767_539.46),
    "LMS": (26_123_000.00, 1_494_957.67, 58_152_451.97),
    "SBR": (27_377_000.00, 1_561_158.04, 60_836_319.15),
    "CM": (22_621_000.00, 1_144_857.67, 47_526_653.00),
    "CM-D": (29_125_000.00, 1_795_583.95, 67_268_826.54),
    "IFM": (27_634_200.00, 1_653_371.76, 62_840_422.66),
}


def _copy(tmp_path: Path) -> Path:
    """A copy of the shipped library's YAML files (never edit the package's own files in a test)."""
    return copy_library(tmp_path / "lib")[0].parent


def test_library_ships_one_file_per_scheme_and_a_catalogue() -> None:
    files = yaml.safe_load((LIBRARY_DIR / MANIFEST).read_text(encoding="utf-8"))["files"]
    assert files == ["common.yaml", *(f"{s}.yaml" for s in SCHEME_IDS), "catalogue.yaml"]
    catalogue = yaml.safe_load((LIBRARY_DIR / "catalogue.yaml").read_text(encoding="utf-8"))
    assert set(catalogue) == {"technologies", "components"}
    for s in SCHEME_IDS:
        data = yaml.safe_load((LIBRARY_DIR / f"{s}.yaml").read_text(encoding="utf-8"))
        assert [x["id"] for x in data["schemes"]] == [s]
        assert all(s in e["schemes"] for e in data.get("events", []))


def test_every_file_starts_with_a_comment_explaining_it() -> None:
    for path in LIBRARY_DIR.glob("*.yaml"):
        head = path.read_text(encoding="utf-8").splitlines()[:3]
        assert head[0].startswith("# SGAM/ICT library"), path.name
        assert all(line.startswith("#") for line in head), path.name


def test_default_library_gives_the_known_totals() -> None:
    m = default_model()
    assert [s.id for s in m.schemes] == list(SCHEME_IDS)
    assert (len(m.actors), len(m.events), len(m.technologies), len(m.components), len(m.steps)) == (
        18,
        36,
        13,
        14,
        80,
    )
    costs = ict_costs(m, None, 20, 0.04)
    for scheme, (capex, opex, pv) in KNOWN_TOTALS.items():
        c = costs[scheme]
        assert (round(c.capex_eur, 2), round(c.opex_eur_per_year, 2), round(c.present_value_eur, 2)) == (
            capex,
            opex,
            pv,
        ), scheme


def test_every_cost_figure_keeps_a_source() -> None:
    m = default_model()
    for item in [*m.technologies, *m.components, *m.endpoint_counts, *m.requirements]:
        assert item.source.strip(), item.id
    for t in m.technologies:
        assert "REFERENCE-DATA" in t.source or t.source.startswith("assumption"), t.id
    # figures whose object has no source field are marked on their line
    common = (LIBRARY_DIR / "common.yaml").read_text(encoding="utf-8")
    payloads = [line for line in common.splitlines() if line.strip().startswith("payload_bytes:")]
    assert payloads and all("# source: assumption" in line for line in payloads)


def test_default_model_is_a_new_object_each_call() -> None:
    a, b = default_model(), default_model()
    assert a == b and a is not b
    a.technologies[0].capex_eur_per_endpoint += 1
    assert a != b


@pytest.mark.parametrize(
    ("file", "old", "new", "match"),
    [
        (
            "catalogue.yaml",
            "    opex_eur_per_endpoint_year: 60\n",
            "    opex_eur_per_endpoint_year: -60\n",
            r"catalogue\.yaml line \d+: technologies 'lte': opex_eur_per_endpoint_year: "
            r"Input should be greater "
            r"than or equal to 0$",
        ),
        (
            "common.yaml",
            "    link_id: L-AGG-DER\n",
            "    link_id: L-NO-SUCH\n",
            r"common\.yaml line \d+: events 'E-SETPOINT': link_id: "
            r"'L-NO-SUCH' is not the id of any of the links",
        ),
        (
            "catalogue.yaml",
            "    schemes: [CMS, LMS, SBR, CM, CM-D, IFM]\n",
            "    schemes: [CMS, LMS, SBR, CM, CM-D, IFM, XYZ]\n",
            r"catalogue\.yaml line \d+: components 'C-DER-GW': schemes: "
            r"'XYZ' is not the id of any of the schemes",
        ),
    ],
)
def test_bad_library_file_gives_one_line_naming_file_object_and_field(
    tmp_path: Path, file: str, old: str, new: str, match: str
) -> None:
    lib = _copy(tmp_path)
    text = (lib / file).read_text(encoding="utf-8")
    assert old in text
    (lib / file).write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(LibraryError, match=match) as info:
        load_library(lib)
    assert "\n" not in str(info.value)
    line = int(str(info.value).split(" line ")[1].split(":")[0])
    assert new.strip() in (lib / file).read_text(encoding="utf-8").splitlines()[line - 1]


def test_unknown_technology_id_in_a_link(tmp_path: Path) -> None:
    lib = _copy(tmp_path)
    path = lib / "CMS.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace(
        "  - id: L-AGG-TSOMKT\n", "  - id: L-AGG-TSOMKT\n    technology_ids: [lte, carrier_pigeon]\n"
    )
    path.write_text(text, encoding="utf-8")
    with pytest.raises(
        LibraryError,
        match=r"CMS\.yaml line \d+: links 'L-AGG-TSOMKT': technology_ids: "
        r"'carrier_pigeon' is not the id of any of the technologies",
    ):
        load_library(lib)


@pytest.mark.parametrize(
    ("setup", "match"),
    [
        (
            lambda lib: (lib / "SBR.yaml").write_text("schemes: [\n"),
            r"SBR\.yaml: line 2 column 1: invalid YAML",
        ),
        (
            lambda lib: (lib / "SBR.yaml").write_text("links_typo: []\n"),
            r"SBR\.yaml: unknown section 'links_typo'",
        ),
        (lambda lib: (lib / "IFM.yaml").unlink(), r"IFM\.yaml: file not found"),
        (
            lambda lib: (lib / MANIFEST).write_text("files: common.yaml\n"),
            r"library\.yaml: files: expected a list",
        ),
    ],
)
def test_malformed_library_files(tmp_path: Path, setup, match: str) -> None:
    lib = _copy(tmp_path)
    setup(lib)
    with pytest.raises(LibraryError, match=match):
        load_library(lib)


def _summary(out: Path) -> dict[str, dict[str, str]]:
    with (out / "ict_summary.csv").open(encoding="utf-8") as fh:
        return {row["scheme"]: row for row in csv.DictReader(fh)}


def test_cost_figure_edited_in_a_library_copy_changes_what_ict_prints(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The ICT architect's path, no Python: copy the library, change a cost figure, run ``ict --library``."""
    study = tmp_path / "study.yaml"
    assert main.main(["new", str(study)]) == 0
    assert main.main(["sgam", "library", str(tmp_path / "lib")]) == 0
    lib = tmp_path / "lib"
    capsys.readouterr()

    assert (
        main.main(["ict", str(study), "--library", str(lib), "--out", str(tmp_path / "a"), "--no-figures"])
        == 0
    )
    printed_before = capsys.readouterr().out
    before = _summary(tmp_path / "a")

    # the DER gateway (every scheme, one per DER) now costs 500 EUR instead of 300 EUR
    cat = lib / "catalogue.yaml"
    text = cat.read_text(encoding="utf-8")
    block = text.index("  - id: C-DER-GW\n")
    old = "    capex_eur_per_unit: 300\n"
    at = text.index(old, block)
    cat.write_text(text[:at] + "    capex_eur_per_unit: 500\n" + text[at + len(old) :], encoding="utf-8")

    assert (
        main.main(["ict", str(study), "--library", str(lib), "--out", str(tmp_path / "b"), "--no-figures"])
        == 0
    )
    printed_after = capsys.readouterr().out
    after = _summary(tmp_path / "b")
    assert printed_after != printed_before
    n_der = (float(after["CMS"]["capex_eur"]) - float(before["CMS"]["capex_eur"])) / 200.0
    assert n_der > 0 and n_der == int(n_der)
    for scheme in SCHEME_IDS:
        assert float(after[scheme]["capex_eur"]) - float(before[scheme]["capex_eur"]) == pytest.approx(
            200 * n_der
        )
    # the package's own library is untouched, and the study without --library keeps its stored model
    assert "    capex_eur_per_unit: 300\n" in (LIBRARY_DIR / "catalogue.yaml").read_text(encoding="utf-8")
    assert main.main(["ict", str(study), "--out", str(tmp_path / "c"), "--no-figures"]) == 0
    assert _summary(tmp_path / "c") == before


def test_sgam_import_of_a_library_folder_stores_it_in_the_study(tmp_path: Path) -> None:
    lib = _copy(tmp_path)
    text = (lib / "catalogue.yaml").read_text(encoding="utf-8")
    (lib / "catalogue.yaml").write_text(text.replace("name: 4G LTE", "name: LTE edited", 1), encoding="utf-8")
    assert import_command(lib).get("technologies", "lte").name.startswith("LTE edited")
    study = tmp_path / "study.yaml"
    assert main.main(["new", str(study)]) == 0
    assert main.main(["sgam", "import", str(study), str(lib)]) == 0
    assert "LTE edited" in study.read_text(encoding="utf-8")


def test_copy_library_refuses_to_overwrite(tmp_path: Path) -> None:
    _copy(tmp_path)
    with pytest.raises(Exception, match="exists; pass --force"):
        copy_library(tmp_path / "lib")
    assert copy_library(tmp_path / "lib", force=True)


def test_library_is_package_data() -> None:
    """pyproject ships every YAML file of the packages (``"*" = ["*.yaml"]``): wheels hold the library."""
    import tomllib

    pyproject = tomllib.loads((Path(main.__file__).parent / "pyproject.toml").read_text(encoding="utf-8"))
    globs = pyproject["tool"]["setuptools"]["package-data"]["*"]
    assert "*.yaml" in globs
