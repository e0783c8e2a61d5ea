"""公共卫生 public-health risk: village doctor triage; clusters and fevers to the CDC at once."""
from engine.process.catalogue import CaseType, FormField
from workflows.shared import LOOP, LOOP_FORMS, OUTCOMES, REGISTER

PUBLIC_HEALTH = CaseType(
    code="public_health", process_id="public_health", title_zh="公共卫生风险", title_en="Public-health risk",
    open311_code="GF-HEALTH", folder="public_health",
    forms={
        "register_case": REGISTER,
        "triage": (
            FormField("cluster", "bool", "是否聚集性", "Cluster"),
            FormField("fever", "bool", "是否有发热症状", "Fever signs"),
            FormField("food_related", "bool", "是否涉及食品", "Food-related"),
            FormField("assessment", "text", "研判意见", "Assessment", max_length=2000),
        ),
        "cdc_response": (FormField("result", "text", "疾控处置结果", "Result", max_length=4000),),
        **LOOP_FORMS,
    },
    stages=("registering", "triage"),
    outcomes=OUTCOMES,
    loop=LOOP,
)
