"""Proves the case types with a front part of their own on SpiffWorkflow 3.2.0: 两违 illegal construction
(bpmn/illegal_construction/), 公共卫生 public health (bpmn/public_health/) and, for what they share, 矛盾纠纷 dispute
(bpmn/dispute/, whose own paths are in test_dispute_bpmn.py). Each type is parsed with all of bpmn/shared/ (the
closed loop it calls) and driven through engine.process.specs and engine.process.runner as the host drives them.

Every scenario runs twice: in memory, and with runner.dump/runner.restore before every step.
"""
import pytest

from engine.errors import ConflictError
from engine.process import runner, specs
from tests.workflow.harness import (
    REGISTER,
    VERIFY,
    Case,
    co_handling,
    dispatching,
    events,
    handling,
    in_lanes,
    read_files,
)

PROCESSES = {"illegal_construction": "illegal_construction", "public_health": "public_health", "dispute": "dispute"}


# Lanes of every human task, the closed loop's included
LOOP_LANES = {"dispatch_case": "指挥中心", "handle_case": "主办部门", "co_handle": "协办部门",
              "approve_extension": "指挥中心", "approve_suspension": "指挥中心", "resume_case": "指挥中心",
              "review_escalation": "上级督办", "verify_on_site": "上报网格员", "follow_up": "网格长"}
LANE_OF_TASK = {
    "illegal_construction": {**LOOP_LANES, "register_case": "网格长", "inspect_site": "城管执法中队",
                             "issue_stop_work_order": "城管执法中队", "impose_penalty": "执法部门"},
    "public_health": {**LOOP_LANES, "register_case": "网格长", "triage": "村医", "cdc_response": "疾控中心"},
    "dispute": {**LOOP_LANES, "register_case": "网格长", "mediate_at_grid": "网格长", "mediate_at_village": "村调委会",
                "mediate_at_town": "镇司法所"},
}

START = {"severity": "medium", "reporter": "wang_gridworker", "subcategory": ""}
REGISTRATION = {"reason": "情况属实", "duplicate_of": ""}
DISPUTE_REGISTRATION = {"risk": "low", "violence": False, **REGISTRATION}  # a dispute's form asks for more
WITHDRAWAL = {"reason": "问题已自行解决", "by": "wang_gridworker"}


@pytest.fixture(scope="module")
def parsed():
    return {case_type: specs.parse(process_id, read_files(case_type, "shared"))
            for case_type, process_id in PROCESSES.items()}


@pytest.fixture
def new_case(parsed, roundtrip):
    def make(case_type, **data):
        return Case(parsed[case_type], {**START, "case_type": case_type, **data}, roundtrip,
                    check=in_lanes(LANE_OF_TASK[case_type]),
                    registration=DISPUTE_REGISTRATION if case_type == "dispute" else REGISTRATION)

    return make


INSPECT = ("inspect_site", "liaison", "urban_management", None, "inspecting")
STOP_WORK = ("issue_stop_work_order", "liaison", "urban_management", None, "stop_work")
TRIAGE = ("triage", "liaison", "health", None, "triage")
CDC = ("cdc_response", "liaison", "cdc", None, "handling")


def penalty(department):
    return ("impose_penalty", "liaison", department, None, "penalty")


# ---------------------------------------------------------------------------------------------
# 两违 illegal construction
# ---------------------------------------------------------------------------------------------

def _to_penalty(case, subcategory):
    case.register(subcategory=subcategory)
    assert case.ready == [INSPECT]
    case.complete("inspect_site", confirmed=True, area_m2=180, note="现场确认新建砖混结构两层")
    assert case.ready == [STOP_WORK]
    step = case.complete("issue_stop_work_order", order_no="南城管停字〔2024〕017号", note="已当场送达并张贴")
    assert step.happened == []


def test_illegal_construction_on_farmland(new_case):
    case = new_case("illegal_construction")
    assert case.ready == [REGISTER]
    _to_penalty(case, "farmland")

    # the authority DMN: building on farmland is for natural resources
    assert case.ready == [penalty("natural_resources")]
    assert case.data_of("impose_penalty")["authority"] == "natural_resources"
    case.complete("impose_penalty", decision_no="南自然资罚〔2024〕12号", fine_yuan=9000, note="责令限期拆除")

    # the closed loop's dispatch and handling are the demolition stage; urban management co-handles
    assert case.ready == [dispatching(1)]
    routed = case.data_of("dispatch_case")
    assert (routed["lead_department"], routed["co_departments"]) == ("natural_resources", ["urban_management"])
    assert routed["subcategory"] == "farmland"
    case.dispatch("natural_resources", ["urban_management"])
    assert case.ready == [co_handling("urban_management"), handling("natural_resources")]
    case.handle(result="违建已拆除，复耕完成")
    case.co_handle("urban_management", result="配合强制拆除")

    step = case.finish()
    assert events(step) == [{"task": "case_closed", "outcome": "closed"}]
    assert case.happened == step.happened
    data = runner.data(case.workflow)
    assert (data["order_no"], data["decision_no"], data["fine_yuan"]) == ("南城管停字〔2024〕017号",
                                                                          "南自然资罚〔2024〕12号", 9000)


@pytest.mark.parametrize("subcategory,authority,co", [
    ("farmland", "natural_resources", ["urban_management"]),
    ("", "urban_management", ["natural_resources"]),
    ("rooftop", "urban_management", ["natural_resources"]),
])
def test_illegal_construction_authority(new_case, subcategory, authority, co):
    case = new_case("illegal_construction", subcategory=subcategory)
    _to_penalty(case, subcategory)
    assert case.ready == [penalty(authority)]
    case.complete("impose_penalty", decision_no="罚字001号", fine_yuan=5000, note="")
    routed = case.data_of("dispatch_case")
    assert (routed["lead_department"], routed["co_departments"]) == (authority, co)


def test_illegal_construction_not_founded(new_case):
    case = new_case("illegal_construction")
    case.register()
    step = case.complete("inspect_site", confirmed=False, area_m2=0, note="现场为临时堆放，无违法建设")
    assert step.completed and step.outcome == "invalid" and step.ready == []
    assert events(step) == [{"task": "case_unfounded", "outcome": "invalid", "timeline": "unfounded",
                             "reason": "现场为临时堆放，无违法建设"}]
    assert case.workflow.waiting_events() == []


# ---------------------------------------------------------------------------------------------
# 公共卫生 public health
# ---------------------------------------------------------------------------------------------

def triage(case, cluster=False, fever=False, food_related=False):
    return case.complete("triage", cluster=cluster, fever=fever, food_related=food_related,
                         assessment="村医入户研判")


def test_public_health_food_related_is_co_handled_by_market_supervision(new_case):
    case = new_case("public_health")
    case.register()
    assert case.ready == [TRIAGE]
    step = triage(case, food_related=True)
    assert step.happened == []

    assert case.ready == [dispatching(1)]
    routed = case.data_of("dispatch_case")
    assert routed["subcategory"] == "food"
    assert (routed["lead_department"], routed["co_departments"]) == ("health", ["market"])
    case.dispatch("health", ["market"])
    assert case.ready == [co_handling("market"), handling("health")]
    case.co_handle("market", result="已封存可疑食品并抽检")
    case.handle(result="病人已送医，症状缓解")
    case.finish()
    assert "cdc_response" not in [h["task"] for h in case.happened]


def test_public_health_plain_case_goes_through_the_loop(new_case):
    case = new_case("public_health", subcategory="sanitation")
    case.register()
    triage(case)
    assert case.ready == [dispatching(1)]
    routed = case.data_of("dispatch_case")
    assert (routed["subcategory"], routed["lead_department"], routed["co_departments"]) == ("sanitation", "health", [])
    case.dispatch("health")
    assert case.ready == [handling("health")]
    case.handle()
    case.finish()


@pytest.mark.parametrize("cluster,fever", [(True, False), (False, True), (True, True)])
def test_public_health_cluster_or_fever_calls_the_cdc_alongside_the_loop(new_case, cluster, fever):
    case = new_case("public_health")
    case.register()
    triage(case, cluster=cluster, fever=fever)
    assert case.ready == [CDC, dispatching(1)]
    assert case.task("cdc_response").lane == "疾控中心"

    case.complete("cdc_response", result="已流调采样，密接居家观察")
    assert case.ready == [dispatching(1)]
    case.dispatch("health")
    case.handle()
    case.finish()


def test_public_health_case_closes_when_the_cdc_reports_after_the_loop(new_case):
    case = new_case("public_health")
    case.register()
    triage(case, cluster=True, food_related=True)
    assert case.ready == [CDC, dispatching(1)]
    case.dispatch("health", ["market"])
    assert case.ready == [CDC, co_handling("market"), handling("health")]
    case.handle()
    case.co_handle("market")
    case.verify()
    step = case.follow_up()
    assert not step.completed and case.ready == [CDC]  # the loop closed; the case waits for the CDC

    step = case.complete("cdc_response", result="疫情已控制")
    assert step.completed and step.outcome == "closed" and step.ready == []
    assert events(step) == [{"task": "joint_work_done", "outcome": "closed"}]


# ---------------------------------------------------------------------------------------------
# Shared by the three types: registration and withdrawal
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("case_type", list(PROCESSES))
@pytest.mark.parametrize("decision,outcome,end", [("invalid", "invalid", "case_invalid"),
                                                  ("duplicate", "duplicate", "case_duplicate")])
def test_registration_can_end_the_case(new_case, case_type, decision, outcome, end):
    case = new_case(case_type)
    assert case.ready == [REGISTER]
    step = case.register(decision, reason="不属于受理范围", duplicate_of="NA-2024-000123")
    assert step.completed and step.outcome == outcome and step.ready == []
    assert events(step) == [{"task": end, "outcome": outcome}]
    assert case.workflow.waiting_events() == []


def _registration(case):
    assert case.ready == [REGISTER]


def _middle(case):
    if case.spec.process_id == "illegal_construction":
        _to_penalty(case, "farmland")
        assert case.ready == [penalty("natural_resources")]
    elif case.spec.process_id == "public_health":
        case.register()
        triage(case, cluster=True, food_related=True)
        case.dispatch("health", ["market"])
        assert case.ready == [CDC, co_handling("market"), handling("health")]
    else:
        case.register(risk="low")
        case.complete("mediate_at_grid", resolved=False, outcome="双方分歧较大")
        assert [t[0] for t in case.ready] == ["mediate_at_village"]


def _verification(case):
    if case.spec.process_id == "illegal_construction":
        _to_penalty(case, "")
        case.complete("impose_penalty", decision_no="罚字002号", fine_yuan=3000, note="")
        case.dispatch("urban_management")
        case.handle()
    elif case.spec.process_id == "public_health":
        case.register()
        triage(case)
        case.dispatch("health")
        case.handle()
    else:
        case.register(risk="high")
        case.complete("mediate_at_village", resolved=True, outcome="达成调解协议")
    assert case.ready == [VERIFY]


@pytest.mark.parametrize("case_type", list(PROCESSES))
@pytest.mark.parametrize("reach", [_registration, _middle, _verification],
                         ids=["registration", "middle", "verification"])
def test_withdrawal_at_any_stage(new_case, case_type, reach):
    case = new_case(case_type)
    reach(case)
    open_tasks = list(case.step.ready)
    step = case.signal("withdrawn", WITHDRAWAL)
    assert step.completed and step.outcome == "withdrawn" and step.ready == []
    assert events(step) == [{"task": "case_withdrawn", "outcome": "withdrawn", "timeline": "withdrawn",
                             "reason": WITHDRAWAL["reason"]}]
    assert case.workflow.waiting_events() == []
    for task in open_tasks:  # every task that was open is gone
        with pytest.raises(ConflictError):
            case.complete(task.name, task=task)
    with pytest.raises(ConflictError):
        case.signal("withdrawn", WITHDRAWAL)


# ---------------------------------------------------------------------------------------------
# Parsed specs: properties and decisions
# ---------------------------------------------------------------------------------------------

USER_TASK_PROPERTIES = {
    "illegal_construction": {
        "register_case": {"role": "grid_leader", "scope_level": "3", "stage": "registering"},
        "inspect_site": {"role": "liaison", "department": "urban_management", "stage": "inspecting"},
        "issue_stop_work_order": {"role": "liaison", "department": "urban_management", "stage": "stop_work"},
        "impose_penalty": {"role": "liaison", "department_var": "authority", "stage": "penalty"},
    },
    "public_health": {
        "register_case": {"role": "grid_leader", "scope_level": "3", "stage": "registering"},
        "triage": {"role": "liaison", "department": "health", "stage": "triage"},
        "cdc_response": {"role": "liaison", "department": "cdc", "stage": "handling"},
    },
}
CALL_ACTIVITIES = {
    "illegal_construction": {"run_closed_loop"},
    "public_health": {"run_closed_loop", "run_closed_loop_urgent"},
    "dispute": {"run_closed_loop_police"},
}
COMMON_PROPERTIES = {
    "case_withdrawn": {"outcome": "withdrawn", "timeline": "withdrawn", "reason_var": "withdrawal.reason"},
    "case_invalid": {"outcome": "invalid"},
    "case_duplicate": {"outcome": "duplicate"},
}


def _all_task_specs(spec):
    found = dict(spec.spec.task_specs)
    found.update(spec.subprocess_specs["case_work"].task_specs)
    return found


@pytest.mark.parametrize("case_type", list(PROCESSES))
def test_specs_carry_the_contract(parsed, case_type):
    spec = parsed[case_type]
    assert {"case_work", "closed_loop", "escalate"} <= set(spec.subprocess_specs)
    task_specs = _all_task_specs(spec)
    for name, props in {**USER_TASK_PROPERTIES.get(case_type, {}), **COMMON_PROPERTIES}.items():
        assert task_specs[name].extensions["properties"] == props, name
    for name in CALL_ACTIVITIES[case_type]:
        assert task_specs[name].spec == "closed_loop"
    withdrawn = task_specs["on_withdrawn"]
    assert withdrawn.cancel_activity and withdrawn.event_definition.name == "withdrawn"
    assert withdrawn.event_definition.variable == "withdrawal"


def test_illegal_construction_authority_decision(parsed):
    decide = _all_task_specs(parsed["illegal_construction"])["decide_authority"]
    assert decide.extensions["calledDecisionId"] == "illegal_construction_authority"
    assert decide.dmnEngine.decision_table.id == "illegal_construction_authority_table"


def test_public_health_classifies_food_cases(parsed):
    classify = _all_task_specs(parsed["public_health"])["classify"]
    assert classify.script == 'subcategory = "food" if food_related else subcategory'
    assert classify.extensions.get("properties", {}) == {}
