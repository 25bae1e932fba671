"""Fixtures shared by every test folder (at the project root, not in tests/: a conftest.py there would put
tests/ first on sys.path, where tests/simulation and tests/sgam shadow the real packages).

``postgres_url``: a throw-away PostgreSQL server on 127.0.0.1 (``initdb`` + ``pg_ctl`` from Debian's
``postgresql`` package, run as the ``postgres`` user when the tests run as root, since initdb refuses
root). It skips when the server binaries are missing on a developer machine and FAILS under ``CI=true``,
where the Makefile's ``apt-test`` installs them, so a CI run can never silently drop the PostgreSQL tests.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


def _postgres_bindir() -> Path | None:
    for base in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (base / "initdb").exists():
            return base
    return None


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """SQLAlchemy URL of a fresh, empty PostgreSQL server, stopped and removed after the test."""
    bindir = _postgres_bindir()
    if bindir is None:
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL is not installed on CI (the Makefile's apt-test installs 'postgresql')")
        pytest.skip("PostgreSQL server binaries are not installed here (apt-get install postgresql)")
    tmp = Path(tempfile.mkdtemp(prefix="coordstudio-pg-"))
    tmp.chmod(0o755)
    data = tmp / "pgdata"
    data.mkdir()
    prefix: list[str] = []
    if os.geteuid() == 0:
        runuser = shutil.which("runuser")
        assert runuser, "runuser is needed to start PostgreSQL as root"
        prefix = [runuser, "-u", "postgres", "--"]
        shutil.chown(tmp, "postgres")
        shutil.chown(data, "postgres")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    subprocess.run([*prefix, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"],
                   check=True, capture_output=True)
    subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(tmp / "pg.log"), "-w", "-o",
                    f"-p {port} -k {tmp} -c listen_addresses=127.0.0.1", "start"],
                   check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)
