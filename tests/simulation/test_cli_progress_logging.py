"""The command line's progress and logging, the way a user meets them (issue 19, section 4).

* On a terminal, ``simulate`` draws one bar per running scheme (a pseudo-terminal stands in for the
  user's terminal: the command's stderr is its slave side, sized 100 x 24 like a window), with ``-v``'s
  log records above the bars, and ``--log-file`` holds the same records with time and module.
* Off a terminal (a CI log), the same progress reports give a line per quarter of each scheme on stdout
  (stderr stays for warnings and the one line of a refusal): counted by hand for 2 schemes x 48 steps.
* ``-v`` and ``--log-file`` exist on every command, before or after its name; ``coordstudio STUDY`` opens
  STUDY in the desktop application, as the README says.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import select
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from sim_fixtures import small_spec

from coordstudio import main
from coordstudio.simulation.console_progress import ConsoleProgress
from coordstudio.simulation.progress import parse_counted, step_message

ROOT = Path(__file__).resolve().parents[2]


def _run_on_a_terminal(cmd: list[str], cwd: Path) -> tuple[int, str, str]:
    """Run ``cmd`` with its stderr on a 100 x 24 pseudo-terminal and stdout on a pipe; (rc, stdout,
    what the terminal received)."""
    import fcntl
    import pty
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=slave, cwd=cwd, env=env)
    os.close(slave)
    received = b""
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the slave side closed: the process ended
                break
            if not chunk:
                break
            received += chunk
        elif proc.poll() is not None:
            break
    os.close(master)
    assert proc.stdout is not None
    out = proc.stdout.read().decode()
    return proc.wait(timeout=60), out, received.decode(errors="replace")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pseudo-terminals as on Linux")
def test_simulate_on_a_terminal_draws_a_bar_per_scheme_and_logs_at_v(tmp_path: Path) -> None:
    spec = small_spec(duration_h=1.0)
    steps = spec.timing.n_physical_steps
    study = tmp_path / "small.yaml"
    study.write_text(yaml.safe_dump({"scenario": spec.model_dump(mode="json")}))
    log = tmp_path / "run.log"
    rc, out, term = _run_on_a_terminal(
        [sys.executable, str(ROOT / "main.py"), "simulate", str(study), "--out", str(tmp_path / "o"),
         "--schemes", "CMS,LMS", "-v", "--log-file", str(log)],
        tmp_path,
    )
    assert rc == 0, term[-2000:]
    # one bar per scheme, finished: "CMS: 100%|█████| 4/4 [...]"
    for scheme in ("CMS", "LMS"):
        assert re.search(rf"{scheme}: 100%\|[^|\n]*\| {steps}/{steps} ", term), term[-2000:]
        assert f"{scheme}: step " not in term  # bars, not the plain lines of a log
    # -v: INFO on the console (module names with or without the coordstudio. prefix of an installed copy)
    assert re.search(r"INFO (coordstudio\.)?simulation\.simulate: scheme CMS: run completed", term), term
    # stdout: the KPI table and the paths, nothing else (no progress, no solver banner)
    assert out.lstrip().startswith("scheme") and "HiGHS" not in out and "%" not in out
    records = log.read_text().splitlines()
    stamp = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}"
    done = rf"{stamp} INFO    (coordstudio\.)?simulation\.simulate: scheme LMS: run completed"
    assert any(re.fullmatch(done, r) for r in records), records
    assert re.fullmatch(rf"{stamp} INFO    coordstudio: exit code 0", records[-1]), records


def test_off_a_terminal_a_line_per_quarter_of_each_scheme() -> None:
    """2 schemes x 48 steps, interleaved as the workers report: lines at steps 1 (first), 12, 24, 36 and
    48 (each quarter crossed) per scheme = 10, plus 2 phases = 12 lines (the old printer wrote one
    every 2 s); quiet writes nothing."""
    def feed(progress: ConsoleProgress) -> None:
        progress.report(0.0, "building the scenario")
        for k in range(1, 49):
            for scheme in ("CMS", "LMS"):
                progress.report(k / 96, step_message(scheme, k, 48))
        progress.report(0.9, "cost-benefit analysis")

    log = io.StringIO()
    with ConsoleProgress(line_stream=log, bars=False, line_interval_s=1e9) as progress:
        feed(progress)
    lines = log.getvalue().splitlines()
    assert len(lines) == 12, lines
    steps = [int(m.group(1)) for line in lines if (m := re.search(r"CMS: step (\d+)/48$", line))]
    assert steps == [1, 12, 24, 36, 48]
    assert all(re.match(r"\[ *\d+\.\d % +\d+\.\d s\] ", line) for line in lines)
    quiet = io.StringIO()
    with ConsoleProgress(quiet=True, stream=quiet, line_stream=quiet) as progress:
        feed(progress)
    assert quiet.getvalue() == ""


def test_counted_messages_are_the_ones_the_computation_writes() -> None:
    """The bars read the messages simulation.run and simulation.sweep write; phases are not counted."""
    assert parse_counted(step_message("CM-D", 9, 48)) == ("CM-D", 9, 48)
    assert parse_counted("sweep: 3/10 runs (CMS|base|d1)") == ("sweep", 3, 10)
    assert parse_counted("day 2/3: d045 (peak, 120.0 days/a)") is None
    assert parse_counted("SBR: local market F1 cleared") is None


def _subparsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                found += [child, *_subparsers(child)]
    return found


def test_every_command_takes_verbose_and_log_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parser = main.build_parser()
    lacking = [p.prog for p in _subparsers(parser)
               if not {"-v", "--verbose", "--log-file"} <= set(p._option_string_actions)]
    assert lacking == []
    study = tmp_path / "s.yaml"
    assert main.main(["new", str(study)]) == 0
    capsys.readouterr()
    log = tmp_path / "v.log"
    assert main.main(["validate", str(study)]) == 0
    assert "INFO" not in capsys.readouterr().err  # no -v: warnings only
    # -v before the command name, --log-file after it: both count
    assert main.main(["-v", "validate", str(study), "--log-file", str(log)]) == 0
    err = capsys.readouterr().err
    version = re.escape(main.__version__)
    assert re.search(rf"INFO (coordstudio\.)?main: coordstudio {version}: -v validate", err), err
    assert main.main(["validate", str(tmp_path / "missing.yaml"), "--log-file", str(log)]) == 2
    text = log.read_text()
    assert "INFO    coordstudio: exit code 0" in text
    assert "ERROR   coordstudio: exit code 2: " in text and "missing.yaml" in text


def test_a_study_as_the_only_argument_opens_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """`coordstudio STUDY` (README): the desktop application on STUDY; without a display, its one line
    and exit 2. A study file without a study extension counts when it exists."""
    study = tmp_path / "s.yaml"
    assert main.main(["new", str(study)]) == 0
    for var in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(var, raising=False)
    capsys.readouterr()
    if sys.platform.startswith("linux"):
        assert main.main([str(study)]) == 2
        assert "no display" in capsys.readouterr().err
    opened: list[tuple[str, int]] = []
    monkeypatch.setattr(main, "cmd_gui", lambda args: opened.append((args.study, args.verbose)) or 0)
    plain = tmp_path / "my-study"
    plain.write_bytes(study.read_bytes())
    assert main.main([str(study)]) == 0
    assert main.main(["-v", str(plain)]) == 0
    assert main.main(["--log-file", str(tmp_path / "l.log"), str(study)]) == 0
    assert opened == [(str(study), 0), (str(plain), 1), (str(study), 0)]
