"""Filters for task inboxes, and case search, within what the user may see; both page by cursor.

A filter value that names nothing (a grid, department, case type or user that does not exist) is refused as
a ValidationError naming the filter, rather than answering an empty list that looks like "nothing to do".
The grid filter means where the matter is: the case's grid (where it was reported) lies in that subtree.
"""
from datetime import date, datetime

from sqlalchemy import exists, func, select

from engine.deps import Deps
from engine.errors import ValidationError
from engine.indicators import rollup
from engine.people import access
from engine.read import drilldown
from engine.read.paging import Page, Sort
from engine.store.model import Case, Department, Grid, SlaClock, Task, User

TASK_SORTS = {
    "due": Sort("tasks:due", (Task.due_at, Task.created_at, Task.id), ("due_at", "created_at", "id"),
                nulls_last=True),
    "created": Sort("tasks:created", (Task.created_at, Task.id), ("created_at", "id")),
    "-created": Sort("tasks:-created", (Task.created_at, Task.id), ("created_at", "id"), descending=True),
}
CASE_SORTS = {
    "-created": Sort("cases:-created", (Case.created_at, Case.id), ("created_at", "id"), descending=True),
    "created": Sort("cases:created", (Case.created_at, Case.id), ("created_at", "id")),
}


def task_filters(deps: Deps, session, *, type: str | None = None, grid: str | None = None,
                 department: str | None = None, severity: str | None = None, due_before: datetime | None = None,
                 breached: bool | None = None) -> list:
    """WHERE clauses over Task (joined to its Case) for the inbox filters that were given."""
    clauses = _case_filters(deps, session, type=type, grid=grid, severity=severity)
    if department is not None:
        department_id = session.scalar(select(Department.id).where(Department.code == department))
        if department_id is None:
            raise _unknown("department", f"no department with code {department!r}")
        clauses.append(Task.department_id == department_id)
    if due_before is not None:
        clauses.append(Task.due_at < due_before)
    if breached is not None:
        now = deps.clock.now()
        clauses.append(Task.due_at < now if breached else (Task.due_at.is_(None) | (Task.due_at >= now)))
    return clauses


def find_cases(deps: Deps, user: User, *, limit: int = 50, sort: str = "-created", cursor: str | None = None,
               **filters) -> Page:
    """Cases the user may see that match every filter given (`case_where`), newest first unless `sort` says
    otherwise; with `counted`, each case says how much it counts (`counted`)."""
    order = CASE_SORTS[sort]
    _counted_so_far(deps, filters)
    with deps.read() as uow:
        session = uow.session
        where, counted = case_where(deps, session, user, **filters)
        if cursor:
            where.append(order.after(order.read(cursor)))
        extra = {} if counted is None or counted.counter is None else \
            {"counted": drilldown.amount(session, counted)}
        rows = _case_summaries(session, where, order, limit + 1, extra)
    return page(rows, order, limit)


def tally_cases(deps: Deps, user: User, **filters) -> tuple[int, float]:
    """How many cases the search finds, and with `counted` the sum of their amounts: the indicator's number."""
    _counted_so_far(deps, filters)
    with deps.read() as uow:
        session = uow.session
        where, counted = case_where(deps, session, user, **filters)
        if counted is None or counted.counter is None:
            return session.scalar(select(func.count(Case.id)).where(*where)), 0
        amounts = select(drilldown.amount(session, counted).label("amount")).where(*where).subquery()
        found, total = session.execute(select(func.count(), func.sum(amounts.c.amount))).one()
        return found, total or 0


def _counted_so_far(deps: Deps, filters: dict) -> None:
    """A search by what the indicators count reads their folded facts: fold what the worker has not yet, as the
    统计 page does before it shows the numbers these searches are reached from."""
    if filters.get("counted") or filters.get("department"):
        rollup.catch_up(deps, rollup.FOR_A_READER)


def case_where(deps: Deps, session, user: User, *, number: str | None = None, q: str | None = None,
               reporter: str | None = None, status: str | None = None, filed_from: datetime | None = None,
               filed_to: datetime | None = None, open: bool | None = None, overdue: bool | None = None,
               breached: bool | None = None, counted: str | None = None, counted_from: date | None = None,
               counted_to: date | None = None, department: str | None = None,
               **case_filters) -> tuple[list, drilldown.Counted | None]:
    """The search's WHERE clauses over Case (the user's scope first), and the indicator filters as read."""
    where = [access.visible_cases(session, user), *_case_filters(deps, session, **case_filters)]
    if number is not None:
        where.append(Case.number.startswith(number, autoescape=True))
    if q is not None:
        where.append(Case.title.icontains(q, autoescape=True) | Case.description.icontains(q, autoescape=True))
    if reporter is not None:
        reporter_id = session.scalar(select(User.id).where(User.username == reporter))
        if reporter_id is None:
            raise _unknown("reporter", f"no user named {reporter!r}")
        where.append(Case.reporter_id == reporter_id)
    if status is not None:
        known = {"reported", *(s for t in deps.catalogue.values() for s in (*t.statuses, *t.outcomes.values()))}
        if status not in known:
            raise _unknown("status", f"no case status {status!r}; one of {', '.join(sorted(known))}")
        where.append(Case.status == status)
    if filed_from is not None:
        where.append(Case.created_at >= filed_from)
    if filed_to is not None:
        where.append(Case.created_at < filed_to)
    if open is not None:
        where.append(Case.closed_at.is_(None) if open else Case.closed_at.is_not(None))
    if overdue is not None:
        where.append(overdue_now(deps.clock.now()) if overdue else ~overdue_now(deps.clock.now()))
    if breached is not None:
        where.append(ever_breached() if breached else ~ever_breached())
    found = drilldown.read(session, counted, counted_from, counted_to, department)
    if found is not None:
        where.append(drilldown.clause(session, found))
    return where, found


def overdue_now(now: datetime):
    """A clause over Case: one of its open tasks is past its due time now (the inbox's "overdue")."""
    return exists().where(Task.case_id == Case.id, Task.is_open, Task.due_at < now)


def ever_breached():
    """A clause over Case: one of its time limits ran out (a breach was recorded), whether or not it is closed."""
    return exists().where(SlaClock.case_id == Case.id, SlaClock.breached_at.is_not(None))


def page(rows: list[dict], order: Sort, limit: int) -> Page:
    """The first `limit` rows of `rows` (read with one extra to learn whether another page follows)."""
    if len(rows) <= limit:
        return Page(rows, None)
    return Page(rows[:limit], order.cursor(rows[limit - 1]))


def _case_filters(deps: Deps, session, *, type: str | None = None, grid: str | None = None,
                  severity: str | None = None) -> list:
    """WHERE clauses over Case shared by task inboxes and case search."""
    clauses = []
    if type is not None:
        if type not in deps.catalogue:
            raise _unknown("type", f"no case type {type!r}")
        clauses.append(Case.type == type)
    if grid is not None:
        path = session.scalar(select(Grid.path).where(Grid.code == grid))
        if path is None:
            raise _unknown("grid", f"no grid with code {grid!r}")
        clauses.append(Case.grid_id.in_(access.subtree_ids(session, path)))
    if severity is not None:
        clauses.append(Case.severity == severity)
    return clauses


def _case_summaries(session, where: list, order: Sort, limit: int, extra: dict) -> list[dict]:
    place, responsible, reporter = access.PLACE, access.RESPONSIBLE, access.REPORTER
    next_due = (select(func.min(Task.due_at)).where(Task.case_id == Case.id, Task.is_open)
                .scalar_subquery())
    query = (select(Case.id, Case.number, Case.type, Case.title, Case.severity, Case.status, Case.outcome,
                    place.code.label("grid_code"), place.name.label("grid_name"),
                    responsible.code.label("responsible_grid_code"), Case.responsible_level,
                    reporter.username.label("reporter"), Case.created_at, Case.closed_at,
                    next_due.label("next_due_at"), Case.lat, Case.lng, Case.returns, Case.reworks,
                    Case.extensions, Case.escalations, Case.dissatisfied,
                    *(column.label(name) for name, column in extra.items()))
             .join(place, place.id == Case.grid_id).join(responsible, responsible.id == Case.responsible_grid_id)
             .join(reporter, reporter.id == Case.reporter_id)
             .where(*where).order_by(*order.order_by()).limit(limit))
    return [dict(row._mapping) for row in session.execute(query)]


def _unknown(field: str, message: str) -> ValidationError:
    return ValidationError(message, {field: [message[:1].upper() + message[1:] + "."]})
