"""The indicators' hand-built set: nine cases of Luncang's worker in March and April 2026, each down one path
(on time, late, reworked twice, returned, extended then on time, suspended across the month end, withdrawn,
invalid, duplicate), and one Shuitou report that a Luncang supervisor must never count.

Limits (shared SLA table, medium severity): registering 4 working hours, dispatching 2, handling 3 working
days; office hours 08:30-12:00 and 14:00-17:30, so a working day is 420 minutes.
"""
from datetime import UTC, datetime

from engine.cases import services
from tests.helpers import user_id
from tests.integration.test_closed_loop import Walk

MONDAY_2_MARCH = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
MONDAY_9_MARCH = datetime(2026, 3, 9, 1, 0, tzinfo=UTC)  # five working days later
MONDAY_30_MARCH = datetime(2026, 3, 30, 2, 0, tzinfo=UTC)  # 10:00
THURSDAY_2_APRIL = datetime(2026, 4, 2, 2, 0, tzinfo=UTC)  # three working days later, over the month end
DEPARTMENT = "350583106-work_safety"


def build(deps, clock) -> dict:
    ws = "work_safety"
    clock.set(MONDAY_2_MARCH)
    on_time, late, reworked, returned, extended = (Walk(deps) for _ in range(5))
    withdrawn, invalid = Walk(deps), Walk(deps, "environment")
    duplicate = Walk(deps)
    for walk in (on_time, late, reworked, returned, extended, withdrawn):
        walk.register()
    invalid.register("invalid", reason="不属于本网格事项")
    duplicate.register("duplicate", reason="已有同一隐患", duplicate_of=on_time.case().number)
    services.withdraw_case(deps, user_id(deps, "worker"), withdrawn.id, "已自行协商解决")
    for walk in (on_time, late, reworked, returned, extended):
        walk.dispatch(ws)
    on_time.handle(ws).verify().follow_up()
    reworked.handle(ws).verify(False, "隐患仍在").handle(ws).verify(False, "仍未整改").handle(ws).verify().follow_up()
    returned.handle(ws, "return", reason="需重新派遣").dispatch(ws).handle(ws).verify().follow_up()
    extended.handle(ws, "extend", reason="需要专业检测", extra_days=5)
    extended.do("approve_extension", "supervisor", {"approved": True})

    clock.set(MONDAY_9_MARCH)  # handling was due on Thursday 5 March; the extension moved it to the 12th
    late.handle(ws).verify().follow_up()
    extended.handle(ws).verify().follow_up(False, "群众不满意")  # dissatisfied: back to handling...
    extended.handle(ws).verify().follow_up()

    clock.set(MONDAY_30_MARCH)
    suspended = Walk(deps).register().dispatch(ws)
    suspended.handle(ws, "suspend", reason="企业停产")
    suspended.do("approve_suspension", "supervisor", {"approved": True})
    clock.set(THURSDAY_2_APRIL)
    suspended.do("resume_case", "supervisor", {"note": "企业复产"})
    suspended.handle(ws).verify().follow_up()

    shuitou = services.file_case(deps, user_id(deps, "shuitou_worker"), services.NewCase(
        type="work_safety", title="水头隐患", severity="medium"))
    return {"on_time": on_time.id, "late": late.id, "reworked": reworked.id, "returned": returned.id,
            "extended": extended.id, "withdrawn": withdrawn.id, "invalid": invalid.id, "duplicate": duplicate.id,
            "suspended": suspended.id, "shuitou": shuitou}
