"""What a due SLA deadline does: a warning notifies, a breach escalates and opens a supervision order (督办).

Called by firing with the case row locked and the deadline known to be due and unfired. After downtime
several deadlines of one clock can be due together: only the furthest one speaks, so a late worker sends one
notice, not one per missed interval.
"""
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.cases import notices, supervision
from engine.sla import keys
from engine.sla.calendar import BusinessCalendar
from engine.store import case_rows, timeline
from engine.store.model import Case, Deadline, SlaClock, SupervisionOrder, Task


def superseded(session: Session, deadline: Deadline, now: datetime) -> bool:
    """True when a later warning or the breach of the same clock is also due: let that one speak."""
    return any(d is not deadline and d.clock_id == deadline.clock_id and d.fraction > deadline.fraction
               and d.due_at <= now for d in case_rows.of(session, deadline.case_id).pending())


def warn(session: Session, case: Case, deadline: Deadline, now: datetime, cal: BusinessCalendar) -> None:
    """A clock has used a fraction of its limit: tell the assignee and the supervisors."""
    clock = session.get(SlaClock, deadline.clock_id)
    percent = round(deadline.fraction * 100)
    message = (f"{case.number} {_step_title(session, case, clock)} 已用时 {percent}%，"
               f"将于 {_local(cal, clock.due_at)} 到期")
    timeline.append(session, case.id, now, None, "sla_warning", reason=message, payload={
        "step": clock.step, "fraction": deadline.fraction, "due_at": cal.local(clock.due_at).isoformat(),
        "policy": clock.policy})
    notices.notify(session, case, "sla_warning", message, now)


def breach(session: Session, case: Case, deadline: Deadline, now: datetime,
           cal: BusinessCalendar) -> tuple[SupervisionOrder, Deadline]:
    """A clock ran out: record it with its explanation and issue a supervision order one level up."""
    clock = session.get(SlaClock, deadline.clock_id)
    clock.breached_at = now
    title = _step_title(session, case, clock)
    message = f"{case.number} {title} 已超时（时限：{clock.policy}，应于 {_local(cal, clock.due_at)} 前完成）"
    timeline.append(session, case.id, now, None, "sla_breached", reason=message, payload={
        "step": clock.step, "due_at": cal.local(clock.due_at).isoformat(), "explanation": clock.explanation})
    order, answer_by = supervision.open_order(session, case, supervision.level_above(session, case), message, now,
                                              cal, clock_id=clock.id)
    notices.notify(session, case, "sla_breached", message, now)
    return order, answer_by


def supervision_overdue(session: Session, case: Case, deadline: Deadline, now: datetime,
                        cal: BusinessCalendar) -> None:
    """A supervision order was not answered in time."""
    order = session.get(SupervisionOrder, keys.order_id(deadline.key))
    if order.status != "open":
        return
    message = f"{case.number} 督办单未按期答复（应于 {_local(cal, order.due_at)} 前答复）"
    timeline.append(session, case.id, now, None, "supervision_overdue", reason=message,
                    payload={"order_id": order.id})
    notices.notify(session, case, "supervision_overdue", message, now)


def _step_title(session, case, clock) -> str:
    if clock.step == "case":
        return "整体办理"
    title = next((t.title for t in reversed(case_rows.of(session, case.id).tasks) if t.name == clock.step), None)
    if title is None:  # the step's task is no longer open
        title = session.scalar(select(Task.title).where(Task.case_id == case.id, Task.name == clock.step)
                               .order_by(Task.created_at.desc()).limit(1))
    return f"“{title or clock.step}”环节"


def _local(cal: BusinessCalendar, moment: datetime) -> str:
    return cal.local(moment).strftime("%Y-%m-%d %H:%M")
