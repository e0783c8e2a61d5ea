"""一张图: a grid in the user's area, the grids directly under it and each one's case counts, as the case search
would count them.

A child's counts are the cases reported anywhere in its subtree that the user may see: one query groups the
subtree's cases by the grid they were reported in, and each grid's counts go to the child whose path it lies
under (and to the grid itself), so each case is read once. The clauses are the case search's own
(`search.overdue_now`, `search.ever_breached`, `access.visible_cases`, the subtree by grid ids), so the counts on
the map are those of `search.find_cases(grid=code, open=True)`, `overdue=True` and `breached=True`, and of the
API's `GET /cases` with the same filters.
"""
import json

from sqlalchemy import case as when
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.deps import Deps
from engine.errors import NotFoundError
from engine.people import access
from engine.places import grid as grids
from engine.read import search
from engine.store.model import Case, Department, Grid, User

COUNTS = ("total", "open", "overdue", "breached")


def area(session: Session, user: User) -> Grid | None:
    """The top of the grids a user's map may show: the whole tree for an admin, else their grid (or their
    department's jurisdiction); None for a user with neither."""
    if user.role == "admin":
        return session.scalar(select(Grid).where(Grid.parent_id.is_(None)).order_by(Grid.code).limit(1))
    if user.grid_id:
        return session.get(Grid, user.grid_id)
    if user.department_id:
        return session.get(Grid, session.get(Department, user.department_id).grid_id)
    return None


def grid_counts(deps: Deps, user: User, code: str | None = None, polygons: bool = False) -> dict:
    """The grid `code` (the top of the user's area without it), its ancestors within the area, and its
    children, each with its counts: total, open, overdue (an open task past due now) and breached (a time limit
    ran out). A grid outside the user's area is not found, as a case out of scope is."""
    with deps.uow() as uow:
        session = uow.session
        top = area(session, user)
        try:
            grid = top if code is None else grids.by_code(session, code)
        except NotFoundError:
            grid = None
        if top is None or grid is None or not grids.within(grid.path, top.path):
            raise NotFoundError(f"grid {code!r} not found", {"grid": ["Unknown grid code, or outside your area."]})
        children = list(session.scalars(select(Grid).where(Grid.parent_id == grid.id).order_by(Grid.code)))
        counted = _counts(session, user, grid, deps.clock.now())
        names = dict(session.execute(select(Grid.code, Grid.name).where(Grid.code.in_(grids.path_codes(grid)))).all())
        ancestors = [{"code": c, "name": names[c]} for c in grids.path_codes(grid)[top.level:grid.level]]
        return {**_place(grid, counted, polygons), "ancestors": ancestors,
                "children": [_place(child, counted, polygons) for child in children]}


def _counts(session: Session, user: User, grid: Grid, now) -> dict[str, dict]:
    """{grid code: counts} for `grid` and each grid directly under it, over the cases `user` may see: the cases
    of the subtree counted by the grid they were reported in (one grouped query, each case read once), then
    each grid's counts added to the child whose subtree holds it, by its path."""
    subtree = select(Grid.id, Grid.path).where(Grid.path.startswith(grid.path, autoescape=True))
    paths = dict(session.execute(subtree).all())
    query = (select(Case.grid_id, func.count(Case.id), func.sum(when((Case.closed_at.is_(None), 1), else_=0)),
                    func.sum(when((search.overdue_now(now), 1), else_=0)),
                    func.sum(when((search.ever_breached(), 1), else_=0)))
             .where(Case.grid_id.in_(list(paths)), access.visible_cases(session, user)).group_by(Case.grid_id))
    totals: dict[str, dict] = {}
    for grid_id, *numbers in session.execute(query):
        codes = [c for c in paths[grid_id].split("/") if c]
        for code in {grid.code, codes[grid.level + 1] if len(codes) > grid.level + 1 else grid.code}:
            counted = totals.setdefault(code, dict.fromkeys(COUNTS, 0))
            for name, n in zip(COUNTS, numbers, strict=True):
                counted[name] += int(n or 0)
    return totals


def _place(grid: Grid, counted: dict, polygons: bool) -> dict:
    found = {"code": grid.code, "name": grid.name, "level": grid.level, "level_name": grids.LEVEL_NAMES[grid.level],
             **counted.get(grid.code, dict.fromkeys(COUNTS, 0))}
    if polygons:
        found["polygon"] = json.loads(grid.polygon) if grid.polygon else None
    return found
