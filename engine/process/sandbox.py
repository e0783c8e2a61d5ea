"""The script environment every workflow runs with: RestrictedPython, no imports, no dunders, bounded.

SpiffWorkflow's default engine runs any Python (`__import__('os')`, `open()`), and the documented
`TaskDataEnvironment(safe_globals)` recipe still lets `().__class__.__base__...` escape. Here every
expression, gateway condition, DMN cell and script is compiled by RestrictedPython and runs with
guarded attribute, item and iteration access, and within the size and time bounds of
engine/process/bounds.py: no `while`, no value grown past its bound in one step, no run past TIME_LIMIT.
"""
import datetime as _datetime
from functools import lru_cache

from RestrictedPython import limited_builtins, safe_builtins
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import full_write_guard, guarded_iter_unpack_sequence, guarded_unpack_sequence
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment

from engine.process import bounds

_BUILTINS = {**safe_builtins, **limited_builtins,
             "dict": dict, "list": list, "min": min, "max": max, "any": any,
             "all": all, "enumerate": enumerate, "sorted": sorted, "reversed": reversed, **bounds.BUILTINS}

_GLOBALS = {
    "__builtins__": _BUILTINS,
    "_getitem_": default_guarded_getitem,
    "_getiter_": default_guarded_getiter,
    "_write_": full_write_guard,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    **bounds.GUARDS,
    "timedelta": _datetime.timedelta,
}


@lru_cache(maxsize=4096)
def _code(source, mode):
    result = bounds.compile_bounded(source, mode)
    if result.errors:
        # Spiff's error formatter needs a line number on a SyntaxError.
        raise SyntaxError("; ".join(result.errors), ("<script>", 1, 1, source))
    return result.code


class RestrictedEnvironment(TaskDataEnvironment):
    """Evaluates and executes task scripts under RestrictedPython."""

    def __init__(self):
        super().__init__(dict(_GLOBALS))

    def evaluate(self, expression, context, external_context=None):
        scope = {**self.globals, **(external_context or {}), **context}
        code = _code(expression, "eval")
        with bounds.time_limit():
            return eval(code, scope)

    def execute(self, script, context, external_context=None):
        self.check_for_overwrite(context, external_context or {})
        context.update({**self.globals, **(external_context or {})})
        code = _code(script, "exec")
        try:
            with bounds.time_limit():
                exec(code, context)
        finally:
            self._remove_globals_and_functions_from_context(context, external_context)
        return True


def restricted_script_engine() -> PythonScriptEngine:
    """A script engine for one workflow; attach it at start and after every restore."""
    return PythonScriptEngine(environment=RestrictedEnvironment())
