"""Case types that share the general process (bpmn/general/), told apart by the routing table's rows."""
from engine.process.catalogue import CaseType
from workflows.shared import LOOP, LOOP_FORMS, OUTCOMES, REGISTER


def _general(code: str, title_zh: str, title_en: str, open311: str) -> CaseType:
    return CaseType(code=code, process_id="general_case", title_zh=title_zh, title_en=title_en,
                    open311_code=open311, folder="general", forms={"register_case": REGISTER, **LOOP_FORMS},
                    stages=("registering",), outcomes=OUTCOMES, loop=LOOP)


WORK_SAFETY = _general("work_safety", "安全隐患", "Work-safety hazard", "GF-SAFETY")
ENVIRONMENT = _general("environment", "环境污染", "Environment and pollution", "GF-ENVIRONMENT")
RENTAL_HOUSING = _general("rental_housing", "出租房屋", "Rental housing", "GF-RENTAL")
FLOATING_POPULATION = _general("floating_population", "流动人口", "Floating population", "GF-FLOATING")
PETITION = _general("petition", "信访诉求", "Petition", "GF-PETITION")

TYPES = (WORK_SAFETY, ENVIRONMENT, RENTAL_HOUSING, FLOATING_POPULATION, PETITION)
