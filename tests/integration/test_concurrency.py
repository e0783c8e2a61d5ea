"""One writer per case: racing claims and completions on the same task, on the real database."""
from functools import partial

from engine.cases import services
from engine.errors import ConflictError
from tests.helpers import open_task, race, user_id

DISPUTE = services.NewCase(type="dispute", title="邻里纠纷", severity="low")


def test_two_leaders_claiming_one_task_at_once_exactly_one_wins(deps):
    leader, village = user_id(deps, "leader"), user_id(deps, "village")
    for _ in range(10):
        task = open_task(deps, services.file_case(deps, user_id(deps, "worker"), DISPUTE))
        results = race(partial(services.claim_task, deps, leader, task.id),
                       partial(services.claim_task, deps, village, task.id))
        winners = [r for r in results if r is None]
        losers = [r for r in results if isinstance(r, ConflictError)]
        assert (len(winners), len(losers)) == (1, 1), results


def test_two_completions_of_one_task_at_once_advance_the_case_once(deps):
    leader, village = user_id(deps, "leader"), user_id(deps, "village")
    data = {"decision": "valid", "risk": "low", "violence": False}
    for _ in range(10):
        case_id = services.file_case(deps, user_id(deps, "worker"), DISPUTE)
        task = open_task(deps, case_id)
        results = race(partial(services.complete_task, deps, leader, task.id, data),
                       partial(services.complete_task, deps, village, task.id, data))
        assert sorted(type(r).__name__ for r in results) == ["ConflictError", "int"], results
        assert open_task(deps, case_id).name == "mediate_at_grid"
