"""Indicators on the hand-built set (tests/indicator_set.py): every counter and indicator for each dimension,
the rollup kept in the same transactions equal to a recount from the raw timeline, the rebuild, scope, and a
property test over random paths through the closed loop."""
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from engine.cases import services
from engine.deadlines import firing
from engine.errors import ConflictError, GridflowError, NotFoundError, PermissionDenied
from engine.indicators import fold, rollup
from engine.read import indicators as ri
from engine.sla import clocks
from engine.store.model import (
    Case,
    Deadline,
    IndicatorDaily,
    IndicatorMonthly,
    IndicatorTownMonthly,
    Task,
    TimelineEvent,
    User,
)
from tests import indicator_set
from tests.helpers import user_id

MARCH, APRIL = date(2026, 3, 1), date(2026, 4, 1)
TODAY = date(2026, 4, 2)
DEPT = indicator_set.DEPARTMENT

MARCH_TOTAL = {
    "reported": 9, "valid_reports": 7, "reg_decided": 9, "registered": 7, "registered_on_time": 7, "supervised": 0,
    "dispatched": 7, "dispatched_on_time": 7, "due_to_handle": 9, "handled": 8, "handled_on_time": 7,
    "returned": 1, "extended": 1, "reworked": 2, "handle_minutes": 4200.0, "due_to_close": 5, "closed": 5,
    "closed_on_time": 5, "close_minutes": 4200.0, "overdue_open": 0, "follow_ups": 6, "satisfied": 5,
}
MARCH_VALUES = {
    "register_on_time": 1.0, "dispatch_on_time": 1.0, "handle_rate": 0.8889, "handle_on_time": 0.7778,
    "close_rate": 1.0, "close_on_time": 1.0, "rework_rate": 0.25, "return_rate": 0.1111, "extension_rate": 0.1111,
    "supervision_rate": 0.0, "satisfaction": 0.8333, "valid_report_rate": 0.7778, "handle_hours": 8.75,
    "close_hours": 14.0, "overdue_open": 0,
}
APRIL_TOTAL = {**{c: 0 for c in MARCH_TOTAL}, "due_to_handle": 1, "handled": 1, "handled_on_time": 1,
               "due_to_close": 1, "closed": 1, "closed_on_time": 1, "follow_ups": 1, "satisfied": 1,
               "handle_minutes": 0.0, "close_minutes": 0.0}


def person(deps, username):
    with deps.uow() as uow:
        user = uow.session.scalar(select(User).where(User.username == username))
        uow.session.expunge(user)
        return user


def read(deps, username="supervisor", **query):
    rollup.catch_up(deps, rollup.FOR_A_READER)  # as the API and the 统计 page do before they read
    with deps.uow() as uow:
        return ri.run(uow.session, person(deps, username), ri.Query(**query), TODAY, deps.catalogue)


def nonzero(counts):
    return {k: v for k, v in counts.items() if v}


def assert_rollup_equals_recount(deps):
    """Each rollup table, once caught up, equals the recount from the raw timeline events."""
    rollup.catch_up(deps)
    with deps.uow() as uow:
        session = uow.session
        recounted = rollup.recount(session, clocks.calendar(session, deps))
        want = {"daily": {}, "monthly": {}, "towns": {}}
        for (key, (grid_id, case_type, worker_id, town_id)), counts in recounted.items():
            day, department = key.split("|", 1)
            for table, target in (("daily", (key, (grid_id, case_type, worker_id))),
                                  ("monthly", (f"{day[:7]}-01|{department}", (grid_id, case_type, worker_id))),
                                  ("towns", (f"{day[:7]}-01|{department}", (town_id, case_type)))):
                for c, v in counts.items():
                    want[table].setdefault(target, {}).setdefault(c, 0)
                    want[table][target][c] = round(want[table][target][c] + v, 1)
        for name, table in (("daily", IndicatorDaily), ("monthly", IndicatorMonthly),
                            ("towns", IndicatorTownMonthly)):
            expected = {k: {c: v for c, v in counts.items() if v} for k, counts in want[name].items()}
            assert rollup.stored(session, table) == {k: v for k, v in expected.items() if v}, name


@pytest.fixture
def hand_built(deps, clock):
    return indicator_set.build(deps, clock)


def test_every_counter_and_indicator_of_the_hand_built_month(deps, hand_built):
    march = read(deps, period="month", at=MARCH)
    assert march.total["counts"] == MARCH_TOTAL
    assert march.total["values"] == MARCH_VALUES
    # 25·1 + 15·1 + 15·0.7778 + 10·1 + 10·1 + 10·0.8333 + 5·(1-0.25) + 5·(1-0.1111) + 5·0.7778
    assert march.total["score"] == 92.1 and march.total["grade"] == "A"
    april = read(deps, period="month", at=APRIL)
    assert april.total["counts"] == APRIL_TOTAL  # the suspended case closed in April, after the month end
    assert april.total["values"]["handle_hours"] == 0.0  # it was suspended for all of its handling time
    assert april.total["values"]["valid_report_rate"] is None  # nothing was reported in April
    # 环比 and 同比: April against March; nothing a year before
    assert april.total["previous"]["values"]["close_on_time"] == 1.0
    assert april.total["previous"]["change"]["handle_on_time"] == round(1.0 - 0.7778, 4)
    assert april.total["last_year"]["values"]["close_rate"] is None


def test_each_dimension_of_the_hand_built_set(deps, hand_built):
    by_department = {r["key"]: nonzero(r["counts"]) for r in read(deps, at=MARCH, by="department").rows}
    assert by_department[""] == {"reported": 3, "valid_reports": 1, "reg_decided": 3, "registered": 1,
                                 "registered_on_time": 1}  # withdrawn, invalid, duplicate: never dispatched
    assert by_department[DEPT]["reported"] == 6 and by_department[DEPT]["due_to_handle"] == 9
    by_type = {r["key"]: r["counts"] for r in read(deps, at=MARCH, by="type").rows}
    assert set(by_type) == {"work_safety", "environment"}
    assert by_type["environment"]["reported"] == 1 and by_type["environment"]["registered"] == 0
    assert by_type["work_safety"]["reported"] == 8
    only_type = read(deps, at=MARCH, case_type="environment", by="none")
    assert only_type.total["counts"]["reg_decided"] == 1 and only_type.total["values"]["valid_report_rate"] == 0.0
    only_department = read(deps, at=MARCH, department=DEPT)
    assert only_department.total["counts"]["handled"] == 8
    workers = read(deps, at=MARCH, by="worker").rows
    assert [(r["code"], r["counts"]["reported"]) for r in workers] == [("worker", 9)]
    assert read(deps, at=MARCH, worker=user_id(deps, "leader")).total["counts"]["reported"] == 0
    # the grid tree: town -> village -> level-2 grid -> unit grid, the same numbers at every level
    towns = read(deps, "city_supervisor", at=MARCH).rows
    assert [(r["code"], r["counts"]["reported"]) for r in towns] == [("350583106", 9)]  # Shuitou: nothing yet
    villages = read(deps, at=MARCH).rows
    assert [(r["code"], r["label"], r["counts"]["closed"]) for r in villages] == [("350583106201", "辉煌村", 5)]
    grids = read(deps, grid="350583106201", at=MARCH).rows
    assert [(r["code"], r["counts"]["reported"]) for r in grids] == [("350583106201-06", 9)]
    units = read(deps, grid="350583106201-06", at=MARCH).rows
    assert [(r["code"], r["counts"]["reported"]) for r in units] == [("350583106201-06-01", 9)]
    # periods: a day, a week, a quarter, a year, an explicit span
    assert read(deps, period="day", at=date(2026, 3, 9)).total["counts"]["closed"] == 2  # late and extended
    assert read(deps, period="week", at=date(2026, 3, 4)).total["counts"]["closed"] == 3
    quarter = read(deps, period="quarter", at=MARCH).total["counts"]
    assert quarter["closed"] == 5 and quarter["reported"] == 9  # the first quarter ends with March
    year = read(deps, period="year", at=MARCH).total["counts"]
    assert year["follow_ups"] == 7 and year["closed"] == 6
    span = read(deps, start=date(2026, 3, 30), end=date(2026, 4, 2)).total["counts"]
    assert span["reported"] == 1 and span["closed"] == 1
    by_month = {r["key"]: r["counts"]["closed"] for r in read(deps, period="year", at=MARCH, by="month").rows}
    assert by_month == {"2026-03": 5, "2026-04": 1}


def test_the_rollup_kept_in_each_transaction_equals_the_recount_and_the_rebuild(deps, hand_built):
    assert_rollup_equals_recount(deps)
    before = read(deps, at=MARCH).total
    assert rollup.rebuild_all(deps) == 10
    assert_rollup_equals_recount(deps)
    assert read(deps, at=MARCH).total == before


def test_a_town_supervisor_never_counts_another_town(deps, hand_built):
    assert read(deps, "shuitou_supervisor", at=APRIL).total["counts"]["reported"] == 1
    assert read(deps, "supervisor", at=APRIL).total["counts"]["reported"] == 0
    city = read(deps, "city_supervisor", at=APRIL)
    assert {r["code"]: r["counts"]["reported"] for r in city.rows} == {"350583103": 1, "350583106": 0}
    with pytest.raises(NotFoundError):
        read(deps, "supervisor", grid="350583103", at=APRIL)
    with pytest.raises(NotFoundError):
        read(deps, "supervisor", grid="350583", at=APRIL)
    with pytest.raises(PermissionDenied):
        read(deps, "worker", at=APRIL)


def test_an_overdue_open_case_counts_now_whatever_the_period(deps, clock):
    clock.set(indicator_set.MONDAY_2_MARCH)
    case_id = services.file_case(deps, user_id(deps, "worker"), services.NewCase(
        type="work_safety", title="无人处理", severity="medium"))
    with deps.uow() as uow:
        breach = uow.session.scalar(select(Deadline).where(Deadline.case_id == case_id, Deadline.kind == "breach",
                                                           Deadline.name == "case"))
    clock.set(breach.due_at + timedelta(hours=1))
    assert firing.fire_deadline(deps, breach.id) == "fired"
    for when in (MARCH, date(2025, 1, 1)):
        assert read(deps, at=when).total["counts"]["overdue_open"] == 1
    assert_rollup_equals_recount(deps)


@st.composite
def chunks(draw, events):
    cuts = sorted(draw(st.sets(st.integers(1, max(len(events) - 1, 1)), max_size=5)))
    bounds = [0, *cuts, len(events)]
    return [events[a:b] for a, b in zip(bounds, bounds[1:], strict=False) if a < b]


def test_folding_in_batches_gives_the_state_of_folding_at_once(deps, hand_built):
    with deps.uow() as uow:
        session = uow.session
        cal = clocks.calendar(session, deps)
        histories = {case_id: list(session.scalars(select(TimelineEvent).where(TimelineEvent.case_id == case_id)
                                                   .order_by(TimelineEvent.seq))) for case_id in hand_built.values()}

        @settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
        @given(st.data())
        def check(data):
            case_id = data.draw(st.sampled_from(sorted(histories)))
            events = histories[case_id]
            state = None
            for batch in data.draw(chunks(events)):
                state = fold.fold(state, batch, cal)
            assert fold.facts(state) == fold.facts(fold.fold(None, events, cal))
        check()


WHO = {  # a task -> who may do it, tried in order
    "register_case": ("leader",), "dispatch_case": ("supervisor", "city_supervisor"),
    "handle_case": ("350583106_work_safety",), "approve_extension": ("supervisor", "city_supervisor"),
    "approve_suspension": ("supervisor",), "resume_case": ("supervisor",), "verify_on_site": ("worker",),
    "follow_up": ("leader",), "review_escalation": ("city_supervisor",), "co_handle": (),
}


def data_for(name, draw):
    flip = draw(st.booleans())
    return {
        "register_case": {"decision": "valid" if draw(st.integers(0, 3)) else "invalid", "reason": "不属实"},
        "dispatch_case": {"lead_department": "work_safety"},
        "handle_case": {**{"feedback": {"action": "feedback", "result": "已办"},
                           "return": {"action": "return", "reason": "退回"},
                           "extend": {"action": "extend", "reason": "延期", "extra_days": 2},
                           "suspend": {"action": "suspend", "reason": "挂起"}}[
            draw(st.sampled_from(("feedback", "feedback", "return", "extend", "suspend")))]},
        "approve_extension": {"approved": flip, "reason": "否"},
        "approve_suspension": {"approved": flip, "reason": "否"},
        "resume_case": {"note": "恢复"},
        "verify_on_site": {"passed": flip or draw(st.booleans()), "note": "未通过"},
        "follow_up": {"satisfied": flip or draw(st.booleans()), "note": "不满意"},
        "review_escalation": {"instruction": "办理"},
    }.get(name)


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_the_rollup_equals_the_recount_after_random_paths(deps, clock, data):
    clock.set(indicator_set.MONDAY_2_MARCH)
    cases = [services.file_case(deps, user_id(deps, "worker"), services.NewCase(
        type="work_safety", title=f"随机{i}", severity=data.draw(st.sampled_from(("low", "medium", "high")))))
        for i in range(3)]
    for _ in range(data.draw(st.integers(5, 25))):
        move = data.draw(st.sampled_from(("task", "task", "task", "time", "fire", "withdraw", "count")))
        case_id = data.draw(st.sampled_from(cases))
        if move == "count":  # the worker's sweep, between any two changes: the rollup folds in pieces
            rollup.catch_up(deps)
        elif move == "time":
            clock.advance(hours=data.draw(st.integers(1, 80)))
        elif move == "fire":
            with deps.uow() as uow:
                due = list(uow.session.scalars(select(Deadline.id).where(
                    Deadline.due_at <= clock.now(), Deadline.fired_at.is_(None), Deadline.cancelled_at.is_(None))))
            for deadline_id in due:
                firing.fire_deadline(deps, deadline_id)
        elif move == "withdraw" and data.draw(st.integers(0, 4)) == 0:
            try:
                services.withdraw_case(deps, user_id(deps, "worker"), case_id, "不需要了")
            except ConflictError:  # closed already: a withdrawal the property test may draw
                pass
        else:
            with deps.uow() as uow:
                tasks = list(uow.session.scalars(select(Task).where(Task.case_id == case_id, Task.is_open)
                                                 .order_by(Task.created_at, Task.id)))
            if not tasks:
                continue
            task = data.draw(st.sampled_from(tasks))
            payload = data_for(task.name, data.draw)
            for who in WHO.get(task.name, ()):
                try:
                    services.complete_task(deps, user_id(deps, who), task.id, payload)
                    break
                except (PermissionDenied, NotFoundError, GridflowError):
                    continue
    assert_rollup_equals_recount(deps)


def behind(deps) -> list[int]:
    with deps.uow() as uow:
        return list(uow.session.scalars(select(Case.id).where(rollup.BEHIND).order_by(Case.id)))


def test_a_filing_waits_for_the_worker_and_a_catch_up_counts_it_once(deps, clock):
    clock.set(indicator_set.MONDAY_2_MARCH)
    case_id = services.file_case(deps, user_id(deps, "worker"), services.NewCase(
        type="work_safety", title="待统计", severity="medium"))
    with deps.uow() as uow:
        assert rollup.stored(uow.session) == {}  # the filing's own transaction wrote nothing to the rollup
    assert behind(deps) == [case_id]
    assert rollup.catch_up(deps) == 1
    assert behind(deps) == [] and rollup.catch_up(deps) == 0  # nothing left: a second call counts nothing
    assert_rollup_equals_recount(deps)
    with deps.uow() as uow:
        [counts] = rollup.stored(uow.session).values()
    assert counts == {"reported": 1}


def test_a_case_held_by_a_use_case_is_left_for_the_next_catch_up(deps, clock, sql_engine):
    clock.set(indicator_set.MONDAY_2_MARCH)
    worker = user_id(deps, "worker")
    held, free = (services.file_case(deps, worker, services.NewCase(type="work_safety", title=f"并发 {i}",
                                                                     severity="medium")) for i in range(2))
    if sql_engine.dialect.name == "postgresql":  # SQLite has one writer at a time: nothing to skip there
        with deps.uow() as other:  # a use case in the middle of changing `held`
            other.session.execute(select(Case.id).where(Case.id == held).with_for_update())
            assert rollup.catch_up(deps) == 1
            assert behind(deps) == [held]
    assert rollup.catch_up(deps) == (1 if sql_engine.dialect.name == "postgresql" else 2)
    assert behind(deps) == [] and free
    assert_rollup_equals_recount(deps)


def test_the_worker_sweep_counts_what_changed(deps, clock):
    from engine.deadlines import jobs
    clock.set(indicator_set.MONDAY_2_MARCH)
    services.file_case(deps, user_id(deps, "worker"), services.NewCase(type="work_safety", title="扫描",
                                                                       severity="medium"))
    jobs.configure(deps)
    assert jobs.count_indicators() == 1 and behind(deps) == []
