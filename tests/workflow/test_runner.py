"""The runner on a tiny process, each scenario with and without a save/restore between steps."""
from datetime import timedelta
from pathlib import Path

import pytest

from engine.errors import ConflictError, ProcessError
from engine.process import runner, specs
from tests.workflow.harness import Case

TINY = {"tiny.bpmn": (Path(__file__).parent / "fixtures" / "tiny.bpmn").read_text()}


@pytest.fixture(scope="module")
def spec():
    return specs.parse("tiny", TINY)


@pytest.fixture
def case(spec, roundtrip):
    """A tiny case; its workflow is saved and restored before every step when `roundtrip` says so."""
    return Case(spec, {"severity": "low"}, roundtrip)


def test_a_started_workflow_waits_at_its_first_manual_task_with_lane_and_properties(case):
    [task] = case.step.ready
    assert (task.name, task.title, task.lane, task.properties) == ("approve", "Approve", "clerk", {"role": "clerk"})
    assert [t.name for t in case.step.timers] == ["too_late"]


def test_completing_a_task_runs_the_gateway_to_the_matching_end(case):
    step = case.do(runner.complete, case.step.ready[0].id, {"approved": False})
    assert step.completed and step.outcome == "rejected" and step.ready == [] and step.timers == []


def test_a_task_that_is_no_longer_ready_cannot_be_completed_again(case):
    task_id = case.step.ready[0].id
    case.do(runner.complete, task_id, {"approved": True})
    with pytest.raises(ConflictError):
        case.do(runner.complete, task_id, {"approved": True})


def test_an_unknown_task_id_is_a_conflict_not_a_crash(case):
    with pytest.raises(ConflictError):
        case.do(runner.complete, "not-a-uuid", {})


def test_a_message_interrupts_the_task(case):
    step = case.do(runner.send_message, "escalate_now", {"by": "supervisor"})
    assert step.outcome == "escalated"


def test_a_message_nothing_waits_for_is_a_conflict(case):
    with pytest.raises(ConflictError):
        case.do(runner.send_message, "nobody_listens")


def test_the_timer_fires_only_after_its_due_time_and_then_wins_over_the_task(clock, spec):
    workflow, step = runner.start(spec, {})
    due = step.timers[0].due_at
    assert due == clock.now() + timedelta(hours=1)
    clock.set(due)
    assert runner.advance(workflow).timers  # strictly after the due time, not at it
    clock.advance(seconds=1)
    workflow = runner.restore(spec, runner.dump(spec, workflow))
    fired = runner.advance(workflow)
    assert fired.outcome == "timed_out"
    assert {"task": "too_late", "title": None, "timeline": "timed_out"} in fired.happened


def test_a_late_completion_loses_to_an_expired_timer(clock, spec):
    workflow, step = runner.start(spec, {})
    clock.advance(hours=2)
    with pytest.raises(ConflictError):
        runner.complete(workflow, step.ready[0].id, {"approved": True})


def test_saved_state_leaves_the_spec_out(spec):
    workflow, _ = runner.start(spec, {})
    state = runner.dump(spec, workflow)
    assert '"spec"' not in state and "subprocess_specs" not in state
    assert runner.restore(spec, state).spec is spec.spec


@pytest.mark.parametrize("script", [
    "__import__('os').system('true')",
    "().__class__.__base__.__subclasses__()",
    "open('/etc/passwd').read()",
    "getattr(1, '__class__')",
])
def test_scripts_run_in_the_sandbox_after_a_restore(spec, script):
    workflow, _ = runner.start(spec, {})
    restored = runner.restore(spec, runner.dump(spec, workflow))
    with pytest.raises(Exception) as caught:
        restored.script_engine.environment.evaluate(script, {})
    assert isinstance(caught.value, (SyntaxError, NameError, AttributeError))


def test_an_invalid_diagram_is_a_process_error():
    with pytest.raises(ProcessError):
        specs.parse("tiny", {"tiny.bpmn": TINY["tiny.bpmn"].replace('targetRef="approve"', 'targetRef="nowhere"')})
    with pytest.raises(ProcessError):
        specs.parse("tiny", {"tiny.bpmn": "<not-xml"})
