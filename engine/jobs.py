"""RQ entry points. Jobs take ids only; the worker hands this module its dependencies at start."""
import logging
import time

from engine import firing
from engine.deps import Deps

log = logging.getLogger(__name__)
_deps: Deps | None = None
WAIT_IN_JOB = 2.0  # seconds: a job woken this little before the due time waits instead of re-queueing


def configure(deps: Deps) -> None:
    global _deps
    _deps = deps


def fire_deadline(deadline_id: int) -> str:
    """Fire a deadline once. RQ's scheduler rounds to whole seconds and can wake a job early: a job a
    moment early waits for the due time; one woken earlier than that puts itself back on the schedule."""
    result = firing.fire_deadline(_deps, deadline_id)
    if result != "early":
        return result
    due = firing.deadline_due_at(_deps, deadline_id)
    if due is None:
        return "done"
    wait = (due - _deps.clock.now()).total_seconds()
    if wait <= WAIT_IN_JOB:
        time.sleep(max(wait, 0) + 0.001)
        result = firing.fire_deadline(_deps, deadline_id)
        if result != "early":
            return result
    _deps.scheduler.schedule([(deadline_id, due)])
    return "early"


def sweep() -> int:
    """Queue every due deadline that has not fired (lost jobs, Redis restarts, downtime)."""
    due = firing.due_deadlines(_deps)
    if due:
        _deps.scheduler.fire_now([deadline_id for deadline_id, _ in due])
    return len(due)
