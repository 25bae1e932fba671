"""SGAM plane figure and the CLI handler functions (files written, unserved events surfaced)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from matplotlib.figure import Figure

from coordstudio.sgam.cli import export_command, ict_command, import_command
from coordstudio.sgam.errors import SgamValidationError, UnservedEventError
from coordstudio.sgam.library import default_model
from coordstudio.sgam.model import SCHEME_IDS, Layer, SgamModel
from coordstudio.sgam.plane import draw_sgam_plane, save_figure


def _texts(fig: Figure) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def _flat(fig: Figure) -> str:
    """All texts of the figure with whitespace collapsed (side-panel entries are wrapped over lines)."""
    return " ".join(" ".join(_texts(fig)).replace("\u00a0", " ").split())


def test_plane_shows_the_schemes_actors_and_flows(tmp_path: Path) -> None:
    """LMS information layer: the aggregated-curve flow DSO market -> TSO market is listed; no IFM actor."""
    fig = draw_sgam_plane(default_model(), "LMS", "information")
    texts = _flat(fig)
    assert (
        "DSO local market platform -> TSO AS market platform: Aggregated bid curve (10 kB per clearing)"
        in texts
    )
    assert "IFM market platform" not in texts
    gids = {t.get_gid() for t in fig.axes[0].texts if t.get_gid()}
    assert {"actor:dso_market", "actor:tso_market", "actor:rtu_secondary"} <= gids
    assert "Transmission" in texts and "Market" in texts
    png = save_figure(fig, tmp_path / "lms.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from matplotlib.image import imread

    h, w = imread(str(png)).shape[:2]
    assert (w, h) == (2280, 1140)  # 19 x 9.5 in saved at 120 dpi


def test_plane_communication_layer_names_chosen_technology() -> None:
    fig = draw_sgam_plane(default_model(), "CM-D", Layer.COMMUNICATION)
    texts = _flat(fig)
    assert "DSO local market platform -- TSO AS market platform: Leased line / MPLS VPN (redundant)" in texts
    # the centralised common market has no local market platform: the DMS talks to the common platform
    texts = _flat(draw_sgam_plane(default_model(), "CM", Layer.COMMUNICATION))
    assert "DSO local market platform" not in texts
    assert "DSO DMS/SCADA -- TSO AS market platform: Leased line / MPLS VPN (redundant)" in texts


def test_plane_draws_into_a_given_axes_and_rejects_unknown_scheme() -> None:
    fig = Figure()
    ax = fig.add_subplot()
    assert draw_sgam_plane(default_model(), "CMS", "business", ax=ax) is fig
    assert "TSO" in _texts(fig)
    with pytest.raises(SgamValidationError, match="scheme 'XYZ'"):
        draw_sgam_plane(default_model(), "XYZ", "business")


def test_ict_command_writes_csvs_and_pngs(tmp_path: Path) -> None:
    """Summary CSV totals equal ict_costs' totals; one PNG per scheme for the layer asked for."""
    result = ict_command(default_model(), {"der": 500}, 20, 0.04, tmp_path, layers=["communication"])
    with open(tmp_path / "ict_summary.csv", newline="") as fh:
        rows = {r["scheme"]: r for r in csv.DictReader(fh)}
    assert set(rows) == set(SCHEME_IDS)
    for scheme, cost in result.costs.items():
        assert float(rows[scheme]["capex_eur"]) == pytest.approx(cost.capex_eur, abs=0.01)
    assert sorted(p.name for p in tmp_path.glob("*.png")) == sorted(
        f"sgam_{s}_communication.png" for s in rows
    )
    for name in (
        "ict_lines.csv",
        "ict_by_actor.csv",
        "ict_by_role.csv",
        "ict_by_technology.csv",
        "ict_by_layer.csv",
        "ict_unserved.csv",
    ):
        assert (tmp_path / name).exists()


def test_ict_command_raises_after_writing_when_an_event_is_unserved(tmp_path: Path) -> None:
    model = default_model()
    model.get("requirements", "R-CTRL-DER").max_latency_ms = 0.5
    with pytest.raises(UnservedEventError, match="E-SETPOINT"):
        ict_command(model, None, 20, 0.04, tmp_path, figures=False)
    with open(tmp_path / "ict_unserved.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["scheme"] for r in rows} == set(SCHEME_IDS)
    assert {r["event_id"] for r in rows} == {"E-SETPOINT"}


def test_export_import_commands_round_trip(tmp_path: Path) -> None:
    path = export_command(default_model(), tmp_path / "m.xlsx")
    assert import_command(path) == default_model()
    with pytest.raises(SgamValidationError, match=".xlsx"):
        export_command(SgamModel(), tmp_path / "m.csv")
