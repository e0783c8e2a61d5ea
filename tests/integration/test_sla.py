"""The SLA clock under a controlled clock: due times in business time, warnings, breaches, pauses, extensions."""
from datetime import datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from engine.cases import services
from engine.deadlines import firing
from engine.store.model import Case, Deadline, Grid, Notification, SlaClock, SupervisionOrder, Task, TimelineEvent, User
from tests.helpers import open_task, race, user_id

SHANGHAI = ZoneInfo("Asia/Shanghai")
DISPUTE = services.NewCase(type="dispute", title="邻里纠纷", severity="medium")


def local(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def clock_of(deps, case_id, step) -> SlaClock:
    with deps.uow() as uow:
        return uow.session.scalars(select(SlaClock).where(SlaClock.case_id == case_id, SlaClock.step == step)
                                   .order_by(SlaClock.id.desc())).first()


def pending(deps, case_id, kind=None) -> list[Deadline]:
    with deps.uow() as uow:
        query = select(Deadline).where(Deadline.case_id == case_id, Deadline.fired_at.is_(None),
                                       Deadline.cancelled_at.is_(None)).order_by(Deadline.due_at)
        return [d for d in uow.session.scalars(query) if kind is None or d.kind == kind]


def breach_of(deps, case_id, step) -> Deadline:
    """The one pending breach deadline of a step."""
    [breach] = [d for d in pending(deps, case_id, "breach") if d.name == step]
    return breach


def events(deps, case_id, kind) -> list[TimelineEvent]:
    with deps.uow() as uow:
        return list(uow.session.scalars(select(TimelineEvent).where(
            TimelineEvent.case_id == case_id, TimelineEvent.kind == kind).order_by(TimelineEvent.seq)))


def fire_due(deps, case_id) -> list[str]:
    return [firing.fire_deadline(deps, d.id) for d in pending(deps, case_id)
            if d.due_at <= deps.clock.now()]


def test_registration_is_due_after_four_working_hours_skipping_lunch(deps, clock):
    clock.set(local(2026, 11, 30, 9, 0))  # Monday
    case_id = services.file_case(deps, user_id(deps, "worker"), DISPUTE)
    register = clock_of(deps, case_id, "register_case")
    assert register.due_at == local(2026, 11, 30, 15, 0)  # 09:00-12:00 and 14:00-15:00
    assert open_task(deps, case_id).due_at == register.due_at
    assert register.explanation["policy"] == "立案：4 个工作时"
    assert register.explanation["calendar"]["office_hours"] == ["08:30-12:00", "14:00-17:30"]
    whole = clock_of(deps, case_id, "case")
    assert whole.unit == "working_days" and whole.amount == 20
    warnings = [(d.fraction, d.due_at) for d in pending(deps, case_id, "warning") if d.name == "register_case"]
    assert warnings == [(0.5, local(2026, 11, 30, 11, 0)), (0.8, local(2026, 11, 30, 14, 12))]


def test_an_untouched_dispute_breaches_on_the_right_minute_with_a_supervision_order(deps, clock):
    clock.set(local(2026, 11, 30, 9, 0))
    case_id = services.file_case(deps, user_id(deps, "worker"), DISPUTE)
    breach = breach_of(deps, case_id, "register_case")
    clock.set(breach.due_at - timedelta(seconds=1))
    assert firing.fire_deadline(deps, breach.id) == "early"
    clock.set(breach.due_at)
    assert firing.fire_deadline(deps, breach.id) == "fired"
    assert firing.fire_deadline(deps, breach.id) == "done"
    [breached] = events(deps, case_id, "sla_breached")
    assert "立案登记" in breached.reason and breached.payload["explanation"]["policy"] == "立案：4 个工作时"
    with deps.uow() as uow:
        [order] = uow.session.scalars(select(SupervisionOrder).where(SupervisionOrder.case_id == case_id))
    assert order.status == "open" and order.due_at == local(2026, 12, 1, 17, 30)
    assert [d.kind for d in pending(deps, case_id, "supervision")] == ["supervision"]
    assert events(deps, case_id, "supervision_ordered")
    register = open_task(deps, case_id, "register_case")  # registration climbed one grid level
    with deps.uow() as uow:
        case = uow.session.get(Case, case_id)
        village = uow.session.get(Grid, register.grid_id)
    assert (village.code, case.responsible_level, case.escalations) == ("350583106201", 2, 1)
    [escalated] = events(deps, case_id, "escalated")
    assert escalated.actor == "system" and escalated.payload["to_grid"] == "350583106201"
    assert events(deps, case_id, "escalation_requested")[0].reason == breached.reason
    new_clock = clock_of(deps, case_id, "register_case")
    assert new_clock.started_at == breach.due_at and new_clock.due_at > breach.due_at


def test_a_batch_of_breaches_schedules_its_new_deadlines_in_one_call_after_its_commit(deps, clock):
    clock.set(local(2026, 11, 30, 9, 0))
    cases = [services.file_case(deps, user_id(deps, "worker"), DISPUTE) for _ in range(3)]
    breaches = [breach_of(deps, case_id, "register_case") for case_id in cases]
    before = {d.id for case_id in cases for d in pending(deps, case_id)}
    calls = []
    deps.scheduler.schedule = lambda due_times: calls.append(list(due_times))
    clock.set(breaches[0].due_at)
    assert firing.fire_deadlines(deps, [b.id for b in breaches]) == {"fired": 3}
    made = [d.due_at for case_id in cases for d in pending(deps, case_id) if d.id not in before]
    assert len(made) >= 3 * 2  # each escalation's order and new clock
    assert len(calls) == 1 and sorted(calls[0]) == sorted(made)


def test_a_warning_notifies_the_supervisors_once_and_after_downtime_only_the_latest_speaks(deps, clock):
    clock.set(local(2026, 11, 30, 9, 0))
    case_id = services.file_case(deps, user_id(deps, "worker"), DISPUTE)
    clock.set(local(2026, 11, 30, 14, 30))  # the worker was down: both register warnings are overdue
    fire_due(deps, case_id)
    warnings = [e for e in events(deps, case_id, "sla_warning") if e.payload["step"] == "register_case"]
    assert [e.payload["fraction"] for e in warnings] == [0.8]
    with deps.uow() as uow:
        notified = {u for (u,) in uow.session.execute(select(User.username).join(
            Notification, Notification.user_id == User.id).where(Notification.case_id == case_id))}
    assert notified == {"supervisor", "city_supervisor"}
    assert fire_due(deps, case_id) == []


def test_completing_a_step_stops_its_clock_and_cancels_its_deadlines(deps, clock):
    case_id = services.file_case(deps, user_id(deps, "worker"), DISPUTE)
    task = open_task(deps, case_id)
    services.complete_task(deps, user_id(deps, "leader"), task.id,
                           {"decision": "valid", "risk": "low", "violence": False})
    assert clock_of(deps, case_id, "register_case").stopped_at == clock.now()
    assert not [d for d in pending(deps, case_id) if d.name == "register_case"]
    assert clock_of(deps, case_id, "mediate_at_grid").stopped_at is None


def walk_to_handling(deps):
    case_id = services.file_case(deps, user_id(deps, "worker"), services.NewCase(type="work_safety", title="隐患"))
    services.complete_task(deps, user_id(deps, "leader"), open_task(deps, case_id).id, {"decision": "valid"})
    services.complete_task(deps, user_id(deps, "supervisor"), open_task(deps, case_id).id,
                           {"lead_department": "work_safety", "co_departments": []})
    return case_id


def handle(deps, case_id, data):
    services.complete_task(deps, user_id(deps, "350583106_work_safety"), open_task(deps, case_id, "handle_case").id,
                           data)


def test_an_approved_extension_moves_the_handling_due_time(deps, clock):
    clock.set(local(2026, 11, 30, 9, 0))
    case_id = walk_to_handling(deps)
    before = clock_of(deps, case_id, "handle_case").due_at
    assert before == local(2026, 12, 3, 17, 30)  # medium: 3 working days after Monday
    handle(deps, case_id, {"action": "extend", "reason": "需检测", "extra_days": 2})
    services.complete_task(deps, user_id(deps, "supervisor"), open_task(deps, case_id).id, {"approved": True})
    handling = clock_of(deps, case_id, "handle_case")
    assert handling.due_at == local(2026, 12, 7, 17, 30)  # two more working days, over the weekend
    assert handling.explanation["extensions"][0]["working_days"] == 2
    assert open_task(deps, case_id, "handle_case").due_at == handling.due_at


def test_a_suspension_pauses_the_clock_and_resuming_continues_it(deps, clock):
    clock.set(local(2026, 11, 30, 9, 0))
    case_id = walk_to_handling(deps)
    due = clock_of(deps, case_id, "handle_case").due_at
    clock.set(local(2026, 11, 30, 10, 0))
    handle(deps, case_id, {"action": "suspend", "reason": "企业停产"})
    services.complete_task(deps, user_id(deps, "supervisor"), open_task(deps, case_id).id, {"approved": True})
    assert clock_of(deps, case_id, "handle_case").paused_at == clock.now()
    assert not [d for d in pending(deps, case_id) if d.name == "handle_case"]
    clock.set(local(2026, 12, 1, 10, 0))  # one working day (7 working hours) later
    services.complete_task(deps, user_id(deps, "supervisor"), open_task(deps, case_id).id, {"note": "复产"})
    resumed = clock_of(deps, case_id, "handle_case")
    assert resumed.paused_at is None and resumed.due_at == due + timedelta(days=1)
    assert datetime.fromisoformat(resumed.explanation["pauses"][0]["to"]) == clock.now()
    assert resumed.explanation["pauses"][0]["to"].endswith("+08:00")


def test_clock_times_in_explanations_and_timeline_payloads_are_local(deps, clock):
    clock.set(local(2026, 11, 30, 9, 0))
    case_id = walk_to_handling(deps)
    handling = clock_of(deps, case_id, "handle_case")
    assert handling.explanation["running_since"] == "2026-11-30T09:00:00+08:00"
    [*_, latest] = events(deps, case_id, "deadline_set")
    assert latest.payload["due_at"] == "2026-12-03T17:30:00+08:00"
    assert "工作日" in latest.payload["explanation"]["calendar"]["rule"]


def test_a_clock_resumed_into_a_year_without_an_official_calendar_says_so(deps, clock):
    clock.set(local(2026, 12, 28, 9, 0))
    case_id = walk_to_handling(deps)
    assert clock_of(deps, case_id, "handle_case").explanation["calendar"]["warnings"] == []
    handle(deps, case_id, {"action": "suspend", "reason": "企业停产"})
    services.complete_task(deps, user_id(deps, "supervisor"), open_task(deps, case_id).id, {"approved": True})
    clock.set(local(2027, 1, 5, 9, 0))
    services.complete_task(deps, user_id(deps, "supervisor"), open_task(deps, case_id).id, {"note": "复产"})
    resumed = clock_of(deps, case_id, "handle_case")
    assert resumed.due_at.astimezone(SHANGHAI).year == 2027
    assert any("2027 年没有官方节假日安排" in w for w in resumed.explanation["calendar"]["warnings"])
    assert any("2027" in w for w in resumed.explanation["calendar"]["warnings_en"])


def test_a_re_dispatch_after_a_return_restarts_the_handling_clock(deps, clock):
    clock.set(local(2026, 11, 30, 9, 0))
    case_id = walk_to_handling(deps)
    first = clock_of(deps, case_id, "handle_case")
    clock.set(local(2026, 11, 30, 11, 0))
    handle(deps, case_id, {"action": "return", "reason": "非本部门职责"})
    assert clock_of(deps, case_id, "handle_case").stopped_at == clock.now()
    services.complete_task(deps, user_id(deps, "supervisor"), open_task(deps, case_id).id,
                           {"lead_department": "work_safety", "co_departments": []})
    second = clock_of(deps, case_id, "handle_case")
    assert second.id != first.id and second.started_at == clock.now()


def test_a_handling_breach_escalates_the_case_one_level_with_a_supervision_order(deps, clock):
    clock.set(local(2026, 11, 30, 9, 0))
    case_id = walk_to_handling(deps)
    breach = breach_of(deps, case_id, "handle_case")
    clock.set(breach.due_at)
    assert firing.fire_deadline(deps, breach.id) == "fired"
    assert open_task(deps, case_id, "review_escalation").grid_id is not None
    with deps.uow() as uow:
        case = uow.session.get(Case, case_id)
    assert (case.escalations, case.responsible_level, case.status) == (1, 0, "escalated")
    assert [e.actor for e in events(deps, case_id, "escalated")] == ["system"]
    assert events(deps, case_id, "supervision_ordered")


@pytest.mark.parametrize("workers", [2, 4])
def test_workers_racing_for_one_breach_escalate_once(deps, clock, workers):
    clock.set(local(2026, 11, 30, 9, 0))
    case_id = walk_to_handling(deps)
    breach = breach_of(deps, case_id, "handle_case")
    clock.set(breach.due_at + timedelta(minutes=1))
    results = race(*[partial(firing.fire_deadline, deps, breach.id)] * workers)
    assert sorted(results) == ["done"] * (workers - 1) + ["fired"]
    with deps.uow() as uow:
        assert len(uow.session.scalars(select(SupervisionOrder).where(SupervisionOrder.case_id == case_id)).all()) == 1
        assert uow.session.get(Case, case_id).escalations == 1


def test_a_worker_that_dies_half_way_through_a_firing_leaves_it_to_fire_once_later(deps, clock, monkeypatch):
    from engine.deadlines import alarms
    clock.set(local(2026, 11, 30, 9, 0))
    case_id = walk_to_handling(deps)
    breach = breach_of(deps, case_id, "handle_case")
    clock.set(breach.due_at)
    real = alarms.breach

    def dies(*args, **kwargs):
        real(*args, **kwargs)
        raise SystemExit("worker killed")

    monkeypatch.setattr(alarms, "breach", dies)
    with pytest.raises(SystemExit):
        firing.fire_deadline(deps, breach.id)
    monkeypatch.setattr(alarms, "breach", real)
    assert [d.id for d in pending(deps, case_id, "breach") if d.name == "handle_case"] == [breach.id]
    assert firing.fire_deadline(deps, breach.id) == "fired"
    with deps.uow() as uow:
        assert len(uow.session.scalars(select(SupervisionOrder).where(SupervisionOrder.case_id == case_id)).all()) == 1
        assert uow.session.get(Case, case_id).escalations == 1
        assert uow.session.scalars(select(Task.name).where(Task.case_id == case_id, Task.status == "open")).all() == [
            "review_escalation"]


def test_summer_office_hours_and_one_warning_are_a_setting(deps, clock):
    from engine.bootstrap import office_hours
    deps.office_hours, deps.warn_at = office_hours("08:30-12:00,14:30-17:30"), (0.75,)
    clock.set(local(2026, 11, 30, 9, 0))
    case_id = services.file_case(deps, user_id(deps, "worker"), DISPUTE)
    assert clock_of(deps, case_id, "register_case").due_at == local(2026, 11, 30, 15, 30)
    assert [d.fraction for d in pending(deps, case_id, "warning") if d.name == "register_case"] == [0.75]
