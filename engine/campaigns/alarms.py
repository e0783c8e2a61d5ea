"""What an assignment's due deadline does: a reminder tells the grid, overdue tells the level above.

Called by engine/deadlines/firing.py with the assignment row locked, exactly as a case's deadlines are fired
(same rows, leases, jobs and sweep): a deadline that fired or was cancelled does nothing, one not yet due is
"early". Neither touches the assignment's workflow. After downtime only the furthest due deadline of an
assignment speaks, so a late worker sends one notice, not one per missed point.
"""
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.people.campaign_rules import OPEN_STEPS
from engine.places import grid as grids
from engine.sla.calendar import BusinessCalendar
from engine.store.model import Assignment, Campaign, CampaignEvent, Deadline, Grid, Notification, User


def fire(session: Session, assignment: Assignment, deadline: Deadline, now: datetime, cal: BusinessCalendar) -> str:
    """With the assignment locked: act on the deadline unless it fired, was cancelled or is not due; no commit."""
    if deadline.fired_at or deadline.cancelled_at:
        return "done"
    if now < deadline.due_at:
        return "early"
    deadline.fired_at, deadline.attempts = now, deadline.attempts + 1
    if assignment.step not in OPEN_STEPS or assignment.ended_at is not None:
        return "fired"  # submitted meanwhile: nothing to say
    campaign = session.get(Campaign, assignment.campaign_id)
    grid = _grid(session, assignment.grid_id)
    due = cal.local(assignment.due_at).strftime("%Y-%m-%d %H:%M")
    if deadline.kind == "overdue":
        assignment.overdue_at = assignment.overdue_at or now
        above = level_above(session, grid)
        message = f"{campaign.title}：{grid.name}（{grid.code}）未按期报送（应于 {due} 前）"
        people = _leaders_at(session, above) | {campaign.created_by_id}
        _record(session, campaign, assignment, now, "overdue", message, {"grid": grid.code, "notified_grid":
                                                                         above.code if above else None})
    else:
        if _superseded(session, deadline, now):
            return "fired"
        percent = round((deadline.fraction or 0) * 100)
        message = f"{campaign.title}：{grid.name} 的任务已用时 {percent}%，请于 {due} 前报送"
        people = _doers(session, grid)
        _record(session, campaign, assignment, now, "reminder", message, {"grid": grid.code,
                                                                          "fraction": deadline.fraction})
    session.add_all(Notification(user_id=u, assignment_id=assignment.id, kind=f"campaign_{deadline.kind}",
                                 message=message, created_at=now) for u in sorted(people))
    return "fired"


def level_above(session: Session, grid: Grid) -> Grid | None:
    """Who answers for a grid that is late: the village for a grid inside it (unit or level-2 grid), the town for
    a village, the city for a town. Known once per transaction (a batch of firings meets the same villages)."""
    known = session.info.setdefault("campaign_above", {})
    if grid.id not in known:
        if grid.level >= 3:
            known[grid.id] = grids.ancestor_at(session, grid, 2)
        else:
            known[grid.id] = _grid(session, grid.parent_id) if grid.parent_id is not None else None
    return known[grid.id]


def _leaders_at(session: Session, grid: Grid | None) -> set[int]:
    """The grid's leader and its grid leaders; for a town or the city, its supervisors (once per transaction)."""
    if grid is None:
        return set()
    known = session.info.setdefault("campaign_leaders", {})
    if grid.id not in known:
        roles = ("grid_leader",) if grid.level >= 2 else ("supervisor",)
        people = set(session.scalars(select(User.id).where(User.grid_id == grid.id, User.role.in_(roles),
                                                           User.active.is_(True))))
        known[grid.id] = people | ({grid.leader_id} if grid.leader_id else set())
    return set(known[grid.id])


def _doers(session: Session, grid: Grid) -> set[int]:
    """The grid's workers and its leader, and the leader of the grid above (the backup)."""
    people = set(session.scalars(select(User.id).where(User.grid_id == grid.id, User.active.is_(True),
                                                       User.role.in_(("grid_worker", "grid_leader")))))
    if grid.leader_id:
        people.add(grid.leader_id)
    if grid.parent_id:
        parent = _grid(session, grid.parent_id)
        if parent.leader_id:
            people.add(parent.leader_id)
    return people


def _superseded(session: Session, deadline: Deadline, now: datetime) -> bool:
    return session.scalar(select(Deadline.id).where(
        Deadline.assignment_id == deadline.assignment_id, Deadline.id != deadline.id, Deadline.fired_at.is_(None),
        Deadline.cancelled_at.is_(None), Deadline.fraction > deadline.fraction, Deadline.due_at <= now)
        .limit(1)) is not None


def _record(session, campaign, assignment, now, kind, message, payload) -> None:
    session.add(CampaignEvent(campaign_id=campaign.id, assignment_id=assignment.id, at=now, actor_id=None, kind=kind,
                              reason=message, payload=payload))


def _grid(session: Session, grid_id: int) -> Grid:
    """Grids by id, once per transaction (a batch of firings meets the same villages again and again)."""
    known = session.info.setdefault("campaign_grids", {})
    if grid_id not in known:
        known[grid_id] = session.get(Grid, grid_id)
    return known[grid_id]
