"""Scripts and expressions are bounded: what can be told from the diagram is refused when it is parsed, the
rest fails cleanly when it runs, with and without a save/restore between steps."""
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from engine.errors import ProcessError
from engine.process import bounds, runner, specs

BPMN = (Path(__file__).parent / "fixtures" / "limits" / "limits_case.bpmn").read_text()
SCRIPT = 'padding = "x" * copies'
CONDITION = "len(padding) == 0"


def parse(bpmn: str = BPMN):
    return specs.parse("limits_case", {"limits/limits_case.bpmn": bpmn})


@pytest.mark.parametrize(("script", "problem"), [
    ("while True:\n    pass", "while loops are not allowed"),
    ("n = 10**10**7", "a power would be too large"),
    ("padding = 'x' * 10**9", "a repeated sequence would be too large"),
    ("bits = 1 << 10**8", "a shifted integer would be too large"),
    ("text = '%1000000000d' % 1", "width"),
])
def test_a_script_that_cannot_finish_or_fit_is_refused_when_the_diagram_is_parsed(script, problem):
    with pytest.raises(ProcessError) as refused:
        parse(BPMN.replace(SCRIPT, escape(script)))
    assert "scriptTask 'compute_padding'" in refused.value.message and problem in refused.value.message


def test_a_condition_is_checked_like_a_script():
    with pytest.raises(ProcessError) as refused:
        parse(BPMN.replace(CONDITION, "len(padding) == 10**10**7"))
    assert "sequenceFlow 'flow_to_empty'" in refused.value.message and "too large" in refused.value.message


@pytest.fixture(params=[False, True], ids=["in-memory", "restored"])
def run(request):
    """Start the process and complete its registration with `data`, restoring between the steps if asked."""
    spec = parse()

    def _run(data: dict):
        workflow, step = runner.start(spec, {})
        if request.param:
            workflow = runner.restore(spec, runner.dump(spec, workflow))
        return runner.complete(workflow, step.ready[0].id, data)
    return _run


def test_a_script_within_its_bounds_runs(run):
    step = run({"copies": 3})
    assert step.completed and step.outcome == "closed"


@pytest.mark.parametrize("copies", [10**9, 10**6])
def test_a_value_grown_too_large_at_run_time_fails_as_a_process_error(run, copies):
    with pytest.raises(ProcessError, match="would be too large"):
        run({"copies": copies})


def test_a_script_that_runs_too_long_is_stopped(monkeypatch, run):
    monkeypatch.setattr(bounds, "TIME_LIMIT", 0.05)
    slow = "for i in range(999):\n    for j in range(999):\n        for k in range(999):\n            padding = ''"
    spec = parse(BPMN.replace(SCRIPT, slow))
    workflow, step = runner.start(spec, {})
    with pytest.raises(ProcessError, match="ran for more than 0.05 s"):
        runner.complete(workflow, step.ready[0].id, {"copies": 1})
