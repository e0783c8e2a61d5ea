"""A first run's cases: a dozen matters in Huihuang village, filed over the past weeks by its grid workers and
worked by the people whose tasks they were, so that the inboxes, the map, the dossier and the supervision lists
have something to show. Some are closed, some wait on a step, and some have run out of time: their breaches are
due in the past, so the worker fires them (escalation, supervision order) as soon as it starts.

Each case is filed and worked through the services at the times it says, on a clock pinned to each moment."""
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from engine.cases import services
from engine.deps import Deps
from engine.process import runner
from engine.store.model import Case, Grid, Task, User

REGISTER = ("register_case", {"decision": "valid"})
VERIFY = ("verify_on_site", {"passed": True, "note": "现场核实，已处理到位"})
FOLLOW_UP = ("follow_up", {"satisfied": True, "note": "回访群众，表示满意"})
MEDIATED = ("mediate_at_grid", {"resolved": True, "outcome": "经网格调解，双方达成和解"})
DISPUTE_REGISTER = ("register_case", {"decision": "valid", "risk": "low", "violence": False})
HANDLED = ("handle_case", {"action": "feedback", "result": "已整改到位"})


def dispatch(lead: str) -> tuple[str, dict]:
    return "dispatch_case", {"lead_department": lead, "co_departments": []}


@dataclass(frozen=True)
class DemoCase:
    unit_grid: str  # where it happened, and whose grid worker reports it
    days_ago: int
    type: str
    title: str
    severity: str
    steps: tuple = ()  # (task name, form data), each done three hours after the one before


HUIHUANG = "350583106201-"
CASES = (
    DemoCase("06-01", 0, "dispute", "楼上装修噪音扰民", "medium"),
    DemoCase("06-01", 20, "dispute", "邻里宅基地界址纠纷", "medium", (DISPUTE_REGISTER, MEDIATED, VERIFY, FOLLOW_UP)),
    DemoCase("06-02", 6, "dispute", "租户与房东押金争执", "low", (DISPUTE_REGISTER,)),
    DemoCase("01-01", 3, "work_safety", "沿街店铺消防通道堵塞", "high", (REGISTER, dispatch("work_safety"))),
    DemoCase("02-01", 12, "environment", "河道旁露天焚烧垃圾", "medium",
             (REGISTER, dispatch("environment"), HANDLED)),
    DemoCase("01-02", 1, "rental_housing", "出租屋租客未登记", "low"),
    DemoCase("03-01", 9, "petition", "拆迁补偿诉求", "medium",
             (REGISTER, dispatch("urban_management"),
              ("handle_case", {"action": "return", "reason": "属信访事项，请改派信访办"}))),
    DemoCase("06-01", 15, "work_safety", "小区电动车违规充电", "high",
             (REGISTER, dispatch("work_safety"), HANDLED, VERIFY, FOLLOW_UP)),
    DemoCase("04-01", 0, "public_health", "学校多名学生腹泻", "high"),
    DemoCase("05-01", 4, "illegal_construction", "村民房屋违规加层", "medium", (REGISTER,)),
    DemoCase("07-01", 2, "floating_population", "新来务工人员未登记", "low", (REGISTER,)),
    DemoCase("02-02", 8, "environment", "养殖场污水直排", "high", (REGISTER, dispatch("environment"))),
)


class _At:
    """A clock pinned to one moment."""

    def __init__(self, moment: datetime):
        self.moment = moment

    def now(self) -> datetime:
        return self.moment


def load(deps: Deps, cases=CASES) -> int:
    """File and work the demo cases unless the database has a case already; returns how many were filed."""
    with deps.uow() as uow:
        if uow.session.scalar(select(func.count()).select_from(Case)):
            return 0
    zone, today = ZoneInfo(deps.timezone), deps.clock.now().astimezone(ZoneInfo(deps.timezone)).date()
    try:
        for case in cases:
            moment = datetime.combine(today - timedelta(days=case.days_ago), time(9, 30), zone)
            if case.days_ago == 0:
                moment = deps.clock.now() - timedelta(hours=2)
            _file_and_work(deps, case, moment)
    finally:
        runner.use_clock(deps.clock)
    return len(cases)


def _file_and_work(deps: Deps, case: DemoCase, moment: datetime) -> None:
    at = _pinned(deps, moment)
    grid = HUIHUANG + case.unit_grid
    case_id = services.file_case(at, _reporter(deps, grid), services.NewCase(
        type=case.type, title=case.title, severity=case.severity, grid_code=grid))
    for name, data in case.steps:
        moment += timedelta(hours=3)
        at = _pinned(deps, moment)
        task_id, actor_id = _task_and_candidate(deps, case_id, name)
        services.complete_task(at, actor_id, task_id, data)


def _pinned(deps: Deps, moment: datetime) -> Deps:
    runner.use_clock(clock := _At(moment))
    return replace(deps, clock=clock)


def _reporter(deps: Deps, grid_code: str) -> int:
    with deps.uow() as uow:
        return uow.session.scalar(select(User.id).join(Grid, Grid.id == User.grid_id).where(
            Grid.code == grid_code, User.role == "grid_worker", User.active).order_by(User.id))


def _task_and_candidate(deps: Deps, case_id: int, name: str) -> tuple[str, int]:
    """The case's open task of that name, and the user nearest to it who may take it: the department's
    liaison, or the one of the role whose grid holds the task's grid most closely."""
    with deps.uow() as uow:
        session = uow.session
        task = session.scalar(select(Task).where(Task.case_id == case_id, Task.name == name, Task.is_open))
        if task.department_id is not None:
            where = User.department_id == task.department_id
        else:
            path = session.scalar(select(Grid.path).where(Grid.id == task.grid_id))
            ancestors = [path[:end + 1] for end, char in enumerate(path) if char == "/" and end]  # and itself
            where = User.grid_id.in_(select(Grid.id).where(Grid.path.in_(ancestors)))
        candidate = session.scalar(select(User.id).join(Grid, Grid.id == User.grid_id, isouter=True).where(
            where, User.role == task.candidate_role, User.active).order_by(Grid.level.desc(), User.id))
        return task.id, candidate
