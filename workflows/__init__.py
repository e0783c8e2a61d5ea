"""The case-type catalogue: one module per type (the general ones share a module and a process)."""
from workflows import dispute, general

CATALOGUE = {case_type.code: case_type for case_type in (dispute.DISPUTE, *general.TYPES)}
