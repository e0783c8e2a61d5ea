"""Fixtures for tests that run real worker processes, alone or under `python -m serving`."""
import contextlib
import os
import signal
import subprocess
import sys

import pytest

from tests.processes import METRICS_TOKEN, ROOT, children, free_port, get, wait_for


@pytest.fixture
def start_worker(settings, redis_url, tmp_path):
    processes = []

    def _start(**tunings):
        env = {**os.environ, "DATABASE_URL": settings.database_url, "REDIS_URL": redis_url,
               "GRIDFLOW_INSTANCE": str(settings.instance_path), "GRIDFLOW_QUEUE": settings.queue_name,
               "SECRET_KEY": settings.secret_key, **tunings}  # the worker seals timelines under the tests' key
        log = open(tmp_path / f"worker-{len(processes)}.log", "w")
        processes.append(subprocess.Popen([sys.executable, "worker.py"], cwd=ROOT, env=env, stdout=log,
                                          stderr=subprocess.STDOUT, start_new_session=True))
        return processes[-1]

    yield _start
    for process in processes:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError):  # whatever of the worker's process group is left
            os.killpg(process.pid, signal.SIGTERM)


@pytest.fixture
def serve(settings, redis_url, tmp_path):
    """Start `python -m serving` on a free port against the tests' database and Redis; stopped at the end."""
    started = []

    def _serve(web=2, workers=2, **env):
        port = free_port()
        environment = {**os.environ, "DATABASE_URL": settings.database_url, "REDIS_URL": redis_url,
                       "GRIDFLOW_INSTANCE": str(tmp_path / "instance"), "GRIDFLOW_QUEUE": settings.queue_name,
                       "SECRET_KEY": settings.secret_key, "GRIDFLOW_METRICS_TOKEN": METRICS_TOKEN,
                       "GRIDFLOW_GRACEFUL_SECONDS": "5", "GRIDFLOW_LOG_FORMAT": "json", **env}
        log = open(tmp_path / f"serving-{len(started)}.log", "w")
        process = subprocess.Popen([sys.executable, "-m", "serving", "--bind", f"127.0.0.1:{port}",
                                    "--web-workers", str(web), "--workers", str(workers)], cwd=ROOT,
                                   env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        started.append(process)
        base = f"http://127.0.0.1:{port}"

        def ready():
            try:
                return get(f"{base}/readyz")[0] == 200
            except OSError:
                return False
        wait_for(ready, 30, "the web app ready")
        return process, base

    yield _serve
    for process in started:
        if process.poll() is None:
            left = children(process.pid)  # read before the kill: the supervisor's children outlive it
            os.killpg(process.pid, signal.SIGKILL)
            for child in left:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(child, signal.SIGKILL)
