"""Process definitions: parse and validate BPMN/DMN once per version, keep them in memory.

A version is identified by the process id and the sha256 of its files. Each version also owns a
serializer whose workflow converter leaves the spec out of a case's saved state and takes it back
from this cache on restore, so a case row never repeats the diagram.
"""
import ast
import copy
import hashlib
import re
from dataclasses import dataclass, field
from types import SimpleNamespace
from uuid import UUID

from lxml import etree
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from engine.errors import ProcessError
from engine.process import bounds
from engine.process.sandbox import restricted_script_engine

SCRIPTS = {"script", "preScript", "postScript"}  # run as statements
EXPRESSIONS = {"conditionExpression", "timeDuration", "timeDate", "timeCycle", "loopCardinality",
               "completionCondition", "payloadExpression"}  # evaluated; DMN cells are handled apart
_OUTSIDE_QUOTES = re.compile(r"""(\?)(?=(?:[^'"]|['"][^'"]*['"])*$)""")  # Spiff's own rule for a DMN cell's '?'


def content_hash(files: dict[str, str]) -> str:
    """The sha256 of a version's files, independent of their order."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + files[name].encode() + b"\0")
    return digest.hexdigest()


@dataclass
class ProcessSpec:
    """One parsed version of a process, ready to start or restore workflows."""

    process_id: str
    content_hash: str
    spec: object
    subprocess_specs: dict
    serializer: BpmnWorkflowSerializer = field(repr=False)
    decisions: dict = field(default_factory=dict, repr=False)  # decision id -> DMN engine, for the host
    _answers: dict = field(default_factory=dict, repr=False)  # (tables, context) -> answer; tables never change

    def decide(self, decision_ids: tuple[str, ...], context: dict) -> dict:
        """Evaluate the version's DMN tables outside any workflow (the SLA policy, say), in the order given:
        the first table with a matching row answers; a table the version lacks is passed over. The answer for
        the same context is remembered: tables are part of the version and their cells are pure expressions."""
        memo = (decision_ids, tuple(sorted(context.items())))
        if memo not in self._answers:
            self._answers[memo] = self._decide(decision_ids, context)
        return dict(self._answers[memo])

    def _decide(self, decision_ids: tuple[str, ...], context: dict) -> dict:
        tables = [d for d in decision_ids if d in self.decisions]
        if not tables:
            raise ProcessError(f"no decision table {' or '.join(decision_ids)} in process {self.process_id!r}")
        task = SimpleNamespace(data=dict(context), workflow=SimpleNamespace(script_engine=restricted_script_engine()))
        for decision_id in tables:
            try:
                answer = dict(self.decisions[decision_id].result(task))
            except SpiffWorkflowException as exc:
                raise ProcessError(f"decision {decision_id!r} failed: {exc}") from exc
            if answer:
                return answer
        return {}


def parse(process_id: str, files: dict[str, str]) -> ProcessSpec:
    """Parse and validate BPMN (*.bpmn) and DMN (*.dmn) text; raise ProcessError if invalid."""
    parser = SpiffBpmnParser(validator=VALIDATOR)
    decision_ids, problems = [], []
    try:
        for name, text in sorted(files.items()):
            tree = etree.fromstring(text.encode("utf-8"), etree.XMLParser(resolve_entities=False))
            problems += script_problems(name, tree)
            if name.endswith(".dmn"):
                decision_ids += add_dmn_decisions(parser, tree, name)
            else:
                parser.add_bpmn_xml(tree, filename=name)
        spec = parser.get_spec(process_id)
        subprocess_specs = parser.get_subprocess_specs(process_id)
        decisions = {d: parser.get_engine(d, None) for d in decision_ids}
    except (SpiffWorkflowException, etree.XMLSyntaxError, KeyError, ValueError) as exc:
        raise ProcessError(f"process {process_id!r} is invalid: {exc}") from exc
    if problems:
        raise ProcessError(f"process {process_id!r} has scripts or expressions that cannot run: "
                           + "; ".join(problems), {"files": problems})
    return ProcessSpec(process_id, content_hash(files), spec, subprocess_specs,
                       _serializer(spec, subprocess_specs), decisions)


def script_problems(filename: str, root) -> list[str]:
    """Every script, condition, timer and DMN cell of a document checked before it can run (engine/process/bounds.py):
    what would not compile, a `while` loop, a constant too large to build. Each names its element."""
    problems = []
    for element in root.iter(tag=etree.Element):
        local, text = etree.QName(element).localname, (element.text or "").strip()
        parent = etree.QName(element.getparent()).localname if element.getparent() is not None else ""
        if not text or (local == "text" and parent == "inputEntry" and text == "-"):
            continue
        if local in SCRIPTS:
            found = bounds.check(text, "exec")
        elif local in EXPRESSIONS or (local == "text" and parent in ("inputExpression", "outputEntry")):
            found = bounds.check(text, "eval")
        elif local == "text" and parent == "inputEntry":
            found = bounds.check(_dmn_match(text), "eval")
        else:
            continue
        problems += [f"{filename} {_owner(element)}: {problem}" for problem in found]
    return problems


def _dmn_match(text: str) -> str:
    """A DMN input cell as Spiff evaluates it: '?' stands for the input; '> 5' is compared with it."""
    text = _OUTSIDE_QUOTES.sub("dmninputexpr", text)
    try:
        ast.parse(text, mode="eval")
        return text
    except SyntaxError:
        return f"dmninputexpr {text}"


def _owner(element) -> str:
    """The nearest element with an id: the task, flow, event or rule the text belongs to."""
    while element is not None and not element.get("id"):
        element = element.getparent()
    return f"{etree.QName(element).localname} {element.get('id')!r}" if element is not None else "(no id)"


def add_dmn_decisions(parser: SpiffBpmnParser, root, filename: str) -> list[str]:
    """Register every decision of a DMN document; returns their ids.

    SpiffWorkflow 3.2.0 reads one decision per document (a second one breaks its parser), so each
    decision goes in as its own copy of the document, without the display-only DMNDI.
    """
    decisions = [el for el in root if etree.QName(el).localname == "decision"]
    for decision in decisions:
        doc = copy.deepcopy(root)
        for el in list(doc):
            local = etree.QName(el).localname
            if (local == "decision" and el.get("id") != decision.get("id")) or local == "DMNDI":
                doc.remove(el)
        parser.add_dmn_xml(doc, filename=filename)
    return [d.get("id") for d in decisions]


class SpecCache:
    """Parsed versions by content hash, parsed once per process version per process; and, per process id, the
    version new cases start on (its row id and hash) as this process deployed it."""

    def __init__(self):
        self._specs: dict[str, ProcessSpec] = {}
        self.deployed: dict = {}  # process id -> versions.Deployed (row id, content hash)
        self.by_version_id: dict[int, ProcessSpec] = {}

    def get(self, process_id: str, files: dict[str, str]) -> ProcessSpec:
        return self.by_hash(content_hash(files), process_id, lambda: files)

    def by_hash(self, key: str, process_id: str, files) -> ProcessSpec:
        """The spec of the version with content hash `key`; `files()` gives its files if it is not parsed yet."""
        if key not in self._specs:
            self._specs[key] = parse(process_id, files())
        return self._specs[key]


def _serializer(spec, subprocess_specs) -> BpmnWorkflowSerializer:
    registry = BpmnWorkflowSerializer.configure(SPIFF_CONFIG)
    _SpeclessWorkflowConverter(BpmnWorkflow, registry, spec, subprocess_specs)
    return BpmnWorkflowSerializer(registry)


class _SpeclessWorkflowConverter(BpmnWorkflowConverter):
    """Writes a workflow without its spec and restores it against the cached one."""

    def __init__(self, target_class, registry, spec, subprocess_specs):
        super().__init__(target_class, registry)
        self.spec = spec
        self.subprocess_specs = subprocess_specs

    def to_dict(self, workflow):
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct):
        workflow = self.target_class(self.spec, self.subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow
