"""RQ entry points. Jobs take plain values; the worker hands this module its dependencies at start.

Redis is the alarm clock, not the list of work: one job wakes a worker for each second in which deadlines
fall due, and the worker then fires whatever the database says is due, leasing it so that helpers can share
a backlog. A job woken early (RQ's scheduler works in whole seconds) fires nothing before its time.
"""
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

from engine.campaigns import services as campaigns
from engine.deadlines import delivery, firing
from engine.deps import Deps
from engine.indicators import rollup

_deps: Deps | None = None
WAIT_IN_JOB = 2.0  # seconds: a job woken this little before a due time waits instead of re-queueing
BATCH = 20  # deadlines leased at a time
SLICE = 30.0  # seconds one job drains a backlog before a fresh job takes over
HOOK_BATCH = 50  # webhook deliveries leased and sent (in parallel) at a time


def configure(deps: Deps) -> None:
    global _deps
    _deps = deps


def fire_due(second: int) -> dict:
    """The alarm for one second: fire every deadline due by then, waiting in the job for those due within it."""
    end = datetime.fromtimestamp(second + 1, UTC)
    results: Counter = Counter()
    while True:
        fired, done = _drain(first=not results)
        results += fired
        if not done:  # a long backlog: a fresh job goes on with it
            return dict(results)
        due = firing.next_due(_deps, before=end)
        if due is None:
            return dict(results)
        wait = (due - _deps.clock.now()).total_seconds()
        if wait > WAIT_IN_JOB:  # woken far too early (clocks apart): come back at the due time
            _deps.scheduler.schedule_again(second, due)
            return {**results, "rescheduled": 1}
        if wait > 0:
            results["waited_ms"] += round(wait * 1000)
            time.sleep(wait + 0.001)


def drain() -> dict:
    """Help with a backlog: fire due deadlines until none is left untaken (or SLICE is used up)."""
    return dict(_drain()[0])


def _drain(first: bool = False) -> tuple[Counter, bool]:
    """Fire due deadlines, BATCH at a time, until none is left untaken; ask idle workers to help with a backlog.

    After SLICE seconds the rest goes to a fresh drain job, so no job runs into RQ's job timeout (which
    would kill it half way and leave its leased deadlines waiting for their leases to run out).
    Returns what was done, and whether nothing due was left untaken."""
    results: Counter = Counter()
    began = time.monotonic()
    while taken := firing.lease_due(_deps, BATCH):
        if first and len(taken) == BATCH:
            _deps.scheduler.ask_for_help()
        first = False
        results += firing.fire_deadlines(_deps, taken)
        if time.monotonic() - began > SLICE:
            _deps.scheduler.drain_later()
            return results, False
    return results, True


def deliver_webhooks() -> dict:
    """Send due webhook deliveries until none is left (retries due within WAIT_IN_JOB are waited for here)."""
    _deps.scheduler.webhooks_taken()
    results: Counter = Counter()
    began = time.monotonic()
    while True:
        sent, delivered = delivery.deliver_batch(_deps, HOOK_BATCH)
        if sent:
            if sent == HOOK_BATCH and not results:
                _deps.scheduler.webhook_help()
            results["sent"] += sent
            results["delivered"] += delivered
            if time.monotonic() - began > SLICE:
                _deps.scheduler.wake_webhooks()
                return dict(results)
            continue
        due = delivery.next_due(_deps)
        wait = (due - _deps.clock.now()).total_seconds() if due is not None else None
        if wait is None:
            return dict(results)
        if wait > WAIT_IN_JOB:
            _deps.scheduler.wake_webhooks(due)
            return dict(results)
        time.sleep(max(wait, 0) + 0.01)


def sweep() -> int:
    """Wake a worker for due deadlines and webhook deliveries no one holds (lost alarms, Redis restarts,
    downtime, dead workers)."""
    due = firing.due_deadlines(_deps, limit=1)
    if due:
        _deps.scheduler.fire_now(_deps.clock.now() - timedelta(seconds=1))
    hook = delivery.next_due(_deps)
    if hook is not None and hook <= _deps.clock.now():
        _deps.scheduler.wake_webhooks()
    return len(due) + (hook is not None)


def count_indicators() -> int:
    """Fold the cases changed since the last sweep into the indicators' rollup (the worker's sweep calls it)."""
    return rollup.catch_up(_deps)


def next_rounds() -> int:
    """Launch the next round of recurring campaigns whose time has come (the worker's sweep calls it)."""
    return len(campaigns.launch_due_rounds(_deps))
