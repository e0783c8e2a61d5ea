"""The only place a workflow runs: start, restore, advance, complete, send events, snapshot.

Every function takes a ProcessSpec (a parsed version from engine.process.specs) and plain values and
returns plain snapshots; nothing else in Gridflow touches SpiffWorkflow objects.
"""
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import UUID

from SpiffWorkflow.bpmn.specs.event_definitions import timer as _timer_module
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.bpmn.util.diff import diff_workflow, migrate_workflow
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException, TaskNotFoundException, WorkflowException
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition, SignalEventDefinition
from SpiffWorkflow.task import TaskState

from engine.clock import SystemClock
from engine.errors import ConflictError, ProcessError
from engine.process.sandbox import restricted_script_engine
from engine.process.specs import ProcessSpec

SERIALIZER_VERSION = "1.5"


@dataclass(frozen=True)
class ReadyTask:
    """A manual task waiting for a person."""

    id: str
    name: str
    title: str
    lane: str | None
    properties: dict


@dataclass(frozen=True)
class PendingTimer:
    """A timer the workflow is waiting on, with its due time."""

    task_id: str
    name: str
    due_at: datetime


@dataclass(frozen=True)
class Trace:
    """One element a workflow has reached: where it is drawn, how far it got, and the element before it."""

    process: str  # the id of the process or sub-process that holds it
    element: str  # its BPMN id
    state: str  # done, open (waiting for a person or for a sub-process), waiting (an event), cancelled
    manual: bool  # a task for a person
    came_from: str | None  # the element that led to it in the same process, if any


@dataclass(frozen=True)
class Step:
    """What one engine run did and left: tasks to do, timers to wait on, events worth recording."""

    ready: list[ReadyTask]
    timers: list[PendingTimer]
    happened: list[dict] = field(default_factory=list)  # automatic tasks marked `timeline`
    completed: bool = False
    outcome: str | None = None


class _Clocked(datetime):
    """Stands in for `datetime` in Spiff's timer module, so timers read Gridflow's clock."""

    clock = SystemClock()

    @classmethod
    def now(cls, tz=None):
        now = cls.clock.now()
        return now if tz is None else now.astimezone(tz)


_timer_module.datetime = _Clocked


def use_clock(clock) -> None:
    """Make workflow timers read `clock` (process-wide: timers have no per-workflow hook)."""
    _Clocked.clock = clock


def start(spec: ProcessSpec, data: dict) -> tuple[BpmnWorkflow, Step]:
    """Create a workflow with `data` on its start and run it until it waits."""
    workflow = BpmnWorkflow(spec.spec, spec.subprocess_specs, script_engine=restricted_script_engine())
    workflow.get_next_task(state=TaskState.READY).data.update(data)
    return workflow, _run(workflow, lambda: None)


def restore(spec: ProcessSpec, state: str) -> BpmnWorkflow:
    """Rebuild a saved workflow against its spec, with the restricted script engine re-attached."""
    dct = json.loads(state)
    dct.pop(spec.serializer.VERSION_KEY, None)
    workflow = spec.serializer.from_dict(dct)
    workflow.script_engine = restricted_script_engine()
    return workflow


def dump(spec: ProcessSpec, workflow: BpmnWorkflow) -> str:
    """The workflow's state as JSON, without its spec."""
    dct = spec.serializer.to_dict(workflow)
    dct[spec.serializer.VERSION_KEY] = SERIALIZER_VERSION
    return json.dumps(dct, separators=(",", ":"), ensure_ascii=False)


def advance(workflow: BpmnWorkflow) -> Step:
    """Fire due timers, then run every automatic step."""
    return _run(workflow, lambda: None)


def complete(workflow: BpmnWorkflow, task_id: str, data: dict) -> Step:
    """Complete a READY manual task with `data`; anything else is a conflict."""

    def run():
        task = _ready_task(workflow, task_id)
        task.set_data(**data)
        task.run()

    return _run(workflow, run)


def send_message(workflow: BpmnWorkflow, name: str, payload: dict | None = None) -> Step:
    """Deliver a BPMN message to whatever waits for it."""
    return _send(workflow, MessageEventDefinition(name), payload)


def send_signal(workflow: BpmnWorkflow, name: str, payload: dict | None = None) -> Step:
    """Broadcast a BPMN signal to whatever waits for it."""
    return _send(workflow, SignalEventDefinition(name), payload)


def migration_blockers(new: ProcessSpec, workflow: BpmnWorkflow) -> list[str]:
    """Why `workflow` cannot move to the `new` version: every task it has run or waits on must still exist."""
    top, subprocesses = diff_workflow(new.serializer.registry, workflow, new.spec, new.subprocess_specs)
    reasons = [f"{t.task_spec.name} ({TaskState.get_name(t.state).lower()}) is not in the new version"
               for t in top.removed]
    for sp_id, sp_diff in subprocesses.items():
        name = workflow.subprocesses[sp_id].spec.name
        if sp_diff is None:
            reasons.append(f"the sub-process {name} is not in the new version")
        else:
            reasons += [f"{name}/{t.task_spec.name} ({TaskState.get_name(t.state).lower()}) is not in the new "
                        "version" for t in sp_diff.removed]
    return list(dict.fromkeys(reasons))


def migrate(new: ProcessSpec, workflow: BpmnWorkflow) -> Step:
    """Move a workflow to the `new` version (check migration_blockers first); waiting tasks restart."""
    top, subprocesses = diff_workflow(new.serializer.registry, workflow, new.spec, new.subprocess_specs)
    migrate_workflow(top, workflow, new.spec)
    for sp_id, sp_diff in subprocesses.items():
        subprocess = workflow.subprocesses[sp_id]
        migrate_workflow(sp_diff, subprocess, new.subprocess_specs[subprocess.spec.name])
    workflow.subprocess_specs = new.subprocess_specs
    return _run(workflow, lambda: None)


def data(workflow: BpmnWorkflow) -> dict:
    """The workflow's data as it stands at its last completed task."""
    return dict(workflow.last_task.data) if workflow.last_task else {}


_TRACED = {TaskState.COMPLETED: "done", TaskState.READY: "open", TaskState.STARTED: "open",
           TaskState.WAITING: "waiting", TaskState.CANCELLED: "cancelled"}


def trail(workflow: BpmnWorkflow) -> list[Trace]:
    """Every drawn element the workflow (and its sub-processes) reached, in tree order: what a diagram marks.
    Events still waiting on an activity's border, and anything cancelled before a person saw it, are left out."""
    traces = []
    for task in workflow.get_tasks():
        state, element = _TRACED.get(task.state), getattr(task.task_spec, "bpmn_id", None)
        manual = bool(task.task_spec.manual)
        if state is None or element is None or (state == "cancelled" and not manual):
            continue
        if state == "waiting" and "BoundaryEvent" in type(task.task_spec).__name__:
            continue
        before = task.parent
        while before is not None and getattr(before.task_spec, "bpmn_id", None) is None:
            before = before.parent
        traces.append(Trace(task.workflow.spec.name, element, state, manual,
                            before.task_spec.bpmn_id if before is not None else None))
    return traces


def _send(workflow, definition, payload) -> Step:
    event = BpmnEvent(definition, payload=payload or {})

    def send():
        try:
            workflow.send_event(event)
        except WorkflowException as exc:
            raise ConflictError(f"the case is not waiting for {definition.name!r}") from exc

    return _run(workflow, send)


def _ready_task(workflow, task_id):
    try:
        task = workflow.get_task_from_id(UUID(str(task_id)))
    except (ValueError, KeyError, TaskNotFoundException):
        task = None
    if task is None or not task.task_spec.manual:
        raise ConflictError("the task is not part of this case's open work")
    if task.state != TaskState.READY:
        raise ConflictError(f"the task is no longer open ({TaskState.get_name(task.state)})")
    return task


def _run(workflow, action) -> Step:
    happened = []

    def record(task):
        props = _properties(task.task_spec)
        if {"timeline", "outcome", "counter"} & props.keys():
            happened.append({"task": _spec_id(task.task_spec), "title": task.task_spec.bpmn_name,
                             **_resolved(props, task.data)})

    try:
        # Timers first: an expired interrupting timer must win over a late completion.
        workflow.refresh_timers()
        workflow.do_engine_steps(did_complete_task=record)
        action()
        workflow.do_engine_steps(did_complete_task=record)
    except ConflictError:
        raise
    except SpiffWorkflowException as exc:
        raise ProcessError(f"the process failed: {exc}") from exc
    return _step(workflow, happened)


def _step(workflow, happened) -> Step:
    ready = [
        ReadyTask(str(t.id), _spec_id(t.task_spec), t.task_spec.bpmn_name or t.task_spec.name,
                  t.task_spec.lane, _resolved(_properties(t.task_spec), t.data))
        for t in workflow.get_tasks(state=TaskState.READY, manual=True)
    ]
    timers = [
        PendingTimer(str(t.id), t.task_spec.name, _aware(t.task_spec.event_definition.details(t).value))
        for t in workflow.event_manager.tasks.values()
        if isinstance(t.task_spec.event_definition, TimerEventDefinition)
        and t.task_spec.event_definition.details(t).value
    ]
    outcome = next((h["outcome"] for h in happened if "outcome" in h), None)
    return Step(ready, timers, happened, workflow.completed, outcome)


_RESOLVES_TO = {"scope_var": "scope_level"}


def _spec_id(task_spec) -> str:
    """The BPMN id: a multi-instance's instances share their activity's id."""
    return getattr(task_spec, "bpmn_id", None) or task_spec.name


def _resolved(props: dict, data: dict) -> dict:
    """Properties with every `x_var` replaced by `x` read from task data (a dotted key reads nested dicts)."""
    resolved = {}
    for name, value in props.items():
        if name.endswith("_var"):
            found = _lookup(data, value)
            if found is not None:
                resolved[_RESOLVES_TO.get(name, name.removesuffix("_var"))] = found
        else:
            resolved[name] = value
    return resolved


def _lookup(data: dict, dotted: str):
    for key in dotted.split("."):
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _properties(task_spec) -> dict:
    extensions = getattr(task_spec, "extensions", None) or {}
    return dict(extensions.get("properties", {}))


def _aware(value) -> datetime:
    due = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return due if due.tzinfo else due.replace(tzinfo=UTC)
