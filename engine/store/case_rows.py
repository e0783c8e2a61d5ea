"""The rows of a case that a step looks at again and again, read once per transaction.

One engine run on a case reads its open tasks, its SLA clocks and its pending deadlines in several places (the
projection, the clocks, the alarms, the notices). Read by query each time, every read in the middle of the
step's writes made the session flush what came before it: five flushes for a breach, each a unit-of-work pass
and a statement per table. So they are read once (`of`; for a batch of firings, once for all its cases with
`load`), kept here for the rest of the transaction, and the rows the step adds join them as they are added
(`session.add` of a task or clock of a case held here, `add_deadlines`, `write_now`). The step then decides in
memory and writes at its commit.

What is kept: the tasks open when read; the clocks running when read and the case's whole-case clock; the
deadlines pending when read and those fired of a running clock (a rescheduled clock skips the fractions it
has fired). Rows change state in place (a task completed, a deadline fired), so readers filter on state.
"""
from dataclasses import dataclass, field

from sqlalchemy import bindparam, false, insert, or_, select, update
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from engine.store.model import Deadline, SlaClock, Task, column_values

KEY = "case_rows"  # session.info: case id -> CaseRows
NEW_DEADLINES = "new_deadlines"  # session.info: deadlines made in this transaction, inserted at its commit
NEW_ROWS = "new_rows"  # session.info: table -> rows nothing reads back in this transaction, inserted at its commit
CANCELLED = "cancelled"  # session.info: stored deadline id -> when this transaction cancelled it, written at commit
AT_COMMIT = (NEW_DEADLINES, NEW_ROWS, CANCELLED)  # what write_new writes at the commit and a rollback forgets
WHOLE_CASE = "case"  # the step name of the whole case's clock (engine/sla/clocks.py)
TRACKED = {Task: "tasks", SlaClock: "clocks", Deadline: "deadlines"}  # row type -> its list in CaseRows


@dataclass
class CaseRows:
    tasks: list[Task] = field(default_factory=list)
    clocks: list[SlaClock] = field(default_factory=list)
    deadlines: list[Deadline] = field(default_factory=list)

    def open_tasks(self) -> list[Task]:
        return [t for t in self.tasks if t.is_open]

    def running_clocks(self) -> list[SlaClock]:
        return [c for c in self.clocks if c.stopped_at is None]

    def has_clock(self, step: str) -> bool:
        return any(c.step == step for c in self.clocks)

    def pending(self, kind: str | None = None, clock: SlaClock | None = None) -> list[Deadline]:
        """Deadlines neither fired nor cancelled, of `kind` and `clock` when given."""
        return [d for d in self.deadlines if d.fired_at is None and d.cancelled_at is None
                and (kind is None or d.kind == kind) and (clock is None or d.clock_id == clock.id)]

    def fired_fractions(self, clock: SlaClock) -> set[float]:
        return {d.fraction for d in self.deadlines if d.clock_id == clock.id and d.fired_at is not None}


def of(session: Session, case_id: int) -> CaseRows:
    """The case's rows in this transaction, read now if they were not yet."""
    held = session.info.setdefault(KEY, {})
    if case_id not in held:
        load(session, [case_id])
    return held[case_id]


def fresh(session: Session, case_id: int) -> CaseRows:
    """A case created in this transaction: it has no stored rows to read."""
    return session.info.setdefault(KEY, {}).setdefault(case_id, CaseRows())


def load(session: Session, case_ids) -> None:
    """Read the rows of the cases not held yet: three statements however many cases, and no flush before them
    (rows added and not yet written are taken from the session; those changed keep their changes)."""
    held = session.info.setdefault(KEY, {})
    wanted = sorted(set(case_ids) - held.keys())
    if not wanted:
        return
    rows = {case_id: CaseRows() for case_id in wanted}
    with session.no_autoflush:
        _read(session, wanted, rows)
    for instance in [*session.new, *session.info.get(NEW_DEADLINES, ())]:
        if type(instance) in TRACKED and instance.case_id in rows:
            getattr(rows[instance.case_id], TRACKED[type(instance)]).append(instance)
    held.update(rows)


def _read(session: Session, wanted: list[int], rows: dict[int, CaseRows]) -> None:
    for task in session.scalars(select(Task).where(Task.case_id.in_(wanted), Task.is_open)):
        rows[task.case_id].tasks.append(task)
    clocks = session.scalars(select(SlaClock).where(SlaClock.case_id.in_(wanted), or_(
        SlaClock.stopped_at.is_(None), SlaClock.step == WHOLE_CASE))).all()
    for clock in clocks:
        rows[clock.case_id].clocks.append(clock)
    running = [c.id for c in clocks if c.stopped_at is None]
    fired_of_running = Deadline.clock_id.in_(running) if running else false()
    for deadline in session.scalars(select(Deadline).where(
            Deadline.case_id.in_(wanted), Deadline.cancelled_at.is_(None),
            or_(Deadline.fired_at.is_(None), fired_of_running))):
        rows[deadline.case_id].deadlines.append(deadline)


def write_now(session: Session, new: list) -> list:
    """Insert new rows of one type (objects not added to the session) in one statement that returns their ids,
    without flushing the rest of the step; they join the session as stored rows (and their case's rows here).

    A Core INSERT and `make_transient_to_detached`: the ORM's own INSERT ... RETURNING of whole rows took half
    as long again (profiled, a batch of breaches: 3.3 against 2.2 ms a statement)."""
    table = type(new[0]).__table__
    values = [column_values(row) for row in new]
    ids = session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), values).scalars()
    for row, row_values, row_id in zip(new, values, ids, strict=True):
        for key, value in row_values.items():
            setattr(row, key, value)  # every column set: none is left to load later
        row.id = row_id
        make_transient_to_detached(row)
        session.add(row)
        added(session, row)
    return new


def add_deadlines(session: Session, deadlines: list[Deadline]) -> list[Deadline]:
    """New deadlines of cases: they join their case's rows now and go into the database at the commit, all in
    one executemany that asks no ids back (`write_new`): nothing needs them, the scheduler wakes a worker
    by due time, and a multi-row INSERT ... RETURNING cost several times as much. Until then they are objects
    outside the session, changed in place like the held rows (a deadline made and cancelled in one step goes
    in cancelled)."""
    session.info.setdefault(NEW_DEADLINES, []).extend(deadlines)
    for deadline in deadlines:
        rows = session.info.get(KEY, {}).get(deadline.case_id)
        if rows is not None:
            rows.deadlines.append(deadline)
    return deadlines


def insert_at_commit(session: Session, model, rows: list[dict]) -> None:
    """Rows that nothing in the transaction reads back (a case's notices): inserted at the commit, one
    executemany a table for the whole transaction (a batch of firings), not one statement a step."""
    session.info.setdefault(NEW_ROWS, {}).setdefault(model.__table__, []).extend(rows)


def cancel(session: Session, deadlines: list[Deadline], now) -> None:
    """Cancel deadlines: in memory now, in the database at the commit, all of the transaction's in one
    executemany. Left to the flush, a batch of breaches sent one UPDATE a deadline: the ORM batches the UPDATEs
    of rows that change the same columns only while they come one after another in id order, and each breach
    fires one deadline and cancels the next of its clock."""
    cancelled = session.info.setdefault(CANCELLED, {})
    for deadline in deadlines:
        if deadline.id is None:  # made in this transaction: it goes in cancelled
            deadline.cancelled_at = now
        else:
            set_committed_value(deadline, "cancelled_at", now)  # as stored, once the commit has written it
            cancelled[deadline.id] = now


def write_new(session: Session) -> None:
    """before_commit: insert the transaction's new deadlines and the rows kept for its commit; write its
    cancellations."""
    new = session.info.pop(NEW_DEADLINES, None)
    if new:
        session.execute(insert(Deadline.__table__), [column_values(d) for d in new])
    for table, rows in session.info.pop(NEW_ROWS, {}).items():
        session.execute(insert(table), rows)
    cancelled = session.info.pop(CANCELLED, None)
    if cancelled:
        table = Deadline.__table__
        session.execute(update(table).where(table.c.id == bindparam("cancelled_id"))
                        .values(cancelled_at=bindparam("at")),
                        [{"cancelled_id": i, "at": at} for i, at in cancelled.items()])


def added(session: Session, instance) -> None:
    """transient_to_pending: a task, clock or deadline added for a case held here joins its rows."""
    kept = TRACKED.get(type(instance))
    rows = session.info.get(KEY, {}).get(instance.case_id) if kept else None
    if rows is not None:
        getattr(rows, kept).append(instance)


def forget(session: Session, transaction) -> None:
    """after_transaction_end: the transaction's rows are read again in the next one."""
    if transaction.parent is None:  # a flush's or a savepoint's end is not the transaction's
        for key in (KEY, *AT_COMMIT):
            session.info.pop(key, None)


def forget_rolled_back(session: Session, transaction) -> None:
    """after_soft_rollback (a savepoint's too): rows added since may be gone; read again when next asked. New
    deadlines, rows kept for the commit and cancellations go with a rolled-back transaction, but not with a
    savepoint (none is made inside one)."""
    session.info.pop(KEY, None)
    if not transaction.nested:
        for key in AT_COMMIT:
            session.info.pop(key, None)
