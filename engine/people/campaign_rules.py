"""Who may see, manage, do and review a campaign's assignments (the use cases and the read queries ask here)."""
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.people import access
from engine.places import grid as grids
from engine.store.model import Assignment, Campaign, Grid, Submission, User

OPEN_STEPS = ("accept_assignment", "submit_assignment")  # still the grid's to do: reminders and overdue apply


def can_see(session: Session, user: User, campaign: Campaign) -> bool:
    """Admins; anyone whose grid lies above, on or under the campaign's root; the launching department."""
    if user.role == "admin":
        return True
    if campaign.department_id is not None and user.department_id == campaign.department_id:
        return True
    home = access.user_grid_path(session, user)
    if not home:
        return False
    root = session.scalar(select(Grid.path).where(Grid.id == campaign.root_grid_id))
    return grids.within(root, home) or grids.within(home, root)


def can_manage(session: Session, user: User, campaign: Campaign) -> bool:
    """The launcher, an admin, or a supervisor whose area holds the campaign's root."""
    if user.role == "admin" or user.id == campaign.created_by_id:
        return True
    if user.role != "supervisor":
        return False
    home = access.user_grid_path(session, user)
    root = session.scalar(select(Grid.path).where(Grid.id == campaign.root_grid_id))
    return bool(home) and grids.within(root, home)


def can_do(session: Session, user: User, assignment: Assignment) -> bool:
    """The grid's own workers, the leader of the grid or of the grid above as backup, an admin."""
    if user.role == "admin":
        return True
    if user.role not in ("grid_worker", "grid_leader") or not user.grid_id:
        return False
    if user.grid_id == assignment.grid_id:
        return True
    parent = session.scalar(select(Grid.parent_id).where(Grid.id == assignment.grid_id))
    return user.role == "grid_leader" and user.grid_id == parent


def can_review(session: Session, user: User, assignment: Assignment) -> bool:
    """A grid leader or supervisor of a grid above the assignment's (not the one who submitted), or an admin."""
    if user.role == "admin":
        return True
    if user.role not in ("grid_leader", "supervisor"):
        return False
    home = access.user_grid_path(session, user)
    if not home or home == assignment.path or not grids.within(assignment.path, home):
        return False
    last = session.scalar(select(Submission.submitted_by_id).where(Submission.assignment_id == assignment.id)
                          .order_by(Submission.id.desc()).limit(1))
    return last != user.id


def can_see_assignment(session: Session, user: User, assignment: Assignment, campaign: Campaign) -> bool:
    if user.role == "admin" or (campaign.department_id and user.department_id == campaign.department_id):
        return True
    home = access.user_grid_path(session, user)
    if not home:
        return False
    if grids.within(assignment.path, home):
        return True
    return can_do(session, user, assignment)


def actions(session: Session, user: User, assignment: Assignment, campaign: Campaign) -> list[str]:
    """What `user` may do with the assignment now: accept, submit, review."""
    if assignment.ended_at is not None or campaign.status != "open":
        return []
    if assignment.step in OPEN_STEPS and can_do(session, user, assignment):
        return ["accept", "submit"] if assignment.step == "accept_assignment" else ["submit"]
    if assignment.step == "review_submission" and can_review(session, user, assignment):
        return ["review"]
    return []
