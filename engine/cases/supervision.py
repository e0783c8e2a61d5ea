"""Supervision orders (督办) and in-app notices: what the SLA clock leaves for people to act on."""
from sqlalchemy import select

from engine.deadlines import alarms
from engine.deps import Deps
from engine.errors import ConflictError, NotFoundError, PermissionDenied, ValidationError
from engine.people import access
from engine.places import grid as grids
from engine.sla import clocks
from engine.store import timeline
from engine.store.model import Case, Deadline, Grid, Notification, SupervisionOrder, User


def list_orders(deps: Deps, user: User, status: str | None = "open") -> list[dict]:
    """Supervision orders on cases the user may see, newest first."""
    with deps.uow() as uow:
        session = uow.session
        query = (select(SupervisionOrder, Case.number, Grid.code).join(Case, Case.id == SupervisionOrder.case_id)
                 .join(Grid, Grid.id == SupervisionOrder.grid_id)
                 .where(access.visible_cases(session, user)).order_by(SupervisionOrder.issued_at.desc()).limit(200))
        if status:
            query = query.where(SupervisionOrder.status == status)
        return [_order(o, number, grid) for o, number, grid in session.execute(query)]


def answer_order(deps: Deps, actor_id: int, order_id: int, answer: str) -> dict:
    """A supervisor answers a supervision order with what is being done about the overdue case."""
    if not answer or not answer.strip():
        raise ValidationError("give an answer", {"answer": ["Missing data for required field."]})
    with deps.uow() as uow:
        session, now = uow.session, deps.clock.now()
        actor = session.get(User, actor_id)
        order = session.get(SupervisionOrder, order_id)
        if order is None:
            raise NotFoundError(f"supervision order {order_id} not found")
        case = access.load_visible_case(session, actor, order.case_id, lock=True)
        if actor.role not in ("supervisor", "admin"):
            raise PermissionDenied("only a supervisor answers a supervision order")
        if order.status != "open":
            raise ConflictError("the supervision order is already answered")
        order.status, order.answered_at, order.answered_by_id, order.answer = "answered", now, actor.id, answer.strip()
        for deadline in session.scalars(select(Deadline).where(Deadline.key == f"supervision:{order.id}",
                                                               Deadline.fired_at.is_(None))):
            deadline.cancelled_at = now
        timeline.append(session, case.id, now, actor, "supervision_answered", reason=order.answer,
                        payload={"order_id": order.id})
        grid = session.get(Grid, order.grid_id).code
        uow.commit()
        return _order(order, case.number, grid)


def issue_order(deps: Deps, actor_id: int, case_id: int, reason: str) -> dict:
    """A supervisor issues a supervision order (督办) on an open case in their area, as a breach would."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("give a reason", {"reason": ["Missing data for required field."]})
    with deps.uow() as uow:
        session, now = uow.session, deps.clock.now()
        actor = session.get(User, actor_id)
        case = access.load_visible_case(session, actor, case_id, lock=True)
        if actor.role not in ("supervisor", "admin"):
            raise PermissionDenied("only a supervisor issues a supervision order")
        if case.closed_at is not None:
            raise ConflictError(f"the case is already {case.status}")
        responsible = session.get(Grid, case.responsible_grid_id)
        grid = (session.get(Grid, actor.grid_id) if actor.grid_id else  # an admin supervises from one level up
                grids.ancestor_at(session, responsible, max(responsible.level - 1, 0)))
        due = clocks.calendar(session, deps).add(now, *alarms.ORDER_LIMIT)
        order = SupervisionOrder(case_id=case.id, grid_id=grid.id, reason=reason, issued_at=now, due_at=due.at,
                                 status="open")
        session.add(order)
        session.flush()
        deadline = Deadline(case_id=case.id, kind="supervision", name="supervision_order", due_at=order.due_at,
                            key=f"supervision:{order.id}")
        session.add(deadline)
        session.flush()
        timeline.append(session, case.id, now, actor, "supervision_ordered", reason=reason, payload={
            "order_id": order.id, "grid": grid.code, "due_at": order.due_at.isoformat(),
            "explanation": due.explanation})
        alarms.notify(session, case, None, "supervision_ordered", f"{case.number} 督办：{reason}", now)
        case.updated_at = now
        schedule = [(deadline.id, deadline.due_at)]
        uow.after_commit(lambda: deps.scheduler.schedule(schedule))
        uow.commit()
        return _order(order, case.number, grid.code)


def list_notifications(deps: Deps, user: User, unread_only: bool = False) -> list[dict]:
    """The user's notices, newest first."""
    with deps.uow() as uow:
        query = (select(Notification, Case.number).join(Case, Case.id == Notification.case_id)
                 .where(Notification.user_id == user.id).order_by(Notification.id.desc()).limit(200))
        if unread_only:
            query = query.where(Notification.read_at.is_(None))
        return [{"id": n.id, "case_id": n.case_id, "case_number": number, "kind": n.kind, "message": n.message,
                 "created_at": n.created_at, "read_at": n.read_at} for n, number in uow.session.execute(query)]


def mark_read(deps: Deps, user: User, notification_id: int) -> None:
    """Mark one of the user's notices as read."""
    with deps.uow() as uow:
        notice = uow.session.get(Notification, notification_id)
        if notice is None or notice.user_id != user.id:
            raise NotFoundError(f"notification {notification_id} not found")
        notice.read_at = notice.read_at or deps.clock.now()
        uow.commit()


def _order(o: SupervisionOrder, number: str, grid: str) -> dict:
    return {"id": o.id, "case_id": o.case_id, "case_number": number, "grid_code": grid, "reason": o.reason,
            "issued_at": o.issued_at, "due_at": o.due_at, "status": o.status, "answered_at": o.answered_at,
            "answer": o.answer}
