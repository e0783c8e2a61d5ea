"""Small helpers shared by tests: find demo users and open tasks, race calls against each other."""
import threading

from sqlalchemy import select

from engine.store.model import Deadline, Task, User


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
