"""Campaign use cases: launch, accept, submit (with findings), review, cancel, and the next round of a recurring one.

Each assignment runs the small workflow of bpmn/campaign/ on its own row (never one workflow holding thousands of
instances: docs/processes.md). Every use case is one transaction that locks what it changes; the assignment row
carries a version column checked on every update. Deadlines (reminders at the warning points, overdue at the
due time) are rows of the shared `deadlines` table, fired by the same leases and jobs as a case's
(engine/campaigns/alarms.py).
"""
import calendar as _months
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import NamedTuple

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from engine.campaigns import forms
from engine.cases import services as case_services
from engine.deps import Deps
from engine.errors import ConflictError, NotFoundError, PermissionDenied, ValidationError
from engine.people import access
from engine.people import campaign_rules as rules
from engine.people.campaign_rules import OPEN_STEPS
from engine.places import grid as grids
from engine.process import runner, versions
from engine.process.catalogue import BPMN_ROOT
from engine.sla import clocks
from engine.store import filetypes, timeline
from engine.store.model import (
    Assignment,
    Campaign,
    CampaignEvent,
    Case,
    Deadline,
    Department,
    Finding,
    Grid,
    Submission,
    User,
)

RECURRENCES = ("weekly", "monthly")
MAX_WORKING_DAYS = 60
MAX_FINDINGS = 10
STATUS_OF_STAGE = {"issued": "issued", "accepted": "accepted", "submitted": "submitted"}


class _Process:
    """The assignment's process, deployed and versioned like a case type's (its files only, no shared ones)."""

    process_id = "campaign_assignment"
    folder = "campaign"

    def read_files(self, root: Path = BPMN_ROOT) -> dict[str, str]:
        return {f"{self.folder}/{p.name}": p.read_text(encoding="utf-8")
                for p in sorted((root / self.folder).glob("*.bpmn"))}


PROCESS = _Process()


@dataclass(frozen=True)
class NewCampaign:
    title: str
    form: list
    working_days: int
    root_grid_code: str | None = None  # default: the launcher's grid (a department's: its jurisdiction)
    target_level: int | None = 4  # every grid of this level under the root...
    grid_codes: tuple[str, ...] = ()  # ...or these grids
    instructions: str = ""
    recurrence: str | None = None


@dataclass(frozen=True)
class NewFinding:
    type: str
    title: str
    description: str = ""
    severity: str = "medium"


@dataclass(frozen=True)
class Photo:
    filename: str
    data: bytes = field(repr=False)


class _Due(NamedTuple):  # a moment to wake a worker at, as the unit of work schedules deadlines
    due_at: datetime


# ---------------------------------------------------------------- launch


def launch(deps: Deps, actor_id: int, new: NewCampaign, previous: Campaign | None = None) -> int:
    """Send a campaign to every target grid: one assignment each, with its deadlines. Returns the campaign id."""
    problems: dict = {}
    for check in (lambda: _check_basics(new), lambda: forms.check(new.form)):  # every field's problem at once
        try:
            form = check()
        except ValidationError as exc:
            problems.update(exc.errors)
    if problems:
        raise ValidationError("the campaign is not valid", problems)
    with deps.uow() as uow:
        session, now = uow.session, deps.clock.now()
        actor = access.actor(session, actor_id)
        root, department = _launch_root(session, actor, new)
        targets = _targets(session, root, new)
        campaign_id, _ = _issue(deps, uow, actor, new, form, root, department, targets, now, previous)
        uow.commit()
        return campaign_id


def _check_basics(new: NewCampaign) -> None:
    if not new.title or not new.title.strip() or len(new.title) > 200:
        raise ValidationError("give a title", {"title": ["Give a title of up to 200 characters."]})
    if len(new.instructions or "") > 5000:
        raise ValidationError("the instructions are too long", {"instructions": ["At most 5000 characters."]})
    days = new.working_days
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_WORKING_DAYS:
        raise ValidationError("the deadline is not valid",
                              {"working_days": [f"Give a whole number of working days from 1 to {MAX_WORKING_DAYS}."]})
    if new.recurrence not in (None, "", *RECURRENCES):
        raise ValidationError("unknown recurrence", {"recurrence": [f"Must be one of: {', '.join(RECURRENCES)}."]})
    if new.grid_codes and new.target_level is not None:
        raise ValidationError("choose one target", {"target_level": ["Give a level or chosen grids, not both."]})
    if not new.grid_codes and new.target_level not in (1, 2, 3, 4):
        raise ValidationError("say which grids", {"target_level": ["Give a grid level from 1 to 4, or chosen grids."]})


def _launch_root(session: Session, actor: User, new: NewCampaign) -> tuple[Grid, Department | None]:
    """The grid whose subtree the campaign covers: a town or city supervisor's own area, a department's
    jurisdiction, anything for an admin."""
    department = None
    if actor.role == "liaison" and actor.department_id:
        department = session.get(Department, actor.department_id)
        home = session.get(Grid, department.grid_id)
    elif actor.role == "supervisor" and actor.grid_id:
        home = session.get(Grid, actor.grid_id)
        if home.level > 1:
            raise PermissionDenied("only a town or city supervisor launches campaigns")
    elif actor.role == "admin":
        home = None
    else:
        raise PermissionDenied("only a town or city supervisor, a department or an admin launches campaigns")
    if new.root_grid_code:
        try:
            root = grids.by_code(session, new.root_grid_code)
        except NotFoundError as exc:
            raise ValidationError(exc.message, {"root_grid_code": [f"No grid {new.root_grid_code!r}."]}) from exc
        if home is not None and not grids.within(root.path, home.path):
            raise ValidationError("the area is outside yours",
                                  {"root_grid_code": [f"Grid {root.code} is outside your area."]})
    elif home is not None:
        root = home
    else:
        root = session.scalar(select(Grid).where(Grid.parent_id.is_(None)).order_by(Grid.id).limit(1))
    return root, department


def _targets(session: Session, root: Grid, new: NewCampaign) -> list[tuple[int, str]]:
    """(grid id, path) of every target grid, in path order."""
    if new.grid_codes:
        codes = list(dict.fromkeys(new.grid_codes))
        rows = session.execute(select(Grid.id, Grid.path, Grid.code).where(Grid.code.in_(codes))).all()
        found = {r.code: r for r in rows}
        missing = [c for c in codes if c not in found]
        outside = [c for c, r in found.items() if not grids.within(r.path, root.path)]
        if missing or outside:
            raise ValidationError("some grids cannot be targeted", {"grid_codes": [
                f"Not a grid in the area: {', '.join((missing + outside)[:10])}."]})
        return sorted(((r.id, r.path) for r in rows), key=lambda t: t[1])
    if new.target_level < root.level:
        raise ValidationError("the level is above the area", {"target_level": [
            f"The area is at level {root.level}: give a level from {root.level} to 4."]})
    rows = session.execute(select(Grid.id, Grid.path).where(
        Grid.path.startswith(root.path, autoescape=True), Grid.level == new.target_level).order_by(Grid.path)).all()
    if not rows:
        raise ValidationError("no grid to send it to", {"target_level": ["The area has no grid of that level."]})
    return [(r.id, r.path) for r in rows]


def _issue(deps, uow, actor, new, form, root, department, targets, now, previous):
    """The campaign row, its assignments (one workflow started once: every assignment begins in the same state)
    and their deadlines, inserted in batches; the deadlines are scheduled after commit."""
    session = uow.session
    cal = clocks.calendar(session, deps)
    due = cal.add(now, new.working_days, "working_days").at
    version = versions.current(session, deps.specs, PROCESS, now)
    spec = deps.specs.by_hash(version.content_hash, PROCESS.process_id, PROCESS.read_files)
    workflow, step = runner.start(spec, {"campaign": new.title})
    [first] = step.ready
    state = runner.dump(spec, workflow)
    campaign = Campaign(
        title=new.title.strip(), instructions=(new.instructions or "").strip(), form=form, root_grid_id=root.id,
        target_level=None if new.grid_codes else new.target_level, department_id=department.id if department else None,
        created_by_id=actor.id, created_at=now, working_days=new.working_days, due_at=due,
        recurrence=new.recurrence or None, round=previous.round + 1 if previous else 1,
        previous_id=previous.id if previous else None,
        next_round_at=_next_round(now, new.recurrence) if new.recurrence else None, status="open",
        process_version_id=version.id)
    session.add(campaign)
    session.flush()
    rows = [{"campaign_id": campaign.id, "grid_id": grid_id, "path": path, "status": "issued", "step": first.name,
             "step_id": first.id, "state": state, "created_at": now, "updated_at": now, "due_at": due, "returns": 0,
             "version": 1} for grid_id, path in targets]
    ids = session.scalars(insert(Assignment).returning(Assignment.id, sort_by_parameter_order=True), rows).all()
    minutes = cal.working_minutes(now, due)
    moments = [(f"reminder:{f:g}", "reminder", f, cal.add_working_minutes(now, minutes * f)) for f in deps.warn_at]
    moments.append(("overdue", "overdue", 1.0, due))
    deadline_rows = [{"assignment_id": a, "key": key, "kind": kind, "name": "assignment", "fraction": fraction,
                      "due_at": at, "attempts": 0} for a in ids for key, kind, fraction, at in moments]
    session.execute(insert(Deadline), deadline_rows)
    session.add(CampaignEvent(campaign_id=campaign.id, at=now, actor_id=actor.id, kind="launched",
                              reason=campaign.title, payload={
                                  "root": root.code, "target_level": campaign.target_level,
                                  "assignments": len(ids), "due_at": cal.local(due).isoformat(),
                                  "round": campaign.round, "previous_id": campaign.previous_id}))
    # the scheduler wakes a worker once per second holding a due time: one row per moment is enough to say which
    uow.schedule_after_commit(deps.scheduler, [_Due(at) for _, _, _, at in moments])
    return campaign.id, due


def _next_round(now: datetime, recurrence: str) -> datetime:
    if recurrence == "weekly":
        return now + timedelta(days=7)
    month = now.month % 12 + 1
    year = now.year + (now.month == 12)
    day = min(now.day, _months.monthrange(year, month)[1])
    return now.replace(year=year, month=month, day=day)


def launch_due_rounds(deps: Deps) -> list[int]:
    """Launch the next round of every recurring campaign whose time has come (the worker's sweep calls it).
    Each round is launched once: the campaign row is locked and its `next_round_at` cleared in the same
    transaction as the new round."""
    with deps.uow() as uow:
        due = list(uow.session.scalars(select(Campaign.id).where(
            Campaign.next_round_at.is_not(None), Campaign.next_round_at <= deps.clock.now())))
    launched = []
    for campaign_id in due:
        with deps.uow() as uow:
            session, now = uow.session, deps.clock.now()
            previous = session.scalar(select(Campaign).where(Campaign.id == campaign_id).with_for_update())
            if previous.next_round_at is None or previous.next_round_at > now or previous.status == "cancelled":
                continue
            actor = session.get(User, previous.created_by_id)
            root = session.get(Grid, previous.root_grid_id)
            department = session.get(Department, previous.department_id) if previous.department_id else None
            new = _repeat(session, previous)
            targets = _targets(session, root, new)
            new_id, _ = _issue(deps, uow, actor, new, previous.form, root, department, targets, now, previous)
            previous.next_round_at = None
            session.add(CampaignEvent(campaign_id=previous.id, at=now, actor_id=None, kind="next_round",
                                      payload={"campaign_id": new_id}))
            uow.commit()
            launched.append(new_id)
    return launched


def _repeat(session, previous: Campaign) -> NewCampaign:
    codes = () if previous.target_level is not None else tuple(session.scalars(
        select(Grid.code).join(Assignment, Assignment.grid_id == Grid.id).where(
            Assignment.campaign_id == previous.id)))
    return NewCampaign(title=previous.title, form=previous.form, working_days=previous.working_days,
                       target_level=previous.target_level, grid_codes=codes, instructions=previous.instructions,
                       recurrence=previous.recurrence)


# ---------------------------------------------------------------- the grid's work


def accept(deps: Deps, actor_id: int, assignment_id: int) -> None:
    """The grid takes the assignment on (签收)."""
    with deps.uow() as uow:
        session, now = uow.session, deps.clock.now()
        actor, assignment, campaign = _locked(session, actor_id, assignment_id)
        _check_doer(session, actor, assignment)
        if assignment.step != "accept_assignment":
            raise ConflictError(f"the assignment is already {assignment.status}")
        _run(deps, session, campaign, assignment, actor, now, "accept_assignment", {})
        assignment.accepted_at, assignment.accepted_by_id = now, actor.id
        _event(session, campaign, assignment, now, actor, "accepted")
        uow.commit()


def submit(deps: Deps, actor_id: int, assignment_id: int, data: dict, photos: Sequence[Photo] = (),
           findings: Sequence[NewFinding] = ()) -> int:
    """Send the grid's answer (accepting the assignment first if it was not yet); each finding is then filed as a
    case from the assignment's grid and linked both ways. Returns the submission id."""
    if len(findings) > MAX_FINDINGS:
        raise ValidationError("too many findings", {"findings": [f"At most {MAX_FINDINGS} findings."]})
    for i, finding in enumerate(findings):
        if not finding.title or not finding.title.strip():
            raise ValidationError("a finding needs a title", {f"findings.{i}.title": ["Give a title."]})
        if finding.type not in deps.catalogue:
            raise ValidationError("unknown case type", {f"findings.{i}.type": [
                f"Must be one of: {', '.join(deps.catalogue)}."]})
    with deps.uow() as uow:
        session, now = uow.session, deps.clock.now()
        actor, assignment, campaign = _locked(session, actor_id, assignment_id)
        _check_doer(session, actor, assignment)
        if assignment.step not in OPEN_STEPS:
            raise ConflictError(f"the assignment is already {assignment.status}")
        cleaned = forms.clean(campaign.form, data, len(photos))
        stored = [_store_photo(deps, p) for p in photos]
        if assignment.step == "accept_assignment":
            _run(deps, session, campaign, assignment, actor, now, "accept_assignment", {})
            assignment.accepted_at, assignment.accepted_by_id = now, actor.id
        _run(deps, session, campaign, assignment, actor, now, "submit_assignment", {"submission": cleaned})
        submission = Submission(assignment_id=assignment.id, campaign_id=campaign.id, submitted_by_id=actor.id,
                                submitted_at=now, data=cleaned, photos=stored, review="pending")
        session.add(submission)
        assignment.submitted_at = now
        assignment.first_submitted_at = assignment.first_submitted_at or now
        assignment.totals = forms.totals(campaign.form, cleaned)
        session.execute(update(Deadline).where(Deadline.assignment_id == assignment.id, Deadline.fired_at.is_(None),
                                               Deadline.cancelled_at.is_(None)).values(cancelled_at=now))
        session.flush()
        _event(session, campaign, assignment, now, actor, "submitted",
               payload={"submission_id": submission.id, "photos": len(stored), "findings": len(findings)})
        submission_id, grid_code = submission.id, session.get(Grid, assignment.grid_id).code
        uow.commit()
    for i, finding in enumerate(findings):
        _file_finding(deps, actor_id, assignment_id, submission_id, grid_code, i, finding)
    return submission_id


def _file_finding(deps, actor_id, assignment_id, submission_id, grid_code, index, finding: NewFinding) -> int:
    """File one finding as a bottom-up case (idempotent per submission and index), then link it both ways."""
    case_id = case_services.file_case(deps, actor_id, case_services.NewCase(
        type=finding.type, title=finding.title.strip(), description=finding.description, severity=finding.severity,
        grid_code=grid_code), idempotency_key=f"campaign-submission-{submission_id}-{index}")
    with deps.uow() as uow:
        session, now = uow.session, deps.clock.now()
        if session.scalar(select(Finding.id).where(Finding.case_id == case_id)) is not None:
            return case_id
        actor = session.get(User, actor_id)
        assignment = session.get(Assignment, assignment_id)
        campaign = session.get(Campaign, assignment.campaign_id)
        case = session.scalar(select(Case).where(Case.id == case_id).with_for_update(of=Case))
        session.add(Finding(campaign_id=campaign.id, assignment_id=assignment.id, submission_id=submission_id,
                            case_id=case_id))
        timeline.append(session, case_id, now, actor, "campaign_finding", reason=campaign.title, payload={
            "campaign_id": campaign.id, "campaign": campaign.title, "assignment_id": assignment.id,
            "submission_id": submission_id})
        _event(session, campaign, assignment, now, actor, "finding", reason=finding.title,
               payload={"case_id": case_id, "case_number": case.number, "type": finding.type})
        uow.commit()
    return case_id


def review(deps: Deps, actor_id: int, assignment_id: int, approved: bool, reason: str = "") -> None:
    """The level above accepts the submission, or returns it with a reason for the grid to submit again."""
    reason = (reason or "").strip()
    if not approved and not reason:
        raise ValidationError("give a reason", {"reason": ["Say why the submission goes back."]})
    with deps.uow() as uow:
        session, now = uow.session, deps.clock.now()
        actor, assignment, campaign = _locked(session, actor_id, assignment_id)
        _check_reviewer(session, actor, assignment)
        if assignment.step != "review_submission":
            raise ConflictError(f"the assignment is {assignment.status}: there is nothing to review")
        submission = session.scalar(select(Submission).where(Submission.assignment_id == assignment.id)
                                    .order_by(Submission.id.desc()).limit(1))
        _run(deps, session, campaign, assignment, actor, now, "review_submission",
             {"approved": bool(approved), "reason": reason})
        submission.review = "approved" if approved else "returned"
        submission.reviewed_by_id, submission.reviewed_at, submission.reason = actor.id, now, reason or None
        if approved:
            assignment.approved_at = now
        _event(session, campaign, assignment, now, actor, "approved" if approved else "returned",
               reason=reason or None, payload={"submission_id": submission.id})
        uow.commit()


def cancel(deps: Deps, actor_id: int, campaign_id: int, reason: str) -> int:
    """End the campaign: every open assignment's workflow is told, its deadlines are cancelled, the timeline says
    why. Returns the number of assignments ended."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("give a reason", {"reason": ["Say why the campaign is cancelled."]})
    with deps.uow() as uow:
        session, now = uow.session, deps.clock.now()
        actor = access.actor(session, actor_id)
        campaign = session.scalar(select(Campaign).where(Campaign.id == campaign_id).with_for_update())
        if campaign is None or not rules.can_see(session, actor, campaign):
            raise NotFoundError(f"campaign {campaign_id} not found")
        if not rules.can_manage(session, actor, campaign):
            raise PermissionDenied("only the launcher's level or above cancels a campaign")
        if campaign.status != "open":
            raise ConflictError(f"the campaign is already {campaign.status}")
        spec = versions.spec_of(session, deps.specs, campaign.process_version_id)
        open_ones = list(session.scalars(select(Assignment).where(
            Assignment.campaign_id == campaign.id, Assignment.ended_at.is_(None)).order_by(Assignment.id)
            .with_for_update()))
        for assignment in open_ones:
            workflow = runner.restore(spec, assignment.state)
            runner.send_signal(workflow, "campaign_cancelled", {"reason": reason, "by": actor.username})
            assignment.state = runner.dump(spec, workflow)
            assignment.status, assignment.step, assignment.step_id = "cancelled", None, None
            assignment.ended_at = assignment.updated_at = now
        ids = [a.id for a in open_ones]
        if ids:
            session.execute(update(Deadline).where(Deadline.assignment_id.in_(ids), Deadline.fired_at.is_(None),
                                                   Deadline.cancelled_at.is_(None)).values(cancelled_at=now))
            session.execute(update(Submission).where(Submission.assignment_id.in_(ids),
                                                     Submission.review == "pending").values(review="cancelled"))
        campaign.status, campaign.ended_at, campaign.end_reason, campaign.next_round_at = "cancelled", now, reason, None
        session.add(CampaignEvent(campaign_id=campaign.id, at=now, actor_id=actor.id, kind="cancelled", reason=reason,
                                  payload={"assignments_ended": len(ids)}))
        uow.commit()
        return len(ids)


# ---------------------------------------------------------------- helpers


def _check_doer(session, actor, assignment) -> None:
    if not rules.can_do(session, actor, assignment):
        raise PermissionDenied("this assignment is for the grid's workers and its leader")


def _check_reviewer(session, actor, assignment) -> None:
    if not rules.can_review(session, actor, assignment):
        raise PermissionDenied("a submission is reviewed by the level above, not by the one who sent it")


def _locked(session: Session, actor_id: int, assignment_id: int) -> tuple[User, Assignment, Campaign]:
    """The acting user, the assignment locked, and its campaign; out of sight reads as not found."""
    actor = access.actor(session, actor_id)
    assignment = session.scalar(select(Assignment).where(Assignment.id == assignment_id).with_for_update())
    if assignment is None:
        raise NotFoundError(f"assignment {assignment_id} not found")
    campaign = session.get(Campaign, assignment.campaign_id)
    if not rules.can_see_assignment(session, actor, assignment, campaign):
        raise NotFoundError(f"assignment {assignment_id} not found")
    if assignment.ended_at is not None or campaign.status != "open":
        raise ConflictError(f"the assignment is {assignment.status}")
    return actor, assignment, campaign


def _run(deps, session, campaign, assignment, actor, now, step_name: str, data: dict) -> None:
    """Complete the assignment's open task in its workflow and bring the row in line with where it stopped."""
    spec = versions.spec_of(session, deps.specs, campaign.process_version_id)
    workflow = runner.restore(spec, assignment.state)
    if assignment.step != step_name:
        raise ConflictError(f"the assignment is {assignment.status}")
    step = runner.complete(workflow, assignment.step_id, data)
    assignment.state = runner.dump(spec, workflow)
    assignment.updated_at = now
    returned = any(h.get("timeline") == "returned" for h in step.happened)
    if returned:
        assignment.returns += 1
    if step.completed:
        assignment.status = "approved" if step.outcome == "approved" else (step.outcome or "approved")
        assignment.step = assignment.step_id = None
        assignment.ended_at = now
        return
    [ready] = step.ready
    assignment.step, assignment.step_id = ready.name, ready.id
    assignment.status = "returned" if returned else STATUS_OF_STAGE.get(ready.properties.get("stage"), "issued")


def _event(session, campaign, assignment, now, actor, kind, reason=None, payload=None) -> None:
    grid_code = session.scalar(select(Grid.code).where(Grid.id == assignment.grid_id))
    session.add(CampaignEvent(campaign_id=campaign.id, assignment_id=assignment.id, at=now,
                              actor_id=actor.id if actor else None, kind=kind, reason=reason,
                              payload={"grid": grid_code, **(payload or {})}))


def _store_photo(deps: Deps, photo: Photo) -> dict:
    """Keep a photo in the blob store by its hash; only images, no larger than attachments may be."""
    if len(photo.data) > deps.attachment_max_bytes:
        raise ValidationError("the photo is too large", {"photos": [
            f"A photo may be at most {deps.attachment_max_bytes // (1024 * 1024)} MB."]})
    content_type = filetypes.sniff(photo.data)
    if not content_type or not content_type.startswith("image/"):
        raise ValidationError("not a photo", {"photos": ["Only photos (JPEG, PNG, WebP...)."]})
    digest = deps.blobs.put(photo.data)
    return {"sha256": digest, "filename": filetypes.clean_filename(photo.filename, content_type),
            "content_type": content_type, "size": len(photo.data)}
