"""The catalogue and the diagrams agree: every type parses, is drawn, and has a form for every task."""
import pytest
from lxml import etree

from engine.process import specs
from tests.workflow.harness import NS
from workflows import CATALOGUE

FLOW_NODES = ("startEvent", "endEvent", "userTask", "scriptTask", "businessRuleTask", "exclusiveGateway",
              "parallelGateway", "boundaryEvent", "subProcess", "callActivity", "intermediateCatchEvent",
              "intermediateThrowEvent", "manualTask", "serviceTask", "task")


def manual_tasks(parsed) -> set[str]:
    names = set()
    for spec in (parsed.spec, *parsed.subprocess_specs.values()):
        names |= {getattr(t, "bpmn_id", None) or t.name for t in spec.task_specs.values() if t.manual}
    return names


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_every_case_type_parses_with_the_validator_and_has_a_form_for_each_user_task(code):
    case_type = CATALOGUE[code]
    parsed = specs.parse(case_type.process_id, case_type.read_files())
    tasks = manual_tasks(parsed)
    assert tasks, code
    assert tasks <= set(case_type.forms), tasks - set(case_type.forms)
    assert case_type.title_zh and case_type.title_en and case_type.open311_code.startswith("GF-")


@pytest.mark.parametrize("path", sorted({p for t in CATALOGUE.values() for p in t.read_files() if p.endswith(".bpmn")}))
def test_every_diagram_draws_every_flow_node_and_sequence_flow(path):
    text = next(t.read_files()[path] for t in CATALOGUE.values() if path in t.read_files())
    root = etree.fromstring(text.encode())
    drawn = {e.get("bpmnElement") for e in root.iter(f"{{{NS['bpmndi']}}}BPMNShape")}
    edges = {e.get("bpmnElement") for e in root.iter(f"{{{NS['bpmndi']}}}BPMNEdge")}
    nodes = {e.get("id") for tag in FLOW_NODES for e in root.iter(f"{{{NS['bpmn']}}}{tag}")}
    flows = {e.get("id") for e in root.iter(f"{{{NS['bpmn']}}}sequenceFlow")}
    assert nodes - drawn == set() and flows - edges == set()
    assert all(e.get("name") for tag in ("userTask", "subProcess", "callActivity")
               for e in root.iter(f"{{{NS['bpmn']}}}{tag}")), "every activity has a (Chinese) name"


def test_open311_service_codes_are_unique():
    codes = [t.open311_code for t in CATALOGUE.values()]
    assert len(codes) == len(set(codes))
