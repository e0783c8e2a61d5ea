"""Workflow scenarios run twice: with the workflow in memory, and dumped and restored before every step."""
import pytest


@pytest.fixture(params=[False, True], ids=["in_memory", "restored"])
def roundtrip(request) -> bool:
    """Whether the case's workflow is dumped and restored before every step."""
    return request.param
