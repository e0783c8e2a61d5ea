"""一张图: a grid in the user's area, the grids directly under it and each one's case counts, as the case search
would count them.

A child's counts are the cases reported anywhere in its subtree that the user may see, in one grouped query:
the child grids are joined to every grid whose path starts with theirs, and those to their cases. The grid
itself is counted in the same query (its subtree is every child's and its own), so the counts on the map are
those of `search.find_cases(grid=code, open=True)`, `overdue=True` and `breached=True`, and of the API's
`GET /cases` with the same filters.
"""
import json

from sqlalchemy import case as when
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased

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
    """{grid code: counts} for `grid` and each grid directly under it, over the cases `user` may see."""
    child, place = aliased(Grid), aliased(Grid)
    overdue, breached = search.overdue_now(now), search.ever_breached()
    query = (select(child.code, func.count(Case.id),
                    func.sum(when((Case.closed_at.is_(None), 1), else_=0)),
                    func.sum(when((overdue, 1), else_=0)), func.sum(when((breached, 1), else_=0)))
             .select_from(child)
             .join(place, func.substr(place.path, 1, func.length(child.path)) == child.path)
             .join(Case, Case.grid_id == place.id)
             .where(or_(child.parent_id == grid.id, child.id == grid.id),
                    place.path.startswith(grid.path, autoescape=True), access.visible_cases(session, user))
             .group_by(child.code))
    return {code: dict(zip(COUNTS, (int(n or 0) for n in numbers), strict=True))
            for code, *numbers in session.execute(query)}


def _place(grid: Grid, counted: dict, polygons: bool) -> dict:
    found = {"code": grid.code, "name": grid.name, "level": grid.level, "level_name": grids.LEVEL_NAMES[grid.level],
             **counted.get(grid.code, dict.fromkeys(COUNTS, 0))}
    if polygons:
        found["polygon"] = json.loads(grid.polygon) if grid.polygon else None
    return found
