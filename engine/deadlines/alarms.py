"""What a due SLA deadline does: a warning notifies, a breach escalates and opens a supervision order (督办).

Called by services.fire_deadline with the case row locked and the deadline known to be due and unfired.
After downtime several deadlines of one clock can be due together: only the furthest one speaks, so a
late worker sends one notice, not one per missed interval.
"""
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.places import grid as grids
from engine.store import timeline
from engine.store.model import Case, Deadline, Grid, Notification, SlaClock, SupervisionOrder, Task, User

ORDER_LIMIT = (1, "working_days")  # a supervision order must be answered within this
SHANGHAI = ZoneInfo("Asia/Shanghai")


def superseded(session: Session, deadline: Deadline, now: datetime) -> bool:
    """True when a later warning or the breach of the same clock is also due: let that one speak."""
    return session.scalar(select(Deadline.id).where(
        Deadline.clock_id == deadline.clock_id, Deadline.id != deadline.id, Deadline.fired_at.is_(None),
        Deadline.cancelled_at.is_(None), Deadline.fraction > deadline.fraction, Deadline.due_at <= now)
        .limit(1)) is not None


def warn(session: Session, case: Case, deadline: Deadline, now: datetime) -> None:
    """A clock has used a fraction of its limit: tell the assignee and the supervisors."""
    clock = session.get(SlaClock, deadline.clock_id)
    percent = round(deadline.fraction * 100)
    message = f"{case.number} {_step_title(session, case, clock)} 已用时 {percent}%，将于 {_local(clock.due_at)} 到期"
    timeline.append(session, case.id, now, None, "sla_warning", reason=message, payload={
        "step": clock.step, "fraction": deadline.fraction, "due_at": clock.due_at.isoformat(),
        "policy": clock.policy})
    notify(session, case, clock, "sla_warning", message, now)


def breach(session: Session, case: Case, deadline: Deadline, now: datetime, cal) -> SupervisionOrder:
    """A clock ran out: record it with its explanation and issue a supervision order one level up."""
    clock = session.get(SlaClock, deadline.clock_id)
    clock.breached_at = now
    title = _step_title(session, case, clock)
    message = f"{case.number} {title} 已超时（时限：{clock.policy}，应于 {_local(clock.due_at)} 前完成）"
    timeline.append(session, case.id, now, None, "sla_breached", reason=message, payload={
        "step": clock.step, "due_at": clock.due_at.isoformat(), "explanation": clock.explanation})
    above = grids.ancestor_at(session, session.get(Grid, case.responsible_grid_id), max(case.responsible_level - 1, 0))
    order_due = cal.add(now, *ORDER_LIMIT)
    order = SupervisionOrder(case_id=case.id, clock_id=clock.id, grid_id=above.id, reason=message, issued_at=now,
                             due_at=order_due.at, status="open")
    session.add(order)
    session.flush()
    timeline.append(session, case.id, now, None, "supervision_ordered", reason=message, payload={
        "order_id": order.id, "grid": above.code, "due_at": order.due_at.isoformat(),
        "explanation": order_due.explanation})
    session.add(Deadline(case_id=case.id, kind="supervision", name="supervision_order", due_at=order.due_at,
                         key=f"supervision:{order.id}"))
    notify(session, case, clock, "sla_breached", message, now)
    return order


def supervision_overdue(session: Session, case: Case, deadline: Deadline, now: datetime) -> None:
    """A supervision order was not answered in time."""
    order = session.get(SupervisionOrder, int(deadline.key.split(":")[1]))
    if order.status != "open":
        return
    message = f"{case.number} 督办单未按期答复（应于 {_local(order.due_at)} 前答复）"
    timeline.append(session, case.id, now, None, "supervision_overdue", reason=message,
                    payload={"order_id": order.id})
    notify(session, case, None, "supervision_overdue", message, now)


def notify(session, case, clock, kind, message, now) -> None:
    """The step's assignee (or the case's open-task assignees) and the supervisors over the case's town."""
    people = set(session.scalars(select(Task.assignee_id).where(
        Task.case_id == case.id, Task.status.in_(("open", "claimed")), Task.assignee_id.is_not(None))))
    people |= _supervisors_over(session, session.get(Grid, case.grid_id))
    session.add_all(Notification(user_id=user_id, case_id=case.id, kind=kind, message=message, created_at=now)
                    for user_id in sorted(people))


def _supervisors_over(session, grid: Grid) -> set[int]:
    """Active supervisors of the city and of the grid's town, read once per transaction (a batch of firings)."""
    codes = grids.path_codes(grid)[:2]
    paths = tuple("/" + "/".join(codes[:i]) + "/" for i in range(1, len(codes) + 1))
    known = session.info.setdefault("supervisors_over", {})
    if paths not in known:
        known[paths] = set(session.scalars(select(User.id).join(Grid, Grid.id == User.grid_id).where(
            User.role == "supervisor", User.active.is_(True), Grid.path.in_(paths))))
    return known[paths]


def _step_title(session, case, clock) -> str:
    if clock.step == "case":
        return "整体办理"
    title = session.scalar(select(Task.title).where(Task.case_id == case.id, Task.name == clock.step)
                           .order_by(Task.created_at.desc()).limit(1))
    return f"“{title or clock.step}”环节"


def _local(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
