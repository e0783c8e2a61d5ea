"""Small helpers shared by tests: find demo users and open tasks, race calls against each other, count
statements."""
import threading
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import event, func, select

from engine.store.model import Case, Deadline, SupervisionOrder, Task, TimelineEvent, User


@contextmanager
def statements(deps):
    """The statements sent to the database meanwhile, BEGIN included: a list of their texts that grows by one
    each."""
    seen, engine = [], deps.sessions.kw["bind"]

    def count(_connection, _cursor, statement, *_):
        seen.append(statement)
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def user_id(deps, username: str) -> int:
    with deps.uow() as uow:
        return uow.session.scalar(select(User.id).where(User.username == username))


def open_task(deps, case_id: int, name: str | None = None) -> Task:
    """The single open (or claimed) task of a case, optionally checking its name."""
    with deps.uow() as uow:
        tasks = list(uow.session.scalars(
            select(Task).where(Task.case_id == case_id, Task.status.in_(("open", "claimed")))))
    assert len(tasks) == 1, [t.name for t in tasks]
    if name:
        assert tasks[0].name == name
    return tasks[0]


def timer_deadline(deps, case_id: int):
    """The (id, due_at) of the case's one pending BPMN timer deadline."""
    with deps.uow() as uow:
        [row] = uow.session.execute(select(Deadline.id, Deadline.due_at).where(
            Deadline.case_id == case_id, Deadline.kind == "timer", Deadline.fired_at.is_(None),
            Deadline.cancelled_at.is_(None))).all()
    return row.id, row.due_at


def race(*calls) -> list:
    """Start the calls at once, each on its own thread; return what each returned or raised, in order."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(i, call):
        barrier.wait()
        try:
            results[i] = call()
        except Exception as exc:  # collected and asserted on by the caller
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


BEFORE_NATIONAL_DAY = datetime(2026, 9, 30, 2, 0, tzinfo=UTC)  # Wednesday 10:00 in Shanghai, before 1-7 October


def breached_case(deps, clock) -> int:
    """A work-safety report filed before National Day 2026 whose registration (8 working hours) ran out on
    8 October, the breach fired by the engine: the case stays at registration, breached, with a supervision order."""
    from engine.cases import services
    from engine.deadlines import firing
    clock.set(BEFORE_NATIONAL_DAY)
    case_id = services.file_case(deps, user_id(deps, "worker"), services.NewCase(
        type="work_safety", title="厂房消防通道堵塞", description="仓库门口堆放货物", severity="low"))
    with deps.uow() as uow:
        breach = uow.session.scalar(select(Deadline).where(Deadline.case_id == case_id, Deadline.kind == "breach",
                                                           Deadline.name == "register_case"))
    clock.set(breach.due_at + timedelta(hours=1))
    assert firing.fire_deadline(deps, breach.id) == "fired"
    return case_id


def breach_counts(deps, case_ids) -> tuple[list, list, list]:
    """Per case: sla_breached events, supervision orders, escalations counted."""
    with deps.uow() as uow:
        def per_case(query):
            found = dict(uow.session.execute(query).all())
            return [found.get(c, 0) for c in case_ids]
        breached = per_case(select(TimelineEvent.case_id, func.count()).where(
            TimelineEvent.case_id.in_(case_ids), TimelineEvent.kind == "sla_breached").group_by(TimelineEvent.case_id))
        orders = per_case(select(SupervisionOrder.case_id, func.count()).where(
            SupervisionOrder.case_id.in_(case_ids)).group_by(SupervisionOrder.case_id))
        escalations = per_case(select(Case.id, Case.escalations).where(Case.id.in_(case_ids)))
    return breached, orders, escalations
