"""矛盾纠纷 dispute: grid mediation first, then the village committee, then the town judicial office;
violence or threats go to the police at once through the closed loop."""
from engine.process.catalogue import CaseType, FormField
from workflows.shared import LOOP, LOOP_FORMS, OUTCOMES, REGISTER

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
        **LOOP_FORMS,
        "register_case": (
            *REGISTER[:3],
            FormField("risk", "choice", "风险等级", "Risk level", choices=RISKS, required=False,
                      required_when=("decision", ("valid",))),
            FormField("violence", "bool", "是否涉及暴力或威胁", "Violence or threats", required=False,
                      required_when=("decision", ("valid",))),
        ),
        "mediate_at_grid": _MEDIATION,
        "mediate_at_village": _MEDIATION,
        "mediate_at_town": _MEDIATION,
    },
    stages=("registering", "mediating"),
    outcomes=OUTCOMES,
    loop=LOOP,
)
