"""Read queries for the API: a case with its tasks and timeline, and task inboxes, within scope."""
import json
from dataclasses import asdict
from functools import cache

from sqlalchemy import and_, exists, func, select, union_all
from sqlalchemy.orm import aliased

from engine.deps import Deps
from engine.errors import NotFoundError
from engine.people import access
from engine.places import grid as grids
from engine.process.catalogue import FormField
from engine.read import search
from engine.read.paging import Page
from engine.store import timeline as timeline_module
from engine.store.model import Case, Department, Grid, SlaClock, SupervisionOrder, Task, TimelineEvent, User


def case_detail(deps: Deps, user: User, case_id: int) -> dict:
    """A case as its viewer may see it: fields, open tasks and the whole timeline."""
    with deps.read() as uow:
        session = uow.session
        case, place, responsible, reporter = access.case_with_places(session, user, case_id)
        tasks = _tasks(deps, session, (Task.case_id == case.id) & Task.is_open)
        events = session.scalars(select(TimelineEvent).where(TimelineEvent.case_id == case.id)
                                 .order_by(TimelineEvent.seq))
        return {
            "id": case.id, "number": case.number, "type": case.type, "title": case.title,
            "description": case.description, "severity": case.severity, "status": case.status,
            "outcome": case.outcome, "grid_code": place.code, "grid_name": place.name,
            "responsible_grid_code": responsible.code, "responsible_level": case.responsible_level,
            "reporter": reporter,
            "location": {"lat": case.lat, "lng": case.lng} if case.lat is not None else None,
            "created_at": case.created_at, "updated_at": case.updated_at, "closed_at": case.closed_at,
            "subcategory": case.subcategory,
            "counters": {"returns": case.returns, "reworks": case.reworks, "extensions": case.extensions,
                         "escalations": case.escalations, "dissatisfied": case.dissatisfied},
            "tasks": tasks,
            "clocks": [_clock(c) for c in session.scalars(
                select(SlaClock).where(SlaClock.case_id == case.id).order_by(SlaClock.id))],
            "timeline": [_event(e) for e in events],
        }


INBOX_SCOPES = {  # scope -> WHERE clauses over Task (joined to its Case), a task in any of them is in the scope
    "inbox": lambda session, user: (Task.assignee_id == user.id, *access.offered_parts(session, user)),
    "mine": lambda session, user: (Task.assignee_id == user.id,),
    "offered": lambda session, user: tuple(access.offered_parts(session, user)),
    "visible": lambda session, user: (access.visible_tasks(session, user),),
}


def list_tasks(deps: Deps, user: User, *, scope: str = "inbox", status: str | None = None, limit: int = 50,
               sort: str = "due", cursor: str | None = None, **filters) -> Page:
    """One page of tasks by scope: inbox (assigned to me or open for me to claim), mine (assigned to me),
    offered (open for me to claim), visible (every task on cases I may see); narrowed by `filters`
    (search.task_filters) and sorted overdue first (search.TASK_SORTS) unless `sort` says otherwise.

    A scope made of several parts (the inbox: mine, and offered to me grid by grid, `access.offered_parts`) reads
    each part's first page on its own and merges them: each part is one ordered range of an index (the
    assignee's; a grid's open tasks), while their OR can only walk every open task in due order until a page of
    them passes, which for a grid leader whose few hundred tasks lie among a city's 100,000 meant tens of
    thousands of rows."""
    order = search.TASK_SORTS[sort]
    with deps.read() as uow:
        session = uow.session
        common = [Task.status == status if status else Task.is_open, *search.task_filters(deps, session, **filters)]
        if cursor:
            common.append(order.after(order.read(cursor)))
        parts = INBOX_SCOPES[scope](session, user)
        if len(parts) == 1:
            where = and_(parts[0], *common)
        else:
            pages = [select(Task.id).join(Case, Case.id == Task.case_id).where(part, *common)
                     .order_by(*order.order_by()).limit(limit + 1).subquery() for part in parts]
            where = Task.id.in_(union_all(*(select(p.c.id) for p in pages)))
        return search.page(_tasks(deps, session, where, limit + 1, order.order_by()), order, limit)


def task_detail(deps: Deps, user: User, task_id: str) -> dict:
    """One task the user may see, with what they may do with it now."""
    with deps.read() as uow:
        found = _tasks(deps, uow.session, (Task.id == task_id) & access.visible_tasks(uow.session, user))
        if not found:
            raise NotFoundError(f"task {task_id} not found")
        return {**found[0], "actions": access.task_actions(uow.session, user, uow.session.get(Task, task_id))}


ASSIGNEE = aliased(User, name="assignee")  # made once, as access.OTHER_TASK


def _tasks(deps, session, where, limit=None, order_by=(Task.created_at, Task.id)) -> list[dict]:
    assignee = ASSIGNEE
    supervised = exists().where(SupervisionOrder.case_id == Case.id, SupervisionOrder.status == "open")
    query = (select(Task, Case.number, Case.type, Case.title, Case.severity, Grid.code, Department.code,
                    assignee.username, supervised.label("supervised"))
             .join(Case, Case.id == Task.case_id).join(Grid, Grid.id == Task.grid_id)
             .outerjoin(Department, Department.id == Task.department_id)
             .outerjoin(assignee, assignee.id == Task.assignee_id)
             .where(where).order_by(*order_by))
    if limit:
        query = query.limit(limit)
    return [
        {"id": t.id, "case_id": t.case_id, "case_number": number, "name": t.name, "title": t.title,
         "lane": t.lane, "role": t.candidate_role, "grid_code": grid_code, "department_code": dept,
         "assignee": username, "status": t.status, "created_at": t.created_at,
         "claimed_at": t.claimed_at, "completed_at": t.completed_at, "due_at": t.due_at,
         "case_type": case_type, "case_title": case_title, "severity": severity, "supervised": bool(open_order),
         "form": form_fields(deps.catalogue[case_type].form(t.name))}
        for t, number, case_type, case_title, severity, grid_code, dept, username, open_order in session.execute(query)
    ]


@cache
def form_fields(form: tuple[FormField, ...]) -> list[dict]:
    """A task's form as its readers see it, shaped once per form: every task of an inbox or a case carries it.
    The answer is shared, so it is only read."""
    return [{**asdict(f), "required_when": {"field": f.required_when[0], "values": list(f.required_when[1])}
             if f.required_when else None} for f in form]


def _clock(c: SlaClock) -> dict:
    state = "stopped" if c.stopped_at else "paused" if c.paused_at else "breached" if c.breached_at else "running"
    return {"id": c.id, "step": c.step, "policy": c.policy, "amount": c.amount, "unit": c.unit, "state": state,
            "started_at": c.started_at, "due_at": c.due_at, "breached_at": c.breached_at,
            "stopped_at": c.stopped_at, "explanation": c.explanation}


def _event(e: TimelineEvent) -> dict:
    return {"seq": e.seq, "at": e.at, "actor": e.actor, "kind": e.kind, "task_id": e.task_id,
            "reason": e.reason, "payload": e.payload, "hash": e.hash}


def user_profile(deps: Deps, user_id: int) -> dict:
    """A user's name, role, grid and department."""
    with deps.read() as uow:
        session = uow.session
        u = session.get(User, user_id)
        grid = session.get(Grid, u.grid_id) if u.grid_id else None
        department = session.get(Department, u.department_id) if u.department_id else None
        return {"id": u.id, "username": u.username, "display_name": u.display_name, "role": u.role,
                "grid_code": grid.code if grid else None, "grid_name": grid.name if grid else None,
                "department_code": department.code if department else None,
                "department_name": department.name if department else None}


def grid_detail(deps: Deps, code: str) -> dict:
    """One grid with its parent, path, leader and polygon."""
    with deps.read() as uow:
        session = uow.session
        grid = grids.by_code(session, code)
        leader = session.get(User, grid.leader_id) if grid.leader_id else None
        parent = session.get(Grid, grid.parent_id) if grid.parent_id else None
        return {**_grid(grid), "parent_code": parent.code if parent else None,
                "ancestors": grids.path_codes(grid)[:-1],
                "leader": leader.username if leader else None,
                "polygon": json.loads(grid.polygon) if grid.polygon else None}


def grid_children(deps: Deps, parent_code: str | None) -> list[dict]:
    """The grids under `parent_code` (or the top grids), for pickers, with how many children each has."""
    with deps.read() as uow:
        session = uow.session
        if parent_code:
            try:
                where = Grid.parent_id == grids.by_code(session, parent_code).id
            except NotFoundError as exc:
                raise NotFoundError(exc.message, {"parent": ["Unknown grid code."]}) from exc
        else:
            where = Grid.parent_id.is_(None)
        child = aliased(Grid)
        rows = session.execute(
            select(Grid, func.count(child.id)).outerjoin(child, child.parent_id == Grid.id)
            .where(where).group_by(Grid.id).order_by(Grid.code))
        return [{**_grid(g), "children": count} for g, count in rows]


def _grid(g: Grid) -> dict:
    return {"code": g.code, "name": g.name, "level": g.level, "level_name": grids.LEVEL_NAMES[g.level]}


def timeline_check(deps: Deps, user: User, case_id: int) -> dict:
    """Whether the case's timeline is intact, for a user who may see the case."""
    with deps.read() as uow:
        access.load_visible_case(uow.session, user, case_id)
        return timeline_module.verify(uow.session, case_id)


def case_timeline(deps: Deps, user: User, case_id: int) -> list[dict]:
    """Every event of a case, oldest first."""
    with deps.read() as uow:
        access.load_visible_case(uow.session, user, case_id)
        return [_event(e) for e in uow.session.scalars(
            select(TimelineEvent).where(TimelineEvent.case_id == case_id).order_by(TimelineEvent.seq))]
