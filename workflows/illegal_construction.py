"""两违 illegal construction: on-site check, stop-work order, penalty, then dispatch for demolition."""
from engine.process.catalogue import CaseType, FormField
from workflows.shared import LOOP, LOOP_FORMS, OUTCOMES, REGISTER

ILLEGAL_CONSTRUCTION = CaseType(
    code="illegal_construction", process_id="illegal_construction", title_zh="两违建设",
    title_en="Illegal construction", open311_code="GF-CONSTRUCTION", folder="illegal_construction",
    forms={
        "register_case": REGISTER,
        "inspect_site": (
            FormField("confirmed", "bool", "是否属实", "Confirmed"),
            FormField("area_m2", "int", "违建面积（平方米）", "Area (m²)", required=False, max_value=1_000_000,
                      required_when=("confirmed", (True,))),
            FormField("note", "text", "勘查记录", "Inspection notes", required=False, max_length=2000,
                      required_when=("confirmed", (False,))),
        ),
        "issue_stop_work_order": (
            FormField("order_no", "text", "停工通知书编号", "Stop-work order no.", max_length=60),
            FormField("note", "text", "说明", "Note", required=False, max_length=2000),
        ),
        "impose_penalty": (
            FormField("decision_no", "text", "处罚决定书编号", "Penalty decision no.", max_length=60),
            FormField("fine_yuan", "int", "罚款（元）", "Fine (yuan)", required=False, max_value=100_000_000),
            FormField("note", "text", "说明", "Note", required=False, max_length=2000),
        ),
        **LOOP_FORMS,
    },
    stages=("registering", "inspecting", "stop_work", "penalty"),
    outcomes=OUTCOMES,
    loop=LOOP,
)
