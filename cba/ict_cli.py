"""Subcommands ``ict`` and ``sgam export|import``: the SGAM/ICT model of a study, headless.

They live in ``cba`` because they load a study file (``cba.study_file``) and take the endpoint counts from the
study's scenario (``simulation.scenario``), which ``sgam`` may not import. The work itself is done by
``sgam.cli``'s functions.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def cmd_ict(args: argparse.Namespace) -> int:
    """``ict STUDY --out DIR``: ICT cost breakdowns (CSV) and SGAM plane figures (PNG)."""
    from coordstudio.cba.study_file import load_study
    from coordstudio.sgam.cli import format_summary, ict_command, library_model
    from coordstudio.simulation.scenario import endpoint_counts

    study = load_study(Path(args.study))
    model = library_model(getattr(args, "library", None), study.sgam)
    result = ict_command(
        model,
        endpoint_counts(study.scenario),
        study.cba.horizon_years,
        study.cba.discount_rate,
        args.out,
        figures=not args.no_figures,
    )
    if not args.no_figures:  # the ICT view's cost charts too, drawn by the GUI's functions (docs/figures.md)
        from coordstudio.cba.figures import ict_figure_jobs, write_jobs

        names = {t.id: t.name or t.id for t in model.technologies}
        names.update({c.id: f"{c.name or c.id} (component)" for c in model.components})
        write_jobs(ict_figure_jobs(result.costs, names), args.out)
    print(format_summary(result.costs))
    print(f"\nICT cost breakdowns, cost charts and SGAM planes written to {args.out}/")
    return 0


def cmd_sgam_export(args: argparse.Namespace) -> int:
    """``sgam export STUDY FILE.xlsx``."""
    from coordstudio.cba.study_file import load_study
    from coordstudio.sgam.cli import export_command

    path = export_command(load_study(Path(args.study)).sgam, args.file)
    print(f"wrote the SGAM/ICT model to {path}")
    return 0


def imported_study_path(study: Path) -> Path:
    """Where ``sgam import`` writes without ``--out`` or ``--in-place``: ``STEM-imported.SUFFIX`` beside
    STUDY, so an import never overwrites the study it read unless asked to."""
    return study.with_name(f"{study.stem}-imported{study.suffix}")


def cmd_sgam_import(args: argparse.Namespace) -> int:
    """``sgam import STUDY FILE.xlsx|DIR [--out NEW | --in-place]``: the study with the workbook's (or the
    library folder's) SGAM/ICT model, written as STUDY's own text edited where the model changed
    (:mod:`cba.study_update`: comments, key order and layout kept)."""
    from coordstudio.cba.errors import StudyError
    from coordstudio.cba.study_file import load_study
    from coordstudio.cba.study_update import UpdateMethod, write_updated_study
    from coordstudio.sgam.cli import import_command

    source = Path(args.study)
    if args.in_place and args.out:
        raise StudyError(f"--out {args.out} and --in-place: give one of them (--in-place rewrites {source})")
    if args.in_place:
        target = source
    elif args.out:
        target = Path(args.out)
    else:
        target = imported_study_path(source)
        if target.exists() and not args.force:
            raise StudyError(f"{target} exists; pass --force to overwrite it, --out NEW to write elsewhere, "
                             f"or --in-place to update {source} itself")
    old = load_study(source)
    new = old.model_copy(update={"sgam": import_command(args.file)})
    method = write_updated_study(source, target, old, new)
    how = {
        UpdateMethod.SPLICED: "only the changed values rewritten; comments and layout kept",
        UpdateMethod.BLOCKS: "the changed values and the lists whose rows changed rewritten; comments "
                             "and layout kept elsewhere",
        UpdateMethod.ROUND_TRIP: "comments and key order kept; long lines may be re-wrapped",
        UpdateMethod.REWRITTEN: "written afresh: the file's comments could not be kept",
        UpdateMethod.OVERLAY: "written afresh as an overlay of the same base: only what differs from it; "
                              "the file's comments could not be kept",
    }[method]
    print(f"imported {args.file} into {target} ({how})")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``ict`` and ``sgam`` to the main parser."""
    from coordstudio.sgam.cli import add_ict_arguments, add_sgam_arguments

    p = subparsers.add_parser("ict", help="ICT cost per scheme and SGAM plane figures of a study")
    add_ict_arguments(p)
    p.set_defaults(func=cmd_ict)

    p = subparsers.add_parser("sgam", help="export/import the SGAM/ICT model as an Excel workbook")
    actions = add_sgam_arguments(p)
    actions.choices["export"].set_defaults(func=cmd_sgam_export)
    actions.choices["import"].set_defaults(func=cmd_sgam_import)
