"""矛盾纠纷 dispute: grid mediation first, then the village committee, then the town judicial office."""
from engine.catalogue import CaseType, FormField

RISKS = ("low", "medium", "high")

_MEDIATION = (
    FormField("resolved", "bool", "是否调解成功", "Resolved"),
    FormField("outcome", "text", "调解结果", "Outcome", max_length=2000),
)

DISPUTE = CaseType(
    code="dispute",
    process_id="dispute",
    title_zh="矛盾纠纷",
    title_en="Dispute",
    open311_code="GF-DISPUTE",
    folder="dispute",
    forms={
        "register_case": (
            FormField("valid", "bool", "是否立案", "Valid"),
            FormField("risk", "choice", "风险等级", "Risk level", choices=RISKS),
            FormField("reason", "text", "理由", "Reason", required=False, max_length=1000,
                      required_when=("valid", (False,))),
        ),
        "mediate_at_grid": _MEDIATION,
        "mediate_at_village": _MEDIATION,
        "mediate_at_town": _MEDIATION,
        "verify_on_site": (
            FormField("passed", "bool", "核查是否通过", "Passed"),
            FormField("note", "text", "核查说明", "Note", required=False, max_length=2000),
        ),
    },
    stages={
        "register_case": "registering",
        "mediate_at_grid": "handling",
        "mediate_at_village": "handling",
        "mediate_at_town": "handling",
        "verify_on_site": "verifying",
    },
    outcomes={"closed": "closed", "invalid": "invalid", "referred": "referred"},
)
