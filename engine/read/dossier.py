"""What the case dossier (案卷) adds to a case as the API shows it: the grid path from the city down, the grid
now responsible, where each clock stands now, whether the timeline's chain verifies, and the supervision
orders on the case. Scope as everywhere: a case the user may not see is not found."""
from sqlalchemy import select

from engine.deps import Deps
from engine.people import access
from engine.places import grid as grids
from engine.sla import clocks
from engine.store import timeline
from engine.store.model import Department, Grid, ProcessVersion, SlaClock, SupervisionOrder, User


def dossier(deps: Deps, user: User, case_id: int) -> dict:
    """The dossier's extras for a case the user may see."""
    with deps.uow() as uow:
        session, now = uow.session, deps.clock.now()
        case = access.load_visible_case(session, user, case_id)
        place = session.get(Grid, case.grid_id)
        path = {g.code: g for g in session.scalars(select(Grid).where(Grid.code.in_(grids.path_codes(place))))}
        responsible = session.get(Grid, case.responsible_grid_id)
        cal = clocks.calendar(session, deps)
        standing = {c.id: clocks.standing(c, now, cal)  # by clock id, as case_detail lists them
                    for c in session.scalars(select(SlaClock).where(SlaClock.case_id == case.id))}
        orders = session.execute(select(SupervisionOrder, Grid).join(Grid, Grid.id == SupervisionOrder.grid_id)
                                 .where(SupervisionOrder.case_id == case.id).order_by(SupervisionOrder.id))
        version = session.get(ProcessVersion, case.process_version_id)
        return {
            "grid_path": [_grid(path[code]) for code in grids.path_codes(place) if code in path],
            "responsible_grid": _grid(responsible),
            "standing": standing,
            "chain": timeline.verify(session, case.id),
            "orders": [_order(o, g) for o, g in orders],
            "version": {"id": version.id, "process_id": version.process_id, "content_hash": version.content_hash,
                        "deployed_at": version.deployed_at},
            "now": now,
        }


def _grid(g: Grid) -> dict:
    return {"code": g.code, "name": g.name, "level": g.level}


def _order(o: SupervisionOrder, g: Grid) -> dict:
    return {"id": o.id, "reason": o.reason, "issued_at": o.issued_at, "due_at": o.due_at, "status": o.status,
            "answered_at": o.answered_at, "answer": o.answer, "grid_code": g.code, "grid_name": g.name,
            "from_breach": o.clock_id is not None}


def people(deps: Deps, usernames) -> dict[str, dict]:
    """Each username's display name, role and department name (for the timeline's actors)."""
    wanted = {u for u in usernames if u}
    if not wanted:
        return {}
    with deps.uow() as uow:
        rows = uow.session.execute(select(User.username, User.display_name, User.role, Department.name)
                                   .outerjoin(Department, Department.id == User.department_id)
                                   .where(User.username.in_(wanted)))
        return {u: {"name": name or u, "role": role, "department": department} for u, name, role, department in rows}
