"""The shapes a case type is described in; workflows/ fills them, the engine reads them."""
from dataclasses import dataclass, field
from pathlib import Path

from engine.errors import ValidationError

BPMN_ROOT = Path(__file__).resolve().parents[2] / "bpmn"
SEVERITIES = ("low", "medium", "high")  # of every reported matter, whatever its type


@dataclass(frozen=True)
class FormField:
    """One field a person fills when completing a task."""

    name: str
    kind: str  # bool, text, int, choice, multichoice, case_number (text naming a case the actor can see)
    title_zh: str
    title_en: str
    required: bool = True
    choices: tuple[str, ...] = ()
    max_length: int = 2000
    min_value: int = 0
    max_value: int = 10_000
    required_when: tuple[str, tuple] | None = None  # (other field, values that make this one required)

    def is_required(self, data: dict) -> bool:
        if self.required_when:
            other, values = self.required_when
            return data.get(other) in values
        return self.required


@dataclass(frozen=True)
class Loop:
    """What the closed loop every type ends in (bpmn/shared/) tells the engine; workflows/ fills it once."""

    stages: tuple[str, ...] = ()  # the case statuses its tasks show, the furthest from done first
    handling_step: str = ""  # the step whose clock an approved extension moves
    keep_running: tuple[str, ...] = ()  # statuses while a step's request is decided: its clock runs on
    paused: str = ""  # the status of a suspended case: every clock pauses
    department_kinds: tuple[str, ...] = ()  # what a task, a dispatcher or an imported department may name


@dataclass(frozen=True)
class CaseType:
    """A kind of reported matter and the process that handles it."""

    code: str
    process_id: str
    title_zh: str
    title_en: str
    open311_code: str
    folder: str  # under bpmn/: every .bpmn and .dmn file in it belongs to the process
    forms: dict[str, tuple[FormField, ...]] = field(default_factory=dict)
    stages: tuple[str, ...] = ()  # statuses of its own tasks, ahead of the loop's, the furthest from done first
    outcomes: dict[str, str] = field(default_factory=dict)  # end outcome -> final case status
    loop: Loop = field(default_factory=Loop)

    @property
    def statuses(self) -> tuple[str, ...]:
        """Every status its open tasks can give a case (their `stage` property), the furthest from done first."""
        return (*self.stages, *self.loop.stages)

    def status_while(self, stages: list[str | None]) -> str | None:
        """The case's status while tasks of these stages are open in parallel: the one furthest from done."""
        order = self.statuses
        named = [s for s in stages if s]
        return min(named, key=lambda s: order.index(s) if s in order else len(order), default=None)

    def read_files(self, root: Path = BPMN_ROOT) -> dict[str, str]:
        """The BPMN/DMN text of this type and of shared/ under `root` (bpmn/), by path under `root`."""
        files = {}
        for folder in (root / self.folder, root / "shared"):
            for path in sorted(folder.glob("*.bpmn")) + sorted(folder.glob("*.dmn")):
                files[f"{folder.name}/{path.name}"] = path.read_text(encoding="utf-8")
        return files

    def form(self, task_name: str) -> tuple[FormField, ...]:
        return self.forms.get(task_name, ())


def department_kinds(catalogue: dict[str, CaseType]) -> tuple[str, ...]:
    """Every department kind the catalogue's types name, in the order they name them."""
    return tuple(dict.fromkeys(kind for t in catalogue.values() for kind in t.loop.department_kinds))


def clean_form(fields: tuple[FormField, ...], data: dict) -> dict:
    """Check completion data against a task's form; unknown, missing or mistyped fields fail."""
    errors: dict[str, list[str]] = {}
    known = {f.name: f for f in fields}
    for name in data:
        if name not in known:
            errors[name] = ["Unknown field."]
    cleaned = {}
    for f in fields:
        if data.get(f.name) in (None, "", []) or (isinstance(data.get(f.name), str) and not data[f.name].strip()):
            if f.is_required(data):
                errors[f.name] = ["Missing data for required field."]
            elif data.get(f.name) == [] and f.kind == "multichoice":
                cleaned[f.name] = []  # an explicit "none", e.g. no co-handling departments
            continue
        problem = _check(f, data[f.name])
        if problem:
            errors[f.name] = [problem]
        else:
            cleaned[f.name] = data[f.name]
    if errors:
        raise ValidationError("the form data is not valid", errors)
    return cleaned


def _check(f: FormField, value) -> str | None:
    if f.kind == "bool":
        return None if isinstance(value, bool) else "Not a valid boolean."
    if f.kind == "int":
        ok = isinstance(value, int) and not isinstance(value, bool) and f.min_value <= value <= f.max_value
        return None if ok else f"Not a valid whole number between {f.min_value} and {f.max_value}."
    if f.kind == "multichoice":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return "Not a valid list of strings."
        wrong = [v for v in value if v not in f.choices]
        return f"Unknown choices: {', '.join(wrong)}." if wrong else None
    if not isinstance(value, str):
        return "Not a valid string."
    if f.kind == "choice" and value not in f.choices:
        return f"Must be one of: {', '.join(f.choices)}."
    if len(value) > f.max_length:
        return f"Longer than maximum length {f.max_length}."
    return None
