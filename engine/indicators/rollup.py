"""The rollup: kept up to date in the same transaction as every change to a case, rebuilt from the raw rows on
demand, and compared with a recount by the tests.

Every transaction that appends timeline events (filing, completing a task, a deadline firing, a supervision
order, a withdrawal, a migration...) ends, just before its commit, in `track`: for each case it touched, the
new events are folded into the case's stored state (`indicator_cases`), the case's counts are worked out
again from that state, and only the difference from the counts stored last time is added to the rollup
tables (`indicator_daily`, `indicator_monthly`) by one upsert each. So a change to a case costs a handful of
statements whatever its history, reads are sums over the rollup, and a late event that moves a count from one
day to another (a late feedback after a breach) moves it in the rollup too. bootstrap wires `track` to every
session as a before-commit hook (`install`).
"""
import copy
from collections import defaultdict
from datetime import date

from sqlalchemy import delete, event, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from engine.indicators import fold as folding
from engine.indicators.definitions import COUNTERS
from engine.sla import clocks
from engine.store.model import Case, IndicatorCase, IndicatorDaily, IndicatorMonthly, TimelineEvent

DIMS = ("grid_id", "department", "case_type", "worker_id")
TABLES = ((IndicatorDaily, "day"), (IndicatorMonthly, "month"))


def install(sessions, calendar_of) -> None:
    """Keep the rollup in every transaction of `sessions`; `calendar_of(session)` gives the business calendar."""
    def before_commit(session):
        track(session, calendar_of)

    def forget(session, *_):
        session.info.pop("timeline_new", None)

    event.listen(sessions, "before_commit", before_commit)
    event.listen(sessions, "after_commit", forget)
    event.listen(sessions, "after_rollback", forget)
    sessions.indicators_hook = (before_commit, forget)


def uninstall(sessions) -> None:
    """Stop keeping the rollup (the bench measures a use case with and without it)."""
    before_commit, forget = sessions.indicators_hook
    event.remove(sessions, "before_commit", before_commit)
    event.remove(sessions, "after_commit", forget)
    event.remove(sessions, "after_rollback", forget)


def track(session: Session, calendar_of) -> None:
    """Fold this transaction's new timeline events into their cases' counts and add the difference to the rollup."""
    new = session.info.pop("timeline_new", None)
    if not new:
        return
    by_case = defaultdict(list)
    for e in new:
        if e.kind in folding.READS:
            by_case[e.case_id].append(e)
    if not by_case:
        return  # claims, comments, warnings...: nothing the indicators count
    cal = calendar_of(session)
    known = [case_id for case_id, events in by_case.items() if min(e.seq for e in events) > 1]  # 1: just filed
    stored = {row.case_id: row for row in session.scalars(
        select(IndicatorCase).where(IndicatorCase.case_id.in_(known)))} if known else {}
    deltas: dict = defaultdict(lambda: defaultdict(float))
    for case_id, events in by_case.items():
        row = stored.get(case_id)
        events.sort(key=lambda e: e.seq)
        seen = row.seq if row is not None else 0
        if row is None and events[0].seq > 1:  # a case from before the rollup (or a rebuild): its whole history
            events = list(session.scalars(select(TimelineEvent).where(
                TimelineEvent.case_id == case_id).order_by(TimelineEvent.seq)))
        events = [e for e in events if e.seq > seen]
        if not events:
            continue
        state = folding.fold(_copy(row.state) if row is not None else None, events, cal)
        facts = _encode(folding.facts(state))
        old = row.facts if row is not None else {}
        case = session.get(Case, case_id)
        dims = (case.grid_id, case.type, case.reporter_id)
        for key in set(old) | set(facts):
            before, after = old.get(key, {}), facts.get(key, {})
            for counter in set(before) | set(after):
                change = after.get(counter, 0) - before.get(counter, 0)
                if change:
                    deltas[(key, dims)][counter] += change
        if row is None:
            session.add(IndicatorCase(case_id=case_id, seq=events[-1].seq, state=state, facts=facts))
        else:
            row.seq, row.state, row.facts = events[-1].seq, state, facts
    if deltas:
        add(session, deltas)


def add(session: Session, deltas: dict) -> None:
    """Add {((day|department), (grid, type, worker)): {counter: change}} to both rollup tables."""
    for table, period in TABLES:
        rows: dict = defaultdict(lambda: defaultdict(float))
        for (key, (grid_id, case_type, worker_id)), changes in deltas.items():
            day, department = _decode(key)
            when = day if period == "day" else day.replace(day=1)
            for counter, change in changes.items():
                rows[(when, grid_id, department, case_type, worker_id)][counter] += change
        values = [_row(period, k, v) for k, v in rows.items()]
        if values:
            _upsert(session, table, period, values)


def _row(period, key, counts) -> dict:
    when, grid_id, department, case_type, worker_id = key
    return {period: when, "grid_id": grid_id, "department": department, "case_type": case_type,
            "worker_id": worker_id, **{c: _number(c, counts.get(c, 0)) for c in COUNTERS}}


def _upsert(session, table, period, values) -> None:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    for start in range(0, len(values), 500):  # within SQLite's limit of bound parameters per statement
        statement = insert(table).values(values[start:start + 500])
        statement = statement.on_conflict_do_update(
            index_elements=[period, *DIMS],
            set_={c: getattr(table, c) + getattr(statement.excluded, c) for c in COUNTERS})
        session.execute(statement)


def _number(counter, value):
    return round(value, 1) if counter.endswith("minutes") else int(round(value))


def _encode(facts: dict) -> dict:
    return {f"{day}|{department}": counts for (day, department), counts in facts.items()}


def _decode(key: str) -> tuple[date, str]:
    day, department = key.split("|", 1)
    return date.fromisoformat(day), department


def _copy(state: dict) -> dict:
    """A copy of a stored state (the ORM sees a changed JSON value only when it is a new object)."""
    return copy.deepcopy(state)


def recount(session: Session, cal, case_ids=None, batch: int = 2000):
    """Every case's counts folded from its raw timeline events, summed per rollup key: {(day key, dims): counts}."""
    totals: dict = defaultdict(lambda: defaultdict(float))
    for _case, dims, _seq, _state, facts in _fold_all(session, cal, case_ids, batch):
        for key, counts in facts.items():
            for counter, amount in counts.items():
                totals[(key, dims)][counter] += amount
    return totals


def _fold_all(session, cal, case_ids, batch):
    query = select(Case.id, Case.grid_id, Case.type, Case.reporter_id).order_by(Case.id)
    if case_ids is not None:
        query = query.where(Case.id.in_(list(case_ids)))
    cases = session.execute(query).all()
    for start in range(0, len(cases), batch):
        chunk = cases[start:start + batch]
        events = defaultdict(list)
        for e in session.execute(select(TimelineEvent.case_id, TimelineEvent.seq, TimelineEvent.at,
                                        TimelineEvent.kind, TimelineEvent.reason, TimelineEvent.payload)
                                 .where(TimelineEvent.case_id.in_([c.id for c in chunk]))
                                 .order_by(TimelineEvent.case_id, TimelineEvent.seq)):
            events[e.case_id].append(e)
        for c in chunk:
            mine = events.get(c.id, [])
            state = folding.fold(None, mine, cal)
            yield c.id, (c.grid_id, c.type, c.reporter_id), (mine[-1].seq if mine else 0), state, \
                _encode(folding.facts(state))


def rebuild(session: Session, cal, batch: int = 2000) -> int:
    """Throw the rollup away and build it again from every case's raw timeline events. Returns the case count."""
    for table in (IndicatorDaily, IndicatorMonthly, IndicatorCase):
        session.execute(delete(table))
    totals: dict = defaultdict(lambda: defaultdict(float))
    pending, count = [], 0
    for case_id, dims, seq, state, facts in _fold_all(session, cal, None, batch):
        count += 1
        pending.append({"case_id": case_id, "seq": seq, "state": state, "facts": facts})
        for key, counts in facts.items():
            for counter, amount in counts.items():
                totals[(key, dims)][counter] += amount
        if len(pending) >= batch:
            session.execute(IndicatorCase.__table__.insert(), pending)
            pending = []
    if pending:
        session.execute(IndicatorCase.__table__.insert(), pending)
    items = list(totals.items())
    for start in range(0, len(items), batch):
        add(session, dict(items[start:start + batch]))
    return count


def stored(session: Session, table=IndicatorDaily) -> dict:
    """The rollup table as {(day key, dims): counts}, zero rows left out: what the tests compare with `recount`."""
    period = "day" if table is IndicatorDaily else "month"
    out = {}
    for row in session.scalars(select(table)):
        counts = {c: getattr(row, c) for c in COUNTERS if getattr(row, c)}
        if counts:
            when = getattr(row, period)
            out[(f"{when.isoformat()}|{row.department}", (row.grid_id, row.case_type, row.worker_id))] = counts
    return out


def rebuild_all(deps) -> int:
    """`flask rebuild-indicators`: rebuild the rollup in one transaction (readers see the old one until it commits)."""
    with deps.uow() as uow:
        count = rebuild(uow.session, clocks.calendar(uow.session, deps))
        uow.commit()
    return count
