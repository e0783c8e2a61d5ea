"""A real RQ worker process fires deadlines: scheduled ones, and ones the sweep recovers."""
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import redis
from sqlalchemy import select

from engine.cases import services
from engine.deadlines import firing
from engine.deadlines.scheduler import RQScheduler
from engine.store import timeline
from engine.store.model import Deadline, TimelineEvent
from tests.helpers import timer_deadline, user_id

ROOT = Path(__file__).resolve().parents[2]
DISPUTE = services.NewCase(type="dispute", title="邻里噪音纠纷", severity="medium")


def wait_for_reminder(deps, case_id, seconds=30.0):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        with deps.uow() as uow:
            kinds = list(uow.session.scalars(select(TimelineEvent.kind).where(TimelineEvent.case_id == case_id)))
        if "reminded" in kinds:
            return kinds
        time.sleep(0.2)
    raise AssertionError(f"no reminder within {seconds}s; timeline: {kinds}")


def file_three_hours_ago(deps, clock):
    clock.set(datetime.now(UTC) - timedelta(hours=3))  # the 2-hour reminder is an hour overdue
    return services.file_case(deps, user_id(deps, "worker"), DISPUTE)


def test_the_worker_fires_the_register_reminder_that_rq_scheduled(deps, clock, redis_url, settings, start_worker):
    deps.scheduler = RQScheduler(redis.Redis.from_url(redis_url), settings.queue_name)
    case_id = file_three_hours_ago(deps, clock)
    with deps.uow() as uow:
        seconds = {int(d.timestamp()) for d in uow.session.scalars(select(Deadline.due_at).where(
            Deadline.case_id == case_id))}
    assert sorted(deps.scheduler.queue.scheduled_job_registry.get_job_ids()) == sorted(
        deps.scheduler.job_id(s) for s in seconds)  # one alarm per second in which something falls due
    start_worker()
    kinds = wait_for_reminder(deps, case_id)
    assert kinds.count("reminded") == 1
    with deps.uow() as uow:
        deadline = uow.session.scalar(select(Deadline).where(Deadline.case_id == case_id, Deadline.kind == "timer"))
        assert timeline.verify(uow.session, case_id)["intact"]  # the worker sealed its events under the same key
    assert deadline.fired_at is not None and deadline.attempts == 1


def test_a_deadline_saved_while_redis_was_down_is_fired_by_the_sweep(deps, clock, redis_url, settings,
                                                                      start_worker):
    deps.scheduler = RQScheduler(redis.Redis(port=1, socket_connect_timeout=0.2), settings.queue_name)
    case_id = file_three_hours_ago(deps, clock)  # commits although the alarm could not be set
    with deps.uow() as uow:
        assert uow.session.scalar(select(Deadline.fired_at).where(Deadline.case_id == case_id,
                                                                  Deadline.kind == "timer")) is None
    start_worker()
    assert wait_for_reminder(deps, case_id).count("reminded") == 1


def test_a_job_woken_before_the_due_time_does_not_fire(deps, clock):
    case_id = services.file_case(deps, user_id(deps, "worker"), DISPUTE)
    deadline_id, due_at = timer_deadline(deps, case_id)
    clock.set(due_at - timedelta(milliseconds=400))  # RQ truncates to whole seconds and can wake this early
    assert firing.fire_deadline(deps, deadline_id) == "early"
    with deps.uow() as uow:
        assert "reminded" not in uow.session.scalars(
            select(TimelineEvent.kind).where(TimelineEvent.case_id == case_id)).all()


def test_the_worker_fires_an_overdue_breach_once_with_a_supervision_order(deps, clock, redis_url, settings,
                                                                          start_worker):
    from engine.store.model import SupervisionOrder
    deps.scheduler = RQScheduler(redis.Redis.from_url(redis_url), settings.queue_name)
    clock.set(datetime(2026, 11, 2, 1, 0, tzinfo=UTC))  # Monday 09:00 in Shanghai, long past
    case_id = services.file_case(deps, user_id(deps, "worker"), DISPUTE)
    start_worker()
    end = time.monotonic() + 30
    while time.monotonic() < end:
        with deps.uow() as uow:
            breaches = uow.session.scalars(select(TimelineEvent).where(
                TimelineEvent.case_id == case_id, TimelineEvent.kind == "sla_breached")
                .order_by(TimelineEvent.seq)).all()
            if breaches:
                break
        time.sleep(0.2)
    assert [b.payload["step"] for b in breaches][:1] == ["register_case"]
    time.sleep(1.5)  # let any duplicate job run: it must find the deadline fired
    with deps.uow() as uow:
        orders = uow.session.scalars(select(SupervisionOrder).where(SupervisionOrder.case_id == case_id)).all()
        breached = uow.session.scalars(select(TimelineEvent).where(
            TimelineEvent.case_id == case_id, TimelineEvent.kind == "sla_breached")).all()
        register_breaches = [b for b in breached if b.payload["step"] == "register_case"]
    assert len(register_breaches) == 1 and len([o for o in orders if "立案登记" in o.reason]) == 1
