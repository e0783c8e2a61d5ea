"""Who holds a task: a supervisor or grid leader assigns it, its holder delegates it; both go on the timeline.

Assigning is for those who run the grid over the task: a supervisor for every task within their grid subtree,
a grid leader for the grid's own tasks there (not a department's, which a supervisor assigns). Either way the
task goes only to an active user who could have claimed it (access.is_candidate), and it arrives claimed.
"""
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.cases.services import locked_task
from engine.deps import Deps
from engine.errors import ConflictError, PermissionDenied, ValidationError
from engine.people import access
from engine.store import timeline
from engine.store.model import Case, Notification, Task, User


def assign_task(deps: Deps, actor_id: int, task_id: str, username: str, reason: str | None = None) -> None:
    """Give an open or claimed task to a named candidate (supervisors and grid leaders over the task)."""
    with deps.uow() as uow:
        session, now = uow.session, deps.clock.now()
        actor, task, case = locked_task(session, actor_id, task_id)
        refusal = access.assign_refusal(session, actor, task)
        if refusal:
            raise PermissionDenied(refusal)
        target = _candidate(session, task, username)
        if task.assignee_id == target.id:
            raise ValidationError("the task is already theirs", {"username": [f"{username} already holds the task."]})
        _hand_over(session, case, task, actor, target, "assigned", _clean(reason), now)
        uow.commit()


def delegate_task(deps: Deps, actor_id: int, task_id: str, username: str, reason: str) -> None:
    """The holder of a claimed task hands it to another candidate, saying why."""
    reason = _clean(reason)
    if not reason:
        raise ValidationError("give a reason", {"reason": ["Missing data for required field."]})
    with deps.uow() as uow:
        session, now = uow.session, deps.clock.now()
        actor, task, case = locked_task(session, actor_id, task_id)
        if task.assignee_id is None:
            raise ConflictError("the task is not claimed: claim it before delegating it")
        if task.assignee_id != actor.id:
            raise PermissionDenied("only the person holding the task can delegate it")
        target = _candidate(session, task, username)
        if target.id == actor.id:
            raise ValidationError("the task is already yours", {"username": ["You already hold the task."]})
        _hand_over(session, case, task, actor, target, "delegated", reason, now)
        uow.commit()


def _candidate(session: Session, task: Task, username: str) -> User:
    target = session.scalar(select(User).where(User.username == username))
    if target is None or not target.active:
        raise ValidationError("no such active user", {"username": [f"No active user {username!r}."]})
    if not access.is_candidate(session, target, task):
        raise ValidationError("the user may not take this task", {"username": [
            f"{username} is not among those who may take this task (role {task.candidate_role!r} "
            f"in its grid or department)."]})
    return target


def _hand_over(session: Session, case: Case, task: Task, actor: User, target: User, kind: str,
               reason: str | None, now: datetime) -> None:
    before = session.get(User, task.assignee_id).username if task.assignee_id else None
    task.assignee_id, task.status, task.claimed_at = target.id, "claimed", now
    case.updated_at = now
    timeline.append(session, case.id, now, actor, kind, task_id=task.id, reason=reason, payload={
        "task": task.name, "title": task.title, "from": before, "to": target.username})
    session.add(Notification(user_id=target.id, case_id=case.id, kind=f"task_{kind}", created_at=now,
                             message=f"{case.number}“{task.title}”已由{actor.display_name}交给你办理"))


def _clean(text: str | None) -> str | None:
    return (text.strip() or None) if text else None
