"""Workers share due deadlines through short leases; alarms are one RQ job per second, the sweep wakes a worker."""
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from engine.cases import services
from engine.deadlines import firing, jobs
from engine.store.model import Case, Deadline, TimelineEvent
from tests.helpers import user_id

DISPUTE = services.NewCase(type="dispute", title="邻里纠纷", severity="medium")


def file_overdue(deps, clock, n: int, kind: str = "warning") -> list[int]:
    """n cases filed at Monday 09:00 with only their register_case deadline of `kind` left; now Tuesday."""
    clock.set(datetime(2026, 11, 23, 1, 0, tzinfo=UTC))  # a Monday 09:00 in Shanghai, past
    ids = [services.file_case(deps, user_id(deps, "worker"), DISPUTE) for _ in range(n)]
    chosen = (Deadline.name == "register_case") & (Deadline.kind == kind) & (
        (Deadline.fraction == 0.5) if kind == "warning" else Deadline.fraction.is_not(None))
    with deps.uow() as uow:
        uow.session.execute(update(Deadline).where(Deadline.case_id.in_(ids), ~chosen).values(cancelled_at=clock.now()))
        uow.commit()
    clock.set(datetime(2026, 11, 24, 1, 0, tzinfo=UTC))
    return ids


def test_two_leases_never_hold_the_same_deadline_and_a_lapsed_lease_is_taken_again(deps, clock):
    file_overdue(deps, clock, 30)
    first, second = firing.lease_due(deps, 20), firing.lease_due(deps, 20)
    assert len(first) == 20 and len(second) == 10 and not set(first) & set(second)
    assert firing.lease_due(deps, 20) == [] and firing.due_deadlines(deps) == []
    clock.advance(seconds=deps.lease.total_seconds() + 1)
    assert sorted(firing.lease_due(deps, 50)) == sorted(first + second)


def test_a_fired_deadline_is_never_leased_again(deps, clock):
    file_overdue(deps, clock, 2)
    [one, other] = firing.lease_due(deps, 20)
    assert firing.fire_deadline(deps, one) == "fired"
    clock.advance(seconds=deps.lease.total_seconds() + 1)
    assert firing.lease_due(deps, 20) == [other]


def test_a_warning_tells_people_without_touching_the_workflow(deps, clock):
    [case_id] = file_overdue(deps, clock, 1)
    with deps.uow() as uow:  # (the case row itself changes: its timeline head moves with the warning's event)
        before = uow.session.execute(select(Case.state, Case.status).where(Case.id == case_id)).one()
    [deadline_id] = firing.lease_due(deps)
    assert firing.fire_deadline(deps, deadline_id) == "fired"
    with deps.uow() as uow:
        after = uow.session.execute(select(Case.state, Case.status).where(Case.id == case_id)).one()
        kinds = uow.session.scalars(select(TimelineEvent.kind).where(TimelineEvent.case_id == case_id)).all()
    assert after == before and kinds.count("sla_warning") == 1


def test_the_alarm_for_a_second_fires_every_deadline_due_by_then_once(deps, clock):
    ids = file_overdue(deps, clock, 25, kind="breach")
    jobs.configure(deps)
    second = int((clock.now() - timedelta(seconds=1)).timestamp())
    assert jobs.fire_due(second) == {"fired": 25}
    assert deps.scheduler.helps_asked == 1  # the first batch came back full: a backlog
    assert jobs.fire_due(second) == {}  # a duplicate alarm finds nothing left
    with deps.uow() as uow:
        breached = uow.session.scalars(select(TimelineEvent.case_id).where(
            TimelineEvent.case_id.in_(ids), TimelineEvent.kind == "sla_breached")).all()
    assert sorted(breached) == sorted(ids)


def test_the_sweep_wakes_a_worker_only_when_something_due_is_unheld(deps, clock):
    jobs.configure(deps)
    file_overdue(deps, clock, 3)
    assert jobs.sweep() == 1 and len(deps.scheduler.woken_for) == 1
    firing.lease_due(deps)
    assert jobs.sweep() == 0 and len(deps.scheduler.woken_for) == 1


def test_one_deadline_that_cannot_fire_does_not_hold_back_its_batch(deps, clock):
    case_ids = file_overdue(deps, clock, 3)
    with deps.uow() as uow:  # an overdue-order deadline whose order is gone
        broken = Deadline(case_id=case_ids[0], kind="supervision", name="supervision_order", key="supervision:0",
                          due_at=clock.now() - timedelta(minutes=5))
        uow.session.add(broken)
        uow.commit()
    taken = firing.lease_due(deps, 20)
    assert broken.id in taken and len(taken) == 4
    assert firing.fire_deadlines(deps, taken) == {"fired": 3, "failed": 1}
    with deps.uow() as uow:
        unfired = uow.session.scalars(select(Deadline.id).where(Deadline.id.in_(taken), Deadline.fired_at.is_(None)))
        assert list(unfired) == [broken.id]
    assert firing.lease_due(deps, 20) == []  # it keeps its lease: no worker spins on it


def test_a_long_backlog_is_handed_to_a_fresh_job_before_rq_could_time_one_out(deps, clock, monkeypatch):
    file_overdue(deps, clock, 45)
    jobs.configure(deps)
    monkeypatch.setattr(jobs, "SLICE", 0.0)  # every batch uses up the slice
    second = int((clock.now() - timedelta(seconds=1)).timestamp())
    assert jobs.fire_due(second) == {"fired": jobs.BATCH}
    assert deps.scheduler.drains_later == 1
    assert jobs.drain() == {"fired": jobs.BATCH} and jobs.drain() == {"fired": 5}
    assert deps.scheduler.drains_later == 3 and jobs.drain() == {}
