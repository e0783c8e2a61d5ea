"""Proves bpmn/general/general_case.bpmn with the shared closed loop (bpmn/shared/: closed_loop.bpmn, escalate.bpmn,
routing.dmn) on SpiffWorkflow 3.2.0, driven through
engine.process.specs and engine.process.runner as the host drives them.

Every scenario runs twice: in memory, and with runner.dump/runner.restore before every step.
"""
import pytest
from lxml import etree

from engine.errors import ConflictError
from engine.process import runner, specs
from tests.workflow.harness import (
    FOLLOW_UP,
    NS,
    REGISTER,
    VERIFY,
    Case,
    co_handling,
    diagram,
    dispatching,
    events,
    handling,
    in_lanes,
    read_files,
)

FILES = read_files("general", "shared")
DIAGRAMS = {
    "general/general_case.bpmn": "general_case",
    "shared/closed_loop.bpmn": "closed_loop",
    "shared/escalate.bpmn": "escalate",
}

# SpiffWorkflow names the instances of a multi-instance task "<id> [child]"; the runner passes that name through.
CO_HANDLE = "co_handle"

LANE_OF_TASK = {
    "register_case": "网格长",
    "dispatch_case": "指挥中心",
    "handle_case": "主办部门",
    CO_HANDLE: "协办部门",
    "approve_extension": "指挥中心",
    "approve_suspension": "指挥中心",
    "resume_case": "指挥中心",
    "review_escalation": "上级督办",
    "verify_on_site": "上报网格员",
    "follow_up": "网格长",
}

START = {"case_type": "work_safety", "severity": "low", "reporter": "wang_gridworker", "subcategory": ""}
REGISTRATION = {"reason": "属实", "duplicate_of": "", "subcategory": ""}
PAYLOAD = {"reason": "群众反映久拖未办", "by": "town_supervisor"}


@pytest.fixture(scope="module")
def spec():
    return specs.parse("general_case", FILES)


def general_case(spec, roundtrip=False, **data):
    """A general case started with START and `data`, its READY tasks checked against their lanes."""
    return Case(spec, {**START, **data}, roundtrip, check=in_lanes(LANE_OF_TASK), registration=REGISTRATION)


@pytest.fixture
def new_case(spec, roundtrip):
    def make(**data):
        return general_case(spec, roundtrip, **data)

    return make


# ---------------------------------------------------------------------------------------------
# Paths
# ---------------------------------------------------------------------------------------------

def test_happy_path_work_safety_without_co_departments(new_case):
    case = new_case(case_type="work_safety", severity="low")
    assert case.ready == [REGISTER]
    assert case.happened == []

    step = case.register()
    assert case.ready == [dispatching(1)]
    routed = case.data_of("dispatch_case")
    assert (routed["lead_department"], routed["co_departments"]) == ("work_safety", [])
    assert (routed["dispatch_level"], routed["escalation_level"], routed["extension_requests"]) == (1, 1, 0)
    assert step.happened == []

    # An empty co_departments list: the multi-instance has no instances and the lead alone finishes handling.
    case.dispatch("work_safety", [])
    assert case.ready == [handling("work_safety")]
    case.handle("feedback", result="隐患已消除")
    assert case.ready == [VERIFY]
    assert case.task("verify_on_site").properties["assign"] == "reporter"
    case.verify(passed=True)
    assert case.ready == [FOLLOW_UP]
    step = case.follow_up(satisfied=True)

    assert step.completed and step.outcome == "closed" and step.ready == []
    assert events(step) == [{"task": "case_closed", "outcome": "closed"}]
    assert case.happened == step.happened
    assert runner.data(case.workflow)["result"] == "隐患已消除"


@pytest.mark.parametrize("decision,outcome,end", [("invalid", "invalid", "case_invalid"),
                                                  ("duplicate", "duplicate", "case_duplicate")])
def test_registration_can_end_the_case(new_case, decision, outcome, end):
    case = new_case(case_type="environment")
    step = case.register(decision, reason="不属于受理范围", duplicate_of="GF-2024-000123")
    assert step.completed and step.outcome == outcome and step.ready == []
    assert events(step) == [{"task": end, "outcome": outcome}]


def test_co_handling_waits_for_every_department(new_case):
    case = new_case(case_type="rental_housing")
    case.register()
    routed = case.data_of("dispatch_case")
    assert (routed["lead_department"], routed["co_departments"]) == ("police", ["market"])

    case.dispatch("police", ["market"])
    assert case.ready == [co_handling("market"), handling("police")]

    case.handle("feedback", result="已查处群租")  # the lead reports first: the case waits for the co-department
    assert case.ready == [co_handling("market")]
    case.co_handle("market", result="已核查营业执照")
    assert case.ready == [VERIFY]

    case.finish()
    data = runner.data(case.workflow)
    assert data["result"] == "已查处群租"  # the lead's result is not overwritten by the co-department's
    assert data["co_reports"] == [{"department": "market", "result": "已核查营业执照"}]
    assert "co_department" not in data


def test_co_departments_first_then_the_lead(new_case):
    case = new_case(case_type="rental_housing")
    case.register()
    case.dispatch("police", ["market", "health"])
    assert case.ready == [co_handling("health"), co_handling("market"), handling("police")]
    case.co_handle("health")
    assert case.ready == [co_handling("market"), handling("police")]
    case.co_handle("market")
    assert case.ready == [handling("police")]
    case.handle("feedback")
    assert case.ready == [VERIFY]


def test_return_cancels_handling_and_goes_back_to_dispatch(new_case):
    case = new_case(case_type="rental_housing")
    case.register()
    case.dispatch("police", ["market"])
    co_task = case.task(CO_HANDLE)

    step = case.handle("return", reason="不属于本部门职责")
    assert events(step) == [{"task": "record_return", "timeline": "returned", "counter": "returns",
                             "reason": "不属于本部门职责"}]
    assert case.ready == [dispatching(1)]  # the co-department's task is gone with the handling sub-process
    with pytest.raises(ConflictError):
        case.complete(CO_HANDLE, task=co_task, result="迟到的反馈")

    case.dispatch("market", [])  # re-dispatched elsewhere
    assert case.ready == [handling("market")]
    case.handle("feedback")
    case.finish()


def test_extension_first_at_town_then_at_city(new_case):
    case = new_case(case_type="environment")
    case.register()
    case.dispatch("environment")

    case.handle("extend", reason="需等待检测报告", extra_days=5)
    assert case.ready == [("approve_extension", "supervisor", None, 1, "extension_review")]
    step = case.complete("approve_extension", approved=True, reason="同意延期5天")
    assert events(step) == [{"task": "grant_extension", "timeline": "extended", "counter": "extensions",
                             "reason": "同意延期5天", "extension": 5}]
    assert case.ready == [handling("environment")]
    assert case.data_of("handle_case")["extension_days"] == 5

    case.handle("extend", reason="检测仍未完成", extra_days=10)
    assert case.ready == [("approve_extension", "supervisor", None, 0, "extension_review")]
    step = case.complete("approve_extension", approved=False, reason="已延期一次，不再延期")
    assert events(step) == [{"task": "deny_extension", "timeline": "extension_denied",
                             "reason": "已延期一次，不再延期"}]
    assert case.ready == [handling("environment")]
    assert case.data_of("handle_case")["extension_requests"] == 2

    case.handle("feedback")
    case.finish()


def test_suspension_approved_then_resumed(new_case):
    case = new_case(case_type="floating_population")
    case.register()
    case.dispatch("police")

    case.handle("suspend", reason="当事人外出务工")
    assert case.ready == [("approve_suspension", "supervisor", None, 1, "suspension_review")]
    step = case.complete("approve_suspension", approved=True, reason="同意挂起")
    assert events(step) == [{"task": "suspend", "timeline": "suspended", "reason": "同意挂起"}]
    assert case.ready == [("resume_case", "supervisor", None, 1, "suspended")]

    step = case.complete("resume_case", note="当事人已返回")
    assert events(step) == [{"task": "resume", "timeline": "resumed"}]
    assert case.ready == [handling("police")]
    case.handle("feedback")
    case.finish()


def test_suspension_denied(new_case):
    case = new_case(case_type="floating_population")
    case.register()
    case.dispatch("police")
    case.handle("suspend", reason="人手不足")
    step = case.complete("approve_suspension", approved=False, reason="理由不充分")
    assert events(step) == [{"task": "deny_suspension", "timeline": "suspension_denied", "reason": "理由不充分"}]
    assert case.ready == [handling("police")]
    case.handle("feedback")
    case.finish()


def _to_registration(case):
    assert case.ready == [REGISTER]


def _to_handling(case):
    case.register()
    case.dispatch("police", ["market"])
    assert case.ready == [co_handling("market"), handling("police")]


def _to_verification(case):
    case.register()
    case.dispatch("police")
    case.handle("feedback")
    assert case.ready == [VERIFY]


@pytest.mark.parametrize("reach", [_to_registration, _to_handling, _to_verification],
                         ids=["registration", "handling", "verification"])
def test_withdrawal_by_signal(new_case, reach):
    case = new_case(case_type="rental_housing")
    reach(case)
    step = case.signal("withdrawn", {"reason": "问题已自行解决", "by": "resident"})
    assert step.completed and step.outcome == "withdrawn" and step.ready == []
    assert events(step) == [{"task": "case_withdrawn", "outcome": "withdrawn", "timeline": "withdrawn",
                             "reason": "问题已自行解决"}]
    assert case.workflow.waiting_events() == []
    with pytest.raises(ConflictError):
        case.message("escalate_now", PAYLOAD)


@pytest.mark.parametrize("message,payload", [
    ("escalate_now", PAYLOAD),
    ("sla_breached", {"reason": "超过办理时限", "by": "system", "deadline": "2024-05-03T08:00:00+00:00"}),
])
def test_escalation_during_handling(new_case, message, payload):
    case = new_case(case_type="rental_housing")
    case.register()
    assert case.data_of("dispatch_case")["escalation_level"] == 1
    case.dispatch("police", ["market"])

    step = case.message(message, payload)
    assert events(step) == [{"task": "move_up", "timeline": "escalation_requested", "reason": payload["reason"],
                             "counter": "escalations"}]
    assert case.ready == [("review_escalation", "supervisor", None, 0, "escalated")]
    review = case.data_of("review_escalation")
    assert (review["escalation_level"], review["escalation"]) == (0, payload)

    case.complete("review_escalation", instruction="由市级指挥中心重新派遣")
    assert case.ready == [dispatching(0)]

    # Never above the city: a second escalation stays at level 0.
    case.dispatch("police", [])
    case.message(message, payload)
    assert case.ready == [("review_escalation", "supervisor", None, 0, "escalated")]
    case.complete("review_escalation", instruction="限期办结")
    case.dispatch("police", [])
    case.handle("feedback")
    case.finish()


def test_escalation_outside_handling_is_a_conflict(new_case):
    case = new_case()
    with pytest.raises(ConflictError):
        case.message("escalate_now", PAYLOAD)
    assert case.ready == [REGISTER]


def test_failed_verification_reworks_with_the_same_departments(new_case):
    case = new_case(case_type="rental_housing")
    case.register()
    case.dispatch("police", ["market"])
    case.handle("feedback")
    case.co_handle("market")

    step = case.verify(passed=False, note="群租仍未清理")
    assert events(step) == [{"task": "record_rework", "timeline": "reworked", "counter": "reworks",
                             "reason": "群租仍未清理"}]
    assert case.ready == [co_handling("market"), handling("police")]  # no new dispatch

    case.handle("feedback")
    case.co_handle("market")
    case.finish()


def test_dissatisfied_follow_up_goes_back_to_handling(new_case):
    case = new_case(case_type="petition")
    case.register()
    case.dispatch("petitions")
    case.handle("feedback")
    case.verify(passed=True)
    step = case.follow_up(satisfied=False, note="答复不到位")
    assert events(step) == [{"task": "record_dissatisfied", "timeline": "dissatisfied", "counter": "dissatisfied",
                             "reason": "答复不到位"}]
    assert case.ready == [handling("petitions")]
    case.handle("feedback")
    case.finish()


# ---------------------------------------------------------------------------------------------
# Routing table
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("case_type,subcategory,severity,lead,co", [
    ("illegal_construction", "farmland", "low", "natural_resources", ["urban_management"]),
    ("illegal_construction", "", "high", "urban_management", ["natural_resources"]),
    ("public_health", "food", "low", "health", ["market"]),
    ("public_health", "", "low", "health", []),
    ("dispute", "", "low", "judicial", ["police"]),
    ("work_safety", "", "high", "work_safety", ["police"]),
    ("work_safety", "", "medium", "work_safety", []),
    ("environment", "", "high", "environment", []),
    ("rental_housing", "", "low", "police", ["market"]),
    ("floating_population", "", "low", "police", []),
    ("petition", "", "low", "petitions", ["judicial"]),
    ("something_else", "", "low", "urban_management", []),
])
def test_route_department(spec, case_type, subcategory, severity, lead, co):
    case = general_case(spec, case_type=case_type, severity=severity)
    case.register(subcategory=subcategory)
    routed = case.data_of("dispatch_case")
    assert (routed["lead_department"], routed["co_departments"]) == (lead, co)
    assert (routed["dispatch_level"], routed["escalation_level"]) == (1, 1)


def test_routing_dmn_has_one_decision_with_first_hit_policy():
    root = etree.fromstring(FILES["shared/routing.dmn"].encode())
    ns = {"dmn": "https://www.omg.org/spec/DMN/20191111/MODEL/"}
    [decision] = root.findall("dmn:decision", ns)
    assert decision.get("id") == "route_department"
    table = decision.find("dmn:decisionTable", ns)
    assert table.get("hitPolicy") == "FIRST"
    assert [i.findtext("dmn:inputExpression/dmn:text", namespaces=ns) for i in table.findall("dmn:input", ns)] == [
        "case_type", "subcategory", "severity"]
    assert [o.get("name") for o in table.findall("dmn:output", ns)] == [
        "lead_department", "co_departments", "dispatch_level", "escalation_level"]
    assert len(table.findall("dmn:rule", ns)) == 13


def test_completing_a_task_of_a_cancelled_sub_process_is_a_conflict(spec):
    case = general_case(spec, case_type="rental_housing")
    case.register()
    case.dispatch("police", ["market"])
    co_task = case.task(CO_HANDLE)
    case.handle("return", reason="不属于本部门职责")
    with pytest.raises(ConflictError):
        case.complete(CO_HANDLE, task=co_task, result="迟到的反馈")


def test_runner_resolves_scope_var_into_scope_level(spec):
    case = general_case(spec)
    case.register()
    assert case.task("dispatch_case").properties.get("scope_level") == 1


# ---------------------------------------------------------------------------------------------
# Diagrams (the conventions every diagram keeps are in test_diagrams.py)
# ---------------------------------------------------------------------------------------------


def test_the_folders_hold_the_expected_files():
    assert set(DIAGRAMS) | {"shared/routing.dmn"} <= set(FILES)


def test_events_and_call_activities_xml():
    loop = diagram("shared/closed_loop.bpmn")
    error = loop.find("bpmn:error[@id='returned']", NS)
    assert error.get("name") == "returned"
    returned = loop.find(".//bpmn:endEvent[@id='handling_returned']/bpmn:errorEventDefinition", NS)
    assert returned.get("errorRef") == "returned"
    on_returned = loop.find(".//bpmn:boundaryEvent[@id='on_returned']", NS)
    assert on_returned.get("attachedToRef") == "handling" and on_returned.get("cancelActivity") is None
    for boundary, message in (("on_escalate_now", "escalate_now"), ("on_sla_breached", "sla_breached")):
        event = loop.find(f".//bpmn:boundaryEvent[@id='{boundary}']", NS)
        assert event.get("attachedToRef") == "handling" and event.get("cancelActivity") is None
        definition = event.find("bpmn:messageEventDefinition", NS)
        assert definition.get("messageRef") == message
        assert definition.findtext(".//spiffworkflow:messageVariable", namespaces=NS) == "escalation"
    call = loop.find(".//bpmn:callActivity[@id='escalate_case']", NS)
    assert call.get("calledElement") == "escalate"
    mi = loop.find(".//bpmn:userTask[@id='co_handle']/bpmn:multiInstanceLoopCharacteristics", NS)
    assert mi.get("isSequential") == "false"
    assert mi.findtext("bpmn:loopDataInputRef", namespaces=NS) == "co_departments"
    assert mi.find("bpmn:inputDataItem", NS).get("id") == "co_department"

    general = diagram("general/general_case.bpmn")
    signal = general.find("bpmn:signal[@id='withdrawn']", NS)
    assert signal.findtext(".//spiffworkflow:variableName", namespaces=NS) == "withdrawal"
    on_withdrawn = general.find(".//bpmn:boundaryEvent[@id='on_withdrawn']", NS)
    assert on_withdrawn.get("attachedToRef") == "case_work"
    assert on_withdrawn.find("bpmn:signalEventDefinition", NS).get("signalRef") == "withdrawn"
    call = general.find(".//bpmn:callActivity[@id='run_closed_loop']", NS)
    assert call.get("calledElement") == "closed_loop"


def test_every_process_parses_on_its_own_with_the_shared_files():
    shared = {k: v for k, v in FILES.items() if k.startswith("shared/")}
    assert specs.parse("closed_loop", shared).subprocess_specs.keys() == {"handling", "escalate"}
    assert specs.parse("escalate", shared).subprocess_specs == {}
    assert set(specs.parse("general_case", FILES).subprocess_specs) == {"case_work", "closed_loop", "handling",
                                                                      "escalate"}
