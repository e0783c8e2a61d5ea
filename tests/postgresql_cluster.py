"""A throwaway PostgreSQL cluster of a test's own, to restart and crash at will.

The machine's shared server is never touched: `initdb` makes a fresh cluster in a temporary folder and
`pg_ctl` runs it on a free port, as the `postgres` system user when the tests run as root (initdb refuses
root). Trust authentication and fsync off: it holds nothing worth keeping, and an immediate stop is a crash
of PostgreSQL, not of the machine, so the operating system still has every write.
"""
import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.processes import free_port

MISSING = ("PostgreSQL's server programs (initdb, pg_ctl) are needed to restart a PostgreSQL of the test's own: "
           "install them (Debian/Ubuntu: apt-get install postgresql; they go in /usr/lib/postgresql/<version>/bin)")


def server_programs() -> Path:
    """The folder of initdb and pg_ctl: pg_config's, else the newest /usr/lib/postgresql/*/bin, else PATH's."""
    candidates = []
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        candidates.append(subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True,
                                         check=True).stdout.strip())
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name),
                         reverse=True)
    if shutil.which("initdb"):
        candidates.append(str(Path(shutil.which("initdb")).parent))
    for folder in candidates:
        if (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    pytest.fail(MISSING, pytrace=False)


class Cluster:
    """One PostgreSQL cluster in `folder`, listening on 127.0.0.1:`port`."""

    def __init__(self, programs: Path, folder: Path, port: int):
        self.programs, self.folder, self.port = programs, folder, port
        self.data = folder / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, program: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = [str(self.programs / program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, cwd=self.folder)
        if check and done.returncode != 0:
            raise AssertionError(f"{program} {' '.join(args)} failed ({done.returncode}):\n{done.stdout}{done.stderr}"
                                 f"\n{self.log()}")
        return done

    def log(self) -> str:
        path = self.folder / "server.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def initialize(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8",
                  "--locale=C")
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(f"port = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                       f"unix_socket_directories = '{self.folder}'\nfsync = off\nmax_connections = 50\n")

    def start(self) -> None:
        self._run("pg_ctl", "start", "-w", "-t", "30", "-D", str(self.data), "-l", str(self.folder / "server.log"))

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "stop", "-w", "-t", "30", "-m", mode, "-D", str(self.data))

    def restart(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "restart", "-w", "-t", "30", "-m", mode, "-D", str(self.data),
                  "-l", str(self.folder / "server.log"))

    def create_database(self, name: str) -> None:
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)

    def running(self) -> bool:
        return self._run("pg_ctl", "status", "-D", str(self.data), check=False).returncode == 0


@contextlib.contextmanager
def throwaway_cluster():
    """A started cluster; stopped and its folder removed afterwards, however the test ends."""
    programs = server_programs()
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            pytest.fail("initdb refuses to run as root, and there is no `postgres` user to run it as: install "
                        "PostgreSQL's server package (it makes that user), or run the tests as another user",
                        pytrace=False)
    folder = Path(tempfile.mkdtemp(prefix="gridflow-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    cluster = Cluster(programs, folder, free_port())
    try:
        cluster.initialize()
        cluster.start()
        yield cluster
    finally:
        try:
            if cluster.data.exists() and cluster.running():
                cluster.stop("immediate")
        finally:
            shutil.rmtree(folder, ignore_errors=True)
