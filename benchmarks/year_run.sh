#!/usr/bin/env bash
# The default study's full-year simulation for issue 17 (docs/cba.md, "The full-year run"), resumable
# across sessions. Runs benchmarks/repdays_error.py from a pinned commit's worktree (CODE) into RESULTS,
# in the order: the 4/8/12/16 representative days, then evenly spaced samples of 25, 49, 92, 183 days,
# then the rest. Yields the CPU to everything else: a setsid job is its own scheduler autogroup, so
# `nice` alone does not lower it; the autogroup's own nice does.
# Usage: [EXTRA=5,29,120] nohup setsid benchmarks/year_run.sh CODE RESULTS > LOG 2>&1 &
set -euo pipefail
CODE=${1:?pinned worktree}; RESULTS=${2:?results folder}
echo 19 > /proc/self/autogroup 2>/dev/null || true
PY=${PY:-/work/main/.venv/bin/python}
cd "$CODE"
# EXTRA (optional): more days to simulate right after the representative days, e.g. another selection's
for days in repdays:4,8,12,16 ${EXTRA:+$EXTRA} sample:25 sample:49 sample:92 sample:183 all; do
  echo "== $days $(date -u +%FT%TZ)"
  "$PY" benchmarks/repdays_error.py simulate --results "$RESULTS" --days "$days" --processes 2
done
echo "== done $(date -u +%FT%TZ)"
