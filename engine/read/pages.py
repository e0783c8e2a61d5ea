"""Read queries the web pages need beside the API's: the map of a user's area, which grid a tapped point
is in, names for usernames, grids and departments to filter by, and the count of unread notices."""
import json

from sqlalchemy import func, select

from engine.deps import Deps
from engine.people import access
from engine.places import grid as grids
from engine.store.model import Department, Grid, Notification, User

MAP_DEPTH = 2  # levels drawn below a user's area: a unit grid's neighbours, a village's grids and their units
CHOICE_LIMIT = 200


def _home(session, user: User) -> Grid | None:
    """The grid a user works in: their own, else their department's jurisdiction."""
    if user.grid_id:
        return session.get(Grid, user.grid_id)
    if user.department_id:
        return session.get(Grid, session.get(Department, user.department_id).grid_id)
    return None


def map_area(deps: Deps, user: User) -> dict:
    """GeoJSON of the grids around a user's home grid: the grids under its parent (a unit grid worker sees
    their neighbours) or under the home grid itself from the village up; `mine` marks the user's own area."""
    with deps.uow() as uow:
        session = uow.session
        home = _home(session, user)
        if home is None:
            area = session.scalar(select(Grid).where(Grid.parent_id.is_(None)).order_by(Grid.code).limit(1))
        elif home.level >= 3 and home.parent_id:
            area = session.get(Grid, home.parent_id)
        else:
            area = home
        if area is None:
            return {"type": "FeatureCollection", "features": [], "home": None}
        rows = session.scalars(select(Grid).where(
            Grid.path.startswith(area.path, autoescape=True), Grid.level > area.level,
            Grid.level <= area.level + MAP_DEPTH, Grid.polygon.is_not(None)).order_by(Grid.level, Grid.code))
        rows = list(rows)
        home_path, names = home.path if home else "/", {g.id: g.name for g in rows} | {area.id: area.name}
        features = [{"type": "Feature", "geometry": json.loads(g.polygon), "properties": {
            "code": g.code, "name": g.name, "label": short_name(g.name, names.get(g.parent_id, "")),
            "depth": g.level - area.level, "mine": grids.within(g.path, home_path)}} for g in rows]
        return {"type": "FeatureCollection", "features": features, "home": home.code if home else None}


def short_name(name: str, parent_name: str) -> str:
    """A grid's name without its parent's in front: 第一单元 under 辉煌村第六网格."""
    return name[len(parent_name):] or name if parent_name and name.startswith(parent_name) else name


def locate(deps: Deps, user: User, lat: float, lng: float) -> dict | None:
    """The unit grid containing a point, and whether it lies in the user's area (where they may file)."""
    with deps.uow() as uow:
        session = uow.session
        code = deps.locator.index(session).locate(lat, lng)
        if code is None:
            return None
        place = grids.by_code(session, code)
        home = access.user_grid_path(session, user)
        inside = user.role == "admin" or (home is not None and grids.within(place.path, home))
        names = [grids.by_code(session, c).name for c in grids.path_codes(place)]
        return {"code": place.code, "name": place.name, "level": place.level, "path_names": names,
                "inside": inside}


def display_names(deps: Deps, usernames) -> dict[str, str]:
    """The display name of each username (the username itself when it has none)."""
    wanted = {u for u in usernames if u}
    if not wanted:
        return {}
    with deps.uow() as uow:
        rows = uow.session.execute(select(User.username, User.display_name).where(User.username.in_(wanted)))
        return {username: name or username for username, name in rows}


def grid_choices(deps: Deps, user: User) -> list[dict]:
    """Grids a user may filter their inbox by: their home grid and the grids below it, shallowest first."""
    with deps.uow() as uow:
        session = uow.session
        home = _home(session, user)
        query = select(Grid.code, Grid.name, Grid.level).order_by(Grid.level, Grid.code).limit(CHOICE_LIMIT)
        if home is not None:
            query = query.where(Grid.path.startswith(home.path, autoescape=True), Grid.level <= home.level + 2)
        else:
            query = query.where(Grid.level <= 2)
        return [dict(row._mapping) for row in session.execute(query)]


def department_choices(deps: Deps) -> list[dict]:
    """Departments to filter the case search by (a city has a few dozen), by code."""
    with deps.uow() as uow:
        query = select(Department.code, Department.name).order_by(Department.code).limit(CHOICE_LIMIT)
        return [dict(row._mapping) for row in uow.session.execute(query)]


def unread_count(deps: Deps, user: User) -> int:
    """How many of the user's notices are unread."""
    with deps.uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(Notification).where(
            Notification.user_id == user.id, Notification.read_at.is_(None)))
