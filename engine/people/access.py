"""Who may see and act on what, by role, grid subtree and department; used by services and views."""
from sqlalchemy import and_, exists, false, or_, select, true
from sqlalchemy.orm import Session, aliased

from engine.errors import ConflictError, NotFoundError, PermissionDenied
from engine.store.model import Case, Grid, Task, User

ROLES = ("grid_worker", "grid_leader", "liaison", "supervisor", "admin")
REPORTING_ROLES = ("grid_worker", "grid_leader", "admin")
ASSIGNING_ROLES = ("supervisor", "grid_leader", "admin")
OTHER_TASK = aliased(Task, name="other_task")  # a case's task in a subquery, never the task a query joins to;
# made once: building an alias costs more than the statement it serves (its column collection, per call)


def actor(session: Session, actor_id: int) -> User:
    """The active user who acts; an unknown or deactivated one may do nothing."""
    user = session.get(User, actor_id)
    if user is None or not user.active:
        raise PermissionDenied("unknown or inactive user")
    return user


def user_grid_path(session: Session, user: User) -> str | None:
    """The path of the user's grid, whose row the transaction keeps: a step often reads it again (a leader's
    grid is the grid of the tasks they take)."""
    return session.get(Grid, user.grid_id).path if user.grid_id else None


def subtree_ids(session: Session, path: str) -> list[int]:
    """Ids of the grids in the subtree at `path`, read once per session so the big tables are filtered by id."""
    subtrees = session.info.setdefault("subtrees", {})
    if path not in subtrees:
        subtrees[path] = list(session.scalars(select(Grid.id).where(Grid.path.startswith(path, autoescape=True))))
    return subtrees[path]


def visible_cases(session: Session, user: User):
    """A WHERE clause over Case for the cases `user` may see."""
    if user.role == "admin":
        return true()
    clauses = [Case.reporter_id == user.id]
    path = user_grid_path(session, user)
    if path and user.role in ("grid_worker", "grid_leader", "supervisor"):
        clauses.append(Case.grid_id.in_(subtree_ids(session, path)))
    other = OTHER_TASK
    if user.department_id:
        clauses.append(Case.id.in_(select(other.case_id).where(other.department_id == user.department_id)))
    clauses.append(Case.id.in_(select(other.case_id).where(other.assignee_id == user.id)))
    return or_(*clauses)


def load_visible_case(session: Session, user: User, case_id: int, lock: bool = False) -> Case:
    """The case if `user` may see it; out of scope reads as not found, so ids leak nothing.

    The rules of `visible_cases`, decided on the one case: read with whether a task of it is the user's or
    their department's, then by reporter and by the case's grid path in Python (the grid is looked up by id,
    and the transaction keeps it), instead of a clause listing every grid of the user's subtree."""
    return _load_visible(session, user, Case.id == case_id, lock, f"case {case_id} not found")[0]


PLACE, RESPONSIBLE, REPORTER = (aliased(Grid, name="place"), aliased(Grid, name="responsible"),
                                aliased(User, name="reporter"))


def case_with_places(session: Session, user: User, case_id: int) -> tuple[Case, Grid, Grid, str]:
    """A case `user` may see (as `load_visible_case`) with its grid, its responsible grid and its reporter's
    username, read in the same statement: what a case's page shows of them. The grids join the transaction's
    identity map, so deciding on the case's grid path reads nothing more."""
    found = _load_visible(session, user, Case.id == case_id, False, f"case {case_id} not found",
                          PLACE, RESPONSIBLE, REPORTER.username, joins=(
                              (PLACE, PLACE.id == Case.grid_id),
                              (RESPONSIBLE, RESPONSIBLE.id == Case.responsible_grid_id),
                              (REPORTER, REPORTER.id == Case.reporter_id)))
    return found[0], found[2], found[3], found[4]


def lock_case_of_task(session: Session, user: User, task_id: str) -> Case:
    """The case of a task, locked, if `user` may see it; found by the task in the same statement, so the task
    itself can be read once, after the lock, as the case's writer left it."""
    of_task = select(Task.case_id).where(Task.id == task_id).scalar_subquery()
    return _load_visible(session, user, Case.id == of_task, True, f"task {task_id} not found")[0]


def _load_visible(session: Session, user: User, which, lock: bool, missing: str, *columns, joins=()):
    """(case, whether a task of it is the user's or their department's, *columns), if the user may see it."""
    other = OTHER_TASK
    mine = [other.assignee_id == user.id] + ([other.department_id == user.department_id] if user.department_id else [])
    query = select(Case, exists().where(other.case_id == Case.id, or_(*mine)), *columns).where(which)
    for target, onclause in joins:
        query = query.join(target, onclause)
    if lock:
        query = query.with_for_update(of=Case)
    found = session.execute(query).first()
    if found is None or not _sees(session, user, found[0], found[1]):
        raise NotFoundError(missing)
    return found


def _sees(session: Session, user: User, case: Case, by_task: bool) -> bool:
    if by_task or user.role == "admin" or case.reporter_id == user.id:
        return True
    path = user_grid_path(session, user) if user.role in ("grid_worker", "grid_leader", "supervisor") else None
    return bool(path) and session.get(Grid, case.grid_id).path.startswith(path)


def offered_tasks(session: Session, user: User):
    """A WHERE clause over Task for open tasks `user` could claim."""
    return and_(Task.status == "open", candidate_tasks(session, user))


def offered_parts(session: Session, user: User) -> list:
    """`offered_tasks` as WHERE clauses whose union is the same tasks, one per grid for a user over a few grids:
    each is one ordered range of the index of a grid's open tasks (`ix_tasks_open_grid_due`), where the single
    clause's `grid_id IN (...)` can only be read in due order by walking every open task."""
    path = None if user.role == "admin" or user.department_id else user_grid_path(session, user)
    ids = subtree_ids(session, path) if path else []
    if not 1 < len(ids) <= SPLIT_GRIDS:
        return [offered_tasks(session, user)]
    return [and_(Task.status == "open", Task.candidate_role == user.role, Task.grid_id == grid_id) for grid_id in ids]


SPLIT_GRIDS = 16  # a village's level-2 grids, or a level-2 grid's unit grids; a town's hundreds stay one clause


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
    """A WHERE clause over Task joined to its Case: tasks assigned to `user`, offered to them, or on cases they
    see (tested on the joined case row by row, so a page of the inbox stops after its first rows in due order)."""
    return or_(Task.assignee_id == user.id, offered_tasks(session, user), visible_cases(session, user))


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
    if task.status != "open" or not is_candidate(session, user, task):  # `offered_tasks`, on the one task
        raise PermissionDenied("this task is outside your grid or department")


def is_candidate(session: Session, user: User, task: Task) -> bool:
    """Whether `user` may take `task`, whoever holds it now: an assigned or delegated task goes only to a candidate.
    The rules of `candidate_tasks`, decided on the one task (its grid by id, which the transaction keeps)."""
    if user.role == "admin":
        return True
    if task.candidate_role != user.role:
        return False
    if user.department_id:
        return task.department_id == user.department_id
    path = user_grid_path(session, user)
    return bool(path) and session.get(Grid, task.grid_id).path.startswith(path)


def task_actions(session: Session, user: User, task: Task) -> list[str]:
    """What `user` may do with `task` now: claim, complete, release, delegate, assign."""
    if not task.is_open:
        return []
    actions = []
    if task.assignee_id is None and is_candidate(session, user, task):
        actions += ["claim", "complete"]
    elif task.assignee_id == user.id:
        actions += ["complete", "release", "delegate"]
    elif user.role == "admin":
        actions.append("release")
    if assign_refusal(session, user, task) is None:
        actions.append("assign")
    return actions


def assign_refusal(session: Session, actor: User, task: Task) -> str | None:
    """Why `actor` may not assign `task`, or None when they may."""
    if actor.role == "admin":
        return None
    if actor.role not in ASSIGNING_ROLES:
        return "only a supervisor or a grid leader assigns tasks"
    if actor.role == "grid_leader" and task.department_id is not None:
        return "a department's task is assigned by a supervisor"
    home = user_grid_path(session, actor)
    task_path = session.scalar(select(Grid.path).where(Grid.id == task.grid_id))
    if not home or not task_path.startswith(home):
        return "this task is outside your grid"
    return None
