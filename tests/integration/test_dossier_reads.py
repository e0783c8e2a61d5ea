"""The dossier's read queries on a case that went the long way: dispatched, handled late, its handling interrupted
by the breach and escalated; each diagram it entered marked from the workflow, each clock's standing over time."""
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from engine.cases import services
from engine.deadlines import firing
from engine.read import diagrams, dossier
from engine.sla import clocks
from engine.store.model import Deadline, SlaClock, User
from tests.helpers import open_task, user_id

MONDAY = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai


def supervisor(deps) -> User:
    with deps.uow() as uow:
        found = uow.session.scalar(select(User).where(User.username == "supervisor"))
        uow.session.expunge(found)
        return found


def to_handling(deps) -> int:
    case_id = services.file_case(deps, user_id(deps, "worker"), services.NewCase(type="work_safety", title="隐患"))
    services.complete_task(deps, user_id(deps, "leader"), open_task(deps, case_id).id, {"decision": "valid"})
    services.complete_task(deps, user_id(deps, "supervisor"), open_task(deps, case_id).id,
                           {"lead_department": "work_safety", "co_departments": []})
    return case_id


def handling_clock(deps, case_id) -> SlaClock:
    with deps.uow() as uow:
        return uow.session.scalars(select(SlaClock).where(SlaClock.case_id == case_id, SlaClock.step == "handle_case")
                                   .order_by(SlaClock.id.desc())).first()


def standing(deps, case_id, now) -> dict:
    with deps.uow() as uow:
        clock = uow.session.get(SlaClock, handling_clock(deps, case_id).id)
        return clocks.standing(clock, now, clocks.calendar(uow.session, deps))


def test_a_clock_stands_ok_then_warning_then_breached_in_working_time(deps, clock):
    clock.set(MONDAY)
    case_id = to_handling(deps)
    due = handling_clock(deps, case_id).due_at  # 3 working days: Thursday 17:30
    assert standing(deps, case_id, MONDAY) == {"remaining_minutes": 1650.0, "used": 0.0, "level": "ok"}
    wednesday_noon = datetime(2026, 12, 2, 4, 0, tzinfo=UTC)
    assert standing(deps, case_id, wednesday_noon)["level"] == "warning"  # past half of its 27.5 working hours
    late = standing(deps, case_id, due + timedelta(days=1))  # Friday 17:30: a working day late
    assert late == {"remaining_minutes": -7 * 60.0, "used": 1.255, "level": "breached"}


def test_a_handling_breach_marks_the_interrupted_step_and_the_escalation_it_opened(deps, clock):
    clock.set(MONDAY)
    case_id = to_handling(deps)
    with deps.uow() as uow:
        breach = uow.session.scalar(select(Deadline).where(Deadline.case_id == case_id, Deadline.kind == "breach",
                                                           Deadline.name == "handle_case"))
    clock.set(breach.due_at)
    assert firing.fire_deadline(deps, breach.id) == "fired"
    found = diagrams.case_diagrams(deps, supervisor(deps), case_id)
    by_file = {d["file"]: d for d in found["diagrams"]}
    assert list(by_file) == ["general/general_case.bpmn", "shared/closed_loop.bpmn", "shared/escalate.bpmn"]
    main, loop, escalate = by_file.values()
    assert "run_closed_loop" in main["active"] and "register_case" in main["done"]
    assert loop["interrupted"] == ["handle_case"] and loop["breached"] == ["handle_case"]
    assert {"dispatch_case", "on_sla_breached"} <= set(loop["done"]) and loop["active"] == ["escalate_case"]
    assert {"flow_sla_breached_to_merge", "flow_dispatch_merge_to_dispatch"} <= set(loop["flows"])
    [late] = loop["overlays"]
    assert (late["element"], late["level"], late["open"]) == ("handle_case", "breached", False)
    assert escalate["open"] == ["review_escalation"] and "move_up" in escalate["done"]
    assert [o["element"] for o in escalate["overlays"]] == ["review_escalation"]
    extra = dossier.dossier(deps, supervisor(deps), case_id)
    assert extra["chain"]["intact"] and [o["from_breach"] for o in extra["orders"]] == [True]
    assert [g["level"] for g in extra["grid_path"]] == [0, 1, 2, 3, 4]
    [liaison] = dossier.people(deps, ["350583106_work_safety"]).values()
    assert liaison["role"] == "liaison" and liaison["department"].startswith("仑苍镇")
