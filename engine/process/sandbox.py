"""The script environment every workflow runs with: RestrictedPython, no imports, no dunders.

SpiffWorkflow's default engine runs any Python (`__import__('os')`, `open()`), and the documented
`TaskDataEnvironment(safe_globals)` recipe still lets `().__class__.__base__...` escape. Here every
expression, gateway condition, DMN cell and script is compiled by RestrictedPython and runs with
guarded attribute, item and iteration access. It does not stop an endless loop: engine steps run
inside a request or a job that has its own timeout.
"""
import datetime as _datetime
from functools import lru_cache

from RestrictedPython import (
    compile_restricted_eval,
    compile_restricted_exec,
    limited_builtins,
    safe_builtins,
    utility_builtins,
)
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safer_getattr,
)
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment

_BUILTINS = {**safe_builtins, **limited_builtins,
             **{k: v for k, v in utility_builtins.items() if k in ("math", "random")},
             "dict": dict, "list": list, "sum": sum, "min": min, "max": max, "any": any,
             "all": all, "enumerate": enumerate, "sorted": sorted, "reversed": reversed}

_GLOBALS = {
    "__builtins__": _BUILTINS,
    "_getattr_": safer_getattr,
    "_getitem_": default_guarded_getitem,
    "_getiter_": default_guarded_getiter,
    "_write_": full_write_guard,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_inplacevar_": lambda op, x, y: _INPLACE[op](x, y),
    "timedelta": _datetime.timedelta,
}

_INPLACE = {"+=": lambda x, y: x + y, "-=": lambda x, y: x - y, "*=": lambda x, y: x * y}


@lru_cache(maxsize=4096)
def _code(source, mode):
    compile_ = compile_restricted_eval if mode == "eval" else compile_restricted_exec
    result = compile_(source)
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
        return eval(_code(expression, "eval"), scope)

    def execute(self, script, context, external_context=None):
        self.check_for_overwrite(context, external_context or {})
        context.update({**self.globals, **(external_context or {})})
        try:
            exec(_code(script, "exec"), context)
        finally:
            self._remove_globals_and_functions_from_context(context, external_context)
        return True


def restricted_script_engine() -> PythonScriptEngine:
    """A script engine for one workflow; attach it at start and after every restore."""
    return PythonScriptEngine(environment=RestrictedEnvironment())
