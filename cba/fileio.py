"""File writing for ``cba`` and the GUI: atomic writes, output folders, sets of output files.

``cba`` may import ``simulation`` (the layers point ``gui -> cba -> (sgam, simulation)``), so it uses the
simulation package's writer rather than a third copy of it: one implementation of the atomic write
(temporary file beside the target, fsync, ``os.replace``; umask mode for new files, the existing mode
and symlinks kept), of the ``--out`` check and of the all-or-nothing output set. ``sgam`` keeps its own
copy because ``sgam`` and ``simulation`` may not import each other. See ``docs/reliability.md`` section 4.

:class:`OutputError` is a :class:`~simulation.errors.SimulationError` and an :class:`OSError`: the CLI
maps it to one line and exit code 2, the GUI shows it in a dialog.
"""

from __future__ import annotations

from coordstudio.simulation.fileio import (
    OutputError,
    OutputSet,
    atomic_save,
    atomic_write_bytes,
    atomic_write_text,
    output_set,
    prepare_out_dir,
)

__all__ = [
    "OutputError",
    "OutputSet",
    "atomic_save",
    "atomic_write_bytes",
    "atomic_write_text",
    "output_set",
    "prepare_out_dir",
]
