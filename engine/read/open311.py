"""Open311 GeoReport v2 reads: service requests (cases) as the specification names their fields.

A partner reads the cases in its key's grid area. Status is `open` or `closed`; `status_notes` is the case's
status code, with the outcome once closed; `agency_responsible` is the department of the case's newest open
task that names one, else the grid now responsible; `expected_datetime` is the due time of the case's own
SLA clock (None when it has none running).
"""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from engine.deps import Deps
from engine.store.model import Case, Department, Grid, SlaClock, Task, TimelineEvent

DEFAULT_DAYS = 90
MAX_REQUESTS = 1000


def _area(grid_path: str):
    return Case.grid_id.in_(select(Grid.id).where(Grid.path.startswith(grid_path)))


def find_requests(deps: Deps, grid_path: str, *, numbers=(), case_ids=(), types=(), start: datetime | None = None,
                  end: datetime | None = None, status: str | None = None, limit: int = MAX_REQUESTS,
                  offset: int = 0) -> list[dict]:
    """Cases in the area, newest first. Without numbers (or ids) the period defaults to the last 90 days (ending at
    `end`, or now); `status` is open or closed."""
    query = select(Case).where(_area(grid_path))
    if numbers or case_ids:
        query = query.where(Case.number.in_(list(numbers)) if numbers else Case.id.in_(list(case_ids)))
    else:
        end_at = end or deps.clock.now()
        start_at = start or end_at - timedelta(days=DEFAULT_DAYS)
        query = query.where(Case.created_at >= start_at, Case.created_at <= end_at)
    if types:
        query = query.where(Case.type.in_(list(types)))
    if status == "open":
        query = query.where(Case.closed_at.is_(None))
    elif status == "closed":
        query = query.where(Case.closed_at.is_not(None))
    query = query.order_by(Case.created_at.desc(), Case.id.desc()).limit(limit).offset(offset)
    with deps.uow() as uow:
        session = uow.session
        cases = session.scalars(query).all()
        return _requests(deps, session, cases)


def _requests(deps: Deps, session, cases) -> list[dict]:
    if not cases:
        return []
    ids = [c.id for c in cases]
    filed = {e.case_id: e.payload for e in session.scalars(
        select(TimelineEvent).where(TimelineEvent.case_id.in_(ids), TimelineEvent.seq == 1))}
    agencies = {}
    for case_id, name in session.execute(
            select(Task.case_id, Department.name).join(Department, Department.id == Task.department_id)
            .where(Task.case_id.in_(ids), Task.is_open).order_by(Task.created_at)):
        agencies[case_id] = name  # the newest wins
    grids = dict(session.execute(select(Grid.id, Grid.name).where(
        Grid.id.in_({c.responsible_grid_id for c in cases}))).all())
    due = dict(session.execute(select(SlaClock.case_id, SlaClock.due_at).where(
        SlaClock.case_id.in_(ids), SlaClock.step == "case", SlaClock.stopped_at.is_(None))).all())
    zone = ZoneInfo(deps.timezone)
    out = []
    for c in cases:
        case_type = deps.catalogue.get(c.type)
        partner = (filed.get(c.id) or {}).get("partner") or {}
        closed = c.closed_at is not None
        out.append({
            "service_request_id": c.number,
            "status": "closed" if closed else "open",
            "status_notes": f"{c.status}: {c.outcome}" if closed and c.outcome else c.status,
            "service_name": case_type.title_zh if case_type else c.type,
            "service_code": case_type.open311_code if case_type else c.type,
            "description": c.description or c.title,
            "agency_responsible": agencies.get(c.id) or grids.get(c.responsible_grid_id, ""),
            "service_notice": "",
            "requested_datetime": _local(c.created_at, zone),
            "updated_datetime": _local(c.updated_at, zone),
            "expected_datetime": _local(due.get(c.id), zone) if not closed else "",
            "address": partner.get("address_string", ""),
            "address_id": "",
            "zipcode": "",
            "lat": c.lat if c.lat is not None else "",
            "long": c.lng if c.lng is not None else "",
            "media_url": partner.get("media_url", ""),
        })
    return out


def _local(moment: datetime | None, zone) -> str:
    return moment.astimezone(zone).isoformat(timespec="seconds") if moment else ""
