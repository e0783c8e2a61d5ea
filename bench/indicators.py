"""Indicators at a city's year: the rollup's reads against the naive GROUP BY over the raw rows, and what keeping
the rollup adds to filing and completing a task.

Run from the project root: python -m bench.indicators --database-url postgresql://... [--cases N] [--repeats N]
[--ops N]. It generates N cases (default 1,000,000) over Nan'an's unit grids in 2026 with realistic paths (on
time, late, returned, reworked once or twice, extended, suspended, withdrawn, invalid, duplicate, still open,
overdue), loads their rows (cases, timeline events: the raw rows the indicators are folded from) with COPY,
builds the rollup with the rebuild command's code (`rollup.rebuild`), then measures, each figure the median
of --repeats runs in a fresh session:

- a town's month of every indicator (Luncang, June, by village, with 环比 and 同比), and without the comparisons;
- the whole city grouped by town for a year (with and without 环比/同比);
- a grid-worker ranking for a town (a month and a year);
- the naive GROUP BY over the raw timeline rows for the first two, in the same run;
- file_case and complete_task (registering) with the rollup's work list (the partial index of cases it has not
  counted yet, the only thing a use case pays for it) and without it, alternating rounds, --ops each; and what
  the worker's catch-up then takes per case it folds, in its batches.
"""
import argparse
import io
import json
import random
import shlex
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import insert, select, text

from bench.throughput import BENCH_TIMELINE_KEY, reset
from engine.cases import services
from engine.deps import Deps, NullScheduler
from engine.imports import demo
from engine.indicators import rollup
from engine.process import runner
from engine.read import indicators as ri
from engine.sla import clocks
from engine.store import db
from engine.store.model import Grid, ProcessVersion, Task, User
from workflows import CATALOGUE

YEAR_START = datetime(2025, 12, 31, 16, 0, tzinfo=UTC)  # 1 January 2026, 00:00 in Shanghai
NOW = datetime(2026, 12, 31, 15, 59, tzinfo=UTC)  # the year's last minute: later events have not happened yet
KIND_OF = {"dispute": "judicial", "illegal_construction": "natural_resources", "public_health": "health",
           "work_safety": "work_safety", "environment": "environment", "rental_housing": "police",
           "floating_population": "police", "petition": "petitions"}
H = timedelta(hours=1)
D = timedelta(days=1)


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def median_ms(fn, repeats: int) -> tuple[float, float]:
    fn()  # warm: plans cached, pages in memory, as on a live server
    samples = [timed(fn) for _ in range(repeats)]
    return statistics.median(samples), max(samples)


class Story:
    """One case's timeline, as the engine would have written it, cut at NOW."""

    def __init__(self, filed: datetime):
        self.events: list[tuple] = []
        self.filed = filed
        self.closed_at = None
        self.outcome = None
        self.status = "registering"
        self.counts = {"returns": 0, "reworks": 0, "extensions": 0}

    def add(self, at: datetime, kind: str, payload: dict | None = None) -> bool:
        if at > NOW:
            return False
        self.events.append((at, kind, payload or {}))
        return True

    def due(self, at, step, due) -> None:
        self.add(at, "deadline_set", {"step": step, "due_at": due.isoformat()})

    def close(self, at, outcome) -> None:
        if self.add(at, "closed", {"outcome": outcome, "status": outcome}):
            self.closed_at, self.outcome, self.status = at, outcome, outcome


def story(rng: random.Random, filed: datetime, department: str) -> Story:
    """A realistic path through the closed loop (shares roughly as a city's year shows them)."""
    s = Story(filed)
    s.add(filed, "filed", {})
    case_due = filed + 21 * D
    s.due(filed, "case", case_due)
    s.due(filed, "register_case", filed + 6 * H)
    t = filed + (rng.uniform(8, 40) * H if rng.random() < 0.07 else rng.expovariate(1 / 1.5) * H)
    if t > filed + 6 * H:
        s.add(filed + 6 * H, "sla_breached", {"step": "register_case"})
        s.add(filed + 6 * H, "supervision_ordered", {})
    roll = rng.random()
    decision = "invalid" if roll < 0.04 else "duplicate" if roll < 0.06 else "valid"
    if not s.add(t, "completed", {"task": "register_case", "data": {"decision": decision}}):
        return _overdue(s, case_due)
    if decision != "valid":
        s.close(t, decision)
        return s
    if rng.random() < 0.01:
        s.close(t + rng.uniform(1, 30) * H, "withdrawn")
        return s
    s.status = "dispatching"
    rounds = 0
    while True:
        s.due(t, "dispatch_case", t + 2 * H)
        t += rng.uniform(3, 10) * H if rng.random() < 0.05 else rng.expovariate(1 / 0.7) * H
        if not s.add(t, "completed", {"task": "dispatch_case", "data": {"lead_department": department}}):
            return _overdue(s, case_due)
        s.status = "handling"
        s.add(t, "task_opened", {"task": "handle_case", "department": department})
        handle_due = t + 4 * D
        s.due(t, "handle_case", handle_due)
        path = rng.random()
        if rounds == 0 and path < 0.05:  # returned: not this department's; dispatched again
            t += rng.uniform(2, 20) * H
            if not s.add(t, "completed", {"task": "handle_case", "data": {"action": "return"}}):
                return _overdue(s, case_due)
            s.counts["returns"] += 1
            rounds += 1
            continue
        break
    if path < 0.09:  # extended, then handled within the longer limit
        t += rng.uniform(1, 3) * D
        if not s.add(t, "completed", {"task": "handle_case", "data": {"action": "extend"}}):
            return _overdue(s, case_due)
        s.add(t, "extended", {})
        s.counts["extensions"] += 1
        handle_due += 7 * D
        s.add(t, "deadline_moved", {"step": "handle_case", "due_at": handle_due.isoformat()})
        t += rng.uniform(1, 6) * D
    elif path < 0.11:  # suspended, resumed later
        t += rng.uniform(2, 30) * H
        if not s.add(t, "completed", {"task": "handle_case", "data": {"action": "suspend"}}):
            return _overdue(s, case_due)
        s.add(t, "suspended", {})
        s.status = "suspended"
        pause = rng.uniform(3, 25) * D
        if not s.add(t + pause, "resumed", {}):
            return s  # still suspended: out of every denominator
        s.status = "handling"
        handle_due += pause
        case_due += pause
        s.add(t + pause, "deadline_moved", {"step": "handle_case", "due_at": handle_due.isoformat()})
        s.add(t + pause, "deadline_moved", {"step": "case", "due_at": case_due.isoformat()})
        t += pause + rng.uniform(2, 48) * H
    elif path < 0.21:  # late
        s.add(handle_due, "sla_breached", {"step": "handle_case"})
        s.add(handle_due, "supervision_ordered", {})
        t = handle_due + rng.uniform(2, 120) * H
    elif path < 0.22:  # withdrawn while handled
        s.close(t + rng.uniform(2, 48) * H, "withdrawn")
        return s
    else:
        t += rng.uniform(2, 80) * H
    for attempt in range(3):
        if not s.add(t, "completed", {"task": "handle_case", "data": {"action": "feedback"}}):
            return _overdue(s, case_due, handle_due)
        s.status = "verifying"
        t += rng.uniform(2, 30) * H
        failed = attempt < 2 and rng.random() < (0.04 if attempt == 0 else 0.25)
        if not s.add(t, "completed", {"task": "verify_on_site", "data": {"passed": not failed}}):
            return _overdue(s, case_due)
        if not failed:
            break
        s.add(t, "reworked", {})
        s.counts["reworks"] += 1
        s.add(t, "task_opened", {"task": "handle_case", "department": department})
        s.due(t, "handle_case", t + 4 * D)
        t += rng.uniform(4, 60) * H
    t += rng.uniform(2, 48) * H
    if not s.add(t, "completed", {"task": "follow_up", "data": {"satisfied": rng.random() < 0.95}}):
        return _overdue(s, case_due)
    if t > case_due:
        s.add(case_due, "sla_breached", {"step": "case"})
        s.add(case_due, "supervision_ordered", {})
    s.close(t, "closed")
    return s


def _overdue(s: Story, case_due: datetime, handle_due: datetime | None = None) -> Story:
    """The story ran into NOW while still open: whatever limit ran out before NOW has breached."""
    if handle_due is not None and handle_due <= NOW:
        s.add(handle_due, "sla_breached", {"step": "handle_case"})
    if case_due <= NOW and s.status != "suspended":
        s.add(case_due, "sla_breached", {"step": "case"})
    return s


def filed_time(rng: random.Random) -> datetime:
    """A time in 2026, mostly in office hours on weekdays."""
    while True:
        day = YEAR_START + rng.randrange(365) * D
        local_hour = rng.choice((8.5, 9, 10, 11, 14, 15, 16, 17) if rng.random() < 0.85 else (7, 12, 19, 21))
        at = day + (local_hour + rng.random()) * H
        if (at + 8 * H).weekday() < 5 or rng.random() < 0.25:
            return at


def csv_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat()
    text_value = str(value)
    if text_value == "":
        return '""'  # an empty string, not NULL
    if any(c in text_value for c in ',"\n'):
        return '"' + text_value.replace('"', '""') + '"'
    return text_value


def copy_rows(connection, table: str, columns: tuple, rows) -> None:
    buffer = io.StringIO()
    for row in rows:
        buffer.write(",".join(csv_value(v) for v in row) + "\n")
    raw = connection.connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)") \
            as copy:
        copy.write(buffer.getvalue())


CASE_COLUMNS = ("id", "number", "type", "title", "description", "severity", "subcategory", "reporter_id", "grid_id",
                "responsible_grid_id", "responsible_level", "status", "outcome", "process_version_id", "state",
                "version", "created_at", "updated_at", "closed_at", "returns", "reworks", "extensions",
                "escalations", "dissatisfied", "timeline_seq")
EVENT_COLUMNS = ("case_id", "seq", "at", "actor", "kind", "payload", "prev_hash", "hash")


def load(engine, cases: int, seed: int = 2026) -> tuple[Deps, dict]:
    """Fresh schema, Nan'an imported with a grid worker in every unit grid, then `cases` cases and their events."""
    reset(engine)
    deps = Deps(sessions=db.make_session_factory(engine, BENCH_TIMELINE_KEY), catalogue=CATALOGUE,
                scheduler=NullScheduler())
    runner.use_clock(deps.clock)
    demo.load_nanan(deps)
    with deps.uow() as uow:
        session = uow.session
        units = session.execute(select(Grid.id, Grid.code, Grid.path).where(Grid.level == 4)).all()
        have = dict(session.execute(select(User.grid_id, User.id).where(User.role == "grid_worker")).all())
        for unit in units:
            if unit.id not in have:
                session.add(User(username=f"bw_{unit.code.replace('-', '_')}", display_name=f"网格员{unit.code[-5:]}",
                                 role="grid_worker", grid_id=unit.id, password_hash="bench", active=True))
        session.flush()
        workers = dict(session.execute(select(User.grid_id, User.id).where(User.role == "grid_worker")).all())
        version = session.execute(insert(ProcessVersion).values(
            process_id="bench", content_hash="bench", files={}, deployed_at=datetime.now(UTC))
            .returning(ProcessVersion.id)).scalar_one()
        uow.commit()
    rng = random.Random(seed)
    types = list(CATALOGUE)
    paths = {"on time": 0, "invalid or duplicate": 0, "withdrawn": 0, "still open": 0}
    events_total = 0
    for start in range(0, cases, 20_000):
        case_rows, event_rows = [], []
        for i in range(start + 1, min(cases, start + 20_000) + 1):
            unit = units[rng.randrange(len(units))]
            town = unit.path.split("/")[2]
            case_type = types[rng.randrange(len(types))]
            filed = filed_time(rng)
            s = story(rng, filed, f"{town}-{KIND_OF[case_type]}")
            s.events.sort(key=lambda e: e[0])
            for seq, (at, kind, payload) in enumerate(s.events, 1):
                event_rows.append((i, seq, at, "bench", kind, json.dumps(payload, ensure_ascii=False), "x", "x"))
            events_total += len(s.events)
            paths["still open" if s.closed_at is None else "on time" if s.outcome == "closed" else
                  "withdrawn" if s.outcome == "withdrawn" else "invalid or duplicate"] += 1
            case_rows.append((i, f"B-{i:08d}", case_type, "bench", "", "medium", "", workers[unit.id], unit.id,
                              unit.id, 4, s.status, s.outcome, version, "{}", 1, filed, s.events[-1][0],
                              s.closed_at, s.counts["returns"], s.counts["reworks"], s.counts["extensions"], 0, 0,
                              len(s.events)))
        with engine.begin() as connection:
            copy_rows(connection, "cases", CASE_COLUMNS, case_rows)
            copy_rows(connection, "timeline_events", EVENT_COLUMNS, event_rows)
    with engine.begin() as connection:
        connection.execute(text("SELECT setval(pg_get_serial_sequence('cases', 'id'), (SELECT max(id) FROM cases))"))
    paths["events"] = events_total
    return deps, paths


def rebuild(deps: Deps) -> float:
    start = time.perf_counter()
    with deps.uow() as uow:
        rollup.rebuild(uow.session, clocks.calendar(uow.session, deps), progress=lambda n: print(
            f"    folded {n:,} cases ({time.perf_counter() - start:.0f} s)", flush=True))
        uow.commit()
    return time.perf_counter() - start


def reads(deps: Deps, engine, repeats: int) -> list[tuple[str, float, float, str]]:
    with deps.uow() as uow:
        users = {u.username: u for u in uow.session.scalars(select(User).where(
            User.username.in_(("supervisor", "city_supervisor"))))}
        for u in users.values():
            uow.session.expunge(u)
        luncang = uow.session.scalar(select(Grid.path).where(Grid.code == "350583106"))
        luncang_ids = list(uow.session.scalars(select(Grid.id).where(Grid.path.startswith(luncang))))
    today, june, year = date(2026, 12, 31), date(2026, 6, 15), date(2026, 6, 15)
    out = []

    def run(user, q, rank=None):
        def call():
            with deps.uow() as uow:
                result = ri.run(uow.session, users[user], q, today, CATALOGUE)
                if rank:
                    ri.ranking(ri.Result(result.span, result.grid, result.by,
                                         ri.workers_only(uow.session, result.rows), result.total))
                return result
        return call

    cases = [
        ("town month, every indicator, by village, 环比+同比", run("supervisor", ri.Query(period="month", at=june))),
        ("town month, every indicator, no comparisons",
         run("supervisor", ri.Query(period="month", at=june, by="none", compare=False))),
        ("city year by town, 环比+同比", run("city_supervisor", ri.Query(period="year", at=year, by="town"))),
        ("city year by town, no comparisons",
         run("city_supervisor", ri.Query(period="year", at=year, by="town", compare=False))),
        ("grid-worker ranking, town, a month",
         run("supervisor", ri.Query(period="month", at=june, by="worker", compare=False), rank=True)),
        ("grid-worker ranking, town, the year",
         run("supervisor", ri.Query(period="year", at=year, by="worker", compare=False), rank=True)),
        ("city, one day by town (daily rollup)",
         run("city_supervisor", ri.Query(period="day", at=june, by="town", compare=False))),
    ]
    for label, fn in cases:
        p50, worst = median_ms(fn, repeats)
        out.append((label, p50, worst, "rollup"))
    naive_counts = """count(*) FILTER (WHERE e.kind = 'filed') AS reported,
        count(*) FILTER (WHERE e.kind = 'completed' AND e.payload->>'task' = 'register_case'
                         AND e.payload->'data'->>'decision' = 'valid') AS registered,
        count(*) FILTER (WHERE e.kind = 'completed' AND e.payload->>'task' = 'dispatch_case') AS dispatched,
        count(*) FILTER (WHERE e.kind = 'completed' AND e.payload->>'task' = 'handle_case'
                         AND e.payload->'data'->>'action' = 'feedback') AS handled,
        count(*) FILTER (WHERE e.kind = 'completed' AND e.payload->>'task' = 'handle_case'
                         AND e.payload->'data'->>'action' = 'return') AS returned,
        count(*) FILTER (WHERE e.kind = 'reworked') AS reworked,
        count(*) FILTER (WHERE e.kind = 'extended') AS extended,
        count(*) FILTER (WHERE e.kind = 'sla_breached') AS breached,
        count(*) FILTER (WHERE e.kind = 'supervision_ordered') AS supervised,
        count(*) FILTER (WHERE e.kind = 'closed' AND e.payload->>'outcome' = 'closed') AS closed,
        count(*) FILTER (WHERE e.kind = 'completed' AND e.payload->>'task' = 'follow_up') AS follow_ups,
        count(*) FILTER (WHERE e.kind = 'completed' AND e.payload->>'task' = 'follow_up'
                         AND (e.payload->'data'->>'satisfied')::boolean) AS satisfied"""
    town_month = text(f"""SELECT {naive_counts} FROM timeline_events e JOIN cases c ON c.id = e.case_id
        WHERE c.grid_id = ANY(:grids) AND e.at >= :start AND e.at < :end""")
    city_year = text(f"""SELECT split_part(g.path, '/', 3) AS town, {naive_counts}
        FROM timeline_events e JOIN cases c ON c.id = e.case_id JOIN grids g ON g.id = c.grid_id
        WHERE e.at >= :start AND e.at < :end GROUP BY 1""")

    def naive(query, **params):
        def call():
            with engine.connect() as connection:
                connection.execute(query, params).all()
        return call
    june_start = datetime(2026, 5, 31, 16, tzinfo=UTC)
    for label, fn, runs in (
            ("town month: naive GROUP BY over the raw events (counts only, no on-time)",
             naive(town_month, grids=luncang_ids, start=june_start, end=june_start + 30 * D), repeats),
            ("city year by town: naive GROUP BY over the raw events",
             naive(city_year, start=YEAR_START, end=YEAR_START + 365 * D), max(2, repeats // 5))):
        p50, worst = median_ms(fn, runs)
        out.append((label, p50, worst, "raw"))
    return out


def writes(deps: Deps, engine, ops: int) -> tuple[dict, list[float]]:
    """file_case and complete_task (registering) with the index `ix_cases_indicators_behind` and without it,
    alternating in rounds; after each round with it, the worker's catch-up of the round's cases, per case."""
    with deps.uow() as uow:
        worker = uow.session.scalar(select(User.id).where(User.username == "worker"))
        leader = uow.session.scalar(select(User.id).where(User.username == "leader"))

    def one() -> tuple[float, float]:
        start = time.perf_counter()
        case_id = services.file_case(deps, worker, services.NewCase("work_safety", "隐患上报"))
        filed = time.perf_counter()
        with deps.uow() as uow:
            task = uow.session.scalar(select(Task.id).where(Task.case_id == case_id, Task.name == "register_case"))
        begun = time.perf_counter()
        services.complete_task(deps, leader, task, {"decision": "valid"})
        return (filed - start) * 1000, (time.perf_counter() - begun) * 1000

    def index(present: bool) -> None:
        with engine.begin() as c:
            c.execute(text("CREATE INDEX ix_cases_indicators_behind ON cases (id) WHERE timeline_seq > indicator_seq"
                           if present else "DROP INDEX ix_cases_indicators_behind"))

    for _ in range(10):  # warm-up: the first filing deploys the version and parses the spec
        one()
    rollup.catch_up(deps)
    samples, folding = {True: ([], []), False: ([], [])}, []
    rounds = 10
    for r in range(rounds * 2):
        indexed = r % 2 == 0
        if not indexed:
            index(False)
        for _ in range(max(1, ops // rounds)):
            filing, completing = one()
            samples[indexed][0].append(filing)
            samples[indexed][1].append(completing)
        if not indexed:
            index(True)
        began = time.perf_counter()
        folded = rollup.catch_up(deps)
        folding.append((time.perf_counter() - began) * 1000 / max(folded, 1))
    return {indexed: (statistics.mean(f), statistics.median(f), statistics.mean(c), statistics.median(c))
            for indexed, (f, c) in samples.items()}, folding


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="PostgreSQL (COPY); the database is wiped")
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--ops", type=int, default=200, help="filings and completions per side of the comparison")
    args = parser.parse_args()
    print("command: " + shlex.join(["python", "-m", "bench.indicators", *sys.argv[1:]]))
    engine = db.make_engine(args.database_url)
    if engine.dialect.name != "postgresql":
        sys.exit("bench.indicators loads with COPY: give a PostgreSQL --database-url")
    began = time.perf_counter()
    deps, paths = load(engine, args.cases)
    loaded = time.perf_counter() - began
    print(f"loaded {args.cases:,} cases and {paths['events']:,} timeline events in {loaded:.0f} s "
          f"(closed {paths['on time']:,}, invalid or duplicate {paths['invalid or duplicate']:,}, "
          f"withdrawn {paths['withdrawn']:,}, still open {paths['still open']:,})", flush=True)
    built = rebuild(deps)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
        sizes = {t: connection.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                 for t in ("indicator_daily", "indicator_monthly", "indicator_cases")}
    print(f"rollup rebuilt in {built:.0f} s (rollup.rebuild, as `flask rebuild-indicators`): "
          f"{sizes['indicator_daily']:,} daily rows, {sizes['indicator_monthly']:,} monthly rows", flush=True)
    print(f"\n{'read (PostgreSQL, median of ' + str(args.repeats) + ', fresh session each)':<78} {'p50 ms':>8} "
          f"{'max ms':>8}")
    for label, p50, worst, _kind in reads(deps, engine, args.repeats):
        print(f"  {label:<76} {p50:8.1f} {worst:8.1f}")
    p50, worst = median_ms(lambda: rollup.catch_up(deps, rollup.FOR_A_READER), args.repeats)
    print(f"  {'what a reader adds first: the catch-up, nothing waiting':<76} {p50:8.1f} {worst:8.1f}")
    w, folding = writes(deps, engine, args.ops)
    print(f"\n{'use case (mean / median ms)':<40} {'without rollup':>16} {'with rollup':>16} {'added':>8}")
    for i, name in ((0, "file_case"), (2, "complete_task (register)")):
        off, on = w[False], w[True]
        print(f"  {name:<38} {off[i]:8.2f} / {off[i + 1]:5.2f} {on[i]:8.2f} / {on[i + 1]:5.2f} "
              f"{(on[i] / off[i] - 1) * 100:7.1f}%")
    print(f"  (with: the partial index of cases not counted yet; the worker's catch-up then folds each case changed "
          f"in {statistics.median(folding):.2f} ms, median over {len(folding)} rounds)")
    print(f"\nwall time {time.perf_counter() - began:.0f} s")
    engine.dispose()


if __name__ == "__main__":
    main()
