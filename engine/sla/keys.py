"""Deadline keys: what a deadline row stands for, built and read back in this one place.

A key is unique among a case's pending deadlines: one point of an SLA clock (its generation and the fraction of
its limit), one BPMN timer (the waiting task), or one supervision order's answer.
"""


def sla(clock_id: int, generation: int, fraction: float) -> str:
    return f"sla:{clock_id}:{generation}:{fraction}"


def timer(task_id: str) -> str:
    return f"timer:{task_id}"


def supervision(order_id: int) -> str:
    return f"supervision:{order_id}"


def order_id(key: str) -> int:
    """The supervision order a `supervision(...)` key names."""
    kind, _, number = key.partition(":")
    if kind != "supervision":
        raise ValueError(f"not a supervision order's deadline key: {key!r}")
    return int(number)
