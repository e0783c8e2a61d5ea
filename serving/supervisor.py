"""`python -m serving`: gunicorn's web processes and the RQ workers of one machine, started and stopped together.

Before starting anything it migrates the database (once, not in every process) and starts the embedded Redis
when no REDIS_URL is set, so the children find both ready. It empties the metrics folder, then starts
gunicorn (serving/gunicorn_conf.py) and `--workers` copies of worker.py. Every worker runs RQ with its
scheduler on; RQ's lock on the queue lets exactly one of them schedule at a time, and another takes over
within about a minute when that one dies. A worker that dies is started again (after 1 s, then up to 30 s
between tries if it keeps dying); if gunicorn's master dies, everything stops with an error.

SIGTERM or SIGINT (Ctrl-C) stops them all: gunicorn finishes the requests under way (GRIDFLOW_GRACEFUL_SECONDS)
and each worker its job under way, then anything still running after that is killed. The children live in a
process group of their own, so Ctrl-C reaches them only through this supervisor, and on Linux each is sent
SIGTERM if the supervisor itself dies.
"""
import argparse
import ctypes
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from engine.config import ROOT, Settings
from serving import logs

log = logging.getLogger("gridflow.serving")
GUNICORN_APP = "app:create_app()"


def _child_setup(parent: int):
    """Run in each child before it starts: its own process group, and SIGTERM when the supervisor dies."""
    def setup():
        os.setpgid(0, 0)
        if sys.platform.startswith("linux"):
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
            if os.getppid() != parent:
                os.kill(os.getpid(), signal.SIGTERM)
    return setup


def metrics_dir(settings: Settings, env) -> Path:
    """PROMETHEUS_MULTIPROC_DIR if set, else <instance>/metrics; emptied, as prometheus_client requires."""
    path = Path(env.get("PROMETHEUS_MULTIPROC_DIR") or Path(settings.instance_path) / "metrics")
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def prepare(settings: Settings) -> None:
    """Migrate the database and start the embedded Redis (if no REDIS_URL), once, before any child starts."""
    from engine import bootstrap
    from engine.store import db
    engine = db.make_engine(settings.database_url)
    try:
        if settings.migrate:
            db.upgrade(engine, settings.chain_key)
    finally:
        engine.dispose()
    bootstrap.redis_url(settings)


class Supervisor:
    def __init__(self, env: dict, web_workers: int | None, rq_workers: int, grace: float):
        self.env, self.rq_workers, self.grace = env, rq_workers, grace
        self.web_workers = web_workers
        self.web: subprocess.Popen | None = None
        self.workers: list[subprocess.Popen | None] = [None] * rq_workers
        self.restarts = [0] * rq_workers
        self.next_start = [0.0] * rq_workers
        self.stopping = False

    def _spawn(self, args: list[str], what: str) -> subprocess.Popen:
        process = subprocess.Popen(args, cwd=ROOT, env=self.env, preexec_fn=_child_setup(os.getpid()))
        log.info("started %s (pid %d)", what, process.pid)
        return process

    def start(self) -> None:
        if self.web_workers != 0:
            self.web = self._spawn([sys.executable, "-m", "gunicorn", "-c", "python:serving.gunicorn_conf",
                                    GUNICORN_APP], "gunicorn")
        for index in range(self.rq_workers):
            self.workers[index] = self._spawn([sys.executable, "worker.py"], f"worker {index + 1}")

    def _reaped(self, process: subprocess.Popen) -> None:
        path = self.env.get("PROMETHEUS_MULTIPROC_DIR")
        if path:
            from prometheus_client import multiprocess
            multiprocess.mark_process_dead(process.pid, path)

    def watch(self) -> int:
        """Keep the workers running until asked to stop or gunicorn dies; returns the exit status."""
        while not self.stopping:
            if self.web is not None and self.web.poll() is not None:
                log.error("gunicorn stopped (status %s): stopping everything", self.web.returncode)
                self.stop()
                return 1
            now = time.monotonic()
            for index, process in enumerate(self.workers):
                if process is not None and process.poll() is not None:
                    self._reaped(process)
                    self.restarts[index] += 1
                    delay = min(2 ** (self.restarts[index] - 1), 30)
                    log.warning("worker %d (pid %d) exited with %s: starting it again in %d s", index + 1,
                                process.pid, process.returncode, delay)
                    self.workers[index], self.next_start[index] = None, now + delay
                elif process is None and now >= self.next_start[index]:
                    self.workers[index] = self._spawn([sys.executable, "worker.py"], f"worker {index + 1}")
            time.sleep(0.2)
        return 0

    def stop(self, *_signal) -> None:
        """SIGTERM to every child; SIGKILL to what is still running after the grace period."""
        if self.stopping:
            return
        self.stopping = True
        children = [p for p in [self.web, *self.workers] if p is not None and p.poll() is None]
        log.info("stopping %d process(es)", len(children))
        for process in children:
            process.send_signal(signal.SIGTERM)
        end = time.monotonic() + self.grace
        for process in children:
            try:
                process.wait(timeout=max(end - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                log.warning("pid %d still running after %.0f s: killed", process.pid, self.grace)
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        for process in self.workers:
            if process is not None:
                self._reaped(process)
        log.info("stopped")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m serving", description=__doc__.splitlines()[0])
    parser.add_argument("--bind", help="address:port for the web app (default GRIDFLOW_BIND or 127.0.0.1:5000)")
    parser.add_argument("--web-workers", type=int, default=None,
                        help="web processes (default GRIDFLOW_WEB_WORKERS or 2 x cores + 1; 0: no web app)")
    parser.add_argument("--workers", type=int, default=int(os.environ.get("GRIDFLOW_RQ_WORKERS", 2)),
                        help="RQ worker processes (default GRIDFLOW_RQ_WORKERS or 2; 0: none)")
    parser.add_argument("--migrate-only", action="store_true",
                        help="bring the database to this code's newest migration, then exit (step 1 of an upgrade)")
    args = parser.parse_args(argv)
    env = dict(os.environ)
    settings = Settings.from_env(env)
    logs.configure(settings.log_format)
    if args.bind:
        env["GRIDFLOW_BIND"] = args.bind
    if args.web_workers:
        env["GRIDFLOW_WEB_WORKERS"] = str(args.web_workers)
    if args.migrate_only:
        prepare(settings)
        log.info("the database is at the newest migration")
        return 0
    env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir(settings, env))
    prepare(settings)
    env["GRIDFLOW_MIGRATE"] = "0"  # done above, once: the children need not all try
    grace = float(env.get("GRIDFLOW_GRACEFUL_SECONDS", 30)) + 5
    supervisor = Supervisor(env, args.web_workers, args.workers, grace)
    signal.signal(signal.SIGTERM, supervisor.stop)
    signal.signal(signal.SIGINT, supervisor.stop)
    supervisor.start()
    return supervisor.watch()
