"""Read queries for the administrators' pages: users by role, grid, department and state; process versions
per case type with the cases each holds."""
from sqlalchemy import false, func, or_, select

from engine.deps import Deps
from engine.process.specs import content_hash
from engine.read.paging import Page, Sort
from engine.store.model import Case, Department, Grid, ProcessVersion, User

BY_USERNAME = Sort("users-by-username", (User.username, User.id), ("username", "id"))


def list_users(deps: Deps, text: str = "", role: str = "", grid_code: str = "", department_code: str = "",
               active: bool | None = None, cursor: str | None = None, limit: int = 50) -> Page:
    """Users by username, filtered: `text` in the username or name, a role, a grid's subtree, a department."""
    query = _users()
    if text:
        query = query.where(or_(func.lower(User.username).contains(text.lower(), autoescape=True),
                                User.display_name.contains(text, autoescape=True)))
    if role:
        query = query.where(User.role == role)
    if active is not None:
        query = query.where(User.active.is_(active))
    if department_code:
        query = query.where(Department.code == department_code)
    with deps.uow() as uow:
        session = uow.session
        if grid_code:
            path = session.scalar(select(Grid.path).where(Grid.code == grid_code))
            query = query.where(Grid.path.startswith(path, autoescape=True) if path else false())
        if cursor:
            query = query.where(BY_USERNAME.after(BY_USERNAME.read(cursor)))
        rows = [dict(row._mapping) for row in session.execute(query.order_by(*BY_USERNAME.order_by())
                                                                   .limit(limit + 1))]
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, BY_USERNAME.cursor(rows[-1]) if more and rows else None)


def user_detail(deps: Deps, username: str) -> dict | None:
    """One user as the administrators' pages show them, or None."""
    with deps.uow() as uow:
        row = uow.session.execute(_users().where(User.username == username)).first()
    return dict(row._mapping) if row else None


def _users():
    return (select(User.id, User.username, User.display_name, User.role, User.active, User.phone,
                   Grid.code.label("grid_code"), Grid.name.label("grid_name"),
                   Department.code.label("department_code"), Department.name.label("department_name"))
            .outerjoin(Grid, Grid.id == User.grid_id).outerjoin(Department, Department.id == User.department_id))


def process_versions(deps: Deps) -> list[dict]:
    """Each case type with its deployed versions (newest first), the type's open and all cases on each, and
    whether the type's files as they are now are deployed yet. Types may share a process, hence a version."""
    with deps.uow() as uow:
        counts = {(row.process_version_id, row.type): row for row in uow.session.execute(
            select(Case.process_version_id, Case.type, func.count(Case.id).label("total"),
                   func.count(Case.id).filter(Case.closed_at.is_(None)).label("open"))
            .group_by(Case.process_version_id, Case.type))}
        rows = uow.session.execute(select(ProcessVersion.id, ProcessVersion.process_id, ProcessVersion.content_hash,
                                          ProcessVersion.deployed_at)
                                   .order_by(ProcessVersion.deployed_at.desc(), ProcessVersion.id.desc())).all()
    types = []
    for code, case_type in deps.catalogue.items():
        current = content_hash(case_type.read_files())
        versions = []
        for row in rows:
            if row.process_id == case_type.process_id:
                count = counts.get((row.id, code))
                versions.append({"id": row.id, "hash": row.content_hash[:12], "deployed_at": row.deployed_at,
                                 "open": count.open if count else 0, "total": count.total if count else 0,
                                 "current": row.content_hash == current})
        types.append({"type": code, "process_id": case_type.process_id, "current": current[:12],
                      "deployed": any(v["current"] for v in versions), "versions": versions,
                      "open_elsewhere": sum(v["open"] for v in versions if not v["current"])})
    return types
