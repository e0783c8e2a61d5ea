"""The guards every script and expression runs under: ordinary arithmetic and text work, runaway growth is
refused before it is made, and a long run is stopped."""
import pytest
from lxml import etree

from engine.process import bounds, specs
from engine.process.bounds import LimitExceeded
from engine.process.sandbox import RestrictedEnvironment


@pytest.fixture
def env():
    return RestrictedEnvironment()


def test_ordinary_scripts_still_work(env):
    data = {"items": [3, 1, 2], "name": "李"}
    env.execute("total = sum(items) + 2 ** 10\nlabel = f'{name}-{total:05d}'\nshare = '%.1f' % (total / 3)\n"
                "doubled = [i * 2 for i in items]\nrow = ', '.join(str(i) for i in sorted(items))\n"
                "pad = name.ljust(4, '.')\nfloor = math.floor(2.7)\n", data)
    assert (data["total"], data["label"], data["share"]) == (1030, "李-01030", "343.3")
    assert (data["doubled"], data["row"], data["pad"], data["floor"]) == ([6, 2, 4], "1, 2, 3", "李...", 2)


@pytest.mark.parametrize("expression", [
    "big ** big", "pow(2, big)", "'x' * big", "[0] * big", "big * 'x'", "1 << big", "f'{1:>{big}}'",
    "'%*d' % (big, 1)", "'x'.ljust(big)", "'x'.zfill(big)", "('a' * 1000).replace('', 'x' * 1000)",
    "'-'.join(['x' * 1000] * 200)", "sum([[0] * 1000] * 200, [])", "format(1, '>' + str(big))",
])
def test_growth_past_a_bound_is_refused_before_it_is_made(env, expression):
    with pytest.raises(LimitExceeded):
        env.evaluate(expression, {"big": 10**8})


@pytest.mark.parametrize("script", [
    "s = 'ab'\nfor i in range(100):\n    s += s",
    "x = [1]\nfor i in range(100):\n    x.extend(x)",
    "x = [1]\nfor i in range(100):\n    x = x + x",
    "n = 10\nfor i in range(10):\n    n = n ** 10",
    "n = 3\nfor i in range(100):\n    n *= n",
])
def test_growth_a_step_at_a_time_is_refused_at_the_step_that_passes_the_bound(env, script):
    with pytest.raises(LimitExceeded):
        env.execute(script, {})


def test_a_long_run_is_stopped_at_the_time_limit(env, monkeypatch):
    monkeypatch.setattr(bounds, "TIME_LIMIT", 0.05)
    nested = "for i in range(999):\n    for j in range(999):\n        for k in range(999):\n            x = 1"
    with pytest.raises(LimitExceeded, match="ran for more than"):
        env.execute(nested, {})
    with pytest.raises(LimitExceeded, match="ran for more than"):
        env.evaluate("[1 for i in range(999) for j in range(999) for k in range(999)]", {})


def test_waiting_for_the_processor_is_not_running(monkeypatch):
    """A busy machine can leave a process waiting past the limit: only the time it ran counts."""
    import time

    def after_waiting():
        return "ran"
    with bounds.time_limit(0.05):
        time.sleep(0.2)  # off the processor, as a process waiting its turn is
        assert after_waiting() == "ran"  # a traced call past the wall-clock deadline


def test_the_collector_is_put_back_after_a_bounded_run(env):
    import gc
    assert gc.isenabled()
    env.evaluate("1 + 1", {})
    assert gc.isenabled()


def test_the_trace_of_whoever_ran_the_script_is_put_back(env):
    import sys
    before = sys.gettrace()
    env.evaluate("1 + 1", {})
    assert sys.gettrace() is before


def test_a_while_loop_does_not_compile_even_at_run_time(env):
    with pytest.raises(SyntaxError, match="while loops are not allowed"):
        env.execute("while x:\n    x = x - 1", {"x": 3})


def test_functions_that_one_call_could_keep_busy_for_hours_are_not_offered(env):
    for name in ("factorial", "comb", "perm"):
        assert not hasattr(env.globals["__builtins__"]["math"], name)
    assert not hasattr(env.globals["__builtins__"]["random"], "randbytes")


def test_dmn_cells_are_checked_as_spiff_evaluates_them():
    dmn = etree.fromstring(b"""<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/">
      <decision id="d"><decisionTable id="t">
        <input id="i"><inputExpression id="e"><text>amount</text></inputExpression></input>
        <output id="o" name="result"/>
        <rule id="ok"><inputEntry id="a"><text>&gt; 5</text></inputEntry>
          <outputEntry id="b"><text>1</text></outputEntry></rule>
        <rule id="range"><inputEntry id="c"><text>4 &lt; ? &lt; 6</text></inputEntry>
          <outputEntry id="f"><text>"x"</text></outputEntry></rule>
        <rule id="huge"><inputEntry id="g"><text>-</text></inputEntry>
          <outputEntry id="h"><text>9 ** 9 ** 9</text></outputEntry></rule>
      </decisionTable></decision></definitions>""")
    assert specs.script_problems("t.dmn", dmn) == [
        "t.dmn outputEntry 'h': Line 1: a power would be too large: about 1,162,261,468 bits, at most 10,000"]
