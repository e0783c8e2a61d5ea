"""Bounds on what a BPMN script, condition or DMN cell may compute: how big its values grow and how long it runs.

Checked where it can be, when a diagram is parsed (`check`): no `while` loop (a script must finish: loop over
a list or a `range()`, which RestrictedPython caps at 1,000), and no constant that is too large to build
(`10**10**7`, `'x' * 10**9`). Checked where it must be, while it runs: the operations that can make a value
huge in one step (`**`, `*`, `+`, `<<`, `%` and f-string widths, `pow`, `sum`, and `join`, `replace`,
`ljust` & co. on strings, `extend` on lists) go through guards that refuse a result over MAX_INT_BITS bits or
MAX_ITEMS items before making it, and a trace function stops anything that runs longer than TIME_LIMIT
seconds. Both raise LimitExceeded, a ProcessError: the service's transaction is rolled back and the failure
recorded on the case (engine/cases/failures.py).

What this is not: a memory limit for the process. Values that grow a little at a time stay bounded by the
time limit; a single call into C code (a huge `sorted`) is not interrupted until it returns.
"""
import ast
import gc
import math
import operator
import random
import re
import sys
import time
from contextlib import contextmanager
from types import SimpleNamespace

from RestrictedPython import RestrictingNodeTransformer, compile_restricted_eval, compile_restricted_exec
from RestrictedPython.Guards import safer_getattr

from engine.errors import ProcessError

MAX_INT_BITS = 10_000  # about 3,000 decimal digits
MAX_ITEMS = 100_000  # characters of a string, items of a list or tuple
TIME_LIMIT = 1.0  # seconds for one script or expression
SEQUENCES = (str, bytes, list, tuple)


class LimitExceeded(ProcessError):
    """A script or expression went beyond a bound: too large a value, too long a run, an endless loop."""


def _too_big(what: str, size: int, unit: str, limit: int):
    return LimitExceeded(f"{what} would be too large: about {size:,} {unit}, at most {limit:,}")


def guarded_pow(base, exponent, modulus=None):
    """`base ** exponent` (or pow with a modulus) unless the result would exceed MAX_INT_BITS."""
    if modulus is not None:
        if isinstance(modulus, int) and modulus.bit_length() > MAX_INT_BITS:
            raise _too_big("pow(...)'s modulus", modulus.bit_length(), "bits", MAX_INT_BITS)
        return pow(base, exponent, modulus)
    if isinstance(base, int) and isinstance(exponent, int) and exponent > 0 and abs(base) > 1:
        bits = exponent * (abs(base).bit_length() - 1) + 1
        if bits > MAX_INT_BITS:
            raise _too_big("a power", bits, "bits", MAX_INT_BITS)
    return base ** exponent


def guarded_mul(left, right):
    """`left * right` unless it would repeat a sequence beyond MAX_ITEMS or make an integer beyond MAX_INT_BITS."""
    for sequence, times in ((left, right), (right, left)):
        if isinstance(sequence, SEQUENCES) and isinstance(times, int) and len(sequence) * times > MAX_ITEMS:
            raise _too_big("a repeated sequence", len(sequence) * times, "items", MAX_ITEMS)
    if isinstance(left, int) and isinstance(right, int) and left.bit_length() + right.bit_length() > MAX_INT_BITS:
        raise _too_big("a product", left.bit_length() + right.bit_length(), "bits", MAX_INT_BITS)
    return left * right


def guarded_add(left, right):
    """`left + right` unless it would join two sequences beyond MAX_ITEMS."""
    if isinstance(left, SEQUENCES) and isinstance(right, SEQUENCES) and len(left) + len(right) > MAX_ITEMS:
        raise _too_big("a joined sequence", len(left) + len(right), "items", MAX_ITEMS)
    return left + right


def guarded_lshift(left, right):
    """`left << right` unless the result would exceed MAX_INT_BITS."""
    if isinstance(left, int) and isinstance(right, int) and right > 0 and left.bit_length() + right > MAX_INT_BITS:
        raise _too_big("a shifted integer", left.bit_length() + right, "bits", MAX_INT_BITS)
    return left << right


_WIDTHS = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")


def guarded_mod(left, right):
    """`left % right`; for a %-format, every width and precision must be written out and within MAX_ITEMS."""
    if isinstance(left, str | bytes):
        text = left.decode("latin-1") if isinstance(left, bytes) else left
        for width in (w for match in _WIDTHS.finditer(text) for w in match.groups() if w):
            if width == "*" or int(width) > MAX_ITEMS:
                raise LimitExceeded(f"a %-format width or precision of {width!r} is not allowed "
                                    f"(write it out, at most {MAX_ITEMS:,})")
    return left % right


def guarded_format(value, conversion: int = -1, spec: str = "") -> str:
    """An f-string's `{value!r:spec}`: its width and precision must be within MAX_ITEMS."""
    value = {115: str, 114: repr, 97: ascii}.get(conversion, lambda v: v)(value)
    if any(int(number) > MAX_ITEMS for number in re.findall(r"\d+", str(spec))):
        raise LimitExceeded(f"a format width or precision in {spec!r} is over {MAX_ITEMS:,}")
    return format(value, spec)


def guarded_sum(iterable, start=0):
    """sum() with every step through guarded_add, so summing lists cannot build a huge one."""
    total = start
    for item in iterable:
        total = guarded_add(total, item)
    return total


def _check_width(what: str, width) -> None:
    if isinstance(width, int) and width > MAX_ITEMS:
        raise _too_big(what, width, "characters", MAX_ITEMS)


def _bounded_method(obj, name: str, method):
    """String and list methods that can make a large value in one call, checked before they do."""
    if isinstance(obj, str | bytes) and name in ("ljust", "rjust", "center", "zfill"):
        def padded(width, *args):
            _check_width(f"{name}()", width)
            return method(width, *args)
        return padded
    if isinstance(obj, str | bytes) and name == "expandtabs":
        def expanded(tabsize=8):
            _check_width("expandtabs()", len(obj) * tabsize)
            return method(tabsize)
        return expanded
    if isinstance(obj, str | bytes) and name == "replace":
        def replaced(old, new, count=-1):
            times = len(obj) + 1 if not old else len(obj) // max(len(old), 1)
            _check_width("replace()", len(obj) + times * len(new))
            return method(old, new, count)
        return replaced
    if isinstance(obj, str | bytes) and name == "join":
        def joined(iterable):
            items = list(iterable)
            _check_width("join()", sum(len(i) for i in items if isinstance(i, SEQUENCES)) + len(obj) * len(items))
            return method(items)
        return joined
    if isinstance(obj, list) and name == "extend":
        def extended(iterable):
            items = list(iterable)
            if len(obj) + len(items) > MAX_ITEMS:
                raise _too_big("an extended list", len(obj) + len(items), "items", MAX_ITEMS)
            return method(items)
        return extended
    return method


def guarded_getattr(obj, name, default=None, getattr=safer_getattr):
    """RestrictedPython's safer_getattr, with the methods that can grow a value in one call bounded."""
    return _bounded_method(obj, name, getattr(obj, name, default))


INPLACE = {"+=": guarded_add, "-=": operator.sub, "*=": guarded_mul, "**=": guarded_pow, "<<=": guarded_lshift,
           "%=": guarded_mod, "/=": operator.truediv, "//=": operator.floordiv}
GUARDS = {"_pow_": guarded_pow, "_mul_": guarded_mul, "_add_": guarded_add, "_lshift_": guarded_lshift,
          "_mod_": guarded_mod, "_format_": guarded_format, "_getattr_": guarded_getattr,
          "_inplacevar_": lambda op, x, y: INPLACE[op](x, y)}
_GUARDED_OPS = {ast.Pow: "_pow_", ast.Mult: "_mul_", ast.Add: "_add_", ast.LShift: "_lshift_", ast.Mod: "_mod_"}
_FOLDED = {ast.Pow: guarded_pow, ast.Mult: guarded_mul, ast.Add: guarded_add, ast.LShift: guarded_lshift,
           ast.Mod: guarded_mod, ast.Sub: operator.sub}
BUILTINS = {
    "pow": guarded_pow, "sum": guarded_sum, "format": lambda value, spec="": guarded_format(value, -1, spec),
    "math": SimpleNamespace(**{name: getattr(math, name) for name in (
        "ceil", "floor", "trunc", "sqrt", "fabs", "fsum", "log", "log2", "log10", "exp", "isclose", "isfinite",
        "isnan", "gcd", "hypot", "pi", "e", "inf")}),  # not factorial, comb or perm: one call could run for hours
    "random": SimpleNamespace(**{name: getattr(random, name) for name in (
        "random", "uniform", "randint", "choice", "shuffle", "sample")}),  # not randbytes, getrandbits, choices
}


class _NotConstant(Exception):
    """The expression needs run-time values: it is guarded when it runs instead."""


def _fold(node):
    """The value of a constant expression (numbers, strings, their lists), computed through the guards."""
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float | complex | str | bytes):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        value = _fold(node.operand)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.List | ast.Tuple):
        return [_fold(element) for element in node.elts]
    if isinstance(node, ast.BinOp) and type(node.op) in _FOLDED:
        left, right = _fold(node.left), _fold(node.right)
        try:
            return _FOLDED[type(node.op)](left, right)
        except LimitExceeded:
            raise
        except Exception:  # noqa: BLE001 - a division by zero, say: not for this check to report
            raise _NotConstant() from None
    raise _NotConstant()


class BoundedPolicy(RestrictingNodeTransformer):
    """RestrictedPython's checks and rewrites, plus: no `while`, no constant too large to build, and the
    operators that can grow a value routed through the guards."""

    def visit_While(self, node):
        self.error(node, "while loops are not allowed: a script must finish; loop over a list or a range()")
        return self.node_contents_visit(node)

    def visit_BinOp(self, node):
        try:
            _fold(node)
        except LimitExceeded as exc:
            self.error(node, exc.message)
            return node  # its operands would only repeat the same complaint
        except _NotConstant:
            pass
        node = self.node_contents_visit(node)
        guard = _GUARDED_OPS.get(type(node.op))
        if guard is None:
            return node
        return _located(ast.Call(ast.Name(guard, ast.Load()), [node.left, node.right], []), node)

    def visit_FormattedValue(self, node):
        node = self.node_contents_visit(node)
        if node.format_spec is None:
            return node
        call = ast.Call(ast.Name("_format_", ast.Load()), [node.value, ast.Constant(node.conversion),
                                                           node.format_spec], [])
        return _located(ast.FormattedValue(call, -1, None), node)


def _located(new: ast.AST, old: ast.AST) -> ast.AST:
    """Give the nodes made here the place in the source of the node they stand for."""
    for child in ast.walk(new):
        if getattr(child, "lineno", None) is None and "lineno" in child._attributes:
            ast.copy_location(child, old)
    return new


def compile_bounded(source: str, mode: str):
    """RestrictedPython's compile (`exec` for scripts, `eval` for expressions) under BoundedPolicy."""
    return (compile_restricted_eval if mode == "eval" else compile_restricted_exec)(source, policy=BoundedPolicy)


def check(source: str, mode: str) -> list[str]:
    """What is wrong with a script (`exec`) or an expression (`eval`) before it ever runs; [] if nothing."""
    return list(dict.fromkeys(compile_bounded(source, mode).errors))


@contextmanager
def time_limit(seconds: float | None = None):
    """Stop the Python code run inside after `seconds` (TIME_LIMIT by default) of this thread's CPU time, checked
    at every line and call. CPU time, not the wall clock: a process that waits its turn on a busy machine has not
    run; the cyclic garbage collector waits until the code is done, so its pauses are not the script's either."""
    limit = TIME_LIMIT if seconds is None else seconds
    deadline = time.thread_time() + limit

    def trace(frame, event, arg):
        if time.thread_time() > deadline:
            raise LimitExceeded(f"the script ran for more than {limit:g} s and was stopped")
        return trace

    previous, collecting = sys.gettrace(), gc.isenabled()
    gc.disable()
    sys.settrace(trace)
    try:
        yield
    finally:
        sys.settrace(previous)
        if collecting:
            gc.enable()
