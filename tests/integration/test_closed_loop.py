"""Every path of the shared closed loop through the service layer, on the general case types.

Users are the small demo's: `worker` reports in a Luncang unit grid, `leader` registers and follows up,
`supervisor` dispatches and approves for the town, `city_supervisor` for the city, and each department's
liaison is named after its code (`350583106_work_safety`).
"""
import pytest
from sqlalchemy import select

from engine.cases import services
from engine.errors import ConflictError, PermissionDenied
from engine.store.model import Case, Department, Grid, Task, TimelineEvent
from tests.helpers import user_id

LIAISON = "350583106_{}".format


class Walk:
    """One case, driven step by step as the people in the loop would."""

    def __init__(self, deps, case_type="work_safety", severity="medium", subcategory=""):
        self.deps = deps
        self.id = services.file_case(deps, user_id(deps, "worker"), services.NewCase(
            type=case_type, title="隐患上报", severity=severity, subcategory=subcategory))

    def open_tasks(self) -> list[Task]:
        with self.deps.uow() as uow:
            return list(uow.session.scalars(select(Task).where(
                Task.case_id == self.id, Task.status.in_(("open", "claimed"))).order_by(Task.created_at, Task.id)))

    def names(self) -> list[str]:
        return sorted(t.name for t in self.open_tasks())

    def task(self, name: str, department: str | None = None) -> Task:
        found = [t for t in self.open_tasks() if t.name == name
                 and (department is None or self.department_of(t) == department)]
        assert len(found) == 1, (name, department, self.names())
        return found[0]

    def do(self, name: str, who: str, data: dict, department: str | None = None) -> "Walk":
        services.complete_task(self.deps, user_id(self.deps, who), self.task(name, department).id, data)
        return self

    def department_of(self, task: Task) -> str | None:
        with self.deps.uow() as uow:
            return uow.session.scalar(select(Department.kind).where(Department.id == task.department_id))

    def grid_level_of(self, task: Task) -> int:
        with self.deps.uow() as uow:
            return uow.session.scalar(select(Grid.level).where(Grid.id == task.grid_id))

    def case(self) -> Case:
        with self.deps.uow() as uow:
            return uow.session.get(Case, self.id)

    def events(self, kind: str | None = None) -> list[TimelineEvent]:
        with self.deps.uow() as uow:
            query = select(TimelineEvent).where(TimelineEvent.case_id == self.id).order_by(TimelineEvent.seq)
            return [e for e in uow.session.scalars(query) if kind is None or e.kind == kind]

    # the common steps
    def register(self, decision="valid", **extra):
        return self.do("register_case", "leader", {"decision": decision, **extra})

    def dispatch(self, lead, co=(), who="supervisor"):
        return self.do("dispatch_case", who, {"lead_department": lead, "co_departments": list(co)})

    def handle(self, lead, action="feedback", **extra):
        data = {"action": action, **({"result": "已整改到位"} if action == "feedback" else {}), **extra}
        return self.do("handle_case", LIAISON(lead), data)

    def verify(self, passed=True, note="现场已整改"):
        return self.do("verify_on_site", "worker", {"passed": passed, "note": note})

    def follow_up(self, satisfied=True, note="群众满意"):
        return self.do("follow_up", "leader", {"satisfied": satisfied, "note": note})


def test_the_happy_path_dispatches_handles_verifies_follows_up_and_closes(deps):
    walk = Walk(deps).register()
    dispatch = walk.task("dispatch_case")
    assert walk.grid_level_of(dispatch) == 1 and dispatch.candidate_role == "supervisor"
    assert walk.case().status == "dispatching"
    walk.dispatch("work_safety")
    handle = walk.task("handle_case")
    assert walk.department_of(handle) == "work_safety" and walk.case().status == "handling"
    walk.handle("work_safety").verify().follow_up()
    case = walk.case()
    assert (case.status, case.outcome) == ("closed", "closed")
    assert [e.actor for e in walk.events("completed")] == [
        "leader", "supervisor", LIAISON("work_safety"), "worker", "leader"]


@pytest.mark.parametrize("decision, extra, status", [
    ("invalid", {"reason": "不属于本网格事项"}, "invalid"),
    ("duplicate", {"reason": "已有同一隐患", "duplicate_of": "the first report"}, "duplicate"),
])
def test_an_invalid_or_duplicate_report_ends_at_registration_with_its_reason(deps, decision, extra, status):
    if "duplicate_of" in extra:
        extra = {**extra, "duplicate_of": Walk(deps).case().number}
    walk = Walk(deps).register(decision, **extra)
    assert walk.case().status == status and walk.names() == []
    assert walk.events("completed")[0].reason == extra["reason"]


def test_co_handling_departments_work_in_parallel_and_the_case_waits_for_all(deps):
    walk = Walk(deps, "rental_housing").register().dispatch("police", ["market"])
    assert sorted((t.name, walk.department_of(t)) for t in walk.open_tasks()) == [
        ("co_handle", "market"), ("handle_case", "police")]
    walk.handle("police")
    assert walk.names() == ["co_handle"]
    walk.do("co_handle", LIAISON("market"), {"result": "已核查经营证照"})
    assert walk.names() == ["verify_on_site"]


def test_a_return_cancels_the_co_handlers_goes_back_to_dispatch_and_is_counted(deps):
    walk = Walk(deps, "rental_housing").register().dispatch("police", ["market"])
    walk.handle("police", "return", reason="不属于派出所职责")
    assert walk.names() == ["dispatch_case"] and walk.case().returns == 1
    assert walk.events("returned")[0].reason == "不属于派出所职责"
    walk.dispatch("urban_management")
    assert walk.department_of(walk.task("handle_case")) == "urban_management"


def test_an_extension_is_approved_by_the_town_then_a_second_goes_to_the_city(deps):
    walk = Walk(deps).register().dispatch("work_safety")
    walk.handle("work_safety", "extend", reason="需要专业检测", extra_days=5)
    first = walk.task("approve_extension")
    assert walk.grid_level_of(first) == 1
    walk.do("approve_extension", "supervisor", {"approved": True})
    assert walk.case().extensions == 1 and walk.names() == ["handle_case"]
    walk.handle("work_safety", "extend", reason="检测机构排期", extra_days=3)
    second = walk.task("approve_extension")
    assert walk.grid_level_of(second) == 0
    with pytest.raises(PermissionDenied):
        services.complete_task(deps, user_id(deps, "supervisor"), second.id, {"approved": True})
    walk.do("approve_extension", "city_supervisor", {"approved": False, "reason": "期限已足够"})
    assert walk.case().extensions == 1 and walk.names() == ["handle_case"]
    assert [e.kind for e in walk.events() if e.kind.startswith("extension") or e.kind == "extended"] == [
        "extended", "extension_denied"]


def test_a_suspension_is_approved_waits_and_resumes(deps):
    walk = Walk(deps).register().dispatch("work_safety")
    walk.handle("work_safety", "suspend", reason="企业停产")
    walk.do("approve_suspension", "supervisor", {"approved": True})
    assert walk.names() == ["resume_case"] and walk.case().status == "suspended"
    walk.do("resume_case", "supervisor", {"note": "企业复产"})
    assert walk.names() == ["handle_case"]
    assert [e.kind for e in walk.events() if e.kind in ("suspended", "resumed")] == ["suspended", "resumed"]


def test_a_denied_suspension_goes_back_to_handling(deps):
    walk = Walk(deps).register().dispatch("work_safety")
    walk.handle("work_safety", "suspend", reason="企业停产")
    walk.do("approve_suspension", "supervisor", {"approved": False, "reason": "不符合挂起条件"})
    assert walk.names() == ["handle_case"]


def test_a_failed_verification_is_reworked_by_the_same_department(deps):
    walk = Walk(deps).register().dispatch("work_safety").handle("work_safety")
    walk.verify(False, "隐患仍在")
    assert walk.case().reworks == 1
    assert walk.department_of(walk.task("handle_case")) == "work_safety"
    assert walk.events("reworked")[0].reason == "隐患仍在"


def test_a_dissatisfied_resident_sends_the_case_back_to_handling_and_is_counted(deps):
    walk = Walk(deps).register().dispatch("work_safety").handle("work_safety").verify()
    walk.follow_up(False, "群众不满意整改结果")
    assert walk.case().dissatisfied == 1 and walk.names() == ["handle_case"]


def test_a_supervisor_escalates_during_handling_to_the_city_which_dispatches_again(deps):
    walk = Walk(deps).register().dispatch("work_safety")
    services.escalate_case(deps, user_id(deps, "supervisor"), walk.id, "久拖未决")
    review = walk.task("review_escalation")
    assert walk.grid_level_of(review) == 0 and walk.case().responsible_level == 0
    assert walk.case().escalations == 1
    walk.do("review_escalation", "city_supervisor", {"instruction": "市应急局牵头"})
    assert walk.grid_level_of(walk.task("dispatch_case")) == 0
    escalated = walk.events("escalated")
    assert escalated and escalated[0].payload["to_level"] == 0
    assert walk.events("escalation_requested")[0].reason == "久拖未决"


def test_escalation_is_refused_to_those_who_are_not_supervisors_and_when_nothing_waits_for_it(deps):
    walk = Walk(deps).register().dispatch("work_safety")
    with pytest.raises(PermissionDenied):
        services.escalate_case(deps, user_id(deps, "worker"), walk.id, "x")
    walk.handle("work_safety")
    with pytest.raises(ConflictError):
        services.escalate_case(deps, user_id(deps, "supervisor"), walk.id, "核查阶段")


@pytest.mark.parametrize("stage", ["registering", "handling", "verifying"])
def test_the_reporter_withdraws_at_any_stage_before_closing(deps, stage):
    walk = Walk(deps)
    if stage in ("handling", "verifying"):
        walk.register().dispatch("work_safety")
    if stage == "verifying":
        walk.handle("work_safety")
    assert walk.case().status == stage
    services.withdraw_case(deps, user_id(deps, "worker"), walk.id, "已自行协商解决")
    case = walk.case()
    assert (case.status, case.outcome, walk.names()) == ("withdrawn", "withdrawn", [])
    assert walk.events("withdrawn")[0].reason == "已自行协商解决"
    with pytest.raises(ConflictError):
        services.withdraw_case(deps, user_id(deps, "worker"), walk.id, "again")


def test_only_the_reporter_withdraws(deps):
    walk = Walk(deps)
    with pytest.raises(PermissionDenied):
        services.withdraw_case(deps, user_id(deps, "leader"), walk.id, "x")
