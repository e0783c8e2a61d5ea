"""In-app notices: who hears of a case's warning, breach or supervision order, and their list of notices."""
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.deps import Deps
from engine.errors import NotFoundError
from engine.places import grid as grids
from engine.store import case_rows
from engine.store.model import Case, Grid, Notification, User


def notify(session: Session, case: Case, kind: str, message: str, now: datetime) -> None:
    """The assignees of the case's open tasks and the supervisors over the case's town."""
    people = {t.assignee_id for t in case_rows.of(session, case.id).open_tasks() if t.assignee_id is not None}
    people |= _supervisors_over(session, session.get(Grid, case.grid_id))
    case_rows.insert_at_commit(session, Notification, [  # with the transaction's other notices, asking no ids
        {"user_id": user_id, "case_id": case.id, "kind": kind, "message": message, "created_at": now}
        for user_id in sorted(people)])


def list_notifications(deps: Deps, user: User, unread_only: bool = False) -> list[dict]:
    """The user's notices, newest first: a case's, or a campaign assignment's (reminders, overdue)."""
    with deps.uow() as uow:
        query = (select(Notification, Case.number).outerjoin(Case, Case.id == Notification.case_id)
                 .where(Notification.user_id == user.id).order_by(Notification.id.desc()).limit(200))
        if unread_only:
            query = query.where(Notification.read_at.is_(None))
        return [{"id": n.id, "case_id": n.case_id, "case_number": number, "assignment_id": n.assignment_id,
                 "kind": n.kind, "message": n.message,
                 "created_at": n.created_at, "read_at": n.read_at} for n, number in uow.session.execute(query)]


def mark_read(deps: Deps, user: User, notification_id: int) -> None:
    """Mark one of the user's notices as read."""
    with deps.uow() as uow:
        notice = uow.session.get(Notification, notification_id)
        if notice is None or notice.user_id != user.id:
            raise NotFoundError(f"notification {notification_id} not found")
        notice.read_at = notice.read_at or deps.clock.now()
        uow.commit()


def _supervisors_over(session: Session, grid: Grid) -> set[int]:
    """Active supervisors of the city and of the grid's town, read once per transaction (a batch of firings)."""
    codes = grids.path_codes(grid)[:2]
    paths = tuple("/" + "/".join(codes[:i]) + "/" for i in range(1, len(codes) + 1))
    known = session.info.setdefault("supervisors_over", {})
    if paths not in known:
        known[paths] = set(session.scalars(select(User.id).join(Grid, Grid.id == User.grid_id).where(
            User.role == "supervisor", User.active.is_(True), Grid.path.in_(paths))))
    return known[paths]
