"""The grid hierarchy: city (0) → town (1) → village (2) → level-2 grid (3) → unit grid (4)."""
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.errors import NotFoundError
from engine.store.model import Department, Grid

LEVEL_NAMES = {0: "city", 1: "town", 2: "village", 3: "level-2 grid", 4: "unit grid"}


def path_codes(grid: Grid) -> list[str]:
    return [code for code in grid.path.split("/") if code]


def by_code(session: Session, code: str) -> Grid:
    """The grid with `code`; read once per session (a batch of firings climbs the same few ancestors)."""
    known = session.info.setdefault("grids_by_code", {})
    if code not in known:
        grid = session.scalar(select(Grid).where(Grid.code == code))
        if grid is None:
            raise NotFoundError(f"no grid with code {code!r}", {"grid_code": ["Unknown grid code."]})
        known[code] = grid
    return known[code]


def ancestor_at(session: Session, grid: Grid, level: int) -> Grid:
    """The grid's ancestor at `level`, or the grid itself when it sits at or above that level. The first one
    asked reads all the grid's ancestors at once: a step climbs to several (a filing to its town for the case
    number and to its level-2 grid for the first task)."""
    if level >= grid.level:
        return grid
    code, known = path_codes(grid)[level], session.info.setdefault("grids_by_code", {})
    if code not in known:
        known.update((g.code, g) for g in session.scalars(select(Grid).where(
            Grid.code.in_(path_codes(grid)[:grid.level]))))
    return by_code(session, code)


def town_of(session: Session, grid: Grid) -> Grid:
    return ancestor_at(session, grid, 1)


def within(path: str, ancestor_path: str) -> bool:
    """True when the grid at `path` lies in the subtree rooted at `ancestor_path`."""
    return path.startswith(ancestor_path)


def department_for(session: Session, kind: str, grid: Grid) -> Department | None:
    """The department of `kind` whose jurisdiction covers `grid` most closely."""
    return session.scalar(
        select(Department).join(Grid, Department.grid_id == Grid.id)
        .where(Department.kind == kind, func.substr(grid.path, 1, func.length(Grid.path)) == Grid.path)
        .order_by(Grid.level.desc()).limit(1)
    )


def add_grid(session: Session, code: str, name: str, parent: Grid | None) -> Grid:
    """Create a grid under `parent` with its materialized path."""
    level = parent.level + 1 if parent else 0
    path = (parent.path if parent else "/") + code + "/"
    grid = Grid(code=code, name=name, level=level, parent_id=parent.id if parent else None, path=path)
    session.add(grid)
    session.flush()
    return grid
