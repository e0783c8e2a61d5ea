"""The case-type catalogue: one module per type (the general ones share a module and a process)."""
from workflows import dispute, general, illegal_construction, public_health

CATALOGUE = {case_type.code: case_type for case_type in (
    dispute.DISPUTE, illegal_construction.ILLEGAL_CONSTRUCTION, public_health.PUBLIC_HEALTH, *general.TYPES)}
