"""The RQ worker: fires deadlines with its scheduler on, and sweeps for lost ones every minute."""
import logging
import threading

from rq import SimpleWorker

from engine import bootstrap, jobs
from engine.config import Settings
from workflows import CATALOGUE

log = logging.getLogger("gridflow.worker")


def sweep_forever(interval: float, stop: threading.Event) -> None:
    """Re-queue due deadlines every `interval` seconds until stopped."""
    while not stop.wait(interval):
        try:
            jobs.sweep()
        except Exception:  # the next sweep tries again; a sweep must never kill the worker
            log.exception("deadline sweep failed")


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    settings = Settings.from_env()
    deps = bootstrap.build(settings, CATALOGUE)
    jobs.configure(deps)
    jobs.sweep()
    stop = threading.Event()
    threading.Thread(target=sweep_forever, args=(settings.sweep_seconds, stop), daemon=True).start()
    worker = SimpleWorker([deps.scheduler.queue], connection=deps.scheduler.queue.connection)
    try:
        worker.work(with_scheduler=True)
    finally:
        stop.set()


if __name__ == "__main__":
    main()
