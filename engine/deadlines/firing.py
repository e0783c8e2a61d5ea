"""Firing deadlines: exactly once, never before their time, whatever wakes them and however often.

Workers take due deadlines with a short lease (`lease_due`) so that two workers draining a backlog share it
rather than queue behind each other's locks; the lease is only a division of work. A leased batch fires in
one transaction (`fire_deadlines`), which pays one commit for many firings. Exactness comes from the case
lock: the deadline is read with its case row locked, so a second worker, a duplicate job or the sweep finds
it fired (or cancelled) and does nothing, and a call before the due time is told "early".
If the process dies half way the transaction is rolled back, `fired_at` stays empty, the lease runs out and
the sweep hands the deadline to a worker again, which fires it once.
"""
import logging
from collections import Counter
from datetime import datetime

from sqlalchemy import func, or_, select, update

from engine.campaigns import alarms as campaign_alarms
from engine.cases import failures
from engine.cases.projection import Run, project
from engine.deadlines import alarms
from engine.deps import Deps
from engine.errors import ConflictError
from engine.process import runner, versions
from engine.sla import clocks, keys
from engine.store import case_rows
from engine.store.model import Assignment, Case, Deadline

log = logging.getLogger(__name__)
NOTICES = ("warning", "supervision")  # deadlines that only tell people: the process is not touched


def fire_deadline(deps: Deps, deadline_id: int) -> str:
    """Act on a due deadline once. Returns fired, early or done."""
    with deps.uow() as uow:
        session = uow.session
        owner = session.execute(select(Deadline.case_id, Deadline.assignment_id)
                                .where(Deadline.id == deadline_id)).first()
        if owner is None:
            return "done"
        if owner.case_id is None:  # a campaign assignment's reminder or overdue
            assignment = session.scalar(select(Assignment).where(Assignment.id == owner.assignment_id)
                                        .with_for_update())
            result = campaign_alarms.fire(session, assignment, session.get(Deadline, deadline_id),
                                          deps.clock.now(), clocks.calendar(session, deps))
        else:
            case = session.scalar(select(Case).where(Case.id == owner.case_id).with_for_update(of=Case))
            case_rows.of(session, case.id)  # read before the firing changes anything: no flush first
            result = _fire(deps, uow, case, session.get(Deadline, deadline_id), deps.clock.now())
        uow.commit()
        return result


def fire_deadlines(deps: Deps, deadline_ids: list[int]) -> Counter:
    """Fire leased deadlines together in one transaction; if one fails, one by one so the others still fire."""
    try:
        with deps.uow() as uow:
            session, now = uow.session, deps.clock.now()
            owners = session.execute(select(Deadline.case_id, Deadline.assignment_id)
                                     .where(Deadline.id.in_(deadline_ids))).all()
            case_ids = sorted({o.case_id for o in owners if o.case_id is not None})
            assignment_ids = sorted({o.assignment_id for o in owners if o.case_id is None})
            cases = {c.id: c for c in session.scalars(
                select(Case).where(Case.id.in_(case_ids)).order_by(Case.id).with_for_update(of=Case))} \
                if case_ids else {}
            assignments = {a.id: a for a in session.scalars(
                select(Assignment).where(Assignment.id.in_(assignment_ids)).order_by(Assignment.id)
                .with_for_update())} if assignment_ids else {}
            deadlines = session.scalars(select(Deadline).where(Deadline.id.in_(deadline_ids))
                                        .order_by(Deadline.due_at, Deadline.id)).all()
            case_rows.load(session, case_ids)  # their tasks, clocks and deadlines: one read for the batch
            cal = clocks.calendar(session, deps) if assignments else None
            results = Counter(_fire(deps, uow, cases[d.case_id], d, now) if d.case_id is not None
                              else campaign_alarms.fire(session, assignments[d.assignment_id], d, now, cal)
                              for d in deadlines)
            uow.commit()
            return results
    except Exception:  # noqa: BLE001 - find the one that fails; it keeps its lease, the sweep retries it later
        log.exception("firing %d deadlines together failed; firing them one by one", len(deadline_ids))
    results = Counter()
    for deadline_id in deadline_ids:
        try:
            results[fire_deadline(deps, deadline_id)] += 1
        except Exception as exc:  # noqa: BLE001
            log.exception("firing deadline %s failed", deadline_id)
            failures.record_deadline_failure(deps, deadline_id, exc)
            results["failed"] += 1
    return results


def _fire(deps: Deps, uow, case: Case, deadline: Deadline, now: datetime) -> str:
    """With the case locked: act on the deadline unless it fired, was cancelled or is not due; no commit.

    The new deadlines the firing makes are registered with the unit of work, to be scheduled after its commit."""
    if deadline.fired_at or deadline.cancelled_at:
        return "done"
    if now < deadline.due_at:
        return "early"
    with uow.session.no_autoflush:  # what it reads is held by the transaction: the firing writes in one go
        return _act(deps, uow, case, deadline, now)


def _act(deps: Deps, uow, case: Case, deadline: Deadline, now: datetime) -> str:
    session = uow.session
    cal = clocks.calendar(session, deps)
    if deadline.kind in NOTICES:
        _notice(session, case, deadline, now, cal)
        deadline.fired_at, deadline.attempts = now, deadline.attempts + 1  # one UPDATE, at commit
        return "fired"
    spec = versions.spec_of(session, deps.specs, case.process_version_id)
    workflow = runner.restore(spec, case.state)
    ordered = []
    if deadline.kind == "timer":
        step = runner.advance(workflow)
        if any(keys.timer(t.task_id) == deadline.key for t in step.timers):
            return "early"  # the workflow's own clock has not reached it yet: try again later
    else:
        step, ordered = _breach(session, case, deadline, workflow, now, cal)
    deadline.fired_at, deadline.attempts = now, deadline.attempts + 1
    case.state = runner.dump(spec, workflow)
    uow.schedule_after_commit(deps.scheduler, [*ordered, *project(Run(deps, uow, case, spec, now), step)])
    return "fired"


def _notice(session, case, deadline, now, cal) -> None:
    """A warning or an unanswered supervision order: notifications and a timeline event, nothing else."""
    if deadline.kind == "supervision":
        alarms.supervision_overdue(session, case, deadline, now, cal)
    elif not alarms.superseded(session, deadline, now):
        alarms.warn(session, case, deadline, now, cal)


def _breach(session, case, deadline, workflow, now, cal):
    """A breach is recorded, ordered and sent into the process, which may escalate."""
    order, answer_by = alarms.breach(session, case, deadline, now, cal)
    try:
        return runner.send_message(workflow, "sla_breached", {
            "reason": order.reason, "by": "system", "deadline": deadline.id}), [answer_by]
    except ConflictError:  # this step has no escalation drawn: the breach and the order are on record
        return runner.advance(workflow), [answer_by]


def _free(now: datetime):
    """Pending, due and held by no worker."""
    return (Deadline.fired_at.is_(None) & Deadline.cancelled_at.is_(None) & (Deadline.due_at <= now)
            & or_(Deadline.leased_until.is_(None), Deadline.leased_until < now))


def lease_due(deps: Deps, limit: int = 20) -> list[int]:
    """Take up to `limit` due deadlines that no worker holds, oldest first, for `deps.lease`; returns their ids."""
    with deps.uow() as uow:
        now = deps.clock.now()
        free = (select(Deadline.id).where(_free(now)).order_by(Deadline.due_at).limit(limit)
                .with_for_update(skip_locked=True))
        taken = uow.session.scalars(update(Deadline).where(Deadline.id.in_(free)).values(leased_until=now + deps.lease)
                                    .returning(Deadline.id).execution_options(synchronize_session=False)).all()
        uow.commit()
        return sorted(taken)


def due_deadlines(deps: Deps, limit: int = 1000) -> list[tuple[int, object]]:
    """Due deadlines that no worker holds: what the sweep hands back to the queue."""
    with deps.uow() as uow:
        now = deps.clock.now()
        rows = uow.session.execute(select(Deadline.id, Deadline.due_at).where(_free(now))
                                   .order_by(Deadline.due_at).limit(limit))
        return [(row.id, row.due_at) for row in rows]


def next_due(deps: Deps, before: datetime) -> datetime | None:
    """The earliest due time before `before` of a pending deadline no worker holds."""
    with deps.uow() as uow:
        now = deps.clock.now()
        return uow.session.scalar(select(func.min(Deadline.due_at)).where(
            Deadline.fired_at.is_(None), Deadline.cancelled_at.is_(None), Deadline.due_at < before,
            or_(Deadline.leased_until.is_(None), Deadline.leased_until < now)))
