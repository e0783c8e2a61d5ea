"""What a step costs: round trips per use case within a budget, and the saved workflow's size.

Round trips per use case, within a budget: a change that adds statements to a step fails here until the
budget below is raised on purpose (and docs/architecture.md, "Statements per use case", says why).

The counts are of statements sent to the database (SQLite's BEGIN included; psycopg sends PostgreSQL's BEGIN and
COMMIT itself, uncounted), after a warm-up filing so that per-process caches (the deployed version, the parsed
spec) are filled, as in a running server."""
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, update

from engine.cases import services
from engine.deadlines import firing
from engine.read import views
from engine.store.model import Case, Deadline, User
from tests.helpers import open_task, statements, user_id
from workflows import CATALOGUE

BUDGETS = {  # use case -> statements at most (measured: SQLite / PostgreSQL)
    # counted in these: the webhook outbox reads the endpoints once when a change is a webhook event
    # (engine/store/outbox.py); the indicators' rollup adds none: the worker folds the changed cases in batches
    # (engine/indicators/rollup.py); a step reads its case's tasks, clocks and deadlines once
    # (engine/store/case_rows.py)
    "file a dispute": 14,  # 14 / 12 (the case number is one upsert)
    "claim a task": 9,  # 9 / 8 (the case locked by the task's id; the task read once, after the lock)
    "register it": 19,  # 19 / 18 (and the leader's grid, read for their grid path, is the task's)
    "a breach escalates it": 23,  # 23 / 22
    "a leader's inbox": 4,  # 4 / 3
    "a case's page for its reporter": 5,  # 5 / 4 (its grids and reporter read with the case; no BEGIN on PostgreSQL)
    "a case's page for a supervisor": 6,  # 6 / 5 (and the supervisor's grid, for their grid path)
}
DISPUTE = services.NewCase(type="dispute", title="邻里纠纷", severity="medium")


@contextmanager
def counted(deps, into: dict, name: str):
    with statements(deps) as seen:
        yield
    into[name] = len(seen)


def test_each_use_case_keeps_to_its_statement_budget(deps, clock):
    clock.set(datetime(2026, 11, 23, 1, 0, tzinfo=UTC))  # Monday 09:00 in Shanghai
    worker, leader, supervisor = user_id(deps, "worker"), user_id(deps, "leader"), user_id(deps, "supervisor")
    services.file_case(deps, worker, DISPUTE)  # the warm-up: deploys the version, parses the spec
    counts = {}
    with counted(deps, counts, "file a dispute"):
        case_id = services.file_case(deps, worker, DISPUTE)
    task = open_task(deps, case_id, "register_case")
    with counted(deps, counts, "claim a task"):
        services.claim_task(deps, leader, task.id)
    with counted(deps, counts, "register it"):
        services.complete_task(deps, leader, task.id, {"decision": "valid", "risk": "low", "violence": False})
    with deps.uow() as uow:
        leader_row, worker_row = uow.session.get(User, leader), uow.session.get(User, worker)
        supervisor_row = uow.session.get(User, supervisor)
        uow.session.expunge_all()
    with counted(deps, counts, "a leader's inbox"):
        views.list_tasks(deps, leader_row)
    with counted(deps, counts, "a case's page for its reporter"):  # what POST /api/v1/cases answers with
        assert views.case_detail(deps, worker_row, case_id)["reporter"] == "worker"
    with counted(deps, counts, "a case's page for a supervisor"):  # sees it by grid, not by a task of theirs
        assert views.case_detail(deps, supervisor_row, case_id)["reporter"] == "worker"
    with deps.uow() as uow:
        breach = uow.session.scalar(select(Deadline.id).where(
            Deadline.case_id == case_id, Deadline.kind == "breach", Deadline.cancelled_at.is_(None),
            Deadline.name != "case"))
        uow.session.execute(update(Deadline).where(Deadline.id == breach).values(due_at=clock.now()))
        uow.commit()
    with counted(deps, counts, "a breach escalates it"):
        assert firing.fire_deadline(deps, breach) == "fired"
    over = {name: (count, BUDGETS[name]) for name, count in counts.items() if count > BUDGETS[name]}
    assert over == {}, f"statements (counted, budget): {over}; all counted: {counts}"


@pytest.mark.parametrize("case_type", sorted(CATALOGUE))
def test_an_open_case_of_every_type_keeps_its_saved_workflow_under_10_kb(deps, case_type):
    case_id = services.file_case(deps, user_id(deps, "worker"),
                                 services.NewCase(type=case_type, title="测试", severity="high"))
    with deps.uow() as uow:
        stored = uow.session.scalar(select(func.length(Case.__table__.c.state)).where(Case.id == case_id))
        plain = len(uow.session.get(Case, case_id).state.encode())
    assert stored <= 10 * 1024, f"{case_type}: {stored} bytes stored ({plain} as JSON)"
