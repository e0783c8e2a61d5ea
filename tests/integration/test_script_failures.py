"""A script that goes past its bounds leaves the case as it was, and the failure shows on the case's timeline:
whether a person's completion ran it or a worker's firing of a timer did."""
import pytest
from sqlalchemy import select

from engine.cases import failures, services
from engine.deadlines import firing
from engine.errors import ProcessError
from engine.process.catalogue import CaseType, FormField
from engine.store import timeline
from engine.store.model import Case, Task, TimelineEvent
from tests.helpers import open_task, timer_deadline, user_id

LIMITS = CaseType(code="limits", process_id="limits_case", title_zh="限度", title_en="Limits", open311_code="T-LIMITS",
                  folder="../tests/workflow/fixtures/limits", outcomes={"closed": "closed", "invalid": "invalid"},
                  forms={"register_case": (FormField("copies", "int", "份数", "Copies", max_value=10**9),)})


@pytest.fixture
def case_id(deps) -> int:
    deps.catalogue = {**deps.catalogue, LIMITS.code: LIMITS}
    return services.file_case(deps, user_id(deps, "worker"), services.NewCase(type="limits", title="限度"))


def snapshot(deps, case_id) -> tuple:
    with deps.uow() as uow:
        case = uow.session.get(Case, case_id)
        tasks = uow.session.execute(select(Task.name, Task.status).where(Task.case_id == case_id)).all()
        return case.state, case.status, case.closed_at, tasks


def events(deps, case_id) -> list[TimelineEvent]:
    with deps.uow() as uow:
        return list(uow.session.scalars(select(TimelineEvent).where(TimelineEvent.case_id == case_id)
                                        .order_by(TimelineEvent.seq)))


def test_a_completion_whose_script_goes_too_far_changes_nothing_and_says_so_on_the_case(deps, case_id):
    before = snapshot(deps, case_id)
    task = open_task(deps, case_id, "register_case")
    with pytest.raises(ProcessError, match="would be too large"):
        services.complete_task(deps, user_id(deps, "leader"), task.id, {"copies": 10**6})
    assert snapshot(deps, case_id) == before
    failed = events(deps, case_id)[-1]
    assert (failed.kind, failed.actor) == (failures.KIND, "leader")
    assert failed.payload == {"while": "completing register_case"}
    assert "would be too large" in failed.reason
    with deps.uow() as uow:
        assert timeline.verify(uow.session, case_id)["intact"]
    services.complete_task(deps, user_id(deps, "leader"), task.id, {"copies": 2})
    assert snapshot(deps, case_id)[1] == "closed"


def test_a_timer_whose_script_goes_too_far_is_recorded_once_and_the_case_keeps_waiting(deps, clock, case_id):
    deadline_id, due_at = timer_deadline(deps, case_id)
    clock.set(due_at)
    clock.advance(seconds=1)
    before = snapshot(deps, case_id)
    assert firing.fire_deadlines(deps, [deadline_id])["failed"] == 1
    assert firing.fire_deadlines(deps, [deadline_id])["failed"] == 1  # the sweep tries again later
    assert snapshot(deps, case_id) == before
    recorded = [e for e in events(deps, case_id) if e.kind == failures.KIND]
    assert len(recorded) == 1 and recorded[0].actor == "system"
    assert recorded[0].payload == {"while": "firing the timer deadline registration_late"}
    assert "would be too large" in recorded[0].reason
