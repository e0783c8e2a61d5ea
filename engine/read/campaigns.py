"""Campaigns as read: the list a user sees, one campaign, a grid's assignments, progress by area and the rows of
the export. Pages and the API share these.

Progress is rolled up in one pass: the campaign's assignments are read once (grid path, state, time stamps,
numeric totals) and every assignment counts for each grid on its path, from the campaign's root down to its own.
"""
from collections import defaultdict
from datetime import datetime

from sqlalchemy import case, func, or_, select, true
from sqlalchemy.orm import Session

from engine.deps import Deps
from engine.errors import NotFoundError
from engine.people import access
from engine.people import campaign_rules as rules
from engine.places import grid as grids
from engine.store.model import (
    Assignment,
    Campaign,
    CampaignEvent,
    Case,
    Finding,
    Grid,
    Notification,
    Submission,
    User,
)

COUNTS = ("expected", "submitted", "accepted", "on_time", "overdue", "returned")


def visible_campaigns(session: Session, user: User):
    """A WHERE clause over Campaign: roots above, on or under the user's grid; the user's department's."""
    if user.role == "admin":
        return Campaign.id.is_not(None)
    clauses = []
    if user.department_id:
        clauses.append(Campaign.department_id == user.department_id)
    home = access.user_grid_path(session, user)
    if home:
        above = ["/" + "/".join(home.strip("/").split("/")[:i]) + "/" for i in range(1, home.count("/"))]
        root_ids = select(Grid.id).where(or_(Grid.path.startswith(home, autoescape=True), Grid.path.in_(above)))
        clauses.append(Campaign.root_grid_id.in_(root_ids))
    return or_(*clauses) if clauses else Campaign.id.is_(None)


def list_campaigns(deps: Deps, user: User, limit: int = 100) -> list[dict]:
    """The campaigns the user sees, newest first, each with its counts over the part of its area the user sees."""
    with deps.uow() as uow:
        session = uow.session
        rows = session.execute(select(Campaign, Grid.code, Grid.name).join(Grid, Grid.id == Campaign.root_grid_id)
                               .where(visible_campaigns(session, user)).order_by(Campaign.id.desc())
                               .limit(limit)).all()
        ids = [c.id for c, _, _ in rows]
        counts = _summary(session, ids, deps.clock.now(), _seen_area(session, user))
        return [{**_campaign_dict(c, code, name), **counts.get(c.id, _empty())} for c, code, name in rows]


def get_campaign(deps: Deps, user: User, campaign_id: int) -> dict:
    with deps.uow() as uow:
        session = uow.session
        campaign = _visible(session, user, campaign_id)
        root = session.get(Grid, campaign.root_grid_id)
        events = session.execute(select(CampaignEvent, User.username).outerjoin(User, User.id == CampaignEvent.actor_id)
                                 .where(CampaignEvent.campaign_id == campaign.id, CampaignEvent.assignment_id.is_(None))
                                 .order_by(CampaignEvent.id)).all()
        counts = _summary(session, [campaign.id], deps.clock.now(), _seen_area(session, user))
        counts = counts.get(campaign.id, _empty())
        return {**_campaign_dict(campaign, root.code, root.name), **counts,
                "events": [_event_dict(e, who) for e, who in events],
                "findings": _findings(session, campaign.id)}


def my_assignments(deps: Deps, user: User, include_done: bool = False) -> list[dict]:
    """Assignments of the user's grid (and, for a grid leader, of the grids right under it), open ones first;
    and those waiting for the user's review."""
    with deps.uow() as uow:
        session = uow.session
        if not user.grid_id and user.role != "admin":
            return []
        query = (select(Assignment, Campaign, Grid).join(Campaign, Campaign.id == Assignment.campaign_id)
                 .join(Grid, Grid.id == Assignment.grid_id).where(Campaign.status == "open"))
        if user.role != "admin":
            home = access.user_grid_path(session, user)
            mine = Assignment.grid_id == user.grid_id
            if user.role == "grid_leader":
                mine = or_(mine, Grid.parent_id == user.grid_id)
            review = (Assignment.step == "review_submission") & Assignment.path.startswith(home, autoescape=True) \
                & (Assignment.grid_id != user.grid_id) if user.role in ("grid_leader", "supervisor") else None
            query = query.where(or_(mine, review) if review is not None else mine)
        if not include_done:
            query = query.where(Assignment.ended_at.is_(None))
        rows = session.execute(query.order_by(Assignment.due_at, Assignment.id).limit(500)).all()
        return [_assignment_dict(a, c, g, deps.clock.now()) for a, c, g in rows]


def get_assignment(deps: Deps, user: User, assignment_id: int) -> dict:
    """One assignment with its campaign's form, its submissions and what the user may do with it."""
    with deps.uow() as uow:
        session = uow.session
        row = session.execute(select(Assignment, Campaign, Grid).join(Campaign, Campaign.id == Assignment.campaign_id)
                              .join(Grid, Grid.id == Assignment.grid_id).where(Assignment.id == assignment_id)).first()
        if row is None or not rules.can_see_assignment(session, user, row[0], row[1]):
            raise NotFoundError(f"assignment {assignment_id} not found")
        assignment, campaign, grid = row
        submissions = session.scalars(select(Submission).where(Submission.assignment_id == assignment.id)
                                      .order_by(Submission.id)).all()
        return {**_assignment_dict(assignment, campaign, grid, deps.clock.now()),
                "instructions": campaign.instructions, "form": campaign.form,
                "actions": rules.actions(session, user, assignment, campaign),
                "submissions": [_submission_dict(s) for s in submissions]}


def progress(deps: Deps, user: User, campaign_id: int, under: str | None = None) -> dict:
    """Expected, submitted, accepted, on time, overdue, returned and rate, with the form's numeric totals, for the
    grid `under` (default: the campaign's root, or the user's own grid when it lies inside the campaign's area)
    and for each grid right under it; `grids` holds every target grid's state for the map."""
    with deps.uow() as uow:
        session, now = uow.session, deps.clock.now()
        campaign = _visible(session, user, campaign_id)
        root = session.get(Grid, campaign.root_grid_id)
        top = _top(session, user, root, under)
        rows = session.execute(select(Assignment.grid_id, Assignment.path, Assignment.status, Assignment.due_at,
                                      Assignment.first_submitted_at, Assignment.approved_at, Assignment.overdue_at,
                                      Assignment.returns, Assignment.totals)
                               .where(Assignment.campaign_id == campaign.id,
                                      Assignment.path.startswith(top.path, autoescape=True))).all()
        depth = top.path.count("/")
        nodes: dict[str, dict] = defaultdict(_empty)
        states = {}
        for r in rows:
            codes = r.path.strip("/").split("/")[depth - 2:]
            flags = _flags(r, now)
            states[codes[-1]] = flags["state"]
            for i in range(min(2, len(codes))):  # the grid asked for, and the one under it on the path
                _add(nodes[codes[i]], flags, r.totals)
        children = sorted(code for code in nodes if code != top.code)
        names = dict(session.execute(select(Grid.code, Grid.name).where(Grid.code.in_([top.code, *children]))).all())
        levels = dict(session.execute(select(Grid.code, Grid.level).where(Grid.code.in_(children))).all())
        return {"campaign_id": campaign.id, "title": campaign.title, "form": campaign.form,
                "grid": _node(top.code, names, nodes.get(top.code, _empty()), top.level),
                "parent": _parent_code(top, root),
                "children": [_node(c, names, nodes[c], levels.get(c)) for c in children],
                "grids": states}


def export_rows(deps: Deps, user: User, campaign_id: int) -> tuple[list[dict], list[dict]]:
    """The campaign's form and one row per submission (every round of returns included), in grid order."""
    with deps.uow() as uow:
        session = uow.session
        campaign = _visible(session, user, campaign_id)
        top = _top(session, user, session.get(Grid, campaign.root_grid_id), None)
        rows = session.execute(
            select(Submission, Grid.code, Grid.name, User.username, User.display_name, Assignment.due_at)
            .join(Assignment, Assignment.id == Submission.assignment_id).join(Grid, Grid.id == Assignment.grid_id)
            .join(User, User.id == Submission.submitted_by_id)
            .where(Submission.campaign_id == campaign.id, Assignment.path.startswith(top.path, autoescape=True))
            .order_by(Assignment.path, Submission.id)).all()
        return campaign.form, [{"grid_code": code, "grid_name": name, "submitted_by": display or username,
                                "submitted_at": s.submitted_at, "on_time": s.submitted_at <= due,
                                "review": s.review, "reason": s.reason or "", "photos": len(s.photos or []),
                                "data": s.data} for s, code, name, username, display, due in rows]


def assignment_notifications(deps: Deps, user: User) -> list[dict]:
    """The user's notices about assignments (reminders, overdue), newest first."""
    with deps.uow() as uow:
        rows = uow.session.scalars(select(Notification).where(Notification.user_id == user.id,
                                                              Notification.assignment_id.is_not(None))
                                   .order_by(Notification.id.desc()).limit(200)).all()
        return [{"id": n.id, "assignment_id": n.assignment_id, "kind": n.kind, "message": n.message,
                 "created_at": n.created_at, "read_at": n.read_at} for n in rows]


# ---------------------------------------------------------------- helpers


def _visible(session: Session, user: User, campaign_id: int) -> Campaign:
    campaign = session.scalar(select(Campaign).where(Campaign.id == campaign_id, visible_campaigns(session, user)))
    if campaign is None:
        raise NotFoundError(f"campaign {campaign_id} not found")
    return campaign


def _top(session: Session, user: User, root: Grid, under: str | None) -> Grid:
    """Where the roll-up starts: `under` if it lies in the campaign's area and the user's, else the deeper of the
    campaign's root and the user's grid."""
    home = access.user_grid_path(session, user) if user.role != "admin" else None
    start = root
    if home and grids.within(home, root.path) and home != root.path:
        start = session.scalar(select(Grid).where(Grid.path == home))
    if under:
        grid = session.scalar(select(Grid).where(Grid.code == under))
        if grid is None or not grids.within(grid.path, start.path):
            raise NotFoundError(f"grid {under} not found in this campaign's area")
        return grid
    return start


def _flags(r, now: datetime) -> dict:
    submitted = r.first_submitted_at is not None
    overdue = (not submitted and (r.overdue_at is not None or now > r.due_at)) or \
        (submitted and r.first_submitted_at > r.due_at)
    if r.status == "approved":
        state = "accepted"
    elif r.status == "cancelled":
        state = "cancelled"
    elif overdue and not submitted:
        state = "overdue"
    elif r.status == "returned":
        state = "returned"
    elif submitted:
        state = "submitted"
    else:
        state = "open"
    return {"submitted": submitted, "accepted": r.status == "approved",
            "on_time": submitted and r.first_submitted_at <= r.due_at, "overdue": overdue,
            "returned": r.returns > 0, "state": state}


def _add(node: dict, flags: dict, totals: dict | None) -> None:
    node["expected"] += 1
    for key in ("submitted", "accepted", "on_time", "overdue", "returned"):
        node[key] += int(flags[key])
    for name, value in (totals or {}).items():
        node["totals"][name] = node["totals"].get(name, 0) + value


def _empty() -> dict:
    return {**dict.fromkeys(COUNTS, 0), "totals": {}}


def _node(code: str, names: dict, counts: dict, level: int | None) -> dict:
    rate = round(counts["submitted"] / counts["expected"], 4) if counts["expected"] else 0.0
    state = "accepted" if counts["expected"] and counts["accepted"] == counts["expected"] else \
        "submitted" if counts["expected"] and counts["submitted"] == counts["expected"] else \
        "overdue" if counts["overdue"] > counts["submitted"] - counts["on_time"] else \
        "partial" if counts["submitted"] else "open"
    return {"code": code, "name": names.get(code, code), "level": level, **counts, "rate": rate, "state": state}


def _parent_code(top: Grid, root: Grid) -> str | None:
    if top.id == root.id:
        return None
    return top.path.strip("/").split("/")[-2]


def _seen_area(session: Session, user: User) -> str | None:
    """The grid path whose assignments the user's counts cover: their own grid's subtree (a town supervisor
    sees their town's part of a city-wide campaign), or everything for an admin and a department."""
    return None if user.role == "admin" else access.user_grid_path(session, user)


def _summary(session: Session, ids: list[int], now: datetime, within: str | None = None) -> dict[int, dict]:
    """Counts per campaign over its area (the part `within` a grid path), one grouped query."""
    if not ids:
        return {}
    area = Assignment.path.startswith(within, autoescape=True) if within else true()
    submitted = Assignment.first_submitted_at.is_not(None)
    rows = session.execute(select(
        Assignment.campaign_id, func.count(),
        func.count(Assignment.first_submitted_at),
        _count(Assignment.status == "approved"),
        _count(submitted & (Assignment.first_submitted_at <= Assignment.due_at)),
        _count((~submitted & (Assignment.due_at < now)) | (Assignment.first_submitted_at > Assignment.due_at)),
        _count(Assignment.returns > 0),
    ).where(Assignment.campaign_id.in_(ids), area).group_by(Assignment.campaign_id)).all()
    out = {}
    for campaign_id, expected, sub, acc, on_time, overdue, returned in rows:
        out[campaign_id] = {"expected": expected, "submitted": sub, "accepted": acc or 0, "on_time": on_time or 0,
                            "overdue": overdue or 0, "returned": returned or 0,
                            "rate": round(sub / expected, 4) if expected else 0.0}
    return out


def _count(condition):
    return func.sum(case((condition, 1), else_=0))


def _campaign_dict(c: Campaign, root_code: str, root_name: str) -> dict:
    return {"id": c.id, "title": c.title, "instructions": c.instructions, "form": c.form, "root_grid": root_code,
            "root_name": root_name, "target_level": c.target_level, "working_days": c.working_days,
            "created_at": c.created_at, "due_at": c.due_at, "recurrence": c.recurrence, "round": c.round,
            "previous_id": c.previous_id, "next_round_at": c.next_round_at, "status": c.status,
            "ended_at": c.ended_at, "end_reason": c.end_reason, "department_id": c.department_id}


def _assignment_dict(a: Assignment, c: Campaign, g: Grid, now: datetime) -> dict:
    return {"id": a.id, "campaign_id": c.id, "campaign_title": c.title, "grid_code": g.code, "grid_name": g.name,
            "status": a.status, "step": a.step, "due_at": a.due_at, "overdue": a.first_submitted_at is None
            and (a.overdue_at is not None or now > a.due_at) and a.ended_at is None,
            "accepted_at": a.accepted_at, "submitted_at": a.submitted_at, "approved_at": a.approved_at,
            "returns": a.returns, "totals": a.totals or {}}


def _submission_dict(s: Submission) -> dict:
    return {"id": s.id, "submitted_by_id": s.submitted_by_id, "submitted_at": s.submitted_at, "data": s.data,
            "photos": s.photos, "review": s.review, "reviewed_at": s.reviewed_at, "reason": s.reason}


def _event_dict(e: CampaignEvent, who: str | None) -> dict:
    return {"at": e.at, "kind": e.kind, "actor": who or "system", "reason": e.reason, "payload": e.payload}


def _findings(session: Session, campaign_id: int) -> list[dict]:
    rows = session.execute(select(Finding, Case.number, Case.type, Case.title, Grid.code)
                           .join(Case, Case.id == Finding.case_id).join(Grid, Grid.id == Case.grid_id)
                           .where(Finding.campaign_id == campaign_id).order_by(Finding.id)).all()
    return [{"case_id": f.case_id, "case_number": number, "type": type_, "title": title, "grid_code": code,
             "assignment_id": f.assignment_id} for f, number, type_, title, code in rows]
