"""Firing deadlines: exactly once, never before their time, whatever wakes them and however often.

The case row is locked first, then the deadline is read again: a second worker, a duplicate RQ job or the
sweep finds it fired (or cancelled) and does nothing. A job that wakes before the due time (RQ's scheduler
rounds to whole seconds) is told "early" and puts itself back. If the process dies half way the transaction
is rolled back, `fired_at` stays empty and the sweep fires it again, once.
"""
from sqlalchemy import select

from engine import alarms, clocks, runner, versions
from engine.deps import Deps
from engine.errors import ConflictError
from engine.model import Case, Deadline
from engine.projection import finish


def fire_deadline(deps: Deps, deadline_id: int) -> str:
    """Act on a due deadline once. Returns fired, early or done."""
    with deps.uow() as uow:
        session, now = uow.session, deps.clock.now()
        deadline = session.get(Deadline, deadline_id)
        if deadline is None:
            return "done"
        case = session.scalar(select(Case).where(Case.id == deadline.case_id).with_for_update(of=Case))
        session.refresh(deadline)
        if deadline.fired_at or deadline.cancelled_at:
            return "done"
        if now < deadline.due_at:
            return "early"
        deadline.attempts += 1
        spec = versions.spec_of(deps.specs, case.process_version)
        workflow = runner.restore(spec, case.state)
        if deadline.kind == "timer":
            step = runner.advance(workflow)
            if any(f"timer:{t.task_id}" == deadline.key for t in step.timers):
                uow.commit()  # the workflow's own clock has not reached it yet: try again later
                return "early"
        else:
            step, scheduled = _sla(deps, session, case, deadline, workflow, now)
        deadline.fired_at = now
        case.state = runner.dump(spec, workflow)
        finish(deps, uow, case, spec, step, now, None, scheduled=scheduled if deadline.kind != "timer" else ())
        return "fired"


def _sla(deps, session, case, deadline, workflow, now):
    """A warning notifies; a breach is recorded, ordered and sent into the process, which may escalate."""
    scheduled = ()
    if deadline.kind == "warning":
        if not alarms.superseded(session, deadline, now):
            alarms.warn(session, case, deadline, now)
    elif deadline.kind == "supervision":
        alarms.supervision_overdue(session, case, deadline, now)
    elif deadline.kind == "breach":
        order = alarms.breach(session, case, deadline, now, clocks.calendar(session, deps))
        scheduled = tuple(session.scalars(select(Deadline).where(Deadline.key == f"supervision:{order.id}")))
        try:
            return runner.send_message(workflow, "sla_breached", {
                "reason": order.reason, "by": "system", "deadline": deadline.id}), scheduled
        except ConflictError:
            pass  # this step has no escalation drawn: the breach and the order are on record
    return runner.advance(workflow), scheduled


def due_deadlines(deps: Deps, limit: int = 1000) -> list[tuple[int, object]]:
    """Pending deadlines that are due now: what the sweep hands back to the queue."""
    with deps.uow() as uow:
        rows = uow.session.execute(
            select(Deadline.id, Deadline.due_at)
            .where(Deadline.fired_at.is_(None), Deadline.cancelled_at.is_(None), Deadline.due_at <= deps.clock.now())
            .order_by(Deadline.due_at).limit(limit))
        return [(row.id, row.due_at) for row in rows]


def deadline_due_at(deps: Deps, deadline_id: int):
    """When a pending deadline is due, or None once it has fired or been cancelled."""
    with deps.uow() as uow:
        deadline = uow.session.get(Deadline, deadline_id)
        if deadline is None or deadline.fired_at or deadline.cancelled_at:
            return None
        return deadline.due_at
