"""Processes tied to their parent, and whether the process that owns a run is still alive.

Why: a worker process (a scheme of :mod:`simulation.parallel`, the GUI's run process) whose parent is
killed with ``kill -9`` used to run on as an orphan, writing into the results database that nobody would
read, and its run row stayed ``running`` for ever. Two mechanisms end such a worker:

* Linux: ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` (through ctypes, no extra dependency): the kernel kills the
  worker the moment its parent dies;
* everywhere (and as a fallback if prctl is unavailable): a daemon thread compares ``os.getppid()`` with
  the parent's pid twice a second and ends the process when it changes (the worker was re-parented).

A run row names its owner as ``host:pid:start`` (:func:`owner_tag`); :func:`owner_alive` tells a reader
on the same host whether that process still exists, the start time guarding against a reused pid. On
another host (a shared PostgreSQL database) the answer is None and readers fall back on the heartbeat.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import socket
import sys
import threading
import time

PR_SET_PDEATHSIG = 1
"""``prctl`` option: the signal the kernel sends this process when its parent dies (linux/prctl.h)."""

WATCH_INTERVAL_S = 0.5
"""How often the fallback watchdog looks at the parent pid."""


def die_with_parent(parent_pid: int) -> None:
    """End this process when ``parent_pid`` (its parent) dies: prctl on Linux plus a watchdog thread.

    Call first thing in a child process. If the parent is already gone (it died between fork and this
    call), exit at once."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        except (OSError, AttributeError):  # no libc / no prctl: the watchdog below still works
            pass
    if os.getppid() != parent_pid:
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(WATCH_INTERVAL_S)
            if os.getppid() != parent_pid:
                os._exit(1)

    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()


def _start_ticks(pid: int) -> str:
    """The process's start time in clock ticks since boot (Linux ``/proc``), or "" where unknown."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            stat = fh.read()
    except OSError:
        return ""
    # the command name (field 2) is in parentheses and may hold spaces: split after its closing one
    fields = stat[stat.rfind(")") + 2 :].split()
    return fields[19] if len(fields) > 19 else ""  # field 22 of the whole line


def owner_tag(pid: int | None = None) -> str:
    """``host:pid:start`` of this process (or ``pid``), stored in the run row it is responsible for."""
    pid = os.getpid() if pid is None else pid
    return f"{socket.gethostname()}:{pid}:{_start_ticks(pid)}"


def owner_alive(tag: str | None) -> bool | None:
    """Whether the process named by an :func:`owner_tag` still runs: True/False on the same host, None
    when it cannot be told (another host, no tag)."""
    if not tag:
        return None
    parts = tag.split(":")
    if len(parts) < 3:
        return None
    host, pid_text, start = ":".join(parts[:-2]), parts[-2], parts[-1]
    if host != socket.gethostname():
        return None
    try:
        pid = int(pid_text)
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        pass
    except (ValueError, OSError):
        return None
    if start and _start_ticks(pid) not in ("", start):
        return False  # the pid was reused by a later process
    if _is_zombie(pid):
        return False
    return True


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            stat = fh.read()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2 :].startswith("Z")


__all__ = ["die_with_parent", "owner_alive", "owner_tag"]
