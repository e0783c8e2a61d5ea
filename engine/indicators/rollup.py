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
from types import SimpleNamespace

from sqlalchemy import delete, event, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from engine.indicators import fold as folding
from engine.indicators.definitions import COUNTERS
from engine.places import grid as grids
from engine.sla import clocks
from engine.store import timeline
from engine.store.model import (
    Case,
    Grid,
    IndicatorCase,
    IndicatorDaily,
    IndicatorMonthly,
    IndicatorTownMonthly,
    TimelineEvent,
)

DIMS = ("grid_id", "department", "case_type", "worker_id")
TOWN_KEYS = ("town_id", "department", "case_type")


def install(sessions, timezone: str, office_hours) -> None:
    """Keep the rollup in every transaction of `sessions`, counting business time in `timezone` and
    `office_hours`. The hooks hold those values only: SQLAlchemy's event registry keeps its listeners alive, and
    one that held the app's dependencies would keep every app's engine and its connections alive with it."""
    hours = SimpleNamespace(timezone=timezone, office_hours=office_hours)  # what clocks.calendar reads of deps

    def before_commit(session):
        track(session, lambda s: clocks.calendar(s, hours))

    def forget(session, *_):
        session.info.pop(timeline.WRITTEN, None)

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
    new = session.info.pop(timeline.WRITTEN, None)
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
        state["town"] = state.get("town") or _town_of(session, case.grid_id)
        dims = (case.grid_id, case.type, case.reporter_id, state["town"])
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


def _town_of(session: Session, grid_id: int) -> int:
    """The town a grid lies in (the grid itself above the towns); at filing every grid on the way is in the
    session already, and the case's state keeps the answer for its later changes."""
    grid = session.get(Grid, grid_id)
    return grids.town_of(session, grid).id if grid.level >= 1 else grid.id


def add(session: Session, deltas: dict) -> None:
    """Add {((day|department), (grid, type, worker, town)): {counter: change}} to the three rollup tables."""
    rows: dict = defaultdict(lambda: defaultdict(float))  # (day, grid, department, type, worker, town)
    for (key, (grid_id, case_type, worker_id, town_id)), changes in deltas.items():
        day, department = _decode(key)
        for counter, change in changes.items():
            rows[(day, grid_id, department, case_type, worker_id, town_id)][counter] += change
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql" and len(rows) <= 50:
        _upsert_all(session, rows)  # the live path's few rows: every table in one round trip
        return
    daily, monthly, towns = (defaultdict(lambda: defaultdict(float)) for _ in range(3))
    for (day, grid_id, department, case_type, worker_id, town_id), counts in rows.items():
        for counter, change in counts.items():
            daily[(day, grid_id, department, case_type, worker_id)][counter] += change
            monthly[(day.replace(day=1), grid_id, department, case_type, worker_id)][counter] += change
            towns[(day.replace(day=1), town_id, department, case_type)][counter] += change
    for table, period, found in ((IndicatorDaily, "day", daily), (IndicatorMonthly, "month", monthly)):
        _upsert(session, table, period, [_row(period, k, v) for k, v in found.items()])
    _upsert(session, IndicatorTownMonthly, "month", [
        {"month": month, "town_id": town_id, "department": department, "case_type": case_type,
         **{c: _number(c, counts.get(c, 0)) for c in COUNTERS}}
        for (month, town_id, department, case_type), counts in towns.items()], TOWN_KEYS)


def _row(period, key, counts) -> dict:
    when, grid_id, department, case_type, worker_id = key
    return {period: when, "grid_id": grid_id, "department": department, "case_type": case_type,
            "worker_id": worker_id, **{c: _number(c, counts.get(c, 0)) for c in COUNTERS}}


def _upsert(session, table, period, values, keys=DIMS) -> None:
    """INSERT ... ON CONFLICT DO UPDATE adding each counter; one statement per table, compiled once per process
    (the rows go as parameters, so the statement's text never changes)."""
    dialect = session.get_bind().dialect.name
    key = (dialect, table.__tablename__)
    statement = _UPSERTS.get(key)
    if statement is None:
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = insert(table)
        statement = _UPSERTS[key] = statement.on_conflict_do_update(
            index_elements=[period, *keys],
            set_={c: getattr(table, c) + getattr(statement.excluded, c) for c in COUNTERS})
    for start in range(0, len(values), 1000):
        session.execute(statement, values[start:start + 1000])


_UPSERTS: dict = {}


def _upsert_all(session, rows: dict) -> None:
    """PostgreSQL: the daily rows, their months and their towns' months in one statement (data-modifying CTEs)."""
    params, values = {}, []
    casts = ["date", "int", "varchar", "varchar", "int", "int",
             *("float8" if c.endswith("minutes") else "int" for c in COUNTERS)]
    for i, (key, counts) in enumerate(rows.items()):
        names = [f"k{i}_{j}" for j in range(6)] + [f"c{i}_{j}" for j in range(len(COUNTERS))]
        params.update(zip(names, (*key, *(_number(c, counts.get(c, 0)) for c in COUNTERS)), strict=True))
        values.append("(" + ", ".join(f"CAST(:{n} AS {cast})" for n, cast in zip(names, casts, strict=True)) + ")")
    session.execute(text(_all_sql(len(rows)).replace("{values}", ", ".join(values))), params)


def _all_sql(n: int) -> str:
    sql = _BOTH.get(n)
    if sql is None:
        columns = ", ".join(COUNTERS)
        keys = "grid_id, department, case_type, worker_id"
        town_keys = "town_id, department, case_type"
        added = ", ".join(f"{c} = {{table}}.{c} + excluded.{c}" for c in COUNTERS)
        sums = ", ".join(f"sum({c})" for c in COUNTERS)
        month = "date_trunc('month', day)::date"
        sql = _BOTH[n] = (
            f"WITH v (day, {keys}, town_id, {columns}) AS (VALUES {{values}}), "
            f"d AS (INSERT INTO indicator_daily (day, {keys}, {columns}) SELECT day, {keys}, {columns} FROM v "
            f"ON CONFLICT (day, {keys}) DO UPDATE SET {added.format(table='indicator_daily')}), "
            f"t AS (INSERT INTO indicator_town_monthly (month, {town_keys}, {columns}) "
            f"SELECT {month}, {town_keys}, {sums} FROM v GROUP BY {month}, {town_keys} "
            f"ON CONFLICT (month, {town_keys}) DO UPDATE SET {added.format(table='indicator_town_monthly')}) "
            f"INSERT INTO indicator_monthly (month, {keys}, {columns}) "
            f"SELECT {month}, {keys}, {sums} FROM v GROUP BY {month}, {keys} "
            f"ON CONFLICT (month, {keys}) DO UPDATE SET {added.format(table='indicator_monthly')}")
    return sql


_BOTH: dict = {}


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
    town_of = _towns(session)
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
            state["town"] = town_of[c.grid_id]
            yield c.id, (c.grid_id, c.type, c.reporter_id, state["town"]), (mine[-1].seq if mine else 0), state, \
                _encode(folding.facts(state))


def _towns(session) -> dict[int, int]:
    """Every grid's town id (a grid above the towns: itself), from one read of the grid tree."""
    rows = session.execute(select(Grid.id, Grid.code, Grid.path, Grid.level)).all()
    by_code = {r.code: r.id for r in rows}
    return {r.id: by_code[[c for c in r.path.split("/") if c][1]] if r.level >= 1 else r.id for r in rows}


def rebuild(session: Session, cal, batch: int = 2000, flush_every: int = 50_000, progress=None) -> int:
    """Throw the rollup away and build it again from every case's raw timeline events. Returns the case count.

    Counts are summed in memory for `flush_every` cases at a time and added to the rollup tables by the same
    upsert the live path uses, so a city's year needs no more memory than a slice of it."""
    for table in (IndicatorDaily, IndicatorMonthly, IndicatorTownMonthly, IndicatorCase):
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
    """A rollup table as {(period|department, dims): counts}, zero rows left out, for the tests to compare with
    `recount`: dims are (grid, type, worker) for the daily and monthly tables, (town, type) for the town table."""
    period = "day" if table is IndicatorDaily else "month"
    out = {}
    for row in session.scalars(select(table)):
        counts = {c: getattr(row, c) for c in COUNTERS if getattr(row, c)}
        if counts:
            dims = (row.town_id, row.case_type) if table is IndicatorTownMonthly else \
                (row.grid_id, row.case_type, row.worker_id)
            out[(f"{getattr(row, period).isoformat()}|{row.department}", dims)] = counts
    return out


def rebuild_all(deps) -> int:
    """`flask rebuild-indicators`: rebuild the rollup in one transaction (readers see the old one until it commits)."""
    with deps.uow() as uow:
        count = rebuild(uow.session, clocks.calendar(uow.session, deps))
        uow.commit()
    return count
