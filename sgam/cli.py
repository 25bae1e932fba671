"""Command-line handlers of the SGAM/ICT package, as plain functions over an :class:`SgamModel`.

``sgam`` may not import ``cba`` (which owns the study file) nor ``simulation`` (which owns the scenario's
endpoint counts), so these functions take the model and the numbers; ``main.py`` loads the study and calls:

* ``python main.py ict STUDY --out DIR`` -> :func:`ict_command` (CSV breakdowns and SGAM plane PNGs);
* ``python main.py sgam export STUDY FILE.xlsx`` -> :func:`export_command`;
* ``python main.py sgam import STUDY FILE.xlsx`` -> :func:`import_command`, then the caller stores the
  returned model in the study.

:func:`add_ict_arguments` and :func:`add_sgam_arguments` add the documented arguments to argparse parsers so
the help text lives next to the handlers.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sgam.costs import SchemeIctCost
from sgam.errors import SgamValidationError
from sgam.model import Layer, SgamModel


@dataclass
class IctCommandResult:
    """What :func:`ict_command` computed and wrote."""

    costs: dict[str, SchemeIctCost]
    files: list[Path] = field(default_factory=list)


def _atomic_write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[object]]) -> Path:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    _atomic_write_text(path, buf.getvalue())
    return path


def write_cost_csvs(costs: Mapping[str, SchemeIctCost], out_dir: str | Path) -> list[Path]:
    """Write the ICT cost tables of every scheme to ``out_dir``; return the files written.

    Files: ``ict_summary.csv`` (one row per scheme), ``ict_lines.csv`` (every costed line),
    ``ict_by_actor.csv``, ``ict_by_role.csv``, ``ict_by_technology.csv``, ``ict_by_layer.csv`` (sums per
    group) and ``ict_unserved.csv`` (events no technology can serve, with the reason).
    """
    from sgam.matching import breakdown

    out = Path(out_dir)
    files = [
        _write_csv(
            out / "ict_summary.csv",
            ["scheme", "capex_eur", "opex_eur_per_year", "present_value_eur", "lines", "unserved_events"],
            [
                [
                    s,
                    f"{c.capex_eur:.2f}",
                    f"{c.opex_eur_per_year:.2f}",
                    f"{c.present_value_eur:.2f}",
                    len(c.lines),
                    len(c.unserved_events),
                ]
                for s, c in costs.items()
            ],
        ),
        _write_csv(
            out / "ict_lines.csv",
            [
                "scheme",
                "item_kind",
                "link_id",
                "technology_id",
                "actor_id",
                "actor_role",
                "layer",
                "endpoints",
                "capex_eur",
                "opex_eur_per_year",
                "lifetime_years",
                "present_value_eur",
                "description",
            ],
            [
                [
                    l.scheme,
                    l.item_kind,
                    l.link_id,
                    l.technology_id,
                    l.actor_id,
                    l.actor_role,
                    l.layer,
                    l.endpoints,
                    f"{l.capex_eur:.2f}",
                    f"{l.opex_eur_per_year:.2f}",
                    l.lifetime_years,
                    f"{l.present_value_eur:.2f}",
                    l.description,
                ]
                for c in costs.values()
                for l in c.lines  # noqa: E741
            ],
        ),
    ]
    for by, name in (
        ("actor_id", "ict_by_actor.csv"),
        ("actor_role", "ict_by_role.csv"),
        ("technology_id", "ict_by_technology.csv"),
        ("layer", "ict_by_layer.csv"),
    ):
        rows = [
            [
                r.scheme,
                r.group,
                f"{r.capex_eur:.2f}",
                f"{r.opex_eur_per_year:.2f}",
                f"{r.present_value_eur:.2f}",
            ]
            for c in costs.values()
            for r in breakdown(c, by)
        ]
        files.append(
            _write_csv(
                out / name, ["scheme", by, "capex_eur", "opex_eur_per_year", "present_value_eur"], rows
            )
        )
    files.append(
        _write_csv(
            out / "ict_unserved.csv",
            ["scheme", "event_id", "reason"],
            [[s, e, c.unserved_reasons.get(e, "")] for s, c in costs.items() for e in c.unserved_events],
        )
    )
    return files


def ict_command(
    model: SgamModel,
    endpoint_counts: Mapping[str, int] | None,
    horizon_years: int,
    discount_rate: float,
    out_dir: str | Path,
    *,
    layers: Sequence[Layer | str] | None = None,
    figures: bool = True,
    strict: bool = True,
) -> IctCommandResult:
    """Compute the ICT cost of every scheme, write the CSV breakdowns and the SGAM plane PNGs to ``out_dir``.

    Parameters
    ----------
    model : SgamModel
        The study's SGAM/ICT model.
    endpoint_counts : mapping, optional
        Multiplicity id -> count from the scenario (``simulation.scenario.endpoint_counts(spec)``); missing
        keys take the model's default counts.
    horizon_years, discount_rate : int, float
        Study horizon (years) and real discount rate (a fraction) used to compare technologies.
    out_dir : path
        Output folder (created if missing). PNGs are named ``sgam_<scheme>_<layer>.png``.
    layers : sequence of layers, optional
        Layers to draw (default: all five).
    figures : bool
        Draw the PNGs (``False`` for CSV only).
    strict : bool
        After writing everything, raise :class:`~sgam.errors.UnservedEventError` if any event cannot be
        served (the CLI then exits with code 2 and the user reads ``ict_unserved.csv``).
    """
    from sgam.matching import check_served, ict_costs

    out = Path(out_dir)
    costs = ict_costs(model, endpoint_counts, horizon_years, discount_rate)
    files = write_cost_csvs(costs, out)
    if figures:
        from sgam.plane import draw_sgam_plane, save_figure

        chosen = [Layer(x) for x in layers] if layers else list(Layer)
        for scheme in costs:
            for layer in chosen:
                fig = draw_sgam_plane(model, scheme, layer, costs=costs)
                files.append(save_figure(fig, out / f"sgam_{scheme}_{layer.value}.png"))
    if strict:
        check_served(costs)
    return IctCommandResult(costs=costs, files=files)


def export_command(model: SgamModel, xlsx_path: str | Path) -> Path:
    """Write the model to an Excel workbook for ICT architects (``sgam export``)."""
    from sgam.excel import export_workbook

    path = Path(xlsx_path)
    if path.suffix.lower() != ".xlsx":
        raise SgamValidationError(f"{path}: the workbook must have the extension .xlsx")
    return export_workbook(model, path)


def import_command(xlsx_path: str | Path) -> SgamModel:
    """Read an (edited) workbook back into a validated model (``sgam import``); the caller stores it."""
    from sgam.excel import import_workbook

    return import_workbook(Path(xlsx_path))


def format_summary(costs: Mapping[str, SchemeIctCost]) -> str:
    """A short table of the schemes' totals for the console."""
    lines = [f"{'scheme':<7}{'CAPEX EUR':>16}{'OPEX EUR/a':>14}{'PV EUR':>16}  unserved"]
    for s, c in costs.items():
        lines.append(
            f"{s:<7}{c.capex_eur:>16,.0f}{c.opex_eur_per_year:>14,.0f}{c.present_value_eur:>16,.0f}  "
            f"{len(c.unserved_events)}"
        )
    return "\n".join(lines)


def add_ict_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``ict STUDY --out DIR``."""
    parser.description = (
        "Match every interaction event of the study's SGAM model to the cheapest communication technology "
        "that meets its requirements, and write the ICT cost per scheme (ict_summary.csv, ict_lines.csv, "
        "breakdowns by actor, role, technology and layer, ict_unserved.csv) and the SGAM plane of every "
        "scheme and layer (sgam_<scheme>_<layer>.png) to --out. Endpoint counts come from the study's "
        "scenario. Exit code 2 if an event cannot be served (the files are still written)."
    )
    parser.add_argument("study", help="study file (YAML or JSON)")
    parser.add_argument("--out", default="out", help="output folder (default: out)")
    parser.add_argument("--no-figures", action="store_true", help="write the CSV files only")


def add_sgam_arguments(parser: argparse.ArgumentParser) -> argparse._SubParsersAction:  # type: ignore[type-arg]
    """Subcommands ``sgam export STUDY FILE.xlsx`` and ``sgam import STUDY FILE.xlsx [--out NEW_STUDY]``."""
    parser.description = "Exchange the study's SGAM/ICT model with ICT architects as an Excel workbook."
    sub = parser.add_subparsers(dest="sgam_command", metavar="ACTION", required=True)
    p = sub.add_parser(
        "export",
        help="write the SGAM model to an Excel workbook",
        description="Write the study's SGAM model to FILE.xlsx: one sheet per object kind, headers from the "
        "schema with units and descriptions as comments, drop-down lists for enumerations.",
    )
    p.add_argument("study", help="study file (YAML or JSON)")
    p.add_argument("file", help="workbook to write (.xlsx)")
    p = sub.add_parser(
        "import",
        help="read an edited workbook back into the study",
        description="Read FILE.xlsx (written by 'sgam export', possibly edited in Excel or LibreOffice), "
        "validate it, and store it as the study's SGAM model. Errors name sheet, row and column.",
    )
    p.add_argument("study", help="study file (YAML or JSON) to update")
    p.add_argument("file", help="workbook to read (.xlsx)")
    p.add_argument("--out", help="write the updated study here instead of overwriting STUDY")
    return sub
