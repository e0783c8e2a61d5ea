"""Supervision orders (督办): issued by a supervisor or by a breached clock, answered within a working day."""
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.cases import notices
from engine.deps import Deps
from engine.errors import ConflictError, NotFoundError, PermissionDenied, ValidationError
from engine.people import access
from engine.places import grid as grids
from engine.sla import clocks, keys
from engine.sla.calendar import BusinessCalendar, Due
from engine.store import case_rows, timeline
from engine.store.model import Case, Deadline, Grid, SupervisionOrder, User

ANSWER_WITHIN = (1, "working_days")
SUPERVISING_ROLES = ("supervisor", "admin")
ORDER_STATUSES = ("open", "answered", "overdue")  # overdue: open and past its answer time now
LONGEST_DEADLINE = timedelta(days=90)


def list_orders(deps: Deps, user: User, status: str | None = "open", case_id: int | None = None) -> list[dict]:
    """Supervision orders on cases the user may see (on one case when `case_id` is given), newest first."""
    with deps.uow() as uow:
        session = uow.session
        query = (select(SupervisionOrder, Case.number, Grid.code).join(Case, Case.id == SupervisionOrder.case_id)
                 .join(Grid, Grid.id == SupervisionOrder.grid_id)
                 .where(access.visible_cases(session, user)).order_by(SupervisionOrder.issued_at.desc(),
                                                                      SupervisionOrder.id.desc()).limit(200))
        if status == "overdue":
            query = query.where(SupervisionOrder.status == "open", SupervisionOrder.due_at < deps.clock.now())
        elif status:
            query = query.where(SupervisionOrder.status == status)
        if case_id is not None:
            query = query.where(SupervisionOrder.case_id == case_id)
        return [_order(o, number, grid) for o, number, grid in session.execute(query)]


def issue_order(deps: Deps, actor_id: int, case_id: int, reason: str, due_at: datetime | None = None) -> dict:
    """A supervisor issues a supervision order (督办) on an open case in their area, as a breach would: to be
    answered by `due_at` when given (in the future, within 90 days), else within one working day."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("give a reason", {"reason": ["Missing data for required field."]})
    if due_at is not None and not deps.clock.now() < due_at <= deps.clock.now() + LONGEST_DEADLINE:
        raise ValidationError("the deadline must be in the future, within 90 days",
                              {"due_at": ["Must be in the future, within 90 days."]})
    with deps.uow() as uow:
        session, now = uow.session, deps.clock.now()
        actor = access.actor(session, actor_id)
        case = access.load_visible_case(session, actor, case_id, lock=True)
        if actor.role not in SUPERVISING_ROLES:
            raise PermissionDenied("only a supervisor issues a supervision order")
        if case.closed_at is not None:
            raise ConflictError(f"the case is already {case.status}")
        grid = session.get(Grid, actor.grid_id) if actor.grid_id else level_above(session, case)
        order, deadline = open_order(session, case, grid, reason, now, clocks.calendar(session, deps), actor,
                                     due_at=due_at)
        notices.notify(session, case, "supervision_ordered", f"{case.number} 督办：{reason}", now)
        case.updated_at = now
        uow.schedule_after_commit(deps.scheduler, [deadline])
        uow.commit()
        return _order(order, case.number, grid.code)


def answer_order(deps: Deps, actor_id: int, order_id: int, answer: str) -> dict:
    """A supervisor answers a supervision order with what is being done about the overdue case."""
    if not answer or not answer.strip():
        raise ValidationError("give an answer", {"answer": ["Missing data for required field."]})
    with deps.uow() as uow:
        session, now = uow.session, deps.clock.now()
        actor = access.actor(session, actor_id)
        order = session.get(SupervisionOrder, order_id)
        try:
            if order is None:
                raise NotFoundError("no such order")
            case = access.load_visible_case(session, actor, order.case_id, lock=True)
        except NotFoundError:
            raise NotFoundError(f"supervision order {order_id} not found") from None  # names no case
        if actor.role not in SUPERVISING_ROLES:
            raise PermissionDenied("only a supervisor answers a supervision order")
        if order.status != "open":
            raise ConflictError("the supervision order is already answered")
        order.status, order.answered_at, order.answered_by_id, order.answer = "answered", now, actor.id, answer.strip()
        for deadline in session.scalars(select(Deadline).where(Deadline.key == keys.supervision(order.id),
                                                               Deadline.fired_at.is_(None))):
            deadline.cancelled_at = now
        timeline.append(session, case.id, now, actor, "supervision_answered", reason=order.answer,
                        payload={"order_id": order.id})
        grid = session.get(Grid, order.grid_id).code
        uow.commit()
        return _order(order, case.number, grid)


def open_order(session: Session, case: Case, grid: Grid, reason: str, now: datetime, cal: BusinessCalendar,
               actor: User | None = None, clock_id: int | None = None,
               due_at: datetime | None = None) -> tuple[SupervisionOrder, Deadline]:
    """The one way an order is made: the order to `grid`, its answer deadline (one working day unless `due_at`
    says otherwise) and its timeline event."""
    due = cal.add(now, *ANSWER_WITHIN) if due_at is None else Due(at=due_at, explanation={
        "due": cal.local(due_at).isoformat(), "rule": "督办人指定的答复期限", "rule_en": "set by the supervisor",
        "warnings": [], "warnings_en": []})
    order, = case_rows.write_now(session, [SupervisionOrder(  # its id names its deadline: written now
        case_id=case.id, clock_id=clock_id, grid_id=grid.id, reason=reason, issued_at=now, due_at=due.at,
        status="open")])
    deadline = Deadline(case_id=case.id, kind="supervision", name="supervision_order", due_at=order.due_at,
                        key=keys.supervision(order.id))
    case_rows.add_deadlines(session, [deadline])  # inserted at the commit
    timeline.append(session, case.id, now, actor, "supervision_ordered", reason=reason, payload={
        "order_id": order.id, "grid": grid.code, "due_at": cal.local(order.due_at).isoformat(),
        "explanation": due.explanation})
    return order, deadline


def level_above(session: Session, case: Case) -> Grid:
    """The grid one level above the one now responsible for the case (the city stays the city)."""
    responsible = session.get(Grid, case.responsible_grid_id)
    return grids.ancestor_at(session, responsible, max(responsible.level - 1, 0))


def _order(o: SupervisionOrder, number: str, grid: str) -> dict:
    return {"id": o.id, "case_id": o.case_id, "case_number": number, "grid_code": grid, "reason": o.reason,
            "issued_at": o.issued_at, "due_at": o.due_at, "status": o.status, "answered_at": o.answered_at,
            "answer": o.answer}
