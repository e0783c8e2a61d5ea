"""After every engine run: bring a case's tasks, deadlines, status and responsible grid up to date."""
from dataclasses import dataclass
from datetime import datetime

from engine.deps import Deps
from engine.places import grid as grids
from engine.process.runner import ReadyTask, Step
from engine.process.specs import ProcessSpec
from engine.sla import clocks, keys
from engine.store import case_rows, timeline
from engine.store.model import Case, Deadline, Grid, Task, User
from engine.store.unit_of_work import UnitOfWork

COUNTERS = ("returns", "reworks", "extensions", "escalations", "dissatisfied")


@dataclass
class Run:
    """One engine run on a case locked in a unit of work: everything projecting the run needs but its step."""

    deps: Deps
    uow: UnitOfWork
    case: Case
    spec: ProcessSpec
    now: datetime
    actor: User | None = None  # who set the run going; None for the system (a deadline, a migration)


def project(run: Run, step: Step, filing: bool = False) -> list[Deadline]:
    """Bring the case's tasks, timers, clocks, status and responsible grid in line with `step`; returns the new
    deadlines, for the service to schedule once it commits.

    The first tasks of a new case set its responsible grid quietly; later moves go on the timeline with
    the task that caused them, as `escalated` when the process counted an escalation in the same run.
    """
    session = run.uow.session
    rows = case_rows.fresh(session, run.case.id) if filing else case_rows.of(session, run.case.id)
    with session.no_autoflush:  # what it reads is held in `rows` or by id: the step is written in one go
        timers, opened = _apply(run, rows, step, filing)
        cal = clocks.calendar(session, run.deps)
        case_type = run.deps.catalogue[run.case.type]
        return timers + clocks.sync(session, run.spec, case_type, run.case, step.happened, run.now, cal,
                                    run.deps.warn_at)


def _apply(run: Run, rows: case_rows.CaseRows, step: Step, filing: bool) -> tuple[list[Deadline], list[Task]]:
    session, case, now, actor = run.uow.session, run.case, run.now, run.actor
    case_type = run.deps.catalogue[case.type]
    case_grid = session.get(Grid, case.grid_id)
    _record_happenings(session, case, step, now, actor)
    opened = _sync_tasks(session, rows, case, case_grid, step.ready, now)
    if step.completed:
        case.status = case_type.outcomes.get(step.outcome, "closed")
        case.outcome = step.outcome
        case.closed_at = now
        timeline.append(session, case.id, now, actor, "closed", reason=step.outcome,
                        payload={"status": case.status, "outcome": step.outcome})
    elif step.ready:
        case.status = case_type.status_while([r.properties.get("stage") for r in step.ready]) or case.status
    if opened and filing:
        scope = session.get(Grid, opened[0].grid_id)
        case.responsible_grid_id, case.responsible_level = scope.id, scope.level
    elif opened:
        escalation = next((h for h in step.happened if h.get("counter") == "escalations"), None)
        _move_responsibility(session, case, opened[0], now, escalation, actor)
    case.updated_at = now
    return _sync_timers(session, rows, case, step, now), opened


def _record_happenings(session, case, step, now, actor):
    """What the process did on its own in this run, attributed to whoever set it going."""
    for happening in step.happened:
        if happening.get("counter") in COUNTERS:
            setattr(case, happening["counter"], getattr(case, happening["counter"]) + 1)
        if "timeline" in happening:
            reason = happening.get("reason") or happening.get("title")
            timeline.append(session, case.id, now, actor, happening["timeline"], reason=str(reason),
                            payload=_plain(happening))


def _sync_tasks(session, rows, case, case_grid, ready: list[ReadyTask], now) -> list[Task]:
    existing = {t.id: t for t in rows.open_tasks()}
    ready_ids = {r.id for r in ready}
    for r in ready:
        if r.id in existing:
            existing[r.id].title = r.title  # a migrated version may rename a waiting task
    for task in existing.values():
        if task.id not in ready_ids:
            task.status = "cancelled"
            task.completed_at = now
            timeline.append(session, case.id, now, None, "task_cancelled", task_id=task.id,
                            payload={"task": task.name, "title": task.title})
    return [_open_task(session, case, case_grid, r, now) for r in ready if r.id not in existing]


def _open_task(session, case, case_grid, ready: ReadyTask, now) -> Task:
    props = ready.properties
    department = None
    if props.get("department"):
        department = grids.department_for(session, props["department"], case_grid)
    if "scope_level" in props:
        scope = grids.ancestor_at(session, case_grid, int(props["scope_level"]))
    elif department is not None:  # a department's task sits at its jurisdiction
        scope = session.get(Grid, department.grid_id)
    else:
        scope = case_grid
    assignee = case.reporter_id if props.get("assign") == "reporter" else None
    task = Task(
        id=ready.id, case_id=case.id, name=ready.name, title=ready.title, lane=ready.lane,
        candidate_role=props.get("role", "admin"), department_kind=props.get("department"),
        department_id=department.id if department else None, grid_id=scope.id,
        assignee_id=assignee, status="claimed" if assignee else "open", created_at=now,
        claimed_at=now if assignee else None,
    )
    session.add(task)
    timeline.append(session, case.id, now, None, "task_opened", task_id=task.id, payload={
        "task": task.name, "title": task.title, "grid": scope.code, "role": task.candidate_role,
        "department": department.code if department else None, "assignee_id": assignee,
    })
    return task


def _plain(happening: dict) -> dict:
    """The happening as timeline payload: JSON values only."""
    return {k: v if isinstance(v, (str, int, float, bool, type(None), list, dict)) else str(v)
            for k, v in happening.items()}


def _move_responsibility(session, case, task: Task, now, escalation: dict | None, actor):
    """The case is now the business of the grid where its newest task sits; an escalation says so, with its
    reason, in the name of whoever escalated (the system when the SLA clock did)."""
    escalating = escalation is not None
    scope = session.get(Grid, task.grid_id)
    if scope.id == case.responsible_grid_id:
        return
    before = session.get(Grid, case.responsible_grid_id)
    kind = "escalated" if escalating and scope.level < before.level else "responsibility_moved"
    case.responsible_grid_id, case.responsible_level = scope.id, scope.level
    moved = {"from_grid": before.code, "from_level": before.level, "to_grid": scope.code, "to_level": scope.level}
    reason = (escalation or {}).get("reason") if kind == "escalated" else None
    timeline.append(session, case.id, now, actor if escalating else None, kind, task_id=task.id,
                    reason=str(reason) if reason else task.title, payload=moved)


def _sync_timers(session, rows, case, step: Step, now) -> list[Deadline]:
    pending = {d.key: d for d in rows.pending(kind="timer")}
    wanted = {keys.timer(t.task_id): t for t in step.timers}
    case_rows.cancel(session, [deadline for key, deadline in pending.items() if key not in wanted], now)
    created = []
    for key, timer in wanted.items():
        if key in pending:
            pending[key].due_at = timer.due_at
            continue
        deadline = Deadline(case_id=case.id, task_id=timer.task_id, key=key, kind="timer",
                            name=timer.name, due_at=timer.due_at)
        created.append(deadline)
    return case_rows.add_deadlines(session, created)
