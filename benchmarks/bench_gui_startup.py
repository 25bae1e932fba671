"""Benchmark: start-up of the desktop application to a usable window with the default study.

Each sample is a fresh Python process (imports are most of the cost, so an in-process loop would
flatter the figure). The child measures from its first line (before importing PySide6, matplotlib and
the domain packages) to the moment the main window is shown on the embedded default study with the
live ICT cost computed, the explorer filled and the first event-loop pass done. The interpreter's own
start (about 20 ms) is not included. Target (issue 7): under 3 s. Offscreen platform.

Usage: ``.venv/bin/python benchmarks/bench_gui_startup.py [--runs N]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import time
t0 = time.perf_counter()
import os, sys
sys.path.insert(0, {root!r})
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from PySide6.QtCore import QStandardPaths
QStandardPaths.setTestModeEnabled(True)
from coordstudio.gui.app import _ensure_app
app = _ensure_app()
from coordstudio.gui.mainwindow import MainWindow
w = MainWindow(offer_recovery=False, restore_state=False)
w.show()
from coordstudio.gui.qtcompat import process_events
process_events()
t1 = time.perf_counter()
assert w.ict.costs, "ICT cost not computed"
assert w.explorer.topLevelItemCount() > 5
print(t1 - t0)
w.doc.undo_stack.setClean()
"""


def sample() -> float:
    """One start-up time in seconds (fresh process)."""
    out = subprocess.run(
        [sys.executable, "-c", CHILD.format(root=str(ROOT))],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    return float(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    sample()  # warm the OS file cache
    times = [sample() for _ in range(args.runs)]
    report = {
        "benchmark": "gui start-up to usable window, default study",
        "runs": args.runs,
        "median_s": statistics.median(times),
        "min_s": min(times),
        "max_s": max(times),
        "target_s": 3.0,
        "date": time.strftime("%Y-%m-%d"),
        "cpus": os.cpu_count(),
    }
    print(json.dumps(report, indent=2))
    return 0 if report["median_s"] < 3.0 else 1


if __name__ == "__main__":
    sys.exit(main())
