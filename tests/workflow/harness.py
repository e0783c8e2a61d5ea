"""Drives a case through a parsed process as the host does (engine.process.runner), in memory or with a
runner.dump/runner.restore before every step; and reads the diagrams under bpmn/ for the tests that check them."""
from pathlib import Path
from uuid import UUID

from lxml import etree
from SpiffWorkflow.util.task import TaskState

from engine.process import runner

BPMN_ROOT = Path(__file__).resolve().parents[2] / "bpmn"
NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
    "dmn": "https://www.omg.org/spec/DMN/20191111/MODEL/",
}


def read_files(*folders: str) -> dict[str, str]:
    """Like CaseType.read_files: each folder's .bpmn, then .dmn files under bpmn/, keyed by path under bpmn/."""
    return {
        f"{folder}/{path.name}": path.read_text(encoding="utf-8")
        for folder in folders
        for path in sorted((BPMN_ROOT / folder).glob("*.bpmn")) + sorted((BPMN_ROOT / folder).glob("*.dmn"))
    }


def diagram(name: str):
    """The XML root of a file under bpmn/."""
    return etree.parse(str(BPMN_ROOT / name)).getroot()


def bounds(shape) -> tuple[float, float, float, float]:
    """A BPMNShape's x, y, width and height."""
    b = shape.find("dc:Bounds", NS)
    return tuple(float(b.get(k)) for k in ("x", "y", "width", "height"))


class Case:
    """One case, started from a parsed spec and driven step by step; with roundtrip=True the workflow is dumped and
    restored before every step. `check(task, data)` runs on every task that becomes READY; `registration` is what
    register() answers on the register_case form unless told otherwise."""

    def __init__(self, spec, data: dict, roundtrip=False, check=None, registration=None):
        self.spec, self.roundtrip, self.check, self.registration = spec, roundtrip, check, registration or {}
        self.workflow, self.step = runner.start(spec, data)
        self.happened = list(self.step.happened)
        self.completed_manual = []
        self.roundtrips = 0
        self._check_ready()

    def _workflow(self):
        if self.roundtrip:
            self.workflow = runner.restore(self.spec, runner.dump(self.spec, self.workflow))
            self.roundtrips += 1
        return self.workflow

    def _check_ready(self):
        for task in self.step.ready if self.check else ():
            self.check(task, self._data(task))

    def _data(self, task):
        return self.workflow.get_task_from_id(UUID(task.id)).data

    def do(self, action, *args):
        """One step: `action(workflow, *args)`, one of runner's, on the (restored) workflow; records what happened."""
        self.step = action(self._workflow(), *args)
        self.happened += self.step.happened
        self._check_ready()
        return self.step

    @property
    def ready(self):
        return sorted(describe(t) for t in self.step.ready)

    @property
    def ready_names(self):
        return sorted(t.name for t in self.step.ready)

    @property
    def data(self):
        return runner.data(self.workflow)

    def task(self, name):
        tasks = [t for t in self.step.ready if t.name == name]
        assert len(tasks) == 1, f"{name} is not the one READY task; READY: {self.ready_names}"
        return tasks[0]

    def data_of(self, name):
        return self._data(self.task(name))

    def completed(self, name):
        """Completed tasks of that name, also inside finished sub-processes (get_tasks does not look there)."""
        workflows = [self.workflow, *self.workflow.subprocesses.values()]
        return [t for wf in workflows for t in wf.tasks.values()
                if t.task_spec.name == name and t.state == TaskState.COMPLETED]

    def complete(self, name, task=None, **data):
        task = task or self.task(name)
        self.completed_manual.append(name)
        return self.do(runner.complete, task.id, data)

    def message(self, name, payload=None):
        return self.do(runner.send_message, name, payload)

    def signal(self, name, payload):
        return self.do(runner.send_signal, name, payload)

    def wake(self):
        """What the host does when a deadline comes due."""
        return self.do(runner.advance)

    # ---- registration, and the shared closed loop's steps (bpmn/shared/closed_loop.bpmn)
    def register(self, decision="valid", **data):
        return self.complete("register_case", **{"decision": decision, **self.registration, **data})

    def dispatch(self, lead, co=()):
        return self.complete("dispatch_case", lead_department=lead, co_departments=list(co), note="请按时办理")

    def handle(self, action="feedback", **data):
        return self.complete("handle_case", **{"action": action, "result": "已整改", "reason": "", "extra_days": 0,
                                               **data})

    def co_handle(self, department, result="已配合"):
        [task] = [t for t in self.step.ready if t.name == "co_handle" and t.properties["department"] == department]
        return self.complete("co_handle", task=task, result=result)

    def verify(self, passed=True, note="现场已整改"):
        return self.complete("verify_on_site", passed=passed, note=note)

    def follow_up(self, satisfied=True, note="群众满意"):
        return self.complete("follow_up", satisfied=satisfied, note=note)

    def finish(self):
        """Verification and follow-up of the closed loop, then the case is closed."""
        assert self.ready == [VERIFY]
        self.verify()
        assert self.ready == [FOLLOW_UP]
        step = self.follow_up()
        assert step.completed and step.outcome == "closed" and step.ready == []
        return step


def in_lanes(lane_of_task: dict):
    """A check for Case: every READY task stands in its lane."""

    def check(task, _data):
        assert task.lane == lane_of_task[task.name], (task.name, task.lane)

    return check


def events(step):
    """The timeline/counter/outcome entries of a step, without titles."""
    return [{k: v for k, v in h.items() if k != "title"} for h in step.happened]


def describe(task):
    """A READY task as (name, role, department, grid level, stage); the runner resolves `scope_var` to `scope_level`."""
    props = task.properties
    level = props.get("scope_level")
    return (task.name, props.get("role"), props.get("department"), None if level is None else int(level),
            props.get("stage"))


# The READY tasks of registration and of the closed loop, as describe() gives them
REGISTER = ("register_case", "grid_leader", None, 3, "registering")
VERIFY = ("verify_on_site", "grid_worker", None, None, "verifying")
FOLLOW_UP = ("follow_up", "grid_leader", None, 3, "follow_up")


def dispatching(level=1):
    return ("dispatch_case", "supervisor", None, level, "dispatching")


def handling(department):
    return ("handle_case", "liaison", department, None, "handling")


def co_handling(department):
    return ("co_handle", "liaison", department, None, "handling")
