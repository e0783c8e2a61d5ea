"""Filters for task inboxes, within what the user may see, paged by cursor.

A filter value that names nothing (a grid, department, case type or user that does not exist) is refused as
a ValidationError naming the filter, rather than answering an empty list that looks like "nothing to do".
The grid filter means where the matter is: the case's grid (where it was reported) lies in that subtree.
"""
from datetime import datetime

from sqlalchemy import select

from engine import access
from engine.deps import Deps
from engine.errors import ValidationError
from engine.model import Case, Department, Grid, Task
from engine.paging import Page, Sort

OPEN_TASK = ("open", "claimed")
TASK_SORTS = {
    "due": Sort("tasks:due", (Task.due_at, Task.created_at, Task.id), ("due_at", "created_at", "id"),
                nulls_last=True),
    "created": Sort("tasks:created", (Task.created_at, Task.id), ("created_at", "id")),
    "-created": Sort("tasks:-created", (Task.created_at, Task.id), ("created_at", "id"), descending=True),
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


def _unknown(field: str, message: str) -> ValidationError:
    return ValidationError(message, {field: [message[:1].upper() + message[1:] + "."]})
