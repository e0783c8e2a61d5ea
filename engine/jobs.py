"""RQ entry points. Jobs take ids only; the worker hands this module its dependencies at start."""
import logging

from engine import firing
from engine.deps import Deps

log = logging.getLogger(__name__)
_deps: Deps | None = None


def configure(deps: Deps) -> None:
    global _deps
    _deps = deps


def fire_deadline(deadline_id: int) -> str:
    """Fire a deadline once; a job woken before the due time puts itself back for the due time."""
    result = firing.fire_deadline(_deps, deadline_id)
    if result == "early":
        due = firing.deadline_due_at(_deps, deadline_id)
        if due is not None:
            _deps.scheduler.schedule([(deadline_id, due)])
    return result


def sweep() -> int:
    """Queue every due deadline that has not fired (lost jobs, Redis restarts, downtime)."""
    due = firing.due_deadlines(_deps)
    if due:
        _deps.scheduler.fire_now([deadline_id for deadline_id, _ in due])
    return len(due)
