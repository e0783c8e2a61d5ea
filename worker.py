"""The RQ worker: fires deadlines with its scheduler on, and sweeps for lost ones every minute (and brings the
indicators' rollup up to date)."""
import ctypes
import logging
import os
import signal
import sys
import threading

from rq import SimpleWorker

from engine import bootstrap
from engine.config import Settings
from engine.deadlines import jobs
from serving import logs, metrics
from workflows import CATALOGUE

log = logging.getLogger("gridflow.worker")


def children_die_with_me() -> None:
    """RQ forks its scheduler; on Linux, have every forked child stopped when this worker dies, however it dies.

    Without this a worker killed with SIGKILL leaves its scheduler running, holding the scheduler lock."""
    if not sys.platform.startswith("linux"):
        return
    parent, prctl = os.getpid(), ctypes.CDLL(None, use_errno=True).prctl
    pr_set_pdeathsig = 1

    def in_child():
        prctl(pr_set_pdeathsig, signal.SIGTERM)
        if os.getppid() != parent:  # the worker died before the line above took effect
            os.kill(os.getpid(), signal.SIGTERM)
    os.register_at_fork(after_in_child=in_child)


def sweep_forever(interval: float, stop: threading.Event) -> None:
    """Re-queue due deadlines every `interval` seconds until stopped."""
    while not stop.wait(interval):
        try:
            metrics.timed_sweep(jobs.sweep)
        except Exception:  # the next sweep tries again; a sweep must never kill the worker
            log.exception("deadline sweep failed")
        try:
            jobs.next_rounds()
        except Exception:  # a campaign's next round waits for the next sweep
            log.exception("launching campaign rounds failed")
        try:
            jobs.count_indicators()
        except Exception:  # the cases stay behind in the index; the next sweep or a reader folds them
            log.exception("counting the indicators failed")


def main() -> None:
    settings = Settings.from_env()
    logs.configure(settings.log_format)
    deps = bootstrap.build(settings, CATALOGUE, migrate=settings.migrate)  # may start the embedded Redis
    metrics.watch(deps.sessions)  # firings, their lateness and breaches, counted once committed
    children_die_with_me()
    jobs.configure(deps)
    metrics.timed_sweep(jobs.sweep)
    stop = threading.Event()
    threading.Thread(target=sweep_forever, args=(settings.sweep_seconds, stop), daemon=True).start()
    worker = SimpleWorker([deps.scheduler.queue], connection=deps.scheduler.queue.connection)
    try:
        worker.work(with_scheduler=True)
    finally:
        stop.set()


if __name__ == "__main__":
    main()
