"""The case-type catalogue: one module per type."""
from workflows import dispute

CATALOGUE = {case_type.code: case_type for case_type in (dispute.DISPUTE,)}
