"""The RQ worker: fires deadlines with its scheduler on, and sweeps for lost ones every minute (and brings the
indicators' rollup up to date)."""
import ctypes
import logging
import os
import signal
import sys
import threading

from redis.exceptions import RedisError
from rq import SimpleWorker
from sqlalchemy.exc import InterfaceError, OperationalError

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


UNAVAILABLE = (OperationalError, InterfaceError, RedisError)  # the database or Redis away: the next sweep will do
SWEEPS = (("deadline sweep", lambda: metrics.timed_sweep(jobs.sweep)),  # lost alarms, Redis restarts, downtime
          ("campaign rounds", jobs.next_rounds),  # a campaign's next round
          ("indicators", jobs.count_indicators))  # cases changed since the last sweep, into the rollup


def sweep_forever(interval: float, stop: threading.Event) -> None:
    """Every `interval` seconds until stopped: each of SWEEPS. One that fails is tried again at the next sweep
    (a sweep must never kill the worker); a database or Redis that is away is said in one line, not a traceback
    a minute."""
    while not stop.wait(interval):
        for name, sweep in SWEEPS:
            try:
                sweep()
            except UNAVAILABLE as exc:
                log.warning("%s skipped: %s", name, str(exc).strip().splitlines()[0][:200])
            except Exception:
                log.exception("%s failed", name)


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
