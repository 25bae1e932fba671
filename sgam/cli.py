"""Command-line handlers of the SGAM/ICT package, as plain functions over an :class:`SgamModel`.

``sgam`` may not import ``cba`` (which owns the study file) nor ``simulation`` (which owns the scenario's
endpoint counts), so these functions take the model and the numbers; ``main.py`` loads the study and calls:

* ``python main.py ict STUDY --out DIR`` -> :func:`ict_command` (CSV breakdowns and SGAM plane PNGs);
* ``python main.py sgam export STUDY FILE.xlsx`` -> :func:`export_command`;
* ``python main.py sgam import STUDY FILE.xlsx|LIBRARY_DIR`` -> :func:`import_command`, then the caller
  stores the returned model in the study;
* ``python main.py ict STUDY --library DIR`` -> :func:`library_model` replaces the study's model by an
  edited copy of the YAML library (``sgam.library``);
* ``python main.py sgam library DIR`` -> :func:`copy_library` writes that copy (no study needed).

:func:`add_ict_arguments` and :func:`add_sgam_arguments` add the documented arguments to argparse parsers so
the help text lives next to the handlers.
"""

from __future__ import annotations

import argparse
import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from coordstudio.sgam.costs import SchemeIctCost
from coordstudio.sgam.errors import SgamValidationError
from coordstudio.sgam.fileio import atomic_write_bytes, atomic_write_text, output_set, prepare_out_dir
from coordstudio.sgam.model import Layer, SgamModel


@dataclass
class IctCommandResult:
    """What :func:`ict_command` computed and wrote."""

    costs: dict[str, SchemeIctCost]
    files: list[Path] = field(default_factory=list)


def _write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[object]]) -> Path:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    atomic_write_text(path, buf.getvalue())
    return path


def write_cost_csvs(costs: Mapping[str, SchemeIctCost], out_dir: str | Path) -> list[Path]:
    """Write the ICT cost tables of every scheme to ``out_dir``; return the files written.

    Files: ``ict_summary.csv`` (one row per scheme), ``ict_lines.csv`` (every costed line),
    ``ict_by_actor.csv``, ``ict_by_role.csv``, ``ict_by_technology.csv``, ``ict_by_layer.csv`` (sums per
    group) and ``ict_unserved.csv`` (events no technology can serve, with the reason).
    """
    from coordstudio.sgam.matching import breakdown

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
    from coordstudio.sgam.matching import check_served, ict_costs

    prepare_out_dir(out_dir)  # a bad --out fails before the matching, with one line
    costs = ict_costs(model, endpoint_counts, horizon_years, discount_rate)
    with output_set(out_dir) as stage:  # all files or none: a failure leaves the previous set as it was
        write_cost_csvs(costs, stage.staging)
        if figures:
            from coordstudio.sgam.plane import draw_sgam_plane, save_figure

            chosen = [Layer(x) for x in layers] if layers else list(Layer)
            for scheme in costs:
                for layer in chosen:
                    fig = draw_sgam_plane(model, scheme, layer, costs=costs)
                    save_figure(fig, stage.path(f"sgam_{scheme}_{layer.value}.png"))
    files = stage.files
    if strict:
        check_served(costs)
    return IctCommandResult(costs=costs, files=files)


def export_command(model: SgamModel, xlsx_path: str | Path) -> Path:
    """Write the model to an Excel workbook for ICT architects (``sgam export``)."""
    from coordstudio.sgam.excel import export_workbook

    path = Path(xlsx_path)
    if path.suffix.lower() != ".xlsx":
        raise SgamValidationError(f"{path}: the workbook must have the extension .xlsx")
    return export_workbook(model, path)


def import_command(xlsx_path: str | Path) -> SgamModel:
    """Read an (edited) workbook or YAML library folder into a validated model (``sgam import``).

    The caller stores the returned model in the study.
    """
    path = Path(xlsx_path)
    if path.is_dir():
        from coordstudio.sgam.library import load_library

        return load_library(path)
    from coordstudio.sgam.excel import import_workbook

    return import_workbook(path)


def library_model(library_dir: str | Path | None, study_model: SgamModel) -> SgamModel:
    """The model ``ict`` works on: the YAML library in ``library_dir`` if given, else the study's own."""
    if library_dir is None:
        return study_model
    from coordstudio.sgam.library import load_library

    return load_library(library_dir)


def copy_library(target_dir: str | Path, *, force: bool = False) -> list[Path]:
    """Copy the default library's YAML files into ``target_dir`` for editing; return the files written."""
    from coordstudio.sgam.library import LIBRARY_DIR

    target = Path(target_dir)
    sources = sorted(LIBRARY_DIR.glob("*.yaml"))
    clashes = [target / src.name for src in sources if (target / src.name).exists()]
    if clashes and not force:
        raise SgamValidationError(f"{clashes[0]} exists; pass --force to overwrite the library files")
    prepare_out_dir(target)
    return [atomic_write_bytes(target / src.name, src.read_bytes()) for src in sources]


def cmd_copy_library(args: argparse.Namespace) -> int:
    """``sgam library DIR [--force]``: write a copy of the default YAML library to edit."""
    files = copy_library(args.dir, force=args.force)
    print(f"wrote the default SGAM/ICT library ({len(files)} YAML files) to {args.dir}/; edit them, then: "
          f"coordstudio ict STUDY --library {args.dir}")
    return 0


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
    parser.add_argument(
        "--library",
        metavar="DIR",
        help="use the SGAM/ICT library in this folder (YAML files, e.g. an edited copy written by "
        "'sgam library DIR') instead of the model stored in the study",
    )


def add_sgam_arguments(parser: argparse.ArgumentParser) -> argparse._SubParsersAction:  # type: ignore[type-arg]
    """Subcommands ``sgam export``, ``sgam import`` (workbook or library folder) and ``sgam library DIR``."""
    parser.description = (
        "Exchange the study's SGAM/ICT model with ICT architects as an Excel workbook or as the YAML library."
    )
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
        description="Read FILE.xlsx (written by 'sgam export', possibly edited in Excel or LibreOffice) or a "
        "YAML library folder (written by 'sgam library', possibly edited), validate it, and store it as the "
        "study's SGAM model. Errors name sheet, row and column, or file, line, object and field.",
    )
    p.add_argument("study", help="study file (YAML or JSON) to update")
    p.add_argument("file", help="workbook to read (.xlsx), or a library folder holding library.yaml")
    p.add_argument("--out", help="write the updated study here instead of overwriting STUDY")
    p = sub.add_parser(
        "library",
        help="write a copy of the default SGAM/ICT library (YAML) to edit",
        description="Copy the default SGAM/ICT library (library.yaml, common.yaml, one file per scheme, "
        "catalogue.yaml with the technologies' and components' costs and their sources) into DIR. Edit "
        "the files, then run 'ict STUDY --library DIR' or 'sgam import STUDY DIR'.",
    )
    p.add_argument("dir", help="folder to write the library files into")
    p.add_argument("--force", action="store_true", help="overwrite library files already in DIR")
    p.set_defaults(func=cmd_copy_library)
    return sub
