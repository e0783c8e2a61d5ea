"""The catalogue and the diagrams agree: every type parses, is drawn, has a form for every task, and knows
every status and department kind its diagrams and tables name."""
import ast

import pytest
from lxml import etree

from engine.process import specs
from tests.workflow.harness import NS
from workflows import CATALOGUE
from workflows.shared import LOOP, LOOP_FORMS

DEPARTMENT_OUTPUTS = ("lead_department", "co_departments", "authority")  # the data keys `department_var` reads
FLOW_NODES = ("startEvent", "endEvent", "userTask", "scriptTask", "businessRuleTask", "exclusiveGateway",
              "parallelGateway", "boundaryEvent", "subProcess", "callActivity", "intermediateCatchEvent",
              "intermediateThrowEvent", "manualTask", "serviceTask", "task")


def properties(case_type, name: str) -> set[str]:
    """Every value of the spiffworkflow property `name` in the type's diagrams."""
    return {value for path, text in case_type.read_files().items() if path.endswith(".bpmn")
            for value in etree.fromstring(text.encode()).xpath(
                f"//spiffworkflow:property[@name='{name}']/@value", namespaces=NS)}


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


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_the_statuses_a_type_orders_are_exactly_the_stages_its_diagrams_name(code):
    case_type = CATALOGUE[code]
    assert set(case_type.statuses) == properties(case_type, "stage")
    assert len(set(case_type.statuses)) == len(case_type.statuses)


def test_every_type_runs_the_loop_whose_handling_step_has_a_form_and_whose_statuses_it_orders():
    assert all(t.loop == LOOP for t in CATALOGUE.values())
    assert LOOP.handling_step in LOOP_FORMS
    assert {LOOP.paused, *LOOP.keep_running} <= set(LOOP.stages)


def test_with_tasks_open_in_parallel_the_case_shows_the_stage_furthest_from_done():
    dispute = CATALOGUE["dispute"]
    assert dispute.status_while(["handling", "mediating", "follow_up"]) == "mediating"
    assert dispute.status_while(["something_new", "verifying", None]) == "verifying"
    assert dispute.status_while(["something_new"]) == "something_new"
    assert dispute.status_while([None]) is None


def test_every_department_a_diagram_or_table_names_is_a_kind_the_catalogue_knows():
    named = set().union(*(properties(t, "department") for t in CATALOGUE.values()))
    for case_type in CATALOGUE.values():
        for path, text in case_type.read_files().items():
            if path.endswith(".dmn"):
                for table in etree.fromstring(text.encode()).iterfind(".//dmn:decisionTable", NS):
                    named |= _departments(table)
    assert named and named <= set(LOOP.department_kinds), named - set(LOOP.department_kinds)
    assert LOOP_FORMS["dispatch_case"][0].choices == LOOP.department_kinds


def _departments(table) -> set[str]:
    """The kinds a DMN table's department columns answer: a quoted kind, or a list of them."""
    columns = [i for i, o in enumerate(table.findall("dmn:output", NS)) if o.get("name") in DEPARTMENT_OUTPUTS]
    kinds = set()
    for rule in table.iterfind("dmn:rule", NS):
        entries = rule.findall("dmn:outputEntry", NS)
        for column in columns:
            value = ast.literal_eval(entries[column].findtext("dmn:text", namespaces=NS))
            kinds |= {value} if isinstance(value, str) else set(value)
    return kinds
