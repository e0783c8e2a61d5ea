"""Helpers for tests that run the product's own processes (`python -m serving`: gunicorn and the RQ workers)
and talk to them over HTTP, as a proxy or a phone would."""
import os
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
METRICS_TOKEN = "metrics-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url, headers=None, body=None, timeout=10):
    """(status, body text) of a GET, or of a POST when there is a body; an unreachable server raises OSError."""
    request = urllib.request.Request(url, headers=headers or {}, data=body,
                                     method="POST" if body is not None else "GET")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def children(pid: int) -> set[int]:
    """Every descendant of `pid` (Linux /proc)."""
    found, todo = set(), [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                listed = (task / "children").read_text().split()
            except OSError:  # the thread or process is gone meanwhile
                continue
            for child in listed:
                found.add(int(child))
                todo.append(int(child))
    return found


def web_processes(master: int) -> list[int]:
    """gunicorn's web processes under the supervisor (not its master)."""
    gunicorn = [pid for pid in children(master)
                if b"serving.gunicorn_conf" in Path(f"/proc/{pid}/cmdline").read_bytes()]
    return [pid for pid in gunicorn if Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[1]
            in {str(p) for p in gunicorn}]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(")")[-1].split()[0] != "Z"


def wait_for(condition, seconds=45.0, what="condition"):
    """Poll `condition` every 0.1 s until it holds; fail naming `what` after `seconds`."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"{what} not within {seconds} s")
