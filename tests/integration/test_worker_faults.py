"""Real worker processes killed with SIGKILL, and two workers sharing a backlog: every breach escalates once."""
import os
import signal
import time

import pytest
import redis
from sqlalchemy import func, select, text

from engine.deadlines.scheduler import RQScheduler
from engine.store.model import Deadline
from tests.helpers import breach_counts
from tests.integration.test_leases import file_overdue
from tests.processes import wait_for

FAST = {"GRIDFLOW_LEASE_SECONDS": "2", "GRIDFLOW_SWEEP_SECONDS": "1"}


def overdue_breaches(deps, case_ids) -> list[int]:
    with deps.uow() as uow:
        return list(uow.session.scalars(select(Deadline.id).where(
            Deadline.case_id.in_(case_ids), Deadline.kind == "breach", Deadline.fired_at.is_(None),
            Deadline.cancelled_at.is_(None), Deadline.due_at <= deps.clock.now())))


def unfired(deps, deadline_ids) -> int:
    """How many of these deadlines have not fired (a breach that escalates starts new clocks: not counted)."""
    with deps.uow() as uow:
        return uow.session.scalar(select(func.count()).where(Deadline.id.in_(deadline_ids),
                                                             Deadline.fired_at.is_(None)))


def alive(process_group: int) -> bool:
    """Whether any process of the group is left (each worker starts one; its scheduler child is in it)."""
    try:
        os.killpg(process_group, 0)
        return True
    except ProcessLookupError:
        return False


def use_redis(deps, redis_url, settings):
    deps.scheduler = RQScheduler(redis.Redis.from_url(redis_url), settings.queue_name)


def test_a_worker_killed_in_the_middle_of_a_breach_leaves_it_to_escalate_exactly_once(
        deps, clock, redis_url, settings, start_worker, sql_engine):
    if sql_engine.dialect.name != "postgresql":
        pytest.skip("SQLite lets one writer in at a time: a firing cannot be held half way from outside")
    case_ids = file_overdue(deps, clock, 1, kind="breach")  # its alarm is already due
    breaches = overdue_breaches(deps, case_ids)
    with sql_engine.connect() as blocker:  # the firing writes its order and timeline, then waits here
        blocker.execute(text("LOCK TABLE notifications IN EXCLUSIVE MODE"))
        worker = start_worker(**FAST)

        def waiting_on_notifications():
            with sql_engine.connect() as c:
                return c.scalar(text("SELECT count(*) FROM pg_locks l JOIN pg_class r ON r.oid = l.relation "
                                     "WHERE r.relname = 'notifications' AND NOT l.granted")) > 0
        wait_for(waiting_on_notifications, what="the worker blocked half way through the firing")
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        blocker.rollback()
    assert unfired(deps, breaches) == 1 and breach_counts(deps, case_ids) == ([0], [0], [0])
    start_worker(**FAST)
    wait_for(lambda: unfired(deps, breaches) == 0, what="the breach fired after the lease ran out")
    time.sleep(2.5)  # another sweep and lease period: nothing may fire twice
    assert breach_counts(deps, case_ids) == ([1], [1], [1])


def test_two_workers_share_a_backlog_and_one_killed_midway_loses_and_doubles_nothing(
        deps, clock, redis_url, settings, start_worker):
    use_redis(deps, redis_url, settings)
    case_ids = file_overdue(deps, clock, 60, kind="breach")
    breaches = overdue_breaches(deps, case_ids)
    first = start_worker(**FAST)
    start_worker(**FAST)
    wait_for(lambda: unfired(deps, breaches) < 50, what="the workers started on the backlog")
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    wait_for(lambda: not alive(first.pid), seconds=10, what="RQ's scheduler child gone with its worker")
    wait_for(lambda: unfired(deps, breaches) == 0, what="the whole backlog fired")
    time.sleep(2.5)
    assert breach_counts(deps, case_ids) == ([1] * 60, [1] * 60, [1] * 60)
    with deps.uow() as uow:
        attempts = uow.session.scalars(select(Deadline.attempts).where(
            Deadline.id.in_(breaches))).all()
    assert set(attempts) == {1}  # a firing rolled back by the kill leaves no trace


def test_alarms_lost_with_a_restarted_redis_are_made_good_by_the_sweep_once(
        deps, clock, redis_url, settings, start_worker):
    use_redis(deps, redis_url, settings)
    case_ids = file_overdue(deps, clock, 5, kind="breach")
    breaches = overdue_breaches(deps, case_ids)
    connection = redis.Redis.from_url(redis_url)
    assert deps.scheduler.queue.scheduled_job_registry.count > 0
    connection.flushdb()  # a Redis that keeps nothing on disk comes back empty
    start_worker(**FAST)
    wait_for(lambda: unfired(deps, breaches) == 0, what="the sweep fired what Redis forgot")
    time.sleep(2.5)
    assert breach_counts(deps, case_ids) == ([1] * 5, [1] * 5, [1] * 5)
