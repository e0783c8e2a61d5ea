"""Fixtures for tests that run real worker processes."""
import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


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
