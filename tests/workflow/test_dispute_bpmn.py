"""Proves bpmn/dispute/dispute.bpmn + dispute.dmn (矛盾纠纷 route, GB/T 30428 closed loop) on SpiffWorkflow 3.2.0.

The harness lives in this file on purpose: it drives SpiffWorkflow directly (only the engine's DMN loading is
shared), so a failure here is a defect in the diagram or the decision tables, not in the host.

Every path runs twice: once in memory and once with a serialize/deserialize round trip after every step.
"""

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import SpiffWorkflow.bpmn.specs.event_definitions.timer as timer_module
from lxml import etree
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.defaults import BoundaryEvent, EndEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.spiff.specs.defaults import BusinessRuleTask, UserTask
from SpiffWorkflow.util.task import TaskState

from engine.specs import add_dmn_decisions as engine_add_dmn_decisions

DISPUTE_DIR = Path(__file__).resolve().parents[2] / 'bpmn' / 'dispute'
BPMN_FILE = DISPUTE_DIR / 'dispute.bpmn'
DMN_FILE = DISPUTE_DIR / 'dispute.dmn'
PROCESS_ID = 'dispute'

NS = {
    'bpmn': 'http://www.omg.org/spec/BPMN/20100524/MODEL',
    'bpmndi': 'http://www.omg.org/spec/BPMN/20100524/DI',
    'dc': 'http://www.omg.org/spec/DD/20100524/DC',
    'di': 'http://www.omg.org/spec/DD/20100524/DI',
    'spiffworkflow': 'http://spiffworkflow.org/bpmn/schema/1.0/core',
}
DMN_NS = 'https://www.omg.org/spec/DMN/20191111/MODEL/'
DMNDI_TAG = '{https://www.omg.org/spec/DMN/20191111/DMNDI/}DMNDI'

SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))

# ---------------------------------------------------------------------------------------------
# What the diagram must contain
# ---------------------------------------------------------------------------------------------

LANE_NAMES = {
    'grid_leader': '网格长',
    'village': '村调委会',
    'judicial_office': '镇司法所',
    'reporter': '上报网格员',
}

# flow node id -> lane id
NODE_LANES = {
    'case_reported': 'reporter',
    'decide_register_limit': 'grid_leader',
    'register_case': 'grid_leader',
    'register_overdue': 'grid_leader',
    'register_reminded': 'grid_leader',
    'is_valid': 'grid_leader',
    'case_invalid': 'grid_leader',
    'decide_route': 'grid_leader',
    'route_by_risk': 'grid_leader',
    'mediate_at_grid': 'grid_leader',
    'grid_resolved': 'grid_leader',
    'mediate_at_village': 'village',
    'village_resolved': 'village',
    'mediate_at_town': 'judicial_office',
    'town_resolved': 'judicial_office',
    'referred_to_court': 'judicial_office',
    'to_verification': 'reporter',
    'verify_on_site': 'reporter',
    'verified': 'reporter',
    'case_closed': 'reporter',
    'rework_route': 'reporter',
}

USER_TASK_PROPERTIES = {
    'register_case': {'role': 'grid_leader', 'scope_level': '3'},
    'mediate_at_grid': {'role': 'grid_leader', 'scope_level': '3'},
    'mediate_at_village': {'role': 'grid_leader', 'scope_level': '2'},
    'mediate_at_town': {'role': 'liaison', 'department': 'judicial', 'scope_level': '1'},
    'verify_on_site': {'role': 'grid_worker', 'assign': 'reporter'},
}

EVENT_PROPERTIES = {
    'register_reminded': {'timeline': 'reminded', 'notify': 'grid_leader'},
    'case_invalid': {'outcome': 'invalid'},
    'case_closed': {'outcome': 'closed'},
    'referred_to_court': {'outcome': 'referred'},
}

POST_SCRIPTS = {
    'mediate_at_grid': 'mediated_at = "grid"',
    'mediate_at_village': 'mediated_at = "village"',
    'mediate_at_town': 'mediated_at = "town"',
}

DECISIONS = {
    'decide_register_limit': 'dispute_register_limit',
    'decide_route': 'dispute_route',
}

START_DATA = {'case_type': 'dispute', 'reporter': 'wang_gridworker'}


# ---------------------------------------------------------------------------------------------
# Harness
# ---------------------------------------------------------------------------------------------

def add_dmn_decisions(parser, dmn_path):
    """Register every decision of a DMN file the way the engine does (one decision per document)."""
    return engine_add_dmn_decisions(parser, etree.parse(str(dmn_path)).getroot(), str(dmn_path))


def build_parser():
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_bpmn_files([str(BPMN_FILE)])
    add_dmn_decisions(parser, DMN_FILE)
    return parser


@pytest.fixture(scope='module')
def specs():
    parser = build_parser()
    return parser.get_spec(PROCESS_ID), parser.get_subprocess_specs(PROCESS_ID)


class FakeDatetime(datetime):
    """Replaces `datetime` inside SpiffWorkflow's timer module; the test moves `current`."""

    current = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)

    @classmethod
    def now(cls, tz=None):
        return cls.current if tz is None else cls.current.astimezone(tz)


@pytest.fixture
def clock(monkeypatch):
    monkeypatch.setattr(FakeDatetime, 'current', datetime(2024, 5, 1, 8, 0, tzinfo=UTC))
    monkeypatch.setattr(timer_module, 'datetime', FakeDatetime)
    return FakeDatetime


class Case:
    """One running dispute case. With roundtrip=True the workflow is serialized and restored after every step."""

    def __init__(self, specs, roundtrip):
        spec, subprocess_specs = specs
        self.wf = BpmnWorkflow(spec, subprocess_specs)
        self.roundtrip = roundtrip
        self.roundtrips = 0
        self.completed_manual = []

    def _checkpoint(self):
        if self.roundtrip:
            blob = SERIALIZER.serialize_json(self.wf)
            self.wf = SERIALIZER.deserialize_json(blob)
            self.roundtrips += 1

    def start(self, **data):
        root = self.wf.get_next_task(state=TaskState.READY)
        assert root is not None and root.state == TaskState.READY
        root.data.update(data)
        self.wf.do_engine_steps()
        self._checkpoint()

    def ready_manual(self):
        return sorted(t.task_spec.name for t in self.wf.get_tasks(state=TaskState.READY, manual=True))

    def task(self, name, state=TaskState.ANY_MASK):
        tasks = self.wf.get_tasks(state=state, spec_name=name)
        assert len(tasks) == 1, (name, tasks)
        return tasks[0]

    def complete(self, name, **data):
        tasks = self.wf.get_tasks(state=TaskState.READY, manual=True, spec_name=name)
        assert len(tasks) == 1, f'{name} is not the one READY manual task; READY: {self.ready_manual()}'
        task = tasks[0]
        # task.run() does not check state itself (it would "complete" a CANCELLED task)
        assert task.state == TaskState.READY
        task.set_data(**data)
        task.run()
        self.completed_manual.append(name)
        self.wf.do_engine_steps()
        self._checkpoint()

    def wake(self):
        """What the host scheduler does on every wake-up."""
        self.wf.refresh_timers()
        self.wf.do_engine_steps()
        self._checkpoint()

    def completed(self, name):
        return self.wf.get_tasks(state=TaskState.COMPLETED, spec_name=name)

    def finished_end_event(self):
        ends = [
            t for t in self.wf.get_tasks(state=TaskState.COMPLETED)
            if isinstance(t.task_spec, EndEvent) and 'outcome' in t.task_spec.extensions.get('properties', {})
        ]
        assert len(ends) == 1, [t.task_spec.name for t in ends]
        return ends[0]

    @property
    def data(self):
        return self.wf.data


def check_lane_task(task):
    """Every human task carries its lane name and its spiffworkflow:properties (also after a restore)."""
    name = task.task_spec.name
    assert isinstance(task.task_spec, UserTask)
    assert task.task_spec.lane == LANE_NAMES[NODE_LANES[name]]
    assert task.task_spec.extensions['properties'] == USER_TASK_PROPERTIES[name]


# ---------------------------------------------------------------------------------------------
# Paths
# ---------------------------------------------------------------------------------------------

def register(risk, valid=True):
    return ('register_case', {'valid': valid, 'reason': '邻里噪音纠纷' if valid else '不属于矛盾纠纷', 'risk': risk})


def mediate(level, resolved):
    return (f'mediate_at_{level}', {'resolved': resolved, 'outcome': '达成调解协议' if resolved else '双方未达成一致'})


def verify(passed):
    return ('verify_on_site', {'passed': passed, 'note': '协议已履行' if passed else '协议未履行'})


PATHS = {
    'invalid': dict(
        severity='low',
        steps=[register('low', valid=False)],
        end='case_invalid', outcome='invalid', mediated_at=None, route=None,
    ),
    'low_resolved_at_grid_closed': dict(
        severity='low',
        steps=[register('low'), mediate('grid', True), verify(True)],
        end='case_closed', outcome='closed', mediated_at='grid', route='grid',
    ),
    'medium_unresolved_at_grid_resolved_at_village': dict(
        severity='medium',
        steps=[register('medium'), mediate('grid', False), mediate('village', True), verify(True)],
        end='case_closed', outcome='closed', mediated_at='village', route='grid',
    ),
    'high_straight_to_village': dict(
        severity='high',
        steps=[register('high'), mediate('village', True), verify(True)],
        end='case_closed', outcome='closed', mediated_at='village', route='village',
    ),
    'village_unresolved_resolved_at_town': dict(
        severity='high',
        steps=[register('high'), mediate('village', False), mediate('town', True), verify(True)],
        end='case_closed', outcome='closed', mediated_at='town', route='village',
    ),
    'town_unresolved_referred_to_court': dict(
        severity='high',
        steps=[register('high'), mediate('village', False), mediate('town', False)],
        end='referred_to_court', outcome='referred', mediated_at='town', route='village',
    ),
    'low_full_escalation_referred_to_court': dict(
        severity='low',
        steps=[register('low'), mediate('grid', False), mediate('village', False), mediate('town', False)],
        end='referred_to_court', outcome='referred', mediated_at='town', route='grid',
    ),
    'verification_fails_after_village_rework_at_village': dict(
        severity='high',
        steps=[register('high'), mediate('village', True), verify(False), mediate('village', True), verify(True)],
        end='case_closed', outcome='closed', mediated_at='village', route='village',
    ),
    'verification_fails_after_grid_rework_at_grid': dict(
        severity='medium',
        steps=[register('low'), mediate('grid', True), verify(False), mediate('grid', True), verify(True)],
        end='case_closed', outcome='closed', mediated_at='grid', route='grid',
    ),
    'verification_fails_after_town_rework_at_town': dict(
        severity='high',
        steps=[register('high'), mediate('village', False), mediate('town', True), verify(False),
               mediate('town', True), verify(True)],
        end='case_closed', outcome='closed', mediated_at='town', route='village',
    ),
    'unknown_risk_defaults_to_grid': dict(
        severity='medium',
        steps=[register('unknown'), mediate('grid', True), verify(True)],
        end='case_closed', outcome='closed', mediated_at='grid', route='grid',
    ),
}

ROUNDTRIP = pytest.mark.parametrize('roundtrip', [False, True], ids=['in_memory', 'roundtrip'])


@ROUNDTRIP
@pytest.mark.parametrize('path', list(PATHS), ids=list(PATHS))
def test_path(specs, path, roundtrip):
    case_def = PATHS[path]
    case = Case(specs, roundtrip)
    case.start(severity=case_def['severity'], **START_DATA)

    # The register-limit decision ran before the first human task.
    expected_limit = {'high': 'PT1H', 'medium': 'PT2H'}.get(case_def['severity'], 'PT4H')
    assert case.task('decide_register_limit').state == TaskState.COMPLETED
    assert case.task('register_case').data['register_remind_after'] == expected_limit

    for name, data in case_def['steps']:
        assert case.ready_manual() == [name], f'expected {name} READY, got {case.ready_manual()}'
        task = case.wf.get_tasks(state=TaskState.READY, manual=True, spec_name=name)[0]
        check_lane_task(task)
        case.complete(name, **data)

    assert case.wf.is_completed()
    assert case.ready_manual() == []
    assert case.completed_manual == [name for name, _ in case_def['steps']]

    end = case.finished_end_event()
    assert end.task_spec.name == case_def['end']
    assert end.task_spec.extensions['properties'] == {'outcome': case_def['outcome']}
    assert end.task_spec.lane == LANE_NAMES[NODE_LANES[case_def['end']]]

    # Data at the end of the case
    data = case.data
    assert data['severity'] == case_def['severity']
    assert data['reporter'] == START_DATA['reporter']
    assert data['register_remind_after'] == expected_limit
    assert data.get('mediated_at') == case_def['mediated_at']
    assert data.get('route') == case_def['route']
    if case_def['end'] == 'case_invalid':
        assert not case.completed('decide_route')
        assert data['valid'] is False
    if case_def['route'] == 'village':
        assert not case.completed('mediate_at_grid')

    # The register timer never fired in these runs (no clock moved); its reminder end event never ran.
    assert not case.completed('register_overdue')
    assert not case.completed('register_reminded')

    # Every human task that ran carried lane + properties (checked on the possibly restored workflow).
    for t in case.wf.get_tasks(state=TaskState.COMPLETED, manual=True):
        check_lane_task(t)

    if roundtrip:
        assert case.roundtrips == len(case_def['steps']) + 1


# ---------------------------------------------------------------------------------------------
# Register timer
# ---------------------------------------------------------------------------------------------

@ROUNDTRIP
def test_register_timer_fires_once_for_medium_case(specs, clock, roundtrip):
    case = Case(specs, roundtrip)
    start = clock.current
    case.start(severity='medium', **START_DATA)

    assert case.ready_manual() == ['register_case']
    assert case.task('register_overdue').state == TaskState.WAITING

    # The host's scheduler reads the due time from waiting_events()
    waiting = case.wf.waiting_events()
    assert len(waiting) == 1
    event = waiting[0]
    assert event.name == '立案超时提醒'
    assert event.event_type == 'DurationTimerEventDefinition'
    assert event.value == (start + timedelta(hours=2)).isoformat() == '2024-05-01T10:00:00+00:00'

    # Exactly at the due time nothing fires (the comparison is strict).
    clock.current = start + timedelta(hours=2)
    case.wake()
    assert not case.completed('register_overdue')
    assert len(case.wf.waiting_events()) == 1

    # Three hours in: the non-interrupting timer fires once.
    clock.current = start + timedelta(hours=3)
    case.wake()
    fired = case.completed('register_overdue')
    assert len(fired) == 1
    assert isinstance(fired[0].task_spec, BoundaryEvent)
    reminded = case.completed('register_reminded')
    assert len(reminded) == 1
    assert isinstance(reminded[0].task_spec, EndEvent)
    assert reminded[0].task_spec.extensions['properties'] == {'timeline': 'reminded', 'notify': 'grid_leader'}
    assert case.wf.waiting_events() == []
    assert not case.wf.is_completed()

    # register_case is still READY and completable.
    assert case.ready_manual() == ['register_case']
    check_lane_task(case.task('register_case', TaskState.READY))

    # A later wake-up does not fire it again.
    clock.current = start + timedelta(hours=9)
    case.wake()
    assert len(case.completed('register_overdue')) == 1
    assert len(case.completed('register_reminded')) == 1

    for name, data in [register('medium'), mediate('grid', True), verify(True)]:
        case.complete(name, **data)
    assert case.wf.is_completed()
    assert case.finished_end_event().task_spec.name == 'case_closed'
    assert len(case.completed('register_reminded')) == 1


@ROUNDTRIP
def test_register_timer_cancelled_when_registered_in_time(specs, clock, roundtrip):
    case = Case(specs, roundtrip)
    start = clock.current
    case.start(severity='high', **START_DATA)
    assert case.wf.waiting_events()[0].value == (start + timedelta(hours=1)).isoformat()

    clock.current = start + timedelta(minutes=30)
    case.wake()
    name, data = register('low', valid=False)
    case.complete(name, **data)
    assert case.wf.is_completed()
    assert case.wf.waiting_events() == []

    clock.current = start + timedelta(hours=5)
    case.wake()
    assert not case.completed('register_overdue')
    assert not case.completed('register_reminded')
    assert case.finished_end_event().task_spec.name == 'case_invalid'


@pytest.mark.parametrize('severity,hours', [('high', 1), ('medium', 2), ('low', 4), ('unexpected', 4)])
def test_register_limit_decision_sets_timer_due(specs, clock, severity, hours):
    case = Case(specs, roundtrip=False)
    case.start(severity=severity, **START_DATA)
    assert case.task('register_case').data['register_remind_after'] == f'PT{hours}H'
    [event] = case.wf.waiting_events()
    assert event.value == (clock.current + timedelta(hours=hours)).isoformat()


# ---------------------------------------------------------------------------------------------
# Static checks on the parsed spec and the XML
# ---------------------------------------------------------------------------------------------

def test_spec_lanes_properties_and_decisions(specs):
    spec, subprocess_specs = specs
    assert subprocess_specs == {}
    for node_id, lane_id in NODE_LANES.items():
        task_spec = spec.task_specs[node_id]
        assert task_spec.bpmn_id == node_id
        assert task_spec.lane == LANE_NAMES[lane_id], node_id
        assert re.search(r'[\u4e00-\u9fff]', task_spec.bpmn_name or ''), f'{node_id} needs a Chinese name'
    for name, props in USER_TASK_PROPERTIES.items():
        assert isinstance(spec.task_specs[name], UserTask)
        assert spec.task_specs[name].extensions['properties'] == props
    for name, props in EVENT_PROPERTIES.items():
        assert spec.task_specs[name].extensions['properties'] == props
    for name, script in POST_SCRIPTS.items():
        assert spec.task_specs[name].postscript == script
    for name, decision in DECISIONS.items():
        task_spec = spec.task_specs[name]
        assert isinstance(task_spec, BusinessRuleTask)
        assert task_spec.extensions['calledDecisionId'] == decision
        assert task_spec.dmnEngine.decision_table.id == f'{decision}_table'
    overdue = spec.task_specs['register_overdue']
    assert isinstance(overdue, BoundaryEvent)
    assert overdue.cancel_activity is False
    assert overdue.event_definition.expression == 'register_remind_after'


def test_dmn_file_holds_both_decisions():
    parser = SpiffBpmnParser(validator=VALIDATOR)
    assert add_dmn_decisions(parser, DMN_FILE) == ['dispute_register_limit', 'dispute_route']
    assert set(parser.dmn_parsers) == {'dispute_register_limit', 'dispute_route'}


def _bpmn_tree():
    return etree.parse(str(BPMN_FILE))


FLOW_NODE_TAGS = ('startEvent', 'endEvent', 'userTask', 'businessRuleTask', 'exclusiveGateway', 'boundaryEvent',
                  'task', 'scriptTask', 'manualTask', 'serviceTask', 'parallelGateway', 'inclusiveGateway',
                  'intermediateCatchEvent', 'intermediateThrowEvent', 'subProcess', 'callActivity')


def _bounds(shape):
    b = shape.find('dc:Bounds', NS)
    return tuple(float(b.get(k)) for k in ('x', 'y', 'width', 'height'))


def test_diagram_has_full_di_and_lanes():
    tree = _bpmn_tree()
    process = tree.find('bpmn:process', NS)
    assert process.get('id') == PROCESS_ID
    nodes = {el.get('id'): el for tag in FLOW_NODE_TAGS for el in process.findall(f'bpmn:{tag}', NS)}
    flows = {el.get('id'): el for el in process.findall('bpmn:sequenceFlow', NS)}
    assert set(nodes) == set(NODE_LANES)
    for node_id, el in nodes.items():
        assert re.fullmatch(r'[a-z][a-z0-9_]*', node_id)
        assert re.search(r'[\u4e00-\u9fff]', el.get('name', '')), node_id
    for flow_id in flows:
        assert re.fullmatch(r'[a-z][a-z0-9_]*', flow_id)

    # pool + lanes
    collaboration = tree.find('bpmn:collaboration', NS)
    participant = collaboration.find('bpmn:participant', NS)
    assert participant.get('processRef') == PROCESS_ID
    lanes = process.findall('bpmn:laneSet/bpmn:lane', NS)
    assert {lane.get('id'): lane.get('name') for lane in lanes} == LANE_NAMES
    membership = {}
    for lane in lanes:
        for ref in lane.findall('bpmn:flowNodeRef', NS):
            assert ref.text not in membership, f'{ref.text} in two lanes'
            membership[ref.text] = lane.get('id')
    assert membership == NODE_LANES

    plane = tree.find('bpmndi:BPMNDiagram/bpmndi:BPMNPlane', NS)
    assert plane.get('bpmnElement') == collaboration.get('id')
    shapes = {s.get('bpmnElement'): s for s in plane.findall('bpmndi:BPMNShape', NS)}
    edges = {e.get('bpmnElement'): e for e in plane.findall('bpmndi:BPMNEdge', NS)}

    # a BPMNShape with dc:Bounds for every flow node, lane and the pool
    for element_id in list(nodes) + list(LANE_NAMES) + [participant.get('id')]:
        assert element_id in shapes, f'no BPMNShape for {element_id}'
        assert shapes[element_id].find('dc:Bounds', NS) is not None
    for element_id in list(LANE_NAMES) + [participant.get('id')]:
        assert shapes[element_id].get('isHorizontal') == 'true'

    # every node is drawn inside its lane, every lane inside the pool
    pool = _bounds(shapes[participant.get('id')])
    for lane_id in LANE_NAMES:
        lx, ly, lw, lh = _bounds(shapes[lane_id])
        assert pool[0] <= lx and lx + lw <= pool[0] + pool[2] and pool[1] <= ly and ly + lh <= pool[1] + pool[3]
    for node_id, lane_id in NODE_LANES.items():
        x, y, w, h = _bounds(shapes[node_id])
        lx, ly, lw, lh = _bounds(shapes[lane_id])
        assert lx <= x and x + w <= lx + lw and ly <= y and y + h <= ly + lh, node_id

    # a BPMNEdge with waypoints for every sequence flow, starting on its source and ending on its target
    def touches(point, bounds):
        px, py = point
        x, y, w, h = bounds
        on_vertical = px in (x, x + w) and y <= py <= y + h
        on_horizontal = py in (y, y + h) and x <= px <= x + w
        return on_vertical or on_horizontal

    for flow_id, flow in flows.items():
        assert flow_id in edges, f'no BPMNEdge for {flow_id}'
        points = [(float(p.get('x')), float(p.get('y'))) for p in edges[flow_id].findall('di:waypoint', NS)]
        assert len(points) >= 2
        assert touches(points[0], _bounds(shapes[flow.get('sourceRef')])), flow_id
        assert touches(points[-1], _bounds(shapes[flow.get('targetRef')])), flow_id
        for a, b in zip(points, points[1:], strict=False):
            assert a[0] == b[0] or a[1] == b[1], f'{flow_id} has a diagonal segment'

    # no DI element points at something that does not exist
    known = set(nodes) | set(flows) | set(LANE_NAMES) | {participant.get('id')}
    assert set(shapes) | set(edges) <= known


def test_gateways_cannot_get_stuck():
    """Every gateway with conditions has exactly one default flow, and the default flow carries no condition."""
    process = _bpmn_tree().find('bpmn:process', NS)
    flows = {el.get('id'): el for el in process.findall('bpmn:sequenceFlow', NS)}
    for gateway in process.findall('bpmn:exclusiveGateway', NS):
        outgoing = [f for f in flows.values() if f.get('sourceRef') == gateway.get('id')]
        conditional = [f for f in outgoing if f.find('bpmn:conditionExpression', NS) is not None]
        if not conditional:
            assert len(outgoing) == 1, gateway.get('id')
            continue
        default = gateway.get('default')
        assert default in {f.get('id') for f in outgoing}, gateway.get('id')
        assert flows[default].find('bpmn:conditionExpression', NS) is None
        assert len(conditional) == len(outgoing) - 1, gateway.get('id')


def test_timer_and_extensions_xml():
    process = _bpmn_tree().find('bpmn:process', NS)
    boundary = process.find("bpmn:boundaryEvent[@id='register_overdue']", NS)
    assert boundary.get('attachedToRef') == 'register_case'
    assert boundary.get('cancelActivity') == 'false'
    duration = boundary.find('bpmn:timerEventDefinition/bpmn:timeDuration', NS)
    assert duration.text == 'register_remind_after'
    for script in process.iterfind('.//spiffworkflow:postScript', NS):
        # scripts are one-line assignments and import nothing
        assert '\n' not in script.text and 'import' not in script.text
        assert re.fullmatch(r'[a-z_]+ = "[a-z]+"', script.text)
