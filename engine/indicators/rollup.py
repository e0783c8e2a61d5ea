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

from sqlalchemy import delete, event, select, text
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
    daily: dict = defaultdict(lambda: defaultdict(float))
    for (key, (grid_id, case_type, worker_id)), changes in deltas.items():
        day, department = _decode(key)
        for counter, change in changes.items():
            daily[(day, grid_id, department, case_type, worker_id)][counter] += change
    if not daily:
        return
    if session.get_bind().dialect.name == "postgresql" and len(daily) <= 50:
        _upsert_both(session, daily)  # the live path's few rows: both tables in one round trip
        return
    monthly: dict = defaultdict(lambda: defaultdict(float))
    for (day, *dims), counts in daily.items():
        for counter, change in counts.items():
            monthly[(day.replace(day=1), *dims)][counter] += change
    for table, period, rows in ((IndicatorDaily, "day", daily), (IndicatorMonthly, "month", monthly)):
        _upsert(session, table, period, [_row(period, k, v) for k, v in rows.items()])


def _upsert_both(session, daily: dict) -> None:
    """PostgreSQL: the daily rows and their months in one statement (a data-modifying CTE)."""
    params, values = {}, []
    for i, ((day, grid_id, department, case_type, worker_id), counts) in enumerate(daily.items()):
        names = [f"d{i}", f"g{i}", f"p{i}", f"t{i}", f"w{i}", *(f"c{i}_{j}" for j in range(len(COUNTERS)))]
        params.update(zip(names, (day, grid_id, department, case_type, worker_id,
                                  *(_number(c, counts.get(c, 0)) for c in COUNTERS)), strict=True))
        casts = ["date", "int", "varchar", "varchar", "int", *("float8" if c.endswith("minutes") else "int"
                                                               for c in COUNTERS)]
        values.append("(" + ", ".join(f"CAST(:{n} AS {cast})" for n, cast in zip(names, casts, strict=True)) + ")")
    session.execute(text(_both_sql(len(daily)).replace("{values}", ", ".join(values))), params)


def _both_sql(n: int) -> str:
    sql = _BOTH.get(n)
    if sql is None:
        columns = ", ".join(COUNTERS)
        keys = "grid_id, department, case_type, worker_id"
        added = ", ".join(f"{c} = {{table}}.{c} + excluded.{c}" for c in COUNTERS)
        sums = ", ".join(f"sum({c})" for c in COUNTERS)
        sql = _BOTH[n] = (
            f"WITH v (day, {keys}, {columns}) AS (VALUES {{values}}), "
            f"d AS (INSERT INTO indicator_daily (day, {keys}, {columns}) SELECT day, {keys}, {columns} FROM v "
            f"ON CONFLICT (day, {keys}) DO UPDATE SET {added.format(table='indicator_daily')}) "
            f"INSERT INTO indicator_monthly (month, {keys}, {columns}) "
            f"SELECT date_trunc('month', day)::date, {keys}, {sums} FROM v "
            f"GROUP BY date_trunc('month', day)::date, {keys} "
            f"ON CONFLICT (month, {keys}) DO UPDATE SET {added.format(table='indicator_monthly')}")
    return sql


_BOTH: dict = {}


def _row(period, key, counts) -> dict:
    when, grid_id, department, case_type, worker_id = key
    return {period: when, "grid_id": grid_id, "department": department, "case_type": case_type,
            "worker_id": worker_id, **{c: _number(c, counts.get(c, 0)) for c in COUNTERS}}


def _upsert(session, table, period, values) -> None:
    """INSERT ... ON CONFLICT DO UPDATE adding each counter; one statement per table, compiled once per process
    (the rows go as parameters, so the statement's text never changes)."""
    dialect = session.get_bind().dialect.name
    key = (dialect, table.__tablename__)
    statement = _UPSERTS.get(key)
    if statement is None:
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = insert(table)
        statement = _UPSERTS[key] = statement.on_conflict_do_update(
            index_elements=[period, *DIMS],
            set_={c: getattr(table, c) + getattr(statement.excluded, c) for c in COUNTERS})
    session.execute(statement, values)


_UPSERTS: dict = {}


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


def rebuild(session: Session, cal, batch: int = 2000, flush_every: int = 50_000, progress=None) -> int:
    """Throw the rollup away and build it again from every case's raw timeline events. Returns the case count.

    Counts are summed in memory for `flush_every` cases at a time and added to the rollup tables by the same
    upsert the live path uses, so a city's year needs no more memory than a slice of it."""
    for table in (IndicatorDaily, IndicatorMonthly, IndicatorCase):
        session.execute(delete(table))
    totals: dict = defaultdict(lambda: defaultdict(float))
    pending, count = [], 0

    def flush():
        items = list(totals.items())
        for start in range(0, len(items), batch):
            add(session, dict(items[start:start + batch]))
        totals.clear()

    for case_id, dims, seq, state, facts in _fold_all(session, cal, None, batch):
        count += 1
        pending.append({"case_id": case_id, "seq": seq, "state": state, "facts": facts})
        for key, counts in facts.items():
            for counter, amount in counts.items():
                totals[(key, dims)][counter] += amount
        if len(pending) >= batch:
            session.execute(IndicatorCase.__table__.insert(), pending)
            pending = []
        if count % flush_every == 0:
            flush()
            if progress:
                progress(count)
    if pending:
        session.execute(IndicatorCase.__table__.insert(), pending)
    flush()
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
