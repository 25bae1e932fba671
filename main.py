"""Coordination Studio entry point: the desktop application by default, subcommands for headless work.

``coordstudio`` (console script) and ``coordstudio-gui`` (GUI script) both land here. Every subcommand
maps the project's typed errors (bad input: a study file, a scenario, a market case, an unreachable
solver) to one line on stderr and exit code 2; an unexpected bug exits with code 1, a hint to report it,
and the traceback saved to a file instead of thrown at the user.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import importlib.util
import logging
import os
import sys
import tempfile
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

__version__ = "0.1.0"

EXIT_OK = 0
EXIT_BUG = 1
EXIT_BAD_INPUT = 2
EXIT_NOT_ASSESSED = 3  # the study ran and its outputs are written, but a scheme is not assessed
EXIT_CANCELLED = 130

#: Packages that contribute subcommands through a ``register(subparsers)`` function in their ``cli`` module.
PLUGIN_CLI_MODULES: tuple[str, ...] = (
    "coordstudio.simulation.market.cli",
    "coordstudio.simulation.cli",
    "coordstudio.simulation.scale_cli",
    "coordstudio.sgam.cli",
    "coordstudio.cba.cli",
    "coordstudio.cba.ict_cli",
    "coordstudio.cba.ictcheck_cli",
    "coordstudio.cba.sweep_cli",
    "coordstudio.cba.figures_cli",
)


#: OS errors that mean a problem with the user's files or disk, not a bug (exit code 2).
_FILE_PROBLEMS = frozenset({
    errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOTDIR, errno.EISDIR,
    errno.EEXIST, errno.ENOENT, errno.ENAMETOOLONG, errno.EFBIG, errno.EMFILE,
})


def _user_errors() -> tuple[type[BaseException], ...]:
    """The exception classes that mean 'bad input', collected from every package."""
    from coordstudio.cba.errors import CbaError, StudyError
    from coordstudio.sgam.errors import SgamError
    from coordstudio.simulation.errors import SimulationError

    return (StudyError, CbaError, SgamError, SimulationError)


# --------------------------------------------------------------------------------------------- commands


def cmd_validate(args: argparse.Namespace) -> int:
    """Load and validate a study; print a short summary."""
    from coordstudio.cba.study_file import load_study, study_summary

    study = load_study(Path(args.study))
    print(f"{args.study}: valid study (schema_version {study.schema_version})")
    for line in study_summary(study):
        print(f"  {line}")
    return EXIT_OK


def cmd_new(args: argparse.Namespace) -> int:
    """Write the embedded default study to FILE (YAML or JSON by extension)."""
    from coordstudio.cba.study_file import default_study, save_study

    path = Path(args.file)
    if path.exists() and not args.force:
        print(f"error: {path} exists; pass --force to overwrite it", file=sys.stderr)
        return EXIT_BAD_INPUT
    save_study(default_study(), path)
    print(f"wrote the default study to {path}; edit it, then: coordstudio validate {path}")
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    """Run the whole chain (ICT cost, simulation, CBA, report) on a study, or resume an interrupted one."""
    from coordstudio.cba.figures import parse_formats, write_results_figures
    from coordstudio.cba.study import ConsoleProgress, default_study, load_study, run_study
    from coordstudio.simulation.progress import RunCancelled, SignalCancel

    formats = parse_formats(args.figures, "--figures")  # a bad format fails now, not after the simulation

    study = default_study() if args.study is None else load_study(Path(args.study))
    if args.days is not None:
        if not 0 <= args.days <= 365:
            print(f"error: --days {args.days}: must be 0 (the study's one day) to 365", file=sys.stderr)
            return EXIT_BAD_INPUT
        stress = study.scenario.profiles.stress_days
        if 0 < args.days <= stress:
            print(f"error: --days {args.days}: must exceed the study's scenario.profiles.stress_days "
                  f"({stress}), the days drawn from the stress stratum", file=sys.stderr)
            return EXIT_BAD_INPUT
        profiles = study.scenario.profiles.model_copy(update={"representative_days": args.days})
        scenario = study.scenario.model_copy(update={"profiles": profiles})
        study = study.model_copy(update={"scenario": scenario})
    if args.seed_replicates is not None:
        if not 1 <= args.seed_replicates <= 100:
            print(f"error: --seed-replicates {args.seed_replicates}: must be 1 (the study's seed alone) to "
                  "100", file=sys.stderr)
            return EXIT_BAD_INPUT
        profiles = study.scenario.profiles.model_copy(update={"seed_replicates": args.seed_replicates})
        scenario = study.scenario.model_copy(update={"profiles": profiles})
        study = study.model_copy(update={"scenario": scenario})
    schemes = None
    if args.schemes:
        schemes = [s.strip() for s in args.schemes.split(",") if s.strip()]
    if args.resume is not None and args.out is not None and Path(args.out) != Path(args.resume):
        print(f"error: --out {args.out} and --resume {args.resume} name different folders; "
              "a resumed run writes its outputs where it started", file=sys.stderr)
        return EXIT_BAD_INPUT
    out = Path(args.resume if args.resume is not None else (args.out or "out"))
    # the first Ctrl-C asks the run to stop at its next step (runs marked cancelled), the second interrupts
    with ConsoleProgress(quiet=args.quiet) as console, SignalCancel(console) as progress:
        try:
            result = run_study(
                study, progress, out_dir=out, db_url=args.db, schemes=schemes, resume=args.resume is not None
            )
        except RunCancelled as exc:
            study_arg = args.study or ""
            raise RunCancelled(
                f"{exc}; finish it with: coordstudio run {study_arg + ' ' if study_arg else ''}"
                f"{'--db URL ' if args.db else ''}{f'--days {args.days} ' if args.days is not None else ''}"
                f"{f'--seed-replicates {args.seed_replicates} ' if args.seed_replicates is not None else ''}"
                f"--resume {out}"
            ) from None
    run_days = None
    if formats:  # several representative days: each day's runs, weighted as the CBA weights them (as the GUI)
        from coordstudio.cba.price_components import figure_run_days

        run_days = figure_run_days(study, args.db or f"sqlite:///{(out / 'results.sqlite').resolve()}")
    write_results_figures(out, out, formats, db_url=args.db, run_days=run_days or None)  # docs/figures.md
    print()
    print(result.summary_table())
    from coordstudio.cba.study import break_even_lines

    for text in break_even_lines(result.cba):
        print(text)
    print(f"\noutputs written to {out}/")
    from coordstudio.cba.assessment import not_assessed_line

    line = not_assessed_line(result.assessments())
    if line:
        print(f"warning: {line}", file=sys.stderr)
        return EXIT_NOT_ASSESSED
    return EXIT_OK


def cmd_schema(args: argparse.Namespace) -> int:
    """Write the study file's JSON Schema to FILE, or print it."""
    from coordstudio.cba.fileio import atomic_write_text
    from coordstudio.cba.study_schema import study_schema_text

    text = study_schema_text()
    if args.file is None:
        sys.stdout.write(text)
        return EXIT_OK
    atomic_write_text(Path(args.file), text)
    print(f"wrote the study file's JSON Schema to {args.file}")
    return EXIT_OK


def cmd_check_solvers(args: argparse.Namespace) -> int:
    """List the optimisation solvers Pyomo can reach on this machine."""
    from coordstudio.cba.study import solver_report

    rows, default = solver_report()
    width = max(len(name) for name, _, _ in rows)
    for name, ok, note in rows:
        print(f"  {name:<{width}}  {'available' if ok else 'not available':<13}  {note}")
    print(f"\ndefault solver: {default}")
    return EXIT_OK


def cmd_gui(args: argparse.Namespace) -> int:
    """Open the desktop application (optionally on a study, or render screenshots)."""
    if importlib.util.find_spec("PySide6") is None:
        print("error: the desktop application needs PySide6, which this installation does not have: "
              "pip install 'coordination-studio[gui]' (every other command works without it)",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    headless = os.environ.get("QT_QPA_PLATFORM", "") in ("offscreen", "minimal", "vnc")
    if (args.screenshots is None and not headless and sys.platform.startswith("linux")
            and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY")):
        # Qt would abort (exit 134) trying to reach a display; say so in one line instead
        print("error: no display for the desktop application (DISPLAY and WAYLAND_DISPLAY are unset); "
              "run it on a desktop or under xvfb-run, or use the headless commands "
              "(coordstudio run STUDY --out DIR)", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        app_module = importlib.import_module("coordstudio.gui.app")
    except ImportError as exc:  # pragma: no cover - only when PySide6 is broken
        print(f"error: the desktop application cannot start: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    run_gui: Callable[..., int] = app_module.run_gui
    return run_gui(study_path=args.study, screenshots_dir=args.screenshots)


# ------------------------------------------------------------------------------------------------ parser


class _DefaultsFormatter(argparse.RawDescriptionHelpFormatter):
    """Help text that shows each option's default, except where there is none to show (None, False)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        shown = "default" in text.lower() or not action.option_strings
        if shown or default is None or default is argparse.SUPPRESS or isinstance(default, bool):
            return text
        return f"{text} (default: %(default)s)"


class _OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (exit code 2), like every other bad input.

    ``add_subparsers`` makes the subcommands' parsers of the same class, so every subcommand follows, and
    every ``--help`` shows the options' defaults (:class:`_DefaultsFormatter`).
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("formatter_class", _DefaultsFormatter)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"error: {self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand (plugins from the packages included)."""
    parser = _OneLineParser(
        prog="coordstudio",
        description=(
            "Coordination Studio: TSO-DSO coordination studies. Model each coordination scheme's ICT on "
            "the SGAM, simulate the real-time ancillary-services markets and grids, and rank the schemes "
            "by cost-benefit analysis. Without a subcommand the desktop application opens."
        ),
        epilog="Start with:  coordstudio new my_study.yaml && coordstudio run my_study.yaml --out out",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _add_logging_options(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("gui", help="open the desktop application (the default)",
                       description="Open the desktop application, optionally on STUDY.")
    p.add_argument("study", nargs="?", help="study file to open (YAML or JSON)")
    p.add_argument("--screenshots", metavar="DIR",
                   help="render each main view of the study to PNG files in DIR and exit")
    p.set_defaults(func=cmd_gui)

    p = sub.add_parser(
        "run", help="run the whole study headless: ICT cost, simulation, CBA, report",
        description=(
            "Run the full chain on STUDY (or the embedded default study when STUDY is omitted): ICT cost "
            "per scheme, the market/grid simulation of every scheme, the cost-benefit analysis, and write "
            "the results database, kpis.csv, report.xlsx, recommendations and charts to --out."
        ),
    )
    p.add_argument("study", nargs="?", help="study file (YAML or JSON); default: the embedded study")
    p.add_argument("--out", default=None, help="output folder (created if missing; default: out)")
    p.add_argument("--schemes", help="comma-separated schemes to simulate, e.g. CMS,CM (default: all)")
    p.add_argument("--days", type=int, metavar="N", default=None,
                   help="representative days to simulate, chosen from the profile year by tsam "
                        "(0: the study's one day_of_year; default: the study's profiles.representative_days)")
    p.add_argument("--seed-replicates", type=int, metavar="K", default=None,
                   help="simulate each day K times, with the seeds seed .. seed+K-1, each replicate a day "
                        "of its own with 1/K of the day's weight; the CBA's Monte Carlo resamples them "
                        "(default: the study's profiles.seed_replicates, 1)")
    p.add_argument("--resume", metavar="DIR",
                   help="complete the interrupted run in DIR: reuse its results database, simulate only the "
                        "schemes (with representative days: the schemes on each day) whose run there is "
                        "missing or not completed, then write every output to DIR; pass the same --days and "
                        "--seed-replicates")
    p.add_argument("--db", metavar="URL",
                   help="results database URL (default: a SQLite file in --out), e.g. "
                        "postgresql+psycopg://user@host/db")
    p.add_argument("--quiet", action="store_true",
                   help="no progress bars or lines: stdout holds the summary only (docs/cli.md)")
    p.add_argument("--figures", default="png,svg", metavar="FORMATS",
                   help="formats of the figures written to --out (docs/figures.md): png, svg, or none")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("validate", help="check a study file and report the first problem",
                       description="Load STUDY, check its schema, references and values, and print a "
                                   "summary. Exit code 2 and one line naming the field if it is invalid.")
    p.add_argument("study", help="study file (YAML or JSON)")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("new", help="write the embedded default study to a file, ready to edit",
                       description="Write the embedded default study to FILE (.yaml, .yml or .json).")
    p.add_argument("file", help="file to write")
    p.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    p.set_defaults(func=cmd_new)

    p = sub.add_parser("schema", help="write the study file's JSON Schema (for editors) to a file or stdout",
                       description="Write the JSON Schema of the study file, generated from the model "
                                   "that validates studies, so an editor can check and complete study "
                                   "files (docs/study-schema.md); it ships as cba/data/study.schema.json.")
    p.add_argument("file", nargs="?", help="file to write (default: print to stdout)")
    p.set_defaults(func=cmd_schema)

    p = sub.add_parser("check-solvers", help="list the optimisation solvers reachable here",
                       description="List which solvers Pyomo can reach on this machine and which one "
                                   "the market clearing uses by default.")
    p.set_defaults(func=cmd_check_solvers)

    for module_name in PLUGIN_CLI_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                continue  # the package has no command-line part
            print(f"warning: the subcommands of {module_name} are unavailable: {exc}", file=sys.stderr)
            continue
        register = getattr(module, "register", None)
        if register is not None:
            register(sub)
    for child in _every_subparser(parser):  # every command takes -v and --log-file
        if "--log-file" not in child._option_string_actions:
            _add_logging_options(child, top=False)
    return parser


#: Log level of the console per ``-v`` given (none: warnings only; ``-v``: what each phase did; ``-vv``: all).
_CONSOLE_LEVELS = (logging.WARNING, logging.INFO, logging.DEBUG)
_LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
#: Top-level logger names of this project (before and after the import rename to ``coordstudio.*``).
_OWN_LOGGERS = frozenset({"coordstudio", "main", "gui", "sgam", "simulation", "cba", "__main__"})


def _add_logging_options(parser: argparse.ArgumentParser, top: bool) -> None:
    """``-v/--verbose`` and ``--log-file`` on ``parser``.

    The top-level parser holds the defaults; a subcommand's options default to ``SUPPRESS`` so that
    ``coordstudio -v run`` and ``coordstudio run -v`` both work and neither erases the other."""
    parser.add_argument(
        "-v", "--verbose", action="count", default=0 if top else argparse.SUPPRESS,
        help="log what the computation does on stderr: -v each phase and scheme (INFO), -vv everything "
             "(DEBUG); default: warnings only",
    )
    parser.add_argument(
        "--log-file", metavar="PATH", default=None if top else argparse.SUPPRESS,
        help="also append the log records to PATH (at INFO, or DEBUG with -vv), with time and module",
    )


def _every_subparser(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """The parsers of every subcommand under ``parser``, nested ones (``sgam import``) included."""
    found: list[argparse.ArgumentParser] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                if all(child is not seen for seen in found):
                    found.append(child)
                    found.extend(_every_subparser(child))
    return found


def configure_logging(verbose: int, log_file: str | None) -> list[logging.Handler]:
    """Handlers on the root logger for one command: the console (stderr, above any progress bars) at the
    ``-v`` level, and ``log_file`` at INFO or lower. The library modules only create loggers
    (``logging.getLogger(__name__)``); this is the one place that decides where records go. Returns the
    handlers added, so :func:`main` removes them when the command ends (a test may call main() many
    times in one process)."""
    from coordstudio.simulation.console_progress import ConsoleLogHandler

    level = _CONSOLE_LEVELS[min(max(verbose, 0), len(_CONSOLE_LEVELS) - 1)]
    console = ConsoleLogHandler()
    console.setLevel(level)
    console.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handlers: list[logging.Handler] = [console]
    if log_file:
        try:
            file_handler = logging.FileHandler(log_file, encoding="utf-8")
        except OSError as exc:
            raise OSError(exc.errno, exc.strerror, log_file) from None
        file_handler.setLevel(min(level, logging.INFO))
        file_handler.setFormatter(logging.Formatter(_LOG_FORMAT))
        handlers.append(file_handler)
    if level > logging.DEBUG:
        for handler in handlers:
            handler.addFilter(_own_records_below_warning)
    root = logging.getLogger()
    root.setLevel(min(h.level for h in handlers))
    for handler in handlers:
        root.addHandler(handler)
    return handlers


def _own_records_below_warning(record: logging.LogRecord) -> bool:
    """Below WARNING, only the project's own records: the libraries' INFO chatter (matplotlib's font
    cache, numba, distributed's cluster start-up) shows at -vv only."""
    return record.levelno >= logging.WARNING or record.name.split(".")[0] in _OWN_LOGGERS


def _study_as_gui(argv: list[str], commands: set[str]) -> list[str]:
    """``coordstudio [OPTIONS] STUDY [...]`` as ``coordstudio [OPTIONS] gui STUDY [...]``.

    The README's ``coordstudio STUDY`` opens a study in the desktop application: the first positional
    argument, when it is no command and names a study file (by extension, or an existing file), is the
    study of ``gui``."""
    takes_value = {"--log-file"}
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in takes_value:
            i += 2
            continue
        if arg.startswith("-"):
            i += 1
            continue
        is_study = Path(arg).suffix.lower() in (".yaml", ".yml", ".json") or Path(arg).is_file()
        if arg not in commands and is_study:
            return [*argv[:i], "gui", *argv[i:]]
        return argv
    return argv


def _to_log_file(handlers: Sequence[logging.Handler], level: int, message: str) -> None:
    """A record of how the command ended, for the log file only: the console already has its one line."""
    record = logging.LogRecord("coordstudio", level, __file__, 0, message, None, None)
    for handler in handlers:
        if isinstance(handler, logging.FileHandler) and record.levelno >= handler.level:
            handler.handle(record)


def _save_traceback(exc: BaseException) -> Path:
    """Write the current traceback (and a worker process's own, when the error carries one) to a file."""
    fd, name = tempfile.mkstemp(prefix="coordstudio-crash-", suffix=".txt")
    with os.fdopen(fd, "w") as fh:
        fh.write(traceback.format_exc())
        worker = getattr(exc, "worker_traceback", None)
        if isinstance(worker, str):
            fh.write("\nTraceback in the worker process:\n" + worker)
    return Path(name)


def _one_line(text: object, limit: int = 300) -> str:
    """``text`` on one line, at most ``limit`` characters (an error may quote a whole file)."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line, run the subcommand, and turn errors into exit codes."""
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    commands = {name for child in parser._actions if isinstance(child, argparse._SubParsersAction)
                for name in child.choices}
    argv = _study_as_gui(argv, commands)  # `coordstudio STUDY.yaml` opens the study in the desktop app
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["gui", *(argv or [])])
    user_errors = _user_errors()
    from coordstudio.simulation.progress import RunCancelled

    handlers: list[logging.Handler] = []
    root_level = logging.getLogger().level
    try:
        handlers = configure_logging(args.verbose, args.log_file)
        logging.getLogger(__name__).info("coordstudio %s: %s", __version__, " ".join(argv))
        code: int = args.func(args)
        _to_log_file(handlers, logging.INFO, f"exit code {code}")
        return code
    except user_errors as exc:
        print(f"error: {_one_line(exc, 2000)}", file=sys.stderr)
        _to_log_file(handlers, logging.ERROR, f"exit code {EXIT_BAD_INPUT}: {_one_line(exc, 2000)}")
        return EXIT_BAD_INPUT
    except RunCancelled as exc:
        print(str(exc) or "cancelled", file=sys.stderr)
        _to_log_file(handlers, logging.WARNING, f"exit code {EXIT_CANCELLED}: {exc or 'cancelled'}")
        return EXIT_CANCELLED
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        _to_log_file(handlers, logging.WARNING, f"exit code {EXIT_CANCELLED}: interrupted")
        return EXIT_CANCELLED
    except Exception as exc:  # noqa: BLE001 - the last line of defence: no traceback for users
        if isinstance(exc, OSError) and exc.errno in _FILE_PROBLEMS:
            # a file problem outside the packages' writers (their OutputError is caught above): one line
            where = exc.filename if exc.filename is not None else "a file"
            print(f"error: {where}: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_BAD_INPUT
        path = _save_traceback(exc)
        _to_log_file(handlers, logging.ERROR,
                     f"exit code {EXIT_BUG}: {type(exc).__name__}: {_one_line(exc)}; traceback in {path}")
        print(
            f"internal error: {type(exc).__name__}: {_one_line(exc)}; this is a bug in Coordination "
            f"Studio, please report it with the traceback saved in {path}",
            file=sys.stderr,
        )
        return EXIT_BUG
    finally:
        for handler in handlers:
            logging.getLogger().removeHandler(handler)
            handler.close()
        logging.getLogger().setLevel(root_level)


def gui_main() -> int:
    """Entry of the ``coordstudio-gui`` script: the desktop application."""
    return main(["gui", *sys.argv[1:]])


if __name__ == "__main__":
    sys.exit(main())
