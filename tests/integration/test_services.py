"""Services on the real database: filing, claiming, completing, timers and the timeline."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from engine.cases import services
from engine.deadlines import firing
from engine.errors import ConflictError, NotFoundError, PermissionDenied, ValidationError
from engine.store import timeline
from engine.store.model import Case, Deadline, Grid, Task, TimelineEvent
from tests.helpers import open_task, race, timer_deadline, user_id

DISPUTE = services.NewCase(type="dispute", title="邻里噪音纠纷", description="楼上装修噪音", severity="medium")
REGISTER_LOW = {"decision": "valid", "risk": "low", "violence": False}


def file(deps, who="worker", new=DISPUTE) -> int:
    return services.file_case(deps, user_id(deps, who), new)


def complete(deps, case_id, name, who, data):
    task = open_task(deps, case_id, name)
    services.complete_task(deps, user_id(deps, who), task.id, data)


def load_case(deps, case_id) -> Case:
    with deps.uow() as uow:
        return uow.session.get(Case, case_id)


def kinds(deps, case_id) -> list[str]:
    with deps.uow() as uow:
        return list(uow.session.scalars(
            select(TimelineEvent.kind).where(TimelineEvent.case_id == case_id).order_by(TimelineEvent.seq)))


def test_filing_numbers_the_case_by_town_and_day_and_opens_registration_for_the_level2_leader(deps):
    first, second = file(deps), file(deps)
    case = load_case(deps, first)
    assert case.number == "350583106-20261130-0001"
    assert load_case(deps, second).number == "350583106-20261130-0002"
    assert case.status == "registering"
    task = open_task(deps, first, "register_case")
    with deps.uow() as uow:
        assert uow.session.get(Grid, task.grid_id).code == "350583106201-06"
    assert (task.candidate_role, task.status, task.title) == ("grid_leader", "open", "立案登记")


def test_filings_at_once_in_one_town_take_consecutive_numbers_none_twice(deps):
    first = file(deps)
    filed = race(*[lambda: file(deps)] * 4)
    assert all(isinstance(case_id, int) for case_id in filed), filed
    numbers = sorted(load_case(deps, case_id).number for case_id in [first, *filed])
    assert numbers == [f"350583106-20261130-{n:04d}" for n in range(1, 6)]


def test_a_dispute_walks_from_filing_through_village_mediation_to_closed(deps):
    case_id = file(deps)
    complete(deps, case_id, "register_case", "leader", {"decision": "valid", "risk": "medium", "violence": False})
    complete(deps, case_id, "mediate_at_grid", "leader", {"resolved": False, "outcome": "双方各执一词"})
    assert load_case(deps, case_id).responsible_level == 2
    complete(deps, case_id, "mediate_at_village", "village", {"resolved": True, "outcome": "达成协议"})
    verify = open_task(deps, case_id, "verify_on_site")
    assert verify.assignee_id == user_id(deps, "worker") and verify.status == "claimed"
    complete(deps, case_id, "verify_on_site", "worker", {"passed": True})
    assert load_case(deps, case_id).status == "follow_up"
    complete(deps, case_id, "follow_up", "leader", {"satisfied": True})
    case = load_case(deps, case_id)
    assert (case.status, case.outcome, case.escalations) == ("closed", "closed", 0)
    assert case.closed_at == deps.clock.now()
    assert kinds(deps, case_id)[-1] == "closed"
    assert "responsibility_moved" in kinds(deps, case_id)  # unresolved at the grid: the village takes it


def test_an_unresolved_town_mediation_is_referred_and_the_judicial_office_does_it(deps):
    case_id = file(deps)
    complete(deps, case_id, "register_case", "leader", {"decision": "valid", "risk": "high", "violence": False})
    complete(deps, case_id, "mediate_at_village", "village", {"resolved": False, "outcome": "未果"})
    town_task = open_task(deps, case_id, "mediate_at_town")
    assert town_task.department_kind == "judicial" and town_task.department_id is not None
    with pytest.raises(PermissionDenied):
        services.complete_task(deps, user_id(deps, "leader"), town_task.id, {"resolved": True, "outcome": "x"})
    complete(deps, case_id, "mediate_at_town", "judicial", {"resolved": False, "outcome": "建议诉讼"})
    assert (load_case(deps, case_id).status, load_case(deps, case_id).outcome) == ("referred", "referred")


def test_an_invalid_report_needs_a_reason_and_ends_the_case(deps):
    case_id = file(deps)
    task = open_task(deps, case_id)
    with pytest.raises(ValidationError) as caught:
        services.complete_task(deps, user_id(deps, "leader"), task.id, {"decision": "invalid"})
    assert "reason" in caught.value.errors
    complete(deps, case_id, "register_case", "leader", {"decision": "invalid", "reason": "重复上报"})
    assert load_case(deps, case_id).status == "invalid"


def test_form_data_with_unknown_or_mistyped_fields_is_refused_and_nothing_changes(deps):
    case_id = file(deps)
    task = open_task(deps, case_id)
    with pytest.raises(ValidationError) as caught:
        services.complete_task(deps, user_id(deps, "leader"), task.id, {"decision": "yes", "risk": "x", "extra": 1})
    assert set(caught.value.errors) == {"decision", "risk", "extra"}
    assert open_task(deps, case_id).status == "open"
    assert [k for k in kinds(deps, case_id) if not k.startswith("deadline")] == ["filed", "task_opened"]


def test_only_one_of_two_leaders_can_claim_a_task(deps):
    case_id = file(deps)
    task = open_task(deps, case_id)
    services.claim_task(deps, user_id(deps, "leader"), task.id)
    with pytest.raises(ConflictError):
        services.claim_task(deps, user_id(deps, "village"), task.id)
    with pytest.raises(ConflictError):
        services.complete_task(deps, user_id(deps, "village"), task.id, REGISTER_LOW)
    services.release_task(deps, user_id(deps, "leader"), task.id)
    services.claim_task(deps, user_id(deps, "village"), task.id)
    assert open_task(deps, case_id).assignee_id == user_id(deps, "village")


def test_a_completed_task_cannot_be_completed_again(deps):
    case_id = file(deps)
    task = open_task(deps, case_id)
    services.complete_task(deps, user_id(deps, "leader"), task.id, REGISTER_LOW)
    with pytest.raises(ConflictError):
        services.complete_task(deps, user_id(deps, "leader"), task.id, REGISTER_LOW)


def test_a_user_of_another_town_cannot_see_or_touch_the_task(deps):
    task = open_task(deps, file(deps))
    with pytest.raises(NotFoundError):
        services.claim_task(deps, user_id(deps, "shuitou_worker"), task.id)


def test_reporting_outside_ones_own_grid_or_with_bad_values_is_refused(deps):
    outside = services.NewCase(type="dispute", title="t", grid_code="350583103201-01-01")
    with pytest.raises(ValidationError) as caught:
        file(deps, new=outside)
    assert "grid_code" in caught.value.errors
    with pytest.raises(ValidationError):
        file(deps, new=services.NewCase(type="ufo", title="t"))
    with pytest.raises(ValidationError):
        file(deps, new=services.NewCase(type="dispute", title="t", severity="apocalyptic"))
    with pytest.raises(PermissionDenied):
        file(deps, who="judicial")
    with deps.uow() as uow:
        assert uow.session.scalar(select(Case.id)) is None


def test_the_register_reminder_is_a_deadline_row_that_fires_once_and_never_early(deps, clock):
    case_id = file(deps)
    deadline_id, due_at = timer_deadline(deps, case_id)
    assert due_at == clock.now() + timedelta(hours=2)  # medium severity
    clock.set(due_at.replace(microsecond=0) - timedelta(seconds=1))
    assert firing.fire_deadline(deps, deadline_id) == "early"
    clock.advance(seconds=2)
    assert firing.fire_deadline(deps, deadline_id) == "fired"
    assert firing.fire_deadline(deps, deadline_id) == "done"
    assert kinds(deps, case_id).count("reminded") == 1
    assert open_task(deps, case_id, "register_case").status == "open"
    with deps.uow() as uow:
        assert uow.session.get(Deadline, deadline_id).fired_at == clock.now()


def test_completing_the_task_cancels_its_pending_reminder(deps):
    case_id = file(deps)
    complete(deps, case_id, "register_case", "leader", REGISTER_LOW)
    with deps.uow() as uow:
        [deadline] = uow.session.scalars(select(Deadline).where(Deadline.case_id == case_id,
                                                                Deadline.kind == "timer"))
    assert deadline.cancelled_at is not None and deadline.fired_at is None
    assert firing.fire_deadline(deps, deadline.id) == "done"


def test_the_timeline_is_hash_chained_and_names_every_actor(deps):
    case_id = file(deps)
    complete(deps, case_id, "register_case", "leader", REGISTER_LOW)
    with deps.uow() as uow:
        events = list(uow.session.scalars(
            select(TimelineEvent).where(TimelineEvent.case_id == case_id).order_by(TimelineEvent.seq)))
    assert [e.actor for e in events if e.kind in ("filed", "completed")] == ["worker", "leader"]
    previous, key = timeline.GENESIS, deps.sessions.kw["info"]["timeline_key"]
    for e in events:
        assert e.prev_hash == previous
        assert e.hash == timeline.event_hash(key, e)
        previous = e.hash
    with deps.uow() as uow:
        case = uow.session.get(Case, case_id)
        assert (case.timeline_seq, case.timeline_hash) == (events[-1].seq, events[-1].hash)


def test_the_tasks_projection_keeps_history(deps):
    case_id = file(deps)
    complete(deps, case_id, "register_case", "leader", REGISTER_LOW)
    with deps.uow() as uow:
        statuses = dict(uow.session.execute(select(Task.name, Task.status).where(Task.case_id == case_id)).all())
    assert statuses == {"register_case": "completed", "mediate_at_grid": "open"}


def test_a_supervisor_escalates_a_stuck_dispute_from_the_grid_to_the_village_and_then_the_town(deps):
    case_id = file(deps)
    complete(deps, case_id, "register_case", "leader", REGISTER_LOW)
    services.escalate_case(deps, user_id(deps, "supervisor"), case_id, "网格调解久拖不决")
    assert open_task(deps, case_id).name == "mediate_at_village"
    services.escalate_case(deps, user_id(deps, "supervisor"), case_id, "村级调解仍无进展")
    town = open_task(deps, case_id, "mediate_at_town")
    case = load_case(deps, case_id)
    assert (case.escalations, case.responsible_level) == (2, 1) and town.department_kind == "judicial"
    with deps.uow() as uow:
        events = uow.session.scalars(select(TimelineEvent).where(
            TimelineEvent.case_id == case_id, TimelineEvent.kind.in_(("escalated", "escalation_requested")))
            .order_by(TimelineEvent.seq)).all()
    assert [(e.kind, e.actor) for e in events] == [("escalation_requested", "supervisor"), ("escalated", "supervisor"),
                                                   ("escalation_requested", "supervisor"), ("escalated", "supervisor")]
    assert events[0].reason == "网格调解久拖不决"


@pytest.mark.parametrize("stage", ["registering", "mediating", "verifying"])
def test_the_reporter_withdraws_a_dispute_at_any_stage(deps, stage):
    case_id = file(deps)
    if stage != "registering":
        complete(deps, case_id, "register_case", "leader", REGISTER_LOW)
    if stage == "verifying":
        complete(deps, case_id, "mediate_at_grid", "leader", {"resolved": True, "outcome": "和解"})
    assert load_case(deps, case_id).status == stage
    services.withdraw_case(deps, user_id(deps, "worker"), case_id, "双方已私下和解")
    case = load_case(deps, case_id)
    assert (case.status, case.outcome) == ("withdrawn", "withdrawn")
    with deps.uow() as uow:
        assert uow.session.scalars(select(Task.status).where(Task.case_id == case_id,
                                                             Task.status.in_(("open", "claimed")))).all() == []
