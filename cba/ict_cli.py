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
    result = ict_command(
        library_model(getattr(args, "library", None), study.sgam),
        endpoint_counts(study.scenario),
        study.cba.horizon_years,
        study.cba.discount_rate,
        args.out,
        figures=not args.no_figures,
    )
    print(format_summary(result.costs))
    print(f"\nICT cost breakdowns and SGAM planes written to {args.out}/")
    return 0


def cmd_sgam_export(args: argparse.Namespace) -> int:
    """``sgam export STUDY FILE.xlsx``."""
    from coordstudio.cba.study_file import load_study
    from coordstudio.sgam.cli import export_command

    path = export_command(load_study(Path(args.study)).sgam, args.file)
    print(f"wrote the SGAM/ICT model to {path}")
    return 0


def cmd_sgam_import(args: argparse.Namespace) -> int:
    """``sgam import STUDY FILE.xlsx [--out NEW]``: replace the study's SGAM model by the workbook's."""
    from coordstudio.cba.study_file import load_study, save_study
    from coordstudio.sgam.cli import import_command

    study = load_study(Path(args.study))
    study.sgam = import_command(args.file)
    target = Path(args.out) if getattr(args, "out", None) else Path(args.study)
    save_study(study, target)
    print(f"imported {args.file} into {target}")
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
