"""Start a throw-away PostgreSQL server on loopback for the multi-worker optuna tests.

The server runs from Debian's ``postgresql`` package binaries (installed by ``.ci/run``),
as an unprivileged user when the tests run as root, in a temporary data directory, on a
free port of 127.0.0.1; it is stopped and deleted at the end of the session.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager


def pg_bindir() -> str | None:
    cands = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if cands:
        return os.path.dirname(cands[-1])
    exe = shutil.which("pg_ctl")
    return os.path.dirname(exe) if exe else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def postgres_server():
    """Yield a SQLAlchemy URL ``postgresql://…@127.0.0.1:PORT/physml`` of a running server."""
    bindir = pg_bindir()
    if bindir is None:
        raise RuntimeError("PostgreSQL server binaries not found (apt-get install postgresql)")
    tmp = tempfile.mkdtemp(prefix="physml-pg-")
    data = os.path.join(tmp, "data")
    port = _free_port()
    prefix: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        os.chmod(tmp, 0o777)
        prefix = ["runuser", "-u", "postgres", "--"]
    def run(*cmd):
        return subprocess.run(prefix + list(cmd), check=True, capture_output=True, text=True, timeout=120)

    try:
        run(f"{bindir}/initdb", "-D", data, "-U", "physml", "--auth=trust", "-E", "UTF8")
        run(f"{bindir}/pg_ctl", "-D", data, "-l", os.path.join(tmp, "log"), "-w", "-o",
            f"-p {port} -k {tmp} -c listen_addresses=127.0.0.1", "start")
        for _ in range(50):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.2)
        run(f"{bindir}/createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "physml", "physml")
        yield f"postgresql://physml@127.0.0.1:{port}/physml"
    finally:
        try:
            run(f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "stop")
        except Exception:
            pass
        shutil.rmtree(tmp, ignore_errors=True)
