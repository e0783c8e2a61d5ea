"""Use cases. Each one is a single transaction that locks the case it changes."""
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.cases import failures, idempotency, numbering
from engine.cases.attachments import link_evidence
from engine.cases.projection import Run, project
from engine.deps import Deps
from engine.errors import ConflictError, NotFoundError, PermissionDenied, ValidationError
from engine.people import access
from engine.places import grid as grids
from engine.process import runner, versions
from engine.process.catalogue import SEVERITIES, CaseType, clean_form
from engine.store import case_rows, timeline
from engine.store.model import Case, Grid, Task, User


@dataclass(frozen=True)
class NewCase:
    """What a reporter says about a matter."""

    type: str
    title: str
    description: str = ""
    severity: str = "medium"
    subcategory: str = ""
    grid_code: str | None = None
    lat: float | None = None
    lng: float | None = None


@dataclass(frozen=True)
class Via:
    """A filing from an outside system through a partner key (engine/cases/partners.py): the partner goes on
    the case's timeline, the place must lie in the key's area, and a retry within `window` files once."""

    partner_key_id: int
    partner: str
    grid_path: str
    window: object = None  # a timedelta
    extra: dict | None = None  # what the partner sent besides the case (contact, photo URL), kept on the timeline


def file_case(deps: Deps, actor_id: int, new: NewCase, idempotency_key: str | None = None,
              via: Via | None = None) -> int:
    """Report a matter: number it, start its process, open its first tasks. Returns the case id.

    With an idempotency key, a retry of the same filing by the same user returns the first case."""
    case_type = _case_type(deps, new.type)
    if new.severity not in SEVERITIES:
        raise ValidationError("unknown severity", {"severity": [f"Must be one of: {', '.join(SEVERITIES)}."]})
    with deps.uow() as uow:
        session, now = uow.session, deps.clock.now()
        actor = access.actor(session, actor_id)
        if actor.role not in access.REPORTING_ROLES:
            raise PermissionDenied(f"the role {actor.role!r} may not file cases")
        key = idempotency.claim(session, actor.id, idempotency_key, new, now, via.window if via else None) \
            if idempotency_key else None
        if key is not None and key.case_id is not None:
            return key.case_id
        place = _place(deps, session, actor, new)
        if via is not None and not grids.within(place.path, via.grid_path):
            field = "location" if new.lat is not None else "grid_code"
            raise ValidationError("the place is outside the partner's area",
                                  {field: [f"Grid {place.code} is outside the area of this key."]})
        version = versions.current(session, deps.specs, case_type, now)
        spec = deps.specs.by_hash(version.content_hash, case_type.process_id, case_type.read_files)
        workflow, step = runner.start(spec, {"severity": new.severity, "case_type": case_type.code,
                                             "subcategory": new.subcategory, "reporter": actor.username})
        case = Case(
            number=numbering.next_number(session, grids.town_of(session, place).code, now, deps.timezone),
            type=case_type.code, title=new.title, description=new.description, severity=new.severity,
            subcategory=new.subcategory,
            reporter_id=actor.id, grid_id=place.id, responsible_grid_id=place.id,
            responsible_level=place.level, lat=new.lat, lng=new.lng, status="reported",
            process_version_id=version.id, state=runner.dump(spec, workflow),
            created_at=now, updated_at=now,
        )
        session.add(case)
        session.flush()
        if key is not None:
            key.case_id = case.id
        timeline.append(session, case.id, now, actor, "filed", payload={
            "type": case.type, "title": case.title, "severity": case.severity, "grid": place.code,
            "number": case.number, "process_version": version.content_hash[:12],
            **({"partner": {"id": via.partner_key_id, "name": via.partner, **(via.extra or {})}} if via else {})})
        uow.schedule_after_commit(deps.scheduler, project(Run(deps, uow, case, spec, now, actor), step, filing=True))
        uow.commit()
        return case.id


def claim_task(deps: Deps, actor_id: int, task_id: str) -> None:
    """Take an open task so that no one else works on it."""
    with deps.uow() as uow:
        session, now = uow.session, deps.clock.now()
        actor, task, case = locked_task(session, actor_id, task_id)
        if task.assignee_id == actor.id:
            return
        access.check_can_act(session, actor, task)
        task.assignee_id, task.status, task.claimed_at = actor.id, "claimed", now
        case.updated_at = now
        timeline.append(session, case.id, now, actor, "claimed", task_id=task.id,
                        payload={"task": task.name, "title": task.title})
        uow.commit()


def release_task(deps: Deps, actor_id: int, task_id: str) -> None:
    """Give a claimed task back to its candidates."""
    with deps.uow() as uow:
        session, now = uow.session, deps.clock.now()
        actor, task, case = locked_task(session, actor_id, task_id)
        if task.assignee_id is None:
            raise ConflictError("the task is not claimed: there is nothing to release")
        if task.assignee_id != actor.id and actor.role != "admin":
            raise PermissionDenied("only the person who claimed the task can release it")
        task.assignee_id, task.status, task.claimed_at = None, "open", None
        case.updated_at = now
        timeline.append(session, case.id, now, actor, "released", task_id=task.id,
                        payload={"task": task.name, "title": task.title})
        uow.commit()


def complete_task(deps: Deps, actor_id: int, task_id: str, data: dict, attachments: Sequence[int] = ()) -> int:
    """Finish a task with its form data and attachments as evidence; the process moves on. Returns the case id."""
    with deps.uow() as uow:
        session, now = uow.session, deps.clock.now()
        actor, task, case = locked_task(session, actor_id, task_id, with_rows=True)
        access.check_can_act(session, actor, task)
        case_type = _case_type(deps, case.type)
        cleaned = clean_form(case_type.form(task.name), data)
        _check_case_numbers(session, actor, case, case_type.form(task.name), cleaned)
        evidence = link_evidence(session, case.id, task.id, attachments)
        spec = versions.spec_of(session, deps.specs, case.process_version_id)
        workflow = runner.restore(spec, case.state)
        with failures.recorded(deps, uow, case.id, actor.id, f"completing {task.name}"):
            step = runner.complete(workflow, task.id, cleaned)
        task.status, task.completed_at, task.completed_by_id = "completed", now, actor.id
        task.assignee_id = task.assignee_id or actor.id
        timeline.append(session, case.id, now, actor, "completed", task_id=task.id,
                        reason=cleaned.get("reason") or cleaned.get("outcome") or cleaned.get("note"),
                        payload={"task": task.name, "title": task.title, "data": cleaned,
                                 **({"attachments": evidence} if evidence else {})})
        case.state = runner.dump(spec, workflow)
        uow.schedule_after_commit(deps.scheduler, project(Run(deps, uow, case, spec, now, actor), step))
        uow.commit()
        return case.id


def withdraw_case(deps: Deps, actor_id: int, case_id: int, reason: str) -> None:
    """The reporter takes the report back at any stage before it is closed."""
    def allowed(actor, case):
        if case.reporter_id != actor.id and actor.role != "admin":
            raise PermissionDenied("only the reporter can withdraw a case")
    _send(deps, actor_id, case_id, allowed, runner.send_signal, "withdrawn", reason, "withdrawn")


def escalate_case(deps: Deps, actor_id: int, case_id: int, reason: str) -> None:
    """A supervisor sends the case one level up the grid now."""
    def allowed(actor, case):
        if actor.role not in ("supervisor", "admin"):
            raise PermissionDenied("only a supervisor can escalate a case")
    _send(deps, actor_id, case_id, allowed, runner.send_message, "escalate_now", reason, "escalated")


def _send(deps: Deps, actor_id: int, case_id: int, allowed, send, event: str, reason: str, done: str) -> None:
    if not reason or not reason.strip():
        raise ValidationError("give a reason", {"reason": ["Missing data for required field."]})
    with deps.uow() as uow:
        session, now = uow.session, deps.clock.now()
        actor = access.actor(session, actor_id)
        case = access.load_visible_case(session, actor, case_id, lock=True)
        allowed(actor, case)
        if case.closed_at is not None:
            raise ConflictError(f"the case is already {case.status}")
        spec = versions.spec_of(session, deps.specs, case.process_version_id)
        workflow = runner.restore(spec, case.state)
        try:
            with failures.recorded(deps, uow, case.id, actor.id, f"sending {event}"):
                step = send(workflow, event, {"reason": reason.strip(), "by": actor.username})
        except ConflictError:  # the diagram does not offer it at this stage
            raise ConflictError(f"the case cannot be {done} while it is {case.status}") from None
        timeline.append(session, case.id, now, actor, event, reason=reason.strip(), payload={"event": event})
        case.state = runner.dump(spec, workflow)
        uow.schedule_after_commit(deps.scheduler, project(Run(deps, uow, case, spec, now, actor), step))
        uow.commit()


def _check_case_numbers(session: Session, actor: User, case: Case, fields, cleaned: dict) -> None:
    """A form field that names another case (a duplicate's original) must name one the actor can see."""
    for f in fields:
        number = cleaned.get(f.name) if f.kind == "case_number" else None
        if not number:
            continue
        other = session.scalar(select(Case.id).where(Case.number == number, access.visible_cases(session, actor)))
        if other is None:
            raise ValidationError("no such case", {f.name: [f"No case numbered {number!r} that you can see."]})
        if other == case.id:
            raise ValidationError("a case cannot name itself", {f.name: ["Name another case than this one."]})


def _case_type(deps: Deps, code: str) -> CaseType:
    try:
        return deps.catalogue[code]
    except KeyError:
        choices = ", ".join(deps.catalogue)
        raise ValidationError("unknown case type", {"type": [f"Must be one of: {choices}."]}) from None


def _place(deps: Deps, session: Session, actor: User, new: NewCase) -> Grid:
    """Where the matter is: the named grid, else the grid containing the location, else the reporter's."""
    if new.grid_code:
        try:
            place = grids.by_code(session, new.grid_code)
        except NotFoundError as exc:
            raise ValidationError(exc.message, exc.errors) from exc
        field = "grid_code"
    elif new.lat is not None and new.lng is not None:
        code = deps.locator.index(session).locate(new.lat, new.lng)
        if code is None:
            raise ValidationError("the location is outside every grid",
                                  {"location": [f"No grid covers lat {new.lat}, lng {new.lng}."]})
        place, field = grids.by_code(session, code), "location"
    elif actor.grid_id:
        place, field = session.get(Grid, actor.grid_id), "grid_code"
    else:
        raise ValidationError("say where the matter is", {"grid_code": ["Give a grid code or a location."]})
    if actor.role != "admin":
        home = access.user_grid_path(session, actor)
        if home is None or not grids.within(place.path, home):
            problem = f"Grid {place.code} is outside your area."
            raise ValidationError("the place is outside your area", {field: [problem]})
    return place


def locked_task(session: Session, actor_id: int, task_id: str, *, with_rows: bool = False):
    """The acting user, the task and its case locked, for a use case that changes an open or claimed task.
    `with_rows` reads the case's rows first (`case_rows`), for a step that runs the process: an open task is
    one of them, so it is not read twice."""
    actor = access.actor(session, actor_id)
    case = access.lock_case_of_task(session, actor, task_id)  # no such task reads as out of scope: not found
    if with_rows:
        case_rows.of(session, case.id)
    task = session.get(Task, task_id)  # read after the lock: as the last writer of the case left it
    if not task.is_open:
        raise ConflictError(f"the task is already {task.status}")
    return actor, task, case
