"""The command line: every subcommand documents itself, plugins load, solver report is real."""

from __future__ import annotations

import argparse

import pytest

from coordstudio import main


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = main.build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise AssertionError("no subcommands")


def test_every_plugin_module_loads(capsys) -> None:
    """A plugin that fails to import only warns at start-up; here it must not happen at all."""
    main.build_parser()
    assert "warning" not in capsys.readouterr().err


def test_core_and_plugin_subcommands_present() -> None:
    names = set(_subcommands())
    assert {"gui", "run", "validate", "new", "check-solvers", "clear", "ict", "cba", "ict-check"} <= names


@pytest.mark.parametrize("name", sorted(_subcommands()))
def test_subcommand_help_explains_itself(name: str, capsys) -> None:
    """``COMMAND --help`` exits 0 and says in words what the command does (not just the usage line)."""
    with pytest.raises(SystemExit) as info:
        main.main([name, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: coordstudio {name}")
    body = out.split("\n\n", 1)[1]
    assert len(body.split()) >= 8, out


def test_version(capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main.main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"coordstudio {main.__version__}"


def test_check_solvers_reports_highs_as_default_and_available(capsys) -> None:
    """HiGHS is a hard dependency (highspy), so it must be reachable and the default."""
    assert main.main(["check-solvers"]) == 0
    out = capsys.readouterr().out
    highs_line = next(line for line in out.splitlines() if line.strip().startswith("highs"))
    assert "not available" not in highs_line and "available" in highs_line
    assert out.strip().endswith("default solver: highs")


def test_unexpected_bug_exits_1_with_hint(monkeypatch, capsys) -> None:
    """A bug (not bad input) exits 1, names the exception and saves the traceback to a file."""
    def boom(_args):
        raise ZeroDivisionError("planted")

    monkeypatch.setattr(main, "cmd_validate", boom)
    assert main.main(["validate", "x.yaml"]) == 1
    err = capsys.readouterr().err
    assert "internal error: ZeroDivisionError: planted" in err
    path = err.rsplit("saved in ", 1)[1].strip().rstrip(".")
    with open(path) as fh:
        assert "ZeroDivisionError" in fh.read()
