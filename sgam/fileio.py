"""The one home of file writing in ``sgam``: atomic writes, output folders, sets of output files.

Why one module: every file the package writes (ICT tables, SGAM planes, the workbook, the library copy)
must keep the same promises (issue 18, ``docs/reliability.md`` section 4), and copies of the same dozen
lines had drifted apart (some left ``mkstemp``'s mode 0600, none kept a symlink or an existing mode).

* **Atomic.** Content goes to a temporary file beside the target, is flushed and fsync'ed, then moved over
  the target with :func:`os.replace` (atomic on POSIX and Windows on one file system). A crash, a full disk
  or Ctrl-C leaves the old file or the new one, never a torn mix.
* **Mode.** A new file gets ``0o666 & ~umask`` like any program's ``open()``; a file that existed keeps its
  mode (``mkstemp`` alone would leave 0600).
* **Symlinks.** A target that is a symlink is written *through*: the link stays, the file it points to is
  replaced.
* **One clear error.** Any OS failure (a file where the folder should be, a read-only folder, a full disk)
  becomes :class:`OutputError` naming the path and the OS error, which ``main.py`` prints as one line with
  exit code 2.
* **Sets of files.** :func:`output_set` stages a command's files in a hidden folder inside the output
  folder and moves them in only when every one was written, so a failed command leaves the previous
  outputs untouched instead of a partly new set that looks complete.

This module imports only the standard library and :mod:`sgam.errors`. It is a copy of
:mod:`simulation.fileio` (which ``cba`` and the GUI use too), because ``sgam`` and ``simulation`` may not
import each other.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from coordstudio.sgam.errors import SgamError

__all__ = [
    "OutputError",
    "OutputSet",
    "atomic_save",
    "atomic_write_bytes",
    "atomic_write_text",
    "output_set",
    "prepare_out_dir",
]


class OutputError(SgamError, OSError):
    """An output file or folder cannot be written; the message names the path and the OS error.

    Also an :class:`OSError`, so code that caught the OS error of a save before keeps working.
    """


def _umask() -> int:
    """The process umask, read without changing it (``os.umask`` alone must set it to read it)."""
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    mask = os.umask(0o022)  # pragma: no cover - systems without /proc
    os.umask(mask)  # pragma: no cover
    return mask  # pragma: no cover


def _os_error(path: Path, exc: OSError, what: str = "cannot write") -> OutputError:
    reason = exc.strerror or str(exc)
    return OutputError(f"{path}: {what}: {reason}")


def _real_target(path: Path) -> Path:
    """The file to replace: ``path`` itself, or the file a symlink at ``path`` points to."""
    if path.is_symlink():
        return Path(os.path.realpath(path))
    return path


def _final_mode(target: Path) -> int:
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except OSError:
        return 0o666 & ~_umask()


def atomic_save(path: str | os.PathLike[str], write: Callable[[Path], None]) -> Path:
    """Let ``write(tmp)`` produce the file at a temporary path beside ``path``, then move it in place.

    For libraries that write to a path themselves (openpyxl ``Workbook.save``, matplotlib ``savefig``,
    pandapower ``to_json``). Returns ``path``; raises :class:`OutputError` on any OS failure (the old file,
    if any, is left as it was).
    """
    shown = Path(path)
    target = _real_target(shown)
    folder = target.parent if str(target.parent) else Path(".")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError as exc:  # a file where a folder of the path should be
        raise OutputError(f"{shown}: cannot write: {folder} exists and is not a folder") from exc
    except OSError as exc:
        raise _os_error(shown, exc) from exc
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise _os_error(shown, exc) from exc
    tmp = Path(tmp_name)
    try:
        os.close(fd)
        write(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, _final_mode(target))
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(exc, OSError) and not isinstance(exc, OutputError):
            raise _os_error(shown, exc) from exc
        raise
    return shown


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (see the module docstring); return the path."""

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            fh.write(data)

    return atomic_save(path, write)


def atomic_write_text(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically (UTF-8 by default, line ends kept as given)."""
    return atomic_write_bytes(path, text.encode(encoding))


def prepare_out_dir(path: str | os.PathLike[str]) -> Path:
    """Create the output folder ``path`` if needed and check that files can be created in it.

    Called before any work, so that a ``--out`` naming a file, a read-only folder or a folder under a file
    fails at once with one line (:class:`OutputError`), not after an hour of simulation.
    """
    out = Path(path)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except FileExistsError as exc:
        raise OutputError(f"{out}: cannot create the output folder: it exists and is not a folder") from exc
    except OSError as exc:
        raise _os_error(out, exc, "cannot create the output folder") from exc
    if not out.is_dir():
        raise OutputError(f"{out}: cannot create the output folder: {os.strerror(errno.ENOTDIR)}")
    try:
        fd, probe = tempfile.mkstemp(prefix=".write-test.", dir=out)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise _os_error(out, exc, "the output folder is not writable") from exc
    return out


class OutputSet:
    """Files of one command staged in a hidden folder, moved into the output folder together on success.

    Use through :func:`output_set`. ``path(name)`` gives where to write ``name``; every file written there
    is moved to ``out/name`` (through a symlink there, keeping an existing file's mode) by :meth:`commit`.
    """

    def __init__(self, out: Path, staging: Path) -> None:
        self.out = out
        self.staging = staging
        #: The final paths, filled by :meth:`commit`.
        self.files: list[Path] = []

    def path(self, name: str) -> Path:
        """Where to write the output file ``name`` (a plain file name inside the output folder)."""
        return self.staging / name

    def commit(self) -> list[Path]:
        """Move every staged file into the output folder; return the final paths."""
        moved: list[Path] = []
        for staged in sorted(p for p in self.staging.rglob("*") if p.is_file()):
            rel = staged.relative_to(self.staging)
            shown = self.out / rel
            target = _real_target(shown)
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                os.chmod(staged, _final_mode(target))
                try:
                    os.replace(staged, target)
                except OSError as exc:
                    if exc.errno != errno.EXDEV:  # a symlink to another file system: copy, then replace
                        raise
                    atomic_write_bytes(target, staged.read_bytes())
            except OutputError:
                raise
            except OSError as exc:
                raise _os_error(shown, exc) from exc
            moved.append(shown)
        self.files = moved
        return moved


@contextlib.contextmanager
def output_set(out_dir: str | os.PathLike[str]) -> Iterator[OutputSet]:
    """Stage a set of output files in ``out_dir/.staging-*``; move them in only if the block succeeds.

    On an exception nothing of the new set reaches ``out_dir`` (the staging folder is removed) and any
    ``OSError`` becomes :class:`OutputError` naming the path.
    """
    out = prepare_out_dir(out_dir)
    try:
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=out))
    except OSError as exc:
        raise _os_error(out, exc) from exc
    try:
        stage = OutputSet(out, staging)
        try:
            yield stage
        except OutputError as exc:  # name the file where it was meant to go, not the staging folder
            raise OutputError(str(exc).replace(str(staging), str(out))) from exc
        except OSError as exc:
            where = Path(exc.filename) if isinstance(exc.filename, str) else staging
            with contextlib.suppress(ValueError):
                where = out / where.relative_to(staging)
            raise _os_error(where, exc) from exc
        stage.commit()
    finally:
        shutil.rmtree(staging, ignore_errors=True)
