"""A process that fails on a case (a script over its bounds, a broken expression) leaves the case as it was and
says so on its timeline.

The use case's transaction is rolled back, so the case keeps its state, tasks and deadlines; then, in a
transaction of its own, a `process_failed` event records what was being done, by whom and the error, so
the people looking at the case see why nothing moved. A failure that repeats (a deadline retried by the sweep)
is recorded once until something else happens on the case.
"""
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import select

from engine.deps import Deps
from engine.errors import ProcessError
from engine.store import timeline
from engine.store.model import Case, Deadline, TimelineEvent, User
from engine.store.unit_of_work import UnitOfWork

KIND = "process_failed"


@contextmanager
def recorded(deps: Deps, uow: UnitOfWork, case_id: int, actor_id: int | None, doing: str) -> Iterator[None]:
    """Around a workflow run: a ProcessError from it is recorded on the case once `uow` has rolled back."""
    try:
        yield
    except ProcessError as exc:
        message = exc.message  # `exc` is unbound once the except block ends
        uow.after_rollback(lambda: record(deps, case_id, actor_id, doing, message))
        raise


def record_deadline_failure(deps: Deps, deadline_id: int, error: Exception) -> None:
    """A deadline's firing failed in the process: record it on its case (other failures are only logged)."""
    if not isinstance(error, ProcessError):
        return
    with deps.uow() as uow:
        found = uow.session.execute(select(Deadline.case_id, Deadline.kind, Deadline.name)
                                    .where(Deadline.id == deadline_id)).first()
    if found is not None and found.case_id is not None:  # an assignment's deadline has no case
        record(deps, found.case_id, None, f"firing the {found.kind} deadline {found.name}", error.message)


def record(deps: Deps, case_id: int, actor_id: int | None, doing: str, message: str) -> None:
    """Append a `process_failed` event to the case, unless it is the case's latest event already."""
    with deps.uow() as uow:
        session = uow.session
        case = session.scalar(select(Case).where(Case.id == case_id).with_for_update(of=Case))
        if case is None:
            return
        last = session.scalar(select(TimelineEvent).where(TimelineEvent.case_id == case_id)
                              .order_by(TimelineEvent.seq.desc()).limit(1))
        if last is not None and last.kind == KIND and last.payload == {"while": doing} and last.reason == message:
            return
        actor = session.get(User, actor_id) if actor_id is not None else None
        timeline.append(session, case.id, deps.clock.now(), actor, KIND, reason=message, payload={"while": doing})
        uow.commit()
