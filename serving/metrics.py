"""Prometheus metrics for the web processes and the RQ workers.

Under `python -m serving` every process of a machine (gunicorn's workers and the RQ workers) writes its counts
to files in PROMETHEUS_MULTIPROC_DIR (prometheus_client's multiprocess mode, set up by serving/supervisor.py),
and /metrics, answered by any web process, adds them up. Without that variable (tests, one process) the
counts live in the process. Figures read from the database and Redis (open tasks, queue depth, failed
jobs) are read at scrape time by the process that answers, and kept for a few seconds.

Business events are counted from the ORM, after commit: a session hook sees a new case (filed), a case whose
closed_at was set (closed), a deadline whose fired_at was set (a firing, its lateness, a breach), so no
engine service knows about metrics and a rolled-back transaction counts nothing.
"""
import os
import threading
import time

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import event, func, inspect, select

from engine.store.model import OPEN_TASK, Case, Deadline, Task
from serving import logs

MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
LATENESS_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600)

REQUEST_SECONDS = Histogram("gridflow_http_request_duration_seconds", "Time to answer a request, by endpoint",
                            ["method", "endpoint"], buckets=LATENCY_BUCKETS)
REQUESTS = Counter("gridflow_http_requests", "Requests answered, by endpoint and status",
                   ["method", "endpoint", "status"])
CASES_FILED = Counter("gridflow_cases_filed", "Cases filed, by case type", ["type"])
CASES_CLOSED = Counter("gridflow_cases_closed", "Cases closed, by case type and final status", ["type", "status"])
FIRINGS = Counter("gridflow_deadline_firings", "Deadlines fired, by kind (timer, warning, breach, supervision)",
                  ["kind"])
BREACHES = Counter("gridflow_sla_breaches", "Time limits breached (breach deadlines fired)")
EARLY = Counter("gridflow_deadlines_fired_early", "Deadlines fired before their due time (must stay 0)")
LATENESS = Histogram("gridflow_deadline_lateness_seconds", "Seconds from a deadline's due time to its firing",
                     ["kind"], buckets=LATENESS_BUCKETS)
SWEEP_SECONDS = Histogram("gridflow_sweep_duration_seconds", "Time a worker's sweep for lost deadlines took",
                          buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5))
SWEEP_FOUND = Counter("gridflow_sweep_found", "Sweeps that found due deadlines no worker held")


def observe_request(method: str, endpoint: str, status: int, seconds: float) -> None:
    REQUEST_SECONDS.labels(method, endpoint).observe(seconds)
    REQUESTS.labels(method, endpoint, str(status)).inc()


def timed_sweep(sweep) -> int:
    began = time.perf_counter()
    found = sweep()
    SWEEP_SECONDS.observe(time.perf_counter() - began)
    if found:
        SWEEP_FOUND.inc()
    return found


# --- business events, from the ORM ---------------------------------------------------------------------------

def watch(sessions) -> None:
    """Count filings, closings and firings of every session this factory makes, once each commits."""
    if getattr(sessions, "_gridflow_watched", False):
        return
    sessions._gridflow_watched = True
    event.listen(sessions, "after_flush", _collect)
    event.listen(sessions, "after_commit", _emit)
    event.listen(sessions, "after_rollback", _forget)


def _added(obj, attribute):
    return inspect(obj).attrs[attribute].history.added


def _collect(session, _flush_context) -> None:
    seen = session.info.setdefault("gridflow_events", [])
    for obj in session.new:
        if isinstance(obj, Case):
            logs.note_case(obj.number)
            seen.append(("filed", obj.type, None, obj.number))
    for obj in session.dirty:
        if isinstance(obj, Case):
            logs.note_case(obj.number)
            if _added(obj, "closed_at") and obj.closed_at is not None:
                seen.append(("closed", obj.type, obj.status, obj.number))
        elif isinstance(obj, Deadline) and _added(obj, "fired_at") and obj.fired_at is not None:
            seen.append(("fired", obj.kind, (obj.fired_at - obj.due_at).total_seconds(), None))


def _emit(session) -> None:
    for kind, label, value, _number in session.info.pop("gridflow_events", []):
        if kind == "filed":
            CASES_FILED.labels(label).inc()
        elif kind == "closed":
            CASES_CLOSED.labels(label, value).inc()
        else:
            FIRINGS.labels(label).inc()
            if label == "breach":
                BREACHES.inc()
            if value < 0:
                EARLY.inc()
            LATENESS.labels(label).observe(max(value, 0.0))


def _forget(session) -> None:
    session.info.pop("gridflow_events", None)


# --- figures read at scrape time -----------------------------------------------------------------------------

class StateCollector:
    """Open tasks by status from the database; queued, scheduled, started and failed jobs from Redis.

    Kept for `ttl` seconds, so frequent scrapes by several Prometheus servers cost one read."""

    def __init__(self, deps, ttl: float = 10.0):
        self.deps, self.ttl = deps, ttl
        self._lock = threading.Lock()
        self._read_at, self._figures = 0.0, None

    def figures(self) -> dict:
        with self._lock:
            if self._figures is None or time.monotonic() - self._read_at > self.ttl:
                self._figures = self._read()
                self._read_at = time.monotonic()
            return self._figures

    def _read(self) -> dict:
        figures = {"tasks": {status: 0 for status in OPEN_TASK}, "jobs": {}}
        with self.deps.uow() as uow:
            figures["tasks"].update(uow.session.execute(
                select(Task.status, func.count()).where(Task.is_open).group_by(Task.status)).all())
        queue = getattr(self.deps.scheduler, "queue", None)
        if queue is not None:
            try:
                figures["jobs"] = {"queued": queue.count, "scheduled": queue.scheduled_job_registry.count,
                                   "started": queue.started_job_registry.count,
                                   "failed": queue.failed_job_registry.count}
            except Exception:  # Redis down: the gauges are left out, /readyz says why
                figures["jobs"] = {}
        return figures

    def collect(self):
        figures = self.figures()
        tasks = GaugeMetricFamily("gridflow_open_tasks", "Open tasks by status (open, claimed)", labels=["status"])
        for status, count in sorted(figures["tasks"].items()):
            tasks.add_metric([status], count)
        yield tasks
        if figures["jobs"]:
            jobs = GaugeMetricFamily("gridflow_queue_jobs", "Jobs on the deadline queue, by state "
                                     "(queued: waiting for a worker; scheduled: alarms to come; failed: kept a day)",
                                     labels=["state"])
            for state, count in figures["jobs"].items():
                jobs.add_metric([state], count)
            yield jobs


def exposition(state: StateCollector | None) -> tuple[bytes, str]:
    """The text of /metrics: every process's counts on this machine, and the state read now."""
    registry = CollectorRegistry()
    if MULTIPROCESS:
        multiprocess.MultiProcessCollector(registry)
    else:
        from prometheus_client import REGISTRY
        registry = REGISTRY if state is None else _with(REGISTRY, state)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    if state is not None:
        registry.register(state)
    return generate_latest(registry), CONTENT_TYPE_LATEST


class _with:
    """The process's own registry plus one more collector, without registering it there for good."""

    def __init__(self, registry, extra):
        self.registry, self.extra = registry, extra

    def collect(self):
        yield from self.registry.collect()
        yield from self.extra.collect()


def process_died(pid: int) -> None:
    """Called by whoever reaps a process of this machine (gunicorn's master, the supervisor)."""
    if MULTIPROCESS:
        multiprocess.mark_process_dead(pid)
