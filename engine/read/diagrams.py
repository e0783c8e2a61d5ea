"""A case's process diagrams as the viewer draws them: the BPMN of the exact version the case runs on, with
what the case has done, what is open, the path it took and where its clocks stand, marked per element.

The marks are worked out here from the workflow itself (runner.trail): an element is done, open (a person's
task, or a sub-process under way), waiting (an event) or interrupted; a flow is on the path when the element
at its end was reached from the element at its start. Only the diagrams the case entered are returned, the
case type's own first."""
from dataclasses import dataclass, field
from functools import lru_cache

from lxml import etree
from sqlalchemy import select

from engine.deps import Deps
from engine.people import access
from engine.process import runner, versions
from engine.sla import clocks
from engine.store.model import ProcessVersion, SlaClock, Task, User

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
CONTAINERS = (f"{BPMN}process", f"{BPMN}subProcess")


@dataclass(frozen=True)
class Drawing:
    """One BPMN file of a version: its title, the processes it holds, its flows by (source, target)."""

    file: str
    name: str
    xml: str = field(repr=False)
    holds: frozenset[str]
    flows: dict = field(repr=False)


@lru_cache(maxsize=64)
def drawing(file: str, xml: str) -> Drawing:
    """Parse one BPMN file (once per text) for what marking needs."""
    root = etree.fromstring(xml.encode("utf-8"), etree.XMLParser(resolve_entities=False))
    holds = frozenset(el.get("id") for tag in CONTAINERS for el in root.iter(tag))
    flows: dict[tuple[str, str], list[str]] = {}
    for flow in root.iter(f"{BPMN}sequenceFlow"):
        flows.setdefault((flow.get("sourceRef"), flow.get("targetRef")), []).append(flow.get("id"))
    title = next((el.get("name") for el in root.iter(f"{BPMN}participant") if el.get("name")), None)
    process = next(root.iter(f"{BPMN}process"), None)
    return Drawing(file, title or (process.get("name") if process is not None else file), xml, holds, flows)


def drawings(files: dict[str, str]) -> list[Drawing]:
    """Every BPMN file of a version, the case type's own before the shared ones."""
    names = sorted((n for n in files if n.endswith(".bpmn")), key=lambda n: (n.startswith("shared/"), n))
    return [drawing(name, files[name]) for name in names]


def version_diagrams(files: dict[str, str]) -> list[dict]:
    """A version's diagrams without marks (the catalogue)."""
    return [{"file": d.file, "name": d.name, "xml": d.xml} for d in drawings(files)]


def case_diagrams(deps: Deps, user: User, case_id: int) -> dict:
    """The diagrams a case entered, marked: done, open, waiting, interrupted, breached, warning, the path taken;
    and for each open or breached step its due time and the working time left (negative: overdue)."""
    with deps.uow() as uow:
        session, now = uow.session, deps.clock.now()
        case = access.load_visible_case(session, user, case_id)
        version = session.get(ProcessVersion, case.process_version_id)
        traces = runner.trail(runner.restore(versions.spec_of(session, deps.specs, version.id), case.state))
        cal = clocks.calendar(session, deps)
        latest: dict[str, SlaClock] = {}
        for clock in session.scalars(select(SlaClock).where(SlaClock.case_id == case.id).order_by(SlaClock.id)):
            latest[clock.step] = clock
        open_steps = set(session.scalars(select(Task.name).where(Task.case_id == case.id, Task.is_open)))
        shown = _marked(drawings(version.files), traces)
        for marked in shown:
            _clock_marks(marked, latest, open_steps, cal, now)
        return {"case_id": case.id, "version": {"id": version.id, "process_id": version.process_id,
                                                "content_hash": version.content_hash,
                                                "deployed_at": version.deployed_at},
                "diagrams": [{k: v for k, v in m.items() if k != "reached"} for m in shown]}


def _marked(all_drawings: list[Drawing], traces: list[runner.Trace]) -> list[dict]:
    owner = {}
    for d in all_drawings:
        for process in d.holds:
            owner.setdefault(process, d)
    marks: dict[str, dict] = {}
    for t in traces:
        d = owner.get(t.process)
        if d is None:
            continue
        m = marks.setdefault(d.file, {"file": d.file, "name": d.name, "xml": d.xml, "reached": set(),
                                      "done": set(), "open": set(), "active": set(), "waiting": set(),
                                      "interrupted": set(), "flows": set(), "breached": [], "warning": [],
                                      "overlays": []})
        m["reached"].add(t.element)
        kind = {"done": "done", "waiting": "waiting", "cancelled": "interrupted"}.get(t.state)
        m[kind or ("open" if t.manual else "active")].add(t.element)
        if t.came_from and t.state != "cancelled":
            m["flows"].update(d.flows.get((t.came_from, t.element), ()))
    order = {d.file: i for i, d in enumerate(all_drawings)}
    shown = sorted(marks.values(), key=lambda m: order[m["file"]])
    for m in shown:
        m["done"] -= m["open"] | m["active"]
        for key in ("done", "open", "active", "waiting", "interrupted", "flows"):
            m[key] = sorted(m[key])
    return shown


def _clock_marks(marked: dict, latest: dict[str, SlaClock], open_steps: set[str], cal, now) -> None:
    """Breached and warning marks, and an overlay on each open step with a clock and on each breached step."""
    for step, clock in latest.items():
        if step not in marked["reached"]:
            continue
        is_open = step in open_steps and step in marked["open"]
        standing = clocks.standing(clock, now, cal)
        if standing["level"] == "breached":
            marked["breached"].append(step)
        elif standing["level"] == "warning" and is_open:
            marked["warning"].append(step)
        if is_open or standing["level"] == "breached":
            marked["overlays"].append({"element": step, "due_at": clock.due_at, "unit": clock.unit,
                                       "policy": clock.policy, "open": is_open, **standing})
