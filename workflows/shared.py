"""The shared closed loop (bpmn/shared/) that every case type runs after its own front part: what it tells
the engine, and its forms."""
from engine.process.catalogue import FormField, Loop

LOOP = Loop(
    stages=("dispatching", "escalated", "extension_review", "suspension_review", "suspended", "handling",
            "verifying", "follow_up"),
    handling_step="handle_case",
    keep_running=("extension_review", "suspension_review"),
    paused="suspended",
    department_kinds=("police", "market", "judicial", "health", "natural_resources", "urban_management",
                      "environment", "work_safety", "petitions", "cdc", "mediation"),
)
HANDLING_ACTIONS = ("feedback", "return", "extend", "suspend")
OUTCOMES = {"closed": "closed", "invalid": "invalid", "duplicate": "duplicate", "withdrawn": "withdrawn",
            "referred": "referred"}


def _decision(name_zh: str, name_en: str) -> tuple[FormField, ...]:
    return (FormField("approved", "bool", name_zh, name_en),
            FormField("reason", "text", "理由", "Reason", max_length=1000, required=False,
                      required_when=("approved", (False,))))


REGISTER = (
    FormField("decision", "choice", "立案决定", "Decision", choices=("valid", "invalid", "duplicate")),
    FormField("reason", "text", "理由", "Reason", required=False, max_length=1000,
              required_when=("decision", ("invalid", "duplicate"))),
    FormField("duplicate_of", "case_number", "重复案件编号", "Duplicate of case", required=False, max_length=40,
              required_when=("decision", ("duplicate",))),
    FormField("subcategory", "text", "小类", "Subcategory", required=False, max_length=40),
)

LOOP_FORMS = {
    "dispatch_case": (
        FormField("lead_department", "choice", "主办部门", "Lead department", choices=LOOP.department_kinds),
        FormField("co_departments", "multichoice", "协办部门", "Co-handling departments", required=False,
                  choices=LOOP.department_kinds),
        FormField("note", "text", "派遣说明", "Note", required=False, max_length=1000),
    ),
    "handle_case": (
        FormField("action", "choice", "处置动作", "Action", choices=HANDLING_ACTIONS),
        FormField("result", "text", "处置结果", "Result", required=False, max_length=4000,
                  required_when=("action", ("feedback",))),
        FormField("reason", "text", "理由", "Reason", required=False, max_length=1000,
                  required_when=("action", ("return", "extend", "suspend"))),
        FormField("extra_days", "int", "延期天数", "Extra working days", required=False, min_value=1, max_value=365,
                  required_when=("action", ("extend",))),
    ),
    "co_handle": (FormField("result", "text", "协办结果", "Result", max_length=4000),),
    "approve_extension": _decision("是否同意延期", "Extension approved"),
    "approve_suspension": _decision("是否同意挂起", "Suspension approved"),
    "resume_case": (FormField("note", "text", "恢复说明", "Note", required=False, max_length=1000),),
    "review_escalation": (FormField("instruction", "text", "督办意见", "Instruction", max_length=2000),),
    "verify_on_site": (
        FormField("passed", "bool", "核查是否通过", "Passed"),
        FormField("note", "text", "核查说明", "Note", required=False, max_length=2000,
                  required_when=("passed", (False,))),
    ),
    "follow_up": (
        FormField("satisfied", "bool", "群众是否满意", "Resident satisfied"),
        FormField("note", "text", "回访记录", "Note", required=False, max_length=2000,
                  required_when=("satisfied", (False,))),
    ),
}
