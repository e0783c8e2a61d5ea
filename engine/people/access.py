"""Who may see and act on what, by role, grid subtree and department; used by services and views."""
from sqlalchemy import and_, false, or_, select, true
from sqlalchemy.orm import Session

from engine.errors import ConflictError, NotFoundError, PermissionDenied
from engine.store.model import Case, Grid, Task, User

ROLES = ("grid_worker", "grid_leader", "liaison", "supervisor", "admin")
REPORTING_ROLES = ("grid_worker", "grid_leader", "admin")


def user_grid_path(session: Session, user: User) -> str | None:
    return session.scalar(select(Grid.path).where(Grid.id == user.grid_id)) if user.grid_id else None


def subtree_ids(session: Session, path: str) -> list[int]:
    """Ids of the grids in the subtree at `path`, read once so the big tables are filtered by id."""
    return list(session.scalars(select(Grid.id).where(Grid.path.startswith(path, autoescape=True))))


def visible_cases(session: Session, user: User):
    """A WHERE clause over Case for the cases `user` may see."""
    if user.role == "admin":
        return true()
    clauses = [Case.reporter_id == user.id]
    path = user_grid_path(session, user)
    if path and user.role in ("grid_worker", "grid_leader", "supervisor"):
        clauses.append(Case.grid_id.in_(subtree_ids(session, path)))
    if user.department_id:
        clauses.append(Case.id.in_(select(Task.case_id).where(Task.department_id == user.department_id)))
    clauses.append(Case.id.in_(select(Task.case_id).where(Task.assignee_id == user.id)))
    return or_(*clauses)


def load_visible_case(session: Session, user: User, case_id: int, lock: bool = False) -> Case:
    """The case if `user` may see it; out of scope reads as not found, so ids leak nothing."""
    query = select(Case).where(Case.id == case_id, visible_cases(session, user))
    if lock:
        query = query.with_for_update(of=Case)
    case = session.scalar(query)
    if case is None:
        raise NotFoundError(f"case {case_id} not found")
    return case


def offered_tasks(session: Session, user: User):
    """A WHERE clause over Task for open tasks `user` could claim."""
    return and_(Task.status == "open", candidate_tasks(session, user))


def candidate_tasks(session: Session, user: User):
    """A WHERE clause over Task for tasks whose role, department or grid make `user` one who may take them."""
    if user.role == "admin":
        return true()
    role_matches = Task.candidate_role == user.role
    if user.department_id:
        return and_(role_matches, Task.department_id == user.department_id)
    path = user_grid_path(session, user)
    if not path:
        return false()
    return and_(role_matches, Task.grid_id.in_(subtree_ids(session, path)))


def visible_tasks(session: Session, user: User):
    """A WHERE clause over Task: tasks assigned to `user`, offered to them, or on cases they see."""
    return or_(Task.assignee_id == user.id, offered_tasks(session, user),
               Task.case_id.in_(select(Case.id).where(visible_cases(session, user))))


def check_can_act(session: Session, user: User, task: Task) -> None:
    """Raise PermissionDenied unless `user` may claim or complete `task`."""
    if task.assignee_id is not None:
        if task.assignee_id == user.id:
            return
        raise ConflictError("the task has already been claimed by someone else")
    if user.role == "admin":
        return
    if task.candidate_role != user.role:
        raise PermissionDenied(f"this task is for the role {task.candidate_role!r}")
    offered = session.scalar(select(Task.id).where(Task.id == task.id, offered_tasks(session, user)))
    if offered is None:
        raise PermissionDenied("this task is outside your grid or department")


def is_candidate(session: Session, user: User, task: Task) -> bool:
    """Whether `user` may take `task`, whoever holds it now: an assigned or delegated task goes only to a candidate."""
    return session.scalar(select(Task.id).where(Task.id == task.id, candidate_tasks(session, user))) is not None
