"""A private PostgreSQL server that a fault test or a benchmark may stop and restart (never the machine's shared one).

The one home of `PrivateCluster`: tests use its fast settings (fsync off), bench/ its durable ones.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from pathlib import Path

from tests.helpers import free_port, wait_for_port

PG_USER = "postgres"  # PostgreSQL refuses to run as root; the Debian package's user owns the cluster


def pg_bin() -> Path | None:
    """The newest installed PostgreSQL server binaries, if any."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None


class PrivateCluster:
    """initdb in a folder, on a free port, trust auth on loopback only.

    `durable` keeps PostgreSQL's defaults (fsync and synchronous_commit on, for benchmarks that measure them);
    otherwise both are off, for fast tests. `root` must be traversable by the postgres user (mode 755).
    """

    def __init__(self, root: Path, *, durable: bool = False) -> None:
        binaries = pg_bin()
        if binaries is None:
            raise RuntimeError("PostgreSQL server binaries are not installed (apt-get install postgresql)")
        self.bin = binaries
        self.root = root
        self.data = root / "pgdata"
        self.port = free_port()
        root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(root, PG_USER)
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(f"port = {self.port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{root}'\n")
            if not durable:
                conf.write("fsync = off\nsynchronous_commit = off\n")

    @property
    def url(self) -> str:
        """The server's `postgres` database, as the superuser."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.data / "server.log"), "-w", "start")
        wait_for_port(self.port, timeout=30)

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (`fast`, `smart` or `immediate`, as pg_ctl says)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def running(self) -> bool:
        """Whether pg_ctl sees the server running."""
        return subprocess.run(self._command("pg_ctl", "-D", str(self.data), "status"), capture_output=True,
                              cwd="/").returncode == 0  # fmt: skip

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run(self._command(tool, *args), check=True, capture_output=True, cwd="/")

    def _command(self, tool: str, *args: str) -> list[str]:
        command = [str(self.bin / tool), *args]
        return ["runuser", "-u", PG_USER, "--", *command] if os.geteuid() == 0 else command
