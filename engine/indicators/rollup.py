"""The rollup: kept up to date by the worker within a minute of every change to a case (and by a reader before it
reads), rebuilt from the raw rows on demand, and compared with a recount by the tests.

A use case pays nothing for it: every transaction that appends timeline events moves the case's
`timeline_seq` past its `indicator_seq`, which puts the case in a small partial index (`ix_cases_indicators_behind`).
`catch_up` takes those cases a batch at a time, locked and skipping any a use case holds, folds their new events
into each case's stored state (`indicator_cases`), works out the case's counts again from that state, adds only
the difference from the counts stored last time to the rollup tables (`indicator_daily`, `indicator_monthly`,
`indicator_town_monthly`) and moves `indicator_seq` up to the last event folded. A batch of cases costs a
handful of statements whatever their histories, a late event that moves a count from one day to another (a late
feedback after a breach) moves it in the rollup too, and two catch-ups at once never count a case twice.
The worker catches up at every sweep (`engine/deadlines/jobs.count_indicators`); the indicators' readers catch
up first, so what a supervisor has just done is in the numbers they read.
"""
import copy
from collections import defaultdict
from datetime import date

from sqlalchemy import bindparam, delete, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from engine.indicators import fold as folding
from engine.indicators.definitions import COUNTERS
from engine.places import grid as grids
from engine.sla import clocks
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
BATCH = 500  # cases folded in one transaction
FOR_A_READER = 2000  # cases a reader folds before it reads, at most: more than that is the worker's backlog
BEHIND = Case.timeline_seq > Case.indicator_seq  # the predicate of the partial index ix_cases_indicators_behind


def catch_up(deps, limit: int | None = None) -> int:
    """Fold the new events of the cases the rollup is behind on, BATCH a transaction, until none is left (or
    `limit` cases are done); cases that another transaction holds are left for the next call. Returns the count."""
    done = 0
    while limit is None or done < limit:
        size = BATCH if limit is None else min(BATCH, limit - done)
        with deps.uow() as uow:
            folded = fold_behind(uow.session, lambda: clocks.calendar(uow.session, deps), size)
            if folded:
                uow.commit()
        done += folded
        if folded < size:
            return done
    return done


def fold_behind(session: Session, calendar_of, size: int = BATCH) -> int:
    """In the caller's transaction: up to `size` cases the rollup is behind on, locked (skipping locked ones),
    folded (business time by `calendar_of()`, asked only when there is something to fold) and added to the
    rollup; their `indicator_seq` moved to the last event folded. Returns the count."""
    behind = session.execute(
        select(Case.id, Case.grid_id, Case.type, Case.reporter_id, Case.indicator_seq, Case.timeline_seq)
        .where(BEHIND).order_by(Case.id).limit(size).with_for_update(skip_locked=True)).all()
    if not behind:
        return 0
    ids = [c.id for c in behind]
    stored = {row.case_id: row for row in session.scalars(
        select(IndicatorCase).where(IndicatorCase.case_id.in_(ids)))}
    events = defaultdict(list)
    for e in session.execute(
            select(TimelineEvent.case_id, TimelineEvent.seq, TimelineEvent.at, TimelineEvent.kind,
                   TimelineEvent.reason, TimelineEvent.payload)
            .join(Case, Case.id == TimelineEvent.case_id)
            .where(TimelineEvent.case_id.in_(ids), TimelineEvent.seq > Case.indicator_seq,
                   TimelineEvent.seq <= Case.timeline_seq, TimelineEvent.kind.in_(folding.READS))
            .order_by(TimelineEvent.case_id, TimelineEvent.seq)):
        events[e.case_id].append(e)
    deltas: dict = defaultdict(lambda: defaultdict(float))
    cal = calendar_of()
    for case in behind:
        row = stored.get(case.id)
        if not events[case.id]:
            continue  # claims, comments, warnings...: nothing the indicators count
        state = folding.fold(_copy(row.state) if row is not None else None, events[case.id], cal)
        state["town"] = state.get("town") or _town_of(session, case.grid_id)
        facts = _encode(folding.facts(state))
        old = row.facts if row is not None else {}
        dims = (case.grid_id, case.type, case.reporter_id, state["town"])
        for key in set(old) | set(facts):
            before, after = old.get(key, {}), facts.get(key, {})
            for counter in set(before) | set(after):
                change = after.get(counter, 0) - before.get(counter, 0)
                if change:
                    deltas[(key, dims)][counter] += change
        if row is None:
            session.add(IndicatorCase(case_id=case.id, state=state, facts=facts))
        else:
            row.state, row.facts = state, facts
    session.flush()
    _counted(session, [{"case_id": c.id, "seq": c.timeline_seq} for c in behind])
    if deltas:
        add(session, deltas)
    return len(behind)


def _counted(session: Session, seqs: list[dict]) -> None:
    """Move each case's `indicator_seq` to the last event folded ({case_id, seq} each; one executemany). A Core
    UPDATE of that column only: the case's version (optimistic locking) is the use cases' business."""
    cases = Case.__table__
    session.execute(update(cases).where(cases.c.id == bindparam("case_id")).values(indicator_seq=bindparam("seq")),
                    seqs)


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
        _upsert_all(session, rows)  # a small batch's rows: every table in one round trip
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
    upsert `catch_up` uses, so a city's year needs no more memory than a slice of it."""
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
            _keep(session, pending)
            pending = []
        if count % flush_every == 0:
            flush()
            if progress:
                progress(count)
    if pending:
        _keep(session, pending)
    flush()
    return count


def _keep(session: Session, folded: list[dict]) -> None:
    """The rebuild's folded cases: their states and facts stored, their `indicator_seq` moved to the last event
    folded (a case that has changed since is behind again, and the worker adds the rest)."""
    session.execute(IndicatorCase.__table__.insert(), [
        {"case_id": f["case_id"], "state": f["state"], "facts": f["facts"]} for f in folded])
    _counted(session, [{"case_id": f["case_id"], "seq": f["seq"]} for f in folded])


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
