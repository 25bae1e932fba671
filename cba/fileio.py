"""Atomic file writes for everything ``cba`` and ``gui`` save (studies, reports, charts).

A file is first written to a temporary file in the same folder, flushed and fsync'ed, then moved over
the target with :func:`os.replace`, which is atomic on POSIX and Windows when source and target are on
the same file system. A crash or a full disk therefore leaves either the old file or the new one, never
a truncated mix, and a user's study or report is never destroyed by a failed save.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

__all__ = ["atomic_write_bytes", "atomic_write_text"]


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically and return the path.

    Parameters
    ----------
    path
        Target file. Its folder must exist; an existing file is replaced only once the new content is
        completely on disk.
    data
        The bytes to write.

    Returns
    -------
    pathlib.Path
        ``path`` as a :class:`~pathlib.Path`.
    """
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        # mkstemp creates 0600; give the file the permissions a normal open() would (umask applied).
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_name, 0o666 & ~umask)
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    return target


def atomic_write_text(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically (UTF-8 by default, ``\\n`` line ends kept as given)."""
    return atomic_write_bytes(path, text.encode(encoding))
