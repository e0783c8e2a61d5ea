"""Proves bpmn/dispute/dispute.bpmn + dispute.dmn (矛盾纠纷: grid → village → town mediation, violence → police at
once through the shared closed loop) on SpiffWorkflow 3.2.0, parsed with all of bpmn/shared/ and driven through
engine.process.specs and engine.process.runner as the host drives them.

Every path runs twice: in memory, and with runner.dump/runner.restore before every step. Withdrawal and the
invalid/duplicate registrations, shared with the other case types, are in test_case_types_bpmn.py.

The SLA clock's `sla_breached` message moves an untouched dispute one grid level up: a registration left alone is
registered again one level higher (never above the town), grid and village mediation move up exactly as on
`escalate_now`, and the town's mediation, already the top, keeps the case but the breach is counted and recorded.
"""
import itertools
import re
from datetime import timedelta

import pytest
from lxml import etree
from SpiffWorkflow.bpmn.specs.defaults import BoundaryEvent, EndEvent, ExclusiveGateway
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.spiff.specs.defaults import BusinessRuleTask, CallActivity, ScriptTask, UserTask

from engine.errors import ConflictError
from engine.process import specs
from engine.process.specs import add_dmn_decisions
from tests.workflow.harness import BPMN_ROOT, NS, Case, bounds, diagram, events, read_files

BPMN_FILE = "dispute/dispute.bpmn"
DMN_FILE = BPMN_ROOT / "dispute" / "dispute.dmn"
PROCESS_ID = "dispute"
FILES = read_files("dispute", "shared")

# ---------------------------------------------------------------------------------------------
# What the diagram must contain
# ---------------------------------------------------------------------------------------------

LANE_NAMES = {
    "reporter": "上报网格员",
    "grid_leader": "网格长",
    "village": "村调委会",
    "judicial_office": "镇司法所",
    "dispatcher": "指挥中心",
}

# flow node id -> lane id (every node but the embedded sub-process case_work, which spans the lanes)
NODE_LANES = {
    "case_reported": "reporter",
    "on_withdrawn": "reporter",
    "case_withdrawn": "reporter",
    "case_finished": "dispatcher",
    "case_work_started": "grid_leader",
    "decide_register_limit": "grid_leader",
    "register_merge": "grid_leader",
    "register_case": "grid_leader",
    "register_overdue": "grid_leader",
    "register_reminded": "grid_leader",
    "on_register_breached": "grid_leader",
    "raise_register_level": "grid_leader",
    "register_decision": "grid_leader",
    "case_invalid": "grid_leader",
    "case_duplicate": "grid_leader",
    "violence_check": "grid_leader",
    "mark_violence": "dispatcher",
    "run_closed_loop_police": "dispatcher",
    "case_work_done": "dispatcher",
    "decide_route": "grid_leader",
    "route_by_risk": "grid_leader",
    "grid_merge": "grid_leader",
    "mediate_at_grid": "grid_leader",
    "on_escalate_now_grid": "grid_leader",
    "on_sla_breached_grid": "grid_leader",
    "grid_escalation_merge": "grid_leader",
    "record_escalation_request_grid": "grid_leader",
    "grid_resolved": "grid_leader",
    "village_merge": "village",
    "mediate_at_village": "village",
    "on_escalate_now_village": "village",
    "on_sla_breached_village": "village",
    "village_escalation_merge": "judicial_office",
    "record_escalation_request_village": "judicial_office",
    "village_resolved": "village",
    "town_merge": "judicial_office",
    "mediate_at_town": "judicial_office",
    "on_sla_breached_town": "judicial_office",
    "record_town_breach": "judicial_office",
    "town_resolved": "judicial_office",
    "referred_to_court": "judicial_office",
    "to_verification": "reporter",
    "verify_on_site": "reporter",
    "verified": "reporter",
    "record_rework": "reporter",
    "rework_merge": "reporter",
    "rework_route": "reporter",
    "follow_up": "grid_leader",
    "satisfied": "grid_leader",
    "case_closed": "grid_leader",
    "record_dissatisfied": "grid_leader",
}
TOP_LEVEL = {"case_reported", "case_work", "on_withdrawn", "case_withdrawn", "case_finished"}

USER_TASK_PROPERTIES = {
    "register_case": {"role": "grid_leader", "scope_var": "register_level", "stage": "registering"},
    "mediate_at_grid": {"role": "grid_leader", "scope_level": "3", "stage": "mediating"},
    "mediate_at_village": {"role": "grid_leader", "scope_level": "2", "stage": "mediating"},
    "mediate_at_town": {"role": "liaison", "department": "judicial", "scope_level": "1", "stage": "mediating"},
    "verify_on_site": {"role": "grid_worker", "assign": "reporter", "stage": "verifying"},
    "follow_up": {"role": "grid_leader", "scope_level": "3", "stage": "follow_up"},
}

EVENT_PROPERTIES = {
    "register_reminded": {"timeline": "reminded", "notify": "grid_leader"},
    "case_invalid": {"outcome": "invalid"},
    "case_duplicate": {"outcome": "duplicate"},
    "case_closed": {"outcome": "closed"},
    "referred_to_court": {"outcome": "referred"},
    "case_withdrawn": {"outcome": "withdrawn", "timeline": "withdrawn", "reason_var": "withdrawal.reason"},
    "mark_violence": {"timeline": "police_called"},
    "record_rework": {"timeline": "reworked", "counter": "reworks", "reason_var": "note"},
    "record_dissatisfied": {"timeline": "dissatisfied", "counter": "dissatisfied", "reason_var": "note"},
    "record_escalation_request_grid": {"timeline": "escalation_requested", "reason_var": "escalation.reason",
                                       "counter": "escalations"},
    "record_escalation_request_village": {"timeline": "escalation_requested", "reason_var": "escalation.reason",
                                          "counter": "escalations"},
    "raise_register_level": {"timeline": "escalation_requested", "counter": "escalations",
                             "reason_var": "escalation.reason"},
    "record_town_breach": {"timeline": "sla_escalated", "counter": "escalations", "reason_var": "escalation.reason"},
}

POST_SCRIPTS = {
    "mediate_at_grid": 'mediated_at = "grid"',
    "mediate_at_village": 'mediated_at = "village"',
    "mediate_at_town": 'mediated_at = "town"',
}

SCRIPTS = {
    "mark_violence": 'subcategory = "violence"',
    "record_rework": "reworked = True",
    "record_dissatisfied": "dissatisfied = True",
    "record_escalation_request_grid": 'escalated_from = "grid"',
    "record_escalation_request_village": 'escalated_from = "village"',
    "raise_register_level": "register_level = max(register_level - 1, 1)",
    "record_town_breach": 'breached_at = "town"',
}

# boundary event -> (host, message, the script its flow leads to, the task that follows); every one interrupts its
# host. Where several flows lead to one node they meet in a merge gateway first (MERGES).
MESSAGE_BOUNDARIES = {
    "on_escalate_now_grid": ("mediate_at_grid", "escalate_now", "record_escalation_request_grid", "mediate_at_village"),
    "on_escalate_now_village": ("mediate_at_village", "escalate_now", "record_escalation_request_village",
                                "mediate_at_town"),
    "on_register_breached": ("register_case", "sla_breached", "raise_register_level", "register_case"),
    "on_sla_breached_grid": ("mediate_at_grid", "sla_breached", "record_escalation_request_grid", "mediate_at_village"),
    "on_sla_breached_village": ("mediate_at_village", "sla_breached", "record_escalation_request_village",
                                "mediate_at_town"),
    "on_sla_breached_town": ("mediate_at_town", "sla_breached", "record_town_breach", "mediate_at_town"),
}
# merge gateway -> what it merges and the one node it leads to; no task has two incoming flows
MERGES = {
    "register_merge": ({"decide_register_limit", "raise_register_level"}, "register_case"),
    "grid_merge": ({"route_by_risk", "rework_route"}, "mediate_at_grid"),
    "grid_escalation_merge": ({"on_escalate_now_grid", "on_sla_breached_grid"}, "record_escalation_request_grid"),
    "village_merge": ({"route_by_risk", "record_escalation_request_grid", "grid_resolved", "rework_route"},
                      "mediate_at_village"),
    "village_escalation_merge": ({"on_escalate_now_village", "on_sla_breached_village"},
                                 "record_escalation_request_village"),
    "town_merge": ({"record_escalation_request_village", "record_town_breach", "village_resolved", "rework_route"},
                   "mediate_at_town"),
    "rework_merge": ({"record_rework", "record_dissatisfied"}, "rework_route"),
}


def past_merge(node_id):
    """The node a flow into `node_id` reaches: through the merge gateway, if it is one."""
    return MERGES[node_id][1] if node_id in MERGES else node_id

DECISIONS = {
    "decide_register_limit": "dispute_register_limit",
    "decide_route": "dispute_route",
}

START = {"case_type": "dispute", "severity": "medium", "subcategory": "", "reporter": "wang_gridworker"}
ESCALATION = {"reason": "双方情绪激动，网格调解难以推进", "by": "town_supervisor"}


def breach(reason, deadline=41):
    """The SLA clock's payload (engine/deadlines/firing.py: the breached deadline's id)."""
    return {"reason": reason, "by": "system", "deadline": deadline}


# ---------------------------------------------------------------------------------------------
# Starting a dispute, and the steps of its paths
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def spec():
    return specs.parse(PROCESS_ID, FILES)


def dispute_case(spec, roundtrip=False, **data):
    """A dispute started with START and `data`; every task that becomes READY is checked by check_ready_task."""
    return Case(spec, {**START, **data}, roundtrip, check=check_ready_task)


def check_ready_task(task, data):
    """Every human task of the dispute carries its lane name and its properties (the loop's are tested elsewhere);
    `scope_var` reaches the engine as `scope_level`, read from the task's data."""
    if task.name in USER_TASK_PROPERTIES:
        assert task.lane == LANE_NAMES[NODE_LANES[task.name]], task.name
        expected = dict(USER_TASK_PROPERTIES[task.name])
        if "scope_var" in expected:
            expected["scope_level"] = data[expected.pop("scope_var")]
        assert task.properties == expected, task.name


def register(risk, decision="valid", violence=False):
    reason = {"valid": "邻里噪音纠纷", "invalid": "不属于矛盾纠纷", "duplicate": "与前案重复"}[decision]
    return ("register_case", {"decision": decision, "reason": reason, "duplicate_of": "", "risk": risk,
                              "violence": violence})


def mediate(level, resolved):
    return (f"mediate_at_{level}", {"resolved": resolved, "outcome": "达成调解协议" if resolved else "双方未达成一致"})


def verify(passed, note=None):
    return ("verify_on_site", {"passed": passed, "note": note or ("协议已履行" if passed else "协议未履行")})


def follow_up(satisfied, note=None):
    return ("follow_up", {"satisfied": satisfied, "note": note or ("群众满意" if satisfied else "对方仍未赔偿")})


def run(case, steps):
    for name, data in steps:
        assert case.ready_names == [name], f"expected {name} READY, got {case.ready_names}"
        case.complete(name, **data)


# ---------------------------------------------------------------------------------------------
# Mediation paths
# ---------------------------------------------------------------------------------------------

PATHS = {
    "invalid": dict(
        severity="low", steps=[register("low", "invalid")],
        end="case_invalid", outcome="invalid", mediated_at=None, route=None,
    ),
    "duplicate": dict(
        severity="low", steps=[register("low", "duplicate")],
        end="case_duplicate", outcome="duplicate", mediated_at=None, route=None,
    ),
    "low_resolved_at_grid_closed": dict(
        severity="low", steps=[register("low"), mediate("grid", True), verify(True), follow_up(True)],
        end="case_closed", outcome="closed", mediated_at="grid", route="grid",
    ),
    "medium_unresolved_at_grid_resolved_at_village": dict(
        severity="medium",
        steps=[register("medium"), mediate("grid", False), mediate("village", True), verify(True), follow_up(True)],
        end="case_closed", outcome="closed", mediated_at="village", route="grid",
    ),
    "high_straight_to_village": dict(
        severity="high", steps=[register("high"), mediate("village", True), verify(True), follow_up(True)],
        end="case_closed", outcome="closed", mediated_at="village", route="village",
    ),
    "village_unresolved_resolved_at_town": dict(
        severity="high",
        steps=[register("high"), mediate("village", False), mediate("town", True), verify(True), follow_up(True)],
        end="case_closed", outcome="closed", mediated_at="town", route="village",
    ),
    "unresolved_everywhere_referred_to_court": dict(
        severity="low",
        steps=[register("low"), mediate("grid", False), mediate("village", False), mediate("town", False)],
        end="referred_to_court", outcome="referred", mediated_at="town", route="grid",
    ),
    "verification_fails_rework_at_village": dict(
        severity="high",
        steps=[register("high"), mediate("village", True), verify(False), mediate("village", True), verify(True),
               follow_up(True)],
        end="case_closed", outcome="closed", mediated_at="village", route="village",
    ),
    "verification_fails_rework_at_grid": dict(
        severity="medium",
        steps=[register("low"), mediate("grid", True), verify(False), mediate("grid", True), verify(True),
               follow_up(True)],
        end="case_closed", outcome="closed", mediated_at="grid", route="grid",
    ),
    "verification_fails_rework_at_town": dict(
        severity="high",
        steps=[register("high"), mediate("village", False), mediate("town", True), verify(False),
               mediate("town", True), verify(True), follow_up(True)],
        end="case_closed", outcome="closed", mediated_at="town", route="village",
    ),
    "dissatisfied_back_to_grid": dict(
        severity="low",
        steps=[register("low"), mediate("grid", True), verify(True), follow_up(False), mediate("grid", True),
               verify(True), follow_up(True)],
        end="case_closed", outcome="closed", mediated_at="grid", route="grid",
    ),
    "unknown_risk_defaults_to_grid": dict(
        severity="medium", steps=[register("unknown"), mediate("grid", True), verify(True), follow_up(True)],
        end="case_closed", outcome="closed", mediated_at="grid", route="grid",
    ),
}


@pytest.mark.parametrize("path", list(PATHS), ids=list(PATHS))
def test_path(spec, path, roundtrip):
    case_def = PATHS[path]
    case = dispute_case(spec, roundtrip, severity=case_def["severity"])

    # The register-limit decision ran before the first human task; its timer waits.
    expected_limit = {"high": "PT1H", "medium": "PT2H"}.get(case_def["severity"], "PT4H")
    assert case.data_of("register_case")["register_remind_after"] == expected_limit
    assert [t.name for t in case.step.timers] == ["register_overdue"]

    run(case, case_def["steps"])

    assert case.step.completed and case.step.ready == [] and case.step.timers == []
    assert case.step.outcome == case_def["outcome"]
    assert case.completed_manual == [name for name, _ in case_def["steps"]]
    [end] = [h for h in case.happened if "outcome" in h]
    assert end["task"] == case_def["end"]

    data = case.data
    assert data["severity"] == case_def["severity"]
    assert data["reporter"] == START["reporter"]
    assert data["register_remind_after"] == expected_limit
    assert data.get("mediated_at") == case_def["mediated_at"]
    assert data.get("route") == case_def["route"]
    if case_def["route"] == "village":
        assert not case.completed("mediate_at_grid")
    # No clock moved: the reminder never fired; nothing went to the police.
    assert not case.completed("register_reminded")
    assert not case.completed("mark_violence") and not case.completed("run_closed_loop_police")
    if roundtrip:
        assert case.roundtrips == len(case_def["steps"])


@pytest.mark.parametrize("route,level", [
    ([register("low")], "grid"),
    ([register("high")], "village"),
    ([register("high"), mediate("village", False)], "town"),
])
def test_failed_verification_is_counted_and_goes_back_to_the_same_level(spec, roundtrip, route, level):
    case = dispute_case(spec, roundtrip)
    run(case, [*route, mediate(level, True), verify(True)])
    run(case, [follow_up(False, note="赔偿款仍未到账")])
    assert events(case.step) == [{"task": "record_dissatisfied", "timeline": "dissatisfied",
                                  "counter": "dissatisfied", "reason": "赔偿款仍未到账"}]
    assert case.ready_names == [f"mediate_at_{level}"]

    run(case, [mediate(level, True), verify(False, note="协议未履行，围墙未拆")])
    assert events(case.step) == [{"task": "record_rework", "timeline": "reworked", "counter": "reworks",
                                  "reason": "协议未履行，围墙未拆"}]
    assert case.ready_names == [f"mediate_at_{level}"]

    run(case, [mediate(level, True), verify(True), follow_up(True)])
    assert case.step.completed and case.step.outcome == "closed"
    counted = [h["counter"] for h in case.happened if "counter" in h]
    assert counted == ["dissatisfied", "reworks"]


# ---------------------------------------------------------------------------------------------
# Violence: the police lead at once, through the shared closed loop
# ---------------------------------------------------------------------------------------------

def test_violence_goes_to_the_police_through_the_closed_loop(spec, roundtrip):
    case = dispute_case(spec, roundtrip, severity="high")
    name, data = register("low", violence=True)
    step = case.complete(name, **data)
    assert events(step) == [{"task": "mark_violence", "timeline": "police_called"}]
    assert case.ready_names == ["dispatch_case"]
    routed = case.data_of("dispatch_case")
    assert routed["subcategory"] == "violence"
    assert (routed["lead_department"], routed["co_departments"]) == ("police", ["judicial"])
    assert step.timers == []  # the register reminder went with the registration

    case.complete("dispatch_case", lead_department="police", co_departments=["judicial"], note="立即出警")
    assert sorted((t.name, t.properties["department"]) for t in case.step.ready) == [
        ("co_handle", "judicial"), ("handle_case", "police")]
    case.complete("handle_case", action="feedback", result="已出警制止，双方带回调查", reason="", extra_days=0)
    case.complete("co_handle", result="已介入调解")
    assert case.ready_names == ["verify_on_site"]
    case.complete("verify_on_site", passed=True, note="现场平稳")
    step = case.complete("follow_up", satisfied=True, note="满意")
    assert step.completed and step.outcome == "closed"
    assert not case.completed("decide_route")
    assert not any(case.completed(f"mediate_at_{level}") for level in ("grid", "village", "town"))


# ---------------------------------------------------------------------------------------------
# escalate_now: up the mediation chain
# ---------------------------------------------------------------------------------------------

def test_escalate_now_moves_grid_mediation_to_the_village_then_the_town(spec, roundtrip):
    case = dispute_case(spec, roundtrip)
    run(case, [register("low")])
    assert case.ready_names == ["mediate_at_grid"]
    grid_task = case.task("mediate_at_grid")

    step = case.message("escalate_now", ESCALATION)
    assert events(step) == [{"task": "record_escalation_request_grid", "timeline": "escalation_requested",
                             "counter": "escalations",
                             "reason": ESCALATION["reason"]}]
    assert case.ready_names == ["mediate_at_village"]
    assert case.data_of("mediate_at_village")["escalation"] == ESCALATION
    assert case.data_of("mediate_at_village")["escalated_from"] == "grid"
    with pytest.raises(ConflictError):  # the grid's task went with the escalation
        case.complete("mediate_at_grid", task=grid_task, resolved=True, outcome="迟到的结果")

    step = case.message("escalate_now", {**ESCALATION, "reason": "村级调解久拖不决"})
    assert events(step) == [{"task": "record_escalation_request_village", "timeline": "escalation_requested",
                             "counter": "escalations",
                             "reason": "村级调解久拖不决"}]
    assert case.ready_names == ["mediate_at_town"]

    # Nothing above the town: the judicial office's mediation does not listen.
    with pytest.raises(ConflictError):
        case.message("escalate_now", ESCALATION)
    run(case, [mediate("town", True), verify(True), follow_up(True)])
    assert case.step.outcome == "closed"
    assert not case.completed("mediate_at_grid") and not case.completed("mediate_at_village")


@pytest.mark.parametrize("steps", [[], [register("high"), mediate("village", True)]],
                         ids=["registration", "verification"])
def test_escalate_now_outside_grid_and_village_mediation_is_a_conflict(spec, steps):
    case = dispute_case(spec, False)
    run(case, steps)
    before = case.ready_names
    with pytest.raises(ConflictError):
        case.message("escalate_now", ESCALATION)
    assert case.ready_names == before


# ---------------------------------------------------------------------------------------------
# sla_breached: an untouched dispute climbs one grid level
# ---------------------------------------------------------------------------------------------

def registration(case):
    return case.task("register_case").properties


def test_untouched_registration_climbs_one_level_per_breach_and_never_above_the_town(spec, clock, roundtrip):
    start = clock.now()
    case = dispute_case(spec, roundtrip, severity="medium")
    assert registration(case) == {"role": "grid_leader", "scope_level": 3, "stage": "registering"}
    first_task = case.task("register_case")

    # 90 minutes untouched: the SLA clock reports the breach; registration moves to the village (level 2).
    clock.set(start + timedelta(minutes=90))
    step = case.message("sla_breached", breach("立案超时未处理"))
    assert events(step) == [{"task": "raise_register_level", "timeline": "escalation_requested",
                             "counter": "escalations", "reason": "立案超时未处理"}]
    assert case.ready_names == ["register_case"]
    assert registration(case) == {"role": "grid_leader", "scope_level": 2, "stage": "registering"}
    assert case.data_of("register_case")["escalation"] == breach("立案超时未处理")
    assert case.task("register_case").id != first_task.id
    with pytest.raises(ConflictError):  # the level-2 grid's registration went with the breach
        case.complete("register_case", task=first_task, **register("low")[1])
    # The reminder is re-armed from the moment registration opened again, and still waits.
    [timer] = step.timers
    assert (timer.name, timer.due_at) == ("register_overdue", start + timedelta(minutes=90, hours=2))
    waiting = {(e.name, e.event_type) for e in case.workflow.waiting_events()}
    assert ("立案超时提醒", "DurationTimerEventDefinition") in waiting
    assert ("sla_breached", "MessageEventDefinition") in waiting

    step = case.message("sla_breached", breach("村级仍未立案"))
    assert [h["reason"] for h in events(step)] == ["村级仍未立案"]
    assert registration(case)["scope_level"] == 1
    assert [t.name for t in step.timers] == ["register_overdue"]

    # Registration climbs no higher than the town (level 1): a third breach is counted, the level stays.
    step = case.message("sla_breached", breach("镇级仍未立案"))
    assert events(step) == [{"task": "raise_register_level", "timeline": "escalation_requested",
                             "counter": "escalations", "reason": "镇级仍未立案"}]
    assert registration(case) == {"role": "grid_leader", "scope_level": 1, "stage": "registering"}
    assert case.data_of("register_case")["register_level"] == 1
    assert [t.name for t in step.timers] == ["register_overdue"]

    # The re-armed reminder still fires, once, and leaves registration open.
    clock.set(start + timedelta(minutes=90, hours=2, seconds=1))
    step = case.wake()
    assert events(step) == [{"task": "register_reminded", "timeline": "reminded", "notify": "grid_leader"}]
    assert case.ready_names == ["register_case"] and step.timers == []

    run(case, [register("low"), mediate("grid", True), verify(True), follow_up(True)])
    assert case.step.outcome == "closed"
    assert [h["counter"] for h in case.happened if "counter" in h] == ["escalations"] * 3
    assert case.data["register_level"] == 1


def test_sla_breach_moves_mediation_up_like_escalate_now_and_the_town_keeps_it(spec, roundtrip):
    case = dispute_case(spec, roundtrip)
    run(case, [register("low")])
    grid_task = case.task("mediate_at_grid")

    step = case.message("sla_breached", breach("网格调解超时"))
    assert events(step) == [{"task": "record_escalation_request_grid", "timeline": "escalation_requested",
                             "counter": "escalations", "reason": "网格调解超时"}]
    assert case.ready_names == ["mediate_at_village"]
    assert case.data_of("mediate_at_village")["escalation"] == breach("网格调解超时")
    assert case.data_of("mediate_at_village")["escalated_from"] == "grid"
    with pytest.raises(ConflictError):
        case.complete("mediate_at_grid", task=grid_task, resolved=True, outcome="迟到的结果")

    village_task = case.task("mediate_at_village")
    step = case.message("sla_breached", breach("村级调解超时"))
    assert events(step) == [{"task": "record_escalation_request_village", "timeline": "escalation_requested",
                             "counter": "escalations", "reason": "村级调解超时"}]
    assert case.ready_names == ["mediate_at_town"]
    assert case.data_of("mediate_at_town")["escalated_from"] == "village"
    with pytest.raises(ConflictError):
        case.complete("mediate_at_village", task=village_task, resolved=True, outcome="迟到的结果")

    # The town is the top of mediation: it keeps the case, the breach is counted and recorded, every time.
    for reason in ("镇级调解超时", "镇级调解再次超时"):
        town_task = case.task("mediate_at_town")
        step = case.message("sla_breached", breach(reason))
        assert events(step) == [{"task": "record_town_breach", "timeline": "sla_escalated",
                                 "counter": "escalations", "reason": reason}]
        assert case.ready_names == ["mediate_at_town"]
        assert case.task("mediate_at_town").id != town_task.id
        assert case.data_of("mediate_at_town")["escalation"] == breach(reason)
        assert case.data_of("mediate_at_town")["breached_at"] == "town"
        with pytest.raises(ConflictError):
            case.complete("mediate_at_town", task=town_task, resolved=True, outcome="迟到的结果")
    with pytest.raises(ConflictError):  # a supervisor still cannot move it above the town
        case.message("escalate_now", ESCALATION)

    run(case, [mediate("town", True), verify(True), follow_up(True)])
    assert case.step.outcome == "closed" and case.data["mediated_at"] == "town"
    assert [h["task"] for h in case.happened if "counter" in h] == [
        "record_escalation_request_grid", "record_escalation_request_village", "record_town_breach",
        "record_town_breach"]
    assert not case.completed("mediate_at_grid") and not case.completed("mediate_at_village")


@pytest.mark.parametrize("route,level,then", [
    ([register("low")], "grid", "mediate_at_village"),
    ([register("high")], "village", "mediate_at_town"),
    ([register("high"), mediate("village", False)], "town", "mediate_at_town"),
    ([register("low"), mediate("grid", True), verify(False)], "grid", "mediate_at_village"),
])
def test_each_mediation_level_answers_a_breach(spec, roundtrip, route, level, then):
    case = dispute_case(spec, roundtrip)
    run(case, route)
    assert case.ready_names == [f"mediate_at_{level}"]
    step = case.message("sla_breached", breach("超过调解时限"))
    script = "record_town_breach" if level == "town" else f"record_escalation_request_{level}"
    assert [(h["task"], h["counter"], h["reason"]) for h in step.happened] == [
        (script, "escalations", "超过调解时限")]
    assert case.ready_names == [then]
    run(case, [mediate(then.removeprefix("mediate_at_"), True), verify(True), follow_up(True)])
    assert case.step.outcome == "closed"


@pytest.mark.parametrize("steps", [
    [register("high"), mediate("village", True)],
    [register("low"), mediate("grid", True), verify(True)],
], ids=["verification", "follow_up"])
def test_sla_breach_where_nothing_waits_for_it_is_a_conflict(spec, steps):
    case = dispute_case(spec, False)
    run(case, steps)
    before = case.ready_names
    with pytest.raises(ConflictError):
        case.message("sla_breached", breach("核查超时"))
    assert case.ready_names == before


# ---------------------------------------------------------------------------------------------
# Register timer
# ---------------------------------------------------------------------------------------------

def test_register_timer_fires_once_for_medium_case(spec, clock, roundtrip):
    start = clock.now()
    case = dispute_case(spec, roundtrip, severity="medium")
    assert case.ready_names == ["register_case"]
    [timer] = case.step.timers
    assert (timer.name, timer.due_at) == ("register_overdue", start + timedelta(hours=2))
    # What waits: the reminder (the scheduler reads its due time here), the SLA breach and the withdrawal signal.
    waiting = {(e.name, e.event_type): e.value for e in case.workflow.waiting_events()}
    assert waiting == {("立案超时提醒", "DurationTimerEventDefinition"): (start + timedelta(hours=2)).isoformat(),
                       ("sla_breached", "MessageEventDefinition"): [],
                       ("withdrawn", "SignalEventDefinition"): None}

    # Exactly at the due time nothing fires (the comparison is strict).
    clock.set(start + timedelta(hours=2))
    step = case.wake()
    assert step.happened == [] and len(step.timers) == 1

    # Three hours in: the non-interrupting timer fires once; register_case stays open.
    clock.set(start + timedelta(hours=3))
    step = case.wake()
    assert events(step) == [{"task": "register_reminded", "timeline": "reminded", "notify": "grid_leader"}]
    assert step.timers == [] and case.ready_names == ["register_case"] and not step.completed

    clock.set(start + timedelta(hours=9))
    assert case.wake().happened == []

    run(case, [register("medium"), mediate("grid", True), verify(True), follow_up(True)])
    assert case.step.outcome == "closed"
    assert [h["task"] for h in case.happened] == ["register_reminded", "case_closed"]


def test_register_timer_cancelled_when_registered_in_time(spec, clock, roundtrip):
    start = clock.now()
    case = dispute_case(spec, roundtrip, severity="high")
    assert case.step.timers[0].due_at == start + timedelta(hours=1)

    clock.set(start + timedelta(minutes=30))
    case.wake()
    run(case, [register("low", "invalid")])
    assert case.step.completed and case.workflow.waiting_events() == []

    clock.set(start + timedelta(hours=5))
    assert case.wake().happened == []
    assert not case.completed("register_reminded")


@pytest.mark.parametrize("severity,hours", [("high", 1), ("medium", 2), ("low", 4), ("unexpected", 4)])
def test_register_limit_decision_sets_timer_due(spec, clock, severity, hours):
    case = dispute_case(spec, False, severity=severity)
    assert case.data_of("register_case")["register_remind_after"] == f"PT{hours}H"
    assert case.step.timers[0].due_at == clock.now() + timedelta(hours=hours)


# ---------------------------------------------------------------------------------------------
# Static checks on the parsed spec and the XML
# ---------------------------------------------------------------------------------------------

def test_spec_lanes_properties_and_decisions(spec):
    assert {"case_work", "closed_loop", "escalate"} <= set(spec.subprocess_specs)
    top = spec.spec.task_specs
    inner = spec.subprocess_specs["case_work"].task_specs
    for node_id in TOP_LEVEL:
        assert node_id in top, node_id
    for node_id, lane_id in NODE_LANES.items():
        task_spec = top[node_id] if node_id in TOP_LEVEL else inner[node_id]
        assert task_spec.bpmn_id == node_id
        assert task_spec.lane == LANE_NAMES[lane_id], node_id
        assert re.search(r"[\u4e00-\u9fff]", task_spec.bpmn_name or ""), f"{node_id} needs a Chinese name"
    for name, props in USER_TASK_PROPERTIES.items():
        assert isinstance(inner[name], UserTask)
        assert inner[name].extensions["properties"] == props
    for name, props in EVENT_PROPERTIES.items():
        task_spec = top.get(name) or inner[name]
        assert task_spec.extensions["properties"] == props, name
    for name, script in POST_SCRIPTS.items():
        assert inner[name].postscript == script
    for name, script in SCRIPTS.items():
        assert isinstance(inner[name], ScriptTask)
        assert inner[name].script == script
    for name, decision in DECISIONS.items():
        assert isinstance(inner[name], BusinessRuleTask)
        assert inner[name].extensions["calledDecisionId"] == decision
        assert inner[name].dmnEngine.decision_table.id == f"{decision}_table"
    assert isinstance(inner["run_closed_loop_police"], CallActivity)
    assert inner["run_closed_loop_police"].spec == "closed_loop"

    overdue = inner["register_overdue"]
    assert isinstance(overdue, BoundaryEvent) and overdue.cancel_activity is False
    assert overdue.event_definition.expression == "register_remind_after"
    for name, (_host, message, script, _) in MESSAGE_BOUNDARIES.items():
        boundary = inner[name]
        assert isinstance(boundary, BoundaryEvent) and boundary.cancel_activity is True, name
        assert (boundary.event_definition.name, boundary.event_definition.message_var) == (message, "escalation")
        # (and Spiff's own join)
        assert [past_merge(t.bpmn_id) for t in boundary.outputs if t.bpmn_id] == [script], name
        assert isinstance(inner[script], ScriptTask)
    hosts = {host for host, *_ in MESSAGE_BOUNDARIES.values()}
    for name, (sources, target) in MERGES.items():
        assert isinstance(inner[name], ExclusiveGateway)
        assert {t.bpmn_id for t in inner[name].inputs} == sources
        # a target with boundary events is entered through Spiff's own split
        assert [t.name for t in inner[name].outputs] == [f"{target}.BoundaryEventSplit" if target in hosts else target]
    withdrawn = top["on_withdrawn"]
    assert withdrawn.cancel_activity is True
    assert (withdrawn.event_definition.name, withdrawn.event_definition.variable) == ("withdrawn", "withdrawal")
    assert isinstance(top["case_withdrawn"], EndEvent)


def test_dmn_file_holds_both_decisions():
    parser = SpiffBpmnParser(validator=VALIDATOR)
    root = etree.parse(str(DMN_FILE)).getroot()
    assert add_dmn_decisions(parser, root, str(DMN_FILE)) == ["dispute_register_limit", "dispute_route"]
    assert set(parser.dmn_parsers) == {"dispute_register_limit", "dispute_route"}


def test_every_registration_starts_at_the_level_2_grid():
    """The limit decision's second output: every rule registers at level 3 (the level-2 grid) first."""
    ns = {"dmn": "https://www.omg.org/spec/DMN/20191111/MODEL/"}
    table = etree.parse(str(DMN_FILE)).getroot().find(
        "dmn:decision[@id='dispute_register_limit']/dmn:decisionTable", ns)
    assert [o.get("name") for o in table.findall("dmn:output", ns)] == ["register_remind_after", "register_level"]
    rules = table.findall("dmn:rule", ns)
    assert rules and all(r.findall("dmn:outputEntry/dmn:text", ns)[1].text == "3" for r in rules)


def test_lanes_list_every_node_where_it_is_drawn():
    tree = diagram(BPMN_FILE)
    process = tree.find("bpmn:process", NS)
    lanes = process.findall("bpmn:laneSet/bpmn:lane", NS)
    assert {lane.get("id"): lane.get("name") for lane in lanes} == LANE_NAMES
    membership = {}
    for lane in lanes:
        for ref in lane.findall("bpmn:flowNodeRef", NS):
            assert ref.text not in membership, f"{ref.text} in two lanes"
            membership[ref.text] = lane.get("id")
    assert membership == NODE_LANES
    shapes = {s.get("bpmnElement"): s for s in tree.iter(f"{{{NS['bpmndi']}}}BPMNShape")}
    for node_id, lane_id in NODE_LANES.items():
        x, y, w, h = bounds(shapes[node_id])
        lx, ly, lw, lh = bounds(shapes[lane_id])
        assert lx <= x and x + w <= lx + lw and ly <= y and y + h <= ly + lh, node_id


def test_every_node_and_flow_is_drawn_without_overlaps():
    """Full DI: a shape per node (the table above plus the sub-process), an edge per flow; no two node shapes
    overlap but a boundary event and its host; no flow runs through a shape it does not start or end at."""
    tree = diagram(BPMN_FILE)
    process = tree.find("bpmn:process", NS)
    nodes = {el.get("id"): el for el in process.iter() if el.get("id") in NODE_LANES or el.get("id") == "case_work"}
    flows = {f.get("id"): f for f in process.iter(f"{{{NS['bpmn']}}}sequenceFlow")}
    shapes = {s.get("bpmnElement"): bounds(s) for s in tree.iter(f"{{{NS['bpmndi']}}}BPMNShape")}
    edges = {e.get("bpmnElement"): [(float(p.get("x")), float(p.get("y"))) for p in e.findall("di:waypoint", NS)]
             for e in tree.iter(f"{{{NS['bpmndi']}}}BPMNEdge")}
    assert set(nodes) == set(NODE_LANES) | {"case_work"} and set(nodes) <= set(shapes)
    assert set(edges) == set(flows)
    drawn = {node_id: shapes[node_id] for node_id in NODE_LANES}
    host = {node_id: el.get("attachedToRef") for node_id, el in nodes.items() if el.get("attachedToRef")}

    def overlap(a, b):
        return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]

    for (n1, b1), (n2, b2) in itertools.combinations(drawn.items(), 2):
        if host.get(n1) != n2 and host.get(n2) != n1:
            assert not overlap(b1, b2), (n1, n2)
    for flow_id, flow in flows.items():
        ends = {flow.get("sourceRef"), flow.get("targetRef"), host.get(flow.get("sourceRef"))}
        for (x1, y1), (x2, y2) in itertools.pairwise(edges[flow_id]):
            segment = (min(x1, x2), min(y1, y2), abs(x2 - x1) or 0.01, abs(y2 - y1) or 0.01)
            for node_id, box in drawn.items():
                if node_id not in ends:
                    assert not overlap(segment, box), (flow_id, node_id)


def test_timer_message_and_signal_xml():
    root = diagram(BPMN_FILE)
    process = root.find("bpmn:process", NS)
    boundary = process.find(".//bpmn:boundaryEvent[@id='register_overdue']", NS)
    assert boundary.get("attachedToRef") == "register_case"
    assert boundary.get("cancelActivity") == "false"
    assert boundary.find("bpmn:timerEventDefinition/bpmn:timeDuration", NS).text == "register_remind_after"
    flows = {f.get("sourceRef"): f.get("targetRef") for f in process.iter(f"{{{NS['bpmn']}}}sequenceFlow")}
    for name, (host, message, script, then) in MESSAGE_BOUNDARIES.items():
        event = process.find(f".//bpmn:boundaryEvent[@id='{name}']", NS)
        assert event.get("attachedToRef") == host and event.get("cancelActivity") == "true", name
        definition = event.find("bpmn:messageEventDefinition", NS)
        assert definition.get("messageRef") == message
        assert definition.findtext("bpmn:extensionElements/spiffworkflow:messageVariable", namespaces=NS) == (
            "escalation")
        assert past_merge(flows[name]) == script and past_merge(flows[script]) == then, name
    for name, (sources, target) in MERGES.items():
        incoming = {f.get("sourceRef") for f in process.iter(f"{{{NS['bpmn']}}}sequenceFlow")
                    if f.get("targetRef") == name}
        assert incoming == sources and flows[name] == target, name
    # the climbs come back to the task they left: registration through its merge, the town through its own
    assert flows["decide_register_limit"] == "register_merge"
    assert flows["record_escalation_request_village"] == "town_merge"
    for message in ("escalate_now", "sla_breached"):
        assert root.find(f"bpmn:message[@id='{message}']", NS).get("name") == message
    signal = root.find("bpmn:signal[@id='withdrawn']", NS)
    assert signal.get("name") == "withdrawn"
    assert signal.findtext("bpmn:extensionElements/spiffworkflow:variableName", namespaces=NS) == "withdrawal"
