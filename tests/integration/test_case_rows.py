"""A case's tasks, clocks and deadlines, read once per transaction and kept in step with what the step adds."""
from datetime import UTC, datetime

from sqlalchemy import func, select

from engine.cases import services
from engine.store import case_rows
from engine.store.model import Deadline, Notification, SlaClock, Task
from tests.helpers import statements, user_id

DISPUTE = services.NewCase(type="dispute", title="邻里纠纷", severity="medium")


def _filed(deps, clock, count=1) -> list[int]:
    clock.set(datetime(2026, 11, 23, 1, 0, tzinfo=UTC))
    return [services.file_case(deps, user_id(deps, "worker"), DISPUTE) for _ in range(count)]


def test_a_batch_of_cases_is_read_in_three_statements_and_then_from_memory(deps, clock):
    first, second = _filed(deps, clock, 2)
    with deps.uow() as uow:
        session = uow.session
        session.execute(select(1))  # the transaction has begun: what follows is counted alone
        with statements(deps) as seen:
            case_rows.load(session, [first, second])
            read = len(seen)
            rows = case_rows.of(session, first)
            assert [t.name for t in rows.open_tasks()] == ["register_case"]
            assert {c.step for c in rows.running_clocks()} == {"case", "register_case"}
            assert {d.kind for d in rows.pending()} == {"timer", "warning", "breach"}
            assert case_rows.of(session, second).open_tasks()[0].case_id == second
        assert (read, len(seen)) == (3, 3)


def test_rows_a_step_adds_or_changes_are_what_it_reads_next(deps, clock):
    case_id, = _filed(deps, clock)
    with deps.uow() as uow:
        session = uow.session
        rows = case_rows.of(session, case_id)
        task = rows.open_tasks()[0]
        task.status = "completed"
        session.add(Task(id="t-new", case_id=case_id, name="dispatch", title="派遣", candidate_role="leader",
                         grid_id=task.grid_id, status="open", created_at=clock.now()))
        assert [t.id for t in rows.open_tasks()] == ["t-new"]
        step_clock = next(c for c in rows.clocks if c.step == "register_case")
        breach, = rows.pending(kind="breach", clock=step_clock)
        breach.fired_at = clock.now()
        assert breach not in rows.pending() and rows.fired_fractions(step_clock) == {1.0}


def test_rows_written_at_once_have_ids_and_join_the_case(deps, clock):
    case_id, = _filed(deps, clock)
    with deps.uow() as uow:
        session = uow.session
        rows = case_rows.of(session, case_id)
        clock_row = SlaClock(case_id=case_id, step="dispatch", amount=1.0, unit="working_days", policy="",
                             started_at=clock.now(), due_at=clock.now(), generation=0, explanation={})
        written, = case_rows.write_now(session, [clock_row])
        assert written.id is not None and written in rows.running_clocks()
        assert session.scalar(select(SlaClock.step).where(SlaClock.id == written.id)) == "dispatch"


def test_a_rolled_back_savepoint_makes_the_rows_read_again(deps, clock):
    case_id, = _filed(deps, clock)
    with deps.uow() as uow:
        session = uow.session
        with session.begin_nested() as savepoint:
            case_rows.of(session, case_id)
            session.add(Deadline(case_id=case_id, key="extra", kind="timer", name="x", due_at=clock.now()))
            savepoint.rollback()
        assert "extra" not in {d.key for d in case_rows.of(session, case_id).pending()}


def test_cancellations_and_notices_of_many_cases_go_in_at_the_commit_one_statement_each(deps, clock):
    cases, leader = _filed(deps, clock, 3), user_id(deps, "leader")
    with deps.uow() as uow:
        session = uow.session
        case_rows.load(session, cases)
        cancelled = [d for case_id in cases for d in case_rows.of(session, case_id).pending(kind="warning")]
        case_rows.cancel(session, cancelled, clock.now())
        for case_id in cases:
            case_rows.insert_at_commit(session, Notification, [{"user_id": leader, "case_id": case_id,
                                                                "kind": "sla_warning", "message": "将超时",
                                                                "created_at": clock.now()}])
        assert all(d.cancelled_at == clock.now() for d in cancelled)
        assert not any(d in case_rows.of(session, d.case_id).pending() for d in cancelled)
        with statements(deps) as seen:
            uow.commit()
        assert sum(s.startswith(("UPDATE deadlines", "INSERT INTO notifications")) for s in seen) == 2
    with deps.uow() as uow:
        ids = [d.id for d in cancelled]
        assert uow.session.scalar(select(func.count()).select_from(Deadline).where(
            Deadline.id.in_(ids), Deadline.cancelled_at.is_not(None))) == len(ids) >= 3
        assert uow.session.scalar(select(func.count()).select_from(Notification).where(
            Notification.case_id.in_(cases))) == 3


def test_a_rolled_back_transaction_forgets_its_cancellations_and_notices(deps, clock):
    (case_id,), leader = _filed(deps, clock), user_id(deps, "leader")
    with deps.uow() as uow:
        session = uow.session
        warning = case_rows.of(session, case_id).pending(kind="warning")[0]
        case_rows.cancel(session, [warning], clock.now())
        case_rows.insert_at_commit(session, Notification, [{"user_id": leader, "case_id": case_id,
                                                            "kind": "sla_warning", "message": "将超时",
                                                            "created_at": clock.now()}])
        session.rollback()
        assert warning.cancelled_at is None  # read again as stored
        uow.commit()
    with deps.uow() as uow:
        assert uow.session.get(Deadline, warning.id).cancelled_at is None
        assert uow.session.scalar(select(func.count()).select_from(Notification)) == 0
