"""A real PostgreSQL server for tests (the sandbox's embedded one)."""

from __future__ import annotations

import shutil
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def cluster_folder() -> Iterator[Path]:
    """A folder for a cluster, outside pytest's tmp root: as root the server runs as nobody, and
    every new pytest session (e.g. a concurrent one) strips other users' access to that root."""
    folder = Path(tempfile.mkdtemp(prefix="launchplan-pg-"))
    try:
        yield folder / "cluster"
    finally:
        shutil.rmtree(folder, ignore_errors=True)
