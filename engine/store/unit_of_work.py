"""One transaction per use case: nothing is kept unless the service commits."""
import logging

from sqlalchemy.orm import sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from engine.errors import ConflictError
from engine.store import db, outbox

log = logging.getLogger(__name__)


class UnitOfWork:
    """A session that rolls back unless committed, and runs side effects only after a commit (or, to record
    a failure, after a rollback).

    A reading one (`read_only`) runs its queries without a transaction on PostgreSQL, where each statement sees
    what was committed when it began, as it would inside a READ COMMITTED transaction, and saves the BEGIN and
    ROLLBACK round trips; on SQLite it begins a deferred transaction, a snapshot that does not wait for the one
    writer. It may not write: a flush of changes fails (`refuse_writes`) and it cannot commit."""

    def __init__(self, sessions: sessionmaker, webhooks=None, read_only: bool = False):
        self._sessions = sessions
        self._webhooks = webhooks  # woken after a commit that wrote webhook deliveries (engine/store/outbox.py)
        self._read_only = read_only

    def __enter__(self):
        self.session = self._sessions()
        self._after_commit, self._after_rollback, self._due = [], [], {}
        if self._read_only:
            self.session.info[db.READ_ONLY] = True
            self.session.connection(execution_options=db.reading_options(self.session.get_bind()))
        return self

    def __exit__(self, *exc):
        self.session.close()  # rolls back whatever was not committed; loaded objects stay readable
        actions, self._after_rollback = self._after_rollback, []
        for action in actions:
            try:
                action()
            except Exception:  # recording a failure must not hide the failure itself
                log.exception("after-rollback action failed")

    def after_commit(self, action) -> None:
        """Run `action()` once the transaction is committed (enqueueing, notifying)."""
        self._after_commit.append(action)

    def schedule_after_commit(self, scheduler, deadlines) -> None:
        """Have the scheduler wake a worker at the due times of `deadlines` once the transaction is committed.
        The transaction's due times go to the scheduler together, so a second is scheduled once however many
        steps have deadlines in it (a batch of 20 breaches scheduled 100 seconds, one call a breach)."""
        due_times = [d.due_at for d in deadlines]
        if not due_times:
            return
        if id(scheduler) not in self._due:
            pending = self._due[id(scheduler)] = []
            self.after_commit(lambda: scheduler.schedule(pending))
        self._due[id(scheduler)].extend(due_times)

    def after_rollback(self, action) -> None:
        """Run `action()` (in a transaction of its own) if this unit of work ends without committing."""
        self._after_rollback.append(action)

    def commit(self) -> None:
        if self._read_only:
            raise RuntimeError("a reading unit of work has nothing to commit")
        try:
            self.session.commit()
        except StaleDataError as exc:
            raise ConflictError("the case was changed by someone else at the same time; try again") from exc
        actions, self._after_commit, self._after_rollback, self._due = self._after_commit, [], [], {}
        wake = getattr(self._webhooks, "wake_webhooks", None)
        if self.session.info.pop(outbox.WRITTEN, False) and wake is not None:
            actions.append(wake)
        for action in actions:
            try:
                action()
            except Exception:  # a side effect must never undo or fail a committed change
                log.exception("after-commit action failed; the deadline sweep will catch up")
